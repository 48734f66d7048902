"""The benchmark command: runs notebooks headless, records time, memory and metrics."""

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from course_utils.cli import main

pytestmark = pytest.mark.notebook  # each test starts a kernel and runs notebooks through bench


def write_notebook(path, *sources):
    nbformat.write(new_notebook(cells=[new_code_cell(s) for s in sources]), path)
    return path


def test_bench_records_metrics_and_memory(tmp_path):
    nb = write_notebook(tmp_path / "ok.ipynb",
                        "import numpy as np\nfrom course_utils import report, get_mode",
                        "big = np.ones((2000, 2000))\nreport('total', float(big.sum()))",
                        "report('mode_seen', get_mode())")
    out = tmp_path / "bench.json"
    assert main(["bench", "--json", str(out), "--mode", "grade", str(nb)]) == 0
    result = json.loads(out.read_text())["notebooks"]["ok"]
    assert result["status"] == "ok" and result["mode"] == "grade"
    assert result["metrics"] == {"total": 4e6, "mode_seen": "grade"}
    assert result["peak_mb"] > 30  # the 32 MB array lived in the kernel
    assert result["seconds"] > 0


def test_bench_reports_a_failing_notebook(tmp_path, capsys):
    good = write_notebook(tmp_path / "a_good.ipynb", "x = 1")
    bad = write_notebook(tmp_path / "b_bad.ipynb", "raise ValueError('no nuclei found')")
    out = tmp_path / "bench.json"
    assert main(["bench", "--json", str(out), str(good), str(bad)]) == 1
    results = json.loads(out.read_text())["notebooks"]
    assert results["a_good"]["status"] == "ok"
    assert results["b_bad"]["status"] == "failed"
    assert "no nuclei found" in results["b_bad"]["error"]
    assert "| b_bad | failed |" in capsys.readouterr().out


def test_bench_unknown_notebook_is_a_clear_error(tmp_path, capsys):
    assert main(["bench", "--json", str(tmp_path / "x.json"), "99_nothing"]) == 2
    assert "no notebook '99_nothing'" in capsys.readouterr().err


def test_bench_runs_from_a_clean_checkpoint_folder_and_flags_a_resumed_run(tmp_path, capsys,
                                                                           monkeypatch):
    """Each run gets its own empty checkpoint folder; a run that resumed says so (issue 15)."""
    stale = tmp_path / "stale"
    stale.mkdir()
    (stale / "run.pt").write_text("an earlier run's checkpoint")
    monkeypatch.setenv("COURSE_CHECKPOINT_DIR", str(stale))
    nb = write_notebook(
        tmp_path / "train.ipynb",
        "import os\nfrom pathlib import Path\nfrom course_utils import report\n"
        "from course_utils.training import checkpoint_path",
        "path = checkpoint_path('run')\n"
        "report('fresh_folder', not any(path.parent.iterdir()))\n"
        "report('in_stale_folder', str(path.parent) == os.environ.get('STALE'))\n"
        "report('resumed', path.exists())")
    out = tmp_path / "bench.json"
    monkeypatch.setenv("STALE", str(stale))
    assert main(["bench", "--json", str(out), "--mode", "grade", str(nb)]) == 0
    result = json.loads(out.read_text())["notebooks"]["train"]
    assert result["metrics"]["fresh_folder"] is True
    assert result["metrics"]["in_stale_folder"] is False
    assert result["resumed"] is False and "resumed:" not in capsys.readouterr().out
    resumed = write_notebook(tmp_path / "again.ipynb",
                             "from course_utils import report\nreport('resumed', True)")
    assert main(["bench", "--json", str(out), "--mode", "grade", str(resumed)]) == 0
    assert json.loads(out.read_text())["notebooks"]["again"]["resumed"] is True
    assert "ok (resumed: not a fresh run)" in capsys.readouterr().out
