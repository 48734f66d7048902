"""Where a dataset's files may be, in fetch order, and where the present ones are (no fetching).

The folders searched: each ``COURSE_DATA_DIRS`` mirror, then the cache, and for files shipped
in the package the package last. ``fetch`` and ``status`` both read this order from here.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from .errors import DatasetUnavailable
from .locations import BUNDLED_DIR, cache_dir, mirror_dirs

if TYPE_CHECKING:  # the manifest (pydantic) loads on first use, keeping this import cheap
    from .manifest import Dataset

__all__ = ["PACKAGE", "Source", "first_present", "library_files", "places", "present_files",
           "sources"]


@dataclass(frozen=True)
class Source:
    """A folder laid out as ``<root>/<dataset>/<relpath>``; ``kind`` says what it is."""

    kind: str  # "bundled", "mirror", "cache" or "staging"
    root: Path

    def path(self, dataset: str, relpath: str) -> Path:
        """Where ``relpath`` of ``dataset`` would be in this folder."""
        return self.root / dataset / PurePosixPath(relpath)

    @property
    def ours(self) -> bool:
        """True for folders this layer writes (a bad file there may be deleted)."""
        return self.kind in ("cache", "staging")


PACKAGE = Source("bundled", BUNDLED_DIR)  # files shipped in the package: the last resort


def sources(into: Path | None = None) -> list[Source]:
    """The folders searched, in order; when staging, the ``into`` folder comes first."""
    found = [Source("mirror", d) for d in mirror_dirs()]
    found.append(Source("cache", cache_dir()))
    if into is None:
        return found
    return [Source("staging", into)] + [s for s in found if not _same(s.root, into)]


def places(bundled: bool) -> list[Source]:
    """Where a file may be, in fetch order (the package last, for files shipped in it)."""
    return sources() + ([PACKAGE] if bundled else [])


def first_present(dataset: Dataset, relpath: str, bundled: bool) -> tuple[Source, Path] | None:
    """The first place (in fetch order) that holds ``relpath``, or None.

    A place whose folders this user may not enter holds nothing here (``is_file`` raises
    PermissionError there, e.g. a hub's shared folder made with a private umask); fetching
    then says which folder is closed and whom to ask.
    """
    for source in places(bundled):
        path = source.path(dataset.name, relpath)
        try:
            if path.is_file():
                return source, path
        except OSError:
            continue
    return None


def present_files(name: str) -> dict[str, Path]:
    """Where each present file of dataset ``name`` is (first place in fetch order), no fetching."""
    from .manifest import load_manifest

    dataset = load_manifest().get(name)
    if dataset.bundled:
        return library_files(dataset)
    found = {e.path: first_present(dataset, e.path, e.bundled) for e in dataset.files}
    return {rel: hit[1] for rel, hit in found.items() if hit is not None}


def library_files(dataset: Dataset) -> dict[str, Path]:
    """The files proving a library-bundled dataset is installed (found without importing it)."""
    spec = importlib.util.find_spec(dataset.bundled_with)
    locations = list(spec.submodule_search_locations or []) if spec else []
    base = Path(locations[0]) if locations else None
    found = {rel: base / rel for rel in dataset.bundled_files} if base else {}
    missing = [rel for rel, path in found.items() if not path.is_file()]
    if base is None or missing:
        raise DatasetUnavailable(
            dataset.name, f"ships with {dataset.bundled_with}, which is not fully installed",
            [f"package {dataset.bundled_with}: " + (f"missing {missing}" if base else "not found")],
            f"install the course dependencies again (pip install -e . or make lab); "
            f"`{dataset.bundled_with}` must be importable.",
        )
    return found


def _same(a: Path, b: Path) -> bool:
    """True when two folders are the same place on disk."""
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False
