"""The hash-chained audit log shared by both state backends (docs/design.md, "State").

Each record is canonical JSON; its hash is SHA-256 over the previous record's hash followed by
its own canonical body, so changing, removing or reordering any record breaks the chain. Anyone
who can write the store can recompute those hashes, so with an audit key each record also gets
a MAC (HMAC-SHA256) over every stored column: without the key a rewritten chain cannot be given
valid MACs. Records carry a version: 1 (no `v` field, no MAC) from before MACs existed, 2 since.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field, field_serializer, field_validator, model_validator

from reconciler.records import Frozen

#: prev_hash of the first record.
GENESIS_HASH = "0" * 64
REDACTED = "***"
#: The record version written now: 2 adds the `v` field and the keyed MAC.
RECORD_VERSION = 2
#: Prefix of every MAC'd message, so an audit MAC is never valid as any other MAC of the key.
MAC_LABEL = "pushctl-audit-mac/2"

AuditKind = Literal["intent", "outcome", "state"]

# Words that mark a key as holding a credential: "secretKey", "X-Signature", "Authorization".
_SECRET_KEY_WORDS = frozenset({"secret", "sign", "signature", "authorization"})
_KEY_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


class Who(Frozen):
    user: str
    ci_actor: str | None = None


class Where(Frozen):
    host: str
    ci_run_url: str | None = None


class Why(Frozen):
    commit: str | None = None
    pr: str | None = None
    plan_digest: str | None = None


class What(Frozen):
    action: str
    address: str | None = None
    push_id: str | None = None
    #: The API request body, secrets already redacted (see `redact`).
    request: dict[str, Any] = Field(default_factory=dict)


class Result(Frozen):
    ret_code: int
    err_msg: str = ""


class AuditEntry(Frozen):
    """One audit record as the caller writes it; the store adds seq and the hashes."""

    kind: AuditKind
    run_id: str
    who: Who
    where: Where
    why: Why
    what: What
    when: datetime
    result: Result | None = None

    @field_validator("when")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("audit time must be timezone-aware (ISO 8601 with offset)")
        return value.astimezone(UTC)

    @field_serializer("when")
    def _iso_utc(self, value: datetime) -> str:
        return value.isoformat().replace("+00:00", "Z")

    @model_validator(mode="after")
    def _outcome_has_result(self) -> AuditEntry:
        if self.kind == "outcome" and self.result is None:
            raise ValueError("an outcome record needs a result (ret_code, err_msg)")
        return self


class StoredAuditRecord(Frozen):
    """An audit record as kept in the store: its place in the chain, its hash and MAC."""

    seq: int
    prev_hash: str
    hash: str
    entry: AuditEntry
    version: int = RECORD_VERSION
    #: HMAC-SHA256 over the stored columns; None when written without an audit key.
    mac: str | None = None


class Provenance(Frozen):
    """Who runs pushctl, where and why, as far as the CI environment tells."""

    who: Who
    where: Where
    why: Why


class AuditRow(Frozen):
    """An audit record exactly as stored: the hashed body text is kept byte for byte.

    `address` is a copy of the body's `what.address`, kept as a column for lookups; verify
    checks that the two agree, so editing the column cannot hide a record.
    """

    seq: int
    prev_hash: str
    hash: str
    body: str
    address: str | None = None
    mac: str | None = None


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 characters kept: one text per value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record_hash(prev_hash: str, body: str) -> str:
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def record_mac(key: bytes, row: AuditRow) -> str:
    """HMAC-SHA256 of every stored column but the MAC itself.

    prev_hash ties the MAC to the record before, so a removed, inserted or reordered record
    breaks a MAC too, not only a hash.
    """
    message = canonical_json([MAC_LABEL, row.seq, row.prev_hash, row.hash, row.address, row.body])
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def mac_matches(key: bytes, row: AuditRow) -> bool:
    return row.mac is not None and hmac.compare_digest(row.mac, record_mac(key, row))


def chain_row(entry: AuditEntry, *, seq: int, prev_hash: str, key: bytes | None = None) -> AuditRow:
    """The row that appends `entry` after the record whose hash is `prev_hash`.

    With an audit key the row carries its MAC; without one, only the hash chain.
    """
    # Key-named credentials are masked again here so that no caller can store one by mistake.
    safe = entry.model_copy(
        update={"what": entry.what.model_copy(update={"request": redact(entry.what.request, ())})}
    )
    body = canonical_json({"seq": seq, "v": RECORD_VERSION, **safe.model_dump(mode="json")})
    row = AuditRow(
        seq=seq,
        prev_hash=prev_hash,
        hash=record_hash(prev_hash, body),
        body=body,
        address=entry.what.address,
    )
    return row if key is None else row.model_copy(update={"mac": record_mac(key, row)})


def stored_record(row: AuditRow) -> StoredAuditRecord:
    fields = json.loads(row.body)
    fields.pop("seq", None)
    version = fields.pop("v", 1)
    return StoredAuditRecord(
        seq=row.seq,
        prev_hash=row.prev_hash,
        hash=row.hash,
        entry=AuditEntry(**fields),
        version=version,
        mac=row.mac,
    )


def redact(obj: Any, secrets: Iterable[str]) -> Any:
    """A copy of `obj` with every secret value, and every credential-named key's value, as ***."""
    values = sorted({s for s in secrets if s}, key=len, reverse=True)
    return _redact(obj, values)


def _redact(obj: Any, secrets: Sequence[str]) -> Any:
    if isinstance(obj, Mapping):
        return {
            key: REDACTED if _names_secret(str(key)) else _redact(value, secrets)
            for key, value in obj.items()
        }
    if isinstance(obj, list | tuple):
        return [_redact(item, secrets) for item in obj]
    if isinstance(obj, str):
        for secret in secrets:
            obj = obj.replace(secret, REDACTED)
        return obj
    return obj


def _names_secret(key: str) -> bool:
    return any(word.lower() in _SECRET_KEY_WORDS for word in _KEY_WORD.findall(key))


def provenance_from_env(
    env: Mapping[str, str],
    *,
    local_user: str | None = None,
    local_host: str | None = None,
    local_commit: str | None = None,
) -> Provenance:
    """Read GitHub Actions or GitLab CI variables; the local_* values fill what CI does not say.

    The caller finds the local user, host and `git rev-parse HEAD`: the store runs no process.
    """
    if env.get("GITHUB_ACTIONS") == "true" or "GITHUB_RUN_ID" in env:
        actor, run_url, commit, pr = _github(env)
    elif env.get("GITLAB_CI") == "true" or "CI_JOB_URL" in env:
        actor, run_url, commit, pr = _gitlab(env)
    else:
        actor = run_url = commit = pr = None
    user = local_user or env.get("USER") or env.get("LOGNAME") or env.get("USERNAME") or "unknown"
    return Provenance(
        who=Who(user=user, ci_actor=actor),
        where=Where(host=local_host or env.get("HOSTNAME") or "unknown", ci_run_url=run_url),
        why=Why(commit=commit or local_commit, pr=pr),
    )


def _github(env: Mapping[str, str]) -> tuple[str | None, str | None, str | None, str | None]:
    server, repo, run = (
        env.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    run_url = (
        f"{server or 'https://github.com'}/{repo}/actions/runs/{run}" if repo and run else None
    )
    # Pull-request workflows run on refs/pull/<number>/merge (or /head).
    match = re.fullmatch(r"refs/pull/(\d+)/(?:merge|head)", env.get("GITHUB_REF", ""))
    pr = match.group(1) if match else None
    return env.get("GITHUB_ACTOR"), run_url, env.get("GITHUB_SHA"), pr


def _gitlab(env: Mapping[str, str]) -> tuple[str | None, str | None, str | None, str | None]:
    return (
        env.get("GITLAB_USER_LOGIN"),
        env.get("CI_JOB_URL"),
        env.get("CI_COMMIT_SHA"),
        env.get("CI_MERGE_REQUEST_IID"),
    )
