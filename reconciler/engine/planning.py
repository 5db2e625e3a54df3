"""From loaded manifests to a Plan: refresh the live tasks, then call the pure planner."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from reconciler import __version__
from reconciler.domain.manifest.loader import input_digest
from reconciler.domain.manifest.models import DeclaredTask, PushctlConfig
from reconciler.domain.plan import Diagnostic, Plan
from reconciler.domain.planner import PlanOptions, plan
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
    refreshed = await refresh_live_tasks(
        to_read,
        request.state,
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
        api_usage=refreshed.usage,
        input_digest=input_digest(request.desired),
    )
    result = plan(request.desired, refreshed.live, request.state, request.now, options)
    if request.extra_diagnostics:
        diagnostics = (*request.extra_diagnostics, *result.diagnostics)
        result = result.model_copy(update={"diagnostics": diagnostics})
    return result
