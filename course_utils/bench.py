"""``course-utils bench``: execute notebooks headless and record time, peak memory and metrics.

Each notebook runs in its own worker process (so the peak memory of its kernel can be read
from the operating system's accounting of finished children), in the requested run mode, with
``COURSE_REPORT_FILE`` set so that ``course_utils.report`` calls land in the result.
This is how every speed and score quoted for the course is measured, so each run starts from a
clean state: its own empty checkpoint folder (``COURSE_CHECKPOINT_DIR``), so a training
notebook trains instead of resuming from an earlier run's checkpoint. A notebook that resumed
anyway reports ``resumed`` (true), and the table says so. Notebooks run in one session share
what the earlier ones trained, read-only, as reference runs (``COURSE_REFERENCE_RUNS``): 06
scores 04's finished U-Net as its ceiling.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .mode import MODES
from .reporting import REPORT_ENV, read_report_file
from .training import CHECKPOINT_ENV, REFERENCE_RUNS_ENV

DEFAULT_CELL_TIMEOUT_S = 1800
REPO_ROOT = Path(__file__).resolve().parent.parent


def solutions_dir(root: Path = REPO_ROOT) -> Path:
    """Folder of the complete (solution) notebooks, the versions that run top to bottom."""
    return root / "notebooks" / "solutions"


def resolve(name: str, root: Path = REPO_ROOT) -> Path:
    """A notebook path from a path or a stem such as ``01_kmeans``."""
    path = Path(name)
    if path.suffix == ".ipynb" and path.exists():
        return path
    candidate = solutions_dir(root) / f"{path.stem}.ipynb"
    if candidate.exists():
        return candidate
    known = ", ".join(p.stem for p in sorted(solutions_dir(root).glob("*.ipynb")))
    known = known or "none (run course-utils build)"
    raise FileNotFoundError(f"no notebook {name!r}; known: {known}")


def execute(path: Path, mode: str, cell_timeout: int = DEFAULT_CELL_TIMEOUT_S,
            finished_runs: Path | None = None) -> dict:
    """Run one notebook in a fresh worker process; return seconds, peak_mb, metrics, error.

    ``finished_runs``: a folder shared by the notebooks of one session. The notebook reads it
    as its reference runs, and its own checkpoints are copied there after it ran.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    with tempfile.TemporaryDirectory(prefix="course-bench-") as tmp:
        report_file, result_file = Path(tmp) / "report.jsonl", Path(tmp) / "result.json"
        env = {k: v for k, v in os.environ.items() if k != "NBGRADER_EXECUTION"}
        checkpoints = Path(tmp) / "checkpoints"  # empty: the run trains from scratch
        env.update(COURSE_MODE=mode, **{REPORT_ENV: str(report_file),
                                        CHECKPOINT_ENV: str(checkpoints)})
        if finished_runs is not None:
            env[REFERENCE_RUNS_ENV] = str(finished_runs)
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "course_utils.bench", "--worker", str(path),
             str(result_file), str(cell_timeout)],
            env=env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - start
        outcome = json.loads(result_file.read_text()) if result_file.exists() else {
            "error": f"worker crashed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}",
            "peak_mb": None, "seconds": seconds}
        outcome["metrics"] = read_report_file(str(report_file))
        if finished_runs is not None:
            finished_runs.mkdir(parents=True, exist_ok=True)
            for run in checkpoints.glob("*.pt"):
                shutil.copy2(run, finished_runs / run.name)
    outcome.update(mode=mode, device=outcome["metrics"].pop("device", None) or _device_name(),
                   status="ok" if outcome["error"] is None else "failed",
                   resumed=bool(outcome["metrics"].get("resumed", False)))
    return outcome


def _device_name() -> str:
    """The device the kernel computed on, as the course names it."""
    from .device import detect

    info = detect()
    return info.kind if info.kind == "cpu" else f"{info.kind}: {info.name}"


def _worker(path: str, result_file: str, cell_timeout: int) -> None:
    """Inside the worker: execute the notebook, then read the kernel's peak memory."""
    import resource

    import nbformat
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    from .notebook_client import notebook_client

    nb = nbformat.read(path, as_version=4)
    client = notebook_client(nb, Path(path).parent, cell_timeout)
    error, start = None, time.perf_counter()
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
        error = _short_error(exc)
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    Path(result_file).write_text(json.dumps(
        {"seconds": seconds, "peak_mb": peak_kb / 1024 or None, "error": error}))


def _short_error(exc: Exception) -> str:
    """The last meaningful lines of a cell error (the exception, not the whole traceback)."""
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return " | ".join(lines[-3:])[:1500] if lines else type(exc).__name__


def markdown_table(results: dict[str, dict]) -> str:
    """The benchmark as a markdown table, one row per notebook."""
    rows = ["| notebook | status | mode | device | seconds | peak MB | metrics |",
            "|---|---|---|---|---:|---:|---|"]
    for stem, r in results.items():
        metrics = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                            for k, v in r["metrics"].items())
        peak = f"{r['peak_mb']:.0f}" if r.get("peak_mb") else "?"
        status = r["status"] + (" (resumed: not a fresh run)" if r.get("resumed") else "")
        rows.append(f"| {stem} | {status} | {r['mode']} | {r['device']} | "
                    f"{r['seconds']:.1f} | {peak} | {metrics or '—'} |")
    return "\n".join(rows)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("notebooks", nargs="*", help="stems or paths (default: all solutions)")
    parser.add_argument("--json", dest="json_path", required=True, help="write results here")
    parser.add_argument("--mode", default="quick", choices=MODES)
    parser.add_argument("--cell-timeout", type=int, default=DEFAULT_CELL_TIMEOUT_S)


def run(args: argparse.Namespace) -> int:
    try:
        paths = ([resolve(n) for n in args.notebooks] if args.notebooks
                 else sorted(solutions_dir().glob("*.ipynb")))
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not paths:
        print("error: no notebooks to run (run `course-utils build` first)", file=sys.stderr)
        return 2
    results = {}
    with tempfile.TemporaryDirectory(prefix="course-bench-runs-") as finished:
        for path in paths:
            print(f"running {path.stem} in {args.mode} mode …", flush=True)
            results[path.stem] = execute(path, args.mode, args.cell_timeout, Path(finished))
            if results[path.stem]["error"]:
                print(f"  FAILED: {results[path.stem]['error']}", file=sys.stderr)
    out = Path(args.json_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"notebooks": results}, indent=2))
    print(markdown_table(results))
    return 1 if any(r["status"] == "failed" for r in results.values()) else 0


if __name__ == "__main__" and len(sys.argv) == 5 and sys.argv[1] == "--worker":
    _worker(sys.argv[2], sys.argv[3], int(sys.argv[4]))
