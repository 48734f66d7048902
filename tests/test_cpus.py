"""Usable CPUs from affinity and cgroup quotas, and the threads each grading job gets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils.cpus import cgroup_cpu_limit, thread_count, threads_per_job, usable_cpus

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity here")
def test_usable_cpus_honours_affinity():
    code = ("import os; from course_utils.cpus import usable_cpus; "
            "os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); print(usable_cpus())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "1"


def _cgroup_v2(root: Path, box: str, pod: str = "max 100000") -> Path:
    """A cgroup v2 tree: no limit at the root, ``pod`` and ``box`` (pod/box) as cpu.max."""
    (root / "pod" / "box").mkdir(parents=True, exist_ok=True)
    for folder, cpu_max in ((root, "max 100000"), (root / "pod", pod), (root / "pod" / "box", box)):
        (folder / "cpu.max").write_text(cpu_max + "\n")
    return root


def test_cgroup_v2_quota_limits_the_cpus(tmp_path):
    root = _cgroup_v2(tmp_path, "150000 100000")
    assert cgroup_cpu_limit(root, "0::/pod/box\n") == 1.5
    assert usable_cpus(root, "0::/pod/box\n") == min(2, len(os.sched_getaffinity(0)))
    assert cgroup_cpu_limit(root, "0::/\n") is None  # the root says max: no limit
    # a parent's quota applies to its children too
    assert usable_cpus(_cgroup_v2(tmp_path, "max 100000", pod="100000 100000"),
                       "0::/pod/box\n") == 1


def test_start_hook_sizes_threads_with_the_same_function():
    env = {"PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"],
           "PYTHONPATH": str(ROOT)}
    out = subprocess.run(["bash", "-c", "source deploy/image/course-threads.sh >/dev/null; "
                          "echo $OMP_NUM_THREADS $NUMBA_NUM_THREADS"], capture_output=True,
                         text=True, check=True, cwd=ROOT, env=env)
    assert out.stdout.split() == [str(usable_cpus())] * 2


def test_cgroup_v1_quota_limits_the_cpus(tmp_path):
    folder = tmp_path / "cpu,cpuacct" / "docker" / "abc"
    folder.mkdir(parents=True)
    (folder / "cpu.cfs_quota_us").write_text("100000\n")
    (folder / "cpu.cfs_period_us").write_text("100000\n")
    membership = "12:pids:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n"
    assert cgroup_cpu_limit(tmp_path, membership) == 1
    assert usable_cpus(tmp_path, membership) == 1
    (folder / "cpu.cfs_quota_us").write_text("-1\n")
    assert cgroup_cpu_limit(tmp_path, membership) is None


def test_no_cgroup_files_means_no_limit(tmp_path):
    assert cgroup_cpu_limit(tmp_path, "") is None
    assert usable_cpus(tmp_path, "") >= 1


def test_threads_are_divided_by_jobs_even_when_already_set():
    assert threads_per_job(2, environ={}, cpus=8)["OMP_NUM_THREADS"] == "4"
    given = {"OMP_NUM_THREADS": "8", "MKL_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "x"}
    sizes = threads_per_job(2, environ=given, cpus=8)
    assert sizes == {"OMP_NUM_THREADS": "4", "MKL_NUM_THREADS": "2",
                     "OPENBLAS_NUM_THREADS": "4", "NUMBA_NUM_THREADS": "4"}
    assert set(threads_per_job(5, environ={}, cpus=2).values()) == {"1"}  # at least one
    assert thread_count({"OMP_NUM_THREADS": "1"}) == 1  # in a grading kernel, its share
    assert thread_count({}) == usable_cpus()


def test_grading_kernels_get_their_share(monkeypatch, tmp_path):
    from course_utils.grading.grade import kernel_settings

    monkeypatch.setenv("OMP_NUM_THREADS", "64")  # as the image's start hook might have set it
    share = str(max(1, usable_cpus() // 2))
    settings = kernel_settings(jobs=2, figures=True, workdir=tmp_path)
    assert settings["OMP_NUM_THREADS"] == settings["OPENBLAS_NUM_THREADS"] == share


def test_notebooks_size_thread_pools_with_thread_count():
    """A notebook that sets torch's threads takes the grader's share (OMP_NUM_THREADS) too."""
    import re
    from pathlib import Path

    sources = Path(__file__).resolve().parents[1] / "notebooks" / "source"
    for path in sources.glob("*.py"):
        for call in re.findall(r"torch\.set_num_threads\((.*)\)", path.read_text()):
            assert "thread_count()" in call, (path.name, call)
