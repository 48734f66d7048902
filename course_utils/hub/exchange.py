"""Is nbgrader's exchange folder usable by everyone? Checks for ``course-utils doctor``.

nbgrader's default exchange copies files between users through one folder: attendees write
their submissions into ``<root>/<course>/inbound`` and read releases from ``outbound``. It
needs (nbgrader's "Setting up the exchange" docs, and what ``release_assignment`` creates):

- the root writable by everyone: mode 0777, best 1777 (the sticky bit: nobody can delete or
  rename what another user made, such as the instructor's course folder);
- ``<course>/outbound`` readable by everyone (0755);
- ``<course>/inbound`` writable but not listable by everyone (2733), so attendees can hand in
  without seeing each other's submissions.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ROOT = Path("/srv/nbgrader/exchange")
CONFIG_FILE = "nbgrader_config.py"


@dataclass(frozen=True)
class Finding:
    """One problem with the exchange: ``severe`` (nbgrader fails) or a warning; its fix."""

    severe: bool
    detail: str
    fix: str


@dataclass(frozen=True)
class ExchangeConfig:
    """The exchange root and course id nbgrader would use here, and where they came from."""

    root: Path
    course_id: str
    source: str  # the config file naming the root, or "nbgrader's default"


def nbgrader_settings(cwd: Path | None = None) -> ExchangeConfig | None:
    """The exchange settings of the ``nbgrader_config.py`` files nbgrader reads here.

    Those of the Jupyter config path (``JUPYTER_CONFIG_PATH`` first), then the current folder,
    later ones winning, as nbgrader merges them. None when no file configures an exchange and
    nbgrader's default root does not exist (a laptop without nbgrader's exchange).
    """
    from jupyter_core.paths import jupyter_config_path
    from traitlets.config import Config, PyFileConfigLoader

    merged, source = Config(), "nbgrader's default"
    folders = [*reversed(jupyter_config_path()), str(cwd or Path.cwd())]
    for folder in dict.fromkeys(folders):
        if not (Path(folder) / CONFIG_FILE).is_file():
            continue
        try:
            loaded = PyFileConfigLoader(CONFIG_FILE, path=folder).load_config()
        except Exception:  # a broken file is nbgrader's to report; look at the others
            continue
        merged.merge(loaded)
        if "root" in loaded.get("Exchange", {}):
            source = str(Path(folder) / CONFIG_FILE)
    exchange, course = merged.get("Exchange", {}), merged.get("CourseDirectory", {})
    root = Path(exchange["root"]) if "root" in exchange else DEFAULT_ROOT
    if "root" not in exchange and not root.exists():
        return None
    return ExchangeConfig(root, str(course.get("course_id", "")), source)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def check_exchange(root: Path, course_id: str = "") -> list[Finding]:
    """What is wrong with the exchange at ``root`` (and its course folder); [] when fine."""
    if not root.is_dir():
        return [Finding(True, f"{root} does not exist",
                        f"sudo mkdir -p {root} && sudo chmod 1777 {root}")]
    mode = _mode(root)
    found = []
    if mode & 0o777 != 0o777:
        found.append(Finding(True, f"{root} has mode {mode:04o}: attendees can't fetch or "
                             "submit", f"sudo chmod 1777 {root}"))
    elif not mode & stat.S_ISVTX:
        found.append(Finding(False, f"{root} has mode {mode:04o} (no sticky bit): any user may "
                             "delete or rename the course folder", f"sudo chmod +t {root}"))
    course = root / course_id if course_id else None
    if course is None or not course.is_dir():
        return found
    for name, need, forbid, fix_mode in (("outbound", 0o005, 0, "755"),
                                         ("inbound", 0o003, 0o004, "2733")):
        folder = course / name
        if not folder.is_dir():
            continue
        have = _mode(folder)
        if have & need != need:
            found.append(Finding(True, f"{folder} has mode {have:04o}: attendees can't "
                                 + ("fetch" if name == "outbound" else "submit"),
                                 f"sudo chmod {fix_mode} {folder}"))
        elif have & forbid:
            found.append(Finding(False, f"{folder} has mode {have:04o}: attendees can list "
                                 "each other's submissions", f"sudo chmod {fix_mode} {folder}"))
    if not os.access(root, os.W_OK | os.X_OK) and not found:
        found.append(Finding(True, f"{root} is not writable by this user",
                             f"sudo chmod 1777 {root}"))
    return found
