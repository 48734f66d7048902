"""Run a notebook headless and collect what its checks said (for ``course-utils validate``)."""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from nbformat import NotebookNode

from ..checks.core import RESULTS_ENV
from ..environ import environment
from ..notebook_client import notebook_client

CHECK_CALL = re.compile(r"""(?<![\w.])check\(\s*(['"])([\w-]+)\1""")


@dataclass
class CheckResult:
    """One check as the notebook ran it: passed, failed (with its hint) or never ran."""

    name: str
    passed: bool | None  # None: the check never ran
    message: str = ""


@dataclass
class RunResult:
    """What executing a notebook gave: its checks, and errors raised outside them."""

    checks: list[CheckResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "cell N: Error: message"

    @property
    def ok(self) -> bool:
        """True when every check ran and passed."""
        return bool(self.checks) and all(c.passed for c in self.checks)


def called_checks(nb: NotebookNode) -> list[str]:
    """Names of the checks the notebook's code cells call, in order (each once)."""
    names: list[str] = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            names += [m.group(2) for m in CHECK_CALL.finditer(cell.source)
                      if m.group(2) not in names]
    return names


def cell_errors(nb: NotebookNode) -> list[str]:
    """One line per executed cell that raised, other than a failed check."""
    found = []
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.output_type == "error" and out.ename != "CheckFailed":
                found.append(f"cell {index + 1}: {out.ename}: {out.evalue}".rstrip(": "))
    return found


def read_results(path: Path) -> dict[str, tuple[bool, str]]:
    """The last recorded result of each check in a COURSE_CHECK_RESULTS file."""
    results: dict[str, tuple[bool, str]] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                results[item["check"]] = (bool(item["passed"]), item.get("message", ""))
    return results


def run_notebook(nb: NotebookNode, workdir: Path, timeout: int) -> RunResult:
    """Execute ``nb`` in ``workdir`` (errors allowed) and report its checks and errors."""
    with tempfile.TemporaryDirectory(prefix="course-validate-") as tmp:
        results_file = Path(tmp) / "checks.jsonl"
        with environment({RESULTS_ENV: str(results_file)}):
            notebook_client(nb, workdir, timeout, allow_errors=True).execute()
        recorded = read_results(results_file)
    checks = [CheckResult(name, *recorded[name]) if name in recorded else CheckResult(name, None)
              for name in called_checks(nb)]
    return RunResult(checks, cell_errors(nb))
