"""Issue 18: an untouched student notebook runs top to bottom, the course's references taking over.

Every student notebook (``notebooks/NN_name.ipynb``, stubs as released) is executed in quick mode
with nbclient, errors *not* allowed: no stub may stop "Run All", a failing check prints its ✗ and
goes on, and each ``check.use_reference(...)`` cell loads the reference the cells below need.
The test also reads what happened: every check failed (nothing is answered), every fallback
cell says it loaded the course's reference, and ``check.all()`` counts the references as not
done.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from course_utils import bench
from course_utils.checks.core import RESULTS_ENV
from course_utils.grading.execute import read_results
from course_utils.training import CHECKPOINT_ENV

STUDENT = sorted((bench.REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
FALLBACK = re.compile(r"""check\.use_reference\(\s*["']([\w-]+)["']\s*\)""")
CELL_TIMEOUT = 1800  # seconds: 04's training cell, on two cores shared with other work


def _text(cell: nbformat.NotebookNode) -> str:
    """All text a code cell printed."""
    return "".join(out.get("text", "") for out in cell.get("outputs", [])
                   if out.output_type == "stream")


def _run(path: Path, tmp_path: Path, monkeypatch) -> nbformat.NotebookNode:
    """Execute the notebook in quick mode, errors not allowed; raises on the first error."""
    from nbclient import NotebookClient

    monkeypatch.setenv("COURSE_MODE", "quick")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.setenv(RESULTS_ENV, str(tmp_path / "checks.jsonl"))
    monkeypatch.setenv(CHECKPOINT_ENV, str(tmp_path / "checkpoints"))  # nothing to resume
    monkeypatch.setenv("MPLBACKEND", "agg")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


@pytest.mark.notebook
@pytest.mark.parametrize("path", STUDENT, ids=[p.stem for p in STUDENT])
def test_untouched_notebook_runs_on_the_references(path, tmp_path, monkeypatch):
    nb = _run(path, tmp_path, monkeypatch)  # an error in any cell fails here, naming it
    fallbacks = [(FALLBACK.search(c.source).group(1), _text(c)) for c in nb.cells
                 if c.cell_type == "code" and FALLBACK.search(c.source)]
    assert fallbacks, f"{path.stem} has no check.use_reference cell"
    not_loaded = [name for name, text in fallbacks
                  if "using the course's reference" not in text]
    assert not not_loaded, f"{path.stem}: these fallbacks loaded nothing: {not_loaded}"
    results = read_results(tmp_path / "checks.jsonl")
    assert results and not any(passed for passed, _ in results.values()), (
        f"{path.stem}: an untouched notebook passed a check: "
        f"{[name for name, (passed, _) in results.items() if passed]}")
    summary = _text(next(c for c in reversed(nb.cells) if c.cell_type == "code"))
    assert re.search(r"\b0 of \d+ checks pass", summary), summary[-500:]


def test_catch_up_loads_the_reference_run_and_says_where_from(tmp_path, monkeypatch, capsys):
    """04's checkpoint: the reference run's model is copied, then resumed from, not trained."""
    import torch

    from course_utils.training import REFERENCE_RUNS_ENV, Checkpoint, catch_up

    def fresh():
        model = torch.nn.Linear(3, 2)
        return model, torch.optim.SGD(model.parameters(), lr=0.1)

    monkeypatch.delenv(REFERENCE_RUNS_ENV, raising=False)
    mine = Checkpoint(tmp_path / "mine" / "run.pt")
    assert not catch_up(mine, "run") and "is not set" in capsys.readouterr().out
    reference, optimiser = fresh()
    Checkpoint(tmp_path / "reference" / "run.pt").save(5, reference, optimiser, history=[1])
    monkeypatch.setenv(REFERENCE_RUNS_ENV, str(tmp_path / "reference"))
    assert catch_up(mine, "run")
    assert str(tmp_path / "reference" / "run.pt") in capsys.readouterr().out
    model, optimiser = fresh()
    assert mine.resume(model, optimiser) == (6, {"history": [1]})
    assert torch.equal(model.weight, reference.weight)
    assert (tmp_path / "reference" / "run.pt").exists()  # the reference folder is untouched


def _assign(X, centroids):
    """A correct assignment step written by a student."""
    return ((X[:, None, :] - centroids[None]) ** 2).sum(-1).argmin(1)


def test_use_reference_keeps_a_passing_answer_and_fills_a_failing_one(monkeypatch, capsys):
    from course_utils.checks import Checker

    monkeypatch.setenv("COURSE_MODE", "quick")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    ns = {"assign_clusters": _assign}
    check = Checker("01_kmeans", ns)
    check("assign_step")
    check.use_reference("assign_step")
    assert ns["assign_clusters"] is _assign and "no reference needed" in capsys.readouterr().out

    ns["assign_clusters"] = lambda X, centroids: X[:, 0].astype(int)  # wrong
    check("assign_step")  # prints ✗ and does not raise outside grade mode
    assert "✗ assign_step" in capsys.readouterr().err
    check.use_reference("assign_step")
    assert "using the course's reference `assign_clusters`" in capsys.readouterr().out
    assert ns["assign_clusters"] is not _assign
    check.all()  # the reference counts as not done
    assert "is the course's reference" in capsys.readouterr().out


def test_a_reference_scores_zero_wherever_it_comes_from():
    from course_utils.checks.core import judge, load_checks
    from course_utils.references.svm import rbf_kernel

    specs = load_checks("02_svm")
    passed, hint = judge(specs["rbf_kernel"], {"rbf_kernel": rbf_kernel})  # imported directly
    assert not passed and "course's reference" in hint
    passed, hint = judge(specs["baseline"], {"baseline_acc": ...})  # the value stub
    assert not passed and "still `...`" in hint


def test_in_grade_mode_use_reference_loads_nothing_and_checks_raise(monkeypatch, capsys):
    from course_utils.checks import Checker, CheckFailed
    from course_utils.references import NoReference, build_reference, get

    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    ns: dict = {}
    check = Checker("01_kmeans", ns)
    check.use_reference("assign_step")
    assert "assign_clusters" not in ns and "not loaded" in capsys.readouterr().out
    with pytest.raises(CheckFailed):
        check("assign_step")
    with pytest.raises(NoReference):
        build_reference(get("01_kmeans", "assign_step"), ns)


def test_value_stubs_name_what_the_exercise_asks_for():
    from course_utils.authoring.stubs import stub_names

    region = ("cm = confusion_matrix(a, b)\nmistakes = cm - np.diag(np.diag(cm))\n"
              "t, p = np.unravel_index(mistakes.argmax(), mistakes.shape)\nmost_confused = (t, p)")
    text = "Set `cm` to the confusion matrix and `most_confused` to the pair."
    assert stub_names(region, text) == ["cm", "most_confused"]
    assert stub_names("x = 1\ny = 2", "no names here") == ["x", "y"]
