"""Temporary changes to ``os.environ``, put back afterwards: the package's one such helper."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager


@contextmanager
def environment(changes: Mapping[str, str | None]) -> Iterator[None]:
    """``os.environ`` with ``changes`` (a value of None unsets that variable), restored after.

    Used where one call must see settings the rest of the process must not keep: a batch's
    kernel settings, the results file of ``course-utils validate``.
    """
    saved = {var: os.environ.get(var) for var in changes}
    try:
        for var, value in changes.items():
            _set(var, value)
        yield
    finally:
        for var, value in saved.items():
            _set(var, value)


def _set(var: str, value: str | None) -> None:
    """Set ``var`` to ``value``, or unset it when ``value`` is None."""
    if value is None:
        os.environ.pop(var, None)
    else:
        os.environ[var] = value
