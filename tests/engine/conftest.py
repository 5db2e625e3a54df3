"""Fixtures for the engine tests: an in-process emulator, its clients, a SQLite state, an audit.

Everything runs on the emulator's ManualClock: the clients sign with it, and their sleeps (rate
pacing, retry backoff) move it forward instead of waiting, so no test waits on wall time.
"""

from __future__ import annotations

import itertools
import random
import textwrap
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.domain.manifest.loader import load_manifests
from reconciler.domain.manifest.models import DeclaredTask, PushctlConfig
from reconciler.domain.plan import Plan
from reconciler.domain.planner import live_fingerprint
from reconciler.emulator import AppSpec, EmulatorCore, ManualClock, create_app
from reconciler.engine.apply import ApplyOptions, ApplyReport, apply_plan
from reconciler.engine.apply_session import reread_touched
from reconciler.engine.audit_trail import AuditTrail
from reconciler.engine.planning import PlanRequest, build_plan
from reconciler.engine.refresh import RefreshMode
from reconciler.state import StateStore, open_store
from reconciler.state.audit import Provenance, Where, Who, Why
from reconciler.tpns.auth import Secret
from reconciler.tpns.client import TpnsClient
from reconciler.tpns.retry import RetryPolicy

START = datetime(2026, 11, 21, 1, 0, tzinfo=UTC)  # 09:00 in Beijing
ANDROID = "shop-android"
IOS = "shop-ios"
ACCESS_IDS = {ANDROID: "1500001048", IOS: "1600001048"}
SECRETS = {ANDROID: "secret-of-shop-android", IOS: "secret-of-shop-ios"}
PUSH_PATH = "/v3/push/app"
RECORD_PATH = "/v3/statistics/get_push_record"
MUTATING = frozenset(
    {
        PUSH_PATH,
        "/v3/push/stop_push_msg",
        "/v3/push/revoke_push_msg",
        "/v3/push/cancel_timing_task",
    }
)

CONFIG = PushctlConfig.model_validate(
    {
        "apps": {
            ANDROID: {
                "accessId": ACCESS_IDS[ANDROID],
                "platform": "android",
                "endpoint": "emulator",
                "secretKeyEnv": "SHOP_ANDROID_SECRET_KEY",
                "capabilities": {"recall": True},
            },
            IOS: {
                "accessId": ACCESS_IDS[IOS],
                "platform": "ios",
                "endpoint": "emulator",
                "secretKeyEnv": "SHOP_IOS_SECRET_KEY",
            },
        },
        "state": "sqlite:state.db",
    }
)


def push_task(
    name: str,
    *,
    app: str = ANDROID,
    state: str = "active",
    title: str | None = None,
    content: str = "Tap to see the deals.",
    send_time: str | None = None,
    audience: str = "tag",
    push_id: str | None = None,
    overridden_by: str | None = None,
    with_push: bool = True,
) -> str:
    """One PushTask document as YAML text."""
    lines = [
        "apiVersion: pushctl/v1",
        "kind: PushTask",
        "metadata:",
        f"  name: {name}",
        f"  app: {app}",
        "spec:",
        f"  state: {state}",
    ]
    if push_id is not None:
        lines.append(f'  pushId: "{push_id}"')
    if overridden_by is not None:
        lines.append(f"  overriddenBy: {overridden_by}")
    if with_push:
        lines += ["  push:", f"    audience_type: {audience}"]
        if audience == "tag":
            lines += [
                "    tag_rules:",
                "      - operator: OR",
                "        is_not: false",
                "        tag_items:",
                "          - tags: [vip]",
                "            is_not: false",
                "            tags_operator: OR",
                "            items_operator: OR",
                "            tag_type: xg_user_define",
            ]
        if app == IOS:
            lines.append("    environment: product")
        lines += [
            "    message_type: notify",
            "    message:",
            f'      title: "{title or name}"',
            f'      content: "{content}"',
        ]
        if send_time is not None:
            lines.append(f'    send_time: "{send_time}"')
    return "\n".join(lines) + "\n"


def tag_body(
    title: str, *, send_time: str | None = None, environment: str | None = None
) -> dict[str, Any]:
    """A /v3/push/app body to seed straight into the emulator (a task made outside pushctl)."""
    body: dict[str, Any] = {
        "audience_type": "tag",
        "tag_rules": [
            {
                "operator": "OR",
                "is_not": False,
                "tag_items": [
                    {
                        "tags": ["vip"],
                        "is_not": False,
                        "tags_operator": "OR",
                        "items_operator": "OR",
                        "tag_type": "xg_user_define",
                    }
                ],
            }
        ],
        "message_type": "notify",
        "message": {"title": title, "content": "Tap to see the deals."},
    }
    if send_time is not None:
        body["send_time"] = send_time
    if environment is not None:
        body["environment"] = environment
    return body


@dataclass
class Harness:
    """The emulator, clients, state and audit of one test, and helpers that drive them."""

    tmp_path: Path
    core: EmulatorCore
    store: StateStore
    config: PushctlConfig = CONFIG
    clients: dict[str, TpnsClient] = field(default_factory=dict)
    sleeps: list[float] = field(default_factory=list)
    runs: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    #: Changes applied at once; 1 makes the order of requests (and of fault draws) fixed.
    concurrency: int = 8
    manifest_dir: Path = field(init=False)

    def __post_init__(self) -> None:
        self.manifest_dir = self.tmp_path / "manifests"
        self.manifest_dir.mkdir()
        transport = httpx.ASGITransport(app=create_app(self.core, sleep=self.sleep))
        for app_key, app in self.config.apps.items():
            self.clients[app_key] = TpnsClient(
                access_id=app.access_id,
                secret=Secret(SECRETS[app_key]),
                base_url="http://127.0.0.1",
                transport=transport,
                clock=self.clock,
                sleep=self.sleep,
                rng=random.Random(7),
                retry=RetryPolicy(attempts=3, base=0.25, cap=1.0),
            )

    # -- time -----------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.core.now()

    def clock(self) -> float:
        return self.core.now().timestamp()

    async def sleep(self, seconds: float) -> None:
        # Instant: pacing and backoff move emulated time, never wall time.
        self.sleeps.append(seconds)
        if seconds > 0:
            self.core.advance_clock(seconds)

    def advance(self, seconds: float) -> None:
        self.core.advance_clock(seconds)

    # -- manifests ------------------------------------------------------------------------

    def write(self, name: str, *documents: str) -> Path:
        path = self.manifest_dir / f"{name}.yaml"
        path.write_text("---\n".join(textwrap.dedent(d) for d in documents), encoding="utf-8")
        return path

    def remove(self, name: str) -> None:
        (self.manifest_dir / f"{name}.yaml").unlink()

    def desired(self) -> list[DeclaredTask]:
        if not any(self.manifest_dir.iterdir()):
            return []
        return load_manifests([self.manifest_dir])

    # -- plan and apply -------------------------------------------------------------------

    def quotas(self) -> dict[str, Any]:
        return {key: client.quota for key, client in self.clients.items()}

    async def plan(
        self,
        *,
        refresh: RefreshMode = "auto",
        targets: frozenset[str] = frozenset(),
        desired: list[DeclaredTask] | None = None,
    ) -> Plan:
        request = PlanRequest(
            desired=self.desired() if desired is None else desired,
            config=self.config,
            state=self.store.snapshot(),
            now=self.now(),
            targets=targets,
            refresh=refresh,
        )
        return await build_plan(request, readers=self.clients, quotas=self.quotas())

    def audit(self, run_id: str) -> AuditTrail:
        provenance = Provenance(
            who=Who(user="tester"), where=Where(host="testhost"), why=Why(commit="abc123")
        )
        return AuditTrail(
            self.store.append_audit,
            run_id=run_id,
            provenance=provenance,
            plan_digest="0" * 64,
            now=self.now,
            secrets=list(SECRETS.values()),
        )

    async def apply(
        self,
        plan: Plan,
        *,
        reread: bool = True,
        concurrency: int | None = None,
        read_back_grace: Mapping[str, float] | None = None,
    ) -> ApplyReport:
        run_id = f"run-{next(self.runs)}"

        async def read_touched(p: Plan) -> Mapping[str, Any]:
            return await reread_touched(
                p,
                self.clients,
                now=self.now(),
                utc_offset="+08:00",
                state=self.store.snapshot(),
                calls=self.store.open_calls(),
            )

        options = ApplyOptions(
            run_id=run_id,
            now=self.now,
            reread=read_touched if reread else None,
            fingerprint=live_fingerprint if reread else None,
            concurrency=self.concurrency if concurrency is None else concurrency,
            read_back_grace=read_back_grace or {},
        )
        return await apply_plan(
            plan,
            clients=self.clients,
            store=self.store,
            audit=self.audit(run_id),
            options=options,
        )

    async def plan_and_apply(self, *, refresh: RefreshMode = "auto") -> tuple[Plan, ApplyReport]:
        plan = await self.plan(refresh=refresh)
        return plan, await self.apply(plan)

    # -- what the emulator saw ------------------------------------------------------------

    def ledger(self, path: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.core.ledger() if path is None or e["path"] == path]

    def pushes_titled(self, title: str) -> list[dict[str, Any]]:
        """Ledger entries of /v3/push/app calls with this title that created a task."""
        return [
            e
            for e in self.ledger(PUSH_PATH)
            if e["body"]["message"]["title"] == title and e["push_id"] is not None
        ]

    def reads_seen(self) -> int:
        counts = self.core.read_counts()
        return sum(paths.get(RECORD_PATH, 0) for paths in counts.values())

    def calls_made(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for client in self.clients.values():
            total.update(client.calls_made)
        return total

    def task(self, push_id: str) -> dict[str, Any]:
        for task in self.core.tasks():
            if str(task["pushId"]) == push_id:
                return task
        raise KeyError(push_id)

    def seed(
        self, title: str, *, app: str = ANDROID, status: str | None = None, **body: Any
    ) -> str:
        return self.core.seed_task(ACCESS_IDS[app], tag_body(title, **body), status=status)


@pytest.fixture
def core() -> EmulatorCore:
    emulator = EmulatorCore(clock=ManualClock(START))
    emulator.add_app(
        AppSpec(
            access_id=ACCESS_IDS[ANDROID],
            secret=SECRETS[ANDROID],
            platform="android",
            recall_enabled=True,
        )
    )
    emulator.add_app(AppSpec(access_id=ACCESS_IDS[IOS], secret=SECRETS[IOS], platform="ios"))
    return emulator


@pytest.fixture
async def harness(tmp_path: Path, core: EmulatorCore) -> AsyncIterator[Harness]:
    store = open_store(f"sqlite:{tmp_path / 'state.db'}", base_dir=tmp_path)
    rig = Harness(tmp_path=tmp_path, core=core, store=store)
    try:
        yield rig
    finally:
        for client in rig.clients.values():
            await client.aclose()
        store.close()
        core.close()
