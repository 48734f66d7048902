"""Helpers for the bioimage & genomics ML workbook.

Importing this package is cheap: torch, scikit-learn and friends load only when a helper
that needs them is called.
"""

from .mode import MODES, by_mode, get_mode
from .reporting import report

__all__ = ["MODES", "by_mode", "get_mode", "report", "setup"]
__version__ = "0.1.0"


def setup(notebook: str | None = None) -> None:
    """Print the device summary and run mode: the first thing every notebook does."""
    from .device import describe, detect

    if notebook:
        print(f"Notebook {notebook}")
    print(describe())
    info = detect()
    report("device", info.kind if info.kind == "cpu" else f"{info.kind}: {info.name}", quiet=True)
