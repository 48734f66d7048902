"""Helpers for the bioimage & genomics ML workbook.

Importing this package is cheap: torch, scikit-learn and friends load only when a helper
that needs them is called.
"""

from collections.abc import Sequence

from .mode import MODES, by_mode, get_mode
from .reporting import report

__all__ = ["MODES", "by_mode", "get_mode", "report", "setup"]
__version__ = "0.1.0"


def setup(notebook: str | None = None, datasets: Sequence[str] = ()) -> None:
    """Print the device summary, the run mode and where each of ``datasets`` is (fetching it).

    In grade mode only the mode is printed: nobody reads the rest, the device probe imports
    torch (seconds per submission), and ``course-utils grade`` fetched the data before the batch.
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
    for name in datasets:
        _announce(name)


def _announce(dataset: str) -> None:
    """Fetch ``dataset`` and say where it is, or say that it is missing and how to get it."""
    from .data import DatasetUnavailable, dataset_dir

    try:
        print(f"Data '{dataset}': {dataset_dir(dataset)}")
    except DatasetUnavailable as exc:
        print(f"Data '{dataset}' is not available here ({exc}). The notebook says below what it "
              f"uses instead; `course-utils data fetch {dataset}` gets the real data.")
