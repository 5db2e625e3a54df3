"""The composition root: config, state store, TPNS clients and clock, built for a command.

Only the CLI wires concrete pieces together; the engine receives them ready-made.
An app whose endpoint is `emulator[:PATH]` gets the embedded emulator (a SQLite file, by default
`.pushctl/emulator.db` beside pushctl.yaml) through an in-process ASGI transport.

Every client's quota ledger starts from the state store's log of the app's statistics calls in
the last window, and writes each call it reserves back to that log as it is made: the hourly
get_push_record quota is shared by every pushctl run on the app (earlier commands, CI jobs on
the same state), not only by this process (docs/design.md, "From YAML to an API call").
"""

from __future__ import annotations

import os
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import click
import httpx

from reconciler.cli.main import GlobalOptions
from reconciler.cli.state_choice import StateChoice, choose_state, flag_or_env
from reconciler.domain.manifest.config import find_config, load_config
from reconciler.domain.manifest.models import AppConfig, PushctlConfig
from reconciler.errors import ConfigError
from reconciler.state import open_store
from reconciler.tpns.auth import Secret
from reconciler.tpns.client import TpnsClient
from reconciler.tpns.endpoints import PUSH_APP, STATISTICS_PATHS, resolve_base_url
from reconciler.tpns.quota import QuotaLedger

if TYPE_CHECKING:
    from reconciler.emulator import EmulatorCore
    from reconciler.state.store import StateStore

EMULATOR_ENDPOINT = "emulator"
DEFAULT_EMULATOR_DB = ".pushctl/emulator.db"
#: Secret the embedded emulator uses when the app's secretKeyEnv is unset: it guards nothing real.
EMULATOR_FALLBACK_SECRET = "pushctl-emulator-local-secret"
#: Paths whose calls are kept in the state store's call log, so the next command (a rerun after
#: a kill, another CI job) counts them: the hourly-limited reads, and broadcast pushes, whose
#: 1/s spacing runs from the previous push's answer.
LOGGED_PATHS = frozenset({*STATISTICS_PATHS, PUSH_APP})


@dataclass
class Workspace:
    """Everything a command needs, resolved from --config / pushctl.yaml and the environment."""

    config: PushctlConfig
    config_path: Path
    env: Mapping[str, str]
    #: The store this command uses (`--state`, PUSHCTL_STATE or pushctl.yaml's `state:`).
    state: StateChoice
    emulators: dict[str, EmulatorCore] = field(default_factory=dict)
    #: The state handle the call log goes through: opened with the first client, kept until
    #: `close()` (open_workspace ties that to the end of the click command).
    _call_log: StateStore | None = field(default=None, init=False, repr=False)

    @property
    def base_dir(self) -> Path:
        return self.config_path.parent

    @cached_property
    def tls(self) -> ssl.SSLContext:
        """The TLS settings every client of this command shares: loading the CA bundle costs
        about 25 ms, and httpx would load it once per client (per app)."""
        return httpx.create_ssl_context()

    def tls_for(self, base_url: str) -> ssl.SSLContext:
        """The shared context for an https endpoint. A plain-http one (an emulator on loopback)
        never shakes hands: it gets a context that trusts no certificate, so no CA bundle is
        loaded for it and a redirect to https could not be trusted either."""
        if base_url.startswith("https://"):
            return self.tls
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)

    def now(self) -> datetime:
        """The current time; the embedded emulator's clock when one is in use."""
        for core in self.emulators.values():
            return core.now()
        return datetime.now(UTC)

    def open_state(self) -> StateStore:
        return open_store(self.state.url, base_dir=self.state.base_dir)

    def close(self) -> None:
        """Close the call log's state handle; a later client opens it again."""
        store, self._call_log = self._call_log, None
        if store is not None:
            store.close()

    def call_log(self) -> StateStore:
        """The state store the TPNS call log is read from and written to, opened once."""
        if self._call_log is None:
            self._call_log = self.open_state()
        return self._call_log

    def quota_for(self, app_key: str, clock: Callable[[], float], *, access_id: str) -> QuotaLedger:
        """A fresh ledger for the app that counts the calls already logged in its windows.

        `clock` must be the client's: the embedded emulator's clock, or wall time.
        """
        store = self.call_log()

        def log_call(path: str, at: float) -> None:
            # Written through as each call is reserved: a run that crashes still counts it.
            if path in LOGGED_PATHS:
                self.call_log().record_calls(app_key, path, [at])

        def log_answer(path: str, sent_at: float, answered_at: float) -> None:
            if path in LOGGED_PATHS:
                self.call_log().move_call(app_key, path, sent_at=sent_at, answered_at=answered_at)

        ledger = QuotaLedger(clock, app=access_id, on_reserve=log_call, on_settle=log_answer)
        now = clock()
        for path in sorted(LOGGED_PATHS):
            limit = ledger.limit(path)
            if limit is not None:
                ledger.preload(path, store.calls_since(app_key, path, now - limit.window))
        return ledger

    def client_for(self, app_key: str) -> TpnsClient:
        app = self.config.apps.get(app_key)
        if app is None:
            known = ", ".join(sorted(self.config.apps))
            raise ConfigError(
                f"app {app_key!r} is not in {self.config_path}", hint=f"known apps: {known}"
            )
        if is_emulator_endpoint(app.endpoint):
            return self._embedded_client(app_key, app)
        secret = self._secret(app)
        base_url = resolve_base_url(region=app.region, endpoint=app.endpoint)
        clock: Callable[[], float] = time.time
        return TpnsClient(
            access_id=app.access_id,
            secret=secret,
            base_url=base_url,
            auth=app.auth,
            clock=clock,
            utc_offset=self.config.tpns_utc_offset,
            quota=self.quota_for(app_key, clock, access_id=app.access_id),
            tls=self.tls_for(base_url),
        )

    def clients(self, app_keys: Sequence[str] | None = None) -> dict[str, TpnsClient]:
        keys = sorted(self.config.apps) if app_keys is None else sorted(set(app_keys))
        return {key: self.client_for(key) for key in keys}

    def _secret(self, app: AppConfig) -> Secret:
        value = self.env.get(app.secret_key_env)
        if value:
            return Secret(value)
        if is_emulator_endpoint(app.endpoint):
            return Secret(EMULATOR_FALLBACK_SECRET)
        raise ConfigError(
            f"environment variable {app.secret_key_env} is not set "
            f"(the SecretKey of app {app.access_id})",
            hint=f"export {app.secret_key_env}=... ; secrets are read only from the environment",
        )

    def _embedded_client(self, app_key: str, app: AppConfig) -> TpnsClient:
        # Imported on use: only commands that talk to an embedded emulator pay for it.
        from reconciler.emulator import AppSpec, create_app  # noqa: PLC0415

        core = self._emulator(app.endpoint or EMULATOR_ENDPOINT)
        secret = self._secret(app)
        # The secret may be a real SecretKey from the environment: the emulator's file keeps
        # only a salted digest of it, this process keeps the secret itself in memory.
        core.add_app(
            AppSpec(
                access_id=app.access_id,
                secret=secret.reveal(),
                platform=app.platform.value,
                recall_enabled=app.capabilities.recall,
            ),
            persist_secret=False,
        )
        clock: Callable[[], float] = lambda: core.now().timestamp()  # noqa: E731
        return TpnsClient(
            access_id=app.access_id,
            secret=secret,
            base_url="http://127.0.0.1",  # in-process; the host is never resolved
            auth=app.auth,
            transport=httpx.ASGITransport(app=create_app(core)),
            clock=clock,
            utc_offset=self.config.tpns_utc_offset,
            quota=self.quota_for(app_key, clock, access_id=app.access_id),
        )

    def _emulator(self, endpoint: str) -> EmulatorCore:
        from reconciler.emulator import EmulatorCore  # noqa: PLC0415

        _, _, rel = endpoint.partition(":")
        db_path = (self.base_dir / (rel or DEFAULT_EMULATOR_DB)).resolve()
        key = str(db_path)
        if key not in self.emulators:
            db_path.parent.mkdir(parents=True, exist_ok=True)
            self.emulators[key] = EmulatorCore(db_path=db_path)
        return self.emulators[key]


def is_emulator_endpoint(endpoint: str | None) -> bool:
    return endpoint is not None and (
        endpoint == EMULATOR_ENDPOINT or endpoint.startswith(EMULATOR_ENDPOINT + ":")
    )


def global_options(ctx: click.Context) -> GlobalOptions:
    obj = ctx.find_root().obj
    if isinstance(obj, GlobalOptions):
        return obj
    return GlobalOptions(config=None, color=False, verbose=0)


def open_workspace(ctx: click.Context, manifest_paths: Sequence[Path] = ()) -> Workspace:
    """Find and load pushctl.yaml for this command; what it opens is closed with the command."""
    options = global_options(ctx)
    path = find_config(options.config, list(manifest_paths))
    config, env = load_config(path), dict(os.environ)
    state = choose_state(ctx, env, configured=config.state, config_path=path)
    workspace = Workspace(config=config, config_path=path, env=env, state=state)
    ctx.call_on_close(workspace.close)
    return workspace


def open_state_store(ctx: click.Context) -> StateStore:
    """The store `--state` or PUSHCTL_STATE names (no pushctl.yaml needed), else the config's."""
    chosen = flag_or_env(ctx, os.environ)
    if chosen is not None:
        return open_store(chosen.url, base_dir=chosen.base_dir)
    return open_workspace(ctx).open_state()
