"""Child processes as the OS sees them: a served emulator, and commands measured by `wait4`.

`os.wait4` gives each child's own CPU and peak RSS, so one child's figures never mix with the
emulator's or an earlier child's (as `RUSAGE_CHILDREN`'s running maximum would).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass(frozen=True)
class ChildRun:
    returncode: int
    #: User + system CPU seconds of the child alone.
    cpu: float
    peak_mb: float
    wall: float
    stdout: str
    stderr: str


def run_child(argv: list[str], *, cwd: Path, env: dict[str, str]) -> ChildRun:
    """Run a command to its end; its output goes through files so that `wait4` can reap it."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return ChildRun(
            returncode=process.returncode,
            cpu=usage.ru_utime + usage.ru_stime,
            # Linux reports ru_maxrss in KiB.
            peak_mb=usage.ru_maxrss / 1024,
            wall=wall,
            stdout=out.read().decode("utf-8"),
            stderr=err.read().decode("utf-8", errors="replace"),
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServedEmulator:
    """`pushctl emulator serve` on a loopback port, over a SQLite file seeded beforehand."""

    base_url: str
    process: subprocess.Popen[bytes]
    client: httpx.Client

    @classmethod
    def start(cls, db: Path, *, apps: list[str], rate_limits: bool) -> ServedEmulator:
        port = free_port()
        command = [sys.executable, "-m", "reconciler", "emulator", "serve"]
        command += ["--port", str(port), "--db", str(db)]
        for app in apps:
            command += ["--app", app]
        if not rate_limits:
            command.append("--no-rate-limits")
        # A file, not a pipe: a full pipe would stall a chatty server mid-benchmark.
        log = (db.parent / "emulator.log").open("wb")
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        base_url = f"http://127.0.0.1:{port}"
        client = httpx.Client(base_url=base_url, timeout=30)
        deadline = time.monotonic() + 60
        while True:
            try:
                client.get("/_emulator/clock")
                return cls(base_url=base_url, process=process, client=client)
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    error = (db.parent / "emulator.log").read_text(errors="replace")
                    raise SystemExit(f"the emulator did not start: {error}") from None
                time.sleep(0.1)

    def reads(self) -> int:
        """Statistics calls (get_push_record) the emulator accepted in the last hour."""
        counts = self.client.get("/_emulator/reads").json()["reads"]
        return sum(n for per_app in counts.values() for n in per_app.values())

    def stop(self) -> None:
        self.client.close()
        self.process.terminate()
        self.process.wait(timeout=10)
