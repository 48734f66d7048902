"""The one-machine class hub: JupyterHub with one Linux account per attendee.

``deploy/hub/jupyterhub_config.py`` wires these modules into JupyterHub; ``deploy/README.md``
is the instructor's guide. Modules:

- :mod:`.settings` — where the hub keeps its state, data, exchange and class list (one place,
  read by the config, the account script and ``course-utils doctor``).
- :mod:`.accounts` — ``python -m course_utils.hub.accounts``: Linux users from a class list,
  the instructor's nbgrader course folder, the shared folders with their permissions.
- :mod:`.limits` — per-attendee memory and CPU limits through cgroups (v1 or v2).
- :mod:`.spawner` — ``CourseSpawner``: LocalProcessSpawner that starts each server inside its
  attendee's cgroup and removes whatever is left there when it stops (imports jupyterhub).
- :mod:`.exchange` — checks of nbgrader's exchange folder for ``course-utils doctor``.
"""
