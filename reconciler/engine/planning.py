"""From loaded manifests to a Plan: refresh the live tasks, then call the pure planner."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from reconciler import __version__
from reconciler.domain.duplicate_guard import GuardOptions
from reconciler.domain.manifest.loader import input_digest
from reconciler.domain.manifest.models import DeclaredTask, PushctlConfig
from reconciler.domain.plan import ApiUsage, Diagnostic, Plan
from reconciler.domain.planner import PlanOptions, plan
from reconciler.engine.intents import preview_open_intents
from reconciler.engine.refresh import QuotaView, RecordReader, RefreshMode, refresh_live_tasks
from reconciler.records import StateSnapshot


@dataclass(frozen=True)
class PlanRequest:
    desired: Sequence[DeclaredTask]
    config: PushctlConfig
    state: StateSnapshot
    now: datetime
    targets: frozenset[str] = frozenset()
    refresh: RefreshMode = "auto"
    extra_diagnostics: tuple[Diagnostic, ...] = ()
    #: Plan pushes even when the duplicate guard cannot look at the live tasks.
    accept_duplicate_risk: bool = False


def with_dependencies(desired: Sequence[DeclaredTask], targets: frozenset[str]) -> frozenset[str]:
    """Targets plus the tasks they override or are overridden by (same app)."""
    if not targets:
        return targets
    by_address = {t.address: t for t in desired}
    selected = set(targets)
    changed = True
    while changed:
        changed = False
        for task in desired:
            partner = task.task.spec.overridden_by
            if partner is None:
                continue
            other = f"{task.task.metadata.app}/{partner}"
            pair = {task.address, other}
            if pair & selected and not pair <= selected and other in by_address:
                selected |= pair
                changed = True
    return frozenset(selected)


async def build_plan(
    request: PlanRequest,
    *,
    readers: Mapping[str, RecordReader],
    quotas: Mapping[str, QuotaView],
) -> Plan:
    targets = with_dependencies(request.desired, request.targets)
    to_read = [t for t in request.desired if not targets or t.address in targets]
    before = {app: Counter(reader.calls_made) for app, reader in readers.items()}
    state = await preview_open_intents(
        request.state, readers, now=lambda: request.now, utc_offset=request.config.tpns_utc_offset
    )
    preview_calls: Counter[str] = Counter()
    for app, reader in readers.items():
        preview_calls.update(reader.calls_made - before[app])
    refreshed = await refresh_live_tasks(
        to_read,
        state,
        readers,
        quotas,
        now=request.now,
        mode=request.refresh,
        utc_offset=request.config.tpns_utc_offset,
    )
    options = PlanOptions(
        config=request.config,
        tool_version=__version__,
        targets=targets,
        api_usage=ApiUsage(
            calls=dict(refreshed.calls + preview_calls),
            # Each open intent looked up costs at least one read.
            lower_bound=refreshed.lower_bound
            + sum(1 for i in request.state.open_intents if i.app in readers),
        ),
        input_digest=input_digest(request.desired),
        guard=GuardOptions(catalogs=refreshed.catalogs, accept_risk=request.accept_duplicate_risk),
    )
    result = plan(request.desired, refreshed.live, state, request.now, options)
    if request.extra_diagnostics:
        diagnostics = (*request.extra_diagnostics, *result.diagnostics)
        result = result.model_copy(update={"diagnostics": diagnostics})
    return result
