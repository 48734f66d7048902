"""The gradebook CSV: one row per submission, one column per graded check."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from .results import FLAG_ORDER, GradeRow

FIXED = ("student_id", "notebook", "score", "max_score")
TRAILING = ("status", "error")


def check_columns(rows: list[GradeRow]) -> list[tuple[str, str, str]]:
    """(notebook, grade_id, column name) per check; a name shared by notebooks gets a prefix."""
    pairs: list[tuple[str, str]] = []
    for row in sorted(rows, key=lambda r: r.notebook):
        pairs += [(row.notebook, gid) for gid in row.checks if (row.notebook, gid) not in pairs]
    shared = {gid for gid, n in Counter(gid for _, gid in pairs).items() if n > 1}
    return [(nb, gid, f"{nb}:{gid}" if gid in shared else gid) for nb, gid in pairs]


def _number(value: float | None) -> str:
    """A score as the CSV shows it: ``2``, ``1.5``, or empty when there is none."""
    return "" if value is None else f"{value:g}"


def write_csv(rows: list[GradeRow], path: Path) -> None:
    """Write the gradebook, rows sorted by student then notebook."""
    columns = check_columns(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([*FIXED, *(name for _, _, name in columns), *TRAILING])
        for row in sorted(rows, key=lambda r: (r.student, r.notebook)):
            checks = [_number(row.checks.get(gid)) if nb == row.notebook else ""
                      for nb, gid, _ in columns]
            writer.writerow([row.student, row.notebook, _number(row.score),
                             _number(row.max_score), *checks, row.status,
                             " | ".join(row.messages)])


def summary(rows: list[GradeRow]) -> str:
    """One line counting submissions by status."""
    counts = Counter(flag for row in rows for flag in (row.flags or {"ok"}))
    order = ("ok", *FLAG_ORDER)
    return ", ".join(f"{name}: {counts[name]}" for name in order if counts[name])
