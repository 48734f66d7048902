"""What the notebooks' prose states about themselves agrees with what they do (issue 15).

A notebook says how many points it is worth, each exercise heading how many points it carries,
and README's table how long each notebook takes. These tests fail, naming the place, when a
stated number differs from the graded points of the check cells or from the notebook's own
time estimate.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "notebooks" / "source").glob("[0-9][0-9]_*.py"))
HEADER = re.compile(r"^# %%(.*)$", re.M)
POINTS = re.compile(r"\bpoints=(\d+(?:\.\d+)?)")
EXERCISE = re.compile(r"^# ### Exercise (\d+)\b.*\((\d+) points?\)", re.M)
TOTAL = re.compile(r"\*\*Exercises:\*\*\s*(\d+), worth (\d+) points")
TIME = re.compile(r"\*\*Time:\*\*\s*about (\d+) minutes")


def _cells(source: Path) -> list[tuple[str, str]]:
    """(header, body) of every percent cell of a jupytext source."""
    text = source.read_text(encoding="utf-8")
    marks = list(HEADER.finditer(text))
    return [(m.group(1), text[m.end():marks[i + 1].start() if i + 1 < len(marks) else None])
            for i, m in enumerate(marks)]


def _stated_and_graded(source: Path) -> tuple[list[tuple[int, int, float]], dict]:
    """Per exercise: (number, points stated in its heading, points of its check cells)."""
    exercises: list[list] = []
    stated_total: dict = {}
    for header, body in _cells(source):
        if total := TOTAL.search(body):
            stated_total = {"exercises": int(total.group(1)), "points": int(total.group(2))}
        if heading := EXERCISE.search(body):
            exercises.append([int(heading.group(1)), int(heading.group(2)), 0.0])
        if "check" in header and (points := POINTS.search(header)):
            assert exercises, f"{source.name}: a graded check cell before any exercise heading"
            exercises[-1][2] += float(points.group(1))
    return [tuple(e) for e in exercises], stated_total


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_stated_points_are_the_graded_points(source):
    exercises, total = _stated_and_graded(source)
    wrong = [f"Exercise {n} says {stated} points, its check cells grade {graded:g}"
             for n, stated, graded in exercises if stated != graded]
    assert total, f"{source.name}: no '**Exercises:** N, worth P points' line"
    graded = sum(g for *_, g in exercises)
    if total["points"] != graded:
        wrong.append(f"the introduction says {total['points']} points, the check cells grade "
                     f"{graded:g}")
    if total["exercises"] != len(exercises):
        wrong.append(f"the introduction says {total['exercises']} exercises, there are "
                     f"{len(exercises)}")
    assert not wrong, f"{source.name}: " + "; ".join(wrong)


def _readme_times() -> dict[str, tuple[int, int]]:
    """Notebook stem -> (low, high) minutes from README's table ('45–60 min' or '75 min')."""
    times = {}
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        row = re.match(r"\|\s*`(\d\d_\w+)`\s*\|.*\|\s*(\d+)(?:\s*[–-]\s*(\d+))?\s*min\s*\|", line)
        if row:
            low = int(row.group(2))
            times[row.group(1)] = (low, int(row.group(3) or low))
    return times


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_readme_time_matches_the_notebooks_estimate(source):
    times = _readme_times()
    assert source.stem in times, f"README's table has no time for {source.stem}"
    estimate = TIME.search(source.read_text(encoding="utf-8"))
    assert estimate, f"{source.name}: no '**Time:** about N minutes' line"
    minutes, (low, high) = int(estimate.group(1)), times[source.stem]
    assert low <= minutes <= high, (f"{source.stem}: the notebook says about {minutes} minutes, "
                                    f"README says {low}–{high} min")


def test_a_wrong_statement_is_caught(tmp_path):
    """The parser finds a stated total that disagrees (as 04's '13 points' did)."""
    fake = tmp_path / "99_fake.py"
    fake.write_text("# %% [markdown]\n# **Exercises:** 1, worth 3 points\n"
                    "# %% [markdown]\n# ### Exercise 1 — x (2 points)\n"
                    "# %% tags=[\"check\"] grade_id=\"x_check\" points=2\n"
                    "check(\"x\")\n", encoding="utf-8")
    exercises, total = _stated_and_graded(fake)
    assert exercises == [(1, 2, 2.0)] and total == {"exercises": 1, "points": 3}
