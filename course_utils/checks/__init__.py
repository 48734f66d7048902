"""Inline checks, one module per notebook; see :mod:`course_utils.checks.core`."""

from .core import Checker, CheckFailed, expect, register

__all__ = ["CheckFailed", "Checker", "expect", "register"]
