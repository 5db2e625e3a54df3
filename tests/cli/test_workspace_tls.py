"""A command's TPNS clients share one TLS context: the CA bundle is loaded once, not per app."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli.context import Workspace
from reconciler.cli.state_choice import StateChoice
from reconciler.domain.manifest.config import load_config

SECRET_ENV = "PUSHCTL_TLS_TEST_SECRET"
APPS = ("shop-android", "shop-ios", "news-android")


def write_config(folder: Path) -> Path:
    entries = "".join(
        f"  {name}:\n"
        f'    accessId: "15000010{index:02d}"\n'
        f"    platform: {'ios' if 'ios' in name else 'android'}\n"
        "    region: ap-guangzhou\n"
        f"    secretKeyEnv: {SECRET_ENV}\n"
        for index, name in enumerate(APPS)
    )
    path = folder / "pushctl.yaml"
    path.write_text(f"apps:\n{entries}state: sqlite:.pushctl/state.db\n", encoding="utf-8")
    return path


def test_clients_of_several_apps_load_the_ca_bundle_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads: list[object] = []
    real_load = ssl.SSLContext.load_verify_locations

    def counting_load(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        loads.append(args or kwargs)
        real_load(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counting_load)
    config_path = write_config(tmp_path)
    config = load_config(config_path)
    workspace = Workspace(
        config=config,
        config_path=config_path,
        env={SECRET_ENV: "tls-test-secret"},
        state=StateChoice(config.state, str(config_path), tmp_path),
    )
    clients = workspace.clients()
    try:
        assert sorted(clients) == sorted(APPS)
        assert len(loads) == 1
    finally:
        for client in clients.values():
            asyncio.run(client.aclose())
        workspace.close()
