"""Who runs this command, where, at which commit: for lock holders and audit records."""

from __future__ import annotations

import getpass
import socket
import subprocess
from collections.abc import Mapping

from reconciler.state.audit import Provenance, provenance_from_env


def git_head() -> str | None:
    """The commit checked out in the current folder, or None outside a git work tree."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def local_provenance(env: Mapping[str, str]) -> Provenance:
    """CI variables first; the local user, host and `git rev-parse HEAD` fill the rest."""
    try:
        user: str | None = getpass.getuser()
    except (OSError, KeyError):  # no login name, e.g. an arbitrary uid in a container
        user = None
    return provenance_from_env(
        env, local_user=user, local_host=socket.gethostname(), local_commit=git_head()
    )
