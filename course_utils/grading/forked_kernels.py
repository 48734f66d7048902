"""Grading kernels forked from a process that has already imported what the notebooks import.

A fresh Python kernel per submission is how nbgrader keeps students apart, but starting one and
importing numpy, scikit-learn and matplotlib again was a large part of grading notebook 01 or
02 (docs/GRADING.md, "Where the time goes"). Here a *template* process imports those modules
once (it never runs student code); each kernel is a ``fork`` of it, so it starts with them
loaded but with an empty namespace, its own process, fresh random seeds and the notebook's
folder first on ``sys.path``, as a new kernel would have. The template and the per-kernel
launcher are in :mod:`.kernel_template`; this module is the grader's side:

* :func:`imported_modules` — what the solution notebooks import, for the template to preload;
* :class:`ForkedKernelManager` — nbclient's kernel manager with the launcher as its command,
  and :class:`GradingKernelClient`, its client, which starts work as soon as the kernel answers;
* :class:`KernelTemplate` — starts the template process, starts it again whenever it stops
  before the batch ends, and stops it; :func:`kernel_source` makes the batch's.

Sandboxed (:mod:`.sandbox`), the template runs inside bubblewrap, kernels talk to the grader
over ipc sockets in the one folder they share (no network), and each worker process has its
own template (:class:`TemplateRecipe`), so that a sandbox holds one kernel at a time. The
process tree: grader → worker → bwrap → template → kernel → whatever the student starts; the
launcher, started by the worker, only relays.
"""

from __future__ import annotations

import ast
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from queue import Empty
from typing import TYPE_CHECKING

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from traitlets import Type, Unicode

from .sandbox import NOT_ISOLATED, Sandbox

if TYPE_CHECKING:
    from traitlets.config import Config

FORK_SUPPORTED = sys.platform.startswith("linux")  # macOS forks badly with Accelerate/ObjC
TEMPLATE_MODULE = "course_utils.grading.kernel_template"
# The launcher needs only the standard library and starts once per kernel: run as a plain script
# without site-packages (-S) it starts in half the time.
LAUNCHER = [sys.executable, "-S", str(Path(__file__).with_name("kernel_template.py")), "launch"]


# Called in the template for notebooks that declare datasets: every dataset is looked up in the
# manifest, which each kernel would otherwise parse and validate again.
DATA_WARMUP = ["course_utils.data.manifest:load_manifest()"]


def imported_modules(notebooks: list[Path]) -> list[str]:
    """What the notebooks' code cells import, in order of first appearance, for the template.

    ``from package import name`` gives ``package`` and ``package:name``: loading the name loads
    the submodule behind it where the package exports names lazily (``course_utils.data``).
    """
    import nbformat
    from IPython.core.inputtransformer2 import TransformerManager

    to_python, found = TransformerManager(), []
    for path in notebooks:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            try:
                tree = ast.parse(to_python.transform_cell(cell.source))
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names = [node.module] + [f"{node.module}:{alias.name}"
                                             for alias in node.names if alias.name != "*"]
                else:
                    continue
                found += [name for name in names if name not in found]
    return found


class GradingKernelClient(AsyncKernelClient):
    """jupyter_client's kernel client, ready as soon as the kernel has answered.

    Its ``wait_for_ready`` ends by reading IOPub until 0.2 s pass in silence, idle time paid
    by every submission. nbclient matches every IOPub message
    to the request it executes, so the handshake's leftover status messages need no draining.
    """

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        """jupyter_client's handshake: a kernel_info reply on shell while IOPub carries news."""
        deadline = time.monotonic() + (timeout if timeout is not None else float("inf"))
        while True:
            self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply":
                try:  # IOPub is subscribed once it delivers this request's status messages
                    await self.iopub_channel.get_msg(timeout=0.2)
                except Empty:
                    pass
                else:
                    self._handle_kernel_info_reply(reply)
                    return
            if not await self.is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")


class ForkedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels are forked from the template at ``socket_path``.

    With ``kernel_folder`` (a sandboxed template), the kernel is reached over ipc sockets in
    that folder, the one the sandbox shares with the grader, and its connection file is there.
    """

    socket_path = Unicode(help="the template's Unix socket").tag(config=True)
    kernel_folder = Unicode("", help="a sandboxed template's shared folder").tag(config=True)
    client_factory = Type(GradingKernelClient, klass=AsyncKernelClient, config=True)

    @property
    def kernel_spec(self) -> KernelSpec:
        """The ipykernel spec, with the launcher as its command."""
        if self._kernel_spec is None:
            env = {"JUPYTER_RUNTIME_DIR": self.kernel_folder} if self.kernel_folder else {}
            self._kernel_spec = KernelSpec(
                argv=[*LAUNCHER, self.socket_path, "-f", "{connection_file}"], env=env,
                display_name="Python 3 (forked for grading)", language="python",
                interrupt_mode="signal")
        return self._kernel_spec

    async def _async_pre_start_kernel(self, **kw: object) -> tuple:
        """No network between grader and a sandboxed kernel: ipc sockets in the shared folder."""
        if self.kernel_folder:
            self.transport = "ipc"
            self.ip = os.path.join(self.kernel_folder, "k")
            if not self.connection_file:
                self.connection_file = os.path.join(self.kernel_folder,
                                                    f"kernel-{uuid.uuid4().hex[:12]}.json")
        return await super()._async_pre_start_kernel(**kw)


def kernel_interpreter(kernel_name: str = "python3") -> list[str]:
    """The Python and its options from the kernel spec nbgrader would start, up to ``-m``."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        argv = KernelSpecManager().get_kernel_spec(kernel_name).argv
    except NoSuchKernel:
        return [sys.executable]
    return argv[: argv.index("-m")] if "-m" in argv else [sys.executable]


@dataclass(frozen=True)
class TemplateConnection:
    """What a grader needs to fork kernels from a running template (picklable)."""

    socket_path: str
    kernel_folder: str = ""  # sandboxed: connection files and ipc sockets go here


@dataclass(frozen=True)
class TemplateRecipe:
    """How each worker process starts its own sandboxed template (picklable).

    One kernel at a time per sandbox: kernels that run side by side in one could tamper with
    each other, and a worker grades one submission at a time.
    """

    modules: tuple[str, ...]
    env: dict[str, str]
    sandbox: Sandbox

    def connect(self) -> TemplateConnection:
        """This process's template, started on first use and stopped when the process exits."""
        global _WORKER_TEMPLATE
        if _WORKER_TEMPLATE is None or _WORKER_TEMPLATE.pid != os.getpid():
            from multiprocessing.util import Finalize

            template = KernelTemplate(list(self.modules), self.env, self.sandbox)
            Finalize(template, template.close, exitpriority=10)
            _WORKER_TEMPLATE = _ProcessTemplate(os.getpid(), template)
        return _WORKER_TEMPLATE.template.connection


@dataclass(frozen=True)
class _ProcessTemplate:
    pid: int
    template: KernelTemplate


_WORKER_TEMPLATE: _ProcessTemplate | None = None
KernelSource = TemplateConnection | TemplateRecipe


def configure(config: Config, kernels: KernelSource) -> None:
    """Make nbclient (nbgrader's Execute) fork its kernels from ``kernels``' template."""
    connection = kernels.connect() if isinstance(kernels, TemplateRecipe) else kernels
    config.Execute.kernel_manager_class = ForkedKernelManager
    config.ForkedKernelManager.socket_path = connection.socket_path
    config.ForkedKernelManager.kernel_folder = connection.kernel_folder


def _short_temp_root() -> str:
    """A temporary folder short enough for Unix socket paths (107 bytes) below it."""
    root = tempfile.gettempdir()
    return root if len(root) <= 40 else "/tmp"


class KernelTemplate:
    """The template process of a batch (or of a worker): started with the modules to import.

    This process binds the template's Unix socket, in a short temporary folder (socket paths
    are limited to 107 bytes), and hands it to the template open: launchers queue on it while
    the template imports, or is started again. With ``sandbox`` the template runs in bubblewrap
    and the folder's ``k/`` (connection files, ipc sockets) is the one it shares with this
    process; the socket itself is out of its sight. A watchdog thread starts the template
    again if it stops before :meth:`close` (killed for memory, say).
    """

    def __init__(self, modules: list[str], env: dict[str, str] | None = None,
                 sandbox: Sandbox | None = None) -> None:
        """Start the template, importing ``modules``, with ``env`` added to its environment."""
        self.folder = tempfile.mkdtemp(prefix="ck-", dir=_short_temp_root())
        self.socket_path = os.path.join(self.folder, "template.sock")
        self.kernel_folder = os.path.join(self.folder, "k") if sandbox else ""
        self.modules, self.sandbox = modules, sandbox
        self.env = {**os.environ, **(env or {})}
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            if self.kernel_folder:
                os.mkdir(self.kernel_folder, 0o700)
            self.listener.bind(self.socket_path)
            self.listener.listen(16)
            self.process = self._start()
        except (OSError, RuntimeError):
            self.listener.close()
            shutil.rmtree(self.folder, ignore_errors=True)
            raise
        self._closing = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, name="kernel-template-watchdog",
                                          daemon=True)
        self._watchdog.start()

    @property
    def connection(self) -> TemplateConnection:
        """What graders need to fork kernels from this template."""
        return TemplateConnection(self.socket_path, self.kernel_folder)

    def command(self, ready_fd: int) -> list[str]:
        """The template's command line: in bubblewrap when sandboxed."""
        argv = [*kernel_interpreter(), "-m", TEMPLATE_MODULE, "serve",
                str(self.listener.fileno()), str(ready_fd), self.kernel_folder or "-",
                *self.modules]
        if not self.sandbox:
            return argv
        hidden = Sandbox(self.sandbox.hidden + (self.folder,), self.sandbox.keep)
        return hidden.command(argv, writable=(self.kernel_folder,))

    def _start(self) -> subprocess.Popen:
        """Start the template process and wait until it runs (it imports after that)."""
        read_end, write_end = os.pipe()
        try:
            process = subprocess.Popen(
                self.command(write_end), stdin=subprocess.DEVNULL, env=self.env,
                pass_fds=(self.listener.fileno(), write_end))
        finally:
            os.close(write_end)
        try:
            deadline = time.monotonic() + 60
            while not select.select([read_end], [], [], 0.05)[0]:
                if process.poll() is not None or time.monotonic() > deadline:
                    break
            ready = os.read(read_end, 16) if select.select([read_end], [], [], 0)[0] else b""
        finally:
            os.close(read_end)
        if ready != b"ready":
            process.kill()
            raise RuntimeError("the grading kernel template did not start "
                               f"(exit status {process.wait()})")
        return process

    def ensure_running(self) -> None:
        """Start the template again, on the same socket, if it stopped (killed for memory, say)."""
        if self.process.poll() is not None:
            print(f"The grading kernel template stopped (exit status {self.process.returncode});"
                  " starting it again.", file=sys.stderr)
            self.process = self._start()

    def _watch(self) -> None:
        """Check twice a second that the template runs, until :meth:`close`."""
        while not self._closing.wait(0.5):
            try:
                self.ensure_running()
            except RuntimeError as exc:
                print(f"{exc}; the kernels of the remaining submissions cannot start.",
                      file=sys.stderr)
                return

    def close(self) -> None:
        """Stop the watchdog, then the template and the kernels it still runs."""
        self._closing.set()
        self._watchdog.join()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.listener.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def template_modules(solutions: Path, notebooks: Sequence[str]) -> list[str]:
    """What the template preloads for these solution notebooks."""
    from .datasets import declared_datasets

    known = [p for p in (solutions / f"{nb}.ipynb" for nb in notebooks) if p.is_file()]
    return imported_modules(known) + (DATA_WARMUP if declared_datasets(known) else [])


def start_template(solutions: Path, notebooks: Sequence[str], env: dict[str, str] | None = None,
                   sandbox: Sandbox | None = None) -> KernelTemplate | None:
    """The kernel template for these solution notebooks (``env`` added to its environment).

    None (fresh kernels) where it can't run.
    """
    if not FORK_SUPPORTED:
        return None
    try:
        return KernelTemplate(template_modules(solutions, notebooks), env, sandbox)
    except (OSError, RuntimeError) as exc:
        print(f"Grading kernels will start from scratch (slower): {exc}", file=sys.stderr)
        return None


def kernel_source(solutions: Path, notebooks: Sequence[str], env: dict[str, str],
                  sandbox: Sandbox | None, jobs: int) -> tuple[KernelTemplate | None,
                                                               KernelSource | None]:
    """Where a batch's graders get kernels: (the template to close at the end, its source).

    One template for the batch, or, sandboxed with several workers, one per worker (each
    started as the worker starts); (None, None) for fresh kernels where templates can't run.
    """
    if sandbox is not None and jobs > 1 and FORK_SUPPORTED:
        modules = tuple(template_modules(solutions, notebooks))
        return None, TemplateRecipe(modules, {**os.environ, **env}, sandbox)
    template = start_template(solutions, notebooks, env, sandbox)
    if template is None and sandbox is not None:
        print(NOT_ISOLATED.format(why="the sandboxed kernel template did not start",
                                  fix="see the message above"), file=sys.stderr)
    return template, template.connection if template else None
