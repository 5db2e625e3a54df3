"""The one error hierarchy of pushctl.

The library raises these and never prints or exits; the CLI maps each class to a message and
an exit code (docs/design.md). Messages name the file:line:column or the task address and
the next step. No exception may carry a secret.
"""

from __future__ import annotations

from dataclasses import dataclass


class PushctlError(Exception):
    """Base of every error pushctl raises on purpose."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if self.hint is None else f"{self.message}\n  {self.hint}"


class UsageError(PushctlError):
    """The command line itself is wrong."""

    exit_code = 64


@dataclass(frozen=True)
class SourceProblem:
    """One problem found in an input file, located for a person to fix."""

    file: str
    line: int
    column: int
    message: str
    code: str = "manifest.invalid"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class ManifestError(PushctlError):
    """One or more manifests are invalid; carries every problem found."""

    def __init__(self, problems: list[SourceProblem]) -> None:
        self.problems = list(problems)
        first = "\n".join(str(p) for p in self.problems)
        super().__init__(first or "invalid manifest")


class ConfigError(PushctlError):
    """pushctl.yaml or the environment it names is wrong."""


class ApiError(PushctlError):
    """TPNS answered with a non-zero ret_code / retCode."""

    def __init__(
        self,
        message: str,
        *,
        code: int,
        retryable: bool,
        path: str,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.code = code
        self.retryable = retryable
        self.path = path


class TransportError(PushctlError):
    """The request failed below the TPNS envelope: connection, timeout, non-200 status.

    `maybe_delivered` is True when the server may have received and acted on the request.
    """

    def __init__(
        self, message: str, *, path: str, maybe_delivered: bool, timed_out: bool = False
    ) -> None:
        super().__init__(message)
        self.path = path
        self.maybe_delivered = maybe_delivered
        #: The client gave up waiting: TPNS may still be working on the request.
        self.timed_out = timed_out


class OutcomeUnknown(PushctlError):
    """A create (`/v3/push/app`) may or may not have been accepted by TPNS.

    Never retry blindly: look the task up first (by the fields kept here).
    """

    def __init__(
        self,
        message: str,
        *,
        path: str,
        access_id: str,
        sent_at_unix: float,
        body_digest: str,
        timed_out_after: float | None = None,
    ) -> None:
        super().__init__(
            message,
            hint="the open intent is resolved by reading live tasks back on the next run",
        )
        self.path = path
        self.access_id = access_id
        #: Seconds the client waited before giving up, when it did: TPNS may create the task
        #: after that, so its absence right now proves nothing.
        self.timed_out_after = timed_out_after
        self.sent_at_unix = sent_at_unix
        self.body_digest = body_digest


class QuotaExceeded(PushctlError):
    """A refresh or apply would need more TPNS calls than the hourly quota has left."""


class StalePlan(PushctlError):
    """A saved plan no longer matches the world; run plan again."""

    exit_code = 4


class LockNotAcquired(PushctlError):
    """Another run holds the state lock."""

    exit_code = 3


class LockLost(PushctlError):
    """A running apply no longer holds its state lock; it must make no further TPNS call."""

    exit_code = 3


class StateError(PushctlError):
    """The state store is missing, corrupt or of another lineage."""


class AuditError(PushctlError):
    """The audit chain does not verify."""


class ApplyFailed(PushctlError):
    """Some changes of an apply failed; what succeeded is recorded."""
