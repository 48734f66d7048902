"""A whole class on this machine, for a rehearsal or a benchmark, removed again afterwards.

:func:`classroom` makes a hub folder in ``/tmp``, an instructor and N attendees with random
names (a common prefix) and random passwords, stages the named datasets into the shared data
folder, starts the hub on a free loopback port (``deploy/hub/jupyterhub_config.py``, as
``make hub`` does, with ``COURSE_OFFLINE=1``: in class the data comes from the shared folder,
never from a download) and, on leaving, stops the hub (which stops every server), deletes the
users with their homes and the folder. Used by ``tests/test_hub.py`` and
``scripts/bench_hub.py``; an instructor can run the same rehearsal before class.

Every wait has a time limit; whatever fails says what it was doing and ends with the hub's log.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import requests

from .accounts import course_folder, remove_user
from .client import HubClient
from .limits import Cgroups
from .preflight import problems
from .settings import ClassList, HubSettings

REPO = Path(__file__).resolve().parents[2]
HUB_CONFIG = REPO / "deploy" / "hub" / "jupyterhub_config.py"
HUB_START_S = 90
HUB_STOP_S = 60
COMMAND_S = 300


class HubUnavailable(RuntimeError):
    """This machine can't run the class hub; the message says why and what to do."""


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Classroom:
    """A running hub and its class: what a rehearsal needs to act as each of them."""

    settings: HubSettings
    people: ClassList
    passwords: dict[str, str]
    log: Path
    proc: subprocess.Popen | None = None
    clients: dict[str, HubClient] = field(default_factory=dict)
    staging_note: str = ""  # what staging the data said, when not every file was there

    @property
    def url(self) -> str:
        return self.settings.url()

    def client(self, user: str) -> HubClient:
        """``user`` logged in through the login form (once), with an API token."""
        if user not in self.clients:
            client = HubClient(self.url, user)
            client.login(self.passwords[user])
            self.clients[user] = client
        return self.clients[user]

    def user_env(self, user: str) -> dict[str, str]:
        """The environment of ``user``'s server (as the spawner sets it), for commands run
        with ``runuser``."""
        home = str(Path(os.path.expanduser(f"~{user}")))
        keep = {k: v for k, v in os.environ.items() if k in ("PYTHONPATH", "LANG", "LC_ALL")}
        return {**keep, "HOME": home, "USER": user, "LOGNAME": user,
                "PATH": f"{self.settings.venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
                "COURSE_DATA_DIRS": str(self.settings.data), "COURSE_MODE": self.settings.mode,
                "JUPYTER_CONFIG_PATH": str(self.settings.jupyter_config),
                "JUPYTERHUB_USER": user, "COURSE_OFFLINE": "1"}

    def as_user(self, user: str, command: Sequence[str], cwd: Path | None = None,
                env: dict[str, str] | None = None,
                timeout: float = COMMAND_S) -> subprocess.CompletedProcess:
        """Run ``command`` as ``user`` (``runuser``), in their home unless ``cwd``."""
        home = Path(os.path.expanduser(f"~{user}"))
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"  # the root's PATH
        return subprocess.run([runuser, "-u", user, "--", *command], cwd=cwd or home,
                              env={**self.user_env(user), **(env or {})}, capture_output=True,
                              text=True, timeout=timeout, check=False)

    def instructor(self, command: Sequence[str], timeout: float = COMMAND_S,
                   check: bool = True) -> subprocess.CompletedProcess:
        """Run ``command`` as the instructor in their course folder; fail loudly if asked."""
        done = self.as_user(self.people.instructor, command,
                            cwd=course_folder(self.people.instructor), timeout=timeout)
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n"
                               f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the hub's log (for failure messages)."""
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no hub log)"


def _add_accounts(settings: HubSettings, people: ClassList) -> dict[str, str]:
    """The class's accounts, made with the documented script (``accounts add`` with a class
    list and ``--passwords``); returns the passwords it handed out."""
    class_list = settings.root / "class.txt"
    class_list.write_text("# the rehearsal's class\n" + "\n".join(people.attendees) + "\n")
    passwords = settings.root / "passwords.txt"
    done = subprocess.run([sys.executable, "-m", "course_utils.hub.accounts", "add",
                           "--instructor", people.instructor, str(class_list),
                           "--passwords", str(passwords)],
                          env={**os.environ, "COURSE_HUB_ROOT": str(settings.root)},
                          capture_output=True, text=True, timeout=COMMAND_S, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"accounts add failed ({done.returncode}): {done.stderr.strip()}")
    try:
        return dict(line.split(" ", 1) for line in passwords.read_text().splitlines())
    finally:
        passwords.unlink()


def stage_data(settings: HubSettings, names: Sequence[str]) -> str:
    """``course-utils data fetch NAMES --into <shared data>`` as root.

    Returns "" when every file was staged, else what the fetch said: a partial mirror still
    stages what it holds (the notebooks then use that and say what is missing). Raises
    :class:`HubUnavailable` when nothing at all could be staged.
    """
    if not names:
        return ""
    done = subprocess.run([sys.executable, "-m", "course_utils.cli", "data", "fetch", *names,
                           "--into", str(settings.data), "--quiet"],
                          capture_output=True, text=True, timeout=COMMAND_S, check=False)
    if done.returncode == 0:
        return ""
    said = done.stderr.strip().splitlines() or ["no message"]
    empty = [name for name in names if not any((settings.data / name).rglob("*.*"))]
    if empty:
        raise HubUnavailable(f"could not stage {', '.join(empty)} into {settings.data} "
                             f"(set COURSE_DATA_DIRS to a data mirror, or allow downloads): "
                             f"{said[0]}")
    return said[0]


def _start_hub(room: Classroom, env: dict[str, str]) -> None:
    """Start JupyterHub with the course's config; wait until its API answers."""
    with room.log.open("w") as log:
        room.proc = subprocess.Popen(
            [str(room.settings.venv / "bin" / "jupyterhub"), "-f", str(HUB_CONFIG)],
            cwd=room.settings.state, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + HUB_START_S
    while time.monotonic() < deadline:
        if room.proc.poll() is not None:
            raise RuntimeError(f"the hub exited with {room.proc.returncode}:\n{room.log_tail()}")
        with suppress(requests.RequestException):
            if requests.get(f"{room.url}/hub/api", timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise RuntimeError(f"the hub did not answer within {HUB_START_S} s:\n{room.log_tail()}")


def _stop_hub(room: Classroom) -> None:
    """SIGTERM the hub (it stops the servers and the proxy), SIGKILL if it hangs."""
    proc = room.proc
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=HUB_STOP_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@contextmanager
def classroom(attendees: int, datasets: Sequence[str] = (), mem_limit: str = "6G",
              cpu_limit: float = 1.0, keep_log: Path | None = None) -> Iterator[Classroom]:
    """A class of ``attendees`` on a running hub; everything is removed on leaving.

    Raises :class:`HubUnavailable` (before changing anything) when this machine can't run it.
    ``keep_log``: copy the hub's log there at the end.
    """
    prefix = "ch" + secrets.token_hex(3)
    root = Path(tempfile.mkdtemp(prefix="course-hub-"))
    os.chmod(root, 0o755)
    settings = HubSettings(root=root, port=free_port(), mem_limit=mem_limit,
                           cpu_limit=cpu_limit, cgroup=f"course-hub-{prefix}")
    env = {**os.environ, "COURSE_HUB_ROOT": str(root), "COURSE_HUB_PORT": str(settings.port),
           "COURSE_HUB_MEM_LIMIT": mem_limit, "COURSE_HUB_CPU_LIMIT": str(cpu_limit),
           "COURSE_HUB_CGROUP": settings.cgroup, "COURSE_OFFLINE": "1"}
    env.pop("COURSE_DATA_DIRS", None)  # the spawner sets the shared folder
    people = ClassList(f"{prefix}i", tuple(f"{prefix}a{n}" for n in range(1, attendees + 1)))
    room = Classroom(settings, people, {}, settings.state / "hub.log")
    try:
        found = problems(settings, accounts=True)
        if found:
            raise HubUnavailable("; ".join(found))
        room.passwords = _add_accounts(settings, people)
        room.staging_note = stage_data(settings, datasets)
        _start_hub(room, env)
        yield room
    finally:
        _stop_hub(room)
        if keep_log is not None and room.log.exists():
            keep_log.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(room.log, keep_log)
        for name in people.everyone:
            with suppress(RuntimeError, subprocess.TimeoutExpired):
                remove_user(name)
        Cgroups(settings.cgroup).remove_group()  # the users' own went with their servers
        shutil.rmtree(root, ignore_errors=True)
