"""No import cycles inside ``course_utils``, read statically from the source with ``ast``.

Every ``import`` / ``from ... import`` counts, wherever it is: at the top of a module, inside a
function (a lazy import is still a cycle for whoever changes either module) and under
``if TYPE_CHECKING:``. ``from pkg import name`` is an edge to ``pkg.name`` when that is a
module, else to ``pkg``. The parent packages that Python runs implicitly when importing a
submodule are not edges (else every subpackage would be a cycle with its own ``__init__``).

Two levels are checked: modules (``course_utils.data.fetch`` -> ``course_utils.data.status``)
and the package's first-level units (``course_utils.pixel_features`` -> the
``course_utils.segmentation`` subpackage), so a subpackage and a module do not lean on each
other either.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import course_utils

PACKAGE_DIR = Path(course_utils.__file__).parent
Graph = dict[str, set[str]]


def _modules() -> dict[str, tuple[Path, bool]]:
    """Dotted name -> (file, is a package's __init__) for every module of course_utils."""
    found = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_pkg else parts)] = (path, is_pkg)
    return found


def _targets(module: str, is_pkg: bool, node: ast.Import | ast.ImportFrom,
             known: dict) -> set[str]:
    """The course_utils modules one import statement names."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            here = module.split(".") if is_pkg else module.split(".")[:-1]
            here = here[: len(here) - (node.level - 1)]
            base = ".".join(here + ([node.module] if node.module else []))
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                 for a in node.names]
    out = set()
    for name in names:
        while name and name not in known:  # `import course_utils.data.fetch.x`: the module
            name = name.rpartition(".")[0]
        if name and name != module:
            out.add(name)
    return out


def import_graph() -> Graph:
    """Module -> the course_utils modules it imports (anywhere in its source)."""
    known = _modules()
    graph: Graph = {}
    for module, (path, is_pkg) in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        graph[module] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                graph[module] |= _targets(module, is_pkg, node, known)
    return graph


def collapse(graph: Graph, depth: int = 2) -> Graph:
    """The same graph between units named by the first ``depth`` parts of a module's name."""
    def unit(name: str) -> str:
        return ".".join(name.split(".")[:depth])

    out: Graph = {unit(m): set() for m in graph}
    for module, targets in graph.items():
        out[unit(module)] |= {unit(t) for t in targets if unit(t) != unit(module)}
    return out


def find_cycle(graph: Graph) -> list[str] | None:
    """One cycle as a path ``[a, b, ..., a]``, or None when the graph has none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle_and_names_it():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()
    # course_utils/__init__.py imports the device probe only inside setup()
    assert "course_utils.device" in graph["course_utils"]
    assert "course_utils.data.fetch" in graph["course_utils.data"]


@pytest.mark.parametrize("level", ["modules", "first-level units"])
def test_no_import_cycles(level):
    graph = import_graph()
    if level != "modules":
        graph = collapse(graph)
    cycle = find_cycle(graph)
    assert cycle is None, (f"import cycle among course_utils {level}: " + " -> ".join(cycle)
                           + ". Move what both need into a module that imports neither.")
