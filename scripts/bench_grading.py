"""Measure grading throughput: notebook-submissions per minute, serial and with --jobs N.

Builds the notebooks, makes a class of submissions that mixes correct, partial and broken work
(solved; untouched; each typical mistake of tests/fixtures/mistakes/NN_name.yaml; a missing
import), then times ``course-utils grade`` on the same folder once per --jobs value, each in a
fresh process as an instructor would run it. Prints a markdown table; --json keeps the numbers.

    .venv/bin/python scripts/bench_grading.py --n 40 --jobs 1 2
    .venv/bin/python scripts/bench_grading.py --fixture      # the tests' 99_demo notebook
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import nbformat

from course_utils.cli import main as course_utils
from course_utils.cpus import usable_cpus
from course_utils.grading.mistakes import answer_cells, load_mistakes, submission, with_mistake

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "notebooks" / "source"
FIXTURE = ROOT / "tests" / "fixtures" / "nb"
DEFAULT_NOTEBOOKS = ["01_kmeans", "02_svm", "03_cross_validation"]


def variants(source_dir: Path, name: str, mistakes: Path, out: Path) -> list:
    """The submissions one notebook yields: solved, untouched, each mistake, a missing import."""
    if course_utils(["build", name, "--source-dir", str(source_dir), "--out-dir", str(out)]):
        raise SystemExit(f"could not build {name}")
    student = nbformat.read(out / f"{name}.ipynb", as_version=4)
    solution = nbformat.read(out / "solutions" / f"{name}.ipynb", as_version=4)
    first = next(iter(answer_cells(solution)))
    broken = submission(student, solution, {
        first: "import a_package_nobody_installed\n" + answer_cells(solution)[first].source})
    found = [submission(student, solution), student, broken]
    if mistakes.exists():
        found += [with_mistake(student, solution, m) for m in load_mistakes(mistakes)]
    return found


def make_class(notebooks: list[tuple[Path, str, Path]], n: int, tmp: Path) -> Path:
    """``n`` submissions, round-robin over notebooks and their variants, one student each."""
    pools = {name: itertools.cycle(variants(src, name, mis, tmp / "built"))
             for src, name, mis in notebooks}
    subs = tmp / "submissions"
    for i, name in zip(range(n), itertools.cycle(pools)):
        folder = subs / f"s{i:03d}"
        folder.mkdir(parents=True)
        nbformat.write(next(pools[name]), folder / f"{name}.ipynb")
    return subs


def grade(subs: Path, solutions: Path, jobs: int, out: Path, env: dict,
          extra: list[str]) -> dict:
    """Time one ``course-utils grade`` run (with ``extra`` options) and summarise its gradebook."""
    csv_path = out / f"gradebook-jobs{jobs}.csv"
    command = [sys.executable, "-m", "course_utils.cli", "grade", str(subs), "--out",
               str(csv_path), "--solutions", str(solutions), "--jobs", str(jobs), *extra]
    start = time.perf_counter()
    proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if not csv_path.exists():
        raise SystemExit(f"grading failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    with open(csv_path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return {"jobs": jobs, "seconds": round(seconds, 1), "submissions": len(rows),
            "per_minute": round(60 * len(rows) / seconds, 2), "exit": proc.returncode,
            "status": dict(Counter(r["status"] for r in rows))}


def main() -> int:
    """Parse arguments, build the class, time each --jobs value, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="submissions in the class (default 40)")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--notebooks", nargs="+", default=DEFAULT_NOTEBOOKS)
    parser.add_argument("--fixture", action="store_true",
                        help="grade the tests' 99_demo fixture notebook instead")
    parser.add_argument("--fresh-kernels", action="store_true",
                        help="grade with --fresh-kernels (no forked kernels), for comparison")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()

    env = dict(os.environ)
    if args.fixture:
        notebooks = [(FIXTURE, "99_demo", FIXTURE / "99_demo.mistakes.yaml")]
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(FIXTURE), env.get("PYTHONPATH")]))
    else:
        notebooks = [(SOURCES, nb, ROOT / "tests" / "fixtures" / "mistakes" / f"{nb}.yaml")
                     for nb in args.notebooks if (SOURCES / f"{nb}.py").exists()]
        if not notebooks:
            raise SystemExit(f"none of {args.notebooks} has a source in {SOURCES}; try --fixture")
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        subs = make_class(notebooks, args.n, Path(tmp))
        extra = ["--fresh-kernels"] if args.fresh_kernels else []
        results = [grade(subs, Path(tmp) / "built" / "solutions", j, Path(tmp), env, extra)
                   for j in args.jobs]
    names = ", ".join(name for _, name, _ in notebooks)
    kernels = "fresh kernels" if args.fresh_kernels else "forked kernels"
    print(f"\nGrading {args.n} submissions of {names} on {usable_cpus()} usable CPUs, "
          f"{kernels}\n")
    print("| --jobs | seconds | submissions/min | speed-up | statuses |")
    print("|---|---|---|---|---|")
    for r in results:
        speedup = r["per_minute"] / results[0]["per_minute"]
        print(f"| {r['jobs']} | {r['seconds']} | {r['per_minute']} | {speedup:.2f}x | "
              f"{', '.join(f'{k}: {v}' for k, v in sorted(r['status'].items()))} |")
    if args.json:
        args.json.write_text(json.dumps({"notebooks": names, "n": args.n, "runs": results},
                                        indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
