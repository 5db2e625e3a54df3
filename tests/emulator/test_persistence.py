"""A SQLite file shares apps, tasks, ledger, counters, faults and the clock offset between cores."""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path

from reconciler.emulator import AppSpec, EmulatorCore, ManualClock, SystemClock
from reconciler.emulator.store import LAST_BROADCAST_SQL, REPEAT_SQL

from .conftest import ANDROID, START, call_core, notify, signed_headers


def test_two_cores_on_one_file_see_the_same_state(tmp_path: Path) -> None:
    db = tmp_path / "tpns.db"
    first = EmulatorCore(db, clock=ManualClock(START))
    first.add_app(ANDROID)
    pushed = call_core(first, "/v3/push/app", notify("token"))
    first.set_faults([{"path": "/v3/push/cancel_timing_task", "kind": "drop", "count": 3}], seed=1)
    second = EmulatorCore(db, clock=ManualClock(START))
    assert pushed == 0
    assert second.app(ANDROID.access_id) == ANDROID
    assert [t["pushId"] for t in second.tasks()] == ["100000001"]
    assert len(second.ledger()) == 1
    assert second.faults()[0]["count"] == 3
    assert call_core(second, "/v3/push/app", notify("account")) == 0
    assert [t["pushId"] for t in first.tasks()] == ["100000002", "100000001"]  # shared counter
    first.close()
    second.close()


def test_interleaved_writers_keep_every_call(tmp_path: Path) -> None:
    db = tmp_path / "tpns.db"
    cores = [EmulatorCore(db, clock=ManualClock(START)) for _ in range(2)]
    cores[0].add_app(ANDROID)
    for n in range(10):
        assert call_core(cores[n % 2], "/v3/push/app", notify("token")) == 0
    assert [e["seq"] for e in cores[1].ledger()] == list(range(1, 11))
    assert len({t["pushId"] for t in cores[0].tasks()}) == 10


def test_system_clock_offset_is_persisted(tmp_path: Path) -> None:
    db = tmp_path / "tpns.db"
    first = EmulatorCore(db)
    second = EmulatorCore(db, clock=SystemClock())
    before = second.now()
    first.advance_clock(7200)
    shifted = second.now()
    assert 7199 < (shifted - before).total_seconds() < 7300
    third = EmulatorCore(db)
    assert 7199 < (third.now() - before).total_seconds() < 7300
    third.reset()
    assert (first.now() - before).total_seconds() < 100


def test_a_pushed_task_moves_with_the_shared_clock(tmp_path: Path) -> None:
    db = tmp_path / "tpns.db"
    writer = EmulatorCore(db)
    writer.add_app(ANDROID)
    body = json.dumps(notify()).encode()
    headers = signed_headers(ANDROID, body, int(writer.now().timestamp()))
    assert writer.handle("/v3/push/app", headers, body).payload["ret_code"] == 0
    reader = EmulatorCore(db)
    assert reader.tasks()[0]["status"] == "PUSH_STARTED"
    writer.advance_clock(61)
    assert reader.tasks()[0]["status"] == "PUSH_FINISHED"


def test_a_direct_clock_move_holds_until_another_core_moves_the_shared_clock(
    tmp_path: Path,
) -> None:
    db = tmp_path / "tpns.db"
    first, second = EmulatorCore(db), EmulatorCore(db)
    first.advance_clock(100)
    start = second.now()
    second.clock.advance(50)  # local only: not written to the file
    assert 49 < (second.now() - start).total_seconds() < 60
    first.advance_clock(1000)
    assert 1000 < (second.now() - start).total_seconds() < 1010


def _file_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


def test_a_secret_kept_out_of_the_file_authenticates_only_in_memory(tmp_path: Path) -> None:
    db = tmp_path / "emulator.db"
    real = AppSpec(ANDROID.access_id, "real-secret-0123456789abcdef", "android")
    first = EmulatorCore(db, clock=ManualClock(START))
    first.add_app(real, persist_secret=False)
    assert call_core(first, "/v3/push/app", notify("token"), app=real) == 0
    assert b"real-secret-0123456789abcdef" not in _file_bytes(db)
    second = EmulatorCore(db, clock=ManualClock(START))
    # Another core on the file cannot check a signature, but can check Basic credentials.
    assert call_core(second, "/v3/push/app", notify("token"), app=real) == 1008003
    basic = base64.b64encode(f"{real.access_id}:{real.secret}".encode()).decode()
    raw = json.dumps(notify("token")).encode()
    reply = second.handle("/v3/push/app", {"Authorization": f"Basic {basic}"}, raw).payload
    assert reply["ret_code"] == 0
    wrong = base64.b64encode(f"{real.access_id}:guess".encode()).decode()
    reply = second.handle("/v3/push/app", {"Authorization": f"Basic {wrong}"}, raw).payload
    assert reply["ret_code"] == 1008003
    first.close()
    second.close()


def test_a_secret_an_older_file_kept_is_scrubbed_on_the_next_registration(tmp_path: Path) -> None:
    db = tmp_path / "emulator.db"
    real = AppSpec(ANDROID.access_id, "real-secret-0123456789abcdef", "android")
    older = EmulatorCore(db, clock=ManualClock(START))
    older.add_app(real)  # what the embedded emulator used to write
    older.close()
    assert b"real-secret-0123456789abcdef" in _file_bytes(db)
    core = EmulatorCore(db, clock=ManualClock(START))
    core.add_app(real, persist_secret=False)
    assert b"real-secret-0123456789abcdef" not in _file_bytes(db)
    core.close()


def test_rate_limit_lookups_use_one_index_probe_however_many_tasks(tmp_path: Path) -> None:
    db = tmp_path / "tpns.db"
    EmulatorCore(db).close()
    conn = sqlite3.connect(db)
    try:
        broadcast = conn.execute("EXPLAIN QUERY PLAN " + LAST_BROADCAST_SQL, ("1",)).fetchall()
        repeat = conn.execute("EXPLAIN QUERY PLAN " + REPEAT_SQL, ("1", "t", "c", 0)).fetchall()
        mode = conn.execute("PRAGMA journal_mode").fetchone()
    finally:
        conn.close()
    assert "USING INDEX tasks_broadcast" in broadcast[0][-1]
    assert "USING INDEX tasks_to_all" in repeat[0][-1]
    assert mode == ("wal",)
