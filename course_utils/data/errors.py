"""The errors of the data layer: each says what happened, what was tried and what to do."""

from __future__ import annotations


class DatasetUnavailable(RuntimeError):
    """A dataset (or one of its files) could not be found, fetched or verified.

    ``missing`` maps each file still missing to why ("corrupt copy in a mirror", "absent, not
    downloaded: COURSE_OFFLINE=1", ...), so a fallback can say what really went wrong.
    """

    def __init__(self, dataset: str, what: str, tried: list[str], fix: str,
                 missing: dict[str, str] | None = None) -> None:
        self.dataset, self.what, self.tried, self.fix = dataset, what, list(tried), fix
        self.missing = dict(missing or {})
        lines = [f"Dataset {dataset!r}: {what}."]
        if tried:
            lines.append("Tried:")
            lines += [f"  - {attempt}" for attempt in tried]
        lines.append(f"Fix: {fix}")
        super().__init__("\n".join(lines))


class UnknownDataset(DatasetUnavailable):
    """A dataset name that the manifest does not list."""


class ManifestError(ValueError):
    """``data_manifest.yaml`` is malformed: a typo, a missing field or a bad checksum."""
