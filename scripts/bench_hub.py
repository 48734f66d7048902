"""Load on the one-machine class hub: N attendees log in at once and run notebook 01.

For each N (default 1, 2, 4, 8) the first N attendees of one rehearsal class
(:func:`course_utils.hub.rehearsal.classroom`: real Linux users, the hub of
``deploy/hub/jupyterhub_config.py``, the shared data staged) log in through the login form at
the same moment, start their servers, and each executes every code cell of the solved
notebook in quick mode in a kernel of their own server (over its websocket, as JupyterLab
does). Recorded per attendee: seconds until the server answered, wall seconds of the whole
notebook, the peak of the summed resident memory of all their processes (sampled from /proc
every 0.5 s) and, where cgroups enforce the limits, the cgroup's own peak; and every failure.
Servers are stopped between rounds. Prints a markdown table; --json keeps the numbers.

    sudo COURSE_DATA_DIRS=/path/to/mirror .venv/bin/python scripts/bench_hub.py
    sudo .venv/bin/python scripts/bench_hub.py --attendees 1 2 --json artifacts/bench_hub.json

Run as root on an otherwise idle machine (it creates and removes users).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
import psutil

from course_utils.cpus import usable_cpus
from course_utils.hub.limits import Cgroups
from course_utils.hub.rehearsal import Classroom, HubUnavailable, classroom

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "notebooks" / "solutions"
SAMPLE_S = 0.5
CELL_TIMEOUT_S = 900
MIB = 2**20


@dataclass
class Attendee:
    """What one attendee's round measured."""

    user: str
    ready_s: float | None = None
    notebook_s: float | None = None
    peak_rss_mib: float = 0.0
    cgroup_peak_mib: float | None = None
    failures: list[str] = field(default_factory=list)


@dataclass
class Round:
    """One value of N: every attendee's numbers."""

    attendees: int
    results: list[Attendee]


def user_rss(processes: list[psutil.Process], users: set[str]) -> dict[str, int]:
    """Summed resident memory (bytes) of each user's processes among ``processes``."""
    total = dict.fromkeys(users, 0)
    for proc in processes:
        try:
            owner = proc.username()
            if owner in total:
                total[owner] += proc.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


class MemorySampler(threading.Thread):
    """Samples the users' summed RSS every SAMPLE_S seconds and keeps each one's peak."""

    def __init__(self, users: list[str]) -> None:
        super().__init__(daemon=True)
        self.users = set(users)
        self.peaks = dict.fromkeys(users, 0)
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            for user, rss in user_rss(list(psutil.process_iter()), self.users).items():
                self.peaks[user] = max(self.peaks[user], rss)
            self.done.wait(SAMPLE_S)

    def stop(self) -> dict[str, int]:
        self.done.set()
        self.join(timeout=10)
        return self.peaks


def code_cells(notebook: str) -> list[str]:
    """The code cells of the solved notebook (what an attendee who answers everything runs)."""
    nb = nbformat.read(SOLUTIONS / f"{notebook}.ipynb", as_version=4)
    return [cell.source for cell in nb.cells if cell.cell_type == "code" and cell.source.strip()]


def run_attendee(room: Classroom, user: str, cells: list[str], start: threading.Barrier,
                 cgroups: Cgroups) -> Attendee:
    """Log in (at the barrier, with the others), start the server, run every cell."""
    result = Attendee(user)
    start.wait(timeout=120)
    try:
        client = room.client(user)
        result.ready_s = round(client.start_server(timeout_s=600), 2)
        kernel = client.kernel()
        began = time.monotonic()
        try:
            for number, source in enumerate(cells, 1):
                reply = kernel.execute(source, timeout_s=CELL_TIMEOUT_S)
                if reply.status != "ok":
                    result.failures.append(f"cell {number}: {reply.error}")
                    break
            result.notebook_s = round(time.monotonic() - began, 2)
            peak = cgroups.existing(user)
            if peak is not None and peak.peak_memory():
                result.cgroup_peak_mib = round(peak.peak_memory() / MIB, 1)
        finally:
            kernel.close()
    except Exception as exc:  # noqa: BLE001 - a failure is a result here, not a crash
        result.failures.append(f"{type(exc).__name__}: {exc}")
    return result


def run_round(room: Classroom, n: int, cells: list[str]) -> Round:
    """N attendees at once; their servers are stopped again afterwards."""
    users = list(room.people.attendees[:n])
    cgroups = Cgroups(room.settings.cgroup)
    sampler = MemorySampler(users)
    sampler.start()
    start = threading.Barrier(n)
    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(lambda u: run_attendee(room, u, cells, start, cgroups), users))
    for result, peak in zip(results, (sampler.stop()[u] for u in users), strict=True):
        result.peak_rss_mib = round(peak / MIB, 1)
    for user in users:
        try:
            room.client(user).stop_server()
        except Exception as exc:  # noqa: BLE001
            print(f"could not stop the server of {user}: {exc}", file=sys.stderr)
    return Round(n, results)


def _spread(values: list[float]) -> str:
    """``median (max)``, or ``-`` when nothing was measured."""
    if not values:
        return "-"
    return f"{statistics.median(values):.1f} ({max(values):.1f})"


def table(rounds: list[Round]) -> str:
    """The markdown table: one row per N (medians, maxima in brackets)."""
    lines = ["| attendees | server ready, s | notebook 01, s | peak RSS per attendee, MiB | "
             "cgroup peak, MiB | failures |",
             "|---:|---:|---:|---:|---:|---:|"]
    for rnd in rounds:
        res = rnd.results
        cgroup = [r.cgroup_peak_mib for r in res if r.cgroup_peak_mib is not None]
        failures = sum(len(r.failures) for r in res)
        lines.append(
            f"| {rnd.attendees} | {_spread([r.ready_s for r in res if r.ready_s is not None])} "
            f"| {_spread([r.notebook_s for r in res if r.notebook_s is not None])} "
            f"| {_spread([r.peak_rss_mib for r in res])} | {_spread(cgroup)} | {failures} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attendees", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--notebook", default="01_kmeans")
    parser.add_argument("--mem-limit", default="6G", help="per attendee (default 6G)")
    parser.add_argument("--cpu-limit", type=float, default=1.0, help="cores per attendee")
    parser.add_argument("--json", type=Path, help="write the numbers here")
    args = parser.parse_args(argv)
    cells = code_cells(args.notebook)
    rounds: list[Round] = []
    try:
        with classroom(max(args.attendees), datasets=["bbbc039"], mem_limit=args.mem_limit,
                       cpu_limit=args.cpu_limit) as room:
            if room.staging_note:
                print(f"data staged in part: {room.staging_note}", file=sys.stderr)
            for n in args.attendees:
                print(f"{n} attendee(s)...", file=sys.stderr, flush=True)
                rounds.append(run_round(room, n, cells))
    except HubUnavailable as exc:
        print(f"no class hub on this machine: {exc}", file=sys.stderr)
        return 2
    print(f"{args.notebook}, quick mode, {usable_cpus()} usable cores, "
          f"{psutil.virtual_memory().total / 2**30:.0f} GiB, limits per attendee "
          f"{args.mem_limit} / {args.cpu_limit:g} core(s)\n")
    print(table(rounds))
    for rnd in rounds:
        for result in rnd.results:
            for failure in result.failures:
                print(f"FAILED {rnd.attendees}/{result.user}: {failure}", file=sys.stderr)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([asdict(r) for r in rounds], indent=1))
    return 1 if any(r.failures for rnd in rounds for r in rnd.results) else 0


if __name__ == "__main__":
    sys.exit(main())
