"""`course-utils build`: student and solution notebooks from one jupytext source."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from course_utils.authoring.notebook import SourceError, solution_notebook
from course_utils.cli import main
from course_utils.project import pip_requirement

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "nb"
DEMO = "99_demo"


def _build(out: Path, source_dir: Path = FIXTURE, *extra: str) -> int:
    return main(["build", "--source-dir", str(source_dir), "--out-dir", str(out), *extra])


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("built")
    assert _build(out, FIXTURE, DEMO) == 0
    return out


def _cells(nb) -> dict[str, nbformat.NotebookNode]:
    return {c.metadata.nbgrader["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}


def test_solution_has_nbgrader_metadata_and_no_outputs(built):
    nb = nbformat.read(built / "solutions" / f"{DEMO}.ipynb", as_version=4)
    cells = _cells(nb)
    answer, check = cells["normalise"].metadata.nbgrader, cells["normalise_check"].metadata.nbgrader
    assert (answer["solution"], answer["grade"], answer["locked"]) == (True, False, False)
    assert (check["solution"], check["grade"], check["locked"], check["points"]) == (
        False, True, True, 2)
    assert "BEGIN SOLUTION" in cells["normalise"].source
    assert 'check("normalise_keeps_input")' in cells["normalise_check"].source
    assert all(c.outputs == [] and c.execution_count is None
               for c in nb.cells if c.cell_type == "code")
    assert nb.metadata["kernelspec"]["name"] == "python3" and "jupytext" not in nb.metadata


def test_setup_cell_comes_first_and_compiles(built):
    nb = nbformat.read(built / "solutions" / f"{DEMO}.ipynb", as_version=4)
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert first_code.metadata.nbgrader["grade_id"] == "setup"
    assert f'course_utils.setup("{DEMO}", datasets=' in first_code.source
    assert pip_requirement() in first_code.source
    compile(first_code.source, "setup cell", "exec")


def test_student_version_is_stubbed_and_hides_tests(built):
    text = (built / f"{DEMO}.ipynb").read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)
    cells = _cells(nb)
    assert "raise NotImplementedError()" in cells["normalise"].source
    assert "BEGIN SOLUTION" not in text and "image.min()" not in text
    assert "HIDDEN TESTS" not in text and "normalise_keeps_input" not in text
    assert cells["normalise_check"].metadata["editable"] is False
    assert all("checksum" in c.metadata.nbgrader for c in cells.values())


def test_student_version_equals_nbgrader_release(built, tmp_path, monkeypatch):
    """What students get is exactly what nbgrader generate_assignment releases."""
    from course_utils.grading.worker import Grader

    monkeypatch.syspath_prepend(str(FIXTURE))  # the grader loads the demo's checks

    grader = Grader(tmp_path / "course", built / "solutions", tmp_path / "feedback", 60)
    released = grader.release(DEMO)
    assert released == nbformat.read(built / f"{DEMO}.ipynb", as_version=4)


def test_build_is_deterministic_and_check_finds_stale_files(tmp_path, capsys):
    sources = tmp_path / "source"
    sources.mkdir()
    shutil.copy(FIXTURE / f"{DEMO}.py", sources)
    out = tmp_path / "out"
    assert _build(out, sources) == 0
    first = {p: p.read_bytes() for p in out.rglob("*.ipynb")}
    assert len(first) == 2
    assert _build(out, sources) == 0
    assert {p: p.read_bytes() for p in out.rglob("*.ipynb")} == first
    assert _build(out, sources, "--check") == 0

    source = sources / f"{DEMO}.py"
    source.write_text(source.read_text().replace("Exercise 1", "Exercise one"))
    (out / "98_gone.ipynb").write_text("{}")
    capsys.readouterr()
    assert _build(out, sources, "--check") == 1
    report = capsys.readouterr().out
    assert f"{out / DEMO}.ipynb (out of date)" in report
    assert "98_gone.ipynb (has no source any more)" in report
    assert _build(out, sources) == 0 and not (out / "98_gone.ipynb").exists()
    assert _build(out, sources, "--check") == 0


BAD_CELLS = {
    "no solution markers": ('# %% tags=["answer"] grade_id="a"\nx = 1\n', "BEGIN SOLUTION"),
    "check without points": ('# %% tags=["check"] grade_id="c"\ncheck("a")\n', "points=N"),
    "grade_id without tag": ('# %% grade_id="a"\nx = 1\n', 'tags=\\["answer"\\]'),
    "hidden tests in plain cell": ("# %%\n### BEGIN HIDDEN TESTS\nx\n### END HIDDEN TESTS\n",
                                   "only belongs"),
    "duplicate grade_id": ('# %% tags=["answer"] grade_id="a"\n### BEGIN SOLUTION\nx = 1\n'
                           '### END SOLUTION\n\n# %% tags=["check"] grade_id="a" points=1\n'
                           'check("a")\n', "already used"),
    "code in a check cell": ('# %% tags=["check"] grade_id="c" points=1\ncheck("a")\n'
                             'assert x == 1\n', "only check"),
}


@pytest.mark.parametrize("case", BAD_CELLS)
def test_source_errors_say_where_and_what(tmp_path, case):
    source, message = BAD_CELLS[case]
    path = tmp_path / "97_bad.py"
    path.write_text("# %% [markdown]\n# # Title\n\n" + source)
    with pytest.raises(SourceError, match=message) as info:
        solution_notebook(path)
    assert "97_bad.py, cell" in str(info.value)


def test_repository_notebooks_are_up_to_date(monkeypatch):
    """Generated notebooks in the repository match their sources (`course-utils build --check`)."""
    monkeypatch.chdir(ROOT)
    assert main(["build", "--check"]) == 0
