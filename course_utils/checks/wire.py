"""Plain data between a grading kernel and the grader: JSON plus tagged NumPy arrays, no pickles.

Under grading a check judges in the grader's process what the student's objects gave in their
kernel (see :mod:`.agent` and :mod:`.remote`). Everything that crosses is plain data: numbers,
strings, lists, tuples, dicts, NumPy arrays and scalars (as ``.npy`` bytes, ``allow_pickle``
off), torch tensors (as arrays), ranges. Decoding never runs code: what a hostile kernel sends
can at worst be wrong, never act. Objects that are not plain data stay in the kernel and cross
as a handle (``encode``'s ``fallback``), which the grader can call or ask for attributes.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from typing import Any

import numpy as np

MAX_DEPTH = 32
MAX_BYTES = 64 << 20  # a reply larger than this is refused (a hostile or runaway answer)
PLAIN_KINDS = "biufc"  # bool, int, unsigned, float, complex arrays cross; object arrays don't


class WireError(ValueError):
    """A message is not plain data (or is too large or too deep)."""


def _npy(array: np.ndarray) -> str:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _from_npy(text: str) -> np.ndarray:
    return np.load(io.BytesIO(base64.b64decode(text, validate=True)), allow_pickle=False)


def _tensor_type() -> type | None:
    """torch.Tensor if torch is already imported (encoding never imports it)."""
    import sys

    torch = sys.modules.get("torch")
    return getattr(torch, "Tensor", None)


def to_plain(value: Any, fallback: Callable[[Any], dict] | None = None, depth: int = 0) -> Any:
    """``value`` as JSON-ready plain data; ``fallback(obj)`` gives a tag for anything else."""
    if depth > MAX_DEPTH:
        raise WireError("data nested too deeply")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.ndarray) and value.dtype.kind in PLAIN_KINDS:
        return {"__ndarray__": _npy(value)}
    if isinstance(value, np.generic) and np.dtype(type(value)).kind in PLAIN_KINDS:
        return {"__npscalar__": _npy(np.asarray(value))}
    tensor = _tensor_type()
    if tensor is not None and isinstance(value, tensor):
        return {"__tensor__": _npy(value.detach().cpu().numpy())}
    if isinstance(value, range):
        return {"__range__": [value.start, value.stop, value.step]}
    if isinstance(value, (list, tuple)):
        items = [to_plain(v, fallback, depth + 1) for v in value]
        return items if isinstance(value, list) else {"__tuple__": items}
    if isinstance(value, dict):
        return {"__dict__": [[to_plain(k, fallback, depth + 1), to_plain(v, fallback, depth + 1)]
                             for k, v in value.items()]}
    if fallback is None:
        raise WireError(f"{type(value).__name__} is not plain data")
    return fallback(value)


def from_plain(data: Any, handle: Callable[[dict], Any] | None = None, depth: int = 0) -> Any:
    """Rebuild what :func:`to_plain` made; ``handle(tag)`` rebuilds a handle tag."""
    if depth > MAX_DEPTH:
        raise WireError("data nested too deeply")
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [from_plain(v, handle, depth + 1) for v in data]
    if not isinstance(data, dict) or len(data) < 1:
        raise WireError(f"unexpected {type(data).__name__} in a message")
    if "__handle__" in data:
        if handle is None:
            raise WireError("a handle where only plain data may come")
        return handle(data)
    (tag, body), = list(data.items())[:1]
    if tag == "__ndarray__":
        return _from_npy(body)
    if tag == "__npscalar__":
        return _from_npy(body)[()]
    if tag == "__tensor__":
        import torch

        return torch.from_numpy(_from_npy(body).copy())
    if tag == "__range__":
        return range(*(int(v) for v in body))
    if tag == "__tuple__":
        return tuple(from_plain(v, handle, depth + 1) for v in body)
    if tag == "__dict__":
        return {_key(from_plain(k, handle, depth + 1)): from_plain(v, handle, depth + 1)
                for k, v in body}
    raise WireError(f"unknown tag {tag!r} in a message")


def _key(value: Any) -> Any:
    """A dict key as it came (arrays and lists are not hashable: refuse them)."""
    try:
        hash(value)
    except TypeError:
        raise WireError("an unhashable dict key") from None
    return value


def dumps(value: Any, fallback: Callable[[Any], dict] | None = None) -> str:
    """Encode ``value`` as one JSON text."""
    return json.dumps(to_plain(value, fallback), separators=(",", ":"))


def loads(text: str, handle: Callable[[dict], Any] | None = None) -> Any:
    """Decode one JSON text made by :func:`dumps` (refusing more than MAX_BYTES)."""
    if len(text) > MAX_BYTES:
        raise WireError(f"message of {len(text) >> 20} MB is larger than the "
                        f"{MAX_BYTES >> 20} MB allowed")
    try:
        return from_plain(json.loads(text), handle)
    except (ValueError, TypeError, KeyError) as exc:
        if isinstance(exc, WireError):
            raise
        raise WireError(f"not a valid message ({type(exc).__name__}: {exc})") from None
