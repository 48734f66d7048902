"""What grading one submission gives: its score, its checks and its problems in plain words.

Standard library only: the grading command's main process reads these rows without loading
nbgrader, which only its worker processes need.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class Flag(StrEnum):
    """A problem a graded submission can have, most serious first (the gradebook's order).

    The values are what the gradebook's ``status`` column says.
    """

    NOT_GRADED = "not_graded"  # could not be graded at all: no score
    LOCKED_CELL_EDITED = "locked_cell_edited"
    TIMEOUT = "timeout"
    CRASHED = "crashed"  # its kernel (or its grading process) died
    ERRORS = "errors"  # cells raised outside the checks
    UNANSWERED = "unanswered"


FLAG_ORDER = tuple(Flag)
SERIOUS = frozenset(FLAG_ORDER) - {Flag.UNANSWERED}  # what an instructor should look at


@dataclass
class GradeRow:
    """The grade of one submission, with what went wrong in plain words."""

    student: str
    notebook: str
    score: float | None = None
    max_score: float | None = None
    checks: dict[str, float] = field(default_factory=dict)  # grade_id -> points, notebook order
    flags: set[Flag] = field(default_factory=set)
    messages: list[str] = field(default_factory=list)
    feedback: Path | None = None

    @property
    def graded(self) -> bool:
        """False when the submission could not be graded at all."""
        return Flag.NOT_GRADED not in self.flags

    @property
    def status(self) -> str:
        """``ok``, or the flags that apply, most serious first, joined by ``;``."""
        return ";".join(f for f in FLAG_ORDER if f in self.flags) or "ok"

    def flag(self, name: Flag, message: str) -> None:
        """Record a problem and its explanation."""
        self.flags.add(name)
        self.messages.append(message)
