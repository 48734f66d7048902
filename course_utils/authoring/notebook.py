"""Turn one jupytext source into the solution and student notebooks, in nbgrader's format.

The source marks exercise cells with ``tags=["answer"] grade_id=...`` and check cells with
``tags=["check"] grade_id=... points=...`` (see docs/AUTHORING.md). :func:`solution_notebook`
maps those to nbgrader cell metadata and puts the setup cell first; :func:`student_notebook`
runs nbgrader's own ``generate_assignment`` preprocessors on it, so what students get is
exactly what nbgrader would release and autograde against.
"""

from __future__ import annotations

import copy
import hashlib
import re
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from .setup_cell import render_setup_cell

ANSWER_TAG, CHECK_TAG = "answer", "check"
CHECK_LINE = re.compile(r"""check\(\s*(['"])[\w-]+\1\s*\)""")
SETUP_GRADE_ID = "setup"
NAME_PATTERN = re.compile(r"^\d\d_[a-z0-9_]+$")
GRADE_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]+$")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
# Cell metadata that only jupytext's text formats use (jupytext.cell_metadata lists the same).
TEXT_ONLY_METADATA = ("cell_marker", "lines_to_next_cell", "lines_to_end_of_cell_marker",
                      "skipline", "noskipline")
SOLUTION_MARK, HIDDEN_MARK = "BEGIN SOLUTION", "BEGIN HIDDEN TESTS"


class SourceError(ValueError):
    """A notebook source breaks the authoring conventions; the message says where and how."""


def _nbgrader_meta(grade_id: str, *, grade: bool, solution: bool, locked: bool,
                   points: float | None = None) -> dict:
    """nbgrader cell metadata (schema version 3) for one cell."""
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return meta


def _where(path: Path, index: int, cell: NotebookNode) -> str:
    """A short pointer to a source cell for error messages: file, cell number, first line."""
    first = cell.source.strip().splitlines()[0][:60] if cell.source.strip() else "(empty)"
    return f"{path.name}, cell {index + 1} ({first!r})"


def _grading_metadata(path: Path, index: int, cell: NotebookNode) -> dict | None:
    """Validate one source cell's authoring metadata and return its nbgrader metadata."""
    meta = cell.metadata
    for key in TEXT_ONLY_METADATA:
        meta.pop(key, None)
    tags = set(meta.get("tags", []))
    grade_id, points = meta.pop("grade_id", None), meta.pop("points", None)
    where = _where(path, index, cell)
    if {ANSWER_TAG, CHECK_TAG} <= tags:
        raise SourceError(f"{where}: a cell is either an answer or a check, not both.")
    if not tags & {ANSWER_TAG, CHECK_TAG}:
        if grade_id is not None or points is not None:
            raise SourceError(f'{where}: grade_id/points need tags=["answer"] or tags=["check"].')
        for mark in (SOLUTION_MARK, HIDDEN_MARK):
            if mark in cell.source:
                raise SourceError(f"{where}: '### {mark}' only belongs in a tagged "
                                  "answer (solution) or check (hidden tests) cell.")
        return None
    if cell.cell_type != "code":
        raise SourceError(f"{where}: answer and check cells must be code cells.")
    if not isinstance(grade_id, str) or not GRADE_ID_PATTERN.match(grade_id):
        raise SourceError(f'{where}: needs grade_id="letters_digits_or_dashes" (got {grade_id!r}).')
    if grade_id == SETUP_GRADE_ID:
        raise SourceError(f"{where}: grade_id {SETUP_GRADE_ID!r} is reserved for the setup cell.")
    if ANSWER_TAG in tags:
        if points is not None:
            raise SourceError(f"{where}: points go on the check cell, not on the answer cell.")
        if SOLUTION_MARK not in cell.source or HIDDEN_MARK in cell.source:
            raise SourceError(f"{where}: an answer cell wraps its solution in '### BEGIN "
                              "SOLUTION' / '### END SOLUTION' (and has no hidden tests).")
        return _nbgrader_meta(grade_id, grade=False, solution=True, locked=False)
    if isinstance(points, bool) or not isinstance(points, (int, float)) or points <= 0:
        raise SourceError(f"{where}: a check cell needs points=N with N > 0 (got {points!r}).")
    if SOLUTION_MARK in cell.source:
        raise SourceError(f"{where}: a check cell cannot hold a solution region.")
    other = [line for line in cell.source.splitlines() if line.strip()
             and not line.lstrip().startswith("#") and not CHECK_LINE.fullmatch(line.strip())]
    if other:
        raise SourceError(f"{where}: a check cell holds only check(\"name\") lines (the grader "
                          f"judges those itself, outside the kernel); found {other[0]!r}.")
    return _nbgrader_meta(grade_id, grade=True, solution=False, locked=True, points=points)


def _stable_ids(cells: list[NotebookNode]) -> None:
    """Give every cell a deterministic id: its grade_id, else a hash of its source."""
    seen: set[str] = set()
    for cell in cells:
        base = cell.metadata.get("nbgrader", {}).get("grade_id") or (
            "cell-" + hashlib.sha1(cell.source.encode()).hexdigest()[:10])
        cell_id, n = base, 1
        while cell_id in seen:
            n += 1
            cell_id = f"{base}-{n}"
        seen.add(cell_id)
        cell["id"] = cell_id


def _datasets(path: Path, metadata: dict) -> list[str]:
    """The datasets a source declares in its header (``course: datasets: [...]``)."""
    datasets = metadata.get("course", {}).get("datasets", [])
    if not isinstance(datasets, list) or not all(isinstance(d, str) for d in datasets):
        raise SourceError(f"{path.name}: the header's course.datasets must be a list of "
                          f"dataset names (got {datasets!r}).")
    return datasets


def _grade_seconds(path: Path, metadata: dict) -> None:
    """Check the header's ``course: grade_seconds`` (how long grading one submission takes).

    The grader's deadline for a submission is a multiple of it (docs/GRADING.md).
    """
    seconds = metadata.get("course", {}).get("grade_seconds")
    if seconds is not None and not (isinstance(seconds, (int, float)) and seconds > 0):
        raise SourceError(f"{path.name}: the header's course.grade_seconds must be a positive "
                          f"number of seconds (got {seconds!r}).")


def solution_notebook(path: Path) -> NotebookNode:
    """Read a jupytext source and return the complete notebook with nbgrader metadata."""
    import jupytext

    path = Path(path)
    if not NAME_PATTERN.match(path.stem):
        raise SourceError(f"{path.name}: notebook sources are named NN_name.py "
                          "(two digits, underscore, lower-case name).")
    nb = jupytext.read(path, fmt="py:percent")
    seen: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        meta = _grading_metadata(path, index, cell)
        if meta is None:
            continue
        if meta["grade_id"] in seen:
            raise SourceError(f"{_where(path, index, cell)}: grade_id {meta['grade_id']!r} is "
                              f"already used by cell {seen[meta['grade_id']] + 1}.")
        seen[meta["grade_id"]] = index
        cell.metadata["nbgrader"] = meta
    _grade_seconds(path, nb.metadata)
    setup = nbformat.v4.new_code_cell(render_setup_cell(path.stem, _datasets(path, nb.metadata)))
    setup.metadata["nbgrader"] = _nbgrader_meta(SETUP_GRADE_ID, grade=False, solution=False,
                                                locked=True)
    first_code = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), len(nb.cells))
    nb.cells.insert(first_code, setup)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    _stable_ids(nb.cells)
    nb.metadata.pop("jupytext", None)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    nb.nbformat, nb.nbformat_minor = 4, 5
    return nb


def student_notebook(solution: NotebookNode) -> NotebookNode:
    """The student version: nbgrader's generate_assignment preprocessors, minus the database.

    ClearSolutions is :class:`~.stubs.ValueStubs` here and in the grader's release, so a value
    exercise's stub sets its names to ``...`` rather than raising (see :mod:`.stubs`).
    """
    from nbgrader.preprocessors import SaveCells

    from .stubs import assignment_preprocessors

    nb = copy.deepcopy(solution)
    resources: dict = {}
    for cls in assignment_preprocessors():
        if cls is not SaveCells:  # SaveCells records the cells in a gradebook; grading does that
            nb, resources = cls()(nb, resources)
    return nb


def dumps(nb: NotebookNode) -> str:
    """The notebook as deterministic JSON text (sorted keys, no timestamps, final newline)."""
    return nbformat.writes(nb) + "\n"
