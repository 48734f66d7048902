"""Helpers for the data-layer tests: an isolated environment, a test manifest, a local server.

Downloads are tested against a ``http.server`` on 127.0.0.1 in a thread, never the internet.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import io
import os
import pickle
import pwd
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

ENV_VARS = ("COURSE_DATA_DIRS", "COURSE_CACHE_DIR", "COURSE_OFFLINE", "COURSE_DATA_MANIFEST")


def sha(data: bytes) -> str:
    """The sha256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


def dataset_entry(name: str, files: list[dict], **extra) -> dict:
    """A complete manifest entry for a test dataset."""
    entry = {
        "name": name, "title": f"test set {name}", "description": "for tests",
        "license": "CC0 1.0", "citation": "nobody (2024)", "homepage": "http://localhost/",
        "size_mb": 0.01, "notebooks": ["04_unet_segmentation"],
        "loader": "course_utils.data.fetch", "checksum_source": "computed by the test",
        "files": files,
    }
    entry.update(extra)
    return entry


def write_manifest(folder: Path, datasets: list[dict]) -> Path:
    """Write a manifest file and return its path."""
    path = folder / "manifest.yaml"
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    path.write_text(yaml.dump({"version": 1, "datasets": datasets}, Dumper=dumper,
                              sort_keys=False))
    return path


def data_cli(argv: list[str]) -> int:
    """Run ``course-utils data ARGV`` through the data module's own configure/run."""
    import argparse

    from course_utils.data import cli

    parser = argparse.ArgumentParser(prog="course-utils data")
    cli.configure(parser)
    return cli.run(parser.parse_args(argv))


def isolate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Empty mirror and cache folders in tmp_path, set in the environment; network allowed."""
    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    dirs = {"mirror": tmp_path / "mirror", "cache": tmp_path / "cache"}
    for folder in dirs.values():
        folder.mkdir()
    monkeypatch.setenv("COURSE_DATA_DIRS", str(dirs["mirror"]))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(dirs["cache"]))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return dirs


class Server:
    """Files served from memory; paths under /truncated/ lie about their length, /slow/ wait."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.hits: Counter[str] = Counter()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                server.hits[self.path] += 1
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                if self.path.startswith("/slow/"):
                    time.sleep(0.5)
                self.send_response(200)
                extra = 1000 if self.path.startswith("/truncated/") else 0
                self.send_header("Content-Length", str(len(body) + extra))
                self.end_headers()
                self.wfile.write(body)
                if extra:
                    self.close_connection = True

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        """The address of ``path`` on this server."""
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"


@contextlib.contextmanager
def running_server():
    """A local HTTP server running in a thread until the block ends."""
    srv = Server()
    srv.thread.start()
    try:
        yield srv
    finally:
        srv.httpd.shutdown()
        srv.httpd.server_close()


def closed_port_url(path: str = "/x") -> str:
    """An address on 127.0.0.1 where nothing listens (connection refused: no network)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


def leftovers(folder: Path) -> list[Path]:
    """Files under ``folder`` other than locks and stamp records (partial downloads, temps)."""
    return [p for p in folder.rglob("*") if p.is_file()
            and p.name != ".fetch.lock" and ".stamps" not in p.parts]


@contextlib.contextmanager
def read_only(folder: Path):
    """Make ``folder`` unwritable, even for root (chattr +i); skip when that is impossible."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(folder)],
                                        capture_output=True).returncode != 0:
        pytest.skip("running as root where a folder can't be made read-only (no chattr +i)")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(folder)], check=True)


@contextlib.contextmanager
def world_dir():
    """A temporary folder every user may enter (pytest's tmp_path lies under a 0700 folder)."""
    folder = Path(tempfile.mkdtemp(prefix="course-data-test-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def nobody_ids() -> tuple[int, int]:
    """The uid and gid of the unprivileged user ``nobody``; skip where there is none."""
    try:
        entry = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user 'nobody' to test what another user may read")
    return entry.pw_uid, entry.pw_gid


def as_other_user(func):
    """``func()``'s result as seen by a user who is not the files' owner.

    Not root: run here (chmod 000 already stops this user). Root reads everything, so a forked
    child drops to ``nobody`` and sends the result back; the modules it needs must already be
    imported, since nobody may not read this interpreter's library. Exceptions come back as
    their type name and message: ("ok" or "error", result or message, what was printed).
    """
    if os.geteuid() != 0:
        return _outcome(func)
    uid, gid = nobody_ids()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.close(read_fd)
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            payload = pickle.dumps(_outcome(func))
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            payload = pickle.dumps(("error", f"{type(exc).__name__}: {exc}", ""))
        with os.fdopen(write_fd, "wb") as out:
            out.write(payload)
        os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as inp:
        data = inp.read()
    os.waitpid(pid, 0)
    return pickle.loads(data)


def _outcome(func) -> tuple[str, object]:
    """("ok", result) or ("error", "Type: message"), with what func printed on stdout/stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            result: tuple[str, object] = ("ok", func())
        except Exception as exc:  # noqa: BLE001 - the caller asserts on it
            result = ("error", f"{type(exc).__name__}: {exc}")
    return (*result, out.getvalue() + err.getvalue())
