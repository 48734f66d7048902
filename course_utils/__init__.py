"""Helpers for the bioimage & genomics ML workbook.

Importing this package is cheap: torch, scikit-learn and friends load only when a helper
that needs them is called.
"""

from .mode import MODES, by_mode, get_mode
from .reporting import report

__all__ = ["MODES", "by_mode", "get_mode", "report", "setup"]
__version__ = "0.1.0"


def setup(notebook: str | None = None) -> None:
    """Print the device summary and run mode: the first thing every notebook does.

    In grade mode the device probe (which imports torch, seconds per submission) is skipped:
    nobody reads the summary, and notebooks that need torch import it themselves.
    """
    from .device import describe, detect, mode_meaning

    if notebook:
        print(f"Notebook {notebook}")
    if get_mode() == "grade":
        print("Run mode: grade. " + mode_meaning("grade", "cpu"))
        return
    print(describe())
    info = detect()
    report("device", info.kind if info.kind == "cpu" else f"{info.kind}: {info.name}", quiet=True)
