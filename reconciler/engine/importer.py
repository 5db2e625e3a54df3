"""`pushctl import`: live TPNS tasks become PushTask manifests that adopt them.

The desired state is derived from the live status, so the first plan after an import is empty.
Appending to an existing file keeps its comments and order (ruamel.yaml round-trip).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from reconciler.engine.live_catalog import HORIZON, HorizonWindow
from reconciler.engine.refresh import RecordReader
from reconciler.errors import PushctlError
from reconciler.records import LiveStatus, LiveTask
from reconciler.tpns.errors import PushIdNotFound

#: Desired state that a live status already satisfies.
STATE_OF_STATUS: dict[LiveStatus, str] = {
    LiveStatus.INIT: "active",
    LiveStatus.WAIT: "active",
    LiveStatus.STARTED: "active",
    LiveStatus.FINISHED: "active",
    LiveStatus.CANCELED: "cancelled",
    LiveStatus.DELETED_PUSH_MSG: "stopped",
    LiveStatus.REVOKED: "recalled",
    LiveStatus.COLLAPSED: "overridden",
}


@dataclass(frozen=True)
class ImportedTask:
    name: str
    app: str
    state: str
    live: LiveTask
    overridden_by: str | None = None


@dataclass(frozen=True)
class Skipped:
    push_id: str
    reason: str


def task_name(task: LiveTask) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", task.title.lower()).strip("-")[:40].strip("-")
    return f"{slug}-{task.push_id}" if slug else f"task-{task.push_id}"


async def read_tasks(
    reader: RecordReader,
    *,
    since: date | None,
    push_ids: Sequence[str],
    now: datetime,
    utc_offset: str = "+08:00",
) -> list[LiveTask]:
    if push_ids:
        found: list[LiveTask] = []
        for push_id in push_ids:
            try:
                found.append(await reader.get_push_record(push_id))
            except PushIdNotFound as exc:
                raise PushctlError(
                    f"push {push_id} was not found at TPNS (error {exc.code})",
                    hint="TPNS keeps records for about a month; check the id and the app",
                ) from exc
        return found
    window = HorizonWindow.at(now, utc_offset=utc_offset)  # TPNS refuses an older startDate
    start = max(since, window.start_date) if since else window.start_date
    return await reader.list_push_records(start_date=start, end_date=window.end_date)


def to_manifests(
    app: str, tasks: Iterable[LiveTask], *, known_push_ids: set[str]
) -> tuple[list[ImportedTask], list[Skipped]]:
    """Decide the declaration of each live task; skip what is declared already or undeclarable."""
    tasks = sorted(tasks, key=lambda t: (t.date, t.push_id))
    names = {t.push_id: task_name(t) for t in tasks}
    skipped: dict[str, Skipped] = {}
    states: dict[str, str] = {}
    for task in tasks:
        state = STATE_OF_STATUS.get(task.status)
        if task.push_id in known_push_ids:
            skipped[task.push_id] = Skipped(task.push_id, "already declared or bound in state")
        elif state is None:
            reason = f"status {task.status.value} cannot be declared"
            skipped[task.push_id] = Skipped(task.push_id, reason)
        else:
            states[task.push_id] = state
    successors = {
        t.push_id: overriding_task(t, tasks) for t in tasks if states.get(t.push_id) == "overridden"
    }
    # An overridden task names its successor, so that one must be imported too; dropping one
    # can drop the task it overrode in turn.
    changed = True
    while changed:
        changed = False
        for push_id, successor in successors.items():
            if push_id in states and (successor is None or successor.push_id not in states):
                del states[push_id]
                skipped[push_id] = Skipped(push_id, _why_not_overridden(successor, skipped))
                changed = True
    imported = [
        ImportedTask(
            name=names[task.push_id],
            app=app,
            state=states[task.push_id],
            live=task,
            overridden_by=_successor_name(successors.get(task.push_id), names),
        )
        for task in tasks
        if task.push_id in states
    ]
    return imported, [skipped[t.push_id] for t in tasks if t.push_id in skipped]


def _successor_name(successor: LiveTask | None, names: dict[str, str]) -> str | None:
    return names[successor.push_id] if successor is not None else None


def _why_not_overridden(successor: LiveTask | None, skipped: dict[str, Skipped]) -> str:
    if successor is None:
        return "overridden by a task not imported"
    cause = skipped[successor.push_id].reason
    return (
        f"overridden by push {successor.push_id}, which is not imported ({cause}); "
        "declare it by hand with `overriddenBy:` the name of that push's manifest"
    )


def overriding_task(task: LiveTask, tasks: Sequence[LiveTask]) -> LiveTask | None:
    if not task.collapse_id:
        return None
    later = [
        t
        for t in tasks
        if t.collapse_id == task.collapse_id and t.push_id != task.push_id and t.date >= task.date
    ]
    return min(later, key=lambda t: (t.date, t.push_id)) if later else None


def manifest_document(item: ImportedTask) -> CommentedMap:
    # Quoted, so YAML never reads a push id as a number.
    spec: dict[str, Any] = {
        "state": item.state,
        "pushId": DoubleQuotedScalarString(item.live.push_id),
    }
    if item.overridden_by:
        spec["overriddenBy"] = item.overridden_by
    doc = CommentedMap(
        {
            "apiVersion": "pushctl/v1",
            "kind": "PushTask",
            "metadata": CommentedMap({"name": item.name, "app": item.app}),
            "spec": CommentedMap(spec),
        }
    )
    live = item.live
    doc.yaml_set_start_comment(
        f"imported: {live.status.value}, {live.push_type} {live.message_type}, "
        f"date {live.date.isoformat()}\ntitle: {live.title}\ncontent: {live.content}"
    )
    return doc


def existing_push_ids(documents: Sequence[Any]) -> set[str]:
    ids: set[str] = set()
    for doc in documents:
        spec = doc.get("spec") if isinstance(doc, dict) else None
        if isinstance(spec, dict) and spec.get("pushId"):
            ids.add(str(spec["pushId"]))
    return ids


def round_trip_yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.explicit_start = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def read_existing(text: str) -> list[Any]:
    """Documents of an existing manifest file, comments attached, in order."""
    return [doc for doc in round_trip_yaml().load_all(text) if doc is not None]


def append_documents(existing_text: str, items: Sequence[ImportedTask]) -> str:
    """The existing text, untouched, followed by one document per imported task."""
    buffer = io.StringIO()
    round_trip_yaml().dump_all([manifest_document(i) for i in items], buffer)
    addition = buffer.getvalue()
    if not existing_text.strip():
        return addition
    return existing_text.rstrip("\n") + "\n" + addition


def since_default(now: datetime) -> date:
    return (now - HORIZON + timedelta(days=1)).date()
