"""One harness for every notebook's inline checks, built from the notebook's own source.

A notebook's answer cells run in a namespace made the way the notebook makes it: the imports of
all its code cells, then its answer cells in order, and — only for names that an answer or a
check reads and no answer defines (data such as ``X2_train``) — the code cells that define them,
with what those cells read in turn, in notebook order. So no test keeps a hand-written copy of a
notebook's setup, and a notebook that gains an exercise is covered without a new test.

Judging goes through :func:`course_utils.checks.core.judge`, the function both the inline
Checker and the grader use, so the verdicts are the ones students and the gradebook get.
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from course_utils.checks.core import judge, load_checks
from course_utils.grading.mistakes import Mistake, load_mistakes

REPO = Path(__file__).resolve().parents[1]
CHECK_NAME = re.compile(r"""check\(\s*["']([\w-]+)["']""")
MAGIC = re.compile(r"^\s*[%!].*$", re.MULTILINE)
BUILTINS = set(dir(builtins))


@dataclass
class Cell:
    """A code cell of a notebook source: its code and the names it defines and reads."""

    index: int
    source: str
    tags: list[str]
    grade_id: str | None
    defines: set[str] = field(default_factory=set)
    reads: set[str] = field(default_factory=set)
    imports: list[str] = field(default_factory=list)  # its top-level import statements

    @property
    def kind(self) -> str:
        """``answer``, ``check`` or ``code``."""
        return next((t for t in ("answer", "check") if t in self.tags), "code")


def _parse(index: int, cell) -> Cell:
    """A notebook cell with its names; IPython magics and shell lines are left out."""
    meta = cell.metadata
    found = Cell(index, MAGIC.sub("", cell.source), meta.get("tags", []), meta.get("grade_id"))
    tree = ast.parse(found.source)
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.imports.append(ast.unparse(node))
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            found.defines.add(node.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (found.defines if isinstance(node.ctx, ast.Store) else found.reads).add(node.id)
    local = {a.arg for n in ast.walk(tree) if isinstance(n, ast.arguments)
             for a in (*n.posonlyargs, *n.args, *n.kwonlyargs)}
    found.reads -= found.defines | local | BUILTINS
    return found


class NotebookChecks:
    """The exercises of one notebook source: answers, check cells, mistakes, namespaces."""

    def __init__(self, stem: str) -> None:
        import jupytext

        self.stem = stem
        nb = jupytext.read(REPO / "notebooks" / "source" / f"{stem}.py")
        self.cells = [_parse(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
        self.specs = load_checks(stem)

    @cached_property
    def answers(self) -> dict[str, Cell]:
        """The answer cells (the solutions), keyed by grade_id, in notebook order."""
        return {c.grade_id: c for c in self.cells if c.kind == "answer"}

    @cached_property
    def check_cells(self) -> dict[str, list[str]]:
        """Each check cell's grade_id -> the checks it calls (hidden region included)."""
        return {c.grade_id: CHECK_NAME.findall(c.source) for c in self.cells
                if c.kind == "check"}

    @cached_property
    def mistakes(self) -> list[Mistake]:
        """The typical mistakes of tests/fixtures/mistakes/<stem>.yaml."""
        return load_mistakes(REPO / "tests" / "fixtures" / "mistakes" / f"{self.stem}.yaml")

    def namespace(self, replace: dict[str, str] | None = None) -> dict:
        """Every answer run, with what they need; ``replace``: grade_id -> other code.

        With ``replace``, a cell that raises is passed over, as nbgrader does with a
        submission: a stub or a mistake may break the cells after it. The figures the cells
        draw are closed.
        """
        import matplotlib.pyplot as plt

        replace = replace or {}
        ns: dict = {}
        exec("\n".join(line for c in self.cells for line in c.imports), ns)
        try:
            for cell in self._context_and_answers():
                code = (replace.get(cell.grade_id, cell.source) if cell.kind == "answer"
                        else cell.source)
                try:
                    exec(compile(code, f"<{self.stem} cell {cell.index}>", "exec"), ns)
                except Exception:
                    if not replace:
                        raise
        finally:
            plt.close("all")
        return ns

    def stubs(self) -> dict[str, str]:
        """The student notebook's answer cells (what build leaves to write), keyed by grade_id."""
        import nbformat

        nb = nbformat.read(REPO / "notebooks" / f"{self.stem}.ipynb", as_version=4)
        return {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
                if c.metadata.get("nbgrader", {}).get("solution")}

    def _context_and_answers(self) -> list[Cell]:
        """The answer cells, and the other code cells that define what answers and checks read."""
        answers = list(self.answers.values())
        defined = {n for c in answers for n in c.defines} | {
            name.split(".")[0] for c in self.cells for line in c.imports
            for name in _imported_names(line)}
        wanted = {n for c in answers for n in c.reads} | {
            p for spec in self.specs.values() for p in spec.params}
        chosen: dict[int, Cell] = {c.index: c for c in answers}
        todo = sorted(wanted - defined)
        while todo:
            name = todo.pop()
            maker = next((c for c in reversed(self.cells)
                          if c.kind == "code" and name in c.defines), None)
            if maker is None or maker.index in chosen:
                continue
            chosen[maker.index] = maker
            todo += sorted(maker.reads - defined - {n for c in chosen.values()
                                                    for n in c.defines})
        return [chosen[i] for i in sorted(chosen)]

    def cells_reading(self, names: set[str]) -> list[str]:
        """The check cells with a check that reads one of ``names``."""
        return [cell for cell, checks in self.check_cells.items()
                if any(names & set(self.specs[name].params) for name in checks)]

    def verdicts(self, namespace: dict, check_cell: str) -> dict[str, tuple[bool, str]]:
        """Each check of ``check_cell`` judged on ``namespace``: name -> (passed, message)."""
        return {name: judge(self.specs[name], namespace)
                for name in self.check_cells[check_cell]}


def _imported_names(statement: str) -> list[str]:
    """The names one import statement binds."""
    node = ast.parse(statement).body[0]
    return [alias.asname or alias.name for alias in node.names]
