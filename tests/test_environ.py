"""The package's one helper for temporary environment changes."""

from __future__ import annotations

import os

import pytest

from course_utils.environ import environment


def test_changes_hold_inside_and_are_undone_after(monkeypatch):
    monkeypatch.setenv("COURSE_TEST_KEPT", "before")
    monkeypatch.delenv("COURSE_TEST_NEW", raising=False)
    with environment({"COURSE_TEST_KEPT": None, "COURSE_TEST_NEW": "inside"}):
        assert "COURSE_TEST_KEPT" not in os.environ
        assert os.environ["COURSE_TEST_NEW"] == "inside"
    assert os.environ["COURSE_TEST_KEPT"] == "before"
    assert "COURSE_TEST_NEW" not in os.environ


def test_undone_when_the_body_raises(monkeypatch):
    monkeypatch.setenv("COURSE_TEST_KEPT", "before")
    with pytest.raises(RuntimeError), environment({"COURSE_TEST_KEPT": "inside"}):
        raise RuntimeError("boom")
    assert os.environ["COURSE_TEST_KEPT"] == "before"
