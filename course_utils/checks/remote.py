"""The grader's view of a student's kernel: names fetched as plain data, objects as proxies.

A check judged by the grader gets a :class:`RemoteNamespace` instead of the notebook's
``globals()``. Looking a name up fetches its value as plain data (:mod:`.wire`); an object
that is not plain data (a function, a class, a fitted model) comes as a :class:`Remote`:
calling it calls the object in the kernel with the check's arguments and brings the result
back the same way, and its attributes are fetched on demand. An exception the student's code
raised comes back as the same built-in exception type (``NotImplementedError``,
``AttributeError`` …) or as :class:`StudentError`, so the check's hints read as they do
inline. The check code itself, and so the verdict, runs only in the grader's process.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from . import wire

Send = Callable[[str], str]  # one request to the kernel's agent, its one-line answer


class StudentError(Exception):
    """The student's code raised an exception that is not a built-in one."""

    def __init__(self, ename: str, message: str) -> None:
        super().__init__(message)
        self.ename = ename


class Channel:
    """Requests to one kernel's :mod:`.agent`, and the proxies its answers contain."""

    def __init__(self, send: Send) -> None:
        self._send = send

    def request(self, op: str, **fields: Any) -> Any:
        """Send one request; its value, or the student's exception raised here."""
        answer = wire.loads(self._send(wire.dumps({"op": op, **fields}, _as_tag)),
                            lambda tag: Remote(self, tag))
        if not isinstance(answer, dict) or ("value" not in answer and "error" not in answer):
            raise wire.WireError("the kernel's answer is not a value or an error")
        if "error" in answer:
            raise _exception(*answer["error"])
        return answer["value"]


def _as_tag(obj: Any) -> dict:
    """A proxy goes back to its kernel as its handle; nothing else but plain data may go."""
    if isinstance(obj, Remote):
        return {"__handle__": obj._key}
    raise wire.WireError(f"{type(obj).__name__} cannot be sent to a kernel")


def _exception(ename: Any, message: Any) -> Exception:
    """The exception to raise here for one the kernel reported."""
    kind = getattr(builtins, str(ename), None)
    if isinstance(kind, type) and issubclass(kind, Exception) and kind is not StopIteration:
        return kind(str(message))
    return StudentError(str(ename), str(message))


class Remote:
    """An object that lives in the student's kernel: call it, or read its attributes."""

    def __init__(self, channel: Channel, tag: dict) -> None:
        self._channel = channel
        self._key = int(tag["__handle__"])
        self.type_name = str(tag.get("type", "object"))
        self._callable = bool(tag.get("callable"))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self._callable:
            raise TypeError(f"'{self.type_name}' object is not callable")
        return self._channel.request("call", target=self, args=list(args), kwargs=kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name.startswith("_channel"):
            raise AttributeError(name)
        return self._channel.request("attr", target=self, name=name)

    def __repr__(self) -> str:
        return f"<{self.type_name} in the student's kernel>"


def type_name(obj: Any) -> str:
    """The name of ``obj``'s type, wherever ``obj`` lives (for hints)."""
    return obj.type_name if isinstance(obj, Remote) else type(obj).__name__


class RemoteNamespace(Mapping):
    """The notebook's names, read from its kernel when a check asks for them."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self._seen: dict[str, tuple[bool, Any]] = {}

    def _get(self, name: str) -> tuple[bool, Any]:
        if name not in self._seen:
            answer = self.channel.request("get", name=name)
            if not (isinstance(answer, dict) and isinstance(answer.get("found"), bool)):
                raise wire.WireError(f"the kernel's answer for `{name}` is not readable")
            self._seen[name] = (answer["found"], answer.get("value"))
        return self._seen[name]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._get(name)[0]

    def __getitem__(self, name: str) -> Any:
        found, value = self._get(name)
        if not found:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:  # a kernel's namespace is not listed
        return iter(())

    def __len__(self) -> int:
        return 0
