"""The embedded emulator (`endpoint: emulator`) never writes the app's SecretKey to its file."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli.context import Workspace
from reconciler.cli.state_choice import StateChoice
from reconciler.domain.manifest.config import load_config
from reconciler.tpns.errors import PushIdNotFound

REAL_SECRET = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
CONFIG = """\
apps:
  shop-android:
    accessId: "1500001048"
    platform: android
    endpoint: emulator
    secretKeyEnv: SHOP_ANDROID_SECRET_KEY
state: sqlite:.pushctl/state.db
"""


def _workspace(root: Path) -> Workspace:
    path = root / "pushctl.yaml"
    path.write_text(CONFIG)
    env = {"SHOP_ANDROID_SECRET_KEY": REAL_SECRET}
    config = load_config(path)
    state = StateChoice(config.state, str(path), root)
    return Workspace(config=config, config_path=path, env=env, state=state)


async def test_embedded_emulator_file_holds_no_secret(tmp_path: Path) -> None:
    for _ in range(2):  # a second command opens the same file and registers the app again
        workspace = _workspace(tmp_path)
        client = workspace.client_for("shop-android")
        # Answered by the emulator (1008015), so the signature with the real key was accepted.
        with pytest.raises(PushIdNotFound):
            await client.get_push_record("123")
        workspace.close()
        for core in workspace.emulators.values():
            core.close()
    files = list((tmp_path / ".pushctl").glob("emulator.db*"))
    assert files
    assert all(REAL_SECRET.encode() not in f.read_bytes() for f in files)
