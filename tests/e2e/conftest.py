"""End-to-end fixtures: the real `pushctl` command against `pushctl emulator serve` on loopback."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from reconciler.tpns.auth import Secret, sign

PUSHCTL = [sys.executable, "-m", "reconciler"]
ANDROID_ID = "1500001048"
IOS_ID = "1600001048"
CANARY = "canary-secret-5f0c1e9d2b7a"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Emulator:
    base_url: str
    process: subprocess.Popen[bytes]
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.base_url, timeout=10)

    def admin(self, method: str, path: str, json: Any = None) -> Any:
        reply = self.client.request(method, f"/_emulator{path}", json=json)
        reply.raise_for_status()
        return reply.json() if reply.content else None

    def ledger(self) -> list[dict[str, Any]]:
        data = self.admin("GET", "/ledger")
        return list(data["ledger"] if isinstance(data, dict) else data)

    def tasks(self) -> list[dict[str, Any]]:
        data = self.admin("GET", "/tasks")
        return list(data["tasks"] if isinstance(data, dict) else data)

    def stop_out_of_band(self, access_id: str, push_id: str) -> int:
        """Terminate a task as someone in the TPNS console would: not through pushctl."""
        body = json.dumps({"pushId": push_id}).encode()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "AccessId": access_id,
            "TimeStamp": str(timestamp),
            "Sign": sign(Secret(CANARY), timestamp=timestamp, access_id=access_id, body=body),
        }
        reply = self.client.post("/v3/push/stop_push_msg", content=body, headers=headers)
        return int(reply.json()["ret_code"])

    def seed(self, access_id: str, body: dict[str, Any], **extra: Any) -> str:
        return str(
            self.admin("POST", "/tasks", {"access_id": access_id, "body": body, **extra})["push_id"]
        )


@contextmanager
def served_emulator(db: Path, *, ios: bool = True, recall: bool = False) -> Iterator[Emulator]:
    """`pushctl emulator serve` on a free loopback port, until the block ends."""
    apps = ["--app", f"{ANDROID_ID}:{CANARY}:android"]
    if ios:
        apps += ["--app", f"{IOS_ID}:{CANARY}:ios"]
    if recall:
        apps.append("--recall")
    port = free_port()
    command = [*PUSHCTL, "emulator", "serve", "--port", str(port), "--db", str(db), *apps]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(f"{base_url}/_emulator/clock", timeout=1)
            break
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                err = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"emulator did not start: {err}") from None
            time.sleep(0.05)
    emu = Emulator(base_url=base_url, process=process)
    try:
        yield emu
    finally:
        emu.client.close()
        process.terminate()
        process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    with served_emulator(tmp_path / "emulator.db") as emu:
        yield emu


@dataclass
class Project:
    root: Path
    emulator: Emulator

    @property
    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GITHUB_", "GITLAB", "PUSHCTL_")) and k != "CI"
        }
        env.update({"SHOP_ANDROID_SECRET_KEY": CANARY, "SHOP_IOS_SECRET_KEY": CANARY})
        return env

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def run(
        self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*PUSHCTL, *args],
            cwd=self.root,
            env={**self.env, **(env or {})},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [*PUSHCTL, *args],
            cwd=self.root,
            env={**self.env, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


def config_yaml(base_url: str, *, recall: bool = False) -> str:
    return f"""\
apps:
  shop-android:
    accessId: "{ANDROID_ID}"
    platform: android
    endpoint: {base_url}
    secretKeyEnv: SHOP_ANDROID_SECRET_KEY
    capabilities: {{recall: {str(recall).lower()}}}
    readBackGraceSeconds: 0     # the emulator lists a task as soon as it answers
  shop-ios:
    accessId: "{IOS_ID}"
    platform: ios
    endpoint: {base_url}
    secretKeyEnv: SHOP_IOS_SECRET_KEY
    readBackGraceSeconds: 0
state: sqlite:.pushctl/state.db
"""


@pytest.fixture
def project(tmp_path: Path, emulator: Emulator) -> Project:
    root = tmp_path / "repo"
    root.mkdir()
    proj = Project(root=root, emulator=emulator)
    proj.write("pushctl.yaml", config_yaml(emulator.base_url))
    return proj


def reads_seen(emulator: Emulator) -> int:
    """get_push_record calls the emulator accepted in the last hour, over every app."""
    counts = emulator.admin("GET", "/reads")["reads"]
    return sum(n for per_app in counts.values() for n in per_app.values())


@pytest.fixture(scope="session")
def e2e_postgres_server() -> Iterator[Any]:
    """A throw-away PostgreSQL (from the pgserver wheel) for state shared between runners."""
    root = Path(tempfile.mkdtemp(prefix="pushctl-e2e-pg-"))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
        from pgserver.postgres_server import get_server

        handle = get_server(root / "pgdata", cleanup_mode="delete")
    try:
        yield handle
    finally:
        handle.cleanup()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def e2e_postgres_url(e2e_postgres_server: Any, request: pytest.FixtureRequest) -> str:
    """A new, empty database for this test on the shared server."""
    name = "e2e_" + "".join(c if c.isalnum() else "_" for c in request.node.name)[-50:].lower()
    with psycopg.connect(str(e2e_postgres_server.get_uri()), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    return str(e2e_postgres_server.get_uri(database=name))
