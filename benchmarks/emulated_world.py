"""The world both benchmarks run in: emulated Android apps, seeded bodies, manifests, tables.

Apps, push bodies and PushTask texts are built here so that plan_scale and apply_scale measure
the same kind of input. Only the emulator's public surface (AppSpec, seed_task) is used.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

from reconciler.domain.manifest.models import PushctlConfig
from reconciler.emulator import ApiReply, AppSpec, EmulatorCore
from reconciler.emulator.faults import FaultPlan
from reconciler.tpns.auth import Secret
from reconciler.tpns.client import TpnsClient

SECRET = "bench-secret-7d1f0a"
TPNS_ZONE = timezone(timedelta(hours=8))
TPNS_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
FIRST_ACCESS_ID = 1_500_100_000

AsgiApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]


@dataclass(frozen=True)
class BenchApp:
    """One emulated Android app: its pushctl.yaml key and its AccessID."""

    key: str
    access_id: str


def bench_apps(count: int) -> list[BenchApp]:
    return [
        BenchApp(key=f"bench-android-{n}", access_id=str(FIRST_ACCESS_ID + n)) for n in range(count)
    ]


def register_apps(core: EmulatorCore, apps: Iterable[BenchApp], *, rate_limits: bool) -> None:
    for app in apps:
        core.add_app(
            AppSpec(
                access_id=app.access_id, secret=SECRET, platform="android", rate_limits=rate_limits
            )
        )


def bench_config(apps: Sequence[BenchApp], *, endpoint: str, state_file: Path) -> PushctlConfig:
    """pushctl.yaml for the apps, every one at `endpoint` (a loopback URL)."""
    return PushctlConfig.model_validate(
        {
            "apps": {
                app.key: {
                    "accessId": app.access_id,
                    "platform": "android",
                    "endpoint": endpoint,
                    "secretKeyEnv": "BENCH_SECRET_KEY",
                }
                for app in apps
            },
            "state": f"sqlite:{state_file}",
        }
    )


def tpns_client(
    app: BenchApp,
    *,
    base_url: str,
    core: EmulatorCore | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> TpnsClient:
    """A client for one app; with `core`, its clock is the emulator's, as the CLI wires an
    embedded emulator. A served emulator runs on the system clock, as TPNS does."""
    clock: Callable[[], float] = time.time
    if core is not None:
        clock = lambda: core.now().timestamp()  # noqa: E731
    return TpnsClient(
        access_id=app.access_id,
        secret=Secret(SECRET),
        base_url=base_url,
        transport=transport,
        clock=clock,
        timeout=30.0,
    )


def push_body(
    *, title: str, content: str, audience: str = "tag", send_at: datetime | None = None
) -> dict[str, Any]:
    """A /v3/push/app body of an Android notification to one tag or to all devices."""
    body: dict[str, Any] = {"audience_type": audience, "message_type": "notify"}
    if audience == "tag":
        body["tag_rules"] = [
            {
                "operator": "OR",
                "is_not": False,
                "tag_items": [
                    {
                        "tags": ["bench-subscribers"],
                        "is_not": False,
                        "tags_operator": "OR",
                        "items_operator": "OR",
                        "tag_type": "xg_user_define",
                    }
                ],
            }
        ]
    body["message"] = {
        "title": title,
        "content": content,
        "android": {"action": {"action_type": 1, "activity": "com.example.shop.Deals"}},
    }
    body["expire_time"] = 86_400
    if send_at is not None:
        body["send_time"] = send_at.astimezone(TPNS_ZONE).strftime(TPNS_TIME_FORMAT)
    return body


def adopted_manifest(
    name: str,
    app: str,
    push_id: str,
    *,
    state: str,
    overridden_by: str | None = None,
) -> str:
    """A PushTask adopting a live task (about a dozen lines, like a hand-written one)."""
    override = f"  overriddenBy: {overridden_by}\n" if overridden_by else ""
    return (
        "apiVersion: pushctl/v1\n"
        "kind: PushTask\n"
        "metadata:\n"
        f"  name: {name}\n"
        f"  app: {app}\n"
        "  labels: {team: growth, campaign: bench}\n"
        f"  annotations: {{ticket: BENCH-{push_id[-4:]}}}\n"
        "spec:\n"
        f"  state: {state}\n"
        f'  pushId: "{push_id}"\n'
        f"{override}"
    )


#: One seeded task's (desired state, TPNS status or None for not yet sent, scheduled, audience).
TaskMix = Sequence[tuple[str, str | None, bool, str]]


def seed_world(core: EmulatorCore, apps: Sequence[BenchApp], count: int, mix: TaskMix) -> list[str]:
    """Seed `count` tasks round-robin over the apps, kinds by `mix[i % len(mix)]`; return one
    adopting manifest per task."""
    now = core.now()
    documents: list[str] = []
    for i in range(count):
        app = apps[i % len(apps)]
        state, status, scheduled, audience = mix[i % len(mix)]
        created = now - timedelta(days=i % 25, hours=1, seconds=i % 3600)
        send_at = now + timedelta(days=1 + i % 29, minutes=i % 600) if scheduled else None
        body = push_body(
            title=f"Deal {i}", content=f"Offer {i} ends soon", audience=audience, send_at=send_at
        )
        push_id = core.seed_task(app.access_id, body, status=status, created_at=created)
        documents.append(adopted_manifest(f"task-{i:06d}", app.key, push_id, state=state))
    return documents


def created_manifest(name: str, app: str, *, title: str, content: str) -> str:
    """A PushTask that pushctl creates (tag audience, immediate)."""
    return (
        "apiVersion: pushctl/v1\n"
        "kind: PushTask\n"
        "metadata:\n"
        f"  name: {name}\n"
        f"  app: {app}\n"
        "  labels: {team: growth, campaign: bench}\n"
        "spec:\n"
        "  state: active\n"
        "  push:\n"
        "    audience_type: tag\n"
        "    tag_rules:\n"
        "      - operator: OR\n"
        "        is_not: false\n"
        "        tag_items:\n"
        "          - tags: [bench-subscribers]\n"
        "            is_not: false\n"
        "            tags_operator: OR\n"
        "            items_operator: OR\n"
        "            tag_type: xg_user_define\n"
        "    message_type: notify\n"
        "    message:\n"
        f'      title: "{title}"\n'
        f'      content: "{content}"\n'
        "      android:\n"
        "        action: {action_type: 1, activity: com.example.shop.Deals}\n"
        "    expire_time: 86400\n"
    )


def write_manifest_files(folder: Path, documents: Sequence[str], *, files: int) -> list[Path]:
    """Spread the documents over `files` YAML files of several documents each."""
    folder.mkdir(parents=True, exist_ok=True)
    count = max(1, min(files, len(documents)))
    per_file = -(-len(documents) // count)
    paths: list[Path] = []
    for index in range(0, len(documents), per_file):
        path = folder / f"tasks-{index // per_file:04d}.yaml"
        path.write_text("---\n".join(documents[index : index + per_file]), encoding="utf-8")
        paths.append(path)
    return paths


class MeteredCore(EmulatorCore):
    """An emulator core that adds up the CPU time its API calls take, in whichever thread.

    The ASGI app runs `handle` in worker threads, so `time.process_time()` of the process
    includes it; this is the emulator's share, to subtract.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cpu_seconds = 0.0
        self._meter_lock = threading.Lock()

    def handle(
        self, path: str, headers: Mapping[str, str], body: bytes, *, fault: str | None = None
    ) -> ApiReply:
        started = time.thread_time()
        try:
            return super().handle(path, headers, body, fault=fault)
        finally:
            self._add(time.thread_time() - started)

    def take_faults(self, path: str) -> FaultPlan:
        started = time.thread_time()
        try:
            return super().take_faults(path)
        finally:
            self._add(time.thread_time() - started)

    def _add(self, seconds: float) -> None:
        with self._meter_lock:
            self.cpu_seconds += seconds


class CpuMeter:
    """An ASGI wrapper that adds up the CPU time the wrapped app spends in the caller's thread.

    With an in-process transport the emulator's HTTP layer shares pushctl's thread; together
    with `MeteredCore` this separates the emulator's share of `time.process_time()`.
    """

    def __init__(self, app: AsgiApp) -> None:
        self.app = app
        self.seconds = 0.0

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        started = time.thread_time()
        try:
            await self.app(scope, receive, send)
        finally:
            self.seconds += time.thread_time() - started


def print_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """A plain fixed-width table; numbers right-aligned."""
    cells = [[str(h) for h in headers], *([_cell(v) for v in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print("  ".join(text.rjust(width) for text, width in zip(row, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * width for width in widths))


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    return str(value)
