"""Grading round trips through nbgrader: `course-utils grade` and `course-utils validate`.

Every notebook with a mistakes file (tests/fixtures/mistakes/NN_name.yaml), plus the fixture
notebook 99_demo, is built, and one batch per notebook is graded with ``--jobs 2``: the solved
notebook, the untouched student notebook and each typical mistake. The demo batch adds the
submissions that must not stop a batch: an edited locked cell, an endless loop, a missing
import, code that kills the kernel and a file that is not a notebook. Each batch runs once;
many tests read its results.
"""

from __future__ import annotations

import contextlib
import csv
import html
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from course_utils.cli import main
from course_utils.grading.mistakes import Mistake, load_mistakes, submission, with_mistake
from course_utils.grading.sandbox import probe

pytestmark = pytest.mark.grading

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "nb"
DEMO = "99_demo"
DEMO_TIMEOUT = 30  # seconds per cell: room for the setup cell, short for the endless loop


@dataclass(frozen=True)
class Case:
    """A notebook to grade: its source and its typical mistakes."""

    name: str
    source_dir: Path
    mistakes_file: Path

    @property
    def mistakes(self) -> list[Mistake]:
        return load_mistakes(self.mistakes_file)


def _cases() -> list[Case]:
    found = [Case(DEMO, FIXTURE, FIXTURE / f"{DEMO}.mistakes.yaml")]
    for source in sorted((ROOT / "notebooks" / "source").glob("[0-9][0-9]_*.py")):
        mistakes = ROOT / "tests" / "fixtures" / "mistakes" / f"{source.stem}.yaml"
        if mistakes.exists():
            found.append(Case(source.stem, source.parent, mistakes))
    return found


CASES = _cases()
ISOLATED = probe()
MISTAKES = [(case, m) for case in CASES for m in case.mistakes]


@dataclass
class Batch:
    """One graded batch: exit status, terminal output, CSV rows and the notebooks used."""

    rc: int
    terminal: str
    rows: dict[str, dict[str, str]]
    feedback: Path
    student: nbformat.NotebookNode
    solution: nbformat.NotebookNode
    extra: dict = field(default_factory=dict)

    def points(self) -> dict[str, float]:
        """Check cell grade_id -> points, from the student notebook."""
        return {c.metadata.nbgrader["grade_id"]: float(c.metadata.nbgrader["points"])
                for c in self.student.cells if c.metadata.get("nbgrader", {}).get("grade")}

    def feedback_text(self, student: str, notebook: str) -> str:
        """The feedback page as plain text (tags removed, entities decoded, spaces collapsed)."""
        page = (self.feedback / student / f"{notebook}.html").read_text(encoding="utf-8")
        return " ".join(html.unescape(re.sub(r"<[^>]+>", "", page)).split())


FORGERIES = {  # blank answers, and one line each that once scored full marks
    "forge_check": "def check(*args, **kwargs):\n    pass",
    "forge_run": "import course_utils.checks.core as core\n"
                 "core.Checker._run = lambda self, name: (True, '')\n"
                 "core.judge = lambda spec, namespace: (True, '')",
    "forge_call": "import course_utils.checks.core as core\n"
                  "core.Checker.__call__ = lambda self, *args, **kwargs: None\n"
                  "core.matches_hash = lambda value, expected: True",
}
DEAF = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
SPY = """from IPython import get_ipython
def spy(info):
    print('SPY SEES:', info.raw_cell)
get_ipython().events.register('pre_run_cell', spy)
import glob, os
for path in glob.glob('../../../*/99_demo/*.ipynb') + glob.glob('/tmp/*/*/*/99_demo/*.ipynb'):
    print('SPY' + 'READS', path, open(path).read())
print('SPY ENV', dict(os.environ), open('/proc/self/environ').read())"""
SECRET = "the-hidden-checks-secret"  # the batch's COURSE_GRADING_SECRET


TAMPER = """import glob, sqlite3
for db in glob.glob('../../../gradebook.db') + glob.glob('/tmp/course-grade-*/**/gradebook.db',
                                                      recursive=True):
    try:
        with sqlite3.connect(db) as con:
            con.execute("UPDATE source_cell SET source = 'pass'")
        print('TAMPERED', db)
    except Exception as exc:
        print('could not tamper with', db, exc)"""


def _blank_with(student: nbformat.NotebookNode, code: str) -> nbformat.NotebookNode:
    """The untouched student notebook with ``code`` added to its first answer cell."""
    nb = nbformat.from_dict(student)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    cell.source = code + "\n\n" + cell.source
    return nb


def _demo_specials(student, solution) -> dict[str, nbformat.NotebookNode | str]:
    """Submissions that misbehave: each must be scored and reported, never stop the batch."""
    wrong = {"normalise": "def normalise(image):\n    return image"}
    tampered = submission(student, solution, wrong)
    for cell in tampered.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "normalise_check":
            cell.source = "pass  # the check is switched off"
    return {
        "tampered": tampered,
        "endless": submission(student, solution, {"bright": "while True:\n    pass"}),
        "missing_import": submission(student, solution, {
            "foreground": "import not_a_real_module\n\ndef foreground_fraction(image, threshold):"
                          "\n    return 0.25"}),
        "kernel_dies": submission(student, solution, {"bright": "import os\nos._exit(3)"}),
        "deaf": submission(student, solution, {"bright": DEAF}),
        "slow": submission(student, solution, {  # each cell in time, the notebook too late
            "foreground": "import time\ntime.sleep(25)\n\ndef foreground_fraction(image, t):"
                          "\n    return float((np.asarray(image) > t).mean())",
            "bright": "time.sleep(25)\nn_bright = 8"}),
        "corrupt": "{ this is not a notebook",
        "spy": _blank_with(student, SPY),
    } | {name: _blank_with(student, code) for name, code in FORGERIES.items()}


def _grade(case: Case, tmp: Path) -> Batch:
    """Build the case's notebook, make its submissions, grade them with --jobs 2."""
    built = tmp / "built"
    assert main(["build", case.name, "--source-dir", str(case.source_dir),
                 "--out-dir", str(built)]) == 0
    student = nbformat.read(built / f"{case.name}.ipynb", as_version=4)
    solution = nbformat.read(built / "solutions" / f"{case.name}.ipynb", as_version=4)
    subs = {"solved": submission(student, solution), "untouched": student}
    subs |= {f"mistake-{m.name}": with_mistake(student, solution, m) for m in case.mistakes}
    if case.name == DEMO:
        subs |= _demo_specials(student, solution)
    for who, nb in subs.items():
        (tmp / "subs" / who).mkdir(parents=True)
        target = tmp / "subs" / who / f"{case.name}.ipynb"
        target.write_text(nb if isinstance(nb, str) else nbformat.writes(nb), encoding="utf-8")
    if case.name == DEMO:  # a submission under a name that no solution notebook has
        (tmp / "subs" / "misnamed").mkdir()
        (tmp / "subs" / "misnamed" / "99_dmeo.ipynb").write_text(
            nbformat.writes(subs["solved"]), encoding="utf-8")
    timeout = ["--timeout", str(DEMO_TIMEOUT)] if case.name == DEMO else []
    terminal = io.StringIO()
    with contextlib.redirect_stdout(terminal), contextlib.redirect_stderr(terminal):
        rc = main(["grade", str(tmp / "subs"), "--out", str(tmp / "gradebook.csv"),
                   "--solutions", str(built / "solutions"), "--jobs", "2", *timeout])
    with open(tmp / "gradebook.csv", newline="", encoding="utf-8") as fh:
        rows = {row["student_id"]: row for row in csv.DictReader(fh)}
    return Batch(rc, terminal.getvalue(), rows, tmp / "feedback", student, solution)


@pytest.fixture(scope="session")
def batches(tmp_path_factory):
    """Grade each case once, when a test first asks for it."""
    done: dict[str, Batch] = {}

    def get(case: Case) -> Batch:
        if case.name not in done:
            with pytest.MonkeyPatch.context() as mp:  # kernels and graders import demo_checks
                mp.syspath_prepend(str(FIXTURE))
                mp.setenv("COURSE_GRADING_SECRET", SECRET)
                mp.setenv("PYTHONPATH", os.pathsep.join(
                    filter(None, [str(FIXTURE), os.environ.get("PYTHONPATH")])))
                done[case.name] = _grade(case, tmp_path_factory.mktemp(case.name))
        return done[case.name]

    return get


def _score(row: dict[str, str]) -> tuple[float, float]:
    return float(row["score"]), float(row["max_score"])


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_solution_scores_full_marks(batches, case):
    batch = batches(case)
    row = batch.rows["solved"]
    score, max_score = _score(row)
    assert max_score == sum(batch.points().values()) > 0
    assert score == max_score, row
    assert row["status"] == "ok", row


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_untouched_student_notebook_scores_zero(batches, case):
    row = batches(case).rows["untouched"]
    assert _score(row)[0] == 0, row
    flags = set(row["status"].split(";"))
    assert "unanswered" in flags and not flags & {"not_graded", "crashed", "timeout"}, row


@pytest.mark.parametrize(("case", "mistake"), MISTAKES,
                         ids=[f"{c.name}-{m.name}" for c, m in MISTAKES])
def test_mistake_scores_partial_and_shows_its_hint(batches, case, mistake):
    batch = batches(case)
    row = batch.rows[f"mistake-{mistake.name}"]
    points = batch.points()
    assert set(mistake.lost) <= set(points), f"lost names unknown checks: {mistake.lost}"
    for grade_id, full in points.items():
        expected = 0.0 if grade_id in mistake.lost else full
        assert float(row[grade_id]) == expected, (grade_id, row)
    assert 0 < _score(row)[0] < _score(row)[1]
    assert " ".join(mistake.hint.split()) in batch.feedback_text(f"mistake-{mistake.name}",
                                                                case.name)


def _hidden_lines(nb: nbformat.NotebookNode) -> list[str]:
    """Every non-empty line of the notebook's hidden-test regions."""
    blocks = [b for c in nb.cells for b in re.findall(
        r"BEGIN HIDDEN TESTS[^\n]*\n(.*?)### END HIDDEN TESTS", c.source, re.S)]
    return [line.strip() for b in blocks for line in b.splitlines() if line.strip()]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_feedback_never_shows_hidden_tests(batches, case):
    batch = batches(case)
    hidden = _hidden_lines(batch.solution)
    assert hidden or case.name != DEMO, "the demo must have hidden tests to test this"
    visible = next(c.source.splitlines()[0].strip() for c in batch.student.cells
                   if c.metadata.get("nbgrader", {}).get("grade"))
    pages = [who for who in batch.rows if (batch.feedback / who / f"{case.name}.html").exists()]
    assert {"solved", "untouched"} <= set(pages)
    for who in ("solved", "untouched"):
        assert visible in batch.feedback_text(who, case.name), "feedback shows the check code"
    for who in pages:
        text = batch.feedback_text(who, case.name)
        assert "HIDDEN TESTS" not in text
        assert not [line for line in hidden if line in text], who


def _demo(batches) -> Batch:
    return batches(CASES[0])


def test_demo_hidden_check_ran_but_its_code_is_not_shown(batches):
    batch = _demo(batches)
    text = batch.feedback_text("solved", DEMO)
    assert "✓ normalise_keeps_input" in text  # the hidden check ran ...
    assert 'check("normalise_keeps_input")' not in text  # ... and its code is not shown
    assert 'check("normalise")' in text


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_forged_checker_scores_zero(batches, forgery):
    """Patching check, the Checker or its helpers in the kernel changes no verdict."""
    batch = _demo(batches)
    row = batch.rows[forgery]
    assert _score(row) == (0, sum(batch.points().values())), row
    assert row == {**batch.rows["untouched"], "student_id": forgery,
                   "status": row["status"], "error": row["error"]}
    assert "✗ normalise" in batch.feedback_text(forgery, DEMO)


def test_spy_sees_no_check_cell_and_its_feedback_no_hidden_test(batches):
    """A pre_run_cell hook sees only the cells the kernel runs: never a check cell."""
    batch = _demo(batches)
    text = batch.feedback_text("spy", DEMO)
    assert "SPY SEES: pixels = np.arange(20) / 20" in text  # the hook did run ...
    assert 'SPY SEES: check("' not in text  # ... but no check cell reached the kernel
    assert 'check("normalise_keeps_input")' not in text
    assert _score(batch.rows["spy"])[0] == 0
    if ISOLATED.available:  # and the course folder's notebooks are out of its sight
        assert "SPYREADS" not in text
    assert "SPY ENV" in text and SECRET not in text  # nor the hidden checks' secret


def test_feedback_shows_plain_python_tracebacks(batches):
    text = _demo(batches).feedback_text("missing_import", DEMO)
    assert "Traceback (most recent call last): Cell In[" in text  # xmode Plain: cheap to format
    assert "ModuleNotFoundError" in text


def test_edited_locked_cell_is_flagged_and_graded_with_the_original(batches):
    batch = _demo(batches)
    row = batch.rows["tampered"]
    assert row["status"].startswith("locked_cell_edited"), row
    assert "normalise_check (edited)" in row["error"]
    assert float(row["normalise_check"]) == 0  # the real check ran and failed
    assert float(row["foreground_check"]) == 1
    assert "tampered/99_demo: locked_cell_edited" in batch.terminal


def test_endless_loop_is_interrupted_and_the_rest_graded(batches):
    row = _demo(batches).rows["endless"]
    assert "timeout" in row["status"] and "bright" in row["error"], row
    assert (float(row["bright_check"]), float(row["normalise_check"])) == (0, 2)


def test_kernel_that_ignores_interrupts_is_killed_and_the_rest_not_run(batches):
    """Interrupted at the cell timeout and deaf to it: killed, not waited for cell by cell."""
    batch = _demo(batches)
    row = batch.rows["deaf"]
    assert "timeout" in row["status"] and "did not stop when interrupted" in row["error"], row
    assert (float(row["normalise_check"]), float(row["bright_check"])) == (2, 0), row
    assert "SubmissionDeadline" in batch.feedback_text("deaf", DEMO)


def test_notebook_past_its_deadline_is_stopped_there(batches):
    """Every cell within its timeout, the whole past 3 x its grade_seconds: stopped there."""
    batch = _demo(batches)
    row = batch.rows["slow"]
    assert "timeout" in row["status"] and "45 s grading deadline" in row["error"], row
    assert (float(row["normalise_check"]), float(row["bright_check"])) == (2, 0), row


def test_missing_import_is_reported_and_the_rest_graded(batches):
    row = _demo(batches).rows["missing_import"]
    assert "errors" in row["status"], row
    assert "ModuleNotFoundError" in row["error"] and "not_a_real_module" in row["error"]
    assert (float(row["foreground_check"]), float(row["normalise_check"])) == (0, 2)


def test_kernel_death_scores_zero_and_says_why(batches):
    batch = _demo(batches)
    row = batch.rows["kernel_dies"]
    assert (row["status"], row["score"], row["normalise_check"]) == ("crashed", "0", "0"), row
    assert "kernel died" in batch.feedback_text("kernel_dies", DEMO)


def test_unreadable_submission_is_not_graded_and_fails_the_batch(batches):
    batch = _demo(batches)
    row = batch.rows["corrupt"]
    assert row["status"] == "not_graded" and row["score"] == "", row
    assert "not a readable notebook" in row["error"]
    assert batch.rc == 1  # it, and the misnamed one, could not be graded at all
    assert all(r["status"] != "not_graded" for who, r in batch.rows.items()
               if who not in ("corrupt", "misnamed"))


def test_submission_without_a_solution_is_not_graded_and_says_what_names_exist(batches):
    row = _demo(batches).rows["misnamed"]
    assert (row["status"], row["notebook"], row["score"]) == ("not_graded", "99_dmeo", ""), row
    assert "no solution notebook 99_dmeo.ipynb" in row["error"] and DEMO in row["error"]


@pytest.mark.parametrize("case", CASES[1:], ids=[c.name for c in CASES[1:]])
def test_real_notebook_batch_exits_zero(batches, case):
    assert batches(case).rc == 0


@pytest.fixture(scope="module")
def demo_built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("validate")
    assert main(["build", DEMO, "--source-dir", str(FIXTURE), "--out-dir", str(out)]) == 0
    return out


def _with_fixture() -> str:
    """PYTHONPATH for a kernel that imports the demo's checks (and this checkout's package)."""
    return os.pathsep.join(filter(None, [str(FIXTURE), os.environ.get("PYTHONPATH")]))


def test_validate_passes_a_solved_notebook(demo_built, monkeypatch, capsys):
    monkeypatch.setenv("PYTHONPATH", _with_fixture())
    assert main(["validate", str(demo_built / "solutions" / f"{DEMO}.ipynb")]) == 0
    out = capsys.readouterr().out
    assert "✓ normalise_keeps_input" in out and "4 of 4 checks pass." in out


def test_validate_fails_and_explains_an_unanswered_notebook(demo_built, monkeypatch, capsys):
    monkeypatch.setenv("PYTHONPATH", _with_fixture())
    executed = demo_built / "executed.ipynb"
    assert main(["validate", str(demo_built / f"{DEMO}.ipynb"), "--output", str(executed)]) == 1
    out = capsys.readouterr().out
    assert "✗ normalise: normalise is not written yet" in out
    assert "✗ bright: `n_bright` is still `...`" in out  # the value stub runs, unanswered
    assert "0 of 3 checks pass." in out
    summary = nbformat.read(executed, as_version=4).cells[-1].outputs[0].text
    assert "0 of 3 checks pass in 99_demo" in summary
    assert "normalise_keeps_input" not in summary  # a hidden check stays hidden


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_tamperer_leaves_the_students_after_it_as_they_were(demo_built, monkeypatch, tmp_path,
                                                             jobs):
    """A submission that rewrites the gradebook's check cells changes no later verdict."""
    if not ISOLATED.available:
        pytest.skip(f"needs the grading sandbox: {ISOLATED.detail} ({ISOLATED.fix})")
    monkeypatch.setenv("PYTHONPATH", _with_fixture())
    monkeypatch.syspath_prepend(str(FIXTURE))
    student = nbformat.read(demo_built / f"{DEMO}.ipynb", as_version=4)
    subs = {"a_tamperer": _blank_with(student, TAMPER)}
    subs |= {f"b_untouched_{i}": student for i in range(3)}
    for who, nb in subs.items():
        (tmp_path / "subs" / who).mkdir(parents=True)
        nbformat.write(nb, tmp_path / "subs" / who / f"{DEMO}.ipynb")
    out = tmp_path / "gradebook.csv"
    with contextlib.redirect_stderr(io.StringIO()):
        main(["grade", str(tmp_path / "subs"), "--out", str(out), "--jobs", jobs,
              "--solutions", str(demo_built / "solutions"), "--timeout", "60"])
    with open(out, newline="", encoding="utf-8") as fh:
        rows = {row["student_id"]: row for row in csv.DictReader(fh)}
    assert all(_score(row)[0] == 0 for row in rows.values()), rows
    for i in range(3):
        page = (tmp_path / "feedback" / f"b_untouched_{i}" / f"{DEMO}.html").read_text()
        assert "✗ normalise" in html.unescape(page)


def test_fresh_kernels_grade_the_same(demo_built, monkeypatch, tmp_path, capsys):
    """--fresh-kernels (no forking) gives the solved and the untouched notebook their marks."""
    monkeypatch.setenv("PYTHONPATH", _with_fixture())
    monkeypatch.syspath_prepend(str(FIXTURE))  # the grader judges with demo_checks too
    for who, built in (("solved", demo_built / "solutions"), ("untouched", demo_built)):
        (tmp_path / "subs" / who).mkdir(parents=True)
        (tmp_path / "subs" / who / f"{DEMO}.ipynb").write_bytes(
            (built / f"{DEMO}.ipynb").read_bytes())
    out = tmp_path / "gradebook.csv"
    assert main(["grade", str(tmp_path / "subs"), "--out", str(out), "--fresh-kernels",
                 "--solutions", str(demo_built / "solutions"), "--timeout", "60"]) == 0
    with open(out, newline="", encoding="utf-8") as fh:
        scores = {row["student_id"]: _score(row) for row in csv.DictReader(fh)}
    assert scores["solved"][0] == scores["solved"][1] > 0 and scores["untouched"][0] == 0


def test_submissions_are_found_in_both_layouts(tmp_path):
    from course_utils.grading.submissions import Submission, find_submissions

    plain, course = tmp_path / "plain", tmp_path / "course"
    ann = plain / "ann" / "01_kmeans.ipynb"
    for path in [ann, plain / "ann" / ".ipynb_checkpoints" / "x.ipynb",
                 course / "submitted" / "bo" / "week1" / "01_kmeans.ipynb",
                 course / "submitted" / "bo" / "week1" / "02_svm.ipynb"]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    assert find_submissions(plain) == [Submission("ann", "01_kmeans", ann)]
    assert [(s.student, s.notebook) for s in find_submissions(course)] == [
        ("bo", "01_kmeans"), ("bo", "02_svm")]
    (course / "submitted" / "bo" / "01_kmeans.ipynb").write_text("{}")
    with pytest.raises(ValueError, match="two copies of 01_kmeans"):
        find_submissions(course)


def test_gradebook_columns_prefix_only_shared_check_names(tmp_path):
    from course_utils.grading.gradebook import write_csv
    from course_utils.grading.results import GradeRow

    rows = [GradeRow("ann", "01_a", 3, 3, {"fit": 2, "plot": 1}),
            GradeRow("ann", "02_b", 1, 2, {"fit": 1, "score": 0})]
    rows[1].flag("errors", "score: ValueError: boom")
    write_csv(rows, tmp_path / "g.csv")
    with open(tmp_path / "g.csv", newline="", encoding="utf-8") as fh:
        table = list(csv.reader(fh))
    assert table[0] == ["student_id", "notebook", "score", "max_score", "01_a:fit", "plot",
                        "02_b:fit", "score", "status", "error"]
    assert table[2] == ["ann", "02_b", "1", "2", "", "", "1", "0", "errors",
                        "score: ValueError: boom"]


def test_workers_get_this_batchs_environment(monkeypatch, tmp_path):
    """Workers fork from a server an earlier batch started; they still get today's settings."""
    from concurrent.futures import ProcessPoolExecutor

    from course_utils.grading import grade

    def in_worker(*call):
        with ProcessPoolExecutor(1, mp_context=grade._worker_context(),
                                 initializer=grade._init_worker,
                                 initargs=(None, dict(os.environ))) as pool:
            return pool.submit(*call).result()

    monkeypatch.setenv("COURSE_TEST_BATCH", "first")
    assert in_worker(os.getenv, "COURSE_TEST_BATCH") == "first"  # the server runs from here on
    monkeypatch.setenv("COURSE_TEST_BATCH", "second")
    monkeypatch.chdir(tmp_path)
    assert in_worker(os.getenv, "COURSE_TEST_BATCH") == "second"
    assert in_worker(os.getcwd) == str(tmp_path)


def test_new_gradebook_is_the_one_nbgrader_makes(tmp_path, monkeypatch):
    """Same tables and schema revision as nbgrader's own (which runs the alembic command)."""
    import sqlite3
    import sys

    from nbgrader.api import Gradebook

    from course_utils.grading.worker import new_gradebook

    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])

    def contents(path: Path) -> tuple:
        with contextlib.closing(sqlite3.connect(path)) as db:
            return (sorted(db.execute("SELECT type, name, sql FROM sqlite_master")),
                    db.execute("SELECT version_num FROM alembic_version").fetchall())

    Gradebook(f"sqlite:///{tmp_path / 'nbgrader.db'}").close()
    new_gradebook(tmp_path / "ours.db")
    assert not list(tmp_path.glob("*.partial"))
    Gradebook(f"sqlite:///{tmp_path / 'ours.db'}").close()
    ours, theirs = contents(tmp_path / "ours.db"), contents(tmp_path / "nbgrader.db")
    assert ours == theirs and len(ours[0]) > 10 and len(ours[1]) == 1


def test_gradebook_status_lists_flags_most_serious_first():
    from course_utils.grading.results import SERIOUS, Flag, GradeRow

    row = GradeRow("ann", "01_kmeans")
    row.flag(Flag.UNANSWERED, "not answered: x")
    row.flag(Flag.TIMEOUT, "ran past")
    assert row.status == "timeout;unanswered" and row.graded
    assert Flag.UNANSWERED not in SERIOUS and Flag.NOT_GRADED in SERIOUS
    row.flag(Flag.NOT_GRADED, "broke")
    assert not row.graded and row.status.startswith("not_graded;")
