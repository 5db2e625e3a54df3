"""GitLab's Terraform report (`artifacts:reports:terraform`), so the merge request widget shows
how many tasks a plan creates, changes and removes.

The widget reads `{"create": n, "update": n, "delete": n}`. A push cannot be updated in place,
so the plan's actions are folded into those three words: a new push is a create, a push that
replaces or overrides another is an update, and a push taken out of service (stop, recall,
cancel) is a delete. State-only changes (adopt, forget) call nothing and are not counted.
"""

from __future__ import annotations

import json

from reconciler.domain.plan import Action, Plan

REPORT_BUCKETS: dict[Action, str] = {
    Action.CREATE: "create",
    Action.OVERRIDE: "update",
    Action.REPLACE: "update",
    Action.STOP: "delete",
    Action.RECALL: "delete",
    Action.CANCEL: "delete",
}


def render_gitlab_report(plan: Plan) -> str:
    """One JSON object, the shape GitLab expects of a Terraform plan report."""
    counts = {"create": 0, "update": 0, "delete": 0}
    for change in plan.changes:
        bucket = REPORT_BUCKETS.get(change.action)
        if bucket is not None:
            counts[bucket] += 1
    return json.dumps(counts) + "\n"
