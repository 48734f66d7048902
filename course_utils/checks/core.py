"""The inline-check mechanism: a ✓ with why it matters, or a ✗ with a hint that teaches.

A notebook's checks live in one module (``course_utils/checks/kmeans.py`` for 01_kmeans …),
registered with :func:`register`. In the notebook::

    from course_utils.checks import Checker
    check = Checker("01_kmeans", globals())
    ...
    check("assign_step")      # after the exercise; raises CheckFailed when it is wrong
    ...
    check.all()               # last cell: progress summary, catches names overwritten later

A check function takes the student's objects as parameters named like the notebook's variables;
the Checker looks them up in the notebook's namespace. It calls :func:`expect` with a hint that
says what is wrong and where to look, never the answer. A failed check raises
:class:`CheckFailed`, so nbgrader scores the cell zero; IPython shows only the hint.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

RESULTS_ENV = "COURSE_CHECK_RESULTS"
_SALT = "bioimage-ml-workbook"
MODULE_OF_NOTEBOOK = {  # notebook stem -> module in course_utils.checks
    "01_kmeans": "kmeans",
    "02_svm": "svm",
    "03_cross_validation": "cross_validation",
    "04_unet_segmentation": "segmentation",
    "05_autoencoder_umap": "single_cell",
}


class CheckFailed(AssertionError):
    """A check found a mistake; the message is the hint shown to the student."""

    def _render_traceback_(self) -> list[str]:  # IPython: show the hint, not a traceback
        return [f"✗ {self}"]


@dataclass
class CheckSpec:
    """One registered check: its function, why it matters, and the names it reads."""

    name: str
    func: Callable[..., object]
    why: str
    params: list[str] = field(default_factory=list)
    hidden: bool = False  # called only in a check cell's hidden-test region


_REGISTRY: dict[str, dict[str, CheckSpec]] = {}
_GRADING_SECRET: list[str] = []  # set in the grader's process only, never in a kernel


def register(notebook: str, name: str, why: str, hidden: bool = False) -> Callable:
    """Decorator: register ``func`` as the check ``name`` of ``notebook``.

    ``hidden=True`` marks a check that only a hidden-test region calls: ``Checker.all()`` then
    leaves it out of the student's summary unless it already ran (as it does under grading).
    """

    def wrap(func: Callable) -> Callable:
        params = list(inspect.signature(func).parameters)
        _REGISTRY.setdefault(notebook, {})[name] = CheckSpec(name, func, why, params, hidden)
        return func

    return wrap


def set_grading_secret(secret: str | None) -> None:
    """Make :func:`hidden_seed` draw from ``secret`` (the grader's, per batch); None: inline."""
    _GRADING_SECRET[:] = [secret] if secret else []


def hidden_seed(seed: int) -> int:
    """The random seed of a hidden check's inputs.

    ``seed`` itself inline; in the grader, a number derived from the batch's secret, so the
    inputs of a hidden check can't be read from this package before grading.
    """
    if not _GRADING_SECRET:
        return seed
    digest = hashlib.sha256(f"{_GRADING_SECRET[0]}:{seed}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def expect(condition: object, hint: str) -> None:
    """Fail the running check with ``hint`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailed(hint)


def salted_hash(value: object) -> str:
    """A salted sha256 of a value's canonical JSON, for the rare check that needs an exact value."""
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(f"{_SALT}:{text}".encode()).hexdigest()


def matches_hash(value: object, expected: str) -> bool:
    """True when ``value`` hashes to ``expected`` (see :func:`salted_hash`)."""
    return salted_hash(value) == expected


def call_student(func: Callable, *args: object, what: str, **kwargs: object) -> object:
    """Call a student's function; turn a stub or a crash into a hint instead of a traceback.

    Under grading ``func`` is a :class:`~.remote.Remote`: it runs in the student's kernel and
    its exceptions come back here as the same built-in types (or as ``StudentError``).
    """
    try:
        return func(*args, **kwargs)
    except NotImplementedError:
        raise CheckFailed(f"{what} is not written yet: replace `raise NotImplementedError()` with "
                          "your code in the exercise cell, run it, then run this check.") from None
    except CheckFailed:
        raise
    except Exception as exc:  # the student's code crashed: say where and how
        kind = getattr(exc, "ename", type(exc).__name__)
        if kind == CheckFailed.__name__:  # a check's probe said it, in the student's kernel
            raise CheckFailed(str(exc)) from None
        raise CheckFailed(f"{what} raised {kind}: {exc}. Read the message, fix "
                          "the exercise cell, run it again, then this check.") from None


def probe(func: Callable, *args: object, **kwargs: object) -> object:
    """Run ``func`` (a check module's function) where the student's objects in ``args`` live.

    Inline that is here. Under grading, when an argument is a proxy of an object in the
    student's kernel (a model, a class), ``func`` runs in that kernel and only its plain-data
    result comes back; the judgement on that result stays with the caller, in the grader.
    """
    from .remote import Remote

    remote = [a for a in (*args, *kwargs.values()) if isinstance(a, Remote)]
    if not remote:
        return func(*args, **kwargs)
    return remote[0]._channel.request("probe", func=f"{func.__module__}:{func.__qualname__}",
                                      args=list(args), kwargs=kwargs)


def build(near: object, func: Callable, *args: object, **kwargs: object) -> object:
    """``func(*args, **kwargs)`` made where ``near`` (a student's object) lives: an input for it.

    A check that hands the student's function an object that is not plain data (an unfitted
    estimator, a CV splitter) builds one copy here, for its own reference result, and one with
    this beside the student's object: under grading that is in the student's kernel.
    """
    from .remote import Remote

    if not isinstance(near, Remote):
        return func(*args, **kwargs)
    return near._channel.request("probe", func=f"{func.__module__}:{func.__qualname__}",
                                 args=list(args), kwargs=kwargs)


def is_instance(obj: object, cls: type) -> bool:
    """``isinstance`` for a student's object wherever it lives (under grading, by type name)."""
    from .remote import Remote

    if isinstance(obj, Remote):
        return obj.type_name == cls.__name__
    return isinstance(obj, cls)


def judge(spec: CheckSpec, namespace: Mapping) -> tuple[bool, str]:
    """Run one check on the names it reads and return (passed, why-or-hint) without raising.

    ``namespace`` is the notebook's ``globals()`` inline, or under grading a
    :class:`~.remote.RemoteNamespace`: the same judging code gives both verdicts.
    """
    try:
        missing = [p for p in spec.params if p not in namespace]
        if missing:
            names = ", ".join(f"`{p}`" for p in missing)
            return False, (f"{names} not defined yet: write the exercise cell so that it "
                           "sets it (replace `raise NotImplementedError()`), then run it and "
                           "the cells above it.")
        spec.func(**{p: namespace[p] for p in spec.params})
    except CheckFailed as exc:
        return False, str(exc)
    except NotImplementedError:
        return False, ("not written yet: replace `raise NotImplementedError()` in the "
                       "exercise cell with your code.")
    except Exception as exc:  # a student object broke the check itself
        kind = getattr(exc, "ename", type(exc).__name__)
        return False, (f"checking raised {kind}: {exc}. Is the object "
                       "the exercise asked for (type, shape)?")
    return True, spec.why


def load_checks(notebook: str, module: str | None = None) -> dict[str, CheckSpec]:
    """The checks of ``notebook``: its module in this package, or ``module`` (a full name)."""
    if module is None:
        if notebook not in MODULE_OF_NOTEBOOK:
            raise KeyError(f"no checks for notebook {notebook!r}; "
                           f"known: {sorted(MODULE_OF_NOTEBOOK)}")
        module = f"{__package__}.{MODULE_OF_NOTEBOOK[notebook]}"
    importlib.import_module(module)
    return _REGISTRY.get(notebook, {})


class Checker:
    """Runs one notebook's checks against the notebook's own namespace."""

    def __init__(self, notebook: str, namespace: dict, module: str | None = None) -> None:
        """Load ``notebook``'s checks: its module in this package, or ``module`` (a full name)."""
        self.notebook, self.namespace = notebook, namespace
        self.specs = load_checks(notebook, module)
        self.results: dict[str, bool] = {}

    def __call__(self, name: str, quiet: bool = False) -> None:
        """Run check ``name``: print ✓, or raise CheckFailed with a hint.

        Returns nothing, so that a check cell shows the ✓ line and no stray ``True``.
        """
        passed, message = self._run(name)
        self.results[name] = passed
        self._record(name, passed, message)
        if not passed:
            raise CheckFailed(message)
        if not quiet:
            print(f"✓ {name}: {message}")

    def _run(self, name: str) -> tuple[bool, str]:
        """Run one check and return (passed, why-or-hint) without raising."""
        spec = self.specs.get(name)
        if spec is None:
            raise KeyError(f"{self.notebook} has no check {name!r}; known: {sorted(self.specs)}")
        return judge(spec, self.namespace)

    def _record(self, name: str, passed: bool, message: str) -> None:
        """Append the result for ``course-utils validate`` when it asked for results."""
        path = os.environ.get(RESULTS_ENV)
        if path:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"notebook": self.notebook, "check": name,
                                     "passed": passed, "message": message},
                                    ensure_ascii=False) + "\n")

    def all(self) -> None:
        """Re-run every check of this notebook and print a progress summary.

        Hidden checks count only once they ran. Under grading nothing is re-run: the grader
        judges the check cells itself, outside this kernel, and their outputs hold the verdicts.
        """
        from ..mode import get_mode

        if get_mode() == "grade":
            print("Graded: the verdict of each check is the output of its check cell above.")
            return
        rerun = {}
        for name, spec in self.specs.items():
            if spec.hidden and name not in self.results:
                continue
            passed, message = self._run(name)
            rerun[name] = passed
            note = ""
            if self.results.get(name) and not passed:
                note = "  (passed earlier: a later cell overwrote a name it uses)"
            mark = "✓" if passed else "✗"
            print(f"{mark} {name}" + ("" if passed else f": {message}") + note)
        done = sum(rerun.values())
        print(f"\n{done} of {len(rerun)} checks pass in {self.notebook}.")
