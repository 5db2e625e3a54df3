"""The duplicate guard: never plan a push for a task whose push is already live.

State is the fast path, not the only memory. Before the planner sends a push for a task that
state does not tie to a push id (a lost state file, `state rm`, a fresh CI runner), it looks
among the app's live tasks, which refresh lists within TPNS's one-month record horizon, for
one with the same content that no other address claims:
- a forgotten task's tombstone is restored by address, whatever TPNS still shows;
- one unclaimed match per such task is adopted (no call), with a warning;
- more such tasks than matches, or matches that cannot be told apart: an error, no call;
- no listing (quota spent, TPNS unreachable): an error, unless the user accepts the risk.
Pure: refresh does the reading and hands the result in as `LiveCatalog`s.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reconciler.domain.body import tpns_body
from reconciler.domain.manifest.models import DeclaredTask
from reconciler.domain.recognition import same_content, same_details
from reconciler.records import LiveTask, StateSnapshot, TaskBinding

#: The flag that names the risk of planning a push the guard could not check.
ACCEPT_RISK_FLAG = "--accept-duplicate-risk"


@dataclass(frozen=True)
class LiveCatalog:
    """One app's live tasks within TPNS's record horizon, or why they could not be listed."""

    tasks: tuple[LiveTask, ...] = ()
    #: The oldest date the listing covers: a push sent before it cannot be recognised.
    since: datetime | None = None
    #: Why the app's tasks could not be listed; empty when they were.
    unavailable: str = ""


@dataclass(frozen=True)
class GuardOptions:
    catalogs: Mapping[str, LiveCatalog] = field(default_factory=dict)
    #: Plan pushes the guard could not check (the user passed ACCEPT_RISK_FLAG).
    accept_risk: bool = False


@dataclass(frozen=True)
class Recognised:
    """A task state did not know, tied to a live push: a tombstone or a content match."""

    address: str
    binding: TaskBinding
    live: LiveTask | None
    why: str


@dataclass
class GuardVerdict:
    recognised: dict[str, Recognised] = field(default_factory=dict)
    #: Address -> (diagnostic code, message): no push may be planned for it.
    refused: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: Address -> message: planned without a check, at the user's risk.
    unchecked: dict[str, str] = field(default_factory=dict)


def needs_guard(declared: DeclaredTask, state: StateSnapshot) -> bool:
    """A task with content that state does not tie to a push id: it may be live unknown to us."""
    spec = declared.task.spec
    return (
        spec.push is not None
        and spec.push_id is None
        and declared.address not in state.bindings
        and declared.address not in state.tombstones
    )


def restored_push_ids(desired: Sequence[DeclaredTask], state: StateSnapshot) -> dict[str, str]:
    """Address -> push id of each declared task that state only knows as forgotten."""
    return {
        d.address: state.tombstones[d.address].push_id
        for d in desired
        if d.task.spec.push_id is None
        and d.address not in state.bindings
        and d.address in state.tombstones
    }


def guard(
    desired: Sequence[DeclaredTask],
    state: StateSnapshot,
    live: Mapping[str, LiveTask],
    options: GuardOptions,
    *,
    utc_offset: str,
) -> GuardVerdict:
    verdict = GuardVerdict()
    for address in restored_push_ids(desired, state):
        tombstone = state.tombstones[address]
        verdict.recognised[address] = Recognised(
            address,
            tombstone,
            live.get(address),
            f"{address} was forgotten while bound to push {tombstone.push_id}; bind it again",
        )
    by_app: dict[str, list[DeclaredTask]] = defaultdict(list)
    for declared in desired:
        if needs_guard(declared, state):
            by_app[declared.task.metadata.app].append(declared)
    claimed = _claimed(desired, state, live)
    for app, unbound in sorted(by_app.items()):
        catalog = options.catalogs.get(app)
        if catalog is None:
            continue  # an app missing from pushctl.yaml: the planner says so
        bodies = {d.address: tpns_body(d, utc_offset=utc_offset) for d in unbound}
        if catalog.unavailable:
            _cannot_look(verdict, bodies, catalog.unavailable, accept_risk=options.accept_risk)
            continue
        candidates = [t for t in catalog.tasks if t.push_id not in claimed]
        _match(verdict, app, bodies, candidates)
    return verdict


def _claimed(
    desired: Sequence[DeclaredTask], state: StateSnapshot, live: Mapping[str, LiveTask]
) -> set[str]:
    """Push ids some address already owns: bound, forgotten, or declared as `pushId`."""
    owned = {b.push_id for b in (*state.bindings.values(), *state.tombstones.values())}
    owned |= {d.task.spec.push_id for d in desired if d.task.spec.push_id is not None}
    return owned | {task.push_id for task in live.values()}


def _cannot_look(
    verdict: GuardVerdict, bodies: Mapping[str, Any], why: str, *, accept_risk: bool
) -> None:
    for address in bodies:
        if accept_risk:
            verdict.unchecked[address] = (
                f"{address}: not checked for an earlier send of the same push ({why}); planned "
                f"anyway because of {ACCEPT_RISK_FLAG}: if it was sent before, it goes out twice"
            )
        else:
            verdict.refused[address] = (
                "guard.unavailable",
                f"{address}: pushctl has no record of sending it and cannot check TPNS for an "
                f"earlier send ({why}); nothing will be sent. Run plan again when TPNS answers, "
                f'declare `pushId: "..."` if it was sent, or pass {ACCEPT_RISK_FLAG} to send '
                "without the check",
            )


def _match(
    verdict: GuardVerdict,
    app: str,
    bodies: Mapping[str, dict[str, Any]],
    candidates: Sequence[LiveTask],
) -> None:
    """Pair tasks with unclaimed live pushes of the same content; refuse what is ambiguous."""
    groups: dict[frozenset[str], list[str]] = defaultdict(list)
    by_id = {t.push_id: t for t in candidates}
    for address, body in sorted(bodies.items()):
        found = frozenset(t.push_id for t in candidates if same_content(body, t))
        if found:
            groups[found].append(address)
    for push_ids, addresses in groups.items():
        pairs = _pair(addresses, [by_id[p] for p in push_ids], bodies)
        if pairs is None:
            _ambiguous(verdict, app, addresses, sorted(push_ids))
            continue
        for address, task in pairs.items():
            verdict.recognised[address] = _recognised(address, app, task, bodies[address])


def _pair(
    addresses: list[str], tasks: list[LiveTask], bodies: Mapping[str, dict[str, Any]]
) -> dict[str, LiveTask] | None:
    """One live task per address, or None when they cannot be told apart."""
    if len(addresses) == len(tasks) == 1:
        return {addresses[0]: tasks[0]}
    # Same title and content: tell them apart by the platform options TPNS echoes.
    pairs: dict[str, LiveTask] = {}
    for address in addresses:
        fits = [t for t in tasks if same_details(bodies[address], t)]
        if len(fits) != 1:
            return None
        pairs[address] = fits[0]
    distinct = len({t.push_id for t in pairs.values()}) == len(pairs)
    return pairs if distinct and len(pairs) == len(tasks) else None


def _ambiguous(verdict: GuardVerdict, app: str, addresses: list[str], push_ids: list[str]) -> None:
    tasks = ", ".join(addresses)
    ids = ", ".join(push_ids)
    for address in addresses:
        verdict.refused[address] = (
            "guard.ambiguous",
            f"pushctl has no record of sending {tasks}, and app {app} has live push(es) {ids} "
            "with the same content that no task claims: pushctl cannot tell which were sent, "
            "so nothing will be sent. Declare `pushId:` on each task that was sent; a task "
            "left without one is then matched again, and sent only if no push is left for it",
        )


def _recognised(address: str, app: str, task: LiveTask, body: dict[str, Any]) -> Recognised:
    binding = TaskBinding(
        address=address,
        app=app,
        push_id=task.push_id,
        created_by_pushctl=True,
        last_status=task.status,
        date=task.date,
        collapse_id=task.collapse_id,
        body=body,
    )
    when = task.date.strftime("%Y-%m-%d %H:%M %z")
    why = (
        f"pushctl has no record of sending {address}, but push {task.push_id} ({when}, "
        f"{task.status.value}) has its content and no task claims it: adopting it instead of "
        "sending the push again"
    )
    return Recognised(address, binding, task, why)
