"""The batch's data, fetched once before grading starts, so that kernels never download.

Forty kernels must not each retry a download that cannot succeed (BBBC039's test split where
there is no network) or wait on one another's: :func:`prefetch` gets the datasets the solution
notebooks declare (``course.datasets`` in their metadata) in the grading process, and the
kernels then run with ``COURSE_OFFLINE=1`` and use what is here.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

import nbformat


def declared_datasets(notebooks: Iterable[Path]) -> list[str]:
    """The datasets these notebooks declare, each once, in order of first mention."""
    names: dict[str, None] = {}
    for path in notebooks:
        if path.is_file():
            course = nbformat.read(path, as_version=4).metadata.get("course", {})
            names.update(dict.fromkeys(course.get("datasets", [])))
    return list(names)


def prefetch(names: list[str]) -> None:
    """Fetch each dataset (network allowed), saying where it is or why it is missing."""
    from ..data import announce

    for name in names:
        announce(name, " for grading", file=sys.stderr)
