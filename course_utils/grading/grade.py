"""``course-utils grade SUBMISSIONS --out gradebook.csv [--jobs N]``: autograde a class.

Runs nbgrader (generate_assignment, autograde, generate_feedback) in grade mode, several
submissions at once: each worker process owns a private nbgrader course folder and gradebook
(copies of one that the first worker prepares), and the rows are merged into one CSV. The
workers fork from a server that has loaded nbgrader, and the main process never loads it. Each
submission still gets its own kernel, forked from a process that has already imported the
notebooks' modules (see :mod:`.forked_kernels`). Writes
one HTML feedback file per student and notebook (hidden tests removed). A submission that
crashes, loops, imports something missing or edits a locked cell is scored and reported; the
exit status is 1 only when one could not be graded.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ..data.locations import OFFLINE_ENV
from .results import NOT_GRADED, GradeRow
from .submissions import Submission

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

    from .forked_kernels import KernelSource

THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
SERIOUS = {"not_graded", "locked_cell_edited", "timeout", "crashed", "errors"}
# What each Grader is made with: workdir, solutions, feedback folder, timeout, kernel source.
GraderArgs = tuple[Path, Path, Path, int, "KernelSource | None"]
_GRADING: GraderArgs | None = None  # in a worker process: the batch's settings
_GRADER = None  # and the worker's Grader, once it has graded


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the grade command's arguments."""
    parser.add_argument("submissions", type=Path,
                        help="folder of <student>/<NN_name>.ipynb, or nbgrader's submitted/ layout")
    parser.add_argument("--out", type=Path, required=True, help="gradebook CSV to write")
    parser.add_argument("--jobs", type=int, default=1,
                        help="submissions graded at once, one process each (default 1)")
    parser.add_argument("--timeout", type=int, default=600,
                        help="seconds one cell may run before it is interrupted (default 600)")
    parser.add_argument("--solutions", type=Path, default=Path("notebooks/solutions"),
                        help="folder of solution notebooks (default notebooks/solutions)")
    parser.add_argument("--feedback", type=Path,
                        help="where <student>/<NN_name>.html go (default: feedback/ beside --out)")
    parser.add_argument("--workdir", type=Path,
                        help="keep nbgrader's course folders here (default: a temporary folder)")
    parser.add_argument("--fresh-kernels", action="store_true",
                        help="start every kernel as a new Python process instead of forking it "
                             "from one that has imported the notebooks' modules (slower)")
    parser.add_argument("--figures", action="store_true",
                        help="draw the notebooks' figures into the feedback (about a quarter "
                             "more CPU per submission; default: figures are not drawn)")


def kernel_settings(jobs: int, figures: bool, workdir: Path) -> dict[str, str]:
    """The environment variables that the grading kernels (and their template) get.

    With several workers each kernel gets its share of the cores (BLAS and OpenMP pools would
    otherwise each take all of them). Unless ``figures``, matplotlib draws nothing (backend Agg,
    no PNG rendering): figures are never graded, and drawing them costs CPU per submission.
    Kernels never download (``COURSE_OFFLINE``): the batch's data was fetched before they start.
    """
    changes: dict[str, str] = {OFFLINE_ENV: "1"}
    if jobs > 1:
        threads = str(max(1, (os.cpu_count() or 1) // jobs))
        changes |= {var: threads for var in THREAD_VARS if var not in os.environ}
    if not figures:
        rc_dir = workdir / "matplotlib"
        rc_dir.mkdir(parents=True, exist_ok=True)
        (rc_dir / "matplotlibrc").write_text("backend: agg\nfigure.max_open_warning: 0\n")
        changes |= {"MPLBACKEND": "agg", "MATPLOTLIBRC": str(rc_dir)}
    return changes


@contextmanager
def environment(changes: dict[str, str]) -> Iterator[None]:
    """``os.environ`` with ``changes``, restored afterwards."""
    saved = {var: os.environ.get(var) for var in changes}
    os.environ.update(changes)
    try:
        yield
    finally:
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value


def _init_worker(grading: GraderArgs, env: dict[str, str]) -> None:
    """Take the batch's settings and environment (a forkserver started earlier has an older one).

    multiprocessing itself passes on the working folder and ``sys.path``. A worker that has its
    own (sandboxed) kernel template starts it now: it imports while the course folder is copied.
    """
    global _GRADING
    os.environ.clear()
    os.environ.update(env)
    _GRADING = grading
    from .forked_kernels import TemplateRecipe

    if grading and isinstance(grading[-1], TemplateRecipe):
        try:
            grading[-1].connect()
        except (OSError, RuntimeError):
            pass  # tried again, and reported, with the worker's first submission


def _prepare_in_worker(notebooks: list[str]) -> Path:
    """Make the course folder (gradebook and releases) that every worker then copies."""
    from .worker import Grader

    workdir, *rest = _GRADING
    return Grader(workdir / "prepared", *rest).prepare(notebooks)


def _grade_in_worker(sub: Submission, prepared: Path) -> GradeRow:
    """Grade one submission with this process's Grader, made from ``prepared`` on first use."""
    global _GRADER
    if _GRADER is None:
        from .worker import Grader

        workdir, *rest = _GRADING
        _GRADER = Grader(workdir / f"worker-{os.getpid()}", *rest, prepared=prepared)
    return _GRADER.grade(sub.student, sub.notebook, sub.path)


def _failed(sub: Submission, exc: BaseException) -> GradeRow:
    """The row of a submission whose grading broke down (a grader bug or a killed worker)."""
    row = GradeRow(sub.student, sub.notebook)
    row.flag(NOT_GRADED, f"grading broke down: {type(exc).__name__}: {exc}")
    return row


def grade_all(subs: list[Submission], args: argparse.Namespace, workdir: Path, feedback: Path,
              kernels: KernelSource | None) -> Iterator[GradeRow]:
    """Grade every submission (in ``args.jobs`` processes) and yield rows as they finish.

    With ``kernels``, every process forks its kernels from a template (see
    :func:`.forked_kernels.kernel_source`).
    """
    grading = (workdir, args.solutions, feedback, args.timeout, kernels)
    if args.jobs == 1:
        return _grade_serially(subs, grading)
    return _grade_in_parallel(subs, grading, args.jobs)


def _grade_serially(subs: list[Submission], grading: GraderArgs) -> Iterator[GradeRow]:
    """Grade in this process, one submission after another (``grading``: the Grader's args)."""
    from .worker import Grader

    workdir, *rest = grading
    grader = Grader(workdir / "worker", *rest)
    for sub in subs:
        try:
            yield grader.grade(sub.student, sub.notebook, sub.path)
        except Exception as exc:  # a grader bug must not stop the batch
            yield _failed(sub, exc)


def _worker_context() -> BaseContext:
    """Workers forked from a server that has loaded nbgrader (2 s each otherwise), or spawned."""
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([f"{__package__}.worker"])
    return context


def _grade_in_parallel(subs: list[Submission], grading: GraderArgs,
                       jobs: int) -> Iterator[GradeRow]:
    """Grade in ``jobs`` worker processes, each with its own Grader and course folder.

    One worker releases the notebooks first; the others copy its course folder.
    """
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(jobs, mp_context=_worker_context(), initializer=_init_worker,
                             initargs=(grading, dict(os.environ))) as pool:
        prepared = pool.submit(_prepare_in_worker, sorted({sub.notebook for sub in subs}))
        try:
            course = prepared.result()
        except Exception as exc:  # a worker that died: every submission reports it
            yield from (_failed(sub, exc) for sub in subs)
            return
        futures = {pool.submit(_grade_in_worker, sub, course): sub for sub in subs}
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as exc:  # a grader bug, or a worker killed (BrokenProcessPool)
                yield _failed(futures[future], exc)


def _problem_line(row: GradeRow) -> str:
    """The terminal line for a submission that needs the instructor's attention."""
    return f"{row.student}/{row.notebook}: {row.status} — " + " | ".join(row.messages)


def _run_batch(subs: list[Submission], args: argparse.Namespace, workdir: Path,
               feedback: Path) -> list[GradeRow]:
    """Grade with a progress bar, printing each problem as it is found.

    The kernel template starts first: it imports for several seconds while the data is fetched
    and the workers start. Unless ``--fresh-kernels``, it serves every process of the batch, or,
    sandboxed with several workers, each worker starts its own as it starts. Where kernels can't
    be sandboxed, that is said once, here.
    """
    from tqdm import tqdm

    from . import sandbox
    from .datasets import declared_datasets, prefetch
    from .forked_kernels import kernel_source

    notebooks = sorted({sub.notebook for sub in subs})
    settings = kernel_settings(args.jobs, args.figures, workdir)
    with environment(settings):  # MATPLOTLIBRC is among what kernels may read
        box = sandbox.for_batch([workdir, args.solutions, args.submissions, feedback, args.out],
                                fresh_kernels=args.fresh_kernels)
    template, kernels = (None, None) if args.fresh_kernels else kernel_source(
        args.solutions, notebooks, settings, box, args.jobs)
    rows = []
    try:
        prefetch(declared_datasets(args.solutions / f"{nb}.ipynb" for nb in notebooks))
        bar = tqdm(total=len(subs), unit="notebook", desc="grading", file=sys.stderr)
        with environment(settings), bar:
            for row in grade_all(subs, args, workdir, feedback, kernels):
                rows.append(row)
                if row.flags & SERIOUS:
                    bar.write(_problem_line(row), file=sys.stderr)
                bar.update()
    finally:
        if template:
            template.close()
    return rows


class UsageProblem(Exception):
    """The command's inputs can't be used; the message says what to do."""


def _inputs(args: argparse.Namespace) -> tuple[list[Submission], Path]:
    """The submissions and the feedback folder, after checking every input can be used."""
    from .submissions import find_submissions

    if args.jobs < 1 or args.timeout < 1:
        raise UsageProblem("--jobs and --timeout must be at least 1.")
    try:
        subs = find_submissions(args.submissions)
    except (FileNotFoundError, ValueError) as exc:
        raise UsageProblem(f"cannot grade: {exc}") from None
    if not subs:
        raise UsageProblem(f"no submissions in {args.submissions}: expected <student>/"
                           "<NN_name>.ipynb or submitted/<student>/<assignment>/<NN_name>.ipynb")
    args.solutions = args.solutions.resolve()
    if not args.solutions.is_dir():
        raise UsageProblem(f"no solutions folder {args.solutions}: run `course-utils build` in "
                           "the course repository, or pass --solutions DIR.")
    feedback = (args.feedback or args.out.parent / "feedback").resolve()
    try:
        for folder in (feedback, args.out.resolve().parent):
            folder.mkdir(parents=True, exist_ok=True)
            (folder / ".course-utils-write-test").touch()
            (folder / ".course-utils-write-test").unlink()
    except OSError as exc:
        raise UsageProblem(f"cannot write the gradebook or feedback: {exc}. Choose writable "
                           "folders with --out and --feedback.") from None
    return subs, feedback


def run(args: argparse.Namespace) -> int:
    """Grade the submissions, write the CSV and feedback; 1 if any could not be graded."""
    from .gradebook import summary, write_csv

    try:
        subs, feedback = _inputs(args)
    except UsageProblem as exc:
        print(exc, file=sys.stderr)
        return 2
    start = time.perf_counter()
    if args.workdir:
        rows = _run_batch(subs, args, args.workdir.resolve(), feedback)
    else:
        with tempfile.TemporaryDirectory(prefix="course-grade-") as tmp:
            rows = _run_batch(subs, args, Path(tmp), feedback)
    seconds = time.perf_counter() - start
    write_csv(rows, args.out)
    graded = sum(row.graded for row in rows)
    print(f"Graded {graded} of {len(rows)} submissions in {seconds:.0f} s "
          f"({60 * len(rows) / seconds:.1f} per minute, {args.jobs} process(es)).")
    print(f"  {summary(rows)}")
    print(f"Gradebook: {args.out}   Feedback: {feedback}/<student>/<notebook>.html")
    return 0 if graded == len(rows) else 1
