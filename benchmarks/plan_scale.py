"""How `plan` scales with the number of adopted tasks: time, CPU, memory and TPNS reads.

For each N (1,000 and 10,000 by default) it seeds N tasks in an emulator (SQLite file in a temp
dir), writes N PushTask manifests adopting them (spread over ~100 multi-document files), and runs
the real plan path: load_manifests -> validate_tasks -> build_plan, with TpnsClient talking to
the emulator's ASGI app in-process. Beside each figure it prints the target or lower bound:
CPU / parse-only CPU (parse-only = ruamel's C-backed safe loader over the same files) <= 1.5,
tracemalloc peak < 300 MB at 10k, read calls vs. ceil(tasks to read / 200).

A "state-warm" plan follows an apply of the cold plan's adopt changes only (no TPNS calls), so
the state holds bindings; it shows what refresh saves once tasks are known.

    .venv/bin/python -m benchmarks.plan_scale                 # N = 1000 and 10000
    .venv/bin/python -m benchmarks.plan_scale --tasks 200     # quick run
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import resource
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
from ruamel.yaml import YAML

from benchmarks.emulated_world import (
    CpuMeter,
    MeteredCore,
    bench_apps,
    bench_config,
    print_table,
    register_apps,
    seed_world,
    tpns_client,
    write_manifest_files,
)
from reconciler.domain.manifest.loader import load_manifests
from reconciler.domain.manifest.models import PushctlConfig
from reconciler.domain.manifest.validate import validate_tasks
from reconciler.domain.plan import Action, Plan
from reconciler.emulator import EmulatorCore, create_app
from reconciler.engine.apply_session import ApplyRun, run_apply
from reconciler.engine.planning import PlanRequest, build_plan
from reconciler.state import LockHolder, open_store, provenance_from_env
from reconciler.tpns.client import TpnsClient

PAGE = 200
CPU_RATIO_TARGET = 1.5
PEAK_MB_TARGET = 300.0
T = TypeVar("T")

#: (desired state, seeded status or None = follows the clock, scheduled?, audience) by i % 20:
#: 70 % finished and active, 10 % already stopped, 5 % already cancelled, 5 % scheduled and
#: active: 90 % need no change; 5 % to cancel, 5 % to stop.
MIX: list[tuple[str, str | None, bool, str]] = [
    *[("active", "PUSH_FINISHED", False, "tag")] * 14,
    *[("stopped", "PUSH_DELETED_PUSH_MSG", False, "all")] * 2,
    ("active", None, True, "tag"),
    ("cancelled", None, True, "tag"),
    ("stopped", "PUSH_STARTED", False, "tag"),
    ("cancelled", "PUSH_CANCELED", True, "tag"),
]


@dataclass
class Measured:
    wall: float = 0.0
    cpu: float = 0.0
    emulator_cpu: float = 0.0
    load_cpu: float = 0.0
    peak_mb: float = 0.0
    plan: Plan | None = None


@dataclass
class Row:
    tasks: int
    cold: Measured
    parse_cpu: float
    warm: Measured | None


def parse_only(paths: Sequence[Path]) -> float:
    """CPU seconds for ruamel's C-backed safe loader over every file, nothing else."""
    yaml = YAML(typ="safe", pure=False)
    started = time.process_time()
    for path in paths:
        list(yaml.load_all(path.read_text(encoding="utf-8")))
    return time.process_time() - started


async def plan_once(
    manifest_dir: Path,
    config: PushctlConfig,
    clients: dict[str, TpnsClient],
    core: EmulatorCore,
) -> tuple[Plan, float]:
    """The plan path of `pushctl plan -f DIR`, without rendering; also the CPU s of loading."""
    started = time.process_time()
    tasks = load_manifests([manifest_dir])
    diagnostics = validate_tasks(tasks, config)
    load_cpu = time.process_time() - started
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        raise SystemExit(f"benchmark manifests are invalid: {errors[0].message}")
    with open_store(config.state, base_dir=manifest_dir) as store:
        snapshot = store.snapshot()
    request = PlanRequest(
        desired=tasks,
        config=config,
        state=snapshot,
        now=core.now(),
        extra_diagnostics=tuple(diagnostics),
    )
    quotas = {key: client.quota for key, client in clients.items()}
    return await build_plan(request, readers=clients, quotas=quotas), load_cpu


async def measure(
    step: Callable[[], Awaitable[T]], meter: CpuMeter, core: MeteredCore, *, trace: bool
) -> tuple[Measured, T]:
    gc.collect()
    meter.seconds = core.cpu_seconds = 0.0
    if trace:
        tracemalloc.start()
    wall, cpu = time.perf_counter(), time.process_time()
    result = await step()
    measured = Measured(
        wall=time.perf_counter() - wall,
        cpu=time.process_time() - cpu,
        emulator_cpu=meter.seconds + core.cpu_seconds,
    )
    if trace:
        measured.peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return measured, result


def utc_now() -> datetime:
    return datetime.now(UTC)


async def apply_adopts(plan: Plan, config: PushctlConfig, clients: dict[str, TpnsClient]) -> int:
    """Apply only the adopt changes (state writes, no TPNS call) so that state is warm."""
    adopts = tuple(c for c in plan.changes if c.action is Action.ADOPT)
    run = ApplyRun(
        run_id="bench-adopt",
        holder=LockHolder.new(
            user="bench", host="localhost", run_id="bench-adopt", commit=None, now=utc_now()
        ),
        provenance=provenance_from_env({}, local_user="bench", local_host="localhost"),
        lock_timeout=5.0,
        now=utc_now,
    )
    with open_store(config.state, base_dir=Path.cwd()) as store:
        report = await run_apply(
            plan.model_copy(update={"changes": adopts}), store=store, clients=clients, run=run
        )
    return len(report.succeeded)


async def run_size(count: int, folder: Path, args: argparse.Namespace) -> Row:
    core = MeteredCore(db_path=folder / "emulator.db")
    apps = bench_apps(args.apps)
    register_apps(core, apps, rate_limits=not args.no_rate_limits)
    started = time.perf_counter()
    documents = seed_world(core, apps, count, MIX)
    paths = write_manifest_files(folder / "manifests", documents, files=args.files)
    print(
        f"N={count}: seeded {count} tasks over {len(apps)} app(s) and wrote {len(paths)} files "
        f"in {time.perf_counter() - started:.1f} s"
    )
    config = bench_config(apps, endpoint="http://127.0.0.1", state_file=folder / "state.db")
    meter = CpuMeter(create_app(core))
    transport = httpx.ASGITransport(app=meter)
    clients = {
        app.key: tpns_client(app, base_url="http://127.0.0.1", core=core, transport=transport)
        for app in apps
    }
    manifest_dir = folder / "manifests"
    try:
        cold, (plan, load_cpu) = await measure(
            lambda: plan_once(manifest_dir, config, clients, core), meter, core, trace=False
        )
        cold.plan, cold.load_cpu = plan, load_cpu
        if not args.no_tracemalloc:
            traced, _ = await measure(
                lambda: plan_once(manifest_dir, config, clients, core), meter, core, trace=True
            )
            cold.peak_mb = traced.peak_mb
        parse_cpu = min(parse_only(paths) for _ in range(3))
        warm = None
        if not args.no_warm:
            adopted = await apply_adopts(plan, config, clients)
            print(f"N={count}: applied {adopted} adopt changes (state only) for the warm plan")
            warm, (warm_plan, load_cpu) = await measure(
                lambda: plan_once(manifest_dir, config, clients, core), meter, core, trace=False
            )
            warm.plan, warm.load_cpu = warm_plan, load_cpu
    finally:
        for client in clients.values():
            await client.aclose()
        core.close()
    return Row(tasks=count, cold=cold, parse_cpu=parse_cpu, warm=warm)


def reads(plan: Plan | None) -> int:
    return 0 if plan is None else plan.api_usage.total


def summary(plan: Plan | None) -> str:
    if plan is None:
        return ""
    counts = {k: v for k, v in sorted(plan.summary.items()) if v}
    return ", ".join(f"{k} {v}" for k, v in counts.items())


def report(rows: Sequence[Row], args: argparse.Namespace) -> None:
    limits = "OFF (AppSpec(rate_limits=False))" if args.no_rate_limits else "ON (200 reads/h/app)"
    print(f"\nplan_scale: {args.apps} app(s); emulator rate limits {limits}")
    print(
        "CPU includes the in-process emulator; 'pushctl CPU' subtracts its share. "
        "load CPU = load_manifests + validate_tasks.\n"
    )
    table: list[list[Any]] = []
    for row in rows:
        own = row.cold.cpu - row.cold.emulator_cpu
        table.append(
            [
                row.tasks,
                row.cold.wall,
                row.cold.cpu,
                row.cold.emulator_cpu,
                row.cold.load_cpu,
                row.parse_cpu,
                f"{row.cold.cpu / row.parse_cpu:.2f}",
                f"{own / row.parse_cpu:.2f}",
                f"<= {CPU_RATIO_TARGET}",
                "-" if args.no_tracemalloc else f"{row.cold.peak_mb:.1f}",
                f"< {PEAK_MB_TARGET:.0f} @10k",
                reads(row.cold.plan),
                0 if row.cold.plan is None else row.cold.plan.api_usage.lower_bound,
            ]
        )
    print_table(
        [
            "N",
            "wall s",
            "CPU s",
            "emu CPU s",
            "load CPU s",
            "parse-only s",
            "CPU/parse",
            "pushctl CPU/parse",
            "target",
            "peak MB",
            "target",
            "read calls",
            "lower bound",
        ],
        table,
    )
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprocess maxrss (whole run, emulator and seeding included): {maxrss_mb:.0f} MB")
    for row in rows:
        print(f"N={row.tasks} cold plan: {summary(row.cold.plan)}")
    warm_rows = [r for r in rows if r.warm is not None]
    if warm_rows:
        print("\nstate-warm plan (bindings from the applied adopts):\n")
        print_table(
            ["N", "wall s", "CPU s", "read calls", "lower bound", "cold read calls"],
            [
                [
                    r.tasks,
                    r.warm.wall,
                    r.warm.cpu,
                    reads(r.warm.plan),
                    0 if r.warm.plan is None else r.warm.plan.api_usage.lower_bound,
                    reads(r.cold.plan),
                ]
                for r in warm_rows
                if r.warm is not None
            ],
        )
        for row in warm_rows:
            if row.warm is not None:
                print(f"N={row.tasks} warm plan: {summary(row.warm.plan)}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--tasks",
        type=int,
        action="append",
        help="N to measure; repeatable (default: 1000 and 10000)",
    )
    parser.add_argument("--apps", type=int, default=1, help="Android apps to spread tasks over")
    parser.add_argument("--files", type=int, default=100, help="manifest files per N")
    parser.add_argument(
        "--no-rate-limits",
        action="store_true",
        help="seed apps with AppSpec(rate_limits=False) (default: limits on)",
    )
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the memory pass")
    parser.add_argument("--no-warm", action="store_true", help="skip the state-warm plan")
    args = parser.parse_args(argv)
    args.tasks = args.tasks or [1_000, 10_000]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    rows: list[Row] = []
    for count in args.tasks:
        with tempfile.TemporaryDirectory(prefix="pushctl-plan-scale-") as tmp:
            rows.append(asyncio.run(run_size(count, Path(tmp), args)))
    report(rows, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
