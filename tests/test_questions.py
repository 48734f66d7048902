"""Interpretation questions (issue 18): the solution's letter passes, every other letter and the
stub fail with the question's teaching hint, and the hint never names a letter."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from course_utils.checks import Checker
from course_utils.checks.core import load_checks

ROOT = Path(__file__).resolve().parents[1]
ANSWER = re.compile(r'grade_id="(q_\w+)"\n### BEGIN SOLUTION\n(answer_\w+) = "([a-d])"')
QUESTIONS = [(src.stem, *m) for src in sorted((ROOT / "notebooks" / "source").glob("0*.py"))
             for m in ANSWER.findall(src.read_text(encoding="utf-8"))]


def test_the_course_has_at_least_twelve_questions_and_each_notebook_some():
    assert len(QUESTIONS) >= 12
    assert {nb for nb, *_ in QUESTIONS} == {p.stem for p in
                                            (ROOT / "notebooks" / "source").glob("0*.py")}


@pytest.mark.parametrize(("notebook", "name", "variable", "letter"), QUESTIONS,
                         ids=[q[1] for q in QUESTIONS])
def test_only_the_solutions_letter_passes(notebook, name, variable, letter):
    ns: dict = {}
    check = Checker(notebook, ns)
    verdicts = {}
    for choice in "abcd":
        ns[variable] = choice
        verdicts[choice] = check._run(name)
    assert [c for c, (ok, _) in verdicts.items() if ok] == [letter]
    hints = {msg for c, (ok, msg) in verdicts.items() if not ok}
    assert len(hints) == 1, "every wrong letter gets the same hint (it must not tell them apart)"
    assert not re.search(r"\b[a-d]\)", hints.pop()), "a hint names an option"
    ns[variable] = " " + letter.upper()  # case and spaces don't matter
    assert check._run(name)[0]
    for bad in (..., 2, "e", "ab"):
        ns[variable] = bad
        assert not check._run(name)[0]
    assert name in load_checks(notebook)
