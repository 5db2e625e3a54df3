"""Policy diagnostics point at the offending field's file:line:column."""

from __future__ import annotations

from pathlib import Path

from reconciler.domain.manifest.loader import load_manifests
from reconciler.domain.manifest.models import PushctlConfig
from reconciler.domain.policy.locate import check_policy

APPS = {
    "shop-android": {
        "accessId": "1500001048",
        "platform": "android",
        "region": "ap-guangzhou",
        "secretKeyEnv": "K",
    }
}
CONFIG = PushctlConfig.model_validate(
    {"apps": APPS, "policy": {"links": {"allow": ["*.example.com"]}}}
)
TASK = """\
apiVersion: pushctl/v1
kind: PushTask
metadata: {{name: {name}, app: shop-android}}
spec:
  state: active
  push:
    audience_type: all
    message_type: notify
    message:
      title: Sale
      content: Today only
      android:
        action:
          action_type: 2
          browser:
            url: {url}
"""


def test_the_second_document_of_a_file_is_located_at_its_url(tmp_path: Path) -> None:
    first = TASK.format(name="fine", url="https://shop.example.com/a")
    second = TASK.format(name="typo", url="https://shop.exmaple.com/b")
    path = tmp_path / "tasks.yaml"
    path.write_text(f"# two tasks\n{first}---\n{second}")
    tasks = load_manifests([path])
    (found,) = check_policy(tasks, CONFIG, read_source=lambda name: Path(name).read_text())
    # Line 1 is the comment, the first document 2-17, `---` 18; the second starts at 19.
    assert (found.file, found.line, found.column) == (str(path), 34, 13)
    assert found.address == "shop-android/typo"
    assert found.code == "policy.links"


def test_an_unreadable_source_falls_back_to_the_task(tmp_path: Path) -> None:
    path = tmp_path / "tasks.yaml"
    path.write_text("\n" + TASK.format(name="typo", url="https://evil.io/b"))
    tasks = load_manifests([path])
    (found,) = check_policy(tasks, CONFIG, read_source=lambda name: None)
    assert (found.line, found.column) == (2, 1)
