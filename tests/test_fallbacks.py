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
