"""The doctor: one line per check, a fix for every problem, exit 0 exactly when nothing fails."""

import json
import subprocess
import sys

from packaging.requirements import Requirement

from course_utils import doctor


def test_doctor_json_report_and_exit_status():
    out = subprocess.run([sys.executable, "-m", "course_utils.cli", "doctor", "--json"],
                         capture_output=True, text=True, check=False, timeout=120)
    report = json.loads(out.stdout)
    failed = [c for c in report["checks"] if c["status"] == "FAIL"]
    assert (out.returncode == 0) == (not failed) == report["ok"]
    names = {c["name"] for c in report["checks"]}
    expected = {"python", "torch", "torch build", "device", "disk", "cache", "kernel", "nbgrader"}
    assert expected <= names
    assert any(n.startswith("data ") for n in names)
    assert "Traceback" not in out.stderr


def test_missing_package_is_a_fail_line_with_the_fix():
    line = doctor.check_dependency(Requirement("surely-not-a-course-package>=1.0"))
    assert line.status == "FAIL" and "not installed" in line.detail
    assert "pip install 'surely-not-a-course-package>=1.0'" in line.fix


def test_version_outside_range_fails():
    line = doctor.check_dependency(Requirement("pyyaml>=99"))
    assert line.status == "FAIL" and "outside the supported range" in line.detail


def test_broken_torch_is_a_fail_line_not_a_traceback():
    lines = doctor.check_torch_and_device("device detection crashed: ImportError: libcudnn")
    assert lines[0].status == "FAIL" and "libcudnn" in lines[0].detail
    assert "install_torch.sh" in lines[0].fix


def test_cpu_torch_on_gpu_host_fails():
    info = {"kind": "cpu", "name": "CPU", "memory_gb": None, "cpu_cores": 16, "ram_gb": 64.0,
            "torch_version": "2.14.1+cpu", "torch_cuda": None, "nvidia_gpu": "NVIDIA A100",
            "problem": "An NVIDIA GPU (NVIDIA A100) is present, but ... CPU-only build"}
    torch_line, device_line = doctor.check_torch_and_device(info)
    assert torch_line.status == "FAIL" and "CPU-only" in torch_line.detail
    assert device_line.status == "WARN"


def test_render_marks():
    assert doctor.Line("OK", "python", "3.11").render() == "[ OK ] python: 3.11"
    assert doctor.Line("FAIL", "x", "bad", "fix it").render() == "[FAIL] x: bad — fix it"


def test_slow_torch_import_is_a_warning_not_a_reinstall():
    lines = doctor.check_torch_and_device({"timeout": 8.0})
    assert [x.status for x in lines] == ["WARN", "WARN"]
    assert "more than 8 s" in lines[0].detail


def test_cache_inside_a_mirror_fails_without_writing_there(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    monkeypatch.setenv("COURSE_DATA_DIRS", str(mirror))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(mirror / "cache"))
    disk, cache = doctor.check_cache()
    assert cache.status == "FAIL" and str(mirror) in cache.detail
    assert "COURSE_CACHE_DIR" in cache.fix and list(mirror.iterdir()) == []


def test_sandbox_line_warns_with_the_fix(monkeypatch):
    from course_utils.grading import sandbox

    monkeypatch.setattr(sandbox, "probe", lambda: sandbox.Status(
        False, "bubblewrap (bwrap) is not installed", sandbox.INSTALL_FIX))
    line = doctor.check_sandbox()
    assert line.status == "WARN" and "not be isolated" in line.detail
    assert "apt-get install bubblewrap" in line.fix
    monkeypatch.setattr(sandbox, "probe", lambda: sandbox.Status(True, "grading kernels run in "
                                                                 "bubblewrap (/usr/bin/bwrap)"))
    assert doctor.check_sandbox().status == "OK"

