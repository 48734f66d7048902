"""Hash once, then trust size and modification time: the record of files already verified.

Hashing BBBC039 takes a second; checking 300 ``stat`` results against this record takes
milliseconds. The record lives in the cache (``<cache>/.stamps/<dataset>.json``, keyed by the
file's absolute path, also for files in read-only mirrors). When the cache is not writable it
is kept in memory for this process. ``course-utils data verify`` re-hashes regardless.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .locations import cache_dir, cache_in_mirror
from .tempfiles import write_atomically

_MEMORY: dict[str, dict[str, list]] = {}
CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """The sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


class Stamps:
    """Verified files of one dataset: absolute path -> [size, mtime_ns, sha256]."""

    def __init__(self, dataset: str) -> None:
        self.file = cache_dir() / ".stamps" / f"{dataset}.json"
        key = str(self.file)
        if key not in _MEMORY:
            _MEMORY[key] = _read(self.file)
        self.records = _MEMORY[key]
        self.forgotten: set[str] = set()
        self.dirty = False

    def trusted(self, path: Path, sha256: str) -> bool:
        """True when ``path`` was verified against ``sha256`` and has not changed since."""
        record = self.records.get(str(path))
        if record is None:
            return False
        try:
            st = path.stat()
        except OSError:
            return False
        return record == [st.st_size, st.st_mtime_ns, sha256]

    def check(self, path: Path, sha256: str, rehash: bool = False) -> bool:
        """Verify ``path`` (from the record unless ``rehash``), remembering a good result."""
        if not rehash and self.trusted(path, sha256):
            return True
        good = sha256_file(path) == sha256
        if good:
            self.record(path, sha256)
        else:
            self.forget(path)
        return good

    def record(self, path: Path, sha256: str) -> None:
        """Remember that ``path`` holds ``sha256`` as of its current size and mtime."""
        st = path.stat()
        self.records[str(path)] = [st.st_size, st.st_mtime_ns, sha256]
        self.dirty = True

    def forget(self, path: Path) -> None:
        """Drop any record of ``path`` (it changed or went bad)."""
        self.forgotten.add(str(path))
        if self.records.pop(str(path), None) is not None:
            self.dirty = True

    def save(self) -> None:
        """Write the record atomically; silently stay in memory when the cache is read-only
        (or lies in a mirror, which is never written)."""
        if not self.dirty or cache_in_mirror() is not None:
            return
        merged = {**_read(self.file), **self.records}
        for key in self.forgotten - self.records.keys():
            merged.pop(key, None)
        try:
            write_atomically(self.file, lambda tmp: tmp.write_text(json.dumps(merged)))
            self.dirty = False
        except OSError:
            pass


def _read(file: Path) -> dict[str, list]:
    """A stamp file's records; empty when missing or unreadable."""
    try:
        data = json.loads(file.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
