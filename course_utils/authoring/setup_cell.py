"""The setup cell every generated notebook starts with, rendered from its one template."""

from __future__ import annotations

from importlib import resources
from string import Template

from ..project import pip_requirement

TEMPLATE = "setup_cell.py"


def render_setup_cell(notebook: str, datasets: list[str]) -> str:
    """Source of the setup cell for ``notebook``, which needs ``datasets`` (names)."""
    text = resources.files("course_utils").joinpath("templates", TEMPLATE).read_text("utf-8")
    return Template(text).substitute(notebook=notebook, datasets=" ".join(datasets),
                                     requirement=pip_requirement()).rstrip("\n")
