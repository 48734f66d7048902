"""What must hold before the class hub can start: each problem as one sentence with its fix.

Checked by ``deploy/hub/jupyterhub_config.py`` (the hub refuses to start on a problem), by the
rehearsal (tests skip with the sentence) and by the benchmark.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from .settings import HubSettings

ACCOUNT_TOOLS = ("useradd", "userdel", "chpasswd", "runuser")


def closed_folders(path: Path) -> list[Path]:
    """The folders above ``path`` (links resolved) that other users may not pass through."""
    real = Path(os.path.realpath(path))
    closed = []
    for folder in reversed(real.parents):
        try:
            mode = folder.stat().st_mode
        except OSError:
            closed.append(folder)
            continue
        if not mode & stat.S_IXOTH:
            closed.append(folder)
    return closed


def proxy_command(settings: HubSettings) -> str | None:
    """configurable-http-proxy: the venv's (install_hub.sh puts it there), else on PATH."""
    beside = settings.venv / "bin" / "configurable-http-proxy"
    return str(beside) if beside.is_file() else shutil.which("configurable-http-proxy")


def problems(settings: HubSettings, accounts: bool = False) -> list[str]:
    """Why the hub can't run here (empty when it can). ``accounts``: also the tools that
    create Linux users (the account script and the rehearsal need them, the hub does not)."""
    found = []
    if os.geteuid() != 0:
        found.append("the hub must run as root: it starts each server as its attendee's Linux "
                     "user (sudo make hub)")
    if proxy_command(settings) is None:
        found.append(f"configurable-http-proxy is missing: run `bash scripts/install_hub.sh "
                     f"{settings.venv}` (needs npm and node >= 20)")
    singleuser = settings.venv / "bin" / "jupyterhub-singleuser"
    if not singleuser.is_file():
        found.append(f"{singleuser} is missing: install the course into {settings.venv} "
                     "(make lab), which brings jupyterhub")
    python = settings.venv / "bin" / "python"
    closed = closed_folders(python)
    if closed:
        found.append(f"attendees can't run the course's Python {os.path.realpath(python)}: "
                     f"{closed[0]} is closed to other users (mode "
                     f"{stat.S_IMODE(closed[0].stat().st_mode):04o}); make the venv from a "
                     f"Python outside a private home, or `chmod o+x {closed[0]}`")
    if accounts:
        missing = [tool for tool in ACCOUNT_TOOLS if shutil.which(tool) is None]
        if missing:
            found.append(f"{', '.join(missing)} missing: install Debian's passwd and "
                         "util-linux packages")
    return found
