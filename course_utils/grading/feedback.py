"""Feedback that never shows hidden tests (nbgrader's own feedback keeps them: #917, #1363).

:class:`ClearHiddenTestsInFeedback` is added to nbgrader's ``GenerateFeedback.preprocessors``.
It removes the hidden-test region from each check cell, as ``generate_assignment`` does, and
replaces the traceback of errors raised in such cells (which quote the hidden code) with their
one-line message. A failed check already shows only its hint, so it is kept as it is.
:class:`FeedbackExporter` is nbgrader's HTML exporter made cheaper per page: its compiled
templates are kept between pages (nbgrader makes a new exporter per page, and compiling took
half a second of each), pages without images skip nbconvert's BeautifulSoup pass, and code
that earlier pages highlighted is not highlighted again (every student's page repeats the same
locked cells).
"""

from __future__ import annotations

import html
from functools import lru_cache

from jinja2 import BytecodeCache, Environment
from jinja2.bccache import Bucket
from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.exporters.exporter import ResourcesDict
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
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


class CompiledTemplates(BytecodeCache):
    """Compiled jinja templates kept in memory (jinja checks each against its source)."""

    def __init__(self) -> None:
        self.store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        """Give the bucket its compiled code, if this process compiled the template before."""
        if bucket.key in self.store:
            bucket.bytecode_from_string(self.store[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        """Keep a freshly compiled template."""
        self.store[bucket.key] = bucket.bytecode_to_string()


class CachedHighlight2HTML(Highlight2HTML):
    """nbconvert's code highlighter, remembering the HTML of code it highlighted before."""

    def __call__(self, source: str, language: str | None = None,
                 metadata: dict | None = None) -> str:
        """The highlighted ``source``, as :class:`Highlight2HTML` makes it."""
        magics = (metadata or {}).get("magics_language")
        options = tuple(sorted(self.extra_formatter_options.items()))
        return _highlighted(source, language or self.pygments_lexer, magics, options)


@lru_cache(maxsize=4096)
def _highlighted(source: str, language: str, magics: str | None,
                 options: tuple[tuple[str, object], ...]) -> str:
    """Highlight once per distinct cell; the key holds all that the HTML depends on."""
    highlight = Highlight2HTML(pygments_lexer=language, extra_formatter_options=dict(options))
    return highlight(source, language, {"magics_language": magics} if magics else None)


def has_images(nb: NotebookNode) -> bool:
    """True when ``nb`` shows an image: an output (a figure drawn with ``grade --figures``) or
    one in a markdown cell."""
    return any((cell.cell_type == "markdown" and ("<img" in cell.source or "![" in cell.source))
               or any(key.startswith("image/")
                      for out in cell.get("outputs", []) for key in out.get("data", {}))
               for cell in nb.cells)


class FeedbackExporter(HTMLExporter):
    """nbgrader's feedback exporter, reusing the templates compiled for earlier pages."""

    compiled = CompiledTemplates()

    def _create_environment(self) -> Environment:
        """nbconvert's template environment, with the shared compiled-template cache."""
        environment = super()._create_environment()
        environment.bytecode_cache = self.compiled
        return environment

    def from_notebook_node(self, nb: NotebookNode, resources: dict | None = None,
                           **kw: object) -> tuple[str, dict]:
        """The page; without images, skipping the BeautifulSoup pass (most of a page's time) and
        highlighting only code that no earlier page showed.

        That pass gives images an alt text and JupyterLab-template cells a tabindex; nbgrader's
        feedback template has no such cells, so without images it changes nothing. The filters
        are registered as :meth:`HTMLExporter.from_notebook_node` does.
        """
        if has_images(nb):
            return super().from_notebook_node(nb, resources, **kw)
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name"))
        self.register_filter("highlight_code", self.filters.get(
            "highlight_code", CachedHighlight2HTML(pygments_lexer=lexer, parent=self)))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)


def failure_page(student: str, notebook: str, max_score: float, reason: str) -> str:
    """A small HTML page for a submission that nbgrader could not run to the end."""
    title = html.escape(f"{notebook} — feedback for {student}")
    return (f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body><h1>{title}</h1><p><strong>Score: 0 / {max_score:g}</strong></p>"
            f"<p>{html.escape(reason)}</p></body></html>\n")
