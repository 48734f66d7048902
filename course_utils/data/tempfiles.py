"""Files written whole or not at all: temporaries beside the target, normal permissions, cleanup.

Every file this layer writes goes first to ``.<name>-XXXXXXXX`` (``mkstemp``'s random part) in
the target's folder and is renamed into place once complete, so a reader never sees half a
file. ``mkstemp`` makes that file 0600; it is opened up to what an ordinary file gets (0666
less the umask) before anything is written, or files staged for a hub would be private to the
user who staged them; :func:`open_to_all` opens a staged folder to every user whatever the
umask. A fetch killed half-way leaves its temporary behind; :func:`stale_temporaries` finds
those of a folder so the next fetch can remove them.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

STALE_S = 600  # untouched this long and not under a live lock: left by a killed fetch
_RANDOM = re.compile(r"-[a-z0-9_]{8}$")  # mkstemp's and mkdtemp's random suffix


def umask() -> int:
    """The process's umask: read from /proc where Linux offers it, else set and restored."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def normal_mode(folder: bool = False) -> int:
    """The mode ``open`` or ``mkdir`` would give a new file (or folder) under this umask."""
    return (0o777 if folder else 0o666) & ~umask()


def open_to_all(folder: Path) -> None:
    """Make ``folder``, all below it and the folder holding it readable by every user (folders
    a+rx, files a+r): a staged dataset and the staging folder it is in.

    Only modes lacking those bits are changed, so files of another owner that are already
    readable are left alone; a chmod that is refused raises its OSError.
    """
    _add_bits(folder.parent, 0o555)
    _add_bits(folder, 0o555)
    for base, dirs, files in os.walk(folder):
        for name in dirs:
            _add_bits(Path(base, name), 0o555)
        for name in files:
            _add_bits(Path(base, name), 0o444)


def _add_bits(path: Path, bits: int) -> None:
    """Add permission ``bits`` to ``path`` where some are missing (links are left alone)."""
    mode = path.lstat().st_mode
    if not stat.S_ISLNK(mode) and mode & bits != bits:
        path.chmod(stat.S_IMODE(mode) | bits)


def temporary_name(target: Path) -> str:
    """The prefix of the temporaries of ``target``: ``.<name>-`` (the random part follows)."""
    return f".{target.name}-"


def write_atomically(target: Path, write: Callable[[Path], object]) -> None:
    """Make ``target`` by ``write(tmp)`` on a temporary beside it, then rename it into place.

    Readers see the old file or the whole new one, never half; when ``write`` raises, the
    temporary is deleted and ``target`` is untouched. The result has a normal file's mode.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=temporary_name(target))
    tmp = Path(name)
    try:
        try:
            os.fchmod(fd, normal_mode())
        finally:
            os.close(fd)
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def temporary_folder(target: Path, tag: str) -> Path:
    """A new empty folder ``.<name>-<tag>-XXXXXXXX`` beside ``target``, with a normal mode."""
    target.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=target.parent, prefix=f"{temporary_name(target)}{tag}-"))
    folder.chmod(normal_mode(folder=True))
    return folder


def stale_temporaries(folder: Path, names: Iterable[str], min_age_s: float = 0) -> list[Path]:
    """Temporaries in ``folder`` of files called ``names``, untouched for ``min_age_s`` or more.

    Only this layer's pattern counts (``.<one of names>-`` then a random part, files or
    folders); anything else in the folder is never listed.
    """
    prefixes = tuple(temporary_name(Path(n)) for n in names)
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    cutoff = time.time() - min_age_s
    found = []
    for entry in entries:
        if entry.name.startswith(prefixes) and _RANDOM.search(entry.name):
            try:
                if entry.stat(follow_symlinks=False).st_mtime <= cutoff:
                    found.append(Path(entry.path))
            except OSError:
                continue
    return sorted(found)


def remove(path: Path) -> None:
    """Delete a temporary file or folder; one that is already gone is fine."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
