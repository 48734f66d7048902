"""The sandbox that grading kernels run in: bubblewrap, and whether this machine can run it.

A sandbox sees the whole file system read-only (code, the Python environment, the datasets)
except what the batch hides: the worker's course folder and gradebook, the solution and source
notebooks, the submissions, the feedback folder and the gradebook CSV, each covered by an empty
read-only folder (a file by ``/dev/null``, which can't be opened there). ``/tmp`` and
``/dev/shm`` are private, empty and writable, ``/run`` (the machine's service sockets) private
and empty; the only folder shared with the grader, writable, is the template's kernel folder
(connection files and ipc sockets). Network, pids, IPC and hostname are the sandbox's own, no
capability is kept, and every process in it is killed when the process that started ``bwrap``
goes. See :mod:`.forked_kernels` for the template that runs inside.

:func:`probe` says whether bubblewrap works here (``course-utils doctor`` reports it);
:func:`for_batch` makes a batch's :class:`Sandbox`, or says loudly that submissions are not
isolated.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

INSTALL_FIX = "apt-get install bubblewrap (Debian/Ubuntu), or your distribution's bubblewrap"
NAMESPACE_FIX = ("let bubblewrap create user namespaces (`sysctl -w "
                 "kernel.unprivileged_userns_clone=1`; in a container, a seccomp profile that "
                 "allows them)")
NOT_ISOLATED = (
    "WARNING: submissions are NOT isolated: {why}. Student code can read and change the "
    "gradebook, the solutions and other submissions, use the network, and leave processes "
    "running. Grade untrusted submissions only where `course-utils doctor` reports the "
    "sandbox OK ({fix}).")
# Private, empty and writable in every sandbox (wiped by the template between kernels).
PRIVATE_WRITABLE = ("/tmp",)
# Private and empty, read-only: sockets of the machine's services (D-Bus, Docker, ...) live here.
PRIVATE_EMPTY = ("/run",)


@dataclass(frozen=True)
class Status:
    """Whether grading kernels can be sandboxed here, and why not."""

    available: bool
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class Sandbox:
    """A batch's sandbox: the paths to hide, and those under them that kernels still need."""

    hidden: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()

    def command(self, argv: list[str], writable: tuple[str, ...] = ()) -> list[str]:
        """``argv`` run inside bubblewrap, with ``writable`` folders bound at the same path."""
        return [bwrap(), *base_options(), *self.mounts(writable), "--", *argv]

    def mounts(self, writable: tuple[str, ...] = ()) -> list[str]:
        """bwrap's mount options: shallower paths first, so that deeper mounts land on top."""
        hidden = [p for p in dict.fromkeys([*PRIVATE_WRITABLE, *PRIVATE_EMPTY, *self.hidden])
                  if os.path.lexists(p)]
        folders = [p for p in hidden if os.path.isdir(p)]
        keep = [k for k in dict.fromkeys(self.keep)  # a hidden folder itself stays hidden
                if os.path.exists(k) and k not in hidden and any(_inside(k, h) for h in folders)]
        ops: list[tuple[str, list[str]]] = []
        for path in hidden:
            if os.path.isdir(path):
                ops.append((path, ["--tmpfs", path]))
            else:  # a file: an empty one in its place
                ops.append((path, ["--ro-bind", "/dev/null", path]))
        ops += [(k, ["--ro-bind", k, k]) for k in keep]
        ops += [(w, ["--bind", w, w]) for w in writable]
        ops.sort(key=lambda op: len(Path(op[0]).parts))  # stable: hide, then keep, then bind
        options = [arg for _, args in ops for arg in args]
        # read-only from here on; mounts made below them stay as they are
        for path in folders:
            if path not in PRIVATE_WRITABLE and path not in keep and path not in writable:
                options += ["--remount-ro", path]
        return options


def _inside(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or below it."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def bwrap() -> str:
    """The bubblewrap executable ('' when missing)."""
    return shutil.which("bwrap") or ""


def base_options() -> list[str]:
    """Everything read-only, private /dev and /proc, new namespaces, no capabilities."""
    return ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
            "--unshare-all", "--cap-drop", "ALL", "--die-with-parent", "--new-session"]


@functools.lru_cache(maxsize=1)
def probe() -> Status:
    """Whether bubblewrap can make a sandbox here (tried once per process: it starts one)."""
    if not sys.platform.startswith("linux"):
        return Status(False, f"bubblewrap needs Linux; this is {sys.platform}",
                      "grade on Linux with bubblewrap installed")
    if not bwrap():
        return Status(False, "bubblewrap (bwrap) is not installed", INSTALL_FIX)
    try:
        result = subprocess.run([bwrap(), *base_options(), *Sandbox().mounts(), "--", "true"],
                                capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Status(False, f"bubblewrap does not run ({exc})", INSTALL_FIX)
    if result.returncode != 0:
        why = (result.stderr.strip().splitlines() or ["no message"])[-1]
        return Status(False, f"bubblewrap cannot create a sandbox here ({why})", NAMESPACE_FIX)
    return Status(True, f"grading kernels run in bubblewrap ({bwrap()})")


def kept_paths() -> list[str]:
    """What kernels need even when it lies under a hidden folder: Python, its path, the data."""
    from ..data.locations import BUNDLED_DIR, cache_dir, mirror_dirs

    package = Path(__file__).resolve().parents[1]
    found = [sys.prefix, sys.base_prefix, sys.exec_prefix, str(package), str(BUNDLED_DIR),
             str(cache_dir()), *map(str, mirror_dirs()),
             *[p for p in sys.path if p and os.path.isabs(p)]]
    if os.environ.get("MATPLOTLIBRC"):
        found.append(os.environ["MATPLOTLIBRC"])
    return list(dict.fromkeys(os.path.realpath(p) for p in found))


def repository_notebooks() -> Path:
    """The course repository's ``notebooks/`` (sources and solutions), where the package is."""
    return Path(__file__).resolve().parents[2] / "notebooks"


def for_batch(hide: list[Path], fresh_kernels: bool = False) -> Sandbox | None:
    """The sandbox hiding ``hide`` (and the repository's notebooks), or None, said loudly.

    Said once per batch, on stderr, where submissions will not be isolated.
    """
    status = probe()
    if not status.available:
        print(NOT_ISOLATED.format(why=status.detail, fix=status.fix), file=sys.stderr)
        return None
    if fresh_kernels:
        print("WARNING: submissions are NOT isolated with --fresh-kernels: only kernels forked "
              "from the template are sandboxed; leave out --fresh-kernels to isolate them.",
              file=sys.stderr)
        return None
    paths = [*hide, repository_notebooks()]
    hidden = tuple(dict.fromkeys(os.path.realpath(p) for p in paths if os.path.lexists(p)))
    return Sandbox(hidden=hidden, keep=tuple(kept_paths()))
