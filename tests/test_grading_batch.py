"""A grading batch that survives: Ctrl-C, and worker processes that die.

Each test grades a few submissions of the fixture notebook 99_demo in a real ``course-utils
grade`` process started in its own session, and signals it as a terminal would (SIGINT to the
whole process group) or kills one of its worker processes, found by the course folder it
grades in (``<workdir>/worker-<pid>/submitted/<student>``). Slow submissions sleep in an answer
cell, so that they are running when the signal comes.
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nbformat
import psutil
import pytest

from course_utils.cli import main
from course_utils.grading.mistakes import submission
from course_utils.grading.sandbox import probe

pytestmark = pytest.mark.grading

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "nb"
DEMO = "99_demo"
OLD_ROW = "student_id,notebook,score\nold_student,99_demo,4\n"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("batch-built")
    assert main(["build", DEMO, "--source-dir", str(FIXTURE), "--out-dir", str(out)]) == 0
    return out


KILL_PARENT = "import os, signal, time\ntime.sleep(2)\nos.kill(os.getppid(), signal.SIGKILL)"


def _submissions(built: Path, folder: Path, sleeps: dict[str, float | str]) -> Path:
    """Solved submissions, one per student; a sleep waits that long in a cell, code runs there."""
    student = nbformat.read(built / f"{DEMO}.ipynb", as_version=4)
    solution = nbformat.read(built / "solutions" / f"{DEMO}.ipynb", as_version=4)
    for who, sleep in sleeps.items():
        code = sleep if isinstance(sleep, str) else f"import time\ntime.sleep({sleep})"
        answers = {"bright": f"{code}\nn_bright = int((pixels > 0.6).sum())"} if sleep else None
        (folder / who).mkdir(parents=True)
        nbformat.write(submission(student, solution, answers), folder / who / f"{DEMO}.ipynb")
    return folder


class Run:
    """A ``course-utils grade`` process in its own session, as a terminal would start it."""

    def __init__(self, built: Path, tmp: Path, sleeps: dict[str, float | str], jobs: int,
                 grace: float | None = None) -> None:
        self.out, self.workdir, self.mark = tmp / "gradebook.csv", tmp / "work", uuid.uuid4().hex
        subs = _submissions(built, tmp / "subs", sleeps)
        args = ["grade", str(subs), "--out", str(self.out), "--jobs", str(jobs),
                "--solutions", str(built / "solutions"), "--workdir", str(self.workdir),
                "--timeout", "120"]
        setup = f"grade.GRACE_SECONDS = {grace}; " if grace is not None else ""
        code = ("import sys; from course_utils.cli import main; "
                f"from course_utils.grading import grade; {setup}sys.exit(main(sys.argv[1:]))")
        env = {**os.environ, "COURSE_TEST_MARK": self.mark,
               "PYTHONPATH": os.pathsep.join([str(ROOT), str(FIXTURE)])}
        self.process = subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, env=env,
                                        start_new_session=True, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        self.started = time.monotonic()

    def workers_grading(self, student: str) -> set[int]:
        """The pids of the workers that have started grading ``student``."""
        return {int(re.search(r"worker-(\d+)", str(p)).group(1))
                for p in self.workdir.glob(f"worker-*/submitted/{student}")}

    def wait_until_grading(self, student: str, timeout: float = 120) -> int:
        """The pid of the first worker seen grading ``student``."""
        while not (found := self.workers_grading(student)):
            assert self.process.poll() is None, self.finish()
            assert time.monotonic() - self.started < timeout, f"{student} never started"
            time.sleep(0.05)
        return min(found)

    def ctrl_c(self) -> None:
        """SIGINT to every process of the batch, as Ctrl-C in its terminal sends it."""
        os.killpg(self.process.pid, signal.SIGINT)

    def finish(self, timeout: float = 180) -> tuple[int, str]:
        terminal, _ = self.process.communicate(timeout=timeout)
        return self.process.returncode, terminal

    def rows(self) -> dict[str, dict[str, str]]:
        with open(self.out, newline="", encoding="utf-8") as fh:
            return {row["student_id"]: row for row in csv.DictReader(fh)}

    def leftovers(self) -> list[str]:
        """Temporary files beside the gradebook, and processes of this batch still running."""
        files = [p.name for p in self.out.parent.glob(f".{self.out.name}.*")]
        procs = []
        for proc in psutil.process_iter(["cmdline"]):
            try:
                if proc.environ().get("COURSE_TEST_MARK") == self.mark:
                    procs.append(" ".join(proc.info["cmdline"] or [])[:120])
            except psutil.Error:
                continue
        return files + procs


def _no_leftovers(run: Run) -> None:
    deadline = time.monotonic() + 5  # a killed process may take a moment to go
    while (left := run.leftovers()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left


def test_ctrl_c_with_one_job_writes_the_graded_rows_and_exits_130(built, tmp_path):
    run = Run(built, tmp_path, {"a": 0, "b_slow": 60, "c": 0}, jobs=1)
    run.out.write_text(OLD_ROW)  # an earlier batch's gradebook: replaced, never mixed in
    run.wait_until_grading("b_slow")
    time.sleep(0.5)
    run.ctrl_c()
    asked = time.monotonic()
    rc, terminal = run.finish()
    assert rc == 130, terminal
    assert time.monotonic() - asked < 15, terminal  # 5 s of grace, then the worker is stopped
    rows = run.rows()
    assert set(rows) == {"a"}, rows  # b_slow was stopped mid-way, c never started
    assert (rows["a"]["score"], rows["a"]["status"]) == ("4", "ok")
    assert "KeyboardInterrupt" not in run.out.read_text()
    assert "1 of 3 submissions graded" in terminal and "PARTIAL gradebook" in terminal
    _no_leftovers(run)


def test_ctrl_c_with_two_jobs_lets_running_submissions_finish(built, tmp_path):
    run = Run(built, tmp_path, {"a": 0, "b_slow": 60, "c_short": 2, "d": 0, "e": 0}, jobs=2,
              grace=12)
    run.out.write_text(OLD_ROW)
    run.wait_until_grading("c_short")  # a is done; b_slow and c_short run
    run.ctrl_c()
    rc, terminal = run.finish()
    assert rc == 130, terminal
    rows = run.rows()
    assert set(rows) == {"a", "c_short"}, rows  # c_short finished in its grace; b_slow did not
    assert all(row["status"] == "ok" and row["score"] == "4" for row in rows.values()), rows
    assert "2 of 5 submissions graded" in terminal
    _no_leftovers(run)


def test_second_ctrl_c_stops_at_once_and_writes_nothing(built, tmp_path):
    run = Run(built, tmp_path, {"a": 0, "b_slow": 60, "c_slow": 60}, jobs=2)
    run.out.write_text(OLD_ROW)
    run.wait_until_grading("c_slow")
    run.ctrl_c()
    time.sleep(0.5)
    run.ctrl_c()
    asked = time.monotonic()
    rc, terminal = run.finish()
    assert rc == 130, terminal
    assert time.monotonic() - asked < 4, terminal
    assert run.out.read_text() == OLD_ROW  # left as it was, and said so
    assert "Stopped at once" in terminal and "left as it was" in terminal
    _no_leftovers(run)


def test_killed_workers_submissions_are_graded_again(built, tmp_path):
    """once: killed in its first worker only; twice: killed in every worker that grades it."""
    run = Run(built, tmp_path, {"a": 0, "once": 3, "twice": 3, "z": 0}, jobs=2)
    killed: set[int] = set()
    while run.process.poll() is None:
        targets = (run.workers_grading("twice") | set(sorted(run.workers_grading("once"))[:1]))
        for pid in targets - killed:
            time.sleep(0.5)  # the kernel is running
            with contextlib.suppress(ProcessLookupError):  # the batch stopped it already,
                os.kill(pid, signal.SIGKILL)  # its pool being broken by the other kill
            killed.add(pid)
        time.sleep(0.05)
    rc, terminal = run.finish()
    assert len(killed) == 3, (killed, terminal)  # once's first worker, both of twice's
    assert "A grading process died" in terminal
    rows = run.rows()
    assert set(rows) == {"a", "once", "twice", "z"}
    for who in ("a", "once", "z"):  # honest students keep their marks
        assert (rows[who]["score"], rows[who]["status"]) == ("4", "ok"), rows[who]
    twice = rows["twice"]
    assert (twice["status"], twice["score"], twice["max_score"]) == ("crashed", "0", "4"), twice
    assert "died twice" in twice["error"]
    assert rc == 0  # everything was graded; the crash is scored like a kernel that died
    _no_leftovers(run)


def test_a_kernel_that_kills_its_parent_costs_others_nothing(built, tmp_path):
    """Its parent is a kernel template: unsandboxed, the batch's, whose other kernels die too
    (and are graded again); sandboxed, its worker's own, which holds no other kernel."""
    run = Run(built, tmp_path, {"a_slow": 6, "killer": KILL_PARENT, "z": 0}, jobs=2)
    rc, terminal = run.finish()
    rows = run.rows()
    if not probe().available:
        assert "a_slow/99_demo: its kernel died while others ran beside it" in terminal
    for who in ("a_slow", "z"):
        assert (rows[who]["score"], rows[who]["status"]) == ("4", "ok"), (rows[who], terminal)
    assert "killer" in rows and rc == 0
    _no_leftovers(run)
