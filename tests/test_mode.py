"""Run modes: one function decides, by environment first and hardware second."""

import pytest

from course_utils import mode


@pytest.fixture
def clean_env(monkeypatch):
    monkeypatch.delenv("COURSE_MODE", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    return monkeypatch


@pytest.mark.parametrize("value", mode.MODES)
def test_explicit_mode_is_used(clean_env, value):
    clean_env.setenv("COURSE_MODE", value.upper())
    assert mode.get_mode() == value


def test_nbgrader_execution_forces_grade(clean_env):
    clean_env.setenv("COURSE_MODE", "full")
    clean_env.setenv("NBGRADER_EXECUTION", "autograde")
    assert mode.get_mode() == "grade"


def test_unknown_mode_lists_valid_ones(clean_env):
    clean_env.setenv("COURSE_MODE", "fast")
    with pytest.raises(mode.ModeError, match="quick, full, grade"):
        mode.get_mode()


@pytest.mark.parametrize(("gpu", "expected"), [(True, "full"), (False, "quick")])
def test_default_follows_hardware(clean_env, gpu, expected):
    clean_env.setattr(mode, "_gpu_present", lambda: gpu)
    assert mode.get_mode() == expected


@pytest.mark.parametrize(("value", "expected"), [("quick", 1), ("full", 10), ("grade", 0)])
def test_by_mode_picks_the_value(clean_env, value, expected):
    clean_env.setenv("COURSE_MODE", value)
    assert mode.by_mode(quick=1, full=10, grade=0) == expected


def test_by_mode_grade_falls_back_to_quick(clean_env):
    clean_env.setenv("COURSE_MODE", "grade")
    assert mode.by_mode(quick=3, full=30) == 3
