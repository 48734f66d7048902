"""A small client of the class hub as an attendee sees it: log in, start a server, run code.

Used by the hub rehearsal (tests/test_hub.py) and the load benchmark (scripts/bench_hub.py):

- :class:`HubClient` logs in with a user name and password through the hub's login form
  (as a browser does), asks the hub for an API token of that user, and then talks to the
  hub's REST API (start, wait for, stop the server) and to the user's own server (contents
  and kernels) with that token, through the proxy.
- :class:`KernelSession` runs code in a kernel of the user's server over its websocket
  (Jupyter's messaging protocol in JSON), so that N attendees can execute a notebook at
  once without N browsers.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests

HTTP_TIMEOUT_S = 30.0


class HubError(RuntimeError):
    """The hub or a server answered something unexpected; the message holds its answer."""


def _check(response: requests.Response, what: str) -> requests.Response:
    if response.status_code >= 400:
        raise HubError(f"{what}: HTTP {response.status_code} {response.text[:500]}")
    return response


@dataclass
class HubClient:
    """One user's session with the hub at ``base`` (e.g. ``http://127.0.0.1:8000``)."""

    base: str
    user: str
    token: str = ""
    session: requests.Session = field(default_factory=requests.Session)

    def login(self, password: str) -> None:
        """Log in through the login form, then get an API token for this user."""
        login_url = f"{self.base}/hub/login"
        _check(self.session.get(login_url, timeout=HTTP_TIMEOUT_S), "login page")
        xsrf = self.session.cookies.get("_xsrf", "")
        answer = self.session.post(login_url, data={"username": self.user, "password": password,
                                                    "_xsrf": xsrf},
                                   allow_redirects=False, timeout=HTTP_TIMEOUT_S)
        if answer.status_code != 302:
            raise HubError(f"login of {self.user} refused: HTTP {answer.status_code}")
        tokens = self.session.post(
            f"{self.base}/hub/api/users/{quote(self.user)}/tokens",
            json={"note": "course_utils.hub.client", "expires_in": 3600},
            headers={"X-XSRFToken": self.session.cookies.get("_xsrf", path="/hub/") or xsrf},
            timeout=HTTP_TIMEOUT_S)
        self.token = _check(tokens, f"token for {self.user}").json()["token"]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """A request to the hub's REST API (``path`` after ``/hub/api``)."""
        return _check(requests.request(method, f"{self.base}/hub/api{path}", headers=self.headers,
                                       timeout=HTTP_TIMEOUT_S, **kwargs), f"{method} {path}")

    def server_state(self) -> dict:
        """The hub's record of this user's default server ({} when there is none)."""
        return self.api("GET", f"/users/{quote(self.user)}").json().get("servers", {}).get("", {})

    def start_server(self, timeout_s: float = 120.0) -> float:
        """Start the user's server and wait until it answers; returns the seconds it took.

        A server that died (killed, out of memory) may still count as running until the hub
        next polls it: while the hub says "already running" and the server does not answer,
        this asks again, as an attendee pressing *Start* again would.
        """
        started = time.monotonic()
        deadline = started + timeout_s
        while True:
            answer = requests.post(f"{self.base}/hub/api/users/{quote(self.user)}/server",
                                   headers=self.headers, timeout=HTTP_TIMEOUT_S)
            if answer.status_code != 400 or "already running" not in answer.text:
                _check(answer, f"start the server of {self.user}")
                break
            if self._answers() or time.monotonic() > deadline:
                raise HubError(f"start the server of {self.user}: {answer.text[:300]}")
            time.sleep(2)
        while time.monotonic() < deadline:
            state = self.server_state()
            if state.get("ready"):
                self.wait_for_server(deadline - time.monotonic())
                return time.monotonic() - started
            if not state:
                raise HubError(f"the server of {self.user} stopped while starting")
            time.sleep(0.5)
        raise HubError(f"the server of {self.user} was not ready within {timeout_s:.0f} s")

    def _answers(self) -> bool:
        """True when the user's server answers through the proxy now."""
        try:
            return self.server("GET", "/api/status").status_code == 200
        except requests.RequestException:
            return False

    def wait_for_server(self, timeout_s: float) -> None:
        """Wait until the user's server itself answers through the proxy."""
        deadline = time.monotonic() + max(timeout_s, 1.0)
        while not self._answers():
            if time.monotonic() > deadline:
                raise HubError(f"the server of {self.user} does not answer")
            time.sleep(0.3)

    def stop_server(self, timeout_s: float = 60.0) -> None:
        """Stop the user's server and wait until the hub has no record of it running."""
        self.api("DELETE", f"/users/{quote(self.user)}/server")
        deadline = time.monotonic() + timeout_s
        while self.server_state():
            if time.monotonic() > deadline:
                raise HubError(f"the server of {self.user} did not stop within {timeout_s} s")
            time.sleep(0.5)

    def server(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """A request to the user's own server (``path`` after ``/user/<name>``)."""
        return requests.request(method, f"{self.base}/user/{quote(self.user)}{path}",
                                headers=self.headers, timeout=HTTP_TIMEOUT_S, **kwargs)

    def read_notebook(self, path: str) -> dict:
        """A notebook of the user's home, as the contents API returns it (JSON)."""
        answer = self.server("GET", f"/api/contents/{quote(path)}", params={"content": 1})
        return _check(answer, f"read {path}").json()["content"]

    def save_notebook(self, path: str, notebook: dict) -> None:
        """Save a notebook into the user's home (what JupyterLab's save does)."""
        body = {"type": "notebook", "format": "json", "content": notebook}
        _check(self.server("PUT", f"/api/contents/{quote(path)}", json=body), f"save {path}")

    def kernel(self, cwd: str = "") -> KernelSession:
        """A new kernel of the user's server (started in folder ``cwd`` of the home)."""
        answer = _check(self.server("POST", "/api/kernels", json={"path": cwd}), "start kernel")
        kernel_id = answer.json()["id"]
        ws = self.base.replace("http", "ws", 1)
        return KernelSession(self, kernel_id,
                             f"{ws}/user/{quote(self.user)}/api/kernels/{kernel_id}/channels")


@dataclass
class Reply:
    """What one execute request gave: status ("ok"/"error"), text outputs, error if any."""

    status: str
    text: str
    error: str = ""


class KernelSession:
    """One kernel of a user's server, driven over its websocket (Jupyter messaging, JSON)."""

    # jupyter_server pings every 30 s and drops a websocket whose pongs stop; websocket-client
    # answers pings only while it reads, so a session idle for longer connects again first
    # (the kernel and its state live on in the server).
    IDLE_RECONNECT_S = 20.0

    def __init__(self, client: HubClient, kernel_id: str, url: str) -> None:
        self.client, self.kernel_id, self.url = client, kernel_id, url
        self.session = uuid.uuid4().hex
        self.ws = None
        self.used = 0.0
        self._connect()

    def _connect(self) -> None:
        import websocket

        if self.ws is not None:
            self.ws.close()
        self.ws = websocket.create_connection(
            self.url, header=[f"Authorization: token {self.client.token}"],
            timeout=HTTP_TIMEOUT_S)
        self.used = time.monotonic()

    def execute(self, code: str, timeout_s: float = 300.0) -> Reply:
        """Run ``code``; wait for its reply and for the kernel to be idle again."""
        return self.wait(self.submit(code), timeout_s, code)

    def submit(self, code: str) -> str:
        """Send ``code`` to run and return at once; the request's id, for :meth:`wait`."""
        if time.monotonic() - self.used > self.IDLE_RECONNECT_S or not self.ws.connected:
            self._connect()
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "username": self.client.user, "session": self.session,
                       "msg_type": "execute_request", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
        }))
        return msg_id

    def wait(self, msg_id: str, timeout_s: float = 300.0, code: str = "") -> Reply:
        """The reply to request ``msg_id``, once the kernel is idle again after it."""
        import websocket

        deadline = time.monotonic() + timeout_s
        texts: list[str] = []
        reply: dict | None = None
        idle = False
        while reply is None or not idle:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no reply within {timeout_s:.0f} s to:\n{code[:300]}")
            self.ws.settimeout(left)
            try:
                raw = self.ws.recv()
            except websocket.WebSocketTimeoutException:
                continue
            self.used = time.monotonic()
            if not raw:
                raise HubError(f"the websocket of kernel {self.kernel_id} of "
                               f"{self.client.user} closed while waiting for a reply")
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                texts.append(content["text"])
            elif kind in ("execute_result", "display_data"):
                texts.append(content.get("data", {}).get("text/plain", ""))
            elif kind == "error":
                texts.append("\n".join(content.get("traceback", [])))
            elif kind == "status" and content["execution_state"] == "idle":
                idle = True
            elif kind == "execute_reply":
                reply = content
        error = "" if reply["status"] == "ok" else f"{reply.get('ename')}: {reply.get('evalue')}"
        return Reply(reply["status"], "".join(texts), error)

    def close(self) -> None:
        """Close the websocket and shut the kernel down."""
        try:
            self.ws.close()
        finally:
            self.client.server("DELETE", f"/api/kernels/{self.kernel_id}")
