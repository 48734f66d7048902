"""Device detection and the plain-words summary, including the CPU-torch-on-a-GPU-host fault."""

import os
import subprocess
import sys

import course_utils
from course_utils import device

CPU = device.DeviceInfo("cpu", "CPU", None, 2, 24.0, "2.14.1", None, None)


def test_import_course_utils_does_not_import_torch():
    code = "import sys, course_utils; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_get_device_is_one_torch_computes_on():
    """A tensor made on the device gives the right answer back: the device works, not only is
    named (an MPS or CUDA device that torch lists but can't use fails here)."""
    import torch

    dev = device.get_device()
    assert isinstance(dev, torch.device) and dev.type in ("cuda", "mps", "cpu")
    x = torch.arange(4.0, device=dev)
    assert (x * 2).sum().item() == 12.0


def test_get_device_follows_the_detected_kind(monkeypatch):
    """With a GPU detected, notebooks are sent to it (torch.device needs no GPU to be made)."""
    gpu = device.DeviceInfo("cuda", "NVIDIA H100", 79.6, 16, 128.0, "2.14.1", "13.0", "H100")
    monkeypatch.setattr(device, "detect", lambda: gpu)
    assert str(device.get_device()) == "cuda"


def test_cpu_summary_says_what_quick_mode_means():
    text = course_utils.describe(CPU, mode="quick")
    assert "No GPU" in text and "2 cores" in text and "Run mode: quick" in text
    assert "WARNING" not in text


def test_cuda_summary_names_the_gpu():
    gpu = device.DeviceInfo("cuda", "NVIDIA H100", 79.6, 16, 128.0, "2.14.1", "13.0", "NVIDIA H100")
    text = course_utils.describe(gpu, mode="full")
    assert "NVIDIA H100 (80 GiB)" in text and "CUDA 13.0" in text


def test_cpu_torch_on_gpu_host_is_caught(monkeypatch):
    import torch

    device.detect.cache_clear()
    monkeypatch.setattr(device, "nvidia_smi_gpu", lambda: "Tesla T4")
    monkeypatch.setattr(torch.version, "cuda", None)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    try:
        info = device.detect()
    finally:
        device.detect.cache_clear()
    assert info.kind == "cpu"
    assert "CPU-only build" in info.problem and "Tesla T4" in info.problem
    assert "Fix:" in course_utils.describe(info, mode="quick")


def test_nvidia_smi_absent_means_no_gpu(monkeypatch):
    monkeypatch.setattr(device.shutil, "which", lambda _: None)
    assert device.nvidia_smi_gpu() is None


def test_grade_mode_setup_skips_the_torch_probe():
    """Autograding runs setup() once per submission: it must not spend seconds importing torch,
    nor look through the dataset's files (the batch fetched them before any kernel started)."""
    code = ("import sys, course_utils; course_utils.setup('01_kmeans', ['bbbc039']); "
            "print('torch' in sys.modules, 'course_utils.data.fetch' in sys.modules)")
    env = {**os.environ, "COURSE_MODE": "grade"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env)
    assert "Run mode: grade." in out.stdout and "Data" not in out.stdout  # the grader fetched it
    assert out.stdout.strip().endswith("False False"), out.stdout
