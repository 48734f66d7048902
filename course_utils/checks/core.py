"""The inline-check mechanism: a ✓ with why it matters, or a ✗ with a hint that teaches.

A notebook's checks live in one module (``course_utils/checks/kmeans.py`` for 01_kmeans …),
registered with :func:`register`. In the notebook::

    from course_utils.checks import Checker
    check = Checker("01_kmeans", globals())
    ...
    check("assign_step")      # after the exercise: ✓, or ✗ with a hint (raises under grading)
    check.use_reference("assign_step")  # next cell: the course's reference if it failed
    ...
    check.all()               # last cell: progress summary, catches names overwritten later

A check function takes the student's objects as parameters named like the notebook's variables;
the Checker looks them up in the notebook's namespace. It calls :func:`expect` with a hint that
says what is wrong and where to look, never the answer. A failed check prints its ✗ and hint
and lets "Run All" go on; in grade mode it raises :class:`CheckFailed` (IPython shows only the
hint), although ``course-utils grade`` judges check cells itself, outside the kernel.
References (:mod:`course_utils.references`) let the cells after a failed exercise go on.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..references import MARK as REFERENCE_MARK  # a reference object's attribute: its checks

RESULTS_ENV = "COURSE_CHECK_RESULTS"
_SALT = "bioimage-ml-workbook"
MODULE_OF_NOTEBOOK = {  # notebook stem -> module in course_utils.checks
    "01_kmeans": "kmeans",
    "02_svm": "svm",
    "03_cross_validation": "cross_validation",
    "04_unet_segmentation": "segmentation",
    "05_autoencoder_umap": "single_cell",
    "06_finetuning": "finetuning",
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
    notebook: str = ""


_REGISTRY: dict[str, dict[str, CheckSpec]] = {}
_GRADING_SECRET: list[str] = []  # set in the grader's process only, never in a kernel


def register(notebook: str, name: str, why: str, hidden: bool = False) -> Callable:
    """Decorator: register ``func`` as the check ``name`` of ``notebook``.

    ``hidden=True`` marks a check that only a hidden-test region calls: ``Checker.all()`` then
    leaves it out of the student's summary unless it already ran (as it does under grading).
    """

    def wrap(func: Callable) -> Callable:
        params = list(inspect.signature(func).parameters)
        _REGISTRY.setdefault(notebook, {})[name] = CheckSpec(name, func, why, params, hidden,
                                                             notebook)
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


def _unanswered(value: object) -> bool:
    """True for the ``...`` a value exercise's stub leaves (inline, or a proxy of it)."""
    from .remote import Remote

    if isinstance(value, Remote):
        return value.type_name == "ellipsis"
    return value is Ellipsis


def _reference_mark(value: object) -> object:
    """The :data:`REFERENCE_MARK` attribute of an object (under grading, read in its kernel)."""
    from .remote import Remote

    if value is None or isinstance(value, (bool, int, float, str, tuple, list, dict)):
        return None  # plain data carries no mark (and under grading arrives as plain data)
    try:
        if isinstance(value, Remote):
            return getattr(value, REFERENCE_MARK)
        return getattr(value, REFERENCE_MARK, None)
    except Exception:  # noqa: BLE001 - no mark (AttributeError), or an object that breaks on it
        return None


def answered_by_reference(spec: CheckSpec, values: Mapping[str, object]) -> str | None:
    """The first name among ``values`` that holds the course's reference for ``spec``'s exercise.

    A reference object (:mod:`course_utils.references`) carries :data:`REFERENCE_MARK`: the
    checks it answers. Only objects can carry it; plain values (a number, an array) that the
    reference filled are caught by the Checker inline and never filled under grading.
    """
    from .. import references

    answers = references.provided_names(spec.notebook, spec.name)
    for name in spec.params:
        if name in answers and name in values:
            mark = _reference_mark(values[name])
            if isinstance(mark, (list, tuple)) and spec.name in mark:
                return name
    return None


def judge(spec: CheckSpec, namespace: Mapping) -> tuple[bool, str]:
    """Run one check on the names it reads and return (passed, why-or-hint) without raising.

    ``namespace`` is the notebook's ``globals()`` inline, or under grading a
    :class:`~.remote.RemoteNamespace`: the same judging code gives both verdicts. A name the
    exercise's stub left as ``...``, or one that holds the course's reference for this
    exercise, fails before the check runs.
    """
    try:
        missing = [p for p in spec.params if p not in namespace]
        if missing:
            names = ", ".join(f"`{p}`" for p in missing)
            return False, (f"{names} not defined yet: write the exercise cell so that it "
                           "sets it (replace `raise NotImplementedError()`), then run it and "
                           "the cells above it.")
        values = {p: namespace[p] for p in spec.params}
        stubs = [p for p, v in values.items() if _unanswered(v)]
        if stubs:
            names = ", ".join(f"`{p}`" for p in stubs)
            verb = "is" if len(stubs) == 1 else "are"
            return False, (f"{names} {verb} still `...`: the exercise is not answered yet. "
                           "Replace the `...` in the exercise cell with your code, run it, "
                           "then this check.")
        if (used := answered_by_reference(spec, values)) is not None:
            return False, (f"`{used}` is the course's reference (check.use_reference), not "
                           "your answer: it scores nothing. Write the exercise cell yourself "
                           "and run it again; the reference was only there so that the cells "
                           "after it could run.")
        spec.func(**values)
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


def _answers_of(notebook: str, check: str) -> tuple[str, ...]:
    """The checks that the reference for ``check`` answers (``check`` and its hidden twins)."""
    from .. import references

    return references.get(notebook, check).checks


def load_checks(notebook: str, module: str | None = None) -> dict[str, CheckSpec]:
    """The checks of ``notebook``: its module in this package, or ``module`` (a full name)."""
    if module is None:
        if notebook not in MODULE_OF_NOTEBOOK:
            raise KeyError(f"no checks for notebook {notebook!r}; "
                           f"known: {sorted(MODULE_OF_NOTEBOOK)}")
        module = f"{__package__}.{MODULE_OF_NOTEBOOK[notebook]}"
    importlib.import_module(module)
    return _REGISTRY.get(notebook, {})


_ABSENT = object()  # a name not (yet) in the notebook


class Checker:
    """Runs one notebook's checks against the notebook's own namespace."""

    def __init__(self, notebook: str, namespace: dict, module: str | None = None,
                 strict: bool | None = None) -> None:
        """Load ``notebook``'s checks: its module in this package, or ``module`` (a full name).

        ``strict``: a failed check raises :class:`CheckFailed` instead of printing its ✗ and
        letting the notebook go on; None (the default) means only in grade mode.
        """
        self.notebook, self.namespace = notebook, namespace
        self.specs = load_checks(notebook, module)
        self.results: dict[str, bool] = {}
        self.strict = strict
        self.filled: dict[str, tuple[str, object]] = {}  # name -> (check, the reference put there)
        self._verdicts: dict[str, tuple[bool, str, list]] = {}  # check -> verdict, objects judged

    def _objects(self, name: str) -> list:
        """The objects check ``name`` reads now (to reuse its verdict while they stay the same)."""
        spec = self.specs.get(name)
        return [self.namespace.get(p, _ABSENT) for p in (spec.params if spec else [])]

    def _verdict(self, name: str) -> tuple[bool, str]:
        """Check ``name``'s verdict: the last one while it reads the same objects, else anew."""
        if name in self._verdicts:
            passed, message, objects = self._verdicts[name]
            if all(a is b for a, b in zip(objects, self._objects(name), strict=True)):
                return passed, message
        return self._run(name)

    def __call__(self, name: str, quiet: bool = False) -> None:
        """Run check ``name``: print ✓, or ✗ with a hint (raise CheckFailed when strict).

        Outside grade mode a failure does not raise, so "Run All" goes on to the next exercise
        (the cell after the check can load the course's reference: :meth:`use_reference`).
        Returns nothing, so that a check cell shows the ✓ line and no stray ``True``.
        """
        passed, message = self._run(name)
        self.results[name] = passed
        self._verdicts[name] = (passed, message, self._objects(name))
        self._record(name, passed, message)
        if not passed:
            if self._strict():
                raise CheckFailed(message)
            print(f"✗ {name}: {message}", file=sys.stderr)
        elif not quiet:
            print(f"✓ {name}: {message}")

    def _strict(self) -> bool:
        from ..mode import get_mode

        return self.strict if self.strict is not None else get_mode() == "grade"

    def _run(self, name: str) -> tuple[bool, str]:
        """Run one check and return (passed, why-or-hint) without raising."""
        spec = self.specs.get(name)
        if spec is None:
            raise KeyError(f"{self.notebook} has no check {name!r}; known: {sorted(self.specs)}")
        for param in spec.params:  # a plain value the reference filled carries no mark
            check, obj = self.filled.get(param, ("", None))
            if check and self.namespace.get(param, None) is obj and \
                    name in _answers_of(self.notebook, check):
                return False, (f"`{param}` is the course's reference (loaded by "
                               f"check.use_reference({check!r})), not your answer. Write the "
                               "exercise cell yourself and run it again.")
        return judge(spec, self.namespace)

    def use_reference(self, name: str) -> None:
        """Put the course's reference for exercise ``name`` where the notebook needs it.

        Only when the exercise's check fails now (unanswered, or wrong): a correct answer is
        never replaced. Prints what it loaded and why. The reference objects come from
        :mod:`course_utils.references` (imported, never shown as source) and score nothing
        (:func:`answered_by_reference`). In grade mode it loads nothing: a graded notebook is
        judged on the student's own work, whatever a cell after it needs.
        """
        from .. import references
        from ..mode import get_mode

        ref = references.get(self.notebook, name)
        if get_mode() == "grade":
            print(f"grading: the course's reference for {name} is not loaded; the cells "
                  "below use your own " + ", ".join(f"`{n}`" for n in ref.names) + ".")
            return
        if ref.names and all(self.filled.get(n, ("", _ABSENT))[1] is self.namespace.get(n)
                             for n in ref.names):
            print(f"the course's reference for {name} is already loaded.")
            return
        passed, why = self._verdict(name)
        if passed:
            print(f"✓ {name} passes: your own " + ", ".join(f"`{n}`" for n in ref.names)
                  + " stay(s); no reference needed.")
            return
        built = references.build_reference(ref, self.namespace)
        self.namespace.update(built)
        for key, obj in built.items():
            self.filled[key] = (name, obj)
        first = re.split(r"[:;]|\. ", why, maxsplit=1)[0].rstrip(".")
        print(f"using the course's reference {', '.join(f'`{n}`' for n in built)} because "
              f"the {name} check fails ({first}). It is there so that the cells below run; "
              "it scores nothing — fix your exercise cell and run it again when you can.")

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
