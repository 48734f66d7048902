"""Feedback that never shows hidden tests (nbgrader's own feedback keeps them: #917, #1363).

:class:`ClearHiddenTestsInFeedback` is added to nbgrader's ``GenerateFeedback.preprocessors``.
It removes the hidden-test region from each check cell, as ``generate_assignment`` does, and
replaces the traceback of errors raised in such cells (which quote the hidden code) with their
one-line message. A failed check already shows only its hint, so it is kept as it is.
"""

from __future__ import annotations

import html

from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbgrader.preprocessors import ClearHiddenTests

CHECK_FAILED = "CheckFailed"


class ClearHiddenTestsInFeedback(ClearHiddenTests):
    """Remove hidden tests from check cells, and the tracebacks that would quote them."""

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict,
                        cell_index: int) -> tuple[NotebookNode, ResourcesDict]:
        """Clear the hidden region; shorten error tracebacks of cells that had one."""
        had_hidden = self.begin_test_delimeter in cell.source
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if had_hidden and cell.cell_type == "code":
            for out in cell.outputs:
                if out.output_type == "error" and out.ename != CHECK_FAILED:
                    out.traceback = [f"{out.ename}: {out.evalue}"]
        return cell, resources


def failure_page(student: str, notebook: str, max_score: float, reason: str) -> str:
    """A small HTML page for a submission that nbgrader could not run to the end."""
    title = html.escape(f"{notebook} — feedback for {student}")
    return (f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body><h1>{title}</h1><p><strong>Score: 0 / {max_score:g}</strong></p>"
            f"<p>{html.escape(reason)}</p></body></html>\n")
