"""scripts/bench_hub.py's pure parts: the memory sum per user and the markdown table."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import SimpleNamespace

import psutil

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "bench_hub.py"
spec = importlib.util.spec_from_file_location("bench_hub", SCRIPT)
bench = importlib.util.module_from_spec(spec)
sys.modules["bench_hub"] = bench  # dataclasses look their module up there
spec.loader.exec_module(bench)


class FakeProcess:
    """What user_rss reads of a process: its owner and resident memory (or that it is gone)."""

    def __init__(self, owner: str, rss: int, gone: bool = False) -> None:
        self.owner, self.rss, self.gone = owner, rss, gone

    def username(self) -> str:
        if self.gone:
            raise psutil.NoSuchProcess(1)
        return self.owner

    def memory_info(self) -> SimpleNamespace:
        return SimpleNamespace(rss=self.rss)


def test_user_rss_sums_each_users_processes_and_skips_the_rest():
    procs = [FakeProcess("ada", 100), FakeProcess("ada", 50), FakeProcess("alan", 7),
             FakeProcess("root", 10**9), FakeProcess("ada", 10**9, gone=True)]
    assert bench.user_rss(procs, {"ada", "alan", "grace"}) == {"ada": 150, "alan": 7,
                                                              "grace": 0}


def test_table_shows_medians_maxima_and_failures():
    one = bench.Attendee("a1", ready_s=5.0, notebook_s=20.0, peak_rss_mib=900.0,
                         cgroup_peak_mib=1000.0)
    two = bench.Attendee("a2", ready_s=7.0, notebook_s=30.0, peak_rss_mib=1100.0,
                         cgroup_peak_mib=None, failures=["cell 3: NameError: x"])
    three = bench.Attendee("a3", ready_s=9.0, notebook_s=None, peak_rss_mib=800.0)
    text = bench.table([bench.Round(1, [one]), bench.Round(3, [one, two, three])])
    lines = text.splitlines()
    assert lines[0].startswith("| attendees | server ready, s | notebook 01, s |")
    assert lines[2] == "| 1 | 5.0 (5.0) | 20.0 (20.0) | 900.0 (900.0) | 1000.0 (1000.0) | 0 |"
    assert lines[3] == "| 3 | 7.0 (9.0) | 25.0 (30.0) | 900.0 (1100.0) | 1000.0 (1000.0) | 1 |"


def test_table_marks_what_was_not_measured():
    nothing = bench.Attendee("a1", failures=["HubError: refused"])
    assert bench.table([bench.Round(1, [nothing])]).splitlines()[2] == (
        "| 1 | - | - | 0.0 (0.0) | - | 1 |")
