"""The kernel's side of a judged check: hand the grader what it asks for, as plain data.

Under grading the check cells never run in the student's kernel. The grader judges each check in
its own process and asks this module (through IPython's ``user_expressions``, see
:mod:`course_utils.grading.judged_execute`) for the names the check reads, to call the
student's functions on inputs the grader chose, or to run a probe function of a check module
on a student's object. Whatever comes back is plain data (:mod:`.wire`); other objects stay
here and cross as handles. Nothing here decides anything: a student who patches this module
can only change what the grader *observes*, and the grader judges observations against what a
correct answer gives on its inputs.
"""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Iterator
from typing import Any

from . import wire

_HANDLES: dict[int, Any] = {}
_NEXT = itertools.count(1)
MAX_ITEMS = 10_000  # items of an iterator (say, a generator of folds) sent at most


def _handle(obj: Any) -> Any:
    """Keep ``obj`` here and describe it for the grader; an iterator crosses as its items."""
    if isinstance(obj, Iterator):
        return wire.to_plain(list(itertools.islice(obj, MAX_ITEMS)), _handle)
    key = next(_NEXT)
    _HANDLES[key] = obj
    return {"__handle__": key, "type": type(obj).__name__, "callable": callable(obj)}


def _resolve(tag: dict) -> Any:
    try:
        return _HANDLES[int(tag["__handle__"])]
    except (KeyError, ValueError, TypeError):
        raise LookupError("the grader asked for an object this kernel does not hold") from None


def _namespace() -> dict:
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        raise RuntimeError("no IPython kernel")
    return shell.user_ns


def _function(path: str) -> Any:
    """``module:qualified.name`` of a check module's probe."""
    module, _, name = path.partition(":")
    target = importlib.import_module(module)
    for part in name.split("."):
        target = getattr(target, part)
    return target


def _dispatch(request: dict) -> Any:
    op = request["op"]
    if op == "get":
        namespace = _namespace()
        name = request["name"]
        return {"found": name in namespace, "value": namespace.get(name)}
    args = request.get("args", ())
    kwargs = request.get("kwargs", {})
    if op == "call":
        return request["target"](*args, **kwargs)
    if op == "attr":
        return getattr(request["target"], request["name"])
    if op == "probe":
        return _function(request["func"])(*args, **kwargs)
    raise LookupError(f"unknown request {op!r}")


def serve(message: str) -> str:
    """Answer one request of the grader: ``{"value": ...}`` or ``{"error": [name, text]}``."""
    try:
        request = wire.loads(message, _resolve)
        return wire.dumps({"value": _dispatch(request)}, _handle)
    except BaseException as exc:  # noqa: BLE001 - the student's code raised: report it
        return wire.dumps({"error": [type(exc).__name__, str(exc)[:2000]]})
