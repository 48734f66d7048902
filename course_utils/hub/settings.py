"""Where the class hub keeps everything, read from environment variables with defaults.

One place that ``deploy/hub/jupyterhub_config.py``, the account script
(:mod:`course_utils.hub.accounts`) and the hub tests agree on::

    COURSE_HUB_ROOT/           (default /srv/course-hub, 0755 root)
      state/                   the hub's database, cookie secret, logs (0700 root)
      data/                    the shared read-only datasets (0755 root, files 0644)
      exchange/                nbgrader's exchange (1777: everyone writes, nobody deletes others')
      jupyter/                 nbgrader_config.py for every user (course id, exchange root)
      class.json               the instructor and the attendees (written by the account script)
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT_ENV = "COURSE_HUB_ROOT"
DEFAULT_ROOT = "/srv/course-hub"
DEFAULT_COURSE_ID = "course"


def _env(name: str, default: str) -> str:
    """An environment variable, or ``default`` when unset or blank."""
    return os.environ.get(name, "").strip() or default


class _Below:
    """A path below the settings' ``root``, read as an attribute (``settings.exchange``)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, settings: HubSettings | None, owner: type | None = None) -> Path:
        if settings is None:
            raise AttributeError(self.name)
        return settings.root / self.name


@dataclass(frozen=True)
class HubSettings:
    """The hub's folders, address and per-attendee limits (see the module docstring)."""

    root: Path = field(default_factory=lambda: Path(_env(ROOT_ENV, DEFAULT_ROOT)))
    ip: str = field(default_factory=lambda: _env("COURSE_HUB_IP", "127.0.0.1"))
    port: int = field(default_factory=lambda: int(_env("COURSE_HUB_PORT", "8000")))
    course_id: str = field(default_factory=lambda: _env("COURSE_HUB_COURSE_ID",
                                                        DEFAULT_COURSE_ID))
    mem_limit: str = field(default_factory=lambda: _env("COURSE_HUB_MEM_LIMIT", "6G"))
    cpu_limit: float = field(default_factory=lambda: float(_env("COURSE_HUB_CPU_LIMIT", "1")))
    cull_idle_s: int = field(default_factory=lambda: int(_env("COURSE_HUB_CULL_IDLE_S", "3600")))
    mode: str = field(default_factory=lambda: _env("COURSE_MODE", "quick"))
    cgroup: str = field(default_factory=lambda: _env("COURSE_HUB_CGROUP", "course-hub"))
    venv: Path = field(default_factory=lambda: Path(sys.prefix))

    state = _Below("state")
    data = _Below("data")
    exchange = _Below("exchange")
    jupyter_config = _Below("jupyter")
    class_file = _Below("class.json")

    def url(self) -> str:
        """The hub's address as attendees open it (through the proxy)."""
        return f"http://{self.ip}:{self.port}"


@dataclass(frozen=True)
class ClassList:
    """Who is in the class: one instructor (a hub admin) and the attendees."""

    instructor: str
    attendees: tuple[str, ...]

    @property
    def everyone(self) -> tuple[str, ...]:
        return (self.instructor, *self.attendees)

    def write(self, path: Path) -> None:
        path.write_text(json.dumps({"instructor": self.instructor,
                                    "attendees": list(self.attendees)}, indent=2) + "\n")

    @classmethod
    def read(cls, path: Path) -> ClassList:
        """The class of ``path``; a missing file says which command writes it."""
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError:
            raise FileNotFoundError(
                f"{path} is missing: create the accounts first with `sudo "
                "python -m course_utils.hub.accounts add --instructor NAME CLASS_LIST` "
                "(deploy/README.md, 'One machine')") from None
        return cls(raw["instructor"], tuple(raw["attendees"]))
