"""Child processes as the OS sees them: a served emulator, and commands measured by `wait4`.

`os.wait4` gives each child's own CPU and peak RSS, so one child's figures never mix with the
emulator's or an earlier child's (as `RUSAGE_CHILDREN`'s running maximum would); the children
are started by a small spawner process so that their peak RSS is their own (see SPAWNER).
"""

from __future__ import annotations

import compileall
import json
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

import reconciler


@dataclass(frozen=True)
class ChildRun:
    returncode: int
    #: User + system CPU seconds of the child alone.
    cpu: float
    peak_mb: float
    wall: float
    stdout: str
    stderr: str


#: A small process that starts each measured command and reports its rusage (one JSON line
#: per command). Linux folds the memory image a child had before `exec` into its ru_maxrss, and
#: a child forked from the benchmark process would inherit the benchmark's size; forked from
#: this spawner it inherits only the spawner's few megabytes.
SPAWNER = """
import json, os, subprocess, sys, time
for line in sys.stdin:
    job = json.loads(line)
    with open(job["stdout"], "wb") as out, open(job["stderr"], "wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            job["argv"], cwd=job["cwd"], env=job["env"], stdout=out, stderr=err
        )
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    reply = {"returncode": process.returncode, "cpu": usage.ru_utime + usage.ru_stime,
             "maxrss_kib": usage.ru_maxrss, "wall": time.perf_counter() - started}
    print(json.dumps(reply), flush=True)
"""


class Spawner:
    """Runs commands to their end from a small helper process; see SPAWNER."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", SPAWNER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, argv: list[str], *, cwd: Path, env: dict[str, str]) -> ChildRun:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        with tempfile.TemporaryDirectory(prefix="pushctl-child-") as tmp:
            out, err = Path(tmp) / "stdout", Path(tmp) / "stderr"
            job = {
                "argv": argv,
                "cwd": str(cwd),
                "env": env,
                "stdout": str(out),
                "stderr": str(err),
            }
            self.process.stdin.write(json.dumps(job) + "\n")
            self.process.stdin.flush()
            reply = json.loads(self.process.stdout.readline())
            return ChildRun(
                returncode=int(reply["returncode"]),
                cpu=float(reply["cpu"]),
                # Linux reports ru_maxrss in KiB.
                peak_mb=reply["maxrss_kib"] / 1024,
                wall=float(reply["wall"]),
                stdout=out.read_text(encoding="utf-8"),
                stderr=err.read_text(encoding="utf-8", errors="replace"),
            )

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


def compile_package() -> None:
    """Write the bytecode of `reconciler` beside its sources, as installing a wheel does.

    An editable checkout is read from source, and where PYTHONDONTWRITEBYTECODE is set (as on
    some CI machines) every measured command would compile each of its modules again: about
    0.1 s that no installed copy spends. compileall writes whatever that setting says and
    skips the files that are current.
    """
    compileall.compile_dir(Path(reconciler.__file__).parent, quiet=1)


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
