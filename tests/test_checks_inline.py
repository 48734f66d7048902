"""Every notebook's checks against its own answers, mistakes and stubs (tests/check_harness.py).

For each of the five notebooks, in one process: the solutions pass every check; each typical
mistake of tests/fixtures/mistakes/ fails exactly the check cells it lists (and passes the other
checks of its answer), one of them with its hint; each untouched stub gets a "not written yet"
hint from the checks that read what it should define. test_grading.py proves the same through
real kernels and nbgrader; this is the fast tier that says which check broke.
"""

from __future__ import annotations

import re

import pytest
from check_harness import NotebookChecks

from course_utils.checks.core import MODULE_OF_NOTEBOOK

UNWRITTEN = re.compile(r"not (written|defined|answered) yet")  # the stub hints of checks.core
NOTEBOOKS = {stem: NotebookChecks(stem) for stem in MODULE_OF_NOTEBOOK}
SOLVED: dict[str, dict] = {}


def solved(stem: str) -> dict:
    """The namespace with every solution run (made once per notebook)."""
    if stem not in SOLVED:
        SOLVED[stem] = NOTEBOOKS[stem].namespace()
    return SOLVED[stem]


def _cases(items) -> list:
    return [pytest.param(stem, item, id=f"{stem}-{getattr(item, 'name', item)}")
            for stem, nb in NOTEBOOKS.items() for item in items(nb)]


@pytest.mark.parametrize(("stem", "check_cell"), _cases(lambda nb: nb.check_cells))
def test_solution_passes(stem, check_cell):
    failed = {name: msg for name, (ok, msg) in
              NOTEBOOKS[stem].verdicts(solved(stem), check_cell).items() if not ok}
    assert not failed, failed


@pytest.mark.parametrize(("stem", "mistake"), _cases(lambda nb: nb.mistakes))
def test_mistake_fails_its_checks_with_its_hint(stem, mistake):
    nb = NOTEBOOKS[stem]
    ns = nb.namespace({mistake.grade_id: mistake.code})
    hints = []
    for cell in {*mistake.lost, *nb.cells_reading(nb.answers[mistake.grade_id].defines)}:
        failed = [msg for ok, msg in nb.verdicts(ns, cell).values() if not ok]
        assert bool(failed) == (cell in mistake.lost), (cell, failed)
        hints += failed
    assert any(mistake.hint in msg for msg in hints), hints


@pytest.mark.parametrize(("stem", "grade_id"), _cases(lambda nb: nb.answers))
def test_stub_gets_a_not_written_yet_hint(stem, grade_id):
    nb = NOTEBOOKS[stem]
    ns = nb.namespace({grade_id: nb.stubs()[grade_id]})
    names = nb.answers[grade_id].defines
    cells = nb.cells_reading(names)
    assert cells, f"no check reads what {grade_id} defines ({sorted(names)})"
    for cell in cells:
        for name, (passed, msg) in nb.verdicts(ns, cell).items():
            if names & set(nb.specs[name].params):
                assert not passed and UNWRITTEN.search(msg), (name, msg)


@pytest.mark.parametrize("stem", list(NOTEBOOKS))
def test_every_registered_check_is_called_by_a_check_cell(stem):
    nb = NOTEBOOKS[stem]
    called = {name for names in nb.check_cells.values() for name in names}
    assert called == set(nb.specs), set(nb.specs) ^ called

