"""One verified download (pooch streams it): temp file, progress bar, sha256, rename.

pooch streams into a temporary file beside the destination (named and permitted as every file
of this layer, see :mod:`.tempfiles`); the sha256 is checked and only then is it moved into
place; on any failure the temporary file is deleted. This module turns each failure into a
:class:`DownloadFailed` with a kind the caller can explain.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

from .stamps import sha256_file
from .tempfiles import write_atomically

TIMEOUT_S = (15, 120)  # (connect, read): a venue without network fails in seconds
CHUNK_BYTES = 1 << 16
READ_ONLY_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS}


class DownloadFailed(Exception):
    """A download that did not produce a verified file; ``kind`` says why."""

    def __init__(self, kind: str, reason: str) -> None:
        self.kind, self.reason = kind, reason
        super().__init__(reason)


def download(url: str, dest: Path, sha256: str, size: int | None = None,
             progress: bool = True) -> None:
    """Fetch ``url`` into ``dest`` (verified by ``sha256``) or raise DownloadFailed."""
    import pooch
    import requests

    _check_room(dest.parent, size)
    downloader = pooch.HTTPDownloader(progressbar=progress, chunk_size=CHUNK_BYTES,
                                      timeout=TIMEOUT_S)

    def fetch_verified(tmp: Path) -> None:
        downloader(url, str(tmp), None)
        if sha256_file(tmp) != sha256:
            raise ValueError("sha256 mismatch")

    try:
        write_atomically(dest, fetch_verified)
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        raise DownloadFailed("http", f"the server answered HTTP {status}") from exc
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise DownloadFailed("network", f"no connection ({type(exc).__name__})") from exc
    except requests.RequestException as exc:
        raise DownloadFailed("truncated", "the connection broke before the whole file "
                                          f"arrived ({type(exc).__name__})") from exc
    except ValueError as exc:
        raise DownloadFailed("mismatch", "the downloaded bytes do not match the manifest's sha256 "
                                         "(truncated, corrupted or changed upstream)") from exc
    except OSError as exc:
        raise classify_os_error(exc, dest.parent) from exc


def _check_room(folder: Path, size: int | None) -> None:
    """Refuse early when the destination's disk cannot hold ``size`` bytes."""
    if not size:
        return
    probe = next((p for p in [folder, *folder.parents] if p.exists()), None)
    if probe is None:
        return
    free = shutil.disk_usage(probe).free
    if free < size:
        raise DownloadFailed("nospace", f"the disk holding {probe} has {free / 1e6:.1f} MB free, "
                                        f"{size / 1e6:.1f} MB are needed")


def classify_os_error(exc: OSError, folder: Path) -> DownloadFailed:
    """Classify a filesystem error: full disk, read-only folder, or other I/O."""
    if exc.errno == errno.ENOSPC:
        return DownloadFailed("nospace", f"the disk holding {folder} is full")
    if isinstance(exc, PermissionError) or exc.errno in READ_ONLY_ERRNOS:
        return DownloadFailed("readonly", f"{folder} is not writable ({exc.strerror or exc})")
    return DownloadFailed("io", f"could not write into {folder}: {exc.strerror or exc}")
