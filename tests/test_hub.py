"""The class rehearsal: a real JupyterHub on this machine, an instructor and three attendees.

One hub for the module (:func:`course_utils.hub.rehearsal.classroom`: Linux users with random
names and passwords, the shared data staged with ``course-utils data fetch --into``, the hub
of ``deploy/hub/jupyterhub_config.py`` on a free loopback port; all removed at the end). The
tests follow a class in order:

1. the instructor generates and releases notebooks 01 and 02 from the course's sources;
2. attendee 1, in headless Chromium: logs in, opens the fetched notebook in JupyterLab, runs
   the setup cell (the data comes from the shared folder), answers an exercise, sees its ✓,
   saves; attendees 2 and 3 log in through the login form and use their server's kernel;
3. everyone submits (1 answered, 2 untouched, 3 broken), the instructor collects, grades with
   ``course-utils grade`` and nbgrader's own ``autograde``/``export``, releases feedback, and
   the attendees fetch it;
4. attendees can't read each other's homes or the course folder, nor write the shared data;
5. faults: a killed server keeps the saved work and leaves no kernel behind, a kernel over
   its memory limit dies alone, an unreadable or missing shared folder tells the attendee to
   ask the instructor, a closed exchange is caught by ``course-utils doctor``.

Attendees fetch, submit and fetch feedback through their server's Assignment List API (what
its buttons call), one of them with ``nbgrader submit`` from a kernel, as from a terminal.

Skips (with the reason) when this machine can't host users: not root, no useradd, no
configurable-http-proxy (scripts/install_hub.sh), no data to stage; the browser part also needs
Chromium. Where the venv's Python lies under a folder closed to other users (pyenv in
``/root``, as on the development machines), the module lets others pass through those folders
(``o+x``: no listing, no reading) while it runs and puts their modes back afterwards; a real
hub should have its venv outside a private home (deploy/README.md). The hub log and a
screenshot go to ``artifacts/hub/``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path

import nbformat
import psutil
import pytest
from browser_helpers import CHROMIUM, CHROMIUM_ARGS, KERNEL_IDLE, NO_CHROMIUM, run_cell

from course_utils.grading.mistakes import answer_cells
from course_utils.hub.accounts import course_folder
from course_utils.hub.client import HubClient, KernelSession
from course_utils.hub.limits import Cgroups
from course_utils.hub.preflight import closed_folders
from course_utils.hub.rehearsal import Classroom, HubUnavailable, classroom
from course_utils.hub.settings import HubSettings

pytestmark = pytest.mark.hub

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "notebooks" / "solutions"
RELEASED = ("01_kmeans", "02_svm")
GRADED = "01_kmeans"
EXERCISE = "assign_step"  # the exercise attendee 1 answers in the browser
ARTIFACTS = ROOT / "artifacts" / "hub"
LAB_START_S = 120
CELL_OUTPUT_S = 240
GRADE_S = 420


@contextmanager
def _passable_by_attendees(path: Path) -> Iterator[None]:
    """As root: let other users pass through the folders above ``path`` for a while."""
    closed = closed_folders(path) if os.geteuid() == 0 else []
    modes = {folder: folder.stat().st_mode for folder in closed}
    try:
        for folder, mode in modes.items():
            os.chmod(folder, stat.S_IMODE(mode) | stat.S_IXOTH)
        yield
    finally:
        for folder, mode in modes.items():
            os.chmod(folder, stat.S_IMODE(mode))


@pytest.fixture(scope="module")
def room() -> Iterator[Classroom]:
    """The running hub with its class; the instructor has released 01 and 02."""
    try:
        with (_passable_by_attendees(HubSettings().venv / "bin" / "python"),
              classroom(3, datasets=["bbbc039"], keep_log=ARTIFACTS / "hub.log") as room):
            _release(room)
            with ThreadPoolExecutor(2) as pool:  # attendees 2 and 3 log in at once
                list(pool.map(_log_in_and_spawn, [room] * 2, room.people.attendees[1:]))
            try:
                yield room
            finally:
                for session in _KERNELS.values():
                    with suppress(Exception):  # the server may be gone: nothing to close
                        session.close()
                _KERNELS.clear()
    except HubUnavailable as exc:
        pytest.skip(f"no class hub on this machine: {exc}")


def _log_in_and_spawn(room: Classroom, user: str) -> float:
    """Log ``user`` in through the login form and start their server; seconds to ready."""
    return room.client(user).start_server()


def _release(room: Classroom) -> None:
    """As the instructor: the solutions into nbgrader's source/, generate and release them."""
    course = course_folder(room.people.instructor)
    for name in RELEASED:
        source = course / "source" / name
        source.mkdir(parents=True)
        shutil.copy(SOLUTIONS / f"{name}.ipynb", source / f"{name}.ipynb")
    for path in [course / "source", *(course / "source").rglob("*")]:
        shutil.chown(path, room.people.instructor, room.people.instructor)
    for name in RELEASED:
        room.instructor(["nbgrader", "generate_assignment", name])
        room.instructor(["nbgrader", "release_assignment", name])


def _attendee(room: Classroom, n: int) -> str:
    return room.people.attendees[n - 1]


_KERNELS: dict[str, KernelSession] = {}


def _kernel(room: Classroom, user: str) -> KernelSession:
    """A kernel on ``user``'s own server (started once; logs in and spawns if needed)."""
    client = room.client(user)
    if user not in _KERNELS:
        if not client.server_state().get("ready"):
            client.start_server()
        _KERNELS[user] = client.kernel()
    return _KERNELS[user]


def _shell(room: Classroom, user: str, *argv: str, timeout: float = 180,
           status: int = 0) -> str:
    """Run ``argv`` from ``user``'s kernel (as their server's terminal would, with the
    server's environment); its output, after checking it exited with ``status``."""
    code = ("import subprocess\n"
            f"done = subprocess.run({list(argv)!r}, capture_output=True, text=True, "
            f"timeout={timeout})\n"
            "print(done.stdout + done.stderr)\nprint('EXIT', done.returncode)")
    reply = _kernel(room, user).execute(code, timeout_s=timeout + 30)
    assert reply.status == "ok", reply
    assert reply.text.rstrip().endswith(f"EXIT {status}"), (
        f"{' '.join(argv)} as {user}:\n{reply.text}")
    return reply.text


def _assignment_list(room: Classroom, user: str, action: str = "",
                     name: str = "") -> set[tuple[str, str]]:
    """(assignment, status) pairs of ``user``'s Assignment List, after ``action`` (fetch,
    submit, fetch_feedback) on ``name``: the server API its buttons call."""
    course = {"course_id": room.settings.course_id}
    client = room.client(user)
    if action:
        answer = client.server("POST", f"/assignments/{action}",
                               data={**course, "assignment_id": name})
    else:
        answer = client.server("GET", "/assignments", params=course)
    assert answer.status_code == 200, answer.text[:500]
    body = answer.json()
    assert body["success"], f"{action or 'list'} {name} as {user}: {body['value']}"
    return {(item["assignment_id"], item["status"]) for item in body["value"]}


def _solution_source(grade_id: str, notebook: str = GRADED) -> str:
    """The solution's code for one answer cell, as a student would type it (no markers)."""
    solution = nbformat.read(SOLUTIONS / f"{notebook}.ipynb", as_version=4)
    source = answer_cells(solution)[grade_id].source
    return "\n".join(line for line in source.splitlines() if "### " not in line)


def _answered(notebook: dict) -> str:
    """The source of attendee 1's exercise cell in a saved notebook."""
    return "".join(answer_cells(nbformat.from_dict(notebook))[EXERCISE].source)


def test_instructor_released_notebooks_01_and_02(room: Classroom) -> None:
    outbound = room.settings.exchange / room.settings.course_id / "outbound"
    for name in RELEASED:
        released = outbound / name / f"{name}.ipynb"
        assert released.is_file(), sorted(outbound.rglob("*"))
        assert "BEGIN SOLUTION" not in released.read_text(), "the release shows the solution"
    deadline = time.monotonic() + 60  # the culler runs, with the scopes it needs
    while "200 GET /hub/api/users?state=[secret] (idle-culler@" not in room.log_tail(10**6):
        assert time.monotonic() < deadline, "the idle culler never listed the users"
        time.sleep(1)
    attendee = _attendee(room, 2)  # logged in and started by the fixture
    assert {(name, "released") for name in RELEASED} <= _assignment_list(room, attendee)
    assert room.client(attendee).server("GET", "/formgrader/api/assignments").status_code == 404
    instructor = room.client(room.people.instructor)
    instructor.start_server()
    graders = instructor.server("GET", "/formgrader/api/assignments")
    assert graders.status_code == 200, graders.text[:500]
    assert {a["name"]: a["status"] for a in graders.json()} == dict.fromkeys(RELEASED,
                                                                            "released")
    instructor.stop_server()


def test_browser_attendee_answers_an_exercise_in_jupyterlab(room: Classroom) -> None:
    """Log in, open the fetched notebook, run the setup cell, answer, see ✓, save."""
    if not CHROMIUM.exists():
        pytest.skip(NO_CHROMIUM)
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    user = _attendee(room, 1)
    shot = ARTIFACTS / "browser-attendee.png"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            page.goto(f"{room.url}/hub/login")
            page.fill("#username_input", user)
            page.fill("#password_input", room.passwords[user])
            page.click("#login_submit")
            page.wait_for_url(f"**/user/{user}/lab**", timeout=LAB_START_S * 1000)
            assert (GRADED, "fetched") in _assignment_list(room, user, "fetch", GRADED)
            page.goto(f"{room.url}/user/{user}/lab/tree/{GRADED}/{GRADED}.ipynb")
            sync_api.expect(page.locator(KERNEL_IDLE)).to_be_visible(timeout=LAB_START_S * 1000)
            cells = page.locator(".jp-Notebook .jp-CodeCell")
            run_cell(page, cells.nth(0))  # the setup cell
            shared = f"Data 'bbbc039': {room.settings.data / 'bbbc039'}"
            sync_api.expect(cells.nth(0).locator(".jp-OutputArea")).to_contain_text(
                shared, timeout=CELL_OUTPUT_S * 1000)
            setup_text = "\n".join(cells.nth(0).locator(".jp-OutputArea").all_inner_texts())
            run_cell(page, cells.nth(1))  # the checker
            run_cell(page, cells.nth(2))  # the imports
            answer = cells.nth(4)
            answer.locator(".jp-InputArea-editor").click()
            page.keyboard.press("Control+a")
            page.keyboard.press("Delete")
            page.keyboard.insert_text(_solution_source(EXERCISE))
            run_cell(page, answer)
            run_cell(page, cells.nth(5))  # its check cell
            sync_api.expect(cells.nth(5).locator(".jp-OutputArea")).to_contain_text(
                f"✓ {EXERCISE}", timeout=CELL_OUTPUT_S * 1000)
            page.keyboard.press("Control+s")
            client = room.client(user)
            deadline = time.monotonic() + 30
            while "squared" not in _answered(client.read_notebook(f"{GRADED}/{GRADED}.ipynb")):
                assert time.monotonic() < deadline, "the notebook was not saved"
                time.sleep(0.5)
        finally:
            page.screenshot(path=str(shot), full_page=True)
            browser.close()
    assert "Traceback" not in setup_text, setup_text
    cache = Path(os.path.expanduser(f"~{user}")) / ".cache" / "course-utils" / "bbbc039"
    assert not any(cache.rglob("*.tif")), "the attendee's kernel downloaded data"


def _save_as_attendee(room: Classroom, user: str, change) -> None:
    """Fetch 01 and 02 (Assignment List), edit 01 through the contents API, save it."""
    for name in RELEASED:
        if not (Path(os.path.expanduser(f"~{user}")) / name).is_dir():
            assert (name, "fetched") in _assignment_list(room, user, "fetch", name)
    path = f"{GRADED}/{GRADED}.ipynb"
    client = room.client(user)
    notebook = nbformat.from_dict(client.read_notebook(path))
    change(notebook)
    client.save_notebook(path, notebook)


def _answer_one(notebook: nbformat.NotebookNode) -> None:
    answer_cells(notebook)[EXERCISE].source = _solution_source(EXERCISE)


def _break(notebook: nbformat.NotebookNode) -> None:
    """What a broken submission looks like: a syntax error, an import that fails."""
    cells = answer_cells(notebook)
    cells[EXERCISE].source = "def assign_clusters(X, centroids):\n    return X[:, 0"
    cells["update_step"].source = "import not_a_module_anyone_has\n"


def test_attendees_save_and_submit(room: Classroom) -> None:
    """1 answered (in the browser, or here when there is none), 2 untouched, 3 broken."""
    one, two, three = (_attendee(room, n) for n in (1, 2, 3))
    saved = room.client(one).read_notebook(f"{GRADED}/{GRADED}.ipynb") if (
        Path(os.path.expanduser(f"~{one}")) / GRADED).is_dir() else None
    if saved is None or "squared" not in _answered(saved):
        _save_as_attendee(room, one, _answer_one)
    _save_as_attendee(room, two, lambda nb: None)
    _save_as_attendee(room, three, _break)
    for user in (one, two):  # from the Assignment List ...
        assert (GRADED, "submitted") in _assignment_list(room, user, "submit", GRADED)
    _shell(room, three, "nbgrader", "submit", GRADED)  # ... or from a terminal
    inbound = room.settings.exchange / room.settings.course_id / "inbound"
    assert {p.name.split("+")[0] for p in inbound.iterdir()} == {one, two, three}


def _grades(path: Path) -> dict[str, dict[str, str]]:
    """The rows of notebook 01 by student: course-utils' gradebook or nbgrader's export."""
    rows = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))
    return {row["student_id"]: row for row in rows
            if row.get("notebook", row.get("assignment")) == GRADED}


def _timed(room: Classroom, timings: dict[str, float], name: str, command: list[str],
           **kwargs) -> subprocess.CompletedProcess:
    """An instructor's command, its wall time kept in ``timings`` (artifacts/hub/)."""
    started = time.monotonic()
    try:
        return room.instructor(command, **kwargs)
    finally:
        timings[name] = round(time.monotonic() - started, 1)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "instructor-timings.json").write_text(json.dumps(timings, indent=1))


def test_instructor_collects_grades_and_releases_feedback(room: Classroom) -> None:
    one, two, three = (_attendee(room, n) for n in (1, 2, 3))
    course = course_folder(room.people.instructor)
    timings: dict[str, float] = {}
    _timed(room, timings, "collect", ["nbgrader", "collect", GRADED])
    submitted = course / "submitted"
    assert {p.parent.parent.name for p in submitted.glob(f"*/{GRADED}/{GRADED}.ipynb")} == {
        one, two, three}
    # the course's grader, on nbgrader's submitted/ layout
    done = _timed(room, timings, "course-utils grade", [
        "course-utils", "grade", str(submitted), "--out", str(course / "gradebook.csv"),
        "--solutions", str(SOLUTIONS), "--jobs", "2", "--timeout", "120"], timeout=GRADE_S)
    rows = _grades(course / "gradebook.csv")
    points = float(rows[one][f"{EXERCISE}_check"])
    assert points > 0 and float(rows[one]["score"]) == points, rows[one]
    assert float(rows[two]["score"]) == 0 and "unanswered" in rows[two]["status"], rows[two]
    assert float(rows[three]["score"]) == 0, rows[three]
    assert "Traceback" not in done.stdout + done.stderr
    # nbgrader's own autograde and export, the gradebook the Formgrader shows
    _timed(room, timings, "nbgrader autograde", [
        "nbgrader", "autograde", GRADED, "--create", "--ExecutePreprocessor.timeout=120"],
        timeout=GRADE_S, check=False)
    _timed(room, timings, "nbgrader export", ["nbgrader", "export", "--to",
                                              str(course / "grades.csv")])
    exported = _grades(course / "grades.csv")
    assert float(exported[one]["raw_score"]) == points, exported[one]
    assert float(exported[two]["raw_score"]) == 0 and float(exported[three]["raw_score"]) == 0
    _timed(room, timings, "generate_feedback", ["nbgrader", "generate_feedback", GRADED])
    _timed(room, timings, "release_feedback", ["nbgrader", "release_feedback", GRADED])
    _assignment_list(room, one, "fetch_feedback", GRADED)
    pages = list((Path(os.path.expanduser(f"~{one}")) / GRADED / "feedback").rglob("*.html"))
    assert pages, "no feedback fetched"
    assert f"{EXERCISE}_check" in pages[0].read_text() or "assign_clusters" in pages[0].read_text()


def _denied(room: Classroom, user: str, *argv: str) -> None:
    done = room.as_user(user, argv, timeout=30)
    assert done.returncode != 0, f"{user} could run {' '.join(argv)}: {done.stdout[:300]}"
    assert "denied" in (done.stderr + done.stdout).lower(), done.stderr


def test_attendees_cannot_read_others_or_write_the_shared_data(room: Classroom) -> None:
    one, two = _attendee(room, 1), _attendee(room, 2)
    _denied(room, two, "ls", os.path.expanduser(f"~{one}"))
    _denied(room, two, "ls", str(course_folder(room.people.instructor)))
    _denied(room, two, "touch", str(room.settings.data / "graffiti"))
    _denied(room, two, "touch", str(room.settings.data / "bbbc039" / "graffiti"))
    _denied(room, two, "ls", str(room.settings.exchange / room.settings.course_id / "inbound"))
    readable = room.as_user(two, ["ls", str(room.settings.data / "bbbc039")], timeout=30)
    assert readable.returncode == 0, readable.stderr  # but the data is theirs to read


def _server_pid(user: str) -> int:
    """The pid of ``user``'s jupyterhub-singleuser process."""
    for proc in psutil.process_iter(["username", "cmdline"]):
        if proc.info["username"] == user and any("jupyterhub-singleuser" in part
                                                 for part in proc.info["cmdline"] or []):
            return proc.pid
    raise AssertionError(f"no server process of {user}")


def _assert_limited(room: Classroom, user: str, pids: set[int]) -> None:
    """The server and its kernels run in the user's cgroups, with the configured limits."""
    if f"Limits for {user} NOT enforced" in room.log_tail(10**6):
        return  # the hub said why (no cgroups here); nothing to check
    found = Cgroups(room.settings.cgroup).existing(user)
    assert found is not None, f"no cgroups for {user}:\n{room.log_tail()}"
    assert pids <= found.pids(), (pids, found.pids())
    limit = round(6 * 2**30)  # classroom()'s default mem_limit, "6G"
    files = {"v1": ("memory.limit_in_bytes", "cpu.cfs_quota_us"), "v2": ("memory.max",
                                                                        "cpu.max")}
    memory, cpu = (next(f / name for f in found.folders if (f / name).exists())
                   for name in files[found.version])
    assert int(memory.read_text().split()[0]) == limit
    assert cpu.read_text().split()[0] == "100000"  # one core of 100 ms periods


def test_killed_server_keeps_saved_work_after_respawn(room: Classroom) -> None:
    user = _attendee(room, 2)
    client: HubClient = room.client(user)
    kernel = _kernel(room, user)
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("answer = 42  # saved before the crash")]
    client.save_notebook("mid-notebook.ipynb", json.loads(nbformat.writes(notebook)))
    kernel.submit("import time\ntime.sleep(600)  # a long cell, running when the server dies")
    time.sleep(1)
    server = psutil.Process(_server_pid(user))
    kernel_pids = set(server.children(recursive=True))
    _assert_limited(room, user, {server.pid, *(p.pid for p in kernel_pids)})
    os.kill(server.pid, signal.SIGKILL)  # mid-notebook: the kernel is still running
    deadline = time.monotonic() + 10
    while server.is_running() and server.status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the server survived SIGKILL"
        time.sleep(0.1)
    _KERNELS.pop(user, None)
    seconds = client.start_server()  # the hub finds it dead and starts a new one
    saved = client.read_notebook("mid-notebook.ipynb")
    assert saved["cells"][0]["source"] == "answer = 42  # saved before the crash"
    orphans = [p for p in kernel_pids if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not orphans, f"the killed server's processes live on: {orphans}"
    assert seconds < 120


def test_memory_limit_stops_the_kernel_not_the_server(room: Classroom) -> None:
    """Over its cgroup's memory limit, an attendee's kernel is killed; their server and
    everyone else's go on. (The limit is lowered to 300 MB above the current use for this.)"""
    user, other = _attendee(room, 3), _attendee(room, 2)
    client = room.client(user)
    if not client.server_state().get("ready"):
        client.start_server()
    found = Cgroups(room.settings.cgroup).existing(user)
    if found is None:
        pytest.skip(f"no cgroups for {user}: the hub log says why limits are not enforced")
    limit_name, usage_name = {"v1": ("memory.limit_in_bytes", "memory.usage_in_bytes"),
                              "v2": ("memory.max", "memory.current")}[found.version]
    memory = next(f for f in found.folders if (f / limit_name).exists())
    kernel = client.kernel()
    pid = int(kernel.execute("import os\nprint(os.getpid())").text.split()[-1])
    assert psutil.Process(pid).username() == user and pid in found.pids()
    original = (memory / limit_name).read_text().strip()
    usage = int((memory / usage_name).read_text())
    (memory / limit_name).write_text(str(usage + 300 * 2**20))
    try:
        kernel.submit("import numpy as np\nhog = np.ones(2**27)  # 1 GiB: over the limit")
        deadline = time.monotonic() + 60
        while psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline, "the kernel outlived its memory limit"
            time.sleep(0.2)
    finally:
        (memory / limit_name).write_text(original)
        with suppress(Exception):  # its websocket may be gone with it
            kernel.close()
    assert client.server("GET", "/api/status").status_code == 200, "the server died too"
    assert room.client(other).server("GET", "/api/status").status_code == 200


def test_unreadable_shared_data_tells_the_attendee_to_ask_the_instructor(
        room: Classroom) -> None:
    closed = room.settings.root / "closed-data"
    (closed / "bbbc039").mkdir(parents=True)
    os.chmod(closed, 0o700)  # as if the instructor staged it with a private umask
    user = _attendee(room, 3)
    # notebook 01's setup cell, then its loader (what the notebook does next)
    cells = ("import course_utils; course_utils.setup('01_kmeans', ['bbbc039'])\n"
             "from course_utils.data import nuclei_fields\n"
             "fields = nuclei_fields('train', n=2)\n"
             "print('fields:', fields.split)")
    for mirror, expected in ((closed, "ask the instructor to make it readable"),
                             (room.settings.root / "no-data", "ask the instructor to stage it")):
        done = room.as_user(user, [str(room.settings.venv / "bin" / "python"), "-c", cells],
                            env={"COURSE_DATA_DIRS": str(mirror)}, timeout=120)
        shown = done.stdout + done.stderr  # a cell shows both (warnings are stderr)
        assert done.returncode == 0 and "Traceback" not in shown, shown
        assert "fields: synthetic" in done.stdout, shown  # falls back as it does offline
        assert "GENERATED nuclei fields" in done.stdout, shown
        assert expected in shown, shown


def test_doctor_catches_an_exchange_with_wrong_permissions(room: Classroom) -> None:
    """The instructor runs the doctor in a terminal of their hub server (its environment
    names the hub's nbgrader settings): the exchange line fails with the one-line fix."""
    exchange = room.settings.exchange
    os.chmod(exchange, 0o755)
    try:
        said = _shell(room, room.people.instructor, "course-utils", "doctor", status=1)
    finally:
        os.chmod(exchange, 0o1777)
    line = next((ln for ln in said.splitlines() if "nbgrader exchange" in ln), "")
    assert line.startswith("[FAIL]") and f"sudo chmod 1777 {exchange}" in line, said
    fixed = room.instructor(["python", "-c", "from course_utils.doctor import check_exchange\n"
                             "print(check_exchange()[0].render())"])
    assert fixed.stdout.startswith(f"[ OK ] nbgrader exchange: {exchange}"), fixed.stdout
