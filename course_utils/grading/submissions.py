"""Find the submissions in a folder: ``<student>/<NN_name>.ipynb`` or nbgrader's layout.

nbgrader's layout is ``submitted/<student>/<assignment>/<NN_name>.ipynb``; the folder given may
be the course folder (holding ``submitted/``) or ``submitted/`` itself. Each notebook is graded
on its own, against the solution notebook of the same name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Submission:
    """One student's copy of one notebook."""

    student: str
    notebook: str  # the notebook's stem, e.g. "01_kmeans"
    path: Path


def _visible(path: Path) -> bool:
    """False for hidden files and folders and Jupyter's checkpoint folders."""
    return not path.name.startswith(".")


def _student_notebooks(student_dir: Path) -> list[Path]:
    """A student's notebooks: directly in their folder or one assignment folder below it."""
    direct = [p for p in student_dir.glob("*.ipynb") if _visible(p)]
    nested = [p for d in student_dir.iterdir() if d.is_dir() and _visible(d)
              for p in d.glob("*.ipynb") if _visible(p)]
    return sorted(direct + nested)


def find_submissions(root: Path) -> list[Submission]:
    """Every submission under ``root``, sorted; raises ValueError when a layout is ambiguous."""
    if not root.is_dir():
        raise FileNotFoundError(f"submissions folder {root} does not exist")
    if (root / "submitted").is_dir():
        root = root / "submitted"
    found: dict[tuple[str, str], Path] = {}
    for student_dir in sorted(d for d in root.iterdir() if d.is_dir() and _visible(d)):
        for path in _student_notebooks(student_dir):
            key = (student_dir.name, path.stem)
            if key in found:
                raise ValueError(f"student {key[0]} has two copies of {key[1]}: {found[key]} and "
                                 f"{path}. Keep one and grade again.")
            found[key] = path
    return sorted(Submission(s, nb, p) for (s, nb), p in found.items())
