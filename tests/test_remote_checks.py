"""Checks judged outside the student's namespace: plain data on the wire, proxies, verdicts.

The grader judges a check in its own process, reading the student's names through
:class:`RemoteNamespace`. Here the "kernel" is this process (the agent's namespace is a dict),
so the tests are fast; tests/test_grading.py runs the same path through real kernels.
"""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.checks import agent, wire
from course_utils.checks.core import hidden_seed, judge, load_checks, set_grading_secret
from course_utils.checks.remote import Channel, Remote, RemoteNamespace, StudentError


@pytest.fixture
def kernel(monkeypatch):
    """A namespace standing in for the student's kernel, and a channel to it."""
    namespace: dict = {}
    monkeypatch.setattr(agent, "_namespace", lambda: namespace)
    return namespace, Channel(agent.serve)


@pytest.mark.parametrize("value", [
    None, True, 3, -2.5, "text", (1, "a"), [1, [2, 3]], {3: "x", "k": (1, 2)}, range(2, 6),
    np.int64(7), np.float32(0.5), np.arange(6).reshape(2, 3), np.array([True, False]),
])
def test_plain_values_cross_unchanged(value):
    back = wire.loads(wire.dumps(value))
    assert type(back) is type(value)
    if isinstance(value, np.ndarray):
        assert back.dtype == value.dtype and np.array_equal(back, value)
    else:
        assert back == value


def test_what_is_not_plain_data_is_refused():
    with pytest.raises(wire.WireError):
        wire.dumps(np.array([object()]))
    with pytest.raises(wire.WireError):  # a handle only where the reader expects one
        wire.loads('{"__handle__": 1, "type": "SVC"}')
    with pytest.raises(wire.WireError):
        wire.loads('{"__pickle__": "gASV"}')
    with pytest.raises(wire.WireError):
        wire.loads("x" * (wire.MAX_BYTES + 1))


def test_names_come_as_values_or_proxies(kernel):
    namespace, channel = kernel
    namespace |= {"n": 3, "X": np.ones((2, 2)), "square": lambda x: x**2}
    remote = RemoteNamespace(channel)
    assert "n" in remote and "missing" not in remote
    assert remote["n"] == 3 and np.array_equal(remote["X"], np.ones((2, 2)))
    square = remote["square"]
    assert isinstance(square, Remote) and square(np.arange(3)).tolist() == [0, 1, 4]


def test_student_exceptions_come_back_as_their_kind(kernel):
    namespace, channel = kernel

    class Custom(Exception):
        pass

    def stub():
        raise NotImplementedError()

    def custom():
        raise Custom("boom")

    namespace |= {"stub": stub, "custom": custom, "obj": object()}
    remote = RemoteNamespace(channel)
    with pytest.raises(NotImplementedError):
        remote["stub"]()
    with pytest.raises(StudentError, match="boom") as info:
        remote["custom"]()
    assert info.value.ename == "Custom"
    assert not hasattr(remote["obj"], "support_vectors_")


def _assign_step_verdict(namespace) -> tuple[bool, str]:
    return judge(load_checks("01_kmeans")["assign_step"], namespace)


def test_remote_verdict_equals_the_inline_one(kernel):
    namespace, channel = kernel

    def nearest(X, centroids):
        return ((X[:, None, :] - centroids[None]) ** 2).sum(-1).argmin(axis=1)

    def farthest(X, centroids):
        return ((X[:, None, :] - centroids[None]) ** 2).sum(-1).argmax(axis=1)

    for answer, passes in ((nearest, True), (farthest, False)):
        namespace["assign_clusters"] = answer
        inline = _assign_step_verdict({"assign_clusters": answer})
        assert _assign_step_verdict(RemoteNamespace(channel)) == inline
        assert inline[0] is passes


def test_a_patched_agent_changes_observations_not_the_judgement(kernel, monkeypatch):
    """The kernel can lie about what it computed, but the grader judges what it says."""
    namespace, channel = kernel
    namespace["assign_clusters"] = lambda X, centroids: np.zeros(len(X), int)
    monkeypatch.setattr(agent, "_dispatch", lambda request: True)  # "everything passes"
    passed, message = _assign_step_verdict(RemoteNamespace(channel))
    assert not passed and message


def test_hidden_seeds_come_from_the_graders_secret():
    assert hidden_seed(3) == 3  # inline: the seed in the check's code
    try:
        set_grading_secret("batch one")
        one = [hidden_seed(s) for s in (3, 4)]
        assert one == [hidden_seed(s) for s in (3, 4)] and 3 not in one and one[0] != one[1]
        set_grading_secret("batch two")
        assert [hidden_seed(s) for s in (3, 4)] != one
    finally:
        set_grading_secret(None)
    assert hidden_seed(3) == 3
