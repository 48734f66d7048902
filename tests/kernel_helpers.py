"""Running cells in kernels forked from a template, as nbgrader's Execute does."""

from __future__ import annotations

import os

from nbformat.v4 import new_code_cell, new_notebook
from traitlets.config import Config

from course_utils.grading.forked_kernels import ForkedKernelManager, KernelTemplate, configure
from course_utils.notebook_client import notebook_client


def forked_config(template: KernelTemplate) -> Config:
    """The configuration that makes kernel managers fork from ``template``."""
    config = Config()
    configure(config, template.connection)
    return config


def run_cells(template: KernelTemplate, sources: list[str], cwd, timeout: int = 60):
    """Execute cells in a forked kernel; the executed notebook."""
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook_client(nb, cwd, timeout, allow_errors=True, kernel_manager_class=ForkedKernelManager,
                    config=forked_config(template)).execute()
    return nb


def text(cell) -> str:
    """What a cell printed or returned."""
    return "".join(out.get("text", "") + str(out.get("data", {}).get("text/plain", ""))
                   for out in cell.outputs)


def processes_named(name: str) -> list[int]:
    """Pids of this machine's processes whose name (``/proc/PID/comm``) is ``name``."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/comm") as comm:
                if comm.read().strip() == name:
                    found.append(int(entry))
        except (OSError, ValueError):
            continue
    return found


# Kernel code that names its process, so that the test can find it from outside the sandbox
# (where the kernel's own pid is another namespace's).
NAME_ME = "import ctypes\nctypes.CDLL(None).prctl(15, {name!r}.encode(), 0, 0, 0)"
