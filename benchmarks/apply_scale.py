"""How fast `apply` makes overrides and stops against a paced, slow TPNS, and whether it is legal.

It seeds started broadcast tasks in an emulator's file, serves it with `pushctl emulator serve`
in its own process on loopback (rate limits ON, a 20 ms latency fault on every API path), writes
manifests declaring 200 of them overridden by new tasks and 2,000 stopped, plans with build_plan
and applies with run_apply (SQLite state in a temp dir). Per class it prints count, wall time and
achieved rate beside the bound: broadcast pushes 1/s per app for overrides; stops x latency /
concurrency for stops (ratio target <= 1.25), and the CPU a stop took on each side (this
process, and the emulator's from /proc). It then checks the emulator's ledger: exactly one
/v3/push/app per override, no 1008028.

    .venv/bin/python -m benchmarks.apply_scale                          # 200 overrides: >= 200 s
    .venv/bin/python -m benchmarks.apply_scale --overrides 5 --stops 200   # quick run
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import resource
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from benchmarks.emulated_world import (
    BenchApp,
    bench_apps,
    bench_config,
    created_manifest,
    print_table,
    push_body,
    register_apps,
    tpns_client,
    write_manifest_files,
)
from benchmarks.emulated_world import adopted_manifest as adopted
from benchmarks.served import ServedEmulator
from reconciler.domain.manifest.loader import load_manifests
from reconciler.domain.manifest.models import PushctlConfig
from reconciler.domain.manifest.validate import validate_tasks
from reconciler.domain.plan import Action, Plan
from reconciler.emulator import EmulatorCore
from reconciler.engine.apply import ApplyOptions, ApplyReport, ChangeOutcome
from reconciler.engine.apply_session import ApplyRun, run_apply
from reconciler.engine.planning import PlanRequest, build_plan
from reconciler.errors import PushctlError
from reconciler.state import LockHolder, open_store, provenance_from_env
from reconciler.tpns.client import TpnsClient

PUSH_PATH = "/v3/push/app"
TOO_FAST = 1008028
RATIO_TARGET = 1.25
#: run_apply takes no concurrency: it runs with ApplyOptions' default.
CONCURRENCY = ApplyOptions(run_id="", now=lambda: datetime.now(UTC)).concurrency


@dataclass(frozen=True)
class CpuClock:
    """CPU seconds used so far by this process (pushctl's side) and by the served emulator."""

    emulator_pid: int

    def read(self) -> tuple[float, float]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime, process_cpu(self.emulator_pid)


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a running process, from /proc (Linux; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_per_call(before: tuple[float, float], after: tuple[float, float], calls: int) -> str:
    """pushctl's and the emulator's CPU per call between two readings of a CpuClock."""
    ours, theirs = ((b - a) * 1000 / max(calls, 1) for a, b in zip(before, after, strict=True))
    return f"CPU per stop: {ours:.2f} ms here, {theirs:.2f} ms in the emulator"


@dataclass
class Timeline:
    """When each outcome arrived, relative to the start of apply, and the CPU the stops took."""

    cpu: CpuClock
    stops: int
    started: float = field(default_factory=time.perf_counter)
    times: dict[Action, list[float]] = field(default_factory=dict)
    failed: Counter[str] = field(default_factory=Counter)
    cpu_at_start: tuple[float, float] = (0.0, 0.0)
    cpu_at_last_stop: tuple[float, float] = (0.0, 0.0)

    def start(self) -> None:
        self.started = time.perf_counter()
        self.cpu_at_start = self.cpu.read()

    def record(self, outcome: ChangeOutcome) -> None:
        times = self.times.setdefault(outcome.action, [])
        times.append(time.perf_counter() - self.started)
        if outcome.action is Action.STOP and len(times) == self.stops:
            self.cpu_at_last_stop = self.cpu.read()
        if not outcome.ok:
            self.failed[f"{outcome.action.value}: {outcome.detail.splitlines()[0][:120]}"] += 1

    def first(self) -> float:
        return min((t[0] for t in self.times.values() if t), default=0.0)


def seed_undeclared(core: EmulatorCore, app: BenchApp, count: int) -> list[str]:
    """Started tasks no manifest declares: targets of the bare-client baseline."""
    created = core.now() - timedelta(minutes=30)
    body = push_body(title="Baseline", content="Baseline")
    return [
        core.seed_task(app.access_id, body, status="PUSH_STARTED", created_at=created)
        for _ in range(count)
    ]


async def bare_stops(
    client: TpnsClient, push_ids: Sequence[str], cpu: CpuClock
) -> tuple[float, str]:
    """Stops sent by the client alone, CONCURRENCY at a time: wall time and CPU per stop."""
    slots = asyncio.Semaphore(CONCURRENCY)

    async def stop(push_id: str) -> None:
        async with slots:
            await client.stop_push_msg(push_id)

    before = cpu.read()
    started = time.perf_counter()
    await asyncio.gather(*(stop(p) for p in push_ids))
    wall = time.perf_counter() - started
    return wall, cpu_per_call(before, cpu.read(), len(push_ids))


def seed_world(
    core: EmulatorCore, apps: Sequence[BenchApp], *, overrides: int, stops: int
) -> list[str]:
    """Seed started broadcast tasks; return manifests: A-i overridden by B-i, S-j stopped."""
    now = core.now()
    documents: list[str] = []
    for i in range(overrides):
        app = apps[i % len(apps)]
        body = push_body(
            title=f"Old offer {i}", content=f"Offer {i}", audience="all" if i % 2 else "tag"
        )
        created = now - timedelta(minutes=10, seconds=i)
        push_id = core.seed_task(app.access_id, body, status="PUSH_STARTED", created_at=created)
        documents.append(
            adopted(f"a-{i:05d}", app.key, push_id, state="overridden", overridden_by=f"b-{i:05d}")
        )
        documents.append(
            created_manifest(f"b-{i:05d}", app.key, title=f"New offer {i}", content=f"Offer {i}+")
        )
    for j in range(stops):
        app = apps[j % len(apps)]
        body = push_body(
            title=f"Flash {j}", content=f"Flash {j}", audience="tag" if j % 2 else "all"
        )
        created = now - timedelta(minutes=20, seconds=j)
        push_id = core.seed_task(app.access_id, body, status="PUSH_STARTED", created_at=created)
        documents.append(adopted(f"s-{j:05d}", app.key, push_id, state="stopped"))
    return documents


async def make_plan(
    manifest_dir: Path, config: PushctlConfig, clients: dict[str, TpnsClient], core: EmulatorCore
) -> Plan:
    tasks = load_manifests([manifest_dir])
    diagnostics = validate_tasks(tasks, config)
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        raise SystemExit(f"benchmark manifests are invalid: {errors[0].message}")
    with open_store(config.state, base_dir=manifest_dir) as store:
        snapshot = store.snapshot()
    request = PlanRequest(
        desired=tasks, config=config, state=snapshot, now=utc_now(), extra_diagnostics=()
    )
    quotas = {key: client.quota for key, client in clients.items()}
    return await build_plan(request, readers=clients, quotas=quotas)


async def apply(
    plan: Plan, config: PushctlConfig, clients: dict[str, TpnsClient], timeline: Timeline
) -> tuple[ApplyReport | None, str]:
    run = ApplyRun(
        run_id="bench-apply",
        holder=LockHolder.new(
            user="bench", host="localhost", run_id="bench-apply", commit=None, now=utc_now()
        ),
        provenance=provenance_from_env({}, local_user="bench", local_host="localhost"),
        lock_timeout=5.0,
        now=utc_now,
        on_outcome=timeline.record,
    )
    with open_store(config.state, base_dir=Path.cwd()) as store:
        timeline.start()
        try:
            report = await run_apply(plan, store=store, clients=clients, run=run)
        except PushctlError as exc:
            return None, f"{type(exc).__name__}: {exc}"
    return report, ""


def utc_now() -> datetime:
    """The served emulator keeps system time, so pushctl uses it too (as the CLI does)."""
    return datetime.now(UTC)


def set_latency(base_url: str, latency_ms: float) -> None:
    fault = {"path": "*", "kind": "latency", "latency_ms": latency_ms, "when": "before"}
    reply = httpx.post(f"{base_url}/_emulator/faults", json={"faults": [fault]}, timeout=10)
    reply.raise_for_status()


def class_row(
    name: str, times: list[float], start: float, *, limit: str, bound: float | None
) -> list[Any]:
    count = len(times)
    wall = (max(times) - start) if times else 0.0
    rate = count / wall if wall > 0 else 0.0
    bound_text = "-" if bound is None else f"{bound:.2f}"
    ratio = "-" if not bound else f"{wall / bound:.2f}"
    return [name, count, wall, f"{rate:.2f}/s", limit, bound_text, ratio]


def ledger_checks(core: EmulatorCore, plan: Plan) -> list[str]:
    ledger = core.ledger()
    pushes = [e for e in ledger if e["path"] == PUSH_PATH]
    by_collapse: Counter[int] = Counter(
        int(e["body"].get("collapse_id") or 0) for e in pushes if isinstance(e["body"], dict)
    )
    overrides = [c for c in plan.changes if c.action is Action.OVERRIDE]
    wanted = Counter(
        int(call.body.get("collapse_id") or 0)
        for c in overrides
        for call in c.api_calls
        if call.path == PUSH_PATH
    )
    exact = sum(1 for cid in wanted if by_collapse.get(cid) == 1)
    too_fast = Counter(e["path"] for e in ledger if e["ret_code"] == TOO_FAST)
    refused = Counter(
        f"{e['path']} {e['ret_code']}" for e in ledger if e["ret_code"] not in (0, None)
    )
    reads = core.read_counts()
    return [
        f"ledger: {len(pushes)} /v3/push/app calls for {len(overrides)} overrides; "
        f"{exact} of {len(wanted)} collapse ids pushed exactly once (target: all)",
        f"ledger: 1008028 replies: {dict(too_fast) or 'none'} (target: none)",
        f"ledger: other refusals: {dict(refused - too_fast) or 'none'}",
        f"reads accepted this hour: {reads} (quota 200/h per app)",
    ]


async def run(args: argparse.Namespace, folder: Path) -> None:
    db = folder / "emulator.db"
    core = EmulatorCore(db_path=db)
    apps = bench_apps(args.apps)
    register_apps(core, apps, rate_limits=True)
    documents = seed_world(core, apps, overrides=args.overrides, stops=args.stops)
    baseline_ids = seed_undeclared(core, apps[0], args.baseline)
    write_manifest_files(folder / "manifests", documents, files=args.files)
    latency = args.latency_ms / 1000
    # Served from its own process, as TPNS is: its CPU is not taken from pushctl's. This core
    # stays open on the same file to read the ledger at the end.
    emulator = ServedEmulator.start(db, apps=[], rate_limits=True)
    try:
        base_url = emulator.base_url
        set_latency(base_url, args.latency_ms)
        config = bench_config(apps, endpoint=base_url, state_file=folder / "state.db")
        clients = {app.key: tpns_client(app, base_url=base_url) for app in apps}
        cpu = CpuClock(emulator.process.pid)
        try:
            baseline = await bare_stops(clients[apps[0].key], baseline_ids, cpu)
            timeline = Timeline(cpu=cpu, stops=args.stops)
            await measure(args, folder, config, clients, core, timeline)
            print_baseline(args, baseline, latency)
        finally:
            for client in clients.values():
                await client.aclose()
    finally:
        emulator.stop()
    core.close()


async def measure(
    args: argparse.Namespace,
    folder: Path,
    config: PushctlConfig,
    clients: dict[str, TpnsClient],
    core: EmulatorCore,
    timeline: Timeline,
) -> None:
    latency = args.latency_ms / 1000
    started = time.perf_counter()
    plan = await make_plan(folder / "manifests", config, clients, core)
    summary = {k: v for k, v in sorted(plan.summary.items()) if v}
    print(f"plan: {time.perf_counter() - started:.1f} s, {summary}")
    print(f"plan reads: {plan.api_usage.calls} (lower bound {plan.api_usage.lower_bound})")
    per_app_overrides = -(-args.overrides // args.apps)
    stop_bound = args.stops * latency / CONCURRENCY
    print(
        f"estimate: overrides >= {max(0, per_app_overrides - 1)} s at 1 push/s per app "
        f"({args.apps} app(s)); stops >= {stop_bound:.1f} s "
        f"({args.stops} x {args.latency_ms:g} ms / concurrency {CONCURRENCY})\n",
        flush=True,
    )
    report, failure = await apply(plan, config, clients, timeline)
    total = time.perf_counter() - timeline.started
    if failure:
        print(f"apply FAILED before or outside the changes: {failure}")
    start = timeline.first()
    print(
        f"apply: {total:.1f} s in all; first outcome after {start:.2f} s "
        "(lock, pre-flight re-read, open intents)\n"
    )
    override_bound = float(max(0, per_app_overrides - 1))
    rows = [
        class_row(
            "override",
            timeline.times.get(Action.OVERRIDE, []),
            start,
            limit=f"{args.apps:g}/s ({args.apps} app)",
            bound=override_bound or None,
        ),
        class_row(
            "stop",
            timeline.times.get(Action.STOP, []),
            start,
            limit=f"net bound @{CONCURRENCY}",
            bound=stop_bound or None,
        ),
        class_row("adopt", timeline.times.get(Action.ADOPT, []), start, limit="-", bound=None),
    ]
    print_table(["class", "count", "wall s", "rate", "limit", "bound s", "wall/bound"], rows)
    print(f"\nstop target: wall/bound <= {RATIO_TARGET}; override bound = (overrides - 1) x 1 s")
    if timeline.cpu_at_last_stop != (0.0, 0.0):
        spent = cpu_per_call(timeline.cpu_at_start, timeline.cpu_at_last_stop, args.stops)
        print(f"apply to its last stop: {spent} (adopts and pushes of the window included)")
    if report is not None:
        print(f"outcomes: {len(report.succeeded)} ok, {len(report.failed)} failed")
    for detail, count in timeline.failed.most_common(5):
        print(f"  failed x{count}: {detail}")
    for line in ledger_checks(core, plan):
        print(line)
    if args.converge:
        after = await make_plan(folder / "manifests", config, clients, core)
        left = {k: v for k, v in sorted(after.summary.items()) if v and k != "no-op"}
        print(f"fresh plan after apply: {left or 'empty'}; reads {after.api_usage.calls}")


def print_baseline(args: argparse.Namespace, baseline: tuple[float, str], latency: float) -> None:
    """The same stops without the engine: what the client and the emulator allow by themselves."""
    wall, spent = baseline
    if not args.baseline:
        return
    bound = args.baseline * latency / CONCURRENCY
    ratio = f"{wall / bound:.2f}" if bound else "-"
    print(
        f"\nbaseline (before apply): {args.baseline} stops by a bare TpnsClient, "
        f"{CONCURRENCY} at a time: {wall:.2f} s, {args.baseline / wall:.1f}/s; "
        f"network bound {bound:.2f} s; wall/bound {ratio}; {spent}"
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--overrides", type=int, default=200, help="A-overridden-by-B pairs")
    parser.add_argument("--stops", type=int, default=2000, help="started tasks to stop")
    parser.add_argument("--apps", type=int, default=1, help="Android apps to spread tasks over")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="injected API latency")
    parser.add_argument("--files", type=int, default=100, help="manifest files")
    parser.add_argument(
        "--baseline",
        type=int,
        default=200,
        help="undeclared started tasks stopped by a bare client first (0 = skip)",
    )
    parser.add_argument(
        "--no-converge", dest="converge", action="store_false", help="skip the plan after apply"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(
        f"apply_scale: {args.overrides} overrides, {args.stops} stops over {args.apps} app(s); "
        f"emulator on loopback, rate limits ON, {args.latency_ms:g} ms latency on every API path"
    )
    with tempfile.TemporaryDirectory(prefix="pushctl-apply-scale-") as tmp:
        asyncio.run(run(args, Path(tmp)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
