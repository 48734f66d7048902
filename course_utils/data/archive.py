"""Extract an archive once, atomically: a folder with a marker, or nothing at all.

The archive is unpacked into a temporary sibling folder (see :mod:`.tempfiles`) which is
renamed into place, then a marker holding the archive's sha256 is written inside. A folder
without that marker (an interrupted run) is replaced; a folder with it is used as it is, so
extraction is idempotent.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import zipfile
from pathlib import Path

from .tempfiles import temporary_folder

MARKER = ".course_extracted"


def extracted(folder: Path, sha256: str) -> bool:
    """True when ``folder`` holds a complete extraction of the archive with ``sha256``."""
    try:
        return (folder / MARKER).read_text().strip() == sha256
    except OSError:
        return False


def extract(archive: Path, folder: Path, sha256: str) -> Path:
    """Unpack ``archive`` (zip or tar[.gz]) into ``folder`` unless that is already done."""
    if extracted(folder, sha256):
        return folder
    tmp = temporary_folder(folder, "extract")
    try:
        _unpack(archive, tmp)
        (tmp / MARKER).write_text(sha256 + "\n")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _unpack(archive: Path, dest: Path) -> None:
    """Unpack safely: members may not escape ``dest``."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                _inside(dest, member)
            zf.extractall(dest)
        return
    with tarfile.open(archive) as tf:
        if hasattr(tarfile, "data_filter"):
            tf.extractall(dest, filter="data")
        else:  # Python < 3.11.4: check names by hand
            for member in tf.getmembers():
                _inside(dest, member.name)
                if member.issym() or member.islnk():
                    raise ValueError(f"{archive.name}: links are not allowed ({member.name})")
            tf.extractall(dest)


def _inside(dest: Path, member: str) -> None:
    """Raise when an archive member would land outside ``dest``."""
    target = (dest / member).resolve()
    if target != dest.resolve() and dest.resolve() not in target.parents:
        raise ValueError(f"archive member {member!r} would be written outside {dest}")
