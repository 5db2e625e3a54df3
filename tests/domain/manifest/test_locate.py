"""Diagnostics of whole tasks point at the field they are about, not at 1:1."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.domain.manifest.config import load_config
from reconciler.domain.manifest.loader import load_manifests
from reconciler.domain.manifest.locate import FIELD_OF_CODE, locate_fields
from reconciler.domain.manifest.validate import VALIDATION_CODES, validate_tasks
from reconciler.domain.plan import Diagnostic

CONFIG = """\
apps:
  shop-ios:
    accessId: "1600001048"
    platform: ios
    endpoint: emulator
    secretKeyEnv: SHOP_IOS_SECRET_KEY
state: sqlite:.pushctl/state.db
"""
TASKS = """\
apiVersion: pushctl/v1
kind: PushTask
metadata:
  name: one
  app: shop-nope
spec:
  state: active
  push: {audience_type: all, message_type: notify, message: {title: a, content: b}}
---
# the second task
apiVersion: pushctl/v1
kind: PushTask
metadata:
  name: two
  app: shop-ios
spec:
  state: stopped
  push:
    audience_type: all
    environment: product
    message_type: notify
    message:
      title: a
      content: b
      android: {}
"""


def located(tmp_path: Path) -> dict[str, tuple[int, int]]:
    (tmp_path / "pushctl.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "tasks.yaml").write_text(TASKS, encoding="utf-8")
    tasks = load_manifests([tmp_path / "tasks.yaml"])
    diagnostics = locate_fields(validate_tasks(tasks, load_config(tmp_path / "pushctl.yaml")))
    return {d.code: (d.line, d.column) for d in diagnostics}


def test_each_diagnostic_moves_to_its_field(tmp_path: Path) -> None:
    assert located(tmp_path) == {
        "app.unknown": (5, 3),  # metadata.app of the first document
        "capability.stop": (17, 3),  # spec.state of the second
        "platform.android-field": (25, 7),  # spec.push.message.android
    }


def test_an_unreadable_file_keeps_the_document_position() -> None:
    diagnostic = Diagnostic(
        severity="error",
        code="app.unknown",
        address="a/b",
        file="gone.yaml",
        line=3,
        column=1,
        message="m",
    )
    assert locate_fields([diagnostic], read=lambda name: (_ for _ in ()).throw(OSError())) == [
        diagnostic
    ]


@pytest.mark.parametrize("code", sorted(VALIDATION_CODES))
def test_every_validation_code_has_a_field(code: str) -> None:
    field_named_in_message = code in {"platform.android-field", "platform.ios-field"}
    assert field_named_in_message or code in FIELD_OF_CODE
