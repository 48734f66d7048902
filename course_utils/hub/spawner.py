"""``CourseSpawner``: JupyterHub's LocalProcessSpawner with per-attendee cgroup limits.

Each attendee's server starts as their own Linux user (LocalProcessSpawner's setuid), inside
cgroups made for them by :class:`course_utils.hub.limits.Cgroups` with the spawner's
``mem_limit`` and ``cpu_limit``, so the server, its kernels and anything they start share one
memory and one CPU budget. When the server stops, whatever is left in its cgroups (a kernel
orphaned by a killed server, a stray ``multiprocessing`` worker) is killed and the cgroups are
removed. Where cgroups can't be used the server still starts, and the hub log says once per
spawn what is not enforced and why. Imported by ``deploy/hub/jupyterhub_config.py`` only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from jupyterhub.spawner import LocalProcessSpawner, set_user_setuid
from traitlets import Unicode

from .limits import DEFAULT_GROUP, Cgroups, Limits, LimitsUnavailable, UserCgroups


class CourseSpawner(LocalProcessSpawner):
    """Local processes, one Linux user each, limited by cgroups where the machine allows."""

    cgroup_group = Unicode(
        DEFAULT_GROUP, config=True,
        help="Name of the cgroup folder (below the hub's own) that holds one cgroup per user.")

    _cgroups: UserCgroups | None = None

    def limits(self) -> Limits:
        """The configured limits (``c.Spawner.mem_limit`` / ``cpu_limit``)."""
        return Limits(memory_bytes=self.mem_limit or None, cpus=self.cpu_limit or None)

    async def start(self):
        """Make the user's cgroups (or log why not), then start as LocalProcessSpawner does."""
        limits = self.limits()
        self._cgroups = None
        if limits.memory_bytes or limits.cpus:
            try:
                self._cgroups = Cgroups(self.cgroup_group).for_user(self.user.name, limits)
            except LimitsUnavailable as exc:
                self.log.warning("Limits for %s NOT enforced (%s): %s", self.user.name,
                                 limits.describe(), exc)
            else:
                self.log.info("Limits for %s: %s (cgroup %s)", self.user.name,
                              limits.describe(), self._cgroups.version)
        return await super().start()

    def make_preexec_fn(self, name: str) -> Callable[[], None]:
        """Join the user's cgroups (still as root), then become the user."""
        become_user = set_user_setuid(name)
        cgroups = self._cgroups

        def preexec() -> None:
            if cgroups is not None:
                cgroups.join()
            become_user()

        return preexec

    async def stop(self, now: bool = False) -> None:
        """Stop the server, then kill what is left in its cgroups and remove them."""
        await super().stop(now=now)
        await self.remove_cgroups()

    async def poll(self):
        """As LocalProcessSpawner; a server found dead also loses what it left behind."""
        status = await super().poll()
        if status is not None:
            await self.remove_cgroups()
        return status

    async def remove_cgroups(self) -> None:
        """Kill the processes left in the user's cgroups and remove the cgroups (in a thread:
        removing waits for the killed processes, and the hub's event loop serves everyone)."""
        cgroups = self._cgroups
        if cgroups is None:
            return
        self._cgroups = None
        left = await asyncio.to_thread(cgroups.remove)
        if left:
            self.log.warning("cgroups of %s still busy, not removed: %s", self.user.name,
                             ", ".join(map(str, left)))
