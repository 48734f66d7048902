"""``course-utils build [--check]``: regenerate the student and solution notebooks.

Every ``notebooks/source/NN_name.py`` gives ``notebooks/NN_name.ipynb`` (student) and
``notebooks/solutions/NN_name.ipynb`` (solution). Output is deterministic, so ``--check`` can
compare byte for byte and fail, listing what is stale, when someone forgot to rebuild.
The checks' expected outputs (``course_utils/checks/expected/NN_name.json``, see
:mod:`course_utils.checks.expected`) are computed from the same sources and checked likewise,
floats within a tolerance.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

SOURCE_DIR, OUT_DIR = Path("notebooks/source"), Path("notebooks")
GENERATED_GLOB = "[0-9][0-9]_*.ipynb"


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the build command's arguments."""
    parser.add_argument("names", nargs="*", metavar="NN_name",
                        help="notebooks to build (default: every source)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 listing generated files that are stale")
    parser.add_argument("--source-dir", type=Path, default=SOURCE_DIR,
                        help=f"folder of jupytext sources (default {SOURCE_DIR})")
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR,
                        help=f"folder for student notebooks; solutions go in its solutions/ "
                             f"(default {OUT_DIR})")


def sources(source_dir: Path, names: list[str]) -> list[Path]:
    """The source files to build: all ``NN_*.py`` in ``source_dir``, or the ones named."""
    found = sorted(source_dir.glob("[0-9][0-9]_*.py"))
    if not names:
        return found
    by_stem = {p.stem: p for p in found}
    unknown = [n for n in names if n not in by_stem]
    if unknown:
        raise FileNotFoundError(f"no source for {', '.join(unknown)} in {source_dir} "
                                f"(have: {', '.join(by_stem) or 'none'})")
    return [by_stem[n] for n in names]


def generate(paths: list[Path], out_dir: Path) -> dict[Path, str]:
    """Every generated file's path and its expected text."""
    from .notebook import dumps, solution_notebook, student_notebook

    outputs: dict[Path, str] = {}
    for path in paths:
        solution = solution_notebook(path)
        outputs[out_dir / "solutions" / f"{path.stem}.ipynb"] = dumps(solution)
        outputs[out_dir / f"{path.stem}.ipynb"] = dumps(student_notebook(solution))
    return outputs


def orphans(out_dir: Path, stems: set[str]) -> list[Path]:
    """Generated notebooks whose source no longer exists."""
    found = list(out_dir.glob(GENERATED_GLOB)) + list((out_dir / "solutions").glob(GENERATED_GLOB))
    return sorted(p for p in found if p.stem not in stems)


def stale(outputs: dict[Path, str]) -> list[tuple[Path, str]]:
    """Generated files that are missing or differ from what the sources give, with why."""
    found = []
    for path, text in outputs.items():
        if not path.exists():
            found.append((path, "missing"))
        elif path.read_text(encoding="utf-8") != text:
            found.append((path, "out of date"))
    return found


def _check(outputs: dict[Path, str], extra: list[Path]) -> int:
    """Report stale files; 1 when there are any."""
    problems = stale(outputs) + [(p, "has no source any more") for p in extra]
    for path, why in problems:
        print(f"stale: {path} ({why})")
    if problems:
        print(f"{len(problems)} generated file(s) stale: run `course-utils build` and commit "
              "the result.", file=sys.stderr)
        return 1
    print(f"{len(outputs)} generated notebooks are up to date.")
    return 0


def _write(outputs: dict[Path, str], extra: list[Path]) -> int:
    """Write what changed and remove orphans; 1 when the folder cannot be written."""
    changed = stale(outputs)
    try:
        for path, _ in changed:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(outputs[path], encoding="utf-8")
            print(f"wrote {path}")
        for path in extra:
            path.unlink()
            print(f"removed {path} (its source is gone)")
    except OSError as exc:
        print(f"cannot write the notebooks: {exc}. Run the build in a writable checkout.",
              file=sys.stderr)
        return 1
    print(f"{len(changed)} written, {len(outputs) - len(changed)} already up to date.")
    return 0


def run(args: argparse.Namespace) -> int:
    """Build (or with --check, compare) the generated notebooks."""
    from .notebook import SourceError

    if not args.source_dir.is_dir():
        print(f"no source folder {args.source_dir}: run from the repository root or pass "
              "--source-dir.", file=sys.stderr)
        return 2
    try:
        paths = sources(args.source_dir, args.names)
        outputs = generate(paths, args.out_dir)
    except (SourceError, FileNotFoundError) as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    extra = [] if args.names else orphans(args.out_dir, {p.stem for p in paths})
    status = _check(outputs, extra) if args.check else _write(outputs, extra)
    return max(status, _expected_outputs(paths, check=args.check))


def _expected_outputs(paths: list[Path], check: bool) -> int:
    """Write (or with ``check``, compare) the checks' expected outputs; 1 when any is stale."""
    from ..checks import expected

    problems = 0
    for path in paths:
        if check:
            why = expected.stale(path)
            if why:
                problems += 1
                print(f"stale: {expected.path_of(path.stem)} ({why})")
        elif expected.write(path):
            print(f"wrote {expected.path_of(path.stem)}")
    if problems:
        print(f"{problems} expected-output file(s) stale: run `course-utils build` and commit "
              "the result.", file=sys.stderr)
    return 1 if problems else 0
