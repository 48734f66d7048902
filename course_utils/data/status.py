"""What is here: each dataset's status (fast, no network) and a full re-hash (``verify``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DatasetUnavailable
from .fetch import temporaries
from .manifest import Dataset, load_manifest
from .sources import first_present, library_files, places, present_files, sources
from .stamps import Stamps

__all__ = ["BadFile", "Verification", "dataset_status", "present_files", "verify_present"]

_KIND_STATUS = {"mirror": "mirrored", "cache": "cached"}


@dataclass
class BadFile:
    """A present file that can't be used: its bytes differ from the manifest's sha256, or it
    may not be read (``problem`` says which)."""

    dataset: str
    path: Path
    problem: str = "sha256 differs from the manifest"


@dataclass
class Verification:
    """What ``verify`` found: files checked, bad or unreadable copies, files no place holds
    (dataset, relpath) and temporaries an interrupted fetch left behind."""

    checked: int = 0
    bad: list[BadFile] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)
    temporaries: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every file is present and good (temporaries are only reported)."""
        return not (self.bad or self.missing)


def dataset_status() -> list[tuple[str, str, str]]:
    """(name, status, detail) per dataset; status is bundled / mirrored / cached / missing.

    Looks only at what is on disk (one ``stat`` per file and place, no hashing, no network):
    ``detail`` says how many files are present, whether they were verified, what is missing.
    """
    return [_status(dataset) for dataset in load_manifest().datasets]


def _status(dataset: Dataset) -> tuple[str, str, str]:
    """The status line of one dataset."""
    if dataset.bundled:
        try:
            library_files(dataset)
        except DatasetUnavailable as exc:
            return dataset.name, "missing", exc.fix
        return dataset.name, "bundled", f"ships with {dataset.bundled_with}"
    stamps = Stamps(dataset.name)
    places: Counter[str] = Counter()
    verified = 0
    for entry in dataset.files:
        found = first_present(dataset, entry.path, entry.bundled)
        if found is not None:
            places[found[0].kind] += 1
            verified += stamps.trusted(found[1], entry.sha256)
    present = sum(places.values())
    downloadable = [k for k in places if k != "bundled"]
    if not downloadable:
        return dataset.name, "missing", f"run `course-utils data fetch {dataset.name}`"
    kind = max(downloadable, key=places.__getitem__)
    where = ", ".join(f"{n} {k}" for k, n in places.items())
    detail = f"{present} of {len(dataset.files)} files ({where})"
    if present < len(dataset.files):
        detail += f"; {len(dataset.files) - present} missing"
    if verified < present:
        detail += f"; {present - verified} not yet verified (`course-utils data verify`)"
    return dataset.name, _KIND_STATUS[kind], detail


def verify_present(names: list[str] | None = None) -> Verification:
    """Re-hash every present copy of every file (all places); name the missing files and the
    temporaries left in any place."""
    manifest = load_manifest()
    datasets = [manifest.get(n) for n in names] if names else manifest.datasets
    found = Verification()
    for dataset in datasets:
        if not dataset.bundled:
            _verify_dataset(dataset, found)
    return found


def _verify_dataset(dataset: Dataset, found: Verification) -> None:
    """Add what one dataset's files and places hold to ``found``."""
    stamps = Stamps(dataset.name)
    for entry in dataset.files:
        present = [p for s in places(entry.bundled)
                   if (p := s.path(dataset.name, entry.path)).is_file()]
        if not present:
            found.missing.append((dataset.name, entry.path))
        for path in present:
            found.checked += 1
            try:
                good = stamps.check(path, entry.sha256, rehash=True)
            except OSError as exc:
                found.bad.append(BadFile(dataset.name, path, f"not readable ({exc.strerror})"))
                continue
            if not good:
                found.bad.append(BadFile(dataset.name, path))
    stamps.save()
    for source in sources():
        found.temporaries += temporaries(dataset, source.root)
