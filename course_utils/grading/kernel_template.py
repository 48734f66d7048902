"""The template process that forks grading kernels, and the launcher that asks it for one.

Stdlib only (the launcher starts once per kernel and must start fast); see
:mod:`.forked_kernels` for why and for the grader's side. Over one Unix socket:

* ``serve`` — the template: imports the modules, then forks one IPython kernel per request and
  reports the kernel's pid and, later, its exit status;
* ``launch`` — what jupyter_client starts as the "kernel process": it asks the template for a
  kernel, hands over its own stdin/stdout/stderr, passes interrupts and terminations on, and
  exits with the kernel's status, so that timeouts, restarts and crash detection work as usual.
"""

from __future__ import annotations

import gc
import json
import os
import selectors
import signal
import socket
import sys
import time

INLINE_BACKEND = "module://matplotlib_inline.backend_inline"  # what ipykernel sets by default
MAX_MESSAGE = 1 << 20
RESTART_WAIT = 60  # seconds a launcher waits for a template that is being started again
STD_FDS = (0, 1, 2)
START_DIR = os.getcwd()


def _preload(entries: list[str]) -> None:
    """Import what the kernels will need; what fails is left to the kernel to report.

    An entry is a module, ``module:name`` (load a name the module exports lazily) or
    ``module:function()`` (call it once here, for every kernel: say, to parse a file).
    """
    import importlib

    os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)
    kernel = [  # what IPKernelApp imports as it starts
        "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.debugger",
        "IPython.core.debugger", "IPython.core.completerlib", "IPython.extensions.storemagic",
        "sqlite3", "tornado.platform.asyncio"]
    for entry in [*kernel, *entries]:
        name, _, attribute = entry.partition(":")
        try:
            module = importlib.import_module(name)
            if attribute.endswith("()"):
                getattr(module, attribute[:-2])()
            elif attribute:
                getattr(module, attribute)
        except Exception:  # noqa: BLE001 - the student's kernel raises it where it belongs
            continue


def _run_kernel(request: dict, fds: list[int]) -> None:
    """In the forked child: become an independent IPython kernel as the request describes."""
    os.setsid()  # its own process group: interrupts and kills reach it and its children only
    for target, fd in zip(STD_FDS, fds, strict=True):
        os.dup2(fd, target)
        os.close(fd)
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.chdir(request["cwd"])
    # `python -m` put the template's start folder first on the path; a kernel started with
    # `python -m ipykernel_launcher` has its own folder there (modules beside the notebook)
    if sys.path and sys.path[0] == START_DIR:
        sys.path[0] = os.getcwd()
    os.environ.clear()
    os.environ.update(request["env"])
    _fresh_random_state()
    argv = list(request["argv"])
    if os.environ.get("JPY_PARENT_PID"):  # ipykernel reads it at import, i.e. in the template
        argv.append(f"--IPKernelApp.parent_handle={os.environ['JPY_PARENT_PID']}")
    sys.argv = ["ipykernel_launcher", *argv]
    from ipykernel.kernelapp import IPKernelApp

    IPKernelApp.launch_instance(argv=argv)


def _fresh_random_state() -> None:
    """Reseed from the OS what a new process would (Python's ``random`` reseeds itself at fork).

    Otherwise every kernel would draw the template's unseeded numpy and torch random numbers.
    """
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    if "torch" in sys.modules:
        sys.modules["torch"].seed()


def _fork_kernel(conn: socket.socket, template_sockets: list) -> int | None:
    """Read one request from ``conn`` and fork a kernel for it; the child's pid, or None.

    The child closes ``template_sockets`` (the listener and other launchers' connections) so
    that only the template holds them and a launcher sees the template go away.
    """
    try:
        message, fds, _, _ = socket.recv_fds(conn, MAX_MESSAGE, len(STD_FDS))
        request = json.loads(message)
    except (OSError, ValueError):
        conn.close()
        return None
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            for sock in [*template_sockets, conn]:
                sock.close()
            _run_kernel(request, fds)
            code = 0
        except BaseException:  # noqa: BLE001 - report anything, then leave the child for good
            import traceback

            traceback.print_exc()
        finally:
            os._exit(code)
    for fd in fds:
        os.close(fd)
    conn.sendall(json.dumps({"pid": pid}).encode())
    return pid


def serve(socket_path: str, modules: list[str]) -> None:
    """The template: listen first (launchers may queue), import, then fork kernels on request."""
    parent = os.getppid()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop through the finally below
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(socket_path)
    listener.listen(16)
    gc.disable()  # no collection while importing: it would leave holes in the shared pages
    _preload(modules)
    gc.freeze()  # the kernels' collections skip the preloaded objects (and so don't copy them)
    gc.enable()
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    wake, signalled = _wake_on_child_exit(selector)
    kernels: dict[int, socket.socket] = {}
    try:
        while os.getppid() == parent:  # the grader that started us is gone: stop
            for key, _ in selector.select(timeout=0.5):
                if key.fileobj is listener:
                    conn, _ = listener.accept()
                    pid = _fork_kernel(conn, [listener, wake, signalled, *kernels.values()])
                    if pid is not None:
                        kernels[pid] = conn
                        selector.register(conn, selectors.EVENT_READ, pid)
                elif key.fileobj is wake:
                    wake.recv(4096)
                else:  # the launcher hung up (it was killed): the kernel goes with it
                    _signal_group(key.data, signal.SIGKILL)
            _reap(kernels, selector)
    finally:
        for pid in kernels:
            _signal_group(pid, signal.SIGKILL)


def _wake_on_child_exit(selector: selectors.BaseSelector) -> tuple[socket.socket, socket.socket]:
    """A socket pair whose first end, registered in ``selector``, turns readable at SIGCHLD."""
    wake, signalled = socket.socketpair()
    signalled.setblocking(False)
    signal.set_wakeup_fd(signalled.fileno())
    signal.signal(signal.SIGCHLD, lambda *_: None)  # the wakeup fd is written for handled signals
    selector.register(wake, selectors.EVENT_READ)
    return wake, signalled


def _signal_group(pid: int, signum: int) -> None:
    """Send ``signum`` to a kernel's process group (or to it alone), if it still exists."""
    for send in (os.killpg, os.kill):
        try:
            send(pid, signum)
            return
        except ProcessLookupError:
            continue


def _reap(kernels: dict[int, socket.socket], selector: selectors.BaseSelector) -> None:
    """Collect kernels that exited and tell their launchers the exit status."""
    while kernels:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            return
        conn = kernels.pop(pid, None)
        if conn is None:
            continue
        selector.unregister(conn)
        try:
            conn.sendall(json.dumps({"exit": os.waitstatus_to_exitcode(status)}).encode())
        except OSError:
            pass
        conn.close()


def _connect(socket_path: str) -> socket.socket:
    """A connection to the template, waiting while it is started again (up to RESTART_WAIT s)."""
    deadline = time.monotonic() + RESTART_WAIT
    while True:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            conn.connect(socket_path)
            return conn
        except (FileNotFoundError, ConnectionRefusedError):
            conn.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def launch(socket_path: str, kernel_argv: list[str]) -> int:
    """Ask the template for a kernel, pass signals on to it, return its exit status."""
    conn = _connect(socket_path)
    request = {"argv": kernel_argv, "cwd": os.getcwd(), "env": dict(os.environ)}
    socket.send_fds(conn, [json.dumps(request).encode()], list(STD_FDS))
    pid = json.loads(conn.recv(MAX_MESSAGE))["pid"]

    def forward(signum: int, _frame: object) -> None:
        _signal_group(pid, signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)
    reply = conn.recv(MAX_MESSAGE)  # retried after each forwarded signal (PEP 475)
    return int(json.loads(reply)["exit"]) if reply else 1  # b"": the template is gone


def main(argv: list[str]) -> int:
    """``serve SOCKET MODULE...`` or ``launch SOCKET KERNEL_ARG...``."""
    command, socket_path, rest = argv[0], argv[1], argv[2:]
    if command == "serve":
        try:
            serve(socket_path, rest)
        except SystemExit:  # SIGTERM: the batch is over
            pass
        # No interpreter clean-up: with torch loaded the grader would wait half a second for it
        sys.stderr.flush()
        os._exit(0)
    return launch(socket_path, rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
