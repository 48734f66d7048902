"""Checks judge against outputs computed from the solution at build time (issue 15, item 4).

The stored files must be what the current sources give (like the generated notebooks), the
solution's answer cell must run on its own with only what it needs, and the check modules
must not hold the answers' code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from course_utils.checks import expected
from course_utils.checks.core import MODULE_OF_NOTEBOOK

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "notebooks" / "source"
CHECKS = ROOT / "course_utils" / "checks"
# The exercises whose checks compare with stored outputs, and what their answers call.
ANSWER_SAFE = {"01_kmeans": ("assign_step", ["argmin(", "pairwise_distances_argmin"]),
               "02_svm": ("rbf_kernel", ["np.exp(-gamma", "pairwise import rbf_kernel"]),
               "03_cross_validation": ("nested_cv", ["cross_val_score(GridSearchCV",
                                                     "cross_val_score(search,"]),
               "04_unet_segmentation": ("targets", ["find_boundaries"])}


@pytest.mark.parametrize("notebook", sorted(ANSWER_SAFE))
def test_stored_expected_outputs_are_up_to_date(notebook):
    """Regenerating from the source gives the stored file (floats within the tolerance)."""
    source = SOURCES / f"{notebook}.py"
    assert expected.stale(source) is None, (
        f"{expected.path_of(notebook)} is stale: run `course-utils build` and commit it")


def test_a_changed_solution_makes_the_file_stale(tmp_path, monkeypatch):
    """The staleness test can fail: a source whose solution differs gives another file."""
    text = (SOURCES / "02_svm.py").read_text(encoding="utf-8")
    changed = text.replace("return np.exp(-gamma * squared)", "return np.exp(-2 * gamma * squared)")
    assert changed != text
    source = tmp_path / "02_svm.py"
    source.write_text(changed, encoding="utf-8")
    assert expected.stale(source) == "out of date"
    monkeypatch.setattr(expected, "EXPECTED_DIR", tmp_path / "expected")
    expected._stored.cache_clear()
    try:
        assert expected.stale(source) == "missing"
        assert expected.write(source) and expected.stale(source) is None
        stored = json.loads(expected.path_of("02_svm").read_text(encoding="utf-8"))
        stored["rbf_kernel"]["K"][0][0] *= 1 + 1e-6  # beyond the float tolerance
        expected.path_of("02_svm").write_text(expected.dumps(stored), encoding="utf-8")
        assert expected.stale(source) == "out of date"
    finally:
        expected._stored.cache_clear()


def test_same_compares_floats_within_tolerance_and_the_rest_exactly():
    assert expected.same({"a": [1.0, 2]}, {"a": [1.0 + 1e-13, 2]})
    assert not expected.same({"a": [1.0]}, {"a": [1.001]})
    assert not expected.same({"h": "abc"}, {"h": "abd"})
    assert not expected.same({"a": 1}, {"b": 1})
    assert not expected.same([1, 2], [1, 2, 3])


def test_solution_namespace_runs_the_answer_cell_and_what_it_calls():
    """run_kmeans needs three other answer cells' functions and numpy, nothing else."""
    ns = expected.solution_namespace(SOURCES / "01_kmeans.py", "kmeans_loop")
    assert {"run_kmeans", "assign_clusters", "update_centroids", "inertia", "np"} <= set(ns)
    assert "KMeans" not in ns and "plt" not in ns  # imports it does not need are not run
    nested = expected.solution_namespace(SOURCES / "03_cross_validation.py", "nested_cv")
    assert {"GridSearchCV", "cross_val_score", "nested_cv_scores"} <= set(nested)
    with pytest.raises(KeyError, match="no answer cell"):
        expected.solution_namespace(SOURCES / "01_kmeans.py", "no_such_cell")


def test_a_missing_case_says_to_rebuild():
    with pytest.raises(expected.ExpectedMissing, match="course-utils build"):
        expected.expected("01_kmeans", "no_such_case")


def _solution_lines(source: Path, grade_id: str) -> list[str]:
    """The solution lines of one answer cell, whitespace removed (short ones left out)."""
    text = source.read_text(encoding="utf-8")
    cell = text.split(f'grade_id="{grade_id}"', 1)[1].split("# %%", 1)[0]
    body = cell.split("### BEGIN SOLUTION", 1)[1].split("### END SOLUTION", 1)[0]
    lines = [re.sub(r"\s+", "", line) for line in body.splitlines()]
    return [line for line in lines if len(line) >= 20]


@pytest.mark.parametrize("notebook", sorted(ANSWER_SAFE))
def test_check_modules_hold_no_answer_code(notebook):
    """No solution line of the answer-safe exercises, nor the call that answers it."""
    grade_id, calls = ANSWER_SAFE[notebook]
    module = (CHECKS / f"{MODULE_OF_NOTEBOOK[notebook]}.py").read_text(encoding="utf-8")
    flat = re.sub(r"\s+", "", module)
    lines = _solution_lines(SOURCES / f"{notebook}.py", grade_id)
    assert lines, "the test found no solution lines to look for"
    assert not [line for line in lines if line in flat]
    assert not [call for call in calls if call in module]
    assert expected.cases(notebook), f"{notebook} judges {grade_id} against no stored case"


def test_definitions_split_imports_and_keep_decorators():
    from nbformat.v4 import new_code_cell

    cells = [new_code_cell("import numpy as np, scipy\nfrom a.b import c as d, e\nx = 1"),
             new_code_cell("@wrap\ndef f(v):\n    return g(v)\n\nclass K:\n    pass",
                           metadata={"tags": ["answer"]}),
             new_code_cell("def h():\n    pass")]  # not an answer cell: plain code
    found = expected._definitions(cells)
    assert found["np"] == "import numpy as np" and found["d"] == "from a.b import c as d"
    assert found["f"].startswith("@wrap\ndef f(v):") and found["K"].startswith("class K")
    assert "h" not in found and "x" not in found
    assert expected._needed("f(1)", found) == [found["f"]]
