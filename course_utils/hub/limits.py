"""Per-attendee memory and CPU limits on one machine: a cgroup per attendee.

JupyterHub's ``LocalProcessSpawner`` ignores ``mem_limit`` and ``cpu_limit``; here each
attendee's server (and every kernel and process it starts) runs in cgroups of its own:

- **cgroup v1** (``/sys/fs/cgroup/memory`` and ``/sys/fs/cgroup/cpu`` mounted apart):
  ``memory.limit_in_bytes`` (and ``memory.memsw.limit_in_bytes`` where swap is accounted) and
  a CFS quota ``cpu.cfs_quota_us`` of ``cpus`` × ``cpu.cfs_period_us``.
- **cgroup v2** (one unified tree): ``memory.max``, ``memory.swap.max = 0`` and ``cpu.max``,
  in a sub-tree of the hub's own cgroup, which needs the memory and cpu controllers delegated
  to it (``Delegate=yes`` in the hub's systemd unit, or root in a container).

Folders are ``<hub's own cgroup>/<group>/<user>`` for each controller, so a limit never
exceeds what the hub itself may use. When neither works (no cgroup file system, not root, the
controllers not delegated) :class:`LimitsUnavailable` says why; the spawner then logs that
nothing is enforced. Per-process rlimits are not used instead: ``RLIMIT_AS`` counts address
space, and torch with its BLAS pools reserves gigabytes it never touches, so a cap at the
memory limit kills healthy kernels while not limiting the sum over an attendee's processes.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

CGROUP_FS = Path("/sys/fs/cgroup")
PROC_SELF_CGROUP = Path("/proc/self/cgroup")
CFS_PERIOD_US = 100_000
DEFAULT_GROUP = "course-hub"


class LimitsUnavailable(RuntimeError):
    """Limits can't be enforced here; the message says why and what would make them work."""


@dataclass(frozen=True)
class Limits:
    """What one attendee may use: bytes of memory and cores of CPU time (None: unlimited)."""

    memory_bytes: int | None = None
    cpus: float | None = None

    def describe(self) -> str:
        parts = []
        if self.memory_bytes:
            parts.append(f"memory {self.memory_bytes / 2**30:.1f} GiB")
        if self.cpus:
            parts.append(f"CPU {self.cpus:g} core{'s' if self.cpus != 1 else ''}")
        return ", ".join(parts) or "no limits"


@dataclass
class UserCgroups:
    """The cgroup folders one attendee's server runs in (one per hierarchy) and its version."""

    version: str  # "v1" or "v2"
    folders: list[Path] = field(default_factory=list)

    def join(self) -> None:
        """Move the calling process into every folder (in the server's child, before setuid)."""
        pid = str(os.getpid())
        for folder in self.folders:
            (folder / "cgroup.procs").write_text(pid)

    def pids(self) -> set[int]:
        """Every process now in the attendee's cgroups."""
        found: set[int] = set()
        for folder in self.folders:
            try:
                found |= {int(p) for p in (folder / "cgroup.procs").read_text().split()}
            except OSError:
                continue
        return found

    def peak_memory(self) -> int | None:
        """The most memory the cgroup was charged at once (v1 max_usage; v2 memory.peak)."""
        name = "memory.max_usage_in_bytes" if self.version == "v1" else "memory.peak"
        for folder in self.folders:
            try:
                return int((folder / name).read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
        return None

    def remove(self, wait_s: float = 5.0) -> list[Path]:
        """Kill what is left in the cgroups, then remove them; returns the folders still there."""
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + wait_s
        left = list(self.folders)
        while left and time.monotonic() < deadline:
            for folder in list(left):
                try:
                    folder.rmdir()
                except FileNotFoundError:
                    left.remove(folder)
                except OSError:  # EBUSY while the killed processes are reaped
                    continue
                else:
                    left.remove(folder)
            if left:
                time.sleep(0.1)
        return left


class Cgroups:
    """Creates per-user cgroups below the hub's own, on cgroup v1 or v2 (see module doc)."""

    def __init__(self, group: str = DEFAULT_GROUP, fs: Path = CGROUP_FS,
                 self_cgroup: Path = PROC_SELF_CGROUP) -> None:
        self.group, self.fs, self.self_cgroup = group, fs, self_cgroup

    def version(self) -> str:
        """"v2" for a unified tree, "v1" for separate memory and cpu hierarchies; else raise."""
        if (self.fs / "cgroup.controllers").is_file():
            return "v2"
        if all((self.fs / c / "cgroup.procs").is_file() for c in ("memory", "cpu")):
            return "v1"
        raise LimitsUnavailable(f"no cgroup file system with memory and cpu controllers at "
                                f"{self.fs}")

    def for_user(self, user: str, limits: Limits) -> UserCgroups:
        """The attendee's cgroups, created (or reused) with ``limits`` written; raise if not."""
        if os.sep in user or user in ("", ".", ".."):
            raise ValueError(f"not a user name: {user!r}")
        version = self.version()
        try:
            if version == "v1":
                return self._v1(user, limits)
            return self._v2(user, limits)
        except PermissionError as exc:
            raise LimitsUnavailable(f"cgroup {exc.filename}: permission denied (the hub must "
                                    "run as root to limit its users)") from exc
        except OSError as exc:
            raise LimitsUnavailable(f"cgroup {exc.filename}: {exc.strerror or exc}") from exc

    def existing(self, user: str) -> UserCgroups | None:
        """The user's cgroups when they exist now (for reading their peak), else None."""
        try:
            version = self.version()
            if version == "v1":
                folders = [self._base(self.fs / c, self._own(c)) / self.group / user
                           for c in ("memory", "cpu")]
            else:
                folders = [self._base(self.fs, self._own("")) / self.group / user]
        except (LimitsUnavailable, OSError):
            return None
        return UserCgroups(version, folders) if all(f.is_dir() for f in folders) else None

    def remove_group(self) -> None:
        """Remove the (empty) group folders once no user's cgroup is left in them."""
        try:
            version = self.version()
        except LimitsUnavailable:
            return
        mounts = [("memory", self.fs / "memory"), ("cpu", self.fs / "cpu")] if (
            version == "v1") else [("", self.fs)]
        for controller, mount in mounts:
            folder = self._base(mount, self._own(controller)) / self.group
            with suppress(OSError):  # not there, or a user's cgroup still in it
                folder.rmdir()

    def _own(self, controller: str) -> str:
        """The hub's own cgroup path in ``controller``'s hierarchy ("" for v2's line)."""
        for line in self.self_cgroup.read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            if controller in controllers.split(","):
                return path.lstrip("/")
        return ""

    def _base(self, mount: Path, own: str) -> Path:
        """The hub's own cgroup folder, or the mount itself when that is not visible here."""
        folder = mount / own
        return folder if own and folder.is_dir() else mount

    def _v1(self, user: str, limits: Limits) -> UserCgroups:
        made = UserCgroups("v1")
        for controller in ("memory", "cpu"):
            mount = self.fs / controller
            folder = self._base(mount, self._own(controller)) / self.group / user
            folder.mkdir(parents=True, exist_ok=True)
            made.folders.append(folder)
        memory, cpu = made.folders
        if limits.memory_bytes:
            (memory / "memory.limit_in_bytes").write_text(str(limits.memory_bytes))
            if (memory / "memory.memsw.limit_in_bytes").exists():  # no swapping past it
                (memory / "memory.memsw.limit_in_bytes").write_text(str(limits.memory_bytes))
        if limits.cpus:
            (cpu / "cpu.cfs_period_us").write_text(str(CFS_PERIOD_US))
            (cpu / "cpu.cfs_quota_us").write_text(str(round(limits.cpus * CFS_PERIOD_US)))
        return made

    def _v2(self, user: str, limits: Limits) -> UserCgroups:
        base = self._base(self.fs, self._own(""))
        wanted = {"memory", "cpu"}
        available = set((base / "cgroup.controllers").read_text().split())
        if not wanted <= available:
            raise LimitsUnavailable(
                f"the hub's cgroup {base} lacks the {' and '.join(sorted(wanted - available))} "
                "controller: run the hub as a systemd service with Delegate=yes")
        self._enable(base, wanted)
        group = base / self.group
        group.mkdir(exist_ok=True)
        self._enable(group, wanted)
        folder = group / user
        folder.mkdir(exist_ok=True)
        if limits.memory_bytes:
            (folder / "memory.max").write_text(str(limits.memory_bytes))
            if (folder / "memory.swap.max").exists():
                (folder / "memory.swap.max").write_text("0")
        if limits.cpus:
            quota = round(limits.cpus * CFS_PERIOD_US)
            (folder / "cpu.max").write_text(f"{quota} {CFS_PERIOD_US}")
        return UserCgroups("v2", [folder])

    def _enable(self, folder: Path, controllers: Iterable[str]) -> None:
        """Enable ``controllers`` for ``folder``'s children.

        v2 allows that only in a cgroup without processes of its own ("no internal
        processes"): when the hub itself sits in ``folder``, it first moves into a leaf
        ``folder/hub``. Other processes there make it fail, with the reason.
        """
        control = folder / "cgroup.subtree_control"
        missing = set(controllers) - set(control.read_text().split())
        if not missing:
            return
        line = " ".join(f"+{c}" for c in sorted(missing))
        try:
            control.write_text(line)
            return
        except OSError:
            own = {str(os.getpid())}
            if set((folder / "cgroup.procs").read_text().split()) - own:
                raise LimitsUnavailable(
                    f"{folder} holds other processes besides the hub, so cgroup v2 can't "
                    "enable memory and cpu limits below it: run the hub as its own systemd "
                    "service with Delegate=yes") from None
        leaf = folder / "hub"
        leaf.mkdir(exist_ok=True)
        (leaf / "cgroup.procs").write_text(str(os.getpid()))
        control.write_text(line)
