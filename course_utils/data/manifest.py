"""``data_manifest.yaml``: every dataset of the course, validated by a pydantic schema.

A downloadable dataset lists its files, each with a relative path, a sha256 and a public
address (its own ``url`` or the dataset's ``base_url`` + path); a file shipped inside this
package is marked ``bundled``. A dataset that ships with a library (scikit-learn, scanpy,
scikit-image) names that library in ``bundled_with`` instead. License and citation are
required for every entry. ``COURSE_DATA_MANIFEST`` points at another manifest (tests).
"""

from __future__ import annotations

import difflib
import os
import re
import stat
from functools import lru_cache
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ManifestError, UnknownDataset

MANIFEST_ENV = "COURSE_DATA_MANIFEST"
MANIFEST_FILE = os.path.realpath(os.path.join(os.path.dirname(__file__), "data_manifest.yaml"))
NOTEBOOK_PATTERN = r"^\d\d_[a-z0-9_]+$"
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"


class DataFile(BaseModel):
    """One file of a dataset, checked by its sha256 wherever it comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int | None = Field(default=None, gt=0)
    url: str | None = None
    mirrors: list[str] = []
    bundled: bool = False
    extract_to: str | None = None

    @field_validator("path", "extract_to")
    @classmethod
    def _relative(cls, value: str | None) -> str | None:
        """Paths stay inside the dataset folder: relative, POSIX, no '..'."""
        if value is None:
            return value
        pure = PurePosixPath(value)
        if not value or pure.is_absolute() or ".." in pure.parts or "\\" in value:
            raise ValueError(f"{value!r} must be a relative POSIX path inside the dataset folder")
        return value


class Dataset(BaseModel):
    """One dataset: what it is, where its bytes come from, who to credit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=NAME_PATTERN)
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    license: str = Field(min_length=1)
    citation: str = Field(min_length=1)
    homepage: str = Field(min_length=1)
    size_mb: float = Field(gt=0)
    notebooks: list[str] = Field(min_length=1)
    loader: str = Field(pattern=r"^[A-Za-z_][\w.]*\.[A-Za-z_]\w*$")
    checksum_source: str | None = None
    base_url: str | None = None
    files: list[DataFile] = []
    bundled_with: str | None = None
    bundled_files: list[str] = []

    @field_validator("notebooks")
    @classmethod
    def _notebook_names(cls, value: list[str]) -> list[str]:
        """Notebook names look like ``04_unet_segmentation``."""
        bad = [nb for nb in value if not re.match(NOTEBOOK_PATTERN, nb)]
        if bad:
            raise ValueError(f"notebook names must look like '04_unet_segmentation', got {bad}")
        return value

    @model_validator(mode="after")
    def _complete(self) -> Dataset:
        """Downloadable sets need files, addresses and a checksum source; bundled sets a library."""
        if bool(self.files) == bool(self.bundled_with):
            raise ValueError("give either 'files' (downloadable) or 'bundled_with' (a library)")
        if self.bundled_with and not self.bundled_files:
            raise ValueError("a bundled dataset lists the 'bundled_files' that prove it is there")
        if self.files and not self.checksum_source:
            raise ValueError("say where the checksums come from in 'checksum_source'")
        paths = [f.path for f in self.files]
        if len(set(paths)) != len(paths):
            raise ValueError("file paths must be unique")
        unaddressed = [f.path for f in self.files if not (f.bundled or f.url or self.base_url)]
        if unaddressed:
            raise ValueError(f"files without a public address (url or base_url): {unaddressed[:3]}")
        return self

    @property
    def bundled(self) -> bool:
        """True when a library ships this dataset (nothing to fetch)."""
        return self.bundled_with is not None

    def file(self, path: str) -> DataFile:
        """The entry of one file, or UnknownDataset naming the dataset and the file."""
        for entry in self.files:
            if entry.path == path:
                return entry
        raise UnknownDataset(
            self.name, f"no file {path!r} in this dataset", [f"manifest {manifest_path()}"],
            "use a path listed under this dataset's 'files' in data_manifest.yaml",
        )

    def urls(self, entry: DataFile) -> list[str]:
        """Public addresses of a file, in the order they are tried."""
        first = entry.url or (self.base_url + quote(entry.path) if self.base_url else None)
        return [u for u in [first, *entry.mirrors] if u]


class Manifest(BaseModel):
    """The whole manifest: a version and the datasets, names unique."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1)
    datasets: list[Dataset]

    @model_validator(mode="after")
    def _unique(self) -> Manifest:
        """No two datasets share a name."""
        names = [d.name for d in self.datasets]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"dataset names must be unique: {dupes}")
        return self

    def get(self, name: str) -> Dataset:
        """The dataset called ``name``; UnknownDataset (with a suggestion) otherwise."""
        for dataset in self.datasets:
            if dataset.name == name:
                return dataset
        names = [d.name for d in self.datasets]
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise UnknownDataset(
            name, "not a dataset of this course", [f"manifest {manifest_path()}"],
            f"{hint}Known datasets: {', '.join(names)} (see `course-utils data list`).",
        )


def manifest_path() -> str:
    """The manifest in use: ``COURSE_DATA_MANIFEST`` or the one shipped with the package."""
    return os.environ.get(MANIFEST_ENV) or MANIFEST_FILE


def load_manifest() -> Manifest:
    """The validated manifest (parsed once per file version)."""
    path = manifest_path()
    try:
        st = os.stat(path)
    except OSError as exc:
        raise _unreadable(path, exc.strerror) from exc
    if not stat.S_ISREG(st.st_mode):
        raise _unreadable(path, "it is a directory, not a file" if stat.S_ISDIR(st.st_mode)
                          else "it is not a regular file")
    return _parse(path, st.st_mtime_ns)


def _unreadable(path: str, why: str | None) -> ManifestError:
    """The error for a manifest that can't be read at all."""
    return ManifestError(f"cannot read the data manifest {path}: {why}. Fix: reinstall the "
                         f"course package, or point {MANIFEST_ENV} at a manifest file (or "
                         "unset it).")


@lru_cache(maxsize=4)
def _parse(path: str, _mtime_ns: int) -> Manifest:
    """Parse and validate one manifest file; errors name the dataset and the field."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = Path(path).read_bytes()
        raw = yaml.load(data.decode("utf-8"), Loader=loader)
    except OSError as exc:
        raise _unreadable(path, exc.strerror) from exc
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ManifestError(f"{path} is not UTF-8 text (line {line} has the byte "
                            f"{data[exc.start]:#04x}). Fix: save it as UTF-8.") from exc
    except yaml.YAMLError as exc:
        raise ManifestError(f"{path} is not valid YAML: {exc}. Fix the syntax there.") from exc
    try:
        return Manifest.model_validate(raw)
    except ValidationError as exc:
        raise ManifestError(_explain(path, raw, exc)) from exc


def _explain(path: str, raw: object, exc: ValidationError) -> str:
    """A ValidationError in words: which dataset, which field, what is wrong, how to fix."""
    lines = [f"The data manifest {path} has {exc.error_count()} problem(s):"]
    for err in exc.errors():
        loc = list(err["loc"])
        where = "top level"
        if len(loc) >= 2 and loc[0] == "datasets" and isinstance(loc[1], int):
            try:
                where = f"dataset {raw['datasets'][loc[1]].get('name', f'#{loc[1]}')!r}"
            except (AttributeError, IndexError, KeyError, TypeError):
                where = f"dataset #{loc[1]}"
            loc = loc[2:]
        field = ".".join(str(part) for part in loc) or "(entry)"
        lines.append(f"  - {where}, {field}: {err['msg']}")
    lines.append("Fix: correct those entries (bbbc039's file list is regenerated by "
                 "scripts/bbbc039_manifest.py); every file needs a 64-hex sha256.")
    return "\n".join(lines)
