"""`pushctl` as a user runs it: whole processes against an emulator served on loopback.

For each N (1,000 and 10,000 by default) it seeds N tasks in an emulator's SQLite file, writes N
PushTask manifests adopting them (about 100 multi-document files), serves the emulator with
`pushctl emulator serve` and runs the real command as a child process:

- `pushctl plan -f manifests --format json` with empty state (every task an `adopt` change), and
  again after `pushctl apply` wrote the bindings (the steady state of an adopted repository);
- beside each plan, in the same run, a parse-only process: Python and ruamel's C-backed safe
  loader over the same files, nothing else;
- a pull-request cycle: `plan --out`, then `apply` of the saved plan with `-f manifests`,
  whose convergence check ends it; a full plan after it is reported beside it;
- start-up: `pushctl --help`, `pushctl version`, `pushctl validate` of one file.

pushctl runs as installed: `reconciler`'s bytecode is written first (see `compile_package`).
CPU (user + system) and peak RSS come from the OS (`os.wait4` of each child); each figure is
the median of `--repeat` runs. Reads are the TPNS statistics calls the emulator accepted,
beside the plan's lower bound. Rendering 10,000 changes (JSON, text, Markdown) is timed in
this process on the cold plan read back from its JSON.

    .venv/bin/python -m benchmarks.whole_process                  # N = 1000 and 10000
    .venv/bin/python -m benchmarks.whole_process --tasks 200 --repeat 1
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.emulated_world import (
    SECRET,
    BenchApp,
    bench_apps,
    print_table,
    register_apps,
    seed_world,
    write_manifest_files,
)
from benchmarks.served import ChildRun, ServedEmulator, Spawner, compile_package
from reconciler.domain.plan import Plan
from reconciler.emulator import EmulatorCore
from reconciler.render.json_out import render_plan_json
from reconciler.render.markdown import render_plan_markdown
from reconciler.render.text import render_plan_text

#: Targets of the whole-process figures.
RATIO_TARGETS = {1_000: 2.0, 10_000: 1.3}
PEAK_MB_TARGET = 150.0
STARTUP_CPU_TARGET = 0.1
RENDER_CPU_TARGET = 0.2
CYCLE_READS_TARGET = 2.0

#: Every task already is what its manifest declares, so apply only writes bindings:
#: (desired state, pinned status or None = follows the clock, scheduled?, audience) by i % 20.
MIX: list[tuple[str, str | None, bool, str]] = [
    *[("active", "PUSH_FINISHED", False, "tag")] * 14,
    *[("stopped", "PUSH_DELETED_PUSH_MSG", False, "all")] * 2,
    *[("active", None, True, "tag")] * 2,
    *[("cancelled", "PUSH_CANCELED", True, "tag")] * 2,
]
#: The start-up row of a bare interpreter, printed under pushctl's own.
FLOOR = "python -c pass (floor)"
#: Tasks the pull request cancels: scheduled and still active (i % 20 == 16).
CYCLE_EDITS = 3

PARSE_ONLY = (
    "import sys\n"
    "from ruamel.yaml import YAML\n"
    "yaml = YAML(typ='safe', pure=False)\n"
    "for path in sys.argv[1:]:\n"
    "    with open(path, encoding='utf-8') as handle:\n"
    "        list(yaml.load_all(handle.read()))\n"
)


@dataclass
class Figure:
    name: str
    value: float | int | str
    target: str
    met: bool | None

    def cells(self) -> list[object]:
        verdict = "-" if self.met is None else ("yes" if self.met else "NO")
        return [self.name, self.value, self.target, verdict]


@dataclass
class Repository:
    """A prepared folder: pushctl.yaml, manifests, state, and the served emulator."""

    root: Path
    emulator: ServedEmulator
    paths: list[Path]
    documents: list[str]
    spawner: Spawner
    env: dict[str, str] = field(default_factory=dict)

    def pushctl(self, *args: str, check: bool = True) -> ChildRun:
        run = self.spawner.run([*pushctl_command(), *args], cwd=self.root, env=self.env)
        if check and run.returncode != 0:
            raise SystemExit(f"pushctl {' '.join(args)} exited {run.returncode}:\n{run.stderr}")
        return run

    def parse_only(self) -> ChildRun:
        return self.spawner.run(
            [sys.executable, "-c", PARSE_ONLY, *map(str, self.paths)], cwd=self.root, env=self.env
        )


def pushctl_command() -> list[str]:
    """The installed `pushctl` script beside this interpreter, else `python -m reconciler`."""
    script = Path(sys.executable).with_name("pushctl")
    return [str(script)] if script.exists() else [sys.executable, "-m", "reconciler"]


def config_text(apps: Sequence[BenchApp], base_url: str) -> str:
    entries = "".join(
        f"  {app.key}:\n"
        f'    accessId: "{app.access_id}"\n'
        "    platform: android\n"
        f"    endpoint: {base_url}\n"
        "    secretKeyEnv: BENCH_SECRET_KEY\n"
        "    readBackGraceSeconds: 0\n"
        for app in apps
    )
    return f"apps:\n{entries}state: sqlite:.pushctl/state.db\n"


def child_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GITHUB_", "GITLAB", "PUSHCTL_")) and k != "CI"
    }
    env["BENCH_SECRET_KEY"] = SECRET
    return env


def prepare(root: Path, count: int, *, files: int, per_app: int, rate_limits: bool) -> Repository:
    # TPNS allows 200 reads an hour per app: the tasks are spread so that every plan of the
    # run (about ten) fits in one hour's quota, as a repository of this size would be.
    apps = bench_apps(max(1, -(-count // per_app)))
    db = root / "emulator.db"
    core = EmulatorCore(db)
    try:
        register_apps(core, apps, rate_limits=rate_limits)
        documents = seed_world(core, apps, count, MIX)
    finally:
        core.close()
    paths = write_manifest_files(root / "manifests", documents, files=files)
    return served_repository(root, apps, documents, paths, rate_limits=rate_limits)


def served_repository(
    root: Path,
    apps: Sequence[BenchApp],
    documents: list[str],
    paths: list[Path],
    *,
    rate_limits: bool,
) -> Repository:
    """Serve the emulator seeded in `root/emulator.db` and point a `pushctl.yaml` at it."""
    compile_package()
    emulator = ServedEmulator.start(
        root / "emulator.db",
        apps=[f"{app.access_id}:{SECRET}:android" for app in apps],
        rate_limits=rate_limits,
    )
    (root / "pushctl.yaml").write_text(config_text(apps, emulator.base_url), encoding="utf-8")
    return Repository(
        root=root,
        emulator=emulator,
        paths=paths,
        documents=documents,
        spawner=Spawner(),
        env=child_env(),
    )


@dataclass
class PlanFigures:
    cpu: float
    parse_cpu: float
    peak_mb: float
    parse_peak_mb: float
    reads: int
    lower_bound: int
    output: str

    @property
    def ratio(self) -> float:
        return self.cpu / self.parse_cpu


def measure_plan(repo: Repository, repeat: int, *, fresh_state: bool) -> PlanFigures:
    """Plan and parse-only, interleaved so both see the same machine load.

    With `fresh_state`, each plan starts from its own empty state (every task to adopt).
    """
    plans: list[ChildRun] = []
    parses: list[ChildRun] = []
    reads: list[int] = []
    for run in range(repeat):
        parses.append(repo.parse_only())
        before = repo.emulator.reads()
        state = ["--state", f"sqlite:.pushctl/empty-{run}.db"] if fresh_state else []
        plans.append(repo.pushctl("plan", "-f", "manifests", "--format", "json", *state))
        reads.append(repo.emulator.reads() - before)
    document = json.loads(plans[-1].stdout)
    return PlanFigures(
        cpu=statistics.median(r.cpu for r in plans),
        parse_cpu=statistics.median(r.cpu for r in parses),
        peak_mb=statistics.median(r.peak_mb for r in plans),
        parse_peak_mb=statistics.median(r.peak_mb for r in parses),
        reads=max(reads),
        lower_bound=int(document["api_usage"]["lower_bound"]),
        output=plans[-1].stdout,
    )


@dataclass(frozen=True)
class CycleReads:
    plan: int
    apply: int
    bound: int
    #: Reads of a full plan after the cycle, and whether it was empty (exit 0).
    full_plan: int
    converged: bool

    @property
    def cycle(self) -> int:
        return self.plan + self.apply


def pull_request_cycle(repo: Repository, edited: Iterable[int], *, to_state: str) -> CycleReads:
    """A pull request that moves the `edited` documents from `active` to `to_state`: `plan
    --out`, then `apply` of the saved plan with the manifests it was made from (the merge step
    of the CI templates), whose own convergence check ends the cycle. A full `plan` after it is
    measured beside the cycle and judges convergence over every task."""
    documents = list(repo.documents)
    for i in edited:
        documents[i] = documents[i].replace("state: active", f"state: {to_state}")
    write_manifest_files(repo.root / "manifests", documents, files=len(repo.paths))
    start = repo.emulator.reads()
    repo.pushctl("plan", "-f", "manifests", "--out", "plan.json")
    planned = repo.emulator.reads()
    plan = json.loads((repo.root / "plan.json").read_text(encoding="utf-8"))
    done = repo.pushctl("apply", "plan.json", "-f", "manifests", "--auto-approve", check=False)
    applied = repo.emulator.reads()
    after = repo.pushctl("plan", "-f", "manifests", "--detailed-exitcode", check=False)
    return CycleReads(
        plan=planned - start,
        apply=applied - planned,
        bound=int(plan["api_usage"]["lower_bound"]),
        full_plan=repo.emulator.reads() - applied,
        converged=done.returncode == 0 and after.returncode == 0,
    )


def cycle_figures(reads: CycleReads) -> list[Figure]:
    bound = max(reads.bound, 1)
    return [
        Figure(
            "PR cycle reads (plan, apply -f)",
            f"{reads.cycle} ({reads.cycle / bound:.2f}x)",
            f"<= {CYCLE_READS_TARGET:.0f}x {reads.bound}",
            reads.cycle <= CYCLE_READS_TARGET * bound,
        ),
        Figure("  PR plan", reads.plan, f">= {reads.bound} (bound)", None),
        Figure("  apply: stale check, convergence check", reads.apply, "-", None),
        Figure(
            "full plan after the cycle",
            reads.full_plan,
            "empty plan",
            reads.converged,
        ),
    ]


def startup_cpu(repo: Repository, repeat: int) -> dict[str, float]:
    one_file = str(repo.paths[0].relative_to(repo.root))
    commands = {
        "pushctl --help": ["--help"],
        "pushctl version": ["version"],
        "pushctl validate (one file)": ["validate", "-f", one_file],
    }
    timings = {
        name: statistics.median(repo.pushctl(*args).cpu for _ in range(repeat))
        for name, args in commands.items()
    }
    # The floor under every start-up figure: this interpreter and its site-packages, nothing
    # imported (an editable install adds its import hook here).
    bare = [sys.executable, "-c", "pass"]
    timings[FLOOR] = statistics.median(
        repo.spawner.run(bare, cwd=repo.root, env=repo.env).cpu for _ in range(repeat)
    )
    return timings


def render_cpu(plan_json: str) -> dict[str, float]:
    """CPU seconds to render the cold plan (one change per task) in each output format."""
    plan = Plan.from_json(plan_json)
    renderers: dict[str, Callable[[Plan], str]] = {
        "json": render_plan_json,
        "text": render_plan_text,
        "markdown": render_plan_markdown,
    }
    timings: dict[str, float] = {}
    for name, render in renderers.items():
        samples = []
        for _ in range(3):
            started = time.process_time()
            render(plan)
            samples.append(time.process_time() - started)
        timings[name] = min(samples)
    return timings


def figures_for(count: int, root: Path, args: argparse.Namespace) -> list[Figure]:
    repo = prepare(
        root, count, files=args.files, per_app=args.tasks_per_app, rate_limits=args.rate_limits
    )
    try:
        cold = measure_plan(repo, args.repeat, fresh_state=True)
        repo.pushctl("apply", "-f", "manifests", "--auto-approve")
        steady = measure_plan(repo, args.repeat, fresh_state=False)
        edited = [i for i in range(len(repo.documents)) if i % len(MIX) == 16][:CYCLE_EDITS]
        cycle = pull_request_cycle(repo, edited, to_state="cancelled")
        startup = startup_cpu(repo, args.repeat) if args.startup else {}
    finally:
        repo.spawner.close()
        repo.emulator.stop()
    changes = len(json.loads(cold.output)["changes"])
    rendered = render_cpu(cold.output)
    ratio_target = RATIO_TARGETS.get(count)
    figures: list[Figure] = []
    for label, plan in (("empty state", cold), ("adopted", steady)):
        figures += [
            Figure(f"plan CPU s ({label})", plan.cpu, "-", None),
            Figure("  parse-only CPU s", plan.parse_cpu, "-", None),
            Figure(
                "  ratio",
                f"{plan.ratio:.2f}",
                "-" if ratio_target is None else f"<= {ratio_target}",
                None if ratio_target is None else plan.ratio <= ratio_target,
            ),
            Figure(
                "  peak RSS MB",
                plan.peak_mb,
                f"<= {PEAK_MB_TARGET:.0f} @10k",
                plan.peak_mb <= PEAK_MB_TARGET if count >= 10_000 else None,
            ),
            Figure("  parse-only peak RSS MB", plan.parse_peak_mb, "-", None),
            Figure(
                "  reads",
                plan.reads,
                f"= {plan.lower_bound} (bound)",
                plan.reads == plan.lower_bound,
            ),
        ]
    figures += cycle_figures(cycle)
    for name, cpu in startup.items():
        if name == FLOOR:
            figures.append(Figure(f"  {name} CPU s", cpu, "-", None))
            continue
        figures.append(
            Figure(f"{name} CPU s", cpu, f"< {STARTUP_CPU_TARGET}", cpu < STARTUP_CPU_TARGET)
        )
    for name, cpu in rendered.items():
        figures.append(
            Figure(
                f"render {changes} changes, {name} CPU s",
                cpu,
                f"<= {RENDER_CPU_TARGET} @10k",
                cpu <= RENDER_CPU_TARGET if changes >= 10_000 else None,
            )
        )
    return figures


def report(count: int, figures: Sequence[Figure], args: argparse.Namespace) -> None:
    limits = "on" if args.rate_limits else "off"
    print(
        f"\nwhole_process: N={count} adopted tasks ({args.tasks_per_app} per app), "
        f"{args.files} files, median of {args.repeat}, "
        f"emulator served on loopback (rate limits {limits})\n"
    )
    print_table(["figure", "measured", "target", "met"], [f.cells() for f in figures])


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tasks", type=int, action="append", help="N; repeatable")
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (median)")
    parser.add_argument("--files", type=int, default=100, help="manifest files per N")
    parser.add_argument("--tasks-per-app", type=int, default=1_000, help="tasks per emulated app")
    parser.add_argument(
        "--rate-limits",
        action="store_true",
        help="serve with TPNS's 200 reads/h (default off: repeated plans would exhaust it)",
    )
    parser.add_argument("--no-startup", dest="startup", action="store_false")
    args = parser.parse_args(argv)
    args.tasks = args.tasks or [1_000, 10_000]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    for count in args.tasks:
        with tempfile.TemporaryDirectory(prefix="pushctl-whole-") as tmp:
            report(count, figures_for(count, Path(tmp), args), args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
