"""The feedback exporter: its faster path renders the same page nbconvert's would."""

from __future__ import annotations

import base64
from pathlib import Path

import nbformat
import nbgrader
import pytest
from bs4 import BeautifulSoup
from nbconvert.exporters import HTMLExporter
from traitlets.config import Config

from course_utils.grading.feedback import FeedbackExporter, _highlighted, has_images

FORMGRADER = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
PNG = base64.b64encode(bytes.fromhex(  # a 1×1 PNG
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082")).decode()


def _notebook(image: str) -> nbformat.NotebookNode:
    """A small executed notebook: markdown, highlighted code, a stream and maybe an image."""
    code = nbformat.v4.new_code_cell("import numpy as np\nx = np.arange(3)  # a comment\nprint(x)",
                                     execution_count=1)
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="[0 1 2]\n")]
    if image == "figure":
        code.outputs.append(nbformat.v4.new_output("display_data", data={"image/png": PNG}))
    text = "# Title\n\n*some* text" + (f'<img src="data:image/png;base64,{PNG}">'
                                        if image == "markdown" else "")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text), code])
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    return nb


def _page(exporter_class: type[HTMLExporter], nb: nbformat.NotebookNode) -> str:
    """The page ``exporter_class`` renders with nbgrader's feedback template (its settings as
    nbgrader's GenerateFeedback makes them)."""
    config = Config()
    config.HTMLExporter.template_name = "feedback"
    config.HTMLExporter.extra_template_basedirs = [str(FORMGRADER / "templates")]
    config.HTMLExporter.extra_template_paths = [
        str(FORMGRADER / "static" / "node_modules" / "bootstrap" / "dist" / "css")]
    resources = {"nbgrader": {"notebook": "demo", "score": 1, "max_score": 2, "late_penalty": 0}}
    return exporter_class(config=config).from_notebook_node(nb, resources)[0]


@pytest.mark.parametrize("image", ["", "figure", "markdown"],
                         ids=["text only", "figure", "markdown image"])
def test_feedback_page_is_what_nbconvert_renders(image):
    nb = _notebook(image)
    assert has_images(nb) == bool(image)
    ours, theirs = _page(FeedbackExporter, nb), _page(HTMLExporter, nb)
    assert "some</em> text" in theirs and "[0 1 2]" in theirs
    # the BeautifulSoup pass skipped for text-only pages would have changed nothing
    assert str(BeautifulSoup(ours, features="html.parser")) == theirs
    if image:
        assert ours == theirs and 'alt="No description' in ours


def test_code_highlighted_once_is_remembered_and_renders_the_same():
    nb = _notebook("")
    magic = nbformat.v4.new_code_cell("%%bash\necho hi", execution_count=2)
    magic.metadata["magics_language"] = "bash"
    nb.cells.append(magic)
    first = _page(FeedbackExporter, nb)
    hits = _highlighted.cache_info().hits
    assert _page(FeedbackExporter, nb) == first
    assert _highlighted.cache_info().hits >= hits + 2  # both code cells came from the cache
    assert str(BeautifulSoup(first, features="html.parser")) == _page(HTMLExporter, nb)
