"""Run modes: the one place that decides how big every notebook's work is.

``COURSE_MODE`` is ``quick`` (a 2-core CPU, minutes), ``full`` (a GPU, the real thing) or
``grade`` (nbgrader is executing the notebook: as small as still checks the answers).
"""

from __future__ import annotations

import os
from typing import TypeVar

MODES = ("quick", "full", "grade")
T = TypeVar("T")


class ModeError(ValueError):
    """COURSE_MODE holds a value that is not a run mode."""


def _gpu_present() -> bool:
    """True when torch sees a CUDA or MPS device (torch is imported only here, lazily)."""
    from .device import detect

    return detect().kind in ("cuda", "mps")


def get_mode() -> str:
    """Return the run mode: ``grade`` under nbgrader, else ``COURSE_MODE``, else by hardware."""
    if os.environ.get("NBGRADER_EXECUTION"):
        return "grade"
    value = os.environ.get("COURSE_MODE", "").strip().lower()
    if value:
        if value not in MODES:
            raise ModeError(
                f"COURSE_MODE={value!r} is not a run mode. Use one of: {', '.join(MODES)} "
                "(or unset it to choose by hardware: full with a GPU, quick without)."
            )
        return value
    return "full" if _gpu_present() else "quick"


def by_mode(quick: T, full: T, grade: T | None = None) -> T:
    """Pick the value for the current mode; ``grade`` falls back to the ``quick`` value."""
    mode = get_mode()
    if mode == "full":
        return full
    if mode == "grade" and grade is not None:
        return grade
    return quick
