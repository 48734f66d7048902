"""Which processor the course computes on, said in plain words.

``get_device()`` is the one place every notebook asks for its ``torch.device``; ``detect()``
finds the facts ``course_utils.describe()`` puts in the first cell's sentences, including the
classic hub fault: an NVIDIA GPU that ``nvidia-smi`` sees while the installed torch is a
CPU-only build. A leaf: it imports nothing from the course package but ``cpus``.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache

from .cpus import usable_cpus

FIX_CPU_TORCH = (
    "Fix: install the CUDA build of torch in this environment, e.g. "
    "`pip install --force-reinstall torch torchvision` (PyPI's Linux wheels are CUDA builds), "
    "or ask the hub admin for the GPU image; then restart the kernel."
)


@dataclass(frozen=True)
class DeviceInfo:
    """What was found: the device kind and the facts a person needs to know about it."""

    kind: str  # "cuda", "mps" or "cpu"
    name: str
    memory_gb: float | None
    cpu_cores: int
    ram_gb: float | None
    torch_version: str | None
    torch_cuda: str | None  # CUDA version torch was built with; None for a CPU build
    nvidia_gpu: str | None  # what nvidia-smi reports, independent of torch
    problem: str | None = None  # a fault worth fixing, in plain words


def nvidia_smi_gpu() -> str | None:
    """Name of the first GPU that ``nvidia-smi`` lists, or None when there is none."""
    exe = shutil.which("nvidia-smi")
    if not exe:
        return None
    try:
        out = subprocess.run(
            [exe, "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=10, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    names = [line.strip() for line in out.stdout.splitlines() if line.strip()]
    return names[0] if out.returncode == 0 and names else None


def _ram_gb() -> float | None:
    """Total system memory in GiB (psutil when present, else /proc/meminfo)."""
    try:
        import psutil

        return psutil.virtual_memory().total / 2**30
    except ImportError:
        return None


@lru_cache(maxsize=1)
def detect() -> DeviceInfo:
    """Inspect torch and the machine once per process and return what was found."""
    cores, ram, smi = usable_cpus(), _ram_gb(), nvidia_smi_gpu()
    try:
        import torch
    except ImportError as exc:
        return DeviceInfo("cpu", "CPU", None, cores, ram, None, None, smi,
                          f"torch cannot be imported ({exc}). Fix: `make lab` or "
                          "`pip install torch torchvision`, then restart the kernel.")
    cuda_build = torch.version.cuda
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        return DeviceInfo("cuda", props.name, props.total_memory / 2**30, cores, ram,
                          torch.__version__, cuda_build, smi)
    problem = None
    if smi and not cuda_build:
        problem = (f"An NVIDIA GPU ({smi}) is present, but the installed torch "
                   f"{torch.__version__} is a CPU-only build, so the GPU is not used. "
                   + FIX_CPU_TORCH)
    elif smi:
        problem = (f"An NVIDIA GPU ({smi}) is present and torch was built for CUDA {cuda_build}, "
                   "but torch cannot use it (driver too old for this build, or the GPU is not "
                   "passed into this container). Fix: compare `nvidia-smi` (driver CUDA version) "
                   "with torch's, or ask the hub admin; then restart the kernel.")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return DeviceInfo("mps", "Apple GPU (MPS)", None, cores, ram, torch.__version__,
                          cuda_build, smi, problem)
    return DeviceInfo("cpu", "CPU", None, cores, ram, torch.__version__, cuda_build, smi, problem)


def get_device():
    """The ``torch.device`` every notebook computes on: CUDA, else Apple MPS, else CPU."""
    import torch

    return torch.device(detect().kind)
