"""nbgrader's ClearSolutions, with a stub for value exercises that does not stop "Run All".

nbgrader replaces a solution region with ``raise NotImplementedError()``. Inside a function
that is what we want: defining the function works, calling it says it is not written yet. A
region at the top level of a cell (``baseline_acc = ...`` exercises) would raise as soon as the
cell runs and stop "Run All" there. :class:`ValueStubs` gives such a region a stub that sets
each name the exercise asks for to ``...`` (Ellipsis) instead: the cell runs, the exercise
stays unanswered (the checks say "still `...`", see ``checks.core.judge``) and the cell after
the check can load the course's reference. The names are those the solution region assigns
at its top level that the exercise's text (the markdown cell above) names in backticks; all
of them when the text names none.
"""

from __future__ import annotations

import ast
import re

from nbformat import NotebookNode
from nbgrader.preprocessors import ClearSolutions

RAISE_LINE = "raise NotImplementedError()"
VALUE_STUB_NOTE = "# YOUR CODE HERE: replace each ... with your answer"


def assigned_names(code: str) -> list[str]:
    """Names the code assigns at its top level, in order, each once."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    names: list[str] = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else [])
        for target in targets:
            for leaf in ast.walk(target):
                if isinstance(leaf, ast.Name) and leaf.id not in names:
                    names.append(leaf.id)
    return names


def stub_names(region: str, text: str) -> list[str]:
    """The names a value stub sets: those the region assigns that ``text`` names in backticks."""
    names = assigned_names(region)
    asked = set(re.findall(r"`([A-Za-z_]\w*)", text))
    return [n for n in names if n in asked] or names


def top_level_region(source: str, begin: str, end: str) -> str | None:
    """The code of a solution region that starts at the top level of a cell, else None."""
    lines = source.split("\n")
    starts = [i for i, line in enumerate(lines) if begin in line and not line[:1].isspace()]
    if not starts:
        return None
    stop = next((i for i in range(starts[0] + 1, len(lines)) if end in lines[i]), len(lines))
    return "\n".join(lines[starts[0] + 1:stop])


class ValueStubs(ClearSolutions):
    """ClearSolutions, but a top-level region's stub sets its names to ``...``."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        """Clear every solution region, remembering each cell's exercise text."""
        self._text = ""
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell: NotebookNode, resources: dict,
                        cell_index: int) -> tuple[NotebookNode, dict]:
        """Clear one cell; a top-level region's ``raise`` line becomes ``name = ...`` lines."""
        if cell.cell_type == "markdown":
            self._text = cell.source
            return cell, resources
        region = top_level_region(cell.source, self.begin_solution_delimeter,
                                  self.end_solution_delimeter)
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        names = stub_names(region, self._text) if region is not None else []
        if names:
            lines = cell.source.split("\n")
            at = lines.index(RAISE_LINE) if RAISE_LINE in lines else None
            if at is not None:
                start = at - 1 if at and lines[at - 1] == "# YOUR CODE HERE" else at
                lines[start:at + 1] = [VALUE_STUB_NOTE, *(f"{n} = ..." for n in names)]
                cell.source = "\n".join(lines)
        return cell, resources


def assignment_preprocessors() -> list[type]:
    """nbgrader's generate_assignment steps with :class:`ValueStubs` for ClearSolutions."""
    from nbgrader.converters import GenerateAssignment

    return [ValueStubs if cls is ClearSolutions else cls
            for cls in GenerateAssignment.class_traits()["preprocessors"].default()]
