"""Expected outputs that checks compare with, computed from the solution at build time.

Where the reference of a check would be the answer itself in readable form (01's
nearest-centroid rule, 02's RBF formula, 03's nested-CV call, 04's boundary pixels), the check
module holds no such code. It declares a *case* instead: fixed inputs the check chooses, and a
function that runs the solution's answer on them. ``course-utils build`` executes the answer
cell of the notebook's source (that cell, the answer cells it calls and the imports it needs:
:func:`solution_namespace`), runs every case and writes what they return to
``course_utils/checks/expected/<notebook>.json``; the check reads it back with :func:`expected`.
Exact results (integer labels, counts) are stored as :func:`~.core.salted_hash` values, so
the file does not give them away; float arrays are stored as numbers and compared with a
tolerance, since a hash of rounded floats can flip near a rounding boundary.

``course-utils build --check`` (``tests/test_build.py``) fails when a stored file differs
from what the current sources give (floats within :data:`RTOL`), like a stale notebook.
"""

from __future__ import annotations

import ast
import builtins
import functools
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

EXPECTED_DIR = Path(__file__).resolve().parent / "expected"
RTOL, ATOL = 1e-9, 1e-12  # staleness: floats of another platform's BLAS still agree


class ExpectedMissing(RuntimeError):
    """A check asked for an expected output the stored file lacks: rebuild."""


@dataclass(frozen=True)
class Case:
    """Expected outputs of one check: computed by ``compute`` from the solution's answer."""

    notebook: str
    name: str  # the key in the notebook's file; usually the check's name
    grade_id: str  # the answer cell whose solution ``compute`` calls
    compute: Callable[[Mapping[str, object]], dict]  # solution namespace -> plain data


_CASES: dict[str, dict[str, Case]] = {}


def case(notebook: str, name: str, grade_id: str) -> Callable:
    """Decorator: register ``compute(solution)`` as the expected outputs ``name`` of ``notebook``.

    ``solution`` maps the names the answer cell ``grade_id`` defines (its function) to the
    solution's objects; ``compute`` calls them on the check's fixed inputs and returns plain
    data (hashes, numbers, nested lists) for the JSON file.
    """

    def wrap(compute: Callable[[Mapping[str, object]], dict]) -> Callable:
        _CASES.setdefault(notebook, {})[name] = Case(notebook, name, grade_id, compute)
        return compute

    return wrap


def cases(notebook: str) -> dict[str, Case]:
    """The cases of ``notebook`` (importing its check module registers them); {} when none."""
    from .core import MODULE_OF_NOTEBOOK, load_checks

    if notebook in MODULE_OF_NOTEBOOK:
        load_checks(notebook)
    return _CASES.get(notebook, {})


def path_of(notebook: str) -> Path:
    """Where the expected outputs of ``notebook`` are stored."""
    return EXPECTED_DIR / f"{notebook}.json"


@functools.cache
def _stored(notebook: str) -> dict:
    """The stored expected outputs of ``notebook`` ({} when it has no file)."""
    path = path_of(notebook)
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def expected(notebook: str, name: str) -> dict:
    """The stored expected outputs of case ``name``; raises :class:`ExpectedMissing` if absent."""
    stored = _stored(notebook)
    if name not in stored:
        raise ExpectedMissing(f"no expected outputs {name!r} for {notebook} in "
                              f"{path_of(notebook)}: run `course-utils build`.")
    return stored[name]


# --- running the solution's answer cell ------------------------------------------------------

def _code_cells(source: Path) -> list:
    """The code cells of a jupytext source, with their authoring metadata."""
    import jupytext

    return [c for c in jupytext.read(source, fmt="py:percent").cells if c.cell_type == "code"]


def _bound(node: ast.stmt) -> list[str]:
    """The names a top-level import, def or class statement binds."""
    if isinstance(node, ast.Import):
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    if isinstance(node, ast.ImportFrom):
        return [a.asname or a.name for a in node.names]
    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        return [node.name]
    return []


def _definitions(cells: list) -> dict[str, str]:
    """Name -> code defining it: every top-level import, and the answer cells' defs and classes.

    An import of several names is split, so that running one definition imports one name.
    """
    found: dict[str, str] = {}
    for cell in cells:
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:  # a cell with IPython magics: it defines nothing we run
            continue
        answer = "answer" in cell.metadata.get("tags", [])
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    one = ast.ImportFrom(module=node.module, names=[alias], level=node.level) \
                        if isinstance(node, ast.ImportFrom) else ast.Import(names=[alias])
                    found.setdefault(_bound(one)[0], ast.unparse(one))
            elif answer and _bound(node):
                lines = cell.source.splitlines()
                first = min([node.lineno] + [d.lineno for d in node.decorator_list])
                text = "\n".join(lines[first - 1:node.end_lineno])
                for name in _bound(node):
                    found.setdefault(name, text)
    return found


def _free_names(code: str) -> set[str]:
    """Names ``code`` reads but does not bind itself (nor are builtins)."""
    tree = ast.parse(code)
    read, bound = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
    return read - bound - set(dir(builtins))


def _needed(code: str, definitions: dict[str, str]) -> list[str]:
    """The definitions ``code`` needs, transitively, dependencies first."""
    order: list[str] = []

    def visit(text: str, seen: set[str]) -> None:
        for name in sorted(_free_names(text)):
            if name in definitions and name not in seen:
                seen.add(name)
                visit(definitions[name], seen)
                order.append(definitions[name])

    visit(code, set())
    return list(dict.fromkeys(order))


def solution_namespace(source: Path, grade_id: str) -> dict[str, object]:
    """Run the solution of answer cell ``grade_id`` in ``source``; the names it defines.

    Only that cell runs, after the imports and the other answer cells' functions it calls, so
    building the expected outputs needs no data and no training.
    """
    cells = _code_cells(source)
    answer = [c for c in cells if c.metadata.get("grade_id") == grade_id]
    if len(answer) != 1:
        raise KeyError(f"{source.name} has no answer cell with grade_id {grade_id!r}")
    code = answer[0].source
    namespace: dict[str, object] = {"__name__": f"solution_{source.stem}"}
    for definition in [*_needed(code, _definitions(cells)), code]:
        exec(compile(definition, f"{source.name}:{grade_id}", "exec"), namespace)  # noqa: S102
    return namespace


def compute(source: Path) -> dict | None:
    """Every case of the notebook ``source`` is the source of, computed; None when it has none."""
    found = cases(source.stem)
    if not found:
        return None
    namespaces: dict[str, dict] = {}
    out = {}
    for name, one in sorted(found.items()):
        if one.grade_id not in namespaces:
            namespaces[one.grade_id] = solution_namespace(source, one.grade_id)
        out[name] = one.compute(namespaces[one.grade_id])
    return json.loads(json.dumps(out))  # what reading the file back gives


def dumps(data: dict) -> str:
    """Deterministic JSON text of a notebook's expected outputs (sorted keys, final newline)."""
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def same(a: object, b: object) -> bool:
    """True when two expected-output structures agree: floats within RTOL/ATOL, the rest exactly."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        return (isinstance(a, (int, float)) and isinstance(b, (int, float))
                and math.isclose(a, b, rel_tol=RTOL, abs_tol=ATOL))
    return type(a) is type(b) and a == b


def _status(source: Path) -> tuple[str | None, dict | None]:
    """(why the stored file of ``source``'s notebook is stale or None, what it should hold)."""
    want = compute(source)
    path = path_of(source.stem)
    if want is None:
        return ("has no cases any more" if path.is_file() else None), None
    if not path.is_file():
        return "missing", want
    fresh = same(json.loads(path.read_text(encoding="utf-8")), want)
    return (None if fresh else "out of date"), want


def stale(source: Path) -> str | None:
    """Why the stored file of ``source``'s notebook is stale, or None when it is up to date."""
    return _status(source)[0]


def write(source: Path) -> bool:
    """Write the expected outputs of ``source``'s notebook if stale; True when it wrote.

    A file that agrees within the tolerance is left as it is, so rebuilding on another
    platform does not churn it.
    """
    why, want = _status(source)
    if why is None:
        return False
    path = path_of(source.stem)
    if want is None:
        path.unlink()
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dumps(want), encoding="utf-8")
    _stored.cache_clear()
    return True
