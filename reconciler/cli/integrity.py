"""Plan and audit keys from the environment; sealing plans and checking them before apply.

This is the I/O around `domain/plan_seal.py`. Both keys are HMAC-SHA256 keys read from the
environment only, here, so that no other module looks for them and no key is ever written to
the state store or a plan file.

`plan` records where a plan came from (commit, and a digest of each manifest and the config it
read) and seals it, signed when PUSHCTL_PLAN_KEY is set. `apply PLANFILE` checks the seal before
anything else (no lock, no TPNS client), and with `-f PATH` checks that the manifests and config
on disk are still the ones planned.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import click

from reconciler.cli.provenance import git_head
from reconciler.domain.manifest.loader import STDIN, manifest_files
from reconciler.domain.plan import Plan, PlanSource
from reconciler.domain.plan_seal import (
    check_seal,
    input_drift,
    inputs_digest,
    key_id,
    seal_plan,
)
from reconciler.errors import ConfigError, PushctlError, StalePlan, UsageError

PLAN_KEY_ENV = "PUSHCTL_PLAN_KEY"
AUDIT_KEY_ENV = "PUSHCTL_AUDIT_KEY"
#: Shorter keys are refused: an HMAC is only as strong as a key that cannot be guessed.
MIN_KEY_CHARS = 16


def plan_key(env: Mapping[str, str]) -> bytes | None:
    """The key plans are signed with and checked against; None when not configured."""
    return _key(env, PLAN_KEY_ENV)


def audit_key(env: Mapping[str, str]) -> bytes | None:
    """The key audit records are MAC'd with and verified against; None when not configured."""
    return _key(env, AUDIT_KEY_ENV)


def _key(env: Mapping[str, str], name: str) -> bytes | None:
    value = env.get(name, "")
    if not value:
        return None
    if len(value) < MIN_KEY_CHARS:
        raise ConfigError(
            f"{name} is set but shorter than {MIN_KEY_CHARS} characters",
            hint="make one with `openssl rand -hex 32` and keep it in the CI secret store",
        )
    return value.encode("utf-8")


def input_files(paths: Sequence[Path], config_path: Path) -> dict[str, str]:
    """Each manifest file under `paths`, and the config, -> the SHA-256 of its bytes.

    Paths are named relative to the config's folder when inside it, so a plan made in one
    checkout can be compared in another. Stdin is not a file and is not recorded.
    """
    base = os.path.abspath(config_path.parent)
    files = [config_path]
    for path in paths:
        if str(path) == STDIN:
            continue
        files.extend(manifest_files(path) if path.is_dir() else [path])
    return {_name(file, base): _file_digest(file) for file in files if file.is_file()}


def _name(path: Path, base: str) -> str:
    full = os.path.abspath(path)
    inside = os.path.commonpath([full, base]) == base
    return Path(os.path.relpath(full, base)).as_posix() if inside else Path(full).as_posix()


def _file_digest(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def plan_commit(env: Mapping[str, str]) -> str | None:
    return env.get("GITHUB_SHA") or env.get("CI_COMMIT_SHA") or git_head()


def sealed(plan: Plan, *, paths: Sequence[Path], config_path: Path, env: Mapping[str, str]) -> Plan:
    """The plan as `plan` saves and prints it: with its source and its seal."""
    inputs = input_files(paths, config_path)
    source = PlanSource(commit=plan_commit(env), inputs_digest=inputs_digest(inputs), inputs=inputs)
    return seal_plan(plan.model_copy(update={"source": source}), key=plan_key(env))


def check_plan_file(plan: Plan, planfile: Path, env: Mapping[str, str]) -> None:
    """Refuse a plan file that was altered, or is unsigned while a plan key is set (exit 1)."""
    key = plan_key(env)
    refusal = check_seal(plan, key=key).refusal(key_set=key is not None)
    if refusal is not None:
        raise PushctlError(
            f"{planfile}: {refusal}; no TPNS call was made",
            hint="apply only the plan file `pushctl plan --out` wrote; to be sure, plan again",
        )
    if key is None and plan.seal is not None and plan.seal.signature is not None:
        click.echo(
            f"Note: {planfile} is signed, but {PLAN_KEY_ENV} is not set here: "
            "its digest was checked, its signature was not.",
            err=True,
        )


def compared_paths(files: Sequence[str]) -> list[Path]:
    """The -f paths of `apply PLANFILE -f PATH`: files on disk, since stdin cannot be compared."""
    if STDIN in files:
        raise UsageError("apply PLANFILE -f - : stdin cannot be compared with the planned files")
    return [Path(name) for name in files]


def check_inputs(plan: Plan, planfile: Path, *, paths: Sequence[Path], config_path: Path) -> None:
    """Refuse (exit 4) when the manifests or config on disk differ from the ones planned."""
    if plan.source is None:
        raise StalePlan(
            f"{planfile} does not record the files it was made from",
            hint="plan again with this pushctl, or apply without -f",
        )
    drift = input_drift(plan.source.inputs, input_files(paths, config_path))
    if drift:
        made_from = f" (made from commit {plan.source.commit})" if plan.source.commit else ""
        raise StalePlan(
            f"the manifests or config differ from the ones {planfile} was made from"
            f"{made_from}: {drift.describe()}; no TPNS call was made",
            hint="review a new plan: run `pushctl plan --out FILE` again",
        )


def integrity_lines(plan: Plan, env: Mapping[str, str]) -> tuple[list[str], bool]:
    """What `show` says about a plan's seal and source; True when apply would accept it."""
    key = plan_key(env)
    verdict = check_seal(plan, key=key)
    refusal = verdict.refusal(key_set=key is not None)
    seal = plan.seal
    if seal is None or not verdict.intact:
        lines = [f"Integrity: NOT INTACT: {refusal}."]
    else:
        lines = [f"Integrity: intact (digest {seal.digest})."]
        lines.append(_signature_line(seal.key_id, verdict.signature_valid, key=key))
    if plan.source is not None:
        commit = plan.source.commit or "unknown"
        lines.append(
            f"Made from commit {commit}, {len(plan.source.inputs)} input files "
            f"({plan.source.inputs_digest})."
        )
    if refusal is not None and seal is not None and verdict.intact:
        lines.append(f"Apply would refuse it: {refusal}.")
    return lines, refusal is None


def _signature_line(signed_by: str | None, valid: bool | None, *, key: bytes | None) -> str:
    if signed_by is None:
        return "Signature: none (the plan was made without PUSHCTL_PLAN_KEY)."
    if valid is None:
        return f"Signature: key {signed_by}, not checked ({PLAN_KEY_ENV} is not set)."
    if valid:
        return f"Signature: valid for {PLAN_KEY_ENV} (key {signed_by})."
    this_key = key_id(key) if key is not None else "-"
    return f"Signature: INVALID for {PLAN_KEY_ENV} (signed by key {signed_by}, this is {this_key})."


def echo_integrity(plan: Plan, env: Mapping[str, str], *, to_stderr: bool) -> bool:
    lines, acceptable = integrity_lines(plan, env)
    stream = sys.stderr if to_stderr else sys.stdout
    for line in lines:
        click.echo(line, file=stream)
    return acceptable
