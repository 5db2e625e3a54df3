"""Pydantic models of the PushTask manifest kind and of pushctl.yaml (docs/design.md)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from reconciler.domain.manifest.push_body import validate_push_body
from reconciler.domain.manifest.secrets import ENV_NAME, env_var_name
from reconciler.domain.policy.settings import NotificationPolicy

NAME_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class DesiredState(StrEnum):
    ACTIVE = "active"
    STOPPED = "stopped"
    RECALLED = "recalled"
    CANCELLED = "cancelled"
    OVERRIDDEN = "overridden"


class _Strict(BaseModel):
    # defer_build: validators are built on first use, as `reconciler.records.Frozen` says.
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, defer_build=True)


class Metadata(_Strict):
    name: str = Field(pattern=NAME_PATTERN)
    app: str = Field(min_length=1)
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class PushTaskSpec(_Strict):
    state: DesiredState
    push_id: str | None = Field(default=None, alias="pushId", pattern=r"^[0-9]{1,20}$")
    overridden_by: str | None = Field(default=None, alias="overriddenBy", pattern=NAME_PATTERN)
    force_collapse: bool = Field(default=False, alias="forceCollapse")
    #: The /v3/push/app request body, TPNS field names verbatim, validated field by field.
    push: dict[str, Any] | None = None

    @field_validator("push")
    @classmethod
    def _validate_push(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if value is None else validate_push_body(value)

    @model_validator(mode="after")
    def _state_fields(self) -> PushTaskSpec:
        if self.state is DesiredState.OVERRIDDEN and not self.overridden_by:
            raise ValueError("state: overridden requires `overriddenBy: <name of the new task>`")
        if self.state is not DesiredState.OVERRIDDEN and self.overridden_by:
            raise ValueError("`overriddenBy` is only allowed with `state: overridden`")
        if self.push_id is None and self.push is None:
            raise ValueError("give `push` (a task pushctl creates) or `pushId` (adopt a live task)")
        return self


class PushTask(_Strict):
    api_version: Literal["pushctl/v1"] = Field(alias="apiVersion")
    kind: Literal["PushTask"]
    metadata: Metadata
    spec: PushTaskSpec

    @property
    def address(self) -> str:
        return f"{self.metadata.app}/{self.metadata.name}"


class DeclaredTask(BaseModel):
    """A PushTask and where it was declared."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    task: PushTask
    file: str
    line: int = 1
    column: int = 1

    @property
    def address(self) -> str:
        return self.task.address


class Platform(StrEnum):
    ANDROID = "android"
    IOS = "ios"


class AppCapabilities(_Strict):
    #: Recall (revoke_push_msg) is offline at TPNS today; enable only where it works.
    recall: bool = False


class AppConfig(_Strict):
    access_id: str = Field(alias="accessId", pattern=r"^[0-9]{6,20}$")
    platform: Platform
    region: Literal["ap-guangzhou", "ap-shanghai", "ap-hongkong", "ap-singapore"] | None = None
    endpoint: str | None = None
    auth: Literal["signature", "basic"] = "signature"
    #: The *name* of the variable holding the SecretKey; checked by `env_var_name`, which
    #: never repeats a wrong value (it may be the key itself, pasted by mistake).
    secret_key_env: str = Field(alias="secretKeyEnv", json_schema_extra={"pattern": ENV_NAME})
    capabilities: AppCapabilities = Field(default_factory=AppCapabilities)
    #: After a create whose answer was lost, how long to keep looking for the task before
    #: concluding it was not created (TPNS does not document how soon a task shows up).
    read_back_grace_seconds: int = Field(default=120, alias="readBackGraceSeconds", ge=0, le=3600)

    @field_validator("secret_key_env", mode="before")
    @classmethod
    def _env_name(cls, value: Any) -> str:
        return env_var_name(value)

    @field_validator("endpoint")
    @classmethod
    def _safe_endpoint(cls, value: str | None) -> str | None:
        if value is None or value == "emulator" or value.startswith("emulator:"):
            return value
        url = urlsplit(value)
        if url.scheme == "https" and url.hostname:
            return value
        if url.scheme == "http" and url.hostname in LOOPBACK_HOSTS:
            return value
        if url.scheme == "http":
            raise ValueError(
                f"plain http:// is refused for {url.hostname!r}; use https:// "
                "(http:// is allowed for loopback hosts only)"
            )
        raise ValueError("endpoint must be https://HOST, http://127.0.0.1:PORT or emulator[:PATH]")

    @model_validator(mode="after")
    def _one_location(self) -> AppConfig:
        if (self.region is None) == (self.endpoint is None):
            raise ValueError("give exactly one of `region` or `endpoint`")
        return self


class PushctlConfig(_Strict):
    apps: dict[str, AppConfig] = Field(min_length=1)
    state: str = "sqlite:.pushctl/state.db"
    #: UTC offset of TPNS wall-clock strings (send_time, date); reference section 10 item 10.
    tpns_utc_offset: str = Field(
        default="+08:00", alias="tpnsUtcOffset", pattern=r"^[+-]\d\d:\d\d$"
    )
    #: Rules every notification must keep; `validate` and `plan` check them.
    policy: NotificationPolicy = Field(default_factory=NotificationPolicy)
