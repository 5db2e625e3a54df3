"""A command's TPNS clients share one TLS context: the CA bundle is loaded once, not per app,
and not at all for plain-http endpoints (an emulator on loopback)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli.context import Workspace
from reconciler.cli.state_choice import StateChoice
from reconciler.domain.manifest.config import load_config

SECRET_ENV = "PUSHCTL_TLS_TEST_SECRET"
APPS = ("shop-android", "shop-ios", "news-android")


def write_config(folder: Path, *, endpoint: str | None = None) -> Path:
    where = f"    endpoint: {endpoint}\n" if endpoint else "    region: ap-guangzhou\n"
    entries = "".join(
        f"  {name}:\n"
        f'    accessId: "15000010{index:02d}"\n'
        f"    platform: {'ios' if 'ios' in name else 'android'}\n"
        f"{where}"
        f"    secretKeyEnv: {SECRET_ENV}\n"
        for index, name in enumerate(APPS)
    )
    path = folder / "pushctl.yaml"
    path.write_text(f"apps:\n{entries}state: sqlite:.pushctl/state.db\n", encoding="utf-8")
    return path


@pytest.fixture
def ca_loads(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    loads: list[object] = []
    real_load = ssl.SSLContext.load_verify_locations

    def counting_load(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        loads.append(args or kwargs)
        real_load(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counting_load)
    return loads


@contextmanager
def open_clients(tmp_path: Path, *, endpoint: str | None = None) -> Iterator[Workspace]:
    config_path = write_config(tmp_path, endpoint=endpoint)
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
        yield workspace
    finally:
        for client in clients.values():
            asyncio.run(client.aclose())
        workspace.close()


def test_clients_of_several_apps_load_the_ca_bundle_once(
    tmp_path: Path, ca_loads: list[object]
) -> None:
    with open_clients(tmp_path):
        assert len(ca_loads) == 1


def test_plain_http_endpoints_load_no_ca_bundle_and_trust_nothing(
    tmp_path: Path, ca_loads: list[object]
) -> None:
    with open_clients(tmp_path, endpoint="http://127.0.0.1:8080") as workspace:
        assert ca_loads == []
        context = workspace.tls_for("http://127.0.0.1:8080")
        assert context.verify_mode is ssl.CERT_REQUIRED
        assert context.check_hostname
        assert context.cert_store_stats()["x509_ca"] == 0
    assert workspace.tls_for("https://api.tpns.tencent.com").cert_store_stats()["x509_ca"] > 0
