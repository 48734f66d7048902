"""``course-utils validate NOTEBOOK``: run a notebook and its visible checks; fail if any fails.

Unlike ``nbgrader validate`` (which exits 0 when tests fail), the exit status is 1 when a check
fails or never ran, so scripts and CI can rely on it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..mode import MODES

if TYPE_CHECKING:  # execute loads nbformat: only when a notebook runs
    from .execute import RunResult


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the validate command's arguments."""
    parser.add_argument("notebook", type=Path,
                        help="the .ipynb to run (e.g. notebooks/01_kmeans.ipynb)")
    parser.add_argument("--timeout", type=int, default=600,
                        help="seconds a single cell may run before it is interrupted (default 600)")
    parser.add_argument("--mode", choices=MODES,
                        help="run mode for this run (default: COURSE_MODE, else by hardware)")
    parser.add_argument("--output", type=Path,
                        help="also save the executed notebook here, outputs included")


def report(result: RunResult) -> None:
    """Print one ✓/✗ line per check, the errors raised outside checks, and a total."""
    for check in result.checks:
        if check.passed:
            print(f"✓ {check.name}")
        elif check.passed is None:
            print(f"✗ {check.name}: did not run (an earlier error stopped its cell?)")
        else:
            print(f"✗ {check.name}: {check.message}")
    for error in result.errors:
        print(f"  error in {error}")
    passed = sum(bool(c.passed) for c in result.checks)
    print(f"{passed} of {len(result.checks)} checks pass.")


def run(args: argparse.Namespace) -> int:
    """Execute the notebook, print its checks; 0 only when every check passed."""
    import nbformat
    from nbclient.exceptions import DeadKernelError

    from .execute import run_notebook

    path: Path = args.notebook
    try:
        nb = nbformat.read(path, as_version=4)
    except (OSError, ValueError) as exc:  # missing file or not a notebook (bad JSON)
        print(f"cannot read {path}: {exc}", file=sys.stderr)
        return 2
    if args.mode:
        os.environ["COURSE_MODE"] = args.mode
    print(f"Running {path} (each cell may take up to {args.timeout} s) ...")
    try:
        result = run_notebook(nb, path.resolve().parent, args.timeout)
    except DeadKernelError:
        print("The Python kernel died while running the notebook (out of memory, or code that "
              "exits the interpreter). Restart, find the cell that does it, and fix it.",
              file=sys.stderr)
        return 1
    if args.output:
        nbformat.write(nb, args.output)
    if not result.checks:
        print(f"{path} calls no checks: nothing to validate.", file=sys.stderr)
        return 1
    report(result)
    return 0 if result.ok else 1
