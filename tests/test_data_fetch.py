"""Fetching: mirrors, cache, verified downloads from a local server, every bad-input case."""

from __future__ import annotations

import errno
import io
import os
import shutil
import subprocess
import threading
import time
import zipfile
from pathlib import Path

import pytest
from data_fixtures import (
    as_other_user,
    closed_port_url,
    data_cli,
    dataset_entry,
    isolate,
    leftovers,
    nobody_ids,
    read_only,
    running_server,
    sha,
    world_dir,
    write_manifest,
)

from course_utils.data import DatasetUnavailable, dataset_dir, fetch
from course_utils.data.errors import UnknownDataset
from course_utils.data.status import dataset_status

ALPHA = b"alpha nuclei " * 1000
BETA = b"beta cells " * 700


def zipped(files: dict[str, bytes]) -> bytes:
    """A zip archive of ``files`` in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


ARCHIVE = zipped({"pack/one.txt": b"one", "pack/two.txt": b"two"})


@pytest.fixture
def data_env(tmp_path, monkeypatch):
    """Isolated mirror and cache folders."""
    return isolate(tmp_path, monkeypatch)


@pytest.fixture
def server():
    """A local HTTP server for the test's downloads."""
    with running_server() as srv:
        yield srv


@pytest.fixture
def toyset(data_env, server, monkeypatch, tmp_path):
    """A dataset 'toy' (two files + a zip) served locally; returns the server."""
    server.files.update({"/toy/a.bin": ALPHA, "/toy/b.bin": BETA, "/toy/pack.zip": ARCHIVE})
    files = [
        {"path": "a.bin", "sha256": sha(ALPHA), "size": len(ALPHA)},
        {"path": "sub/b.bin", "sha256": sha(BETA), "url": server.url("/toy/b.bin")},
        {"path": "pack.zip", "sha256": sha(ARCHIVE), "extract_to": "unpacked"},
    ]
    manifest = write_manifest(tmp_path, [dataset_entry("toy", files,
                                                       base_url=server.url("/toy/"))])
    monkeypatch.setenv("COURSE_DATA_MANIFEST", str(manifest))
    return server


def add_dataset(tmp_path, monkeypatch, entry) -> None:
    """Replace the test manifest with one holding ``entry`` only."""
    monkeypatch.setenv("COURSE_DATA_MANIFEST", str(write_manifest(tmp_path, [entry])))


def assert_explains(exc: DatasetUnavailable, source: str, fix_word: str) -> None:
    """The message names the dataset, the source tried and a fix."""
    text = str(exc)
    assert "'toy'" in text, text
    assert source in text, text
    assert fix_word.lower() in exc.fix.lower(), exc.fix


def test_download_then_trusted_second_fetch(toyset, data_env):
    paths = fetch("toy", progress=False)
    cache = data_env["cache"] / "toy"
    assert paths["a.bin"] == cache / "a.bin" and paths["a.bin"].read_bytes() == ALPHA
    assert paths["sub/b.bin"].read_bytes() == BETA
    assert (paths["unpacked"] / "pack" / "two.txt").read_bytes() == b"two"
    hits = sum(toyset.hits.values())
    assert fetch("toy", progress=False) == paths
    assert sum(toyset.hits.values()) == hits, "a cached, verified file must not be downloaded again"
    assert (data_env["cache"] / ".stamps" / "toy.json").is_file()


def test_mirror_is_used_without_network(toyset, data_env, monkeypatch):
    mirror = data_env["mirror"] / "toy"
    mirror.mkdir()
    (mirror / "a.bin").write_bytes(ALPHA)
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    assert fetch("toy", ["a.bin"])["a.bin"] == mirror / "a.bin"
    assert not toyset.hits


def test_corrupt_mirror_file_falls_back_to_download(toyset, data_env):
    mirror = data_env["mirror"] / "toy"
    mirror.mkdir()
    (mirror / "a.bin").write_bytes(ALPHA[:-1] + b"X")
    path = fetch("toy", ["a.bin"], progress=False)["a.bin"]
    assert path == data_env["cache"] / "toy" / "a.bin" and path.read_bytes() == ALPHA
    assert (mirror / "a.bin").read_bytes().endswith(b"X"), "a mirror is never modified"


def test_corrupt_mirror_file_offline_names_it(toyset, data_env, monkeypatch):
    mirror = data_env["mirror"] / "toy"
    mirror.mkdir()
    (mirror / "a.bin").write_bytes(b"garbage")
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.raises(DatasetUnavailable) as info:
        fetch("toy", ["a.bin"])
    assert_explains(info.value, str(mirror / "a.bin"), "damaged copy")
    assert "COURSE_OFFLINE" in str(info.value)
    assert leftovers(data_env["cache"]) == []


def test_truncated_download_leaves_nothing(toyset, data_env, tmp_path, monkeypatch):
    toyset.files["/truncated/a.bin"] = ALPHA
    add_dataset(tmp_path, monkeypatch, dataset_entry("toy", [
        {"path": "a.bin", "sha256": sha(ALPHA), "url": toyset.url("/truncated/a.bin")}]))
    with pytest.raises(DatasetUnavailable) as info:
        fetch("toy", progress=False)
    assert_explains(info.value, toyset.url("/truncated/a.bin"), "again")
    assert leftovers(data_env["cache"]) == []


def test_wrong_bytes_try_the_next_address(toyset, data_env, tmp_path, monkeypatch):
    toyset.files["/changed/a.bin"] = BETA
    add_dataset(tmp_path, monkeypatch, dataset_entry("toy", [
        {"path": "a.bin", "sha256": sha(ALPHA), "url": toyset.url("/changed/a.bin"),
         "mirrors": [toyset.url("/toy/a.bin")]}]))
    assert fetch("toy", progress=False)["a.bin"].read_bytes() == ALPHA
    assert toyset.hits["/changed/a.bin"] == 1 and toyset.hits["/toy/a.bin"] == 1


def test_http_404(toyset, data_env, tmp_path, monkeypatch):
    add_dataset(tmp_path, monkeypatch, dataset_entry("toy", [
        {"path": "a.bin", "sha256": sha(ALPHA), "url": toyset.url("/gone/a.bin")}]))
    with pytest.raises(DatasetUnavailable) as info:
        fetch("toy", progress=False)
    assert "HTTP 404" in str(info.value)
    assert_explains(info.value, toyset.url("/gone/a.bin"), "report it")
    assert leftovers(data_env["cache"]) == []


def test_no_network(data_env, tmp_path, monkeypatch):
    url = closed_port_url("/a.bin")
    add_dataset(tmp_path, monkeypatch, dataset_entry("toy", [
        {"path": "a.bin", "sha256": sha(ALPHA), "url": url}]))
    with pytest.raises(DatasetUnavailable) as info:
        fetch("toy", progress=False)
    assert "no connection" in str(info.value)
    assert_explains(info.value, url, "connect to the internet")
    assert leftovers(data_env["cache"]) == []


def test_offline_never_touches_the_network(toyset, data_env, monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.raises(DatasetUnavailable) as info:
        fetch("toy")
    assert not toyset.hits
    assert_explains(info.value, str(data_env["cache"] / "toy" / "a.bin"), "COURSE_OFFLINE")


def test_read_only_cache(toyset, data_env):
    with read_only(data_env["cache"]):
        with pytest.raises(DatasetUnavailable) as info:
            fetch("toy", ["a.bin"], progress=False)
    assert_explains(info.value, str(data_env["cache"]), "COURSE_CACHE_DIR")
    assert leftovers(data_env["cache"]) == []


def test_read_only_cache_still_serves_the_mirror(toyset, data_env):
    mirror = data_env["mirror"] / "toy"
    mirror.mkdir()
    (mirror / "a.bin").write_bytes(ALPHA)
    with read_only(data_env["cache"]):
        assert fetch("toy", ["a.bin"])["a.bin"] == mirror / "a.bin"


def test_disk_too_small_is_refused_before_downloading(toyset, data_env, monkeypatch):
    import shutil

    usage = shutil.disk_usage(data_env["cache"])
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage._replace(free=10))
    with pytest.raises(DatasetUnavailable) as info:
        fetch("toy", ["a.bin"], progress=False)
    assert_explains(info.value, "0.0 MB free", "free disk space")
    assert not toyset.hits and leftovers(data_env["cache"]) == []


def test_disk_full_during_download_leaves_nothing(toyset, data_env, monkeypatch):
    import pooch

    def fill_disk(self, url, output_file, pooch_obj, check_only=False):
        with open(output_file, "wb") as fh:
            fh.write(ALPHA[:100])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", fill_disk)
    with pytest.raises(DatasetUnavailable) as info:
        fetch("toy", ["a.bin"], progress=False)
    assert_explains(info.value, "is full", "free disk space")
    assert leftovers(data_env["cache"]) == []


def test_unknown_dataset_suggests_the_name(toyset):
    with pytest.raises(UnknownDataset) as info:
        fetch("tpy")
    assert "'tpy'" in str(info.value) and "manifest" in str(info.value)
    assert "did you mean 'toy'" in info.value.fix


def test_unknown_file_of_a_dataset(toyset):
    with pytest.raises(UnknownDataset) as info:
        fetch("toy", ["c.bin"])
    assert "'c.bin'" in str(info.value) and "'toy'" in str(info.value)


def test_two_kernels_fetch_one_file_once(toyset, data_env, tmp_path, monkeypatch):
    toyset.files["/slow/a.bin"] = ALPHA
    add_dataset(tmp_path, monkeypatch, dataset_entry("toy", [
        {"path": "a.bin", "sha256": sha(ALPHA), "url": toyset.url("/slow/a.bin")}]))
    results, errors = [], []

    def worker() -> None:
        try:
            results.append(fetch("toy", progress=False)["a.bin"])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 2 and results[0].read_bytes() == ALPHA
    assert toyset.hits["/slow/a.bin"] == 1, "the second fetch waits for the lock, then reuses"


def test_archive_is_extracted_once(toyset, data_env):
    folder = fetch("toy", ["pack.zip"], progress=False)["unpacked"]
    marker = folder / ".course_extracted"
    before = marker.stat().st_mtime_ns
    assert fetch("toy", ["pack.zip"], progress=False)["unpacked"] == folder
    assert marker.stat().st_mtime_ns == before
    marker.unlink()  # an interrupted extraction: no marker, so it is redone
    (folder / "pack" / "one.txt").write_bytes(b"half")
    assert (fetch("toy", ["pack.zip"])["unpacked"] / "pack" / "one.txt").read_bytes() == b"one"


def test_archive_cannot_escape_its_folder(data_env, server, tmp_path, monkeypatch):
    evil = zipped({"../../escape.txt": b"x"})
    server.files["/evil.zip"] = evil
    add_dataset(tmp_path, monkeypatch, dataset_entry("toy", [
        {"path": "evil.zip", "sha256": sha(evil), "url": server.url("/evil.zip"),
         "extract_to": "out"}]))
    with pytest.raises(ValueError, match="outside"):
        fetch("toy", progress=False)
    assert not (tmp_path / "escape.txt").exists()


def test_staging_a_hub_folder_then_using_it_offline(toyset, data_env, tmp_path, monkeypatch,
                                                    capsys):
    hub = tmp_path / "hub"
    assert data_cli(["fetch", "toy", "--into", str(hub), "--quiet"]) == 0
    assert (hub / "toy" / "sub" / "b.bin").read_bytes() == BETA
    assert (hub / "toy" / "unpacked" / "pack" / "one.txt").is_file()
    monkeypatch.setenv("COURSE_DATA_DIRS", str(hub))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "fresh-cache"))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    paths = fetch("toy")
    assert all(str(p).startswith(str(hub)) for p in paths.values())
    assert dict((n, s) for n, s, _ in dataset_status())["toy"] == "mirrored"


def test_dataset_dir_joins_mirror_and_cache(toyset, data_env):
    mirror = data_env["mirror"] / "toy"
    mirror.mkdir()
    (mirror / "a.bin").write_bytes(ALPHA)
    folder = dataset_dir("toy", ["a.bin", "sub/b.bin"])
    assert folder == data_env["cache"] / "toy"
    assert (folder / "a.bin").read_bytes() == ALPHA and (folder / "sub/b.bin").read_bytes() == BETA


def test_status_and_verify(toyset, data_env, capsys):
    assert dict((n, s) for n, s, _ in dataset_status())["toy"] == "missing"
    fetch("toy", ["a.bin"], progress=False)
    name, status, detail = dataset_status()[0]
    assert (name, status) == ("toy", "cached") and "1 of 3 files" in detail
    fetch("toy", progress=False)
    assert data_cli(["verify"]) == 0
    assert "3 files checked, 0 bad, 0 missing" in capsys.readouterr().out
    (data_env["cache"] / "toy" / "a.bin").write_bytes(b"bit rot")
    assert data_cli(["verify"]) == 1
    out = capsys.readouterr().out
    assert "BAD" in out and str(data_env["cache"] / "toy" / "a.bin") in out


def test_verify_counts_and_names_missing_files(toyset, data_env, capsys):
    fetch("toy", ["a.bin"], progress=False)
    assert data_cli(["verify"]) == 1, "a file missing from every place fails the check"
    out = capsys.readouterr().out
    assert "MISSING  toy: sub/b.bin" in out and "MISSING  toy: pack.zip" in out
    assert "1 files checked, 0 bad, 2 missing" in out and "course-utils data fetch" in out
    (data_env["cache"] / "toy" / "a.bin").unlink()
    assert data_cli(["verify", "toy"]) == 1
    assert "MISSING  toy: all 3 files" in capsys.readouterr().out


def test_cli_list_path_and_errors(toyset, data_env, capsys):
    assert data_cli(["list"]) == 0
    assert "toy" in capsys.readouterr().out
    assert data_cli(["path", "toy"]) == 1
    fetch("toy", ["a.bin"], progress=False)
    assert data_cli(["path", "toy"]) == 0
    assert capsys.readouterr().out.strip() == str(data_env["cache"] / "toy")
    assert data_cli(["fetch", "tyo"]) == 1
    assert "did you mean 'toy'" in capsys.readouterr().err


def test_second_fetch_of_many_files_skips_hashing(toyset, data_env, tmp_path, monkeypatch):
    """With a stamp, a second fetch only stats files (hashing is patched to fail)."""
    from course_utils.data import stamps

    mirror = data_env["mirror"] / "toy"
    mirror.mkdir()
    entries = []
    for i in range(50):
        data = os.urandom(256)
        (mirror / f"f{i}.bin").write_bytes(data)
        entries.append({"path": f"f{i}.bin", "sha256": sha(data), "url": "http://127.0.0.1:9/x"})
    add_dataset(tmp_path, monkeypatch, dataset_entry("toy", entries))
    fetch("toy")
    monkeypatch.setattr(stamps, "sha256_file", lambda p: pytest.fail(f"re-hashed {p}"))
    stamps._MEMORY.clear()  # a new process: the record is read back from the cache
    assert len(fetch("toy")) == 50
    os.utime(mirror / "f3.bin", ns=(0, 0))  # a changed file is hashed again
    with pytest.raises(pytest.fail.Exception, match="f3.bin"):
        fetch("toy")


def test_paths_in_manifest_stay_inside(tmp_path, monkeypatch):
    from course_utils.data.errors import ManifestError

    add_dataset(tmp_path, monkeypatch, dataset_entry("toy", [
        {"path": "../outside.bin", "sha256": sha(b"x"), "url": "http://127.0.0.1/x"}]))
    with pytest.raises(ManifestError, match="relative POSIX path"):
        fetch("toy")


def test_bundled_library_dataset_is_found_without_import():
    paths = fetch("sklearn-digits")
    assert all(Path(p).is_file() for p in paths.values())


def test_dataset_dir_uses_what_is_here_and_says_what_is_missing(toyset, data_env, monkeypatch):
    from course_utils.data import IncompleteDataset

    mirror = data_env["mirror"] / "toy"
    mirror.mkdir()
    (mirror / "a.bin").write_bytes(ALPHA)
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.warns(IncompleteDataset, match="COURSE_OFFLINE"):
        assert dataset_dir("toy") == mirror
    with pytest.raises(DatasetUnavailable):
        dataset_dir("toy", ["sub/b.bin"])


def test_files_shipped_in_the_package_complete_the_cache(data_env, monkeypatch):
    monkeypatch.delenv("COURSE_DATA_MANIFEST", raising=False)
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    assert dict((n, s) for n, s, _ in dataset_status())["bbbc039"] == "missing"
    path = fetch("bbbc039", ["splits/test.txt"])["splits/test.txt"]
    assert path == data_env["cache"] / "bbbc039" / "splits" / "test.txt"
    text = path.read_text()
    assert len(text.split()) == 50
    path.unlink()
    with read_only(data_env["cache"] / "bbbc039" / "splits"):
        packaged = fetch("bbbc039", ["splits/test.txt"])["splits/test.txt"]
    assert "bundled" in packaged.parts and packaged.read_text() == text


def test_grading_fetches_the_declared_data_once_and_kernels_stay_offline(
        toyset, data_env, tmp_path, monkeypatch, capsys):
    import nbformat

    from course_utils.environ import environment
    from course_utils.grading.datasets import declared_datasets, prefetch
    from course_utils.grading.grade import kernel_settings

    solutions = []
    for name, datasets in (("01_a", ["toy"]), ("02_b", []), ("03_c", ["toy"])):
        nb = nbformat.v4.new_notebook(metadata={"course": {"datasets": datasets}})
        solutions.append(tmp_path / f"{name}.ipynb")
        nbformat.write(nb, solutions[-1])
    assert declared_datasets([*solutions, tmp_path / "99_missing.ipynb"]) == ["toy"]
    prefetch(["toy"])
    assert sum(toyset.hits.values()) == 3 and "Data 'toy' for grading:" in capsys.readouterr().err
    with environment(kernel_settings(jobs=1, figures=True, workdir=tmp_path)):
        assert os.environ["COURSE_OFFLINE"] == "1"  # what the kernels inherit
        assert fetch("toy", progress=False)["a.bin"].read_bytes() == ALPHA
    assert "COURSE_OFFLINE" not in os.environ
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    prefetch(["toy"])  # unavailable: said, not raised (the notebooks fall back)
    err = capsys.readouterr().err
    assert "Data 'toy' is not available" in err and "COURSE_OFFLINE" in err


def test_setup_cell_says_where_the_data_is_or_how_to_get_it(toyset, data_env, monkeypatch,
                                                            capsys):
    from course_utils.data import announce

    announce("toy")
    assert f"Data 'toy': {data_env['cache'] / 'toy'}" in capsys.readouterr().out
    monkeypatch.setenv("COURSE_CACHE_DIR", str(data_env["cache"].parent / "empty-cache"))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    announce("toy")
    out = capsys.readouterr().out
    assert "Data 'toy' is not available here" in out and "course-utils data fetch toy" in out


@pytest.fixture
def umask():
    """Set the process umask for the test (restored after); returns the setter."""
    before = os.umask(0o022)
    yield os.umask
    os.umask(before)


def modes(folder: Path) -> dict[str, int]:
    """Permission bits of everything under ``folder`` (and itself), by relative path."""
    found = {".": folder.stat().st_mode & 0o777}
    found.update({str(p.relative_to(folder)): p.stat().st_mode & 0o777 for p in folder.rglob("*")})
    return found


def test_cached_files_get_a_normal_files_mode(toyset, data_env, umask):
    umask(0o022)
    paths = fetch("toy", progress=False)
    assert paths["a.bin"].stat().st_mode & 0o777 == 0o644, "downloads respect the umask"
    assert (paths["unpacked"] / "pack" / "one.txt").stat().st_mode & 0o777 == 0o644
    assert paths["unpacked"].stat().st_mode & 0o777 == 0o755, "so does an extracted folder"
    stamps = data_env["cache"] / ".stamps" / "toy.json"
    assert stamps.stat().st_mode & 0o777 == 0o644


def test_staged_folder_is_readable_by_every_user(toyset, data_env, umask, monkeypatch):
    """Whatever the umask, `fetch --into DIR` leaves DIR a+rX; another user can read it."""
    umask(0o077)
    with world_dir() as world:
        hub = world / "hub"
        assert data_cli(["fetch", "toy", "--into", str(hub), "--quiet"]) == 0
        bits = modes(hub)
        assert all(mode & 0o444 == 0o444 for mode in bits.values()), bits
        assert all(bits[rel] & 0o111 == 0o111 for rel in bits if (hub / rel).is_dir()), bits
        staged = hub / "toy" / "sub" / "b.bin"
        (data_env["cache"] / "toy").mkdir(parents=True)
        (data_env["cache"] / "toy" / "a.bin").write_bytes(ALPHA)  # a copy, not a download
        (hub / "toy" / "a.bin").unlink()
        assert data_cli(["fetch", "toy", "--into", str(hub), "--quiet"]) == 0
        assert (hub / "toy" / "a.bin").stat().st_mode & 0o444 == 0o444
        if os.geteuid() != 0:
            return
        nobody_ids()
        runuser = shutil.which("runuser")
        if runuser is None:
            pytest.skip("running as root without runuser: cannot read as another user")
        seen = subprocess.run([runuser, "-u", "nobody", "--", "cat", str(staged)],
                              capture_output=True, timeout=30, check=False)
        assert seen.returncode == 0 and seen.stdout == BETA, seen.stderr


def _unreadable_mirror(world: Path, monkeypatch) -> Path:
    """Mirror, cache and manifest in ``world``, where another user may go; the mirror's copy
    of toy's a.bin exists but may not be read. Offline."""
    from course_utils.data.manifest import load_manifest

    mirror = world / "mirror" / "toy"
    mirror.mkdir(parents=True)
    (mirror / "a.bin").write_bytes(ALPHA)
    (mirror / "a.bin").chmod(0)
    (world / "cache").mkdir(mode=0o777)
    (world / "cache").chmod(0o777)
    manifest = Path(shutil.copy(os.environ["COURSE_DATA_MANIFEST"], world / "manifest.yaml"))
    manifest.chmod(0o644)
    for var, value in (("COURSE_DATA_DIRS", world / "mirror"), ("COURSE_CACHE_DIR",
                       world / "cache"), ("COURSE_DATA_MANIFEST", manifest)):
        monkeypatch.setenv(var, str(value))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    load_manifest()  # parsed here: another user may not read the YAML library's files
    return mirror / "a.bin"


def test_unreadable_mirror_file_names_the_file_and_the_fix(toyset, data_env, monkeypatch):
    with world_dir() as world:
        locked = _unreadable_mirror(world, monkeypatch)
        status, rc, printed = as_other_user(lambda: data_cli(["fetch", "toy"]))
        checked = as_other_user(lambda: data_cli(["verify", "toy"]))
    assert (status, rc) == ("ok", 1), printed
    assert "Traceback" not in printed and "PermissionError" not in printed
    assert f"mirror {locked}: not readable (permission denied)" in printed, printed
    assert f"`chmod -R a+rX {world / 'mirror'}`" in printed and "instructor" in printed
    assert checked[:2] == ("ok", 1), checked
    assert f"BAD      toy: {locked} (not readable (Permission denied))" in checked[2], checked


def test_unreadable_mirror_file_is_fetched_again_with_network(toyset, data_env, monkeypatch):
    with world_dir() as world:
        _unreadable_mirror(world, monkeypatch)
        monkeypatch.delenv("COURSE_OFFLINE")
        monkeypatch.setenv("COURSE_CACHE_DIR", str(world / "warm-up"))
        fetch("toy", ["sub/b.bin"], progress=False)  # loads what a download imports
        monkeypatch.setenv("COURSE_CACHE_DIR", str(world / "cache"))
        status, path, printed = as_other_user(
            lambda: fetch("toy", ["a.bin"], progress=False)["a.bin"])
    assert status == "ok" and path == world / "cache" / "toy" / "a.bin", (path, printed)


def test_stale_temporaries_are_removed_by_the_next_fetch_and_reported(toyset, data_env,
                                                                      capsys):
    from filelock import FileLock

    fetch("toy", progress=False)
    folder = data_env["cache"] / "toy"
    hour_ago = time.time() - 3600
    stale = [folder / ".a.bin-k1ll3d_1", folder / "sub" / ".b.bin-abcdefgh"]
    fresh = folder / ".a.bin-stillbsy"  # a fetch that is writing it right now
    others = [folder / ".a.bin-notes", folder / "a.bin-12345678", folder / ".keep-abcdefgh"]
    for path in [*stale, fresh, *others]:
        path.write_bytes(b"partial")
    half = folder / ".unpacked-extract-a1b2c3d4"
    (half / "pack").mkdir(parents=True)
    for path in [*stale, half, *others]:
        os.utime(path, (hour_ago, hour_ago))
    assert data_cli(["verify", "toy"]) == 0, "partial files are reported, not failed"
    out = capsys.readouterr().out
    assert all(f"PARTIAL  {p} " in out for p in [*stale, fresh, half]), out
    assert not any(f"PARTIAL  {p} " in out for p in others) and "4 partial" in out

    (folder / "a.bin").unlink()  # the next fetch has something to write
    with FileLock(str(folder / ".fetch.lock")):  # ... but another fetch holds the folder
        dest = data_env["cache"].parent / "hub"
        fetch("toy", ["a.bin"], into=dest)  # writes elsewhere: the cache is left alone
    assert all(p.exists() for p in stale)
    fetch("toy", ["a.bin"], progress=False)
    assert not any(p.exists() for p in [*stale, half])
    assert fresh.exists() and all(p.exists() for p in others)


def test_a_cache_inside_a_mirror_never_writes_there(toyset, data_env, monkeypatch):
    mirror = data_env["mirror"]
    (mirror / "toy").mkdir()
    (mirror / "toy" / "a.bin").write_bytes(b"garbage")
    before = {p: p.read_bytes() for p in mirror.rglob("*") if p.is_file()}
    for cache in (mirror, mirror / "cache"):
        monkeypatch.setenv("COURSE_CACHE_DIR", str(cache))
        with pytest.raises(DatasetUnavailable) as info:
            fetch("toy", progress=False)
        assert "COURSE_CACHE_DIR lies inside a COURSE_DATA_DIRS folder" in str(info.value)
        assert str(mirror) in info.value.fix
        assert data_cli(["verify"]) == 1  # reads the mirror, writes no stamps there
        after = {p: p.read_bytes() for p in mirror.rglob("*") if p.is_file()}
        assert after == before and not (mirror / "cache").exists()
    assert not toyset.hits


def test_missing_shared_folder_on_a_hub_says_to_ask_the_instructor(toyset, data_env, tmp_path,
                                                                    monkeypatch):
    """A hub's COURSE_DATA_DIRS folder that is not there: ask the instructor to stage it."""
    shared = tmp_path / "course-hub" / "data"
    monkeypatch.setenv("COURSE_DATA_DIRS", str(shared))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.setenv("JUPYTERHUB_USER", "attendee1")
    with pytest.raises(DatasetUnavailable) as caught:
        fetch("toy", progress=False)
    text = str(caught.value)
    assert f"mirror {shared / 'toy' / 'a.bin'}: the folder itself does not exist" in text, text
    assert (f"ask the instructor to stage it (`course-utils data fetch --all --into {shared}`)"
            in text), text
    assert "shared data folder missing" in caught.value.missing["a.bin"]
    monkeypatch.delenv("JUPYTERHUB_USER")  # off a hub: the fix is one's own
    with pytest.raises(DatasetUnavailable) as caught:
        fetch("toy", progress=False)
    assert "ask the instructor" not in str(caught.value)
    assert f"create it with `course-utils data fetch --all --into {shared}`" in str(caught.value)


def test_closed_shared_folder_on_a_hub_falls_back_and_says_whom_to_ask(toyset, data_env,
                                                                        monkeypatch, capsys):
    """A mirror folder this user may not enter: no traceback, the fix names the instructor."""
    with world_dir() as world:
        closed = world / "closed"
        (closed / "toy").mkdir(parents=True)
        (closed / "toy" / "a.bin").write_bytes(ALPHA)
        closed.chmod(0o700)
        (world / "cache").mkdir(mode=0o777)
        (world / "cache").chmod(0o777)
        manifest = Path(shutil.copy(os.environ["COURSE_DATA_MANIFEST"], world / "manifest.yaml"))
        manifest.chmod(0o644)
        for var, value in (("COURSE_DATA_DIRS", closed), ("COURSE_CACHE_DIR", world / "cache"),
                           ("COURSE_DATA_MANIFEST", manifest)):
            monkeypatch.setenv(var, str(value))
        monkeypatch.setenv("COURSE_OFFLINE", "1")
        monkeypatch.setenv("JUPYTERHUB_USER", "attendee1")
        from course_utils.data import announce
        from course_utils.data.manifest import load_manifest

        load_manifest()
        status, _, printed = as_other_user(lambda: announce("toy"))
    assert status == "ok", printed
    assert "Traceback" not in printed and "Data 'toy' is not available here" in printed, printed
    assert f"ask the instructor to make it readable by everyone (`chmod -R a+rX {closed}`)" in (
        printed), printed
