"""JupyterHub 5 for one machine: the class hub that `make hub` starts (deploy/README.md).

Run as root from the course's virtual environment (its Python imports course_utils):

    sudo .venv/bin/jupyterhub -f deploy/hub/jupyterhub_config.py

- Attendees log in with their Linux account (PAM) on http://127.0.0.1:8000 by default
  (``COURSE_HUB_IP``/``COURSE_HUB_PORT``; put HTTPS in front before opening it to a network).
  Only the accounts of ``class.json`` may log in; its instructor is the hub's admin.
  Accounts come from ``python -m course_utils.hub.accounts add`` (no default passwords).
- Each server runs as its attendee (LocalProcessSpawner) with the course's virtual
  environment as Python and kernel, inside cgroups that enforce ``COURSE_HUB_MEM_LIMIT``
  (default 6G) and ``COURSE_HUB_CPU_LIMIT`` (default 1 core), see course_utils.hub.limits.
- ``COURSE_DATA_DIRS`` points every kernel at the shared read-only data folder, staged with
  ``course-utils data fetch --all --into <COURSE_HUB_ROOT>/data``.
- nbgrader's exchange and course id come from ``<COURSE_HUB_ROOT>/jupyter/nbgrader_config.py``
  (on every server's ``JUPYTER_CONFIG_PATH``), so Assignment List and Formgrader work.
- jupyterhub-idle-culler stops servers idle for ``COURSE_HUB_CULL_IDLE_S`` (default 3600 s);
  homes stay.
- The proxy is configurable-http-proxy from npm, installed into the venv by
  scripts/install_hub.sh; the hub's state (database, cookie secret) is in
  ``<COURSE_HUB_ROOT>/state``.
"""

import os
import sys

from course_utils.hub.preflight import problems, proxy_command
from course_utils.hub.settings import ClassList, HubSettings
from course_utils.hub.spawner import CourseSpawner

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)
hub = HubSettings()
people = ClassList.read(hub.class_file)
bin_dir = hub.venv / "bin"
if problems(hub):
    sys.exit("The class hub can't start:\n- " + "\n- ".join(problems(hub)))

# Where it listens and keeps its state; the hub's own API and the proxy's stay on loopback.
c.JupyterHub.ip = hub.ip
c.JupyterHub.port = hub.port
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.db_url = f"sqlite:///{hub.state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(hub.state / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(hub.state / "jupyterhub.pid")
c.ConfigurableHTTPProxy.command = [proxy_command(hub)]
c.ConfigurableHTTPProxy.pid_file = str(hub.state / "proxy.pid")

# Who may log in: the class list's Linux accounts, checked by PAM.
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.open_sessions = False  # no login sessions (systemd-logind) per server
c.Authenticator.allowed_users = set(people.attendees)
c.Authenticator.admin_users = {people.instructor}

# Each attendee's server: their own Linux user, the course's venv, limits, shared data.
c.JupyterHub.spawner_class = CourseSpawner
c.Spawner.cmd = [str(bin_dir / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.CourseSpawner.cgroup_group = hub.cgroup  # COURSE_HUB_CGROUP: one folder per hub
c.Spawner.mem_limit = hub.mem_limit
c.Spawner.cpu_limit = hub.cpu_limit
c.Spawner.start_timeout = 120
c.Spawner.poll_interval = 10  # a server that died is noticed (and cleaned up) within 10 s
c.Spawner.http_timeout = 120
c.Spawner.environment = {
    "PATH": os.pathsep.join([str(bin_dir), "/usr/local/bin", "/usr/bin", "/bin"]),
    "COURSE_DATA_DIRS": str(hub.data),
    "COURSE_MODE": hub.mode,
    "JUPYTER_CONFIG_PATH": str(hub.jupyter_config),
}
if os.environ.get("COURSE_OFFLINE"):  # `COURSE_OFFLINE=1 make hub`: kernels never download
    c.Spawner.environment["COURSE_OFFLINE"] = os.environ["COURSE_OFFLINE"]

# Idle servers stop; the culler is a hub service with only the scopes it needs.
c.JupyterHub.services = [{
    "name": "idle-culler",
    "command": [sys.executable, "-m", "jupyterhub_idle_culler",
                f"--timeout={hub.cull_idle_s}", "--cull-every=60"],
}]
c.JupyterHub.load_roles = [{
    "name": "idle-culler",
    "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
    "services": ["idle-culler"],
}]
