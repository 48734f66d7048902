"""Grading kernels forked from a template: preloaded modules, but nothing else shared."""

from __future__ import annotations

import asyncio
import os
import sys
import time

import nbformat
import pytest
from kernel_helpers import NAME_ME, forked_config, processes_named, run_cells, text
from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_code_cell, new_notebook

from course_utils.grading.forked_kernels import (
    FORK_SUPPORTED,
    ForkedKernelManager,
    GradingKernelClient,
    KernelTemplate,
    imported_modules,
)
from course_utils.grading.sandbox import Sandbox, kept_paths, probe

pytestmark = pytest.mark.skipif(not FORK_SUPPORTED, reason="forked kernels are used on Linux only")


def test_imported_modules_reads_every_import_form(tmp_path):
    nb = new_notebook(cells=[
        new_code_cell("%matplotlib inline\nimport numpy as np, json\nfrom scipy import ndimage"),
        new_code_cell("def f():\n    from skimage.measure import label\n    return label"),
        new_code_cell("from . import nothing\n!pip list\nimport numpy"),
        new_code_cell("this is ( not python"),
    ])
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    assert imported_modules([path]) == ["numpy", "json", "scipy", "scipy:ndimage",
                                        "skimage.measure", "skimage.measure:label"]


@pytest.fixture(scope="module", params=["plain", "sandboxed"])
def template(request):
    """A template as a batch has it: plain, and in bubblewrap where this machine can."""
    sandbox = None
    if request.param == "sandboxed":
        if not probe().available:
            pytest.skip(f"no sandbox here: {probe().detail}")
        sandbox = Sandbox(keep=tuple(kept_paths()))
    template = KernelTemplate(["json", "numpy", "a_module_that_does_not_exist", "json:not_there",
                               "course_utils.data:nuclei_fields",  # a lazily exported name
                               "course_utils.data.manifest:load_manifest()"], sandbox=sandbox)
    yield template
    template.close()


_run, _text = run_cells, text


def test_kernel_has_the_modules_loaded_but_a_fresh_namespace(template, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_FORK_TEST", "seen")
    nb = _run(template, ["import sys, os\nprint('json' in sys.modules, 'json' in dir())",
                         "from ipykernel.kernelapp import IPKernelApp\n"
                         "print(os.getcwd(), os.environ['COURSE_FORK_TEST'], os.getppid(), "
                         "sys.path[0], IPKernelApp.instance().parent_handle)",
                         "secret = 42", "import numpy\nprint(numpy.random.rand())"], tmp_path)
    assert _text(nb.cells[0]).split() == ["True", "False"]
    preloaded = _run(template, ["import sys\nprint('course_utils.data.fallback' in sys.modules)",
                                "from course_utils.data.manifest import _parse\n"
                                "print(_parse.cache_info().currsize)"], tmp_path)
    assert [_text(cell).strip() for cell in preloaded.cells] == ["True", "1"]
    cwd, env, parent, first_path, parent_handle = _text(nb.cells[1]).split()
    assert (env, first_path) == ("seen", cwd)  # imports from its folder
    assert parent == parent_handle  # the template: the kernel stops when it goes
    if template.sandbox:  # a fresh scratch folder, not the grader's (hidden)
        assert cwd.startswith("/tmp/kernel-") and not os.path.exists(cwd)
    else:
        assert cwd == str(tmp_path) and int(parent) == template.process.pid
    again = _run(template, ["print('secret' in dir())", "import numpy\nprint(numpy.random.rand())"],
                 tmp_path)
    assert _text(again.cells[0]).strip() == "False"
    assert _text(again.cells[1]) != _text(nb.cells[3])  # unseeded numpy differs, as in new ones


def test_endless_loop_is_interrupted(template, tmp_path):
    nb = _run(template, ["while True:\n    pass", "print('after')"], tmp_path, timeout=3)
    assert nb.cells[0].outputs[-1].ename == "KeyboardInterrupt"
    assert _text(nb.cells[1]).strip() == "after"


def test_killing_the_launcher_kills_the_kernel(template):
    """What a kernel manager does to a kernel that ignores interrupts: the kernel must go too."""

    async def start_busy_kernel_and_kill_it() -> int:
        km = ForkedKernelManager(kernel_name="python3", config=forked_config(template))
        await km.start_kernel()
        kc = km.client()
        kc.start_channels()
        await kc.wait_for_ready(timeout=60)
        kc.execute(NAME_ME.format(name=name) + "\nimport signal\n"
                   "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                   "print('busy', flush=True)\nwhile True:\n    pass")
        while (await kc.get_iopub_msg(timeout=30))["msg_type"] != "stream":
            continue
        found = processes_named(name)
        kc.stop_channels()
        await km.shutdown_kernel(now=True)  # SIGKILL to the launcher's process group
        return found

    name = f"cu-busy-{os.getpid() % 10000}"
    assert len(asyncio.run(start_busy_kernel_and_kill_it())) == 1
    for _ in range(50):  # the template notices the launcher is gone and kills the kernel
        if not processes_named(name):
            return
        time.sleep(0.1)
    pytest.fail(f"kernel {processes_named(name)} still runs after its launcher was killed")


def test_client_starts_work_as_soon_as_the_kernel_answers(template):
    """The handshake's leftover IOPub messages don't get mixed into the first cell's output."""

    async def first_output() -> list[str]:
        km = ForkedKernelManager(kernel_name="python3", config=forked_config(template))
        await km.start_kernel()
        kc = km.client()
        assert isinstance(kc, GradingKernelClient)
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=60)
            msg_id, seen = kc.execute("print(6 * 7)"), []
            while True:
                msg = await kc.get_iopub_msg(timeout=30)
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                if msg["msg_type"] == "stream":
                    seen.append(msg["content"]["text"])
                if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    return seen
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)

    assert asyncio.run(first_output()) == ["42\n"]


def test_kernel_death_is_noticed(template, tmp_path):
    with pytest.raises(DeadKernelError):
        _run(template, ["import os\nos._exit(3)", "print('never')"], tmp_path)


def test_a_stopped_template_is_started_again(tmp_path):
    template = KernelTemplate([])
    try:
        template.process.kill()
        template.process.wait()  # the watchdog starts it again; the launcher waits for it
        nb = _run(template, ["print(6 * 7)"], tmp_path)
        assert _text(nb.cells[0]).strip() == "42"
    finally:
        template.close()


def test_closed_template_leaves_no_process_or_socket(tmp_path):
    template = KernelTemplate([])
    path = template.socket_path
    template.close()
    assert template.process.poll() is not None and not os.path.exists(path)


def test_batch_falls_back_to_fresh_kernels_and_says_why(tmp_path, monkeypatch, capsys):
    from course_utils.grading import forked_kernels

    monkeypatch.setattr(forked_kernels, "kernel_interpreter",
                        lambda: [sys.executable, "-c", "raise SystemExit(3)"])
    assert forked_kernels.start_template(tmp_path, ["01_kmeans"]) is None
    assert "Grading kernels will start from scratch (slower): the grading kernel template did " \
           "not start (exit status 3)" in capsys.readouterr().err
