"""A repository a year old: 50,000 tasks, most settled or past TPNS's record horizon.

TPNS shows a task for about a month; refresh reads only the declared tasks it still shows
whose recorded status does not already settle them. This benchmark builds such a repository
and runs the real `pushctl plan -f manifests --format json` against an emulator served on
loopback, beside a parse-only process of the same files in the same run (the helpers of
benchmarks.whole_process):

- N tasks (50,000 by default) dated over a year, one app in five, 100 PushTask documents a
  file, each adopting its push by `pushId`; the emulator holds every push and state binds each
  one with its date and last recorded status;
- past the horizon (about 11 months of tasks), by i % 20: 14 `active` and delivered, 1 `active`
  with no status recorded (sent by pushctl, never read), 3 `stopped` and terminated,
  2 `cancelled` and cancelled: none can be read;
- within the horizon, the newest `--unsettled` tasks are `active` (the campaigns still
  running: read every plan); the rest `stopped` or `cancelled` and already so (not read).

It prints one table: the tasks, how many are readable and unsettled, the reads the emulator
accepted beside the plan's lower bound (ceil(readable unsettled / 200) per app), CPU and peak
RSS of the plan process (`os.wait4`), the parse-only process's CPU and the ratio against the
1.3x target of a 10,000-task plan. Then a pull-request cycle as the CI templates run it (stop
the three newest tasks): `plan --out plan.json`, `apply plan.json -f manifests` (its stale
check and its convergence check of the changed tasks), with its reads beside twice the PR
plan's bound; and the reads of a full plan after it. No figure is judged by a test.

    .venv/bin/python -m benchmarks.year_scale                     # N = 50,000
    .venv/bin/python -m benchmarks.year_scale --tasks 600 --unsettled 40 --repeat 1
"""

from __future__ import annotations

import argparse
import math
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.emulated_world import (
    BenchApp,
    bench_apps,
    print_table,
    push_body,
    register_apps,
    write_manifest_files,
)
from benchmarks.emulated_world import adopted_manifest as manifest_text
from benchmarks.whole_process import (
    Figure,
    PlanFigures,
    Repository,
    cycle_figures,
    measure_plan,
    pull_request_cycle,
    served_repository,
)
from reconciler.emulator import EmulatorCore
from reconciler.engine.live_catalog import HORIZON, PAGE_SIZE
from reconciler.records import LiveStatus, TaskBinding
from reconciler.state import open_store

#: The whole-process target of a 10,000-task plan: CPU per task, against parsing alone.
RATIO_TARGET = 1.3
#: (desired state, recorded status) of tasks past the horizon, by i % 20; None: no status.
PAST: list[tuple[str, LiveStatus | None]] = [
    *[("active", LiveStatus.FINISHED)] * 14,
    ("active", None),
    *[("stopped", LiveStatus.DELETED_PUSH_MSG)] * 3,
    *[("cancelled", LiveStatus.CANCELED)] * 2,
]
#: The pull request stops this many of the newest tasks (still within their offline window).
CYCLE_EDITS = 3
#: Tasks within the horizon that are settled as declared, by i % 2.
SETTLED: list[tuple[str, LiveStatus]] = [
    ("stopped", LiveStatus.DELETED_PUSH_MSG),
    ("cancelled", LiveStatus.CANCELED),
]
STATE_FILE = ".pushctl/state.db"


@dataclass(frozen=True)
class YearTask:
    app: BenchApp
    name: str
    desired: str
    #: Recorded in state; pinned in the emulator unless None (then it follows the clock).
    status: LiveStatus | None
    created: datetime

    def readable(self, now: datetime) -> bool:
        return self.created >= now - HORIZON

    def unsettled(self) -> bool:
        return self.status is None or self.status not in {s for _, s in SETTLED}


def year_tasks(
    apps: Sequence[BenchApp], count: int, *, unsettled: int, now: datetime
) -> list[YearTask]:
    """Task i is dated i/count of a year ago; the newest `unsettled` ones are still running."""
    tasks: list[YearTask] = []
    for i in range(count):
        created = now - timedelta(days=365 * i / count, hours=1)
        if i < unsettled:
            desired, status = "active", None
        elif created >= now - HORIZON:
            desired, status = SETTLED[i % len(SETTLED)]
        else:
            desired, status = PAST[i % len(PAST)]
        app = apps[i % len(apps)]
        tasks.append(YearTask(app, f"task-{i:06d}", desired, status, created))
    return tasks


def build(root: Path, tasks: Sequence[YearTask], apps: Sequence[BenchApp]) -> list[str]:
    """Seed the emulator and state; return the manifests' documents."""
    core = EmulatorCore(root / "emulator.db")
    (root / STATE_FILE).parent.mkdir(parents=True, exist_ok=True)
    store = open_store(f"sqlite:{STATE_FILE}", base_dir=root)
    documents: list[str] = []
    try:
        register_apps(core, apps, rate_limits=False)
        for task in tasks:
            body = push_body(title=task.name, content=f"Offer of {task.created:%Y-%m-%d}")
            pinned = task.status.value if task.status is not None else None
            push_id = core.seed_task(
                task.app.access_id, body, status=pinned, created_at=task.created
            )
            store.put_binding(
                TaskBinding(
                    address=f"{task.app.key}/{task.name}",
                    app=task.app.key,
                    push_id=push_id,
                    created_by_pushctl=False,
                    last_status=task.status,
                    date=task.created,
                )
            )
            documents.append(manifest_text(task.name, task.app.key, push_id, state=task.desired))
    finally:
        core.close()
        store.close()
    return documents


def prepare(root: Path, args: argparse.Namespace) -> tuple[Repository, list[YearTask]]:
    apps = bench_apps(args.apps)
    tasks = year_tasks(apps, args.tasks, unsettled=args.unsettled, now=datetime.now(UTC))
    documents = build(root, tasks, apps)
    paths = write_manifest_files(root / "manifests", documents, files=-(-len(documents) // 100))
    return served_repository(root, apps, documents, paths, rate_limits=False), tasks


def expected_bound(tasks: Sequence[YearTask], now: datetime) -> tuple[int, int]:
    """Readable unsettled tasks, and the fewest pages that could read them (per app)."""
    per_app = Counter(t.app.key for t in tasks if t.readable(now) and t.unsettled())
    return sum(per_app.values()), sum(math.ceil(n / PAGE_SIZE) for n in per_app.values())


def figures(tasks: Sequence[YearTask], plan: PlanFigures) -> list[Figure]:
    now = datetime.now(UTC)
    readable, bound = expected_bound(tasks, now)
    past = sum(1 for t in tasks if not t.readable(now))
    return [
        Figure("tasks", len(tasks), "-", None),
        Figure("  past the record horizon", past, "-", None),
        Figure("  readable and unsettled", readable, "-", None),
        Figure(
            "reads made",
            plan.reads,
            f"= {plan.lower_bound} (bound)",
            plan.reads == plan.lower_bound,
        ),
        Figure(
            "lower bound",
            plan.lower_bound,
            f"= {bound} (ceil(unsettled/200) per app)",
            plan.lower_bound == bound,
        ),
        Figure("plan CPU s", plan.cpu, "-", None),
        Figure("  parse-only CPU s", plan.parse_cpu, "-", None),
        Figure(
            "  ratio (per task)",
            f"{plan.ratio:.2f}",
            f"<= {RATIO_TARGET}",
            plan.ratio <= RATIO_TARGET,
        ),
        Figure("  plan CPU ms per task", 1000 * plan.cpu / len(tasks), "-", None),
        Figure("peak RSS MB", plan.peak_mb, "-", None),
        Figure("  parse-only peak RSS MB", plan.parse_peak_mb, "-", None),
    ]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tasks", type=int, default=50_000, help="tasks over the year")
    parser.add_argument("--unsettled", type=int, default=300, help="newest tasks still active")
    parser.add_argument("--apps", type=int, default=5, help="emulated apps")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pushctl-year-") as tmp:
        repo, tasks = prepare(Path(tmp), args)
        try:
            plan = measure_plan(repo, args.repeat, fresh_state=False)
            cycle = pull_request_cycle(repo, range(CYCLE_EDITS), to_state="stopped")
        finally:
            repo.spawner.close()
            repo.emulator.stop()
    print(
        f"\nyear_scale: {len(tasks)} tasks over a year, {args.apps} apps, "
        f"median of {args.repeat}, emulator served on loopback\n"
    )
    rows = [f.cells() for f in (*figures(tasks, plan), *cycle_figures(cycle))]
    print_table(["figure", "measured", "target", "met"], rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
