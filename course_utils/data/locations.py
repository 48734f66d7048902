"""Where datasets live: bundled in the package, read-only mirrors, the writable cache.

Every such folder has one sub-folder per dataset holding its files at their relative paths
(``<folder>/<dataset>/<relpath>``), like ``../shared/data`` or a hub's shared data volume.
"""

from __future__ import annotations

import os
from pathlib import Path

MIRRORS_ENV = "COURSE_DATA_DIRS"
CACHE_ENV = "COURSE_CACHE_DIR"
OFFLINE_ENV = "COURSE_OFFLINE"
BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"


def mirror_dirs() -> list[Path]:
    """The read-only folders of ``COURSE_DATA_DIRS`` (colon-separated), in order."""
    raw = os.environ.get(MIRRORS_ENV, "")
    return [Path(part).expanduser() for part in raw.split(os.pathsep) if part.strip()]


def cache_dir() -> Path:
    """The writable cache: ``COURSE_CACHE_DIR``, else the platform's user cache folder."""
    configured = os.environ.get(CACHE_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("course-utils", appauthor=False))


def cache_in_mirror() -> Path | None:
    """The ``COURSE_DATA_DIRS`` folder that the cache is (or lies inside), else None.

    Such a cache would write into, and delete from, a folder that must only be read; the
    fetcher refuses to work with it and the stamps are then kept in memory only.
    """
    cache = _resolved(cache_dir())
    for mirror in mirror_dirs():
        root = _resolved(mirror)
        if cache == root or root in cache.parents:
            return mirror
    return None


def _resolved(path: Path) -> Path:
    """``path`` made absolute, links resolved as far as they exist."""
    return Path(os.path.realpath(path))


def offline() -> bool:
    """True when ``COURSE_OFFLINE`` forbids any network access."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in ("1", "true", "yes", "on")
