"""The seal of a saved plan: a digest over everything apply acts on or checks, and a signature.

The digest covers every field of the plan but the seal itself: the changes with their calls,
bodies, addresses and push ids, the live fingerprints, state lineage and serials, `not_after`,
the tool and format versions, the diagnostics and where the plan came from (`source`). It is
taken over the parsed plan, the very value apply acts on, so reformatting the file is harmless
and any edit of a value is not. The digest alone catches an edit by someone who does not
recompute it; the signature (HMAC-SHA256 with a key only the plan and apply jobs hold) catches
one by someone who does.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.domain.plan import Plan, PlanSeal

#: Prefix of the signed message: a plan signature is never valid as any other MAC of the key.
SIGNATURE_LABEL = "pushctl-plan-seal/1"
KEY_ID_LABEL = b"pushctl-plan-key-id/1\n"


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def plan_digest(plan: Plan) -> str:
    """`sha256:` and the hex SHA-256 of the plan's canonical JSON, its seal left out."""
    document = plan.model_dump(mode="json", exclude={"seal"})
    return "sha256:" + hashlib.sha256(_canonical(document)).hexdigest()


def plan_signature(digest: str, key: bytes) -> str:
    message = f"{SIGNATURE_LABEL}\n{digest}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def key_id(key: bytes) -> str:
    """A short name of the key: a digest, from which the key cannot be read back."""
    return hashlib.sha256(KEY_ID_LABEL + key).hexdigest()[:16]


def seal_plan(plan: Plan, *, key: bytes | None) -> Plan:
    """The plan with its seal: the digest, and with `key` its signature."""
    digest = plan_digest(plan)
    seal = PlanSeal(
        digest=digest,
        signature=None if key is None else plan_signature(digest, key),
        key_id=None if key is None else key_id(key),
    )
    return plan.model_copy(update={"seal": seal})


@dataclass(frozen=True)
class SealVerdict:
    """What a plan's seal proves, checked with the key given (if any)."""

    sealed: bool
    intact: bool
    signed: bool
    #: None when no key was given (the signature, if any, was not checked).
    signature_valid: bool | None
    #: The plan was signed with another key than the one given.
    other_key: bool

    def refusal(self, *, key_set: bool) -> str | None:
        """Why apply must refuse this plan file; None when it may run it."""
        if not self.sealed:
            return (
                "the plan file has no seal: it was written by an older pushctl, "
                "or the seal was removed"
            )
        if not self.intact:
            return "the plan file was changed after it was written: its digest does not match"
        if key_set and not self.signed:
            return "the plan file is not signed, and PUSHCTL_PLAN_KEY is set: only signed plans run"
        if key_set and not self.signature_valid:
            if self.other_key:
                return "the plan file was signed with another key than PUSHCTL_PLAN_KEY"
            return "the plan file's signature does not match: it was changed after it was signed"
        return None


def check_seal(plan: Plan, *, key: bytes | None) -> SealVerdict:
    seal = plan.seal
    if seal is None:
        return SealVerdict(False, False, False, None, other_key=False)
    intact = hmac.compare_digest(seal.digest, plan_digest(plan))
    signed = seal.signature is not None
    if key is None or seal.signature is None:
        return SealVerdict(True, intact, signed, None, other_key=False)
    valid = hmac.compare_digest(seal.signature, plan_signature(seal.digest, key))
    return SealVerdict(True, intact, signed, valid, other_key=seal.key_id != key_id(key))


def inputs_digest(inputs: Mapping[str, str]) -> str:
    """SHA-256 over the path -> file digest table, in path order."""
    return "sha256:" + hashlib.sha256(_canonical(dict(sorted(inputs.items())))).hexdigest()


@dataclass(frozen=True)
class InputDrift:
    """How the manifests and config on disk differ from the ones a plan was made from."""

    changed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.changed or self.added or self.removed)

    def describe(self) -> str:
        parts = [
            f"{label} {', '.join(paths)}"
            for label, paths in (
                ("changed:", self.changed),
                ("new:", self.added),
                ("gone:", self.removed),
            )
            if paths
        ]
        return "; ".join(parts)


def input_drift(planned: Mapping[str, str], current: Mapping[str, str]) -> InputDrift:
    return InputDrift(
        changed=tuple(
            sorted(p for p in planned.keys() & current.keys() if planned[p] != current[p])
        ),
        added=tuple(sorted(current.keys() - planned.keys())),
        removed=tuple(sorted(planned.keys() - current.keys())),
    )
