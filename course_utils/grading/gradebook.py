"""The gradebook CSV: one row per submission, one column per graded check."""

from __future__ import annotations

import csv
import io
import os
import secrets
import stat
from collections import Counter
from contextlib import suppress
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
    """Write the gradebook, rows sorted by student then notebook, whole or not at all."""
    columns = check_columns(rows)
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow([*FIXED, *(name for _, _, name in columns), *TRAILING])
    for row in sorted(rows, key=lambda r: (r.student, r.notebook)):
        checks = [_number(row.checks.get(gid)) if nb == row.notebook else ""
                  for nb, gid, _ in columns]
        writer.writerow([row.student, row.notebook, _number(row.score),
                         _number(row.max_score), *checks, row.status,
                         " | ".join(row.messages)])
    replace_atomically(path, text.getvalue())


def replace_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all: an earlier file stays until then.

    It goes to a hidden temporary file beside ``path`` (removed if writing fails or is
    interrupted; only a process killed outright leaves it) that is then renamed over it. The
    new file keeps the old one's permissions (or gets the usual ones: 0666 less the umask).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # less the umask
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        with suppress(FileNotFoundError):
            os.chmod(temp, stat.S_IMODE(path.stat().st_mode))
        os.replace(temp, path)
    finally:
        with suppress(FileNotFoundError):
            os.unlink(temp)


def summary(rows: list[GradeRow]) -> str:
    """One line counting submissions by status."""
    counts = Counter(flag for row in rows for flag in (row.flags or {"ok"}))
    order = ("ok", *FLAG_ORDER)
    return ", ".join(f"{name}: {counts[name]}" for name in order if counts[name])
