"""Helpers for the bioimage & genomics ML workbook.

Importing this package is cheap: torch, scikit-learn and friends load only when a helper
that needs them is called.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .mode import MODES, by_mode, get_mode
from .reporting import report

if TYPE_CHECKING:
    from .device import DeviceInfo

__all__ = ["MODES", "by_mode", "describe", "get_mode", "mode_meaning", "report", "setup"]
__version__ = "0.1.0"


def setup(notebook: str | None = None, datasets: Sequence[str] = ()) -> None:
    """Print the device summary, the run mode and where each of ``datasets`` is (fetching it).

    In grade mode only the mode is printed: nobody reads the rest, the device probe imports
    torch (seconds per submission), and ``course-utils grade`` fetched the data before the batch.
    """
    from .device import detect

    if notebook:
        print(f"Notebook {notebook}")
    if get_mode() == "grade":
        print("Run mode: grade. " + mode_meaning("grade", "cpu"))
        return
    print(describe())
    info = detect()
    report("device", info.kind if info.kind == "cpu" else f"{info.kind}: {info.name}", quiet=True)
    from .data import announce

    for name in datasets:
        announce(name)


def describe(info: DeviceInfo | None = None, mode: str | None = None) -> str:
    """A few plain sentences: what will be used, what it means for this course, what to fix."""
    from .device import detect

    info = info or detect()
    mode = mode or get_mode()
    if info.kind == "cuda":
        lines = [f"Using the GPU: {info.name} ({info.memory_gb:.0f} GiB), "
                 f"torch {info.torch_version} with CUDA {info.torch_cuda}."]
    elif info.kind == "mps":
        lines = [f"Using the Apple GPU through MPS (torch {info.torch_version})."]
    else:
        ram = f", {info.ram_gb:.0f} GiB RAM" if info.ram_gb else ""
        lines = [f"No GPU: computing on the CPU ({info.cpu_cores} cores{ram})."]
    lines.append(f"Run mode: {mode}. " + mode_meaning(mode, info.kind))
    if info.problem:
        lines.append("WARNING: " + info.problem)
    return "\n".join(lines)


def mode_meaning(mode: str, kind: str) -> str:
    """What the run mode means for the time the heavy steps take."""
    if mode == "quick":
        return ("Heavy steps run on small subsets: every notebook finishes in minutes "
                "(the U-Net trains for about 3 minutes on a CPU). Set COURSE_MODE=full for the "
                "whole datasets" + (" — on this GPU that is the better choice." if kind != "cpu"
                                    else " when you have a GPU."))
    if mode == "full":
        slow = " On a CPU this takes hours: prefer COURSE_MODE=quick." if kind == "cpu" else ""
        return "Whole datasets and full training: about 10 minutes per notebook on a GPU." + slow
    return "Grading: heavy training shrinks to what is needed to check the answers."
