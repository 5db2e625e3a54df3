"""Strict models of the /v3/push/app request body, field by field (reference sections 4.1-4.9).

They only check; `validate_push_body` keeps the manifest's dict verbatim. Defaults are None
so a field left out stays left out.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

AudienceType = Literal[
    "all",
    "tag",
    "token",
    "token_list",
    "account",
    "account_list",
    "package_account_push",
    "package_token_push",
]
Operator = Literal["AND", "OR"]
TagType = Literal[
    "xg_user_define",
    "xg_auto_version",
    "xg_auto_province",
    "xg_auto_active",
    "xg_auto_sdkversion",
    "xg_auto_systemlanguage",
    "xg_auto_devicebrand",
    "xg_auto_deviceversion",
    "xg_auto_country",
]
Channel = Literal["xg", "hw", "xm", "mz", "vivo", "oppo", "apns", "honor", "fcm"]


def _not_bool(value: Any) -> Any:
    # Literal[0, 1] would take true/false, since True == 1 in Python.
    if isinstance(value, bool):
        raise ValueError(f"expected a number, not {str(value).lower()}")
    return value


NoBool = BeforeValidator(_not_bool)
Switch = Annotated[Literal[0, 1], NoBool]
Token = Annotated[str, StringConstraints(min_length=1, max_length=36)]
Account = Annotated[str, StringConstraints(min_length=1)]
HttpUrl = Annotated[str, StringConstraints(pattern=r"^https?://\S+$")]
DayTime = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$")]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=50)]

MAX_TARGETS = 1000


class PushModel(BaseModel):
    # defer_build: validators are built on first use, as `reconciler.records.Frozen` says.
    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, populate_by_name=False, defer_build=True
    )


class TagItem(PushModel):
    tags: list[Tag] = Field(min_length=1)
    is_not: bool
    tags_operator: Operator
    items_operator: Operator
    tag_type: TagType


class TagRule(PushModel):
    tag_items: list[TagItem] = Field(min_length=1)
    operator: Operator
    is_not: bool


class TagList(PushModel):
    """Legacy tag form; TPNS ignores it when `tag_rules` is given."""

    tags: list[Tag] = Field(min_length=1)
    op: Operator


class ClockTime(PushModel):
    hour: str = Field(pattern=r"^([01]?[0-9]|2[0-3])$")
    min: str = Field(pattern=r"^[0-5]?[0-9]$")


class AcceptTime(PushModel):
    start: ClockTime
    end: ClockTime


class ActivityAttributes(PushModel):
    if_: int | None = Field(default=None, alias="if")
    pf: int | None = None


class Browser(PushModel):
    url: HttpUrl
    confirm: Switch | None = None


class Action(PushModel):
    action_type: Annotated[Literal[1, 2, 3], NoBool] | None = None
    activity: str | None = None
    aty_attr: ActivityAttributes | None = None
    browser: Browser | None = None
    intent: str | None = None


class AndroidMessage(PushModel):
    n_ch_id: str | None = None
    n_ch_name: str | None = None
    xm_ch_id: str | None = None
    hw_ch_id: str | None = None
    oppo_ch_id: str | None = None
    fcm_ch_id: str | None = None
    vivo_ch_id: Literal["0", "1"] | None = None
    hw_biz_type: Switch | None = None
    hw_category: str | None = None
    hw_importance: Annotated[Literal[1, 2], NoBool] | None = None
    n_id: int | None = Field(default=None, ge=-1)
    builder_id: int | None = None
    badge_type: int | None = Field(default=None, ge=-2, lt=100)
    ring: Switch | None = None
    ring_raw: str | None = None
    vibrate: Switch | None = None
    lights: Switch | None = None
    clearable: Switch | None = None
    icon_type: Switch | None = None
    icon_res: str | None = None
    style_id: int | None = None
    small_icon: str | None = None
    icon_color: int | None = None
    action: Action | None = None
    custom_content: str | None = None
    show_type: Annotated[Literal[1, 2], NoBool] | None = None


class Aps(PushModel):
    alert: dict[str, Any] | None = None
    badge_type: int | None = Field(default=None, ge=-2)
    category: str | None = None
    mutable_content: Switch | None = Field(default=None, alias="mutable-content")
    content_available: Annotated[Literal[1], NoBool] | None = Field(
        default=None, alias="content-available"
    )
    sound: str | None = None
    interruption_level: Literal["passive", "active", "time-sensitive", "critical"] | None = Field(
        default=None, alias="interruption-level"
    )


class IosMessage(PushModel):
    aps: Aps
    custom_content: str | None = None


class Message(PushModel):
    title: str | None = None
    content: str | None = None
    accept_time: list[AcceptTime] | None = None
    thread_id: str | None = None
    thread_sumtext: str | None = None
    show_type: Annotated[Literal[1, 2], NoBool] | None = None
    xg_media_resources: HttpUrl | None = None
    xg_media_audio_resources: HttpUrl | None = None
    android: AndroidMessage | None = None
    ios: IosMessage | None = None


class LoopParam(PushModel):
    start_date: str = Field(alias="startDate", pattern=r"^\d{4}-\d{2}-\d{2}$")
    end_date: str = Field(alias="endDate", pattern=r"^\d{4}-\d{2}-\d{2}$")
    loop_type: Annotated[Literal[1, 2, 3], NoBool] = Field(alias="loopType")
    loop_day_indexes: list[int] = Field(alias="loopDayIndexs", min_length=1)
    day_times: list[DayTime] = Field(alias="dayTimes", min_length=1)


class ChannelRule(PushModel):
    channel: Channel
    disable: bool


class PushBody(PushModel):
    """The /v3/push/app body as a manifest declares it (no collapse_id / force_collapse)."""

    audience_type: AudienceType
    message_type: Literal["notify", "message"]
    message: Message
    environment: Literal["product", "dev"] | None = None
    upload_id: int | None = Field(default=None, gt=0)
    tag_rules: list[TagRule] | None = Field(default=None, min_length=1)
    tag_list: TagList | None = None
    token_list: list[Token] | None = Field(default=None, min_length=1, max_length=MAX_TARGETS)
    account_list: list[Account] | None = Field(default=None, min_length=1, max_length=MAX_TARGETS)
    expire_time: int | None = Field(default=None, ge=0, le=259200)
    send_time: str | None = None
    multi_pkg: bool | None = None
    loop_param: LoopParam | None = None
    group_id: str | None = Field(default=None, pattern=r"^\S{1,25}$")
    plan_id: str | None = Field(default=None, min_length=1)
    account_push_type: Switch | None = None
    account_type: int | None = None
    ignore_invalid_token: Switch | None = None
    push_speed: int | None = Field(default=None, ge=1000, le=50000)
    channel_rules: list[ChannelRule] | None = None
    tpns_online_push_type: Switch | None = None
