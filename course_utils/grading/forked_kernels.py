"""Grading kernels forked from a process that has already imported what the notebooks import.

A fresh Python kernel per submission is how nbgrader keeps students apart, but starting one and
importing numpy, scikit-learn and matplotlib again cost about 5 s of the 12–14 s that notebook
01 or 02 took to grade. Here a *template* process imports those modules once (it never runs
student code); each kernel is a ``fork`` of it, so it starts with them loaded but with an empty
namespace, its own process, fresh random seeds and the notebook's folder first on ``sys.path``,
as a new kernel would have. The template and the per-kernel
launcher are in :mod:`.kernel_template`; this module is the grader's side:

* :func:`imported_modules` — what the solution notebooks import, for the template to preload;
* :class:`ForkedKernelManager` — nbclient's kernel manager with the launcher as its command,
  and :class:`GradingKernelClient`, its client, which starts work as soon as the kernel answers;
* :class:`KernelTemplate` — starts the template process, starts it again whenever it stops
  before the batch ends, and stops it; :func:`start_template` makes the one of a batch.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from queue import Empty

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from traitlets import Type, Unicode

FORK_SUPPORTED = sys.platform.startswith("linux")  # macOS forks badly with Accelerate/ObjC
TEMPLATE_MODULE = "course_utils.grading.kernel_template"
# The launcher needs only the standard library and starts once per kernel: run as a plain script
# without site-packages (-S) it starts in half the time.
LAUNCHER = [sys.executable, "-S", str(Path(__file__).with_name("kernel_template.py")), "launch"]


# Called in the template for notebooks that declare datasets: every dataset is looked up in the
# manifest, which each kernel would otherwise parse and validate again (0.1-0.3 s).
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

    Its ``wait_for_ready`` ends by reading IOPub until 0.2 s pass in silence: a fifth of a
    second idle per submission, a few percent of a batch. nbclient matches every IOPub message
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
    """A kernel manager whose kernels are forked from the template at ``socket_path``."""

    socket_path = Unicode(help="the template's Unix socket").tag(config=True)
    client_factory = Type(GradingKernelClient, klass=AsyncKernelClient, config=True)

    @property
    def kernel_spec(self) -> KernelSpec:
        """The ipykernel spec, with the launcher as its command."""
        if self._kernel_spec is None:
            self._kernel_spec = KernelSpec(
                argv=[*LAUNCHER, self.socket_path, "-f", "{connection_file}"],
                display_name="Python 3 (forked for grading)", language="python",
                interrupt_mode="signal")
        return self._kernel_spec


def kernel_interpreter(kernel_name: str = "python3") -> list[str]:
    """The Python and its options from the kernel spec nbgrader would start, up to ``-m``."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        argv = KernelSpecManager().get_kernel_spec(kernel_name).argv
    except NoSuchKernel:
        return [sys.executable]
    return argv[: argv.index("-m")] if "-m" in argv else [sys.executable]


class KernelTemplate:
    """The template process of a batch: started with the modules to import, stopped at the end.

    Its socket lives in a short temporary folder: Unix socket paths are limited to 107 bytes.
    A watchdog thread starts it again, on the same socket, if it stops before :meth:`close`
    (killed for memory, say); launchers wait for it meanwhile.
    """

    def __init__(self, modules: list[str], env: dict[str, str] | None = None) -> None:
        """Start the template, importing ``modules``, with ``env`` added to its environment."""
        self.folder = tempfile.mkdtemp(prefix="course-kernels-")
        self.socket_path = os.path.join(self.folder, "template.sock")
        self.modules = modules
        self.env = {**os.environ, **(env or {})}
        try:
            self.process = self._start()
        except RuntimeError:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise
        self._closing = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, name="kernel-template-watchdog",
                                          daemon=True)
        self._watchdog.start()

    def _start(self) -> subprocess.Popen:
        """Start the template process and wait until it listens on the socket."""
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)
        process = subprocess.Popen(
            [*kernel_interpreter(), "-m", TEMPLATE_MODULE, "serve", self.socket_path,
             *self.modules], stdin=subprocess.DEVNULL, env=self.env)
        deadline = time.monotonic() + 60
        while not os.path.exists(self.socket_path):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("the grading kernel template did not start "
                                   f"(exit status {process.wait()})")
            time.sleep(0.02)
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
        shutil.rmtree(self.folder, ignore_errors=True)


def start_template(solutions: Path, notebooks: Sequence[str],
                   env: dict[str, str] | None = None) -> KernelTemplate | None:
    """The kernel template for these solution notebooks (``env`` added to its environment).

    None (fresh kernels) where it can't run.
    """
    if not FORK_SUPPORTED:
        return None
    from .datasets import declared_datasets

    known = [p for p in (solutions / f"{nb}.ipynb" for nb in notebooks) if p.is_file()]
    warmup = DATA_WARMUP if declared_datasets(known) else []
    try:
        return KernelTemplate(imported_modules(known) + warmup, env)
    except (OSError, RuntimeError) as exc:
        print(f"Grading kernels will start from scratch (slower): {exc}", file=sys.stderr)
        return None
