"""Hostile kernels, forked from a sandboxed template as a batch forks them: what they can't do.

The grader's folders live outside /tmp here (/var/tmp), so that they are hidden because the
batch names them, not merely because the sandbox has its own /tmp.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest
from kernel_helpers import NAME_ME, forked_config, processes_named, run_cells, text

import course_utils
from course_utils.grading import sandbox
from course_utils.grading.forked_kernels import (
    FORK_SUPPORTED,
    ForkedKernelManager,
    KernelTemplate,
)

pytestmark = [
    pytest.mark.grading,
    pytest.mark.skipif(not (FORK_SUPPORTED and sandbox.probe().available),
                       reason=f"no sandbox here: {sandbox.probe().detail}"),
]
REPO_SOLUTIONS = Path(__file__).resolve().parents[1] / "notebooks" / "solutions"
WRITE = ("try:\n    open({path!r}, 'w').write('forged')\n    print('written')\n"
         "except OSError as exc:\n    print('refused', type(exc).__name__)")


@pytest.fixture(scope="module")
def grader_folders():
    """A worker's course folder with its gradebook, the solutions, and another submission."""
    base = Path(tempfile.mkdtemp(prefix="course-sandbox-test-", dir="/var/tmp"))
    folders = {name: base / name for name in ("course", "solutions", "submissions", "feedback")}
    for folder in folders.values():
        folder.mkdir()
    (folders["course"] / "gradebook.db").write_text("grades")
    (folders["solutions"] / "01_kmeans.ipynb").write_text("the answers")
    (folders["submissions"] / "bob.ipynb").write_text("bob's work")
    (base / "gradebook.csv").write_text("everyone's grades")
    folders["out"] = base / "gradebook.csv"
    yield folders
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def template(grader_folders):
    """A sandboxed template hiding the grader's folders, as a batch starts one."""
    box = sandbox.for_batch(list(grader_folders.values()))
    template = KernelTemplate(["json"], sandbox=box)
    yield template
    template.close()


def _snapshot(folders: dict[str, Path]) -> dict[str, str]:
    return {str(p): p.read_text() for f in folders.values()
            for p in ([f] if f.is_file() else f.rglob("*")) if p.is_file()}


def _outputs(template, sources, cwd) -> list[str]:
    """What each cell printed, or its exception's name."""
    nb = run_cells(template, sources, cwd)
    return [text(c).strip() or " ".join(o.ename for o in c.outputs if o.output_type == "error")
            for c in nb.cells]


def test_kernel_cannot_reach_the_gradebook_solutions_or_other_submissions(template,
                                                                           grader_folders):
    before = _snapshot(grader_folders)
    paths = {name: str(path) for name, path in grader_folders.items()}
    probes = []
    for name, path in paths.items():
        probes.append(f"import os\nprint(os.listdir({path!r}) if os.path.isdir({path!r}) "
                      f"else open({path!r}).read() or 'empty')")
        target = os.path.join(path, "planted") if name != "out" else path
        probes.append(WRITE.format(path=target))
    probes.append(f"print(os.path.exists({template.socket_path!r}))")
    outputs = _outputs(template, probes, grader_folders["course"])
    for name, index in zip(paths, range(0, 2 * len(paths), 2), strict=True):
        hidden = "PermissionError" if name == "out" else "[]"  # /dev/null in its place
        assert outputs[index] == hidden, f"{name} is visible: {outputs[index]}"
        assert outputs[index + 1].startswith("refused"), f"{name} is writable"
    assert outputs[-1] == "False"  # nor the template's socket: a kernel can't ask for kernels
    assert _snapshot(grader_folders) == before


def test_writing_outside_the_scratch_folder_fails(template, tmp_path):
    home = os.path.expanduser("~")
    targets = [os.path.dirname(course_utils.__file__), str(REPO_SOLUTIONS), home, "/usr",
               "/var/tmp", str(Path(shutil.which("python3") or "/usr/bin").parent)]
    cells = [WRITE.format(path=os.path.join(t, "planted")) for t in targets]
    cells += ["import os, tempfile\nopen('mine.txt', 'w').write('ok')\n"
              "print(os.getcwd() == tempfile.gettempdir(), open('mine.txt').read())"]
    outputs = _outputs(template, cells, tmp_path)
    written = [t for t, out in zip(targets, outputs, strict=False) if out == "written"]
    for target in written:  # leave nothing behind where the sandbox failed
        os.unlink(os.path.join(target, "planted"))
    assert not written and all(out.startswith("refused") for out in outputs[:-1])
    assert outputs[-1] == "True ok"


def test_no_network_not_even_loopback(template, tmp_path):
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(5)
    port, accepted = server.getsockname()[1], []

    def accept():
        try:
            accepted.append(server.accept())
        except OSError:
            pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        outputs = _outputs(template, [
            "import socket\n"
            f"socket.create_connection(('127.0.0.1', {port}), timeout=3)\nprint('connected')",
            "socket.getaddrinfo('pypi.org', 443)"], tmp_path)
    finally:
        server.close()
        thread.join()
    assert outputs[0] in ("ConnectionRefusedError", "OSError", "TimeoutError"), outputs
    assert outputs[1] == "gaierror" and not accepted


def test_daemons_and_files_a_kernel_leaves_are_gone_before_the_next_kernel(template, tmp_path):
    name = f"cu-daemon-{os.getpid() % 10000}"
    start_daemon = (
        "import subprocess, sys\n"
        f"code = {NAME_ME.format(name=name)!r} + '\\nimport time\\ntime.sleep(120)'\n"
        "daemon = subprocess.Popen([sys.executable, '-c', code], start_new_session=True)\n"
        "import os, tempfile\n"
        "open('/tmp/left-behind', 'w').write('x')\n"
        "open('/dev/shm/left-behind', 'w').write('x')\n"
        "open(os.path.join(os.environ['JUPYTER_RUNTIME_DIR'], 'left-behind'), 'w').write('x')\n"
        "print(os.getcwd())")
    wait_for_it = "import time\nfor _ in range(100):\n    time.sleep(0.05)\nprint(daemon.poll())"
    first = _outputs(template, [start_daemon, wait_for_it], tmp_path)
    assert first[1] == "None"  # it ran while the kernel did
    assert processes_named(name) == []  # killed once the kernel ended
    seen = _outputs(template, [
        "import os\nprint(sorted(os.listdir('/tmp')), os.listdir('/dev/shm'))",
        f"print(os.path.exists({first[0]!r}), "
        "os.listdir(os.environ['JUPYTER_RUNTIME_DIR']))"], tmp_path)
    assert "left-behind" not in seen[0] and "False" in seen[1] and "left-behind" not in seen[1]


def test_nothing_outlives_the_template(tmp_path):
    """Closing the template (the batch ends, or its worker dies) ends the sandbox whole."""

    async def start_daemon_in_live_kernel(template, name):
        km = ForkedKernelManager(kernel_name="python3", config=forked_config(template))
        await km.start_kernel()
        kc = km.client()
        kc.start_channels()
        await kc.wait_for_ready(timeout=60)
        kc.execute("import subprocess, sys\n"
                   f"code = {NAME_ME.format(name=name)!r} + '\\nimport time\\ntime.sleep(120)'\n"
                   "subprocess.Popen([sys.executable, '-c', code], start_new_session=True)\n"
                   "import time\ntime.sleep(0.5)\nprint('started', flush=True)")
        while (await kc.get_iopub_msg(timeout=30))["msg_type"] != "stream":
            continue
        kc.stop_channels()
        return km

    template = KernelTemplate([], sandbox=sandbox.for_batch([]))
    name = f"cu-orphan-{os.getpid() % 10000}"
    try:
        km = asyncio.run(start_daemon_in_live_kernel(template, name))
        assert len(processes_named(name)) == 1
    finally:
        template.close()
    try:
        for _ in range(50):
            if not processes_named(name):
                return
            time.sleep(0.1)
        pytest.fail("a kernel's daemon outlived the batch's template")
    finally:
        asyncio.run(km.shutdown_kernel(now=True))


def test_unsandboxed_batch_says_so_once(monkeypatch, capsys, tmp_path):
    from course_utils.grading import forked_kernels, grade
    from course_utils.grading.results import GradeRow
    from course_utils.grading.submissions import Submission

    monkeypatch.setattr(sandbox, "probe", lambda: sandbox.Status(False, "no bubblewrap", "fix"))
    monkeypatch.setattr(forked_kernels, "kernel_source", lambda *args: (None, None))
    monkeypatch.setattr(grade, "grade_all", lambda subs, *rest: (
        GradeRow(sub.student, sub.notebook, score=1.0, max_score=1.0) for sub in subs))
    subs = [Submission(f"s{i}", "01_kmeans", tmp_path / f"s{i}.ipynb") for i in range(3)]
    args = argparse.Namespace(jobs=2, figures=False, fresh_kernels=False, solutions=tmp_path,
                              submissions=tmp_path, out=tmp_path / "gradebook.csv")
    assert len(grade._run_batch(subs, args, tmp_path / "work", tmp_path / "feedback",
                                grade.CtrlC())) == 3
    err = capsys.readouterr().err
    assert err.count("submissions are NOT isolated: no bubblewrap") == 1 and "(fix)" in err
