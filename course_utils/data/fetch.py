"""Get a dataset's files: from the package, the mirrors, the cache, else by download.

Sources are tried in order for each file: files bundled in this package, each folder of
``COURSE_DATA_DIRS`` (read-only), the cache ``COURSE_CACHE_DIR`` (and the ``into`` folder when
staging), then the file's public addresses. Every file is verified by sha256 wherever it comes
from (once; see :mod:`.stamps`). Downloads into one folder are serialised by a file lock, so two
kernels fetching the same dataset don't collide. ``COURSE_OFFLINE=1`` never touches the network.
Mirrors are only ever read: a cache inside one is refused. A copy that exists but may not be
read counts as missing (its folder and the fix are named). Before its first write into a folder,
a fetch removes the temporaries that a killed fetch left there (see :mod:`.tempfiles`).
"""

from __future__ import annotations

import os
import shutil
import stat
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, TextIO

from .archive import extract, extracted
from .download import DownloadFailed, classify_os_error, download
from .errors import DatasetUnavailable
from .locations import cache_dir, cache_in_mirror, offline
from .sources import PACKAGE, Source, library_files, present_files, sources
from .stamps import Stamps
from .tempfiles import STALE_S, open_to_all, remove, stale_temporaries, write_atomically

if TYPE_CHECKING:  # the manifest (pydantic) loads on first use, keeping this import cheap
    from .manifest import DataFile, Dataset

LOCK_TIMEOUT_S = 1800  # a large download by another kernel may take a while
HUB_USER_ENV = "JUPYTERHUB_USER"  # set in every server (and kernel) JupyterHub starts

__all__ = ["DatasetUnavailable", "IncompleteDataset", "announce", "dataset_dir", "fetch",
           "library_files", "root_of", "sources", "temporaries"]


def fetch(name: str, files: list[str] | None = None, *, into: str | Path | None = None,
          progress: bool = True) -> dict[str, Path]:
    """Verified local paths of ``files`` of dataset ``name`` (all when None), fetching as needed.

    With ``into`` the files are also copied or downloaded into ``<into>/<name>/`` (staging a hub
    folder), which is then made readable by every user. An archive's extracted folder is
    returned under its ``extract_to`` key. Raises DatasetUnavailable (naming the sources tried,
    the cause for each missing file and the fix) or UnknownDataset.
    """
    from .manifest import load_manifest

    dataset = load_manifest().get(name)
    if dataset.bundled:
        return library_files(dataset)
    _refuse_cache_in_mirror(name)
    entries = dataset.files if files is None else [dataset.file(f) for f in files]
    getter = _Getter(dataset, Path(into) if into is not None else None)
    result: dict[str, Path] = {}
    try:
        missing = []
        for entry in entries:
            found = getter.find(entry)
            if isinstance(found, Path):
                result[entry.path] = found
            else:
                missing.append(found)
        for miss in _with_progress(missing, name, progress):
            result[miss.entry.path] = getter.download(miss, progress and len(missing) == 1)
        for entry in entries:
            if entry.extract_to:
                result[entry.extract_to] = getter.extracted(entry, result[entry.path])
    finally:
        getter.stamps.save()
    if getter.into is not None:
        getter.share()
    return result


class IncompleteDataset(UserWarning):
    """Part of a dataset could not be had; the rest is used."""


def dataset_dir(name: str, files: list[str] | None = None) -> Path:
    """One folder holding ``files`` of dataset ``name`` at their relative paths.

    Without ``files``: every file that can be had, fetching what is missing; when some can't
    be fetched (BBBC039's test split offline) the present ones are used, with an
    IncompleteDataset warning naming the problem and the fix. When the files come from several
    folders (part mirror, part download), the cache gets links so one folder holds them all.
    """
    try:
        paths = fetch(name, files)
    except DatasetUnavailable as exc:
        present = present_files(name) if files is None and exc.dataset == name else {}
        if not present:
            raise
        paths = fetch(name, list(present))
        warnings.warn(f"{name}: {exc.what}; using the {len(paths)} files present here. "
                      f"Fix: {exc.fix}", IncompleteDataset, stacklevel=2)
    roots = {root_of(path, rel) for rel, path in paths.items()}
    if len(roots) == 1:
        return roots.pop()
    target = cache_dir() / name
    for rel, path in paths.items():
        link = target / PurePosixPath(rel)
        if link.resolve() != path.resolve():
            _link_or_copy(path, link)
    return target


def announce(name: str, purpose: str = "", file: TextIO | None = None) -> None:
    """Fetch dataset ``name`` and print where it is, or that it is missing and how to get it.

    What a notebook's setup cell (and ``course-utils grade``, before its batch) says about each
    dataset it needs; ``purpose`` follows the name (" for grading").
    """
    try:
        print(f"Data '{name}'{purpose}: {dataset_dir(name)}", file=file)
    except DatasetUnavailable as exc:
        print(f"Data '{name}' is not available here ({exc}). The notebook says what it uses "
              f"instead; `course-utils data fetch {name}` gets the real data.", file=file)


def temporaries(dataset: Dataset, root: Path, min_age_s: float = 0) -> list[Path]:
    """Temporaries left in ``root``'s folder of ``dataset`` (partial downloads, copies,
    extractions) untouched for ``min_age_s``; only the folders where its files go are read."""
    names: dict[PurePosixPath, set[str]] = {}
    for entry in dataset.files:
        for rel in filter(None, (entry.path, entry.extract_to)):
            pure = PurePosixPath(rel)
            names.setdefault(pure.parent, set()).add(pure.name)
    base = root / dataset.name
    return [tmp for sub, found in names.items()
            for tmp in stale_temporaries(base / sub, found, min_age_s)]


def _refuse_cache_in_mirror(name: str) -> None:
    """Raise when COURSE_CACHE_DIR lies in a COURSE_DATA_DIRS folder: it would write there."""
    mirror = cache_in_mirror()
    if mirror is not None:
        raise DatasetUnavailable(
            name, "COURSE_CACHE_DIR lies inside a COURSE_DATA_DIRS folder, which is only ever "
                  "read, so nothing is fetched",
            [f"cache {cache_dir()}: inside the mirror {mirror}"],
            f"point COURSE_CACHE_DIR at a folder of its own outside {mirror} "
            "(e.g. export COURSE_CACHE_DIR=$HOME/.cache/course-utils).",
        )


def _unusable(path: Path) -> str | None:
    """Why ``path`` can't be read as a file here ("not there", "not readable ..."), else None."""
    try:
        st = path.stat()
    except PermissionError:
        return "not readable (permission denied on a folder above it)"
    except OSError:
        return "not there"
    if not stat.S_ISREG(st.st_mode):
        return "not there"
    if not os.access(path, os.R_OK):
        return "not readable (permission denied)"
    return None


_HERE = {"nomirror": "shared data folder missing", "corrupt": "corrupt copy in a mirror",
         "stale": "damaged cached copy (deleted)",
         "unreadable": "a copy here may not be read (permissions)",
         "bundled": "missing from the course package"}
_THERE = {"offline": "not downloaded (COURSE_OFFLINE=1)", "network": "download failed (no network)",
          "http": "download refused by the server", "mismatch": "download did not verify",
          "truncated": "download cut off", "readonly": "not downloaded (folder not writable)",
          "nospace": "not downloaded (disk full)", "io": "not downloaded (disk error)"}


@dataclass
class _Miss:
    """A file no folder holds (yet): what was tried and what went wrong."""

    entry: DataFile
    tried: list[str]
    problems: set[str]

    @property
    def cause(self) -> str:
        """Why this file is missing, in words: what is here, then what the download did."""
        here = [text for kind, text in _HERE.items() if kind in self.problems] or ["absent"]
        return ", ".join(here + [text for kind, text in _THERE.items() if kind in self.problems])


def _with_progress(missing: list[_Miss], name: str, progress: bool) -> Iterable[_Miss]:
    """``missing`` as is, or wrapped in one progress bar when several files must be fetched."""
    if not progress or len(missing) < 2:
        return missing
    from tqdm.auto import tqdm

    return tqdm(missing, desc=f"{name}: fetching {len(missing)} files", unit="file")


class _Getter:
    """Resolves the files of one dataset through the sources, downloading as a last resort."""

    def __init__(self, dataset: Dataset, into: Path | None) -> None:
        self.dataset, self.into = dataset, into
        self.sources = sources(into)
        self.write = self.sources[0] if into is not None else self.sources[-1]
        self.stamps = Stamps(dataset.name)
        self.misses: list[_Miss] = []  # files still missing, for the error's causes
        self.unreadable: list[Path] = []  # folders holding copies we may not read
        self.absent: list[Path] = []  # COURSE_DATA_DIRS folders that do not exist
        self.tidied = False

    def find(self, entry: DataFile) -> Path | _Miss:
        """The verified path of one file in some folder (copied when staging), or a miss."""
        found = self._look(entry)
        if isinstance(found, _Miss):
            self.misses.append(found)
        return found

    def _look(self, entry: DataFile) -> Path | _Miss:
        """The first good copy of ``entry`` in the sources, else the package, else a miss."""
        tried: list[str] = []
        problems: set[str] = set()
        for source in self.sources:
            path = source.path(self.dataset.name, entry.path)
            why = _unusable(path)
            if why is None:
                try:
                    good = self.stamps.check(path, entry.sha256)
                except OSError as exc:
                    why = f"not readable ({exc.strerror or exc})"
            if why is not None:
                if source.kind == "mirror" and not os.path.lexists(source.root):
                    why = "the folder itself does not exist"
                    problems.add("nomirror")
                    self.absent.append(source.root)
                tried.append(f"{source.kind} {path}: {why}")
                if why.startswith("not readable"):
                    problems.add("unreadable")
                    self.unreadable.append(source.root)
                continue
            if good:
                return self._deliver(path, source, entry)
            problems.add("corrupt" if not source.ours else "stale")
            tried.append(f"{source.kind} {path}: sha256 mismatch (corrupt or outdated copy)"
                         + ("; deleted" if source.ours else ""))
            if source.ours:
                path.unlink(missing_ok=True)
        if entry.bundled:
            return self._unbundle(entry, tried, problems)
        return _Miss(entry, tried, problems)

    def _unbundle(self, entry: DataFile, tried: list[str], problems: set[str]) -> Path | _Miss:
        """A file shipped in the package, copied into the writable folder so that it holds the
        whole dataset (the package copy itself when that folder is read-only)."""
        packaged = PACKAGE.path(self.dataset.name, entry.path)
        if not (packaged.is_file() and self.stamps.check(packaged, entry.sha256)):
            tried.append(f"package {packaged}: missing or altered")
            return _Miss(entry, tried, problems | {"bundled"})
        try:
            return self._copy_in(packaged, entry)
        except (OSError, DatasetUnavailable):
            return packaged

    def extracted(self, entry: DataFile, archive: Path) -> Path:
        """The extracted folder of an archive: a complete one found anywhere, else made now."""
        for source in self.sources:
            folder = source.path(self.dataset.name, entry.extract_to)
            if extracted(folder, entry.sha256) and (self.into is None or source == self.write):
                return folder
        folder = self.write.path(self.dataset.name, entry.extract_to)
        self._tidy()
        try:
            with self._lock():
                return extract(archive, folder, entry.sha256)
        except OSError as exc:
            failure = classify_os_error(exc, folder.parent)
            raise self._unavailable(f"could not extract {entry.path}",
                                    [f"extract into {folder}: {failure.reason}"],
                                    {failure.kind}) from exc

    def _deliver(self, path: Path, source: Source, entry: DataFile) -> Path:
        """``path`` itself, or (when staging) its verified copy in the staging folder."""
        if self.into is None or source == self.write:
            return path
        try:
            return self._copy_in(path, entry)
        except OSError as exc:
            failure = classify_os_error(exc, self.write.root)
            raise self._unavailable(f"could not copy {entry.path} into {self.write.root}",
                                    [f"copy {path}: {failure.reason}"], {failure.kind}) from exc

    def _copy_in(self, path: Path, entry: DataFile) -> Path:
        """Copy ``path`` into the writable folder atomically and verify the copy."""
        self._tidy()
        dest = self.write.path(self.dataset.name, entry.path)
        write_atomically(dest, lambda tmp: shutil.copyfile(path, tmp))
        if not self.stamps.check(dest, entry.sha256, rehash=True):
            dest.unlink(missing_ok=True)
            raise self._unavailable(f"the copy of {entry.path} did not verify",
                                    [f"copy {path} -> {dest}: sha256 mismatch; deleted"], {"io"})
        return dest

    def download(self, miss: _Miss, progress: bool) -> Path:
        """Download a missing file into the writable folder, under a lock; else explain."""
        entry, tried, problems = miss.entry, miss.tried, miss.problems
        what = f"could not get {entry.path}"
        if entry.bundled:
            problems.add("bundled")
            raise self._unavailable(what, tried, problems)
        if offline():  # then no missing file will be downloaded: say so for each
            tried.append("download: skipped, COURSE_OFFLINE=1 is set")
            for pending in self.misses:
                pending.problems.add("offline")
            raise self._unavailable(what, tried, problems)
        dest = self.write.path(self.dataset.name, entry.path)
        self._tidy()
        try:
            with self._lock():
                if dest.is_file() and self.stamps.check(dest, entry.sha256):
                    self.misses.remove(miss)
                    return dest  # another kernel fetched it while we waited
                for url in self.dataset.urls(entry):
                    try:
                        download(url, dest, entry.sha256, entry.size, progress)
                    except DownloadFailed as failure:
                        tried.append(f"download {url}: {failure.reason}")
                        problems.add(failure.kind)
                        if failure.kind in ("readonly", "nospace"):
                            break
                        continue
                    self.stamps.record(dest, entry.sha256)
                    self.misses.remove(miss)
                    return dest
        except OSError as exc:  # the lock itself: folder missing rights or room
            failure = classify_os_error(exc, dest.parent)
            tried.append(f"{self.write.kind} {dest.parent}: {failure.reason}")
            problems.add(failure.kind)
        raise self._unavailable(what, tried, problems)

    def _lock(self, timeout: float = LOCK_TIMEOUT_S):
        """A file lock on this dataset's folder in the writable source."""
        from filelock import FileLock

        folder = self.write.root / self.dataset.name
        folder.mkdir(parents=True, exist_ok=True)
        return FileLock(str(folder / ".fetch.lock"), timeout=timeout)

    def _tidy(self) -> None:
        """Once, before the first write: delete the temporaries a killed fetch left in the
        writable folder (untouched for STALE_S), unless another fetch holds its lock now."""
        if self.tidied:
            return
        self.tidied = True
        if not (self.write.root / self.dataset.name).is_dir():
            return
        try:
            with self._lock(timeout=0):
                for tmp in temporaries(self.dataset, self.write.root, STALE_S):
                    remove(tmp)
        except OSError:  # filelock's Timeout is one: a live fetch may still use them
            pass

    def share(self) -> None:
        """Make the staged folder readable by every user (what a shared folder is for)."""
        try:
            open_to_all(self.write.root / self.dataset.name)
        except OSError as exc:
            raise self._unavailable(
                f"could not make {self.write.root} readable by every user",
                [f"chmod {exc.filename}: {exc.strerror or exc}"], {"share"}) from exc

    def _unavailable(self, what: str, tried: list[str], problems: set[str]) -> DatasetUnavailable:
        """The error for this dataset, with the fixes for the problems met and the cause of
        each file still missing."""
        return DatasetUnavailable(
            self.dataset.name, what, tried,
            _fixes(self.dataset.name, problems, self.write, self.unreadable, self.absent),
            {miss.entry.path: miss.cause for miss in self.misses})


def on_hub() -> bool:
    """True in a JupyterHub user's server (its kernels inherit ``JUPYTERHUB_USER``)."""
    return bool(os.environ.get(HUB_USER_ENV, "").strip())


def _fixes(name: str, problems: set[str], write: Source, unreadable: list[Path],
           absent: list[Path] = ()) -> str:
    """What to do, for each kind of problem met (most specific first). On a hub the shared
    folders are the instructor's: the fix is to ask them, with the command they need."""
    folder = "the --into folder" if write.kind == "staging" else "COURSE_CACHE_DIR"
    stage = (f"stage it on a machine with network (`course-utils data fetch {name} --into DIR`) "
             "and add DIR to COURSE_DATA_DIRS")
    closed = list(dict.fromkeys(str(root) for root in unreadable)) or ["the data folder"]
    missing = list(dict.fromkeys(str(root) for root in absent)) or ["the data folder"]
    owner = "the instructor" if on_hub() else "its owner (on a hub, the instructor)"
    texts = {
        "bundled": "this file ships inside the course package: reinstall it (pip install -e .).",
        "nomirror": f"the shared data folder {', '.join(missing)} (COURSE_DATA_DIRS) does not "
                    + (f"exist: ask the instructor to stage it (`course-utils data fetch --all "
                       f"--into {missing[0]}`)." if on_hub() else
                       f"exist: create it with `course-utils data fetch --all --into "
                       f"{missing[0]}` or fix COURSE_DATA_DIRS."),
        "unreadable": f"{', '.join(closed)} holds a copy you may not read: ask {owner} to make "
                      f"it readable by everyone (`chmod -R a+rX {closed[0]}`).",
        "corrupt": "a mirror holds a damaged copy: replace it (`course-utils data fetch "
                   f"{name} --into <that folder>` on a machine with network) or drop that "
                   "folder from COURSE_DATA_DIRS.",
        "readonly": f"{write.root} is not writable: point {folder} at a folder you can write "
                    "(e.g. export COURSE_CACHE_DIR=$HOME/.cache/course-utils).",
        "nospace": f"free disk space under {write.root}, or point {folder} at a larger disk.",
        "offline": f"unset COURSE_OFFLINE to allow downloads, or {stage}.",
        "network": f"connect to the internet and run it again, or {stage}.",
        "http": "the public address did not serve the file: report it to the course "
                f"maintainers; meanwhile {stage} from a copy you trust.",
        "mismatch": "the download was incomplete or differs from the pinned file: run it "
                    "again; if it keeps failing, report it to the course maintainers.",
        "truncated": "the download was cut off: run it again on a steadier connection.",
        "io": f"check the disk and the permissions of {write.root}, then run it again.",
        "stale": "a damaged cached copy was deleted; run it again to fetch a fresh one.",
        "share": f"run `chmod -R a+rX {write.root}` as the owner of its files.",
    }
    chosen = [texts[k] for k in texts if k in problems]
    return " ".join(chosen) or f"run `course-utils data fetch {name}`."


def root_of(path: Path, relpath: str) -> Path:
    """The dataset folder that holds ``path`` at ``relpath``."""
    return path.parents[len(PurePosixPath(relpath).parts) - 1]


def _link_or_copy(src: Path, link: Path) -> None:
    """Make ``link`` point at ``src`` (a copy where links are not possible)."""
    link.parent.mkdir(parents=True, exist_ok=True)
    link.unlink(missing_ok=True)
    try:
        link.symlink_to(src.resolve())
    except OSError:
        shutil.copyfile(src, link)
