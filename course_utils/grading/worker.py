"""Grade submissions one after another in a private nbgrader course folder.

Each :class:`Grader` owns a course folder and its sqlite gradebook (nbgrader's gradebook is not
safe for concurrent writers), so several graders can work in parallel processes. For every
submission it runs nbgrader's own steps: ``generate_assignment`` from the solution notebook (once
per notebook, or once per batch in a folder that the other graders copy), ``autograde`` (in
grade mode: nbgrader sets ``NBGRADER_EXECUTION``) and
``generate_feedback``, then reads the scores from the gradebook. Whatever the student's code
does, the result is a :class:`GradeRow`; only a submission that cannot be run at all is marked
``not_graded``.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import warnings
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
from nbformat import NotebookNode

from .feedback import failure_page
from .judged_execute import CELL_TIMEOUT, DEADLINE_ERROR
from .results import Flag, GradeRow

if TYPE_CHECKING:
    from traitlets.config import Config

    from .forked_kernels import KernelSource

QUIET_ERRORS = {"CheckFailed", "NotImplementedError", "KeyboardInterrupt"}  # said elsewhere
DEADLINE_FACTOR, MIN_DEADLINE = 3, 30  # a notebook's deadline: 3 x its grading time, >= 30 s


class Ungradable(Exception):
    """The submission cannot be graded at all; the message says why."""


def nbgrader_config(root: Path, timeout: int, kernels: KernelSource | None = None,
                    notebooks: dict[str, dict] | None = None) -> Config:
    """nbgrader settings for one private course folder: ML-sized timeouts, safe feedback.

    Check cells are judged by the grader (:class:`.judged_execute.JudgedExecute`, which
    replaces nbgrader's Execute), with each notebook's checks and deadline from ``notebooks``.
    With ``kernels``, kernels are forked from that template (see :mod:`.forked_kernels`).
    """
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute, GetGrades
    from traitlets.config import Config

    from .feedback import ClearHiddenTestsInFeedback, FeedbackExporter
    from .judged_execute import JudgedExecute

    config = Config()
    config.Autograde.autograde_preprocessors = [
        JudgedExecute if step is Execute else step
        for step in Autograde.class_traits()["autograde_preprocessors"].default()]
    config.JudgedExecute.notebooks = notebooks or {}
    config.CourseDirectory.root = str(root)
    config.Execute.timeout = timeout  # nbgrader's 30 s default kills ML cells (#1004, #1463)
    config.Execute.extra_arguments = [
        "--HistoryManager.hist_file=:memory:",
        "--IPKernelApp.log_level=ERROR",  # no kernel chatter
        "--InteractiveShell.xmode=Plain",  # Python's own tracebacks: a quarter of the CPU
    ]
    if kernels:
        from .forked_kernels import configure

        configure(config, kernels)
    from ..authoring.stubs import assignment_preprocessors

    config.GenerateAssignment.preprocessors = assignment_preprocessors()  # as `build` stubs
    config.OverwriteCells.add_missing_cells = True  # a deleted check cell still counts
    config.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor,
                                             ClearHiddenTestsInFeedback]
    config.GenerateFeedback.exporter_class = FeedbackExporter
    return config


def judging(solutions: Path) -> dict[str, dict]:
    """For each solution notebook: its checks (see ``checker_of``) and its grading deadline.

    The deadline is DEADLINE_FACTOR times the seconds the notebook declares it takes to grade
    (``course: grade_seconds`` in its source header), at least MIN_DEADLINE; none when it
    declares nothing.
    """
    from .judged_execute import checker_of

    found = {}
    for path in sorted(solutions.glob("*.ipynb")):
        try:
            nb = nbformat.read(path, as_version=4)
            settings = checker_of(nb)
        except Exception:  # noqa: BLE001 - not a course notebook: reported when graded
            continue
        seconds = float(nb.metadata.get("course", {}).get("grade_seconds") or 0)
        settings["deadline"] = max(MIN_DEADLINE, DEADLINE_FACTOR * seconds) if seconds else 0
        found[path.stem] = settings
    return found


def graded_cells(release: NotebookNode) -> dict[str, float]:
    """The released notebook's check cells and their points, in notebook order."""
    return {c.metadata.nbgrader["grade_id"]: float(c.metadata.nbgrader["points"])
            for c in release.cells if c.metadata.get("nbgrader", {}).get("grade")}


def _by_grade_id(nb: NotebookNode) -> dict[str, NotebookNode]:
    """A notebook's nbgrader cells keyed by grade_id."""
    return {c.metadata.nbgrader["grade_id"]: c for c in nb.cells
            if "grade_id" in c.metadata.get("nbgrader", {})}


def locked_cell_changes(release: NotebookNode, submitted: NotebookNode) -> list[str]:
    """Locked cells the student edited or deleted, found with nbgrader's cell checksums."""
    from nbgrader import utils

    cells, changes = _by_grade_id(submitted), []
    for cell in release.cells:
        if not utils.is_locked(cell):
            continue
        grade_id = cell.metadata.nbgrader["grade_id"]
        if grade_id not in cells:
            changes.append(f"{grade_id} (deleted)")
            continue
        try:
            same = utils.compute_checksum(cells[grade_id]) == cell.metadata.nbgrader["checksum"]
        except (KeyError, TypeError, ValueError):  # its nbgrader metadata was edited too
            same = False
        if not same:
            changes.append(f"{grade_id} (edited)")
    return changes


def unanswered(release: NotebookNode, submitted: NotebookNode) -> list[str]:
    """Answer cells still holding the released stub."""
    cells = _by_grade_id(submitted)
    return [gid for gid, cell in _by_grade_id(release).items()
            if cell.metadata.nbgrader.get("solution") and gid in cells
            and cells[gid].source.strip() == cell.source.strip()]


def _short(text: str, limit: int = 160) -> str:
    """One line of at most ``limit`` characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def execution_problems(nb: NotebookNode, row: GradeRow, timeout: int,
                       shown: int = 3) -> None:
    """Flag cells of the executed notebook that timed out or raised (failed checks aside).

    The first ``shown`` errors are quoted; the rest, usually NameErrors that follow from the
    first, are only counted.
    """
    timed_out, stopped, errors = [], [], []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        label = cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell {index + 1}"
        for out in cell.outputs:
            if out.output_type != "error":
                continue
            if out.ename == CELL_TIMEOUT:
                timed_out.append(label)
            elif out.ename == DEADLINE_ERROR:
                stopped.append((label, out.evalue))
            elif out.ename not in QUIET_ERRORS:
                errors.append(f"{label}: {out.ename}: {_short(out.evalue)}")
    if errors:
        more = len(errors) - shown
        row.flag(Flag.ERRORS, " | ".join(errors[:shown])
                 + (f" | and {more} more cell(s) raised" if more > 0 else ""))
    if timed_out:
        row.flag(Flag.TIMEOUT, f"interrupted in {', '.join(timed_out)}: it ran past the "
                 f"{timeout} s cell timeout (an endless loop?) or the notebook's deadline"
                 + ("" if stopped else "; the cells after it still ran"))
    if stopped:
        (first, why), = stopped[:1]
        row.flag(Flag.TIMEOUT, f"stopped early, {why.removeprefix('not run: ')}: "
                 f"{len(stopped)} cell(s) from {first} on were not run and score 0")


def _failure(result: dict, timeout: int) -> tuple[Flag, str]:
    """Why nbgrader could not run a submission to the end: (flag, explanation)."""
    text = result.get("error", "") + result.get("log", "")
    if "CellTimeoutError" in text or "UnresponsiveKernelError" in text:
        return Flag.TIMEOUT, (f"a cell ran past {timeout} s and did not stop when interrupted "
                              "(an endless loop inside compiled code?); scored 0")
    if "DeadKernelError" in text or "Kernel died" in text:
        return Flag.CRASHED, ("the Python kernel died while running the notebook (out of "
                              "memory, or code that exits Python); scored 0")
    lines = [ln for ln in result.get("error", "").strip().splitlines() if ln.strip()]
    detail = _short(lines[-1] if lines else "no detail")
    return Flag.NOT_GRADED, "nbgrader autograde failed: " + detail


def _quiet_nbgrader(sa_warning: type[Warning]) -> None:
    """Keep nbgrader's logs and sqlalchemy's notices off the terminal; results carry the logs."""
    logging.getLogger("traitlets").addHandler(logging.NullHandler())
    warnings.filterwarnings("ignore", category=sa_warning)


def new_gradebook(path: Path) -> None:
    """Create an empty gradebook at ``path``, stamped with nbgrader's schema revision.

    nbgrader stamps a new gradebook itself by running the ``alembic heads`` command: a whole
    Python process per gradebook, which also needs the virtual environment's scripts on PATH.
    Here alembic reads the same revision from nbgrader's migration scripts in this process;
    nbgrader then only adds its tables. The file appears complete or not at all. (What it saves:
    docs/GRADING.md, "Where the time goes".)
    """
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    head = ScriptDirectory(ALEMBIC_DIR).get_current_head()
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    with closing(sqlite3.connect(partial)) as db, db:
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        db.execute("INSERT INTO alembic_version (version_num) VALUES (?)", (head,))
    partial.replace(path)


class Grader:
    """One private nbgrader course folder that grades submissions one after another.

    With ``kernels``, its kernels are forked from that template (see :mod:`.forked_kernels`:
    one template serves every grader of a batch, or each has its own sandboxed one); without,
    nbgrader starts them the ordinary way.
    """

    def __init__(self, root: Path, solutions: Path, feedback_dir: Path, timeout: int,
                 kernels: KernelSource | None = None, prepared: Path | None = None) -> None:
        """``prepared``: a course folder whose releases this grader copies instead of making."""
        from nbgrader.apps import NbGraderAPI
        from sqlalchemy.exc import SAWarning

        _quiet_nbgrader(SAWarning)
        self.root, self.solutions, self.feedback_dir = Path(root), Path(solutions), feedback_dir
        self.timeout = timeout
        self.root.mkdir(parents=True, exist_ok=True)
        self.judging = judging(self.solutions)
        self.api = NbGraderAPI(config=nbgrader_config(self.root, timeout, kernels,
                                                      self.judging))
        self.releases: dict[str, NotebookNode] = {}
        if prepared is not None:
            self._copy_course(Path(prepared))
        if not (self.root / "gradebook.db").exists():
            new_gradebook(self.root / "gradebook.db")

    def _copy_course(self, prepared: Path) -> None:
        """Start from another grader's course folder: its gradebook already holds the releases.

        Making the gradebook and running generate_assignment for each notebook is the same work
        for every worker of a batch; one worker does it and the others copy its folder.
        """
        shutil.copytree(prepared, self.root, dirs_exist_ok=True)
        for path in (self.root / "release").glob("*/*.ipynb"):
            if path.stem == path.parent.name:
                self.releases[path.stem] = nbformat.read(path, as_version=4)

    def prepare(self, notebooks: list[str]) -> Path:
        """Release these notebooks now (those that can't be are reported when graded)."""
        for notebook in notebooks:
            try:
                self.release(notebook)
            except Ungradable:
                continue
        return self.root

    def release(self, notebook: str) -> NotebookNode:
        """The student version nbgrader generates from the solution (once per notebook)."""
        if notebook not in self.releases:
            solution = self.solutions / f"{notebook}.ipynb"
            if not solution.is_file():
                known = ", ".join(sorted(p.stem for p in self.solutions.glob("*.ipynb")))
                raise Ungradable(f"no solution notebook {notebook}.ipynb in {self.solutions}; "
                                 f"rename the submission to one of: {known or 'none'}")
            source = self.root / "source" / notebook
            source.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(solution, source / f"{notebook}.ipynb")
            result = self.api.generate_assignment(notebook, force=True, create=True)
            if not result["success"]:
                raise Ungradable("nbgrader generate_assignment failed on the solution: "
                                 + _short(result.get("error", "")))
            path = self.root / "release" / notebook / f"{notebook}.ipynb"
            self._load_checks(notebook)
            self.releases[notebook] = nbformat.read(path, as_version=4)
        return self.releases[notebook]

    def _load_checks(self, notebook: str) -> None:
        """Import the checks this grader will judge ``notebook`` with, or say why it can't."""
        from ..checks.core import load_checks

        settings = self.judging.get(notebook)
        if settings is None:
            raise Ungradable(f"{notebook}'s solution creates no Checker: nothing to judge with")
        try:
            load_checks(settings["name"], settings.get("module"))
        except Exception as exc:  # noqa: BLE001 - a broken or missing check module
            raise Ungradable(f"cannot load the checks of {notebook} (module "
                             f"{settings.get('module') or settings['name']}): "
                             f"{type(exc).__name__}: {_short(exc)}") from None

    def grade(self, student: str, notebook: str, path: Path) -> GradeRow:
        """Grade one submission; never raises for anything the submission does."""
        row = GradeRow(student, notebook)
        try:
            release = self.release(notebook)
            submitted = self._read(path)
        except Ungradable as exc:
            row.flag(Flag.NOT_GRADED, str(exc))
            return row
        row.max_score = sum(graded_cells(release).values())
        changed = locked_cell_changes(release, submitted)
        if changed:
            row.flag(Flag.LOCKED_CELL_EDITED, f"locked cell(s) changed: {', '.join(changed)}; "
                     "graded with the original cells")
        blank = unanswered(release, submitted)
        if blank:
            row.flag(Flag.UNANSWERED, f"not answered: {', '.join(blank)}")
        target = self.root / "submitted" / student / notebook
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / f"{notebook}.ipynb")
        result = self.api.autograde(notebook, student, force=True, create=True)
        if result["success"]:
            self._read_grades(row, release)
        else:
            flag, why = _failure(result, self.timeout)
            row.flag(flag, why)
            if flag != Flag.NOT_GRADED:
                row.score, row.checks = 0.0, dict.fromkeys(graded_cells(release), 0.0)
        self._feedback(row)
        return row

    @staticmethod
    def _read(path: Path) -> NotebookNode:
        """The submitted notebook, or Ungradable when it is not a readable notebook."""
        try:
            return nbformat.read(path, as_version=4)
        except Exception as exc:  # nbformat raises many kinds for a broken file
            raise Ungradable(f"{path} is not a readable notebook ({type(exc).__name__}: "
                             f"{_short(exc)}); ask the student to submit it again") from None

    def _read_grades(self, row: GradeRow, release: NotebookNode) -> None:
        """Fill the row from the gradebook and the executed notebook."""
        from nbgrader.api import Gradebook

        with Gradebook(self.api.coursedir.db_url, self.api.coursedir.course_id) as gb:
            nb = gb.find_submission_notebook(row.notebook, row.notebook, row.student)
            scores = {g.name: float(g.score) for g in nb.grades}
            row.score, row.max_score = float(nb.score), float(nb.max_score)
        row.checks = {gid: scores.get(gid, 0.0) for gid in graded_cells(release)}
        executed = self.root / "autograded" / row.student / row.notebook / f"{row.notebook}.ipynb"
        execution_problems(nbformat.read(executed, as_version=4), row, self.timeout)

    def _feedback(self, row: GradeRow) -> None:
        """Write the student's HTML feedback: nbgrader's, or a short page when nothing ran."""
        if not row.graded:
            return
        dest = self.feedback_dir / row.student / f"{row.notebook}.html"
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not (self.root / "autograded" / row.student / row.notebook).is_dir():
            dest.write_text(failure_page(row.student, row.notebook, row.max_score or 0.0,
                                         "; ".join(row.messages)), encoding="utf-8")
            row.feedback = dest
            return
        result = self.api.generate_feedback(row.notebook, row.student, force=True)
        made = self.root / "feedback" / row.student / row.notebook / f"{row.notebook}.html"
        if not result["success"] or not made.is_file():
            row.messages.append("feedback could not be generated: "
                                + _short(result.get("error", "no detail")))
            return
        shutil.copyfile(made, dest)
        row.feedback = dest
