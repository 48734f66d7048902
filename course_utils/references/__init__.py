"""The course's reference answers: working objects for the cells after a failed exercise.

A student who is stuck on an exercise runs ``check.use_reference("name")`` in the cell after
its check (:meth:`course_utils.checks.core.Checker.use_reference`). That fills the names the
exercise sets with objects built here — a function, a class, a fitted model, a number — so the
rest of the notebook runs. The notebook imports them; it never shows their source (which is,
like the check modules, readable in this package: see docs/AUTHORING.md, "Continuing after a
failed exercise").

Every object that can carry an attribute is marked with
:data:`~course_utils.checks.core.REFERENCE_MARK`: the checks it answers. The judging code
reads the mark (inline and, through the remote proxies, under grading), so an exercise answered
by the reference scores zero. References are never built in grade mode.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass

MODULE_OF_NOTEBOOK = {"01_kmeans": "kmeans", "02_svm": "svm",
                      "03_cross_validation": "cross_validation",
                      "04_unet_segmentation": "segmentation",
                      "05_autoencoder_umap": "single_cell", "06_finetuning": "finetuning"}
MARK = "course_reference"  # the same name as checks.core.REFERENCE_MARK


class NoReference(LookupError):
    """No such reference, or one asked for where it must not be built (grade mode)."""


@dataclass(frozen=True)
class Reference:
    """The reference answer of one exercise: what it fills and what builds it."""

    notebook: str
    name: str  # the exercise's check, as in check("name") and check.use_reference("name")
    names: tuple[str, ...]  # the notebook names it fills
    checks: tuple[str, ...]  # the checks it answers: these score zero on a marked object
    make: Callable[..., dict[str, object]]  # parameters: the notebook names it needs
    params: tuple[str, ...] = ()


_REFERENCES: dict[str, dict[str, Reference]] = {}


def reference(notebook: str, name: str, names: tuple[str, ...],
              also: tuple[str, ...] = ()) -> Callable:
    """Register ``make`` as the reference of exercise ``name``: it returns ``{name: object}``.

    ``also``: further checks that judge the same names (a hidden twin, a second check of the
    same answer); the reference answers those too.
    """

    def wrap(make: Callable[..., dict[str, object]]) -> Callable:
        params = tuple(name for name, p in inspect.signature(make).parameters.items()
                       if p.default is inspect.Parameter.empty)  # defaults: not notebook names
        ref = Reference(notebook, name, tuple(names), (name, *also), make, params)
        _REFERENCES.setdefault(notebook, {})[name] = ref
        if not params:  # this package's own functions and classes: marked as they load
            for obj in make().values():
                marked(obj, ref.checks)
        return make

    return wrap


def references_of(notebook: str) -> dict[str, Reference]:
    """Every reference of ``notebook`` (none for a notebook outside the course)."""
    module = MODULE_OF_NOTEBOOK.get(notebook)
    if module is not None:
        importlib.import_module(f"{__name__}.{module}")
    return _REFERENCES.get(notebook, {})


def get(notebook: str, name: str) -> Reference:
    """The reference of exercise ``name`` in ``notebook``."""
    found = references_of(notebook)
    if name not in found:
        raise NoReference(f"{notebook} has no reference {name!r}; known: {sorted(found)}")
    return found[name]


def provided_names(notebook: str, check: str) -> set[str]:
    """The notebook names that a reference answering ``check`` fills (empty when none does)."""
    return {n for ref in references_of(notebook).values() if check in ref.checks
            for n in ref.names}


def marked(obj: object, checks: tuple[str, ...]) -> object:
    """``obj`` with the mark of the reference answer of ``checks``; plain values as they are.

    Functions and classes are this package's own objects, marked in place when their module loads
    (:func:`reference`), so importing one from here is caught as well as
    ``use_reference``; a subclass inherits the mark. A built object (a fitted model) gets it
    itself; a number, an array or a tuple cannot carry one.
    """
    try:
        setattr(obj, MARK, checks)
    except (AttributeError, TypeError):  # a number, an array, a tuple: nothing to mark
        pass
    return obj


def build_reference(ref: Reference, namespace: Mapping[str, object]) -> dict[str, object]:
    """Build ``ref``'s objects from the notebook's names, each marked; never in grade mode."""
    from ..mode import get_mode

    if get_mode() == "grade":
        raise NoReference("the course's references are not built in grade mode")
    missing = [p for p in ref.params if p not in namespace]
    if missing:
        raise NoReference(f"the reference for {ref.name} needs "
                             + ", ".join(f"`{p}`" for p in missing)
                             + ": run the cells above first.")
    built = ref.make(**{p: namespace[p] for p in ref.params})
    return {name: marked(built[name], ref.checks) for name in ref.names}
