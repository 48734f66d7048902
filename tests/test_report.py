"""The metric-reporting API that the benchmark reads."""

import json

import numpy as np
import pytest

from course_utils import reporting as rep


def test_report_appends_json_lines(tmp_path, monkeypatch, capsys):
    path = tmp_path / "r.jsonl"
    monkeypatch.setenv(rep.REPORT_ENV, str(path))
    rep.report("ap50", np.float32(0.875))
    rep.report("eval_split", "val")
    rep.report("ap50", 0.9)
    assert "[report] ap50 = 0.875" in capsys.readouterr().out
    assert rep.read_report_file(str(path)) == {"ap50": 0.9, "eval_split": "val"}
    assert len(path.read_text().splitlines()) == 3
    assert json.loads(path.read_text().splitlines()[0])["value"] == pytest.approx(0.875)


@pytest.mark.parametrize(("name", "value", "error"), [
    ("ap 50", 1.0, ValueError), ("x", float("nan"), ValueError), ("x", [1, 2], TypeError)])
def test_report_rejects_bad_input(name, value, error):
    with pytest.raises(error):
        rep.report(name, value)
