"""Every library ``course_utils`` imports is declared, and the private APIs it leans on exist.

The first test reads each module's imports with ``ast`` (wherever they are, lazy ones too),
maps each top-level name to its distribution with ``importlib.metadata.packages_distributions``
and looks for that distribution in ``pyproject.toml``'s ``[project.dependencies]``.

The others touch, without starting a kernel or a process, each private name of a dependency
that course_utils relies on, so that an upgrade that renames one fails here, in CI, and not in
a class while grading.
"""

from __future__ import annotations

import ast
import inspect
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import course_utils

PACKAGE_DIR = Path(course_utils.__file__).parent
PYPROJECT = PACKAGE_DIR.parent / "pyproject.toml"


def imported_top_names() -> dict[str, set[str]]:
    """Top-level name of every absolute third-party import -> the files that import it."""
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                if top not in sys.stdlib_module_names and top != "course_utils":
                    found.setdefault(top, set()).add(str(path.relative_to(PACKAGE_DIR.parent)))
    return found


def declared() -> set[str]:
    """Canonical names of the distributions in [project.dependencies]."""
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    return {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}


def test_every_imported_library_is_declared_with_a_range():
    dists = packages_distributions()
    wanted = declared()
    problems = []
    for top, files in sorted(imported_top_names().items()):
        candidates = {canonicalize_name(d) for d in dists.get(top, [])}
        where = ", ".join(sorted(files)[:3])
        if not candidates:
            problems.append(f"`{top}` (imported in {where}) belongs to no installed distribution")
        elif not candidates & wanted:
            problems.append(f"`{top}` (imported in {where}) comes from {sorted(candidates)}, "
                            "which pyproject.toml [project.dependencies] does not declare")
    assert not problems, "\n".join(problems)
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    unbounded = [r for r in project["dependencies"] if not Requirement(r).specifier]
    assert not unbounded, f"declared without a version range: {unbounded}"


def test_doctor_checks_every_declared_range():
    """doctor finds each declared dependency's module (its IMPORT_NAMES where they differ) and
    checks its range; here, where CI's pins are installed, every line is OK."""
    from course_utils.doctor import check_dependency

    project = tomllib.loads(PYPROJECT.read_text())["project"]
    lines = [check_dependency(Requirement(r)) for r in project["dependencies"]]
    assert [line for line in lines if line.status != "OK"] == []


# ---------------------------------------------------------------- private APIs relied on


def _parameters(func) -> list[str]:
    return list(inspect.signature(func).parameters)


def test_jupyter_client_private_names_used_by_forked_kernels():
    """ForkedKernelManager overrides ``_async_pre_start_kernel`` and fills ``_kernel_spec``;
    GradingKernelClient calls ``_handle_kernel_info_reply`` with the reply."""
    from jupyter_client.asynchronous import AsyncKernelClient
    from jupyter_client.manager import AsyncKernelManager

    pre_start = AsyncKernelManager._async_pre_start_kernel
    assert inspect.iscoroutinefunction(pre_start)
    assert any(p.kind is p.VAR_KEYWORD for p in inspect.signature(pre_start).parameters.values())
    assert AsyncKernelManager()._kernel_spec is None  # filled lazily by kernel_spec
    assert _parameters(AsyncKernelClient._handle_kernel_info_reply)[1:] == ["msg"]


def test_nbconvert_private_names_used_by_the_feedback_exporter():
    """FeedbackExporter repeats HTMLExporter.from_notebook_node with ``_init_resources`` and
    ``_nb_metadata``, and extends ``_create_environment``."""
    from nbconvert.exporters import HTMLExporter

    exporter = HTMLExporter()
    assert isinstance(exporter._nb_metadata, dict)
    assert _parameters(HTMLExporter._init_resources)[1:] == ["resources"]
    assert callable(HTMLExporter._create_environment)
    source = inspect.getsource(HTMLExporter.from_notebook_node)
    assert "self._init_resources(" in source and "notebook_metadata=self._nb_metadata" in source


def test_nbgrader_alembic_dir_gives_a_schema_head():
    """new_gradebook stamps a gradebook with the head of nbgrader's ``dbutil.ALEMBIC_DIR``."""
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    assert ScriptDirectory(ALEMBIC_DIR).get_current_head()


def test_process_pool_keeps_its_process_table():
    """_stop_workers reads ``ProcessPoolExecutor._processes`` (no public way before 3.14)."""
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=1)  # no worker starts before the first submit
    try:
        assert isinstance(pool._processes, dict)
    finally:
        pool.shutdown()
