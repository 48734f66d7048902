"""How many CPUs this process may really use, and how many threads each job should get.

The one place that sizes thread pools: grading (threads per ``--jobs``), the notebooks' helpers
(:func:`thread_count`), the device summary and the image's start hook (``python -m
course_utils.cpus``). ``os.cpu_count()`` counts the
machine's cores; a process may be pinned to fewer (CPU affinity: ``taskset``, ``docker run
--cpuset-cpus``) or given a share of them by a cgroup quota (``docker run --cpus``, a hub pod's
CPU limit). Thread pools sized to the machine then oversubscribe what the process may use, and
every cell runs slower. Standard library only: the start hook runs it before Jupyter starts.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")
# The thread pools of OpenMP (and PyTorch, which reads it), MKL, OpenBLAS and numba
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _quota(folder: Path, version: int) -> float | None:
    """The CPUs one cgroup folder's quota allows, or None (no limit, or nothing readable)."""
    if version == 2:
        quota, _, period = (_read(folder / "cpu.max") or "max").partition(" ")
    else:
        quota, period = (_read(folder / f"cpu.cfs_{name}_us") or "-1"
                         for name in ("quota", "period"))
    try:
        quota_us, period_us = int(quota), int(period)
    except ValueError:  # "max": no limit
        return None
    return quota_us / period_us if quota_us > 0 and period_us > 0 else None


def _own_cgroups(root: Path, membership: str) -> list[tuple[Path, int]]:
    """Folders whose CPU quota applies to this process: its cgroup, its ancestors, the root.

    ``membership`` is /proc/self/cgroup: ``0::/path`` (v2) or ``N:cpu,cpuacct:/path`` (v1).
    In a container the path is usually ``/`` (its own cgroup namespace).
    """
    found: list[tuple[Path, int]] = []
    for line in membership.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":
            version, bases = 2, [root]
        elif "cpu" in controllers.split(","):
            version, bases = 1, [root / "cpu", root / controllers]
        else:
            continue
        rel = PurePosixPath(path.strip() or "/").relative_to("/")
        for base in dict.fromkeys(bases):
            found += [(base / up, version) for up in [rel, *rel.parents]]
    if not found:  # no membership to read: the root's own files
        found = [(root, 2), (root / "cpu", 1)]
    return found


def cgroup_cpu_limit(root: Path = CGROUP_ROOT, membership: str | None = None) -> float | None:
    """The CPUs the cgroup quotas allow this process (the smallest along its cgroup), or None.

    cgroup v2 ``cpu.max`` (``200000 100000`` is 2 CPUs; ``max`` no limit) and v1
    ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` (quota -1: no limit). ``root`` and
    ``membership`` (the text of /proc/self/cgroup) are parameters for tests.
    """
    if membership is None:
        membership = _read(PROC_CGROUP) or ""
    limits = [q for folder, version in _own_cgroups(root, membership)
              if (q := _quota(folder, version)) is not None]
    return min(limits, default=None)


def usable_cpus(root: Path = CGROUP_ROOT, membership: str | None = None) -> int:
    """CPUs this process may use: its affinity, capped by a cgroup quota (a fraction rounded up)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows: no affinity to read
        cpus = os.cpu_count() or 1
    limit = cgroup_cpu_limit(root, membership)
    if limit is not None:
        cpus = min(cpus, math.ceil(limit))
    return max(1, cpus)


def threads_per_job(jobs: int = 1, environ: Mapping[str, str] | None = None,
                    cpus: int | None = None) -> dict[str, str]:
    """The thread-pool variables for each of ``jobs`` processes running side by side.

    Each gets its share of the usable CPUs (``cpus``, default :func:`usable_cpus`), at least
    one; where a variable is already set (the image's start hook sets them to the container's
    limit) the smaller of that and the share.
    """
    environ = os.environ if environ is None else environ
    share = max(1, (cpus or usable_cpus()) // max(1, jobs))
    sizes = {}
    for var in THREAD_VARS:
        try:
            given = int(environ.get(var, ""))
        except ValueError:
            given = 0
        sizes[var] = str(min(given, share) if given > 0 else share)
    return sizes


def thread_count(environ: Mapping[str, str] | None = None) -> int:
    """Threads one process should give its own pools: its usable CPUs, or fewer if so set.

    ``OMP_NUM_THREADS`` (when smaller) says so: grading sets it to each job's share.
    """
    return int(threads_per_job(1, environ)["OMP_NUM_THREADS"])


def main(argv: list[str]) -> int:
    """``python -m course_utils.cpus [JOBS]``: print the threads each of JOBS gets (default 1)."""
    jobs = int(argv[0]) if argv else 1
    print(threads_per_job(jobs, environ={})["OMP_NUM_THREADS"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
