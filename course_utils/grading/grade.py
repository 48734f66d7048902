"""``course-utils grade SUBMISSIONS --out gradebook.csv [--jobs N]``: autograde a class.

Runs nbgrader (generate_assignment, autograde, generate_feedback) in grade mode in ``--jobs``
worker processes (one with ``--jobs 1``): each owns a private nbgrader course folder and
gradebook (copies of one that the first worker prepares), and the rows are merged into one CSV.
The workers fork from a server that has loaded nbgrader, and the main process never loads it.
Each submission still gets its own kernel, forked from a process that has already imported the
notebooks' modules (see :mod:`.forked_kernels`). Writes one HTML feedback file per student and
notebook (hidden tests removed). A submission that crashes, loops, imports something missing or
edits a locked cell is scored and reported; the exit status is 1 only when one could not be
graded. A worker that dies is replaced and its submissions graded again (see :class:`_Batch`);
Ctrl-C writes the gradebook of what was graded and exits 130 (see :class:`CtrlC`).
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager, closing, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..checks.core import set_grading_secret
from ..cpus import threads_per_job
from ..data.locations import OFFLINE_ENV
from ..environ import environment
from .gradebook import replace_atomically
from .results import SERIOUS, Flag, GradeRow
from .submissions import Submission

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

    from .forked_kernels import KernelSource
    from .worker import Grader

SECRET_ENV = "COURSE_GRADING_SECRET"  # fixes the hidden checks' inputs (default: new per batch)
GRACE_SECONDS = 5  # after the first Ctrl-C: how long running submissions may take to finish
STOP_SECONDS = 2  # how long a worker told to stop may take before it is killed
POLL_SECONDS = 0.2  # how often the batch looks at Ctrl-C and its workers
_GRADING: GraderSettings | None = None  # in a worker process: the batch's settings
_GRADER = None  # and the worker's Grader, once it has graded


@dataclass(frozen=True)
class GraderSettings:
    """What every worker's Grader is made with: one batch's settings, sent to each worker."""

    workdir: Path  # the batch's scratch folder; each worker makes its course folder in it
    solutions: Path
    feedback: Path  # where the feedback pages go, one folder per student
    timeout: int  # seconds a cell may run
    kernels: KernelSource | None  # the kernel template(s) to fork from; None: plain kernels

    def grader(self, name: str, prepared: Path | None = None) -> Grader:
        """A Grader with its course folder ``workdir/name`` (copying ``prepared`` when given)."""
        from .worker import Grader

        return Grader(self.workdir / name, self.solutions, self.feedback, self.timeout,
                      self.kernels, prepared=prepared)


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

    Each kernel gets its share of the usable CPUs (``--jobs`` kernels run at once; BLAS and
    OpenMP pools would otherwise each take all of them), never more than the thread variables
    already say (see :func:`course_utils.cpus.threads_per_job`). Unless ``figures``, matplotlib
    draws nothing (backend Agg, no PNG rendering): figures are never graded, and drawing them
    costs CPU per submission. Kernels never download (``COURSE_OFFLINE``): the batch's data was
    fetched before they start.
    """
    changes: dict[str, str] = {OFFLINE_ENV: "1", **threads_per_job(jobs)}
    if not figures:
        rc_dir = workdir / "matplotlib"
        rc_dir.mkdir(parents=True, exist_ok=True)
        (rc_dir / "matplotlibrc").write_text("backend: agg\nfigure.max_open_warning: 0\n")
        changes |= {"MPLBACKEND": "agg", "MATPLOTLIBRC": str(rc_dir)}
    return changes


def _init_worker(grading: GraderSettings | None, env: dict[str, str], secret: str = "") -> None:
    """Take the batch's settings and environment (a forkserver started earlier has an older one).

    multiprocessing itself passes on the working folder and ``sys.path``. A worker that has its
    own (sandboxed) kernel template starts it now. Ctrl-C is for the
    main process to handle (a terminal sends it to every process of the batch); SIGTERM (the
    batch stops, or another worker died) stops this worker's kernels before it exits.
    """
    global _GRADING
    os.environ.clear()
    os.environ.update(env)
    _GRADING = grading
    set_grading_secret(secret)  # the hidden checks' inputs (never in a kernel's environment)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_worker)
    from .forked_kernels import TemplateRecipe

    if grading and isinstance(grading.kernels, TemplateRecipe):  # its own sandboxed template:
        try:  # start it now, it imports while the course folder is copied
            grading.kernels.connect()
        except (OSError, RuntimeError):
            pass  # tried again, and reported, with the worker's first submission


def _stop_worker(signum: int, _frame: object) -> None:
    """In a worker told to stop: kill the kernels it started (their process groups), then exit.

    A forked kernel's launcher is this worker's child; the template kills the kernel when its
    launcher goes. Feedback pages are written in one call each, so none is left half-written.
    """
    import psutil

    for child in psutil.Process().children():
        with suppress(OSError, psutil.Error):
            leader = os.getpgid(child.pid) == child.pid  # kernels run in their own sessions
            (os.killpg if leader else os.kill)(child.pid, signal.SIGKILL)
    os._exit(128 + signum)


def _prepare_in_worker(notebooks: list[str]) -> Path:
    """Make the course folder (gradebook and releases) that every worker then copies."""
    return _GRADING.grader("prepared").prepare(notebooks)


def _grade_in_worker(sub: Submission, prepared: Path) -> GradeRow:
    """Grade one submission with this process's Grader, made from ``prepared`` on first use."""
    global _GRADER
    if _GRADER is None:
        _GRADER = _GRADING.grader(f"worker-{os.getpid()}", prepared)
    return _GRADER.grade(sub.student, sub.notebook, sub.path)


def _failed(sub: Submission, exc: BaseException) -> GradeRow:
    """The row of a submission whose grading broke down (a grader bug)."""
    row = GradeRow(sub.student, sub.notebook)
    row.flag(Flag.NOT_GRADED, f"grading broke down: {type(exc).__name__}: {exc}")
    return row


class StopNow(BaseException):
    """The second Ctrl-C: the batch stops at once, writing no gradebook."""


class CtrlC:
    """Ctrl-C during a batch: the first stops it starting submissions, the second stops it now.

    After the first, the running submissions get ``GRACE_SECONDS`` to finish; then they are
    stopped and left out of the gradebook. The batch's child processes ignore SIGINT: a
    terminal sends it to every process of the batch, and what they do about it is decided here.
    """

    def __init__(self) -> None:
        self.at: float | None = None  # when the first came
        self.stopped_now = False

    @property
    def stopping(self) -> bool:
        """True once the first Ctrl-C came."""
        return self.at is not None

    def grace_over(self) -> bool:
        """True when the running submissions have had their time to finish."""
        return self.at is not None and time.monotonic() - self.at > GRACE_SECONDS

    def _handle(self, _signum: int, _frame: object) -> None:
        if self.at is None:
            self.at = time.monotonic()
            print(f"\nCtrl-C: no more submissions start; the running ones get {GRACE_SECONDS} s "
                  "to finish, then the gradebook of those graded is written. Press Ctrl-C again "
                  "to stop at once without writing it.", file=sys.stderr, flush=True)
        elif not self.stopped_now:  # later ones: the batch is already stopping
            self.stopped_now = True
            raise StopNow

    def catching(self) -> AbstractContextManager[None]:
        """Handle SIGINT in here as described (where signals can be handled: the main thread)."""
        return _sigint(self._handle)

    @staticmethod
    def ignored_by_children() -> AbstractContextManager[None]:
        """Start child processes in here: they inherit SIGINT ignored (Python keeps it so).

        A Ctrl-C that comes meanwhile is lost; the kernels themselves still take the
        interrupts that end a cell that runs too long.
        """
        return _sigint(signal.SIG_IGN)


@contextmanager
def _sigint(handler: Callable | int) -> Iterator[None]:
    """SIGINT handled by ``handler`` in here; unchanged outside the main thread (it can't be)."""
    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def grade_all(subs: list[Submission], args: argparse.Namespace, workdir: Path, feedback: Path,
              kernels: KernelSource | None, ctrl_c: CtrlC | None = None,
              say: Callable[[str], None] | None = None) -> Iterator[GradeRow]:
    """Grade every submission in ``args.jobs`` worker processes; yield rows as they finish.

    With ``kernels``, every process forks its kernels from a template (see
    :func:`.forked_kernels.kernel_source`).
    After ``ctrl_c``'s first Ctrl-C no submission starts, and those that don't finish within
    ``GRACE_SECONDS`` yield no row. ``say`` tells the terminal about workers that died.
    """
    grading = GraderSettings(workdir, args.solutions, feedback, args.timeout, kernels)
    return _Batch(grading, args.jobs, ctrl_c or CtrlC(), say or _say,
                  getattr(args, "secret", "")).rows(subs)


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def _worker_context() -> BaseContext:
    """Workers forked from a server that has loaded nbgrader (else each imports it), or spawned."""
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([f"{__package__}.worker"])
    return context


class _Batch:
    """The worker processes of a batch, and what happens when one dies or Ctrl-C comes.

    Submissions are graded in a pool of ``jobs`` workers (``ProcessPoolExecutor``), never more
    at once than there are workers, so that those running when a worker dies are known. One
    worker releases the notebooks first; every worker copies that course folder. A worker that
    dies (killed, or out of memory) breaks the whole pool: the submissions that were running
    are graded again afterwards, one at a time, in a new pool (with the others, still waiting,
    in a new pool meanwhile). A submission whose kernel died while others ran beside it (its
    template may have been killed by another's code) is graded again the same way. Graded
    alone, what happens is the submission's own doing: a second worker death is scored 0.
    """

    def __init__(self, grading: GraderSettings, jobs: int, ctrl_c: CtrlC,
                 say: Callable[[str], None], secret: str = "") -> None:
        self.grading, self.jobs, self.ctrl_c, self.say = grading, jobs, ctrl_c, say
        self.secret = secret
        self.pool: ProcessPoolExecutor | None = None
        self.course: Path | None = None
        self.known: dict[str, GradeRow] = {}  # notebook -> a graded row of it (its checks)

    def rows(self, subs: list[Submission]) -> Iterator[GradeRow]:
        """Every submission's row, as it is graded; those interrupted by Ctrl-C have none."""
        again: list[Submission] = []
        try:
            try:
                self.course = self._prepare(sorted({sub.notebook for sub in subs}))
            except Exception as exc:  # noqa: BLE001 - every submission reports it
                yield from (_failed(sub, exc) for sub in subs)
                return
            if self.course is not None:
                yield from self._grade(deque(subs), self.jobs, again)
                yield from self._grade(deque(again), 1, None)
        finally:
            self._close(stop=True)  # nothing to do unless Ctrl-C (or a failure) came first

    def _open(self, jobs: int) -> ProcessPoolExecutor:
        """The pool of ``jobs`` workers (started as needed), made now unless it exists."""
        if self.pool is None:
            self.pool = ProcessPoolExecutor(jobs, mp_context=_worker_context(),
                                            initializer=_init_worker,
                                            initargs=(self.grading, dict(os.environ),
                                                      self.secret))
        return self.pool

    def _close(self, stop: bool = False) -> None:
        """Shut the pool down; with ``stop``, stop its workers (and their kernels) first."""
        pool = self.pool
        if pool is None:
            return
        if stop:
            _stop_workers(pool)
        pool.shutdown(wait=True, cancel_futures=True)
        if stop:
            _kill_orphaned_launchers(self.grading.kernels)
        self.pool = None  # only now: a second Ctrl-C meanwhile closes it again, from the start

    def _submit(self, jobs: int, fn: Callable, *args: object) -> Future:
        """Run ``fn(*args)`` in the pool; raises BrokenProcessPool if a worker of it died."""
        with CtrlC.ignored_by_children():  # a worker it starts leaves Ctrl-C to us from birth
            return self._open(jobs).submit(fn, *args)

    def _wait(self, futures: Collection[Future]) -> set[Future]:
        """Those of ``futures`` done within a moment (Ctrl-C is handled meanwhile)."""
        return wait(futures, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED).done

    def _prepare(self, notebooks: list[str]) -> Path | None:
        """The prepared course folder (tried twice if its worker dies); None after Ctrl-C."""
        for attempt in (1, 2):
            try:
                future = self._submit(self.jobs, _prepare_in_worker, notebooks)
                while not self._wait([future]):
                    if self.ctrl_c.grace_over():
                        return None
                return future.result()
            except BrokenProcessPool:
                self._close(stop=True)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _grade(self, work: deque[Submission], jobs: int,
               again: list[Submission] | None) -> Iterator[GradeRow]:
        """Grade ``work`` in a pool of ``jobs``; ``again`` takes those to grade once more alone.

        With ``again`` None, each submission is being graded alone for the second time.
        """
        running: dict[Future, Submission] = {}
        while work or running:
            if self.ctrl_c.stopping:
                work.clear()
                if self.ctrl_c.grace_over():
                    self._close(stop=True)
                    return
            broken = False
            while work and len(running) < jobs and not broken:
                try:
                    running[self._submit(jobs, _grade_in_worker, work[0], self.course)] = work[0]
                    work.popleft()
                except BrokenProcessPool:
                    broken = True
            if running:
                self._wait(running)
            finished = [f for f in running if f.done() and not _died(f)]
            for future in finished:
                sub = running.pop(future)
                try:
                    row = future.result()
                except Exception as exc:  # noqa: BLE001 - a grader bug must not stop the batch
                    yield _failed(sub, exc)
                    continue
                if again is not None and self.jobs > 1 and Flag.CRASHED in row.flags:
                    self.say(f"{sub.student}/{sub.notebook}: its kernel died while others ran "
                             "beside it; grading it again on its own.")
                    again.append(sub)
                    continue
                self.known.setdefault(row.notebook, row)
                yield row
            if broken or any(_died(f) for f in running):  # the pool is broken: all are lost
                lost = list(running.values())
                running.clear()
                self._close(stop=True)
                if not lost:
                    continue
                if again is None:
                    yield from (self._died_twice(sub) for sub in lost)
                else:
                    names = ", ".join(f"{s.student}/{s.notebook}" for s in lost)
                    self.say(f"A grading process died (killed, or out of memory) while grading "
                             f"{names}; grading {'it' if len(lost) == 1 else 'them'} again, "
                             "one at a time, after the others.")
                    again.extend(lost)
        self._close()

    def _died_twice(self, sub: Submission) -> GradeRow:
        """The row of a submission whose worker died again while it was graded alone."""
        row = GradeRow(sub.student, sub.notebook, score=0.0)
        like = self.known.get(sub.notebook)
        if like is not None:
            row.max_score, row.checks = like.max_score, dict.fromkeys(like.checks, 0.0)
        why = ("its grading process died twice while running it, the second time with no other "
               "submission beside it (out of memory, or code that kills processes); scored 0")
        row.flag(Flag.CRASHED, why)
        from .feedback import failure_page  # loads nbconvert: only here, in the main process

        dest = self.grading.feedback / sub.student / f"{sub.notebook}.html"
        replace_atomically(dest, failure_page(sub.student, sub.notebook, row.max_score or 0.0,
                                             why))
        row.feedback = dest
        return row


def _died(future: Future) -> bool:
    """True when ``future`` ended because a worker process died (the pool is then broken)."""
    return future.done() and isinstance(future.exception(), BrokenProcessPool)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """SIGTERM the pool's workers (each kills its kernels), SIGKILL those still there after a while.

    ``ProcessPoolExecutor`` has no public way before Python 3.14 (``terminate_workers``): its
    process table is read, as the standard library's own code does.
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        with suppress(OSError, ValueError):
            process.terminate()
    deadline = time.monotonic() + STOP_SECONDS
    for process in processes:
        with suppress(OSError, ValueError, AssertionError):
            process.join(max(0.0, deadline - time.monotonic()))
            if process.exitcode is None:
                process.kill()
                process.join()


def _kill_orphaned_launchers(kernels: KernelSource | None) -> None:
    """Kill the kernel launchers of this batch's template whose worker died without stopping them.

    Called between pools, when no worker runs: every launcher for the batch's template is then
    an orphan (the template kills its kernel when the launcher goes). A worker's own template
    dies with its worker, and so do its launchers' kernels.
    """
    kernel_socket = getattr(kernels, "socket_path", None)
    if not kernel_socket:
        return
    import psutil

    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if "launch" in cmdline and kernel_socket in cmdline:
            with suppress(psutil.Error):
                proc.kill()


def _problem_line(row: GradeRow) -> str:
    """The terminal line for a submission that needs the instructor's attention."""
    return f"{row.student}/{row.notebook}: {row.status} — " + " | ".join(row.messages)


def _run_batch(subs: list[Submission], args: argparse.Namespace, workdir: Path,
               feedback: Path, ctrl_c: CtrlC) -> list[GradeRow]:
    """Grade with a progress bar, printing each problem as it is found.

    The kernel template starts first: it imports for several seconds while the data is fetched
    and the workers start. Unless ``--fresh-kernels``, it serves every process of the batch, or,
    sandboxed with several workers, each worker starts its own as it starts. Where kernels can't
    be sandboxed, that is said once, here. After a Ctrl-C, the rows of the submissions graded so
    far (see :class:`CtrlC`).
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
    with CtrlC.ignored_by_children():  # the template (and so its kernels) leave Ctrl-C to us
        template, kernels = (None, None) if args.fresh_kernels else kernel_source(
            args.solutions, notebooks, settings, box, args.jobs)
    rows = []
    try:
        prefetch(declared_datasets(args.solutions / f"{nb}.ipynb" for nb in notebooks))
        bar = tqdm(total=len(subs), unit="notebook", desc="grading", file=sys.stderr)
        graded = grade_all(subs, args, workdir, feedback, kernels, ctrl_c,
                           lambda text: bar.write(text, file=sys.stderr))
        with environment(settings), bar, closing(graded):
            for row in graded:
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
    """Grade the submissions, write the CSV and feedback; 1 if any could not be graded.

    After Ctrl-C: 130, and a gradebook of only the submissions graded so far (see
    :class:`CtrlC`); after a second Ctrl-C, 130 and no gradebook. An existing ``--out`` is
    replaced only at the end, whole, by this batch's gradebook.
    """
    from .gradebook import summary, write_csv

    # taken out of the environment before any process starts: no kernel may read it
    args.secret = os.environ.pop(SECRET_ENV, "") or secrets.token_hex(16)
    try:
        subs, feedback = _inputs(args)
    except UsageProblem as exc:
        print(exc, file=sys.stderr)
        return 2
    start = time.perf_counter()
    ctrl_c = CtrlC()
    with ctrl_c.catching():
        try:
            if args.workdir:
                rows = _run_batch(subs, args, args.workdir.resolve(), feedback, ctrl_c)
            else:
                with tempfile.TemporaryDirectory(prefix="course-grade-") as tmp:
                    rows = _run_batch(subs, args, Path(tmp), feedback, ctrl_c)
            partial = len(rows) < len(subs)
            if rows or not partial:
                write_csv(rows, args.out)
        except StopNow:
            print(f"Stopped at once (second Ctrl-C): no gradebook written; {_left(args.out)}",
                  file=sys.stderr)
            return 130
    seconds = time.perf_counter() - start
    graded = sum(row.graded for row in rows)
    if partial:
        print(f"Interrupted (Ctrl-C) after {seconds:.0f} s: {len(rows)} of {len(subs)} "
              "submissions graded; the others were not started or were stopped mid-way.")
        if not rows:
            print(f"No gradebook written: {_left(args.out)}")
            return 130
        print(f"  {summary(rows)}")
        print(f"PARTIAL gradebook: {args.out} holds only these {len(rows)} of {len(subs)}; "
              f"grade again for all.   Feedback: {feedback}/<student>/<notebook>.html")
        return 130
    print(f"Graded {graded} of {len(rows)} submissions in {seconds:.0f} s "
          f"({60 * len(rows) / seconds:.1f} per minute, {args.jobs} process(es)).")
    print(f"  {summary(rows)}")
    print(f"Gradebook: {args.out}   Feedback: {feedback}/<student>/<notebook>.html")
    return 0 if graded == len(rows) else 1


def _left(out: Path) -> str:
    """What became of an earlier gradebook at ``out`` when this batch wrote none."""
    if out.exists():
        return f"{out} is left as it was (from an earlier batch)."
    return f"{out} does not exist."
