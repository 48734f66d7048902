"""Shared test fixtures: the repository root, the optional real-data mirror, answer cells."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


def mirror_dir() -> Path | None:
    """The first COURSE_DATA_DIRS folder holding BBBC039, else ../shared/data if present."""
    candidates = [Path(p) for p in os.environ.get("COURSE_DATA_DIRS", "").split(":") if p]
    candidates.append(REPO.parent / "shared" / "data")
    return next((p for p in candidates if (p / "bbbc039" / "SHA256SUMS").exists()), None)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real-data mirror; tests that need it skip (with the reason) where it is absent."""
    found = mirror_dir()
    if found is None:
        pytest.skip("no BBBC039 mirror: set COURSE_DATA_DIRS or provide ../shared/data")
    return found


def source_answers(stem: str) -> dict[str, str]:
    """The answer cells (solutions) of notebook source ``stem``, keyed by grade_id."""
    import jupytext

    nb = jupytext.read(REPO / "notebooks" / "source" / f"{stem}.py")
    return {c.metadata["grade_id"]: c.source for c in nb.cells
            if "answer" in c.metadata.get("tags", [])}
