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
EXERCISE = re.compile(r"^# ### (Exercise|Question) (\d+)\b.*\((\d+) points?\)", re.M)
TOTAL = re.compile(r"\*\*Exercises:\*\*\s*(\d+)(?: and (\d+) questions?)?, worth (\d+) points")
TIME = re.compile(r"\*\*Time:\*\*\s*about (\d+) minutes")


def _cells(source: Path) -> list[tuple[str, str]]:
    """(header, body) of every percent cell of a jupytext source."""
    text = source.read_text(encoding="utf-8")
    marks = list(HEADER.finditer(text))
    return [(m.group(1), text[m.end():marks[i + 1].start() if i + 1 < len(marks) else None])
            for i, m in enumerate(marks)]


def _stated_and_graded(source: Path) -> tuple[list[tuple[str, int, int, float]], dict]:
    """Per exercise or question: (kind, number, points in its heading, points of its checks)."""
    exercises: list[list] = []
    stated_total: dict = {}
    for header, body in _cells(source):
        if total := TOTAL.search(body):
            stated_total = {"exercises": int(total.group(1)),
                            "questions": int(total.group(2) or 0),
                            "points": int(total.group(3))}
        if heading := EXERCISE.search(body):
            exercises.append([heading.group(1), int(heading.group(2)), int(heading.group(3)),
                              0.0])
        if "check" in header and (points := POINTS.search(header)):
            assert exercises, f"{source.name}: a graded check cell before any exercise heading"
            exercises[-1][3] += float(points.group(1))
    return [tuple(e) for e in exercises], stated_total


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_stated_points_are_the_graded_points(source):
    exercises, total = _stated_and_graded(source)
    wrong = [f"{kind} {n} says {stated} points, its check cells grade {graded:g}"
             for kind, n, stated, graded in exercises if stated != graded]
    assert total, f"{source.name}: no '**Exercises:** N, worth P points' line"
    graded = sum(g for *_, g in exercises)
    if total["points"] != graded:
        wrong.append(f"the introduction says {total['points']} points, the check cells grade "
                     f"{graded:g}")
    for kind, key in (("Exercise", "exercises"), ("Question", "questions")):
        found = sum(1 for k, *_ in exercises if k == kind)
        if total[key] != found:
            wrong.append(f"the introduction says {total[key]} {key}, there are {found}")
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
    assert exercises == [("Exercise", 1, 2, 2.0)]
    assert total == {"exercises": 1, "questions": 0, "points": 3}


def test_questions_are_counted_apart_from_exercises(tmp_path):
    """A question heading gets its own check cells' points and its own count (issue 18)."""
    fake = tmp_path / "99_fake.py"
    fake.write_text("# %% [markdown]\n# **Exercises:** 1 and 1 question, worth 3 points\n"
                    "# %% [markdown]\n# ### Exercise 1 — x (2 points)\n"
                    "# %% tags=[\"check\"] grade_id=\"x_check\" points=2\ncheck(\"x\")\n"
                    "# %% [markdown]\n# ### Question 1 — y (1 point)\n"
                    "# %% tags=[\"check\"] grade_id=\"y_check\" points=1\ncheck(\"y\")\n",
                    encoding="utf-8")
    exercises, total = _stated_and_graded(fake)
    assert exercises == [("Exercise", 1, 2, 2.0), ("Question", 1, 1, 1.0)]
    assert total == {"exercises": 1, "questions": 1, "points": 3}


def _readme_counts() -> dict[str, tuple[int, int, int]]:
    """Notebook stem -> (exercises, questions, points) from README's '7 + 3 (17 points)' column."""
    counts = {}
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        row = re.match(r"\|\s*`(\d\d_\w+)`\s*\|.*\|\s*(\d+) \+ (\d+) \((\d+) points\)\s*\|", line)
        if row:
            counts[row.group(1)] = tuple(int(g) for g in row.groups()[1:])
    return counts


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_readme_counts_match_the_notebook(source):
    """README's table lists each notebook's exercises, questions and points as graded."""
    exercises, _ = _stated_and_graded(source)
    found = (sum(k == "Exercise" for k, *_ in exercises),
             sum(k == "Question" for k, *_ in exercises), sum(g for *_, g in exercises))
    assert _readme_counts().get(source.stem) == found, (
        f"README says {_readme_counts().get(source.stem)} for {source.stem}; the notebook has "
        f"{found} (exercises, questions, points)")
