"""The batch's data, fetched once before grading starts, so that kernels never download.

Forty kernels must not each retry a download that cannot succeed (BBBC039's test split where
there is no network) or wait on one another's: :func:`prefetch` gets the datasets the solution
notebooks declare (``course.datasets`` in their metadata) in the grading process, and the
kernels then run with ``COURSE_OFFLINE=1`` and use what is here.
"""

from __future__ import annotations

import sys
import warnings
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
    """Fetch each dataset (network allowed); say what is missing and what kernels do instead."""
    from ..data import DatasetUnavailable, dataset_dir

    for name in names:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                print(f"Data '{name}' for grading: {dataset_dir(name)}", file=sys.stderr)
            except DatasetUnavailable as exc:
                print(f"Data '{name}' is not available, so the notebooks that need it fall back "
                      f"to what they say they use instead.\n{exc}", file=sys.stderr)
        for warning in caught:
            print(f"Data '{name}': {warning.message}", file=sys.stderr)
