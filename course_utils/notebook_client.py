"""The one way the course makes an ``nbclient.NotebookClient`` (validate, bench, tests)."""

from __future__ import annotations

from pathlib import Path

from nbclient import NotebookClient
from nbformat import NotebookNode

KERNEL_QUIET = ["--IPKernelApp.log_level=ERROR"]  # no kernel chatter among a run's outputs


def notebook_client(nb: NotebookNode, workdir: str | Path, timeout: int,
                    allow_errors: bool = False, **options: object) -> NotebookClient:
    """A client that runs ``nb`` in ``workdir`` on the course's ``python3`` kernel.

    Each cell may take ``timeout`` seconds; past it the kernel is interrupted (not killed, so a
    later cell still runs). ``allow_errors`` keeps going after a cell raises, as graders and
    ``validate`` must. ``options`` go to ``NotebookClient`` (a kernel manager class, a config).
    """
    return NotebookClient(nb, timeout=timeout, allow_errors=allow_errors,
                          interrupt_on_timeout=True, kernel_name="python3",
                          extra_arguments=KERNEL_QUIET,
                          resources={"metadata": {"path": str(workdir)}}, **options)
