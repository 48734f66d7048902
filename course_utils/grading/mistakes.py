"""Typical mistakes of a notebook, written as small edits, to test that grading teaches.

``tests/fixtures/mistakes/NN_name.yaml`` (format in docs/AUTHORING.md) lists mistakes; each
replaces one answer cell of the student notebook. The tests and ``scripts/bench_grading.py``
turn them into submissions with :func:`submission`.
"""

from __future__ import annotations

import copy
from pathlib import Path

from nbformat import NotebookNode
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class Mistake(BaseModel):
    """One typical mistake: which answer cell it rewrites, and what grading must say."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    grade_id: str  # the answer cell it replaces
    code: str  # the whole new source of that cell
    hint: str  # text the feedback must contain
    lost: list[str] = Field(min_length=1)  # check cells that must score 0; the rest score full


def load_mistakes(path: Path) -> list[Mistake]:
    """Read and validate a mistakes file (a YAML list)."""
    import yaml

    return TypeAdapter(list[Mistake]).validate_python(
        yaml.safe_load(Path(path).read_text(encoding="utf-8")) or [])


def answer_cells(nb: NotebookNode) -> dict[str, NotebookNode]:
    """A notebook's answer (solution) cells keyed by grade_id."""
    return {c.metadata.nbgrader["grade_id"]: c for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution")}


def submission(student: NotebookNode, solution: NotebookNode,
               replace: dict[str, str] | None = None) -> NotebookNode:
    """The student notebook with every answer filled in from the solution, then ``replace``d.

    This is what a student hands in: the released notebook with their code in the answer cells
    (and nothing else changed). ``replace`` maps answer grade_ids to the code written instead.
    """
    nb = copy.deepcopy(student)
    cells, answers = answer_cells(nb), answer_cells(solution)
    new = {gid: cell.source for gid, cell in answers.items()} | (replace or {})
    unknown = sorted(set(new) - set(cells))
    if unknown:
        raise KeyError(f"no answer cell {', '.join(unknown)} in the student notebook "
                       f"(answer cells: {', '.join(cells)})")
    for gid, source in new.items():
        cells[gid].source = source.rstrip("\n")
    return nb


def with_mistake(student: NotebookNode, solution: NotebookNode, mistake: Mistake) -> NotebookNode:
    """A correct submission except for one mistake."""
    return submission(student, solution, {mistake.grade_id: mistake.code})
