"""Seeded tamper trials on the audit table: every one is caught with the key and a checkpoint.

1,000 trials on SQLite and 200 on PostgreSQL, each a random strategy of `audit_tamper.py`
applied to an intact keyed log of 3 to 12 records, written straight into the table by someone
without the key. One trial in ten writes the log back untouched and must verify: a verify that
failed everything would not pass.
"""

from __future__ import annotations

import random
import sqlite3
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from reconciler.state import AuditEntry, AuditHead, Result, StateStore, What, Where, Who, Why
from reconciler.state import open_store as open_state_store
from reconciler.state.audit import AuditRow

from .audit_tamper import STRATEGIES, Tampered, write_rows

KEY = b"audit-key-for-tamper-trials-0001"
SEED = 20261129
TEMPLATE_SIZE = 12
Run = Callable[[str, Sequence[Any]], object]


def template_log(store: StateStore) -> None:
    """An intact keyed log of TEMPLATE_SIZE varied records; its prefixes are intact logs too."""
    store.use_audit_key(KEY)
    start = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    for n in range(TEMPLATE_SIZE):
        kind = ("intent", "outcome", "state")[n % 3]
        store.append_audit(
            AuditEntry(
                kind=kind,
                run_id=f"run-{n // 4}",
                who=Who(user="ci", ci_actor="octocat"),
                where=Where(host="runner"),
                why=Why(commit="c0ffee", plan_digest="sha256:plan"),
                what=What(
                    action="create",
                    address=f"shop-android/task-{n % 5}" if n % 4 else None,
                    push_id=str(1000 + n),
                    request={"path": "/v3/push/app", "body": {"title": f"T{n}"}},
                ),
                when=start + timedelta(seconds=n),
                result=None if kind == "intent" else Result(ret_code=0, err_msg=""),
            )
        )


@dataclass
class Figures:
    trials: int = 0
    detected: int = 0
    controls: int = 0
    #: Caught with the key alone (no checkpoint), and with neither: figures, for the record.
    keyed_detected: int = 0
    keyless_detected: int = 0
    by_strategy: Counter[str] = field(default_factory=Counter)
    missed: list[str] = field(default_factory=list)


def run_trials(store: StateStore, run: Run, rows: list[AuditRow], *, trials: int) -> Figures:
    """`trials` tamper trials (plus one control per ten), each on a prefix of `rows`."""
    rng = random.Random(SEED)
    figures = Figures()
    names = sorted(STRATEGIES)
    for number in range(trials + trials // 10):
        size = rng.randint(3, len(rows))
        intact = rows[:size]
        head = (size, intact[-1].hash)
        checkpoint = AuditHead(seq=size, hash=intact[-1].hash)
        if number % 11 == 10:
            write_rows(run, Tampered(intact, fix_meta=False), head=head)
            store.use_audit_key(KEY)
            verdict = store.verify_audit(expect_head=checkpoint)
            assert verdict.ok, f"control trial {number} failed: {verdict.detail}"
            figures.controls += 1
            continue
        name = rng.choice(names)
        write_rows(run, STRATEGIES[name](intact, rng), head=head)
        figures.trials += 1
        figures.by_strategy[name] += 1
        store.use_audit_key(KEY)
        if store.verify_audit(expect_head=checkpoint).ok:
            figures.missed.append(f"trial {number}: {name} on {size} records")
        else:
            figures.detected += 1
        figures.keyed_detected += not store.verify_audit().ok
        store.use_audit_key(None)
        figures.keyless_detected += not store.verify_audit().ok
    return figures


def full_rows(store: StateStore, read: Callable[[str], list[tuple[Any, ...]]]) -> list[AuditRow]:
    template_log(store)
    return [
        AuditRow(seq=seq, prev_hash=prev, hash=h, address=address, body=body, mac=mac)
        for seq, prev, h, address, body, mac in read(
            "SELECT seq, prev_hash, hash, address, body, mac FROM pushctl_audit ORDER BY seq"
        )
    ]


def assert_all_caught(figures: Figures, trials: int) -> None:
    assert figures.trials == trials
    assert figures.missed == []
    assert figures.detected == trials
    assert set(figures.by_strategy) == set(STRATEGIES)  # every strategy was tried
    # Without the key and a checkpoint, a rehashed rewrite or a cut tail passes: that is why
    # the key exists. Some trials must be of that kind, or this run proved nothing about MACs.
    assert figures.keyless_detected < figures.keyed_detected < trials


def test_a_thousand_tamper_trials_on_sqlite_are_all_caught(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = open_state_store(f"sqlite:{path}", base_dir=tmp_path)
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA synchronous=OFF")  # a throwaway file: no need to wait for the disk

        def read(sql: str) -> list[tuple[Any, ...]]:
            return conn.execute(sql).fetchall()

        rows = full_rows(store, read)
        transaction: list[tuple[str, Sequence[Any]]] = []

        def run(sql: str, params: Sequence[Any]) -> None:
            transaction.append((sql, params))
            if sql.startswith("UPDATE pushctl_meta SET value = ? WHERE key = 'audit_hash'"):
                conn.execute("BEGIN IMMEDIATE")
                for statement, values in transaction:
                    conn.execute(statement, values)
                conn.execute("COMMIT")
                transaction.clear()

        figures = run_trials(store, run, rows, trials=1000)
    store.close()
    assert_all_caught(figures, 1000)


def test_two_hundred_tamper_trials_on_postgresql_are_all_caught(
    postgres_url: str, tmp_path: Path
) -> None:
    store = open_state_store(postgres_url, base_dir=tmp_path)
    with psycopg.connect(postgres_url) as conn:

        def read(sql: str) -> list[tuple[Any, ...]]:
            with conn.transaction():
                return conn.execute(sql).fetchall()

        rows = full_rows(store, read)
        statements: list[tuple[str, Sequence[Any]]] = []

        def run(sql: str, params: Sequence[Any]) -> None:
            statements.append((sql.replace("?", "%s"), params))
            if "key = 'audit_hash'" in sql:
                with conn.transaction():
                    for statement, values in statements:
                        conn.execute(statement, values)
                statements.clear()

        figures = run_trials(store, run, rows, trials=200)
    store.close()
    assert_all_caught(figures, 200)
