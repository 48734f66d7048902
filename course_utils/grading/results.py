"""What grading one submission gives: its score, its checks and its problems in plain words.

Standard library only: the grading command's main process reads these rows without loading
nbgrader, which only its worker processes need.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

NOT_GRADED = "not_graded"
FLAG_ORDER = (NOT_GRADED, "locked_cell_edited", "timeout", "crashed", "errors", "unanswered")


@dataclass
class GradeRow:
    """The grade of one submission, with what went wrong in plain words."""

    student: str
    notebook: str
    score: float | None = None
    max_score: float | None = None
    checks: dict[str, float] = field(default_factory=dict)  # grade_id -> points, notebook order
    flags: set[str] = field(default_factory=set)
    messages: list[str] = field(default_factory=list)
    feedback: Path | None = None

    @property
    def graded(self) -> bool:
        """False when the submission could not be graded at all."""
        return NOT_GRADED not in self.flags

    @property
    def status(self) -> str:
        """``ok``, or the flags that apply, most serious first, joined by ``;``."""
        return ";".join(f for f in FLAG_ORDER if f in self.flags) or "ok"

    def flag(self, name: str, message: str) -> None:
        """Record a problem and its explanation."""
        self.flags.add(name)
        self.messages.append(message)
