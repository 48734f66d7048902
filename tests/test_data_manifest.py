"""data_manifest.yaml: complete, credited, checksummed, consistent with the mirror."""

from __future__ import annotations

import copy
import functools
import hashlib
import importlib
import os

import pytest
import yaml
from data_fixtures import write_manifest

from course_utils.data.errors import ManifestError, UnknownDataset
from course_utils.data.locations import BUNDLED_DIR
from course_utils.data.manifest import MANIFEST_FILE, load_manifest

REQUIRED = {"bbbc039", "dsb2018-stardist", "pbmc3k", "pbmc68k", "cellpose-cpsam", "unet-pretrained",
            "sklearn-digits", "sklearn-breast-cancer", "pbmc68k-reduced", "skimage-images"}


@pytest.fixture
def shipped(monkeypatch):
    """The manifest shipped with the package."""
    monkeypatch.delenv("COURSE_DATA_MANIFEST", raising=False)
    return load_manifest()


@functools.lru_cache(maxsize=1)
def _raw_text() -> str:
    with open(MANIFEST_FILE, encoding="utf-8") as fh:
        return fh.read()


def raw_manifest() -> dict:
    """The shipped manifest as plain YAML data (a fresh copy), to break on purpose."""
    return yaml.load(_raw_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def test_package_reads_the_top_level_manifest(repo_root):
    assert os.path.samefile(MANIFEST_FILE, repo_root / "data_manifest.yaml")


def test_every_course_dataset_is_listed_and_credited(shipped):
    assert {d.name for d in shipped.datasets} == REQUIRED
    for dataset in shipped.datasets:
        assert dataset.license.strip() and dataset.citation.strip(), dataset.name
        if not dataset.bundled:
            assert dataset.checksum_source and dataset.files, dataset.name
            assert all(len(f.sha256) == 64 for f in dataset.files), dataset.name


def test_every_loader_exists(shipped):
    for dataset in shipped.datasets:
        module, _, attr = dataset.loader.rpartition(".")
        assert hasattr(importlib.import_module(module), attr), dataset.loader


def test_every_downloadable_file_has_an_address(shipped):
    for dataset in shipped.datasets:
        for entry in dataset.files:
            urls = dataset.urls(entry)
            assert entry.bundled or (urls and all(u.startswith("https://") for u in urls)), \
                (dataset.name, entry.path)


def test_bbbc039_has_all_400_files_and_bundled_split_lists(shipped):
    bbbc = shipped.get("bbbc039")
    paths = [f.path for f in bbbc.files if not f.bundled]
    assert len(paths) == 400
    assert sum(p.startswith("images/") for p in paths) == sum(p.startswith("masks/") for p in paths)
    splits = [f for f in bbbc.files if f.bundled]
    assert sorted(f.path for f in splits) == ["splits/test.txt", "splits/training.txt",
                                              "splits/validation.txt"]
    for entry in splits:
        data = (BUNDLED_DIR / "bbbc039" / entry.path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry.sha256
    names = [(BUNDLED_DIR / "bbbc039" / f.path).read_text().split() for f in splits]
    assert sorted(map(len, names)) == [50, 50, 100]
    listed = {p.split("/")[1].rsplit(".", 1)[0] for p in paths}
    assert set().union(*names) == listed, "the splits partition the 200 fields"


def test_bbbc039_checksums_match_the_mirror_sha256sums(shipped, shared_data):
    mirror = shared_data / "bbbc039"
    sums = dict(reversed(line.split(maxsplit=1)) for line in
                (mirror / "SHA256SUMS").read_text().splitlines())
    ours = {f.path: f.sha256 for f in shipped.get("bbbc039").files if not f.bundled}
    assert ours == sums
    for rel in ("splits/training.txt", "splits/validation.txt", "splits/test.txt"):
        assert (mirror / rel).read_bytes() == (BUNDLED_DIR / "bbbc039" / rel).read_bytes()


def _broken(tmp_path, monkeypatch, change) -> ManifestError:
    """Load a copy of the manifest with ``change`` applied; return the error it raises."""
    raw = raw_manifest()
    change(raw)
    monkeypatch.setenv("COURSE_DATA_MANIFEST", str(write_manifest(tmp_path, raw["datasets"])))
    with pytest.raises(ManifestError) as info:
        load_manifest()
    return info.value


def _dataset(raw: dict, name: str) -> dict:
    return next(d for d in raw["datasets"] if d["name"] == name)


@pytest.mark.parametrize(("change", "words"), [
    (lambda r: _dataset(r, "pbmc3k")["files"][0].pop("sha256"), ["'pbmc3k'", "sha256"]),
    (lambda r: _dataset(r, "pbmc3k")["files"][0].update(sha265="ab"), ["'pbmc3k'", "sha265"]),
    (lambda r: _dataset(r, "bbbc039")["files"][7].update(sha256="123"), ["'bbbc039'", "sha256"]),
    (lambda r: _dataset(r, "pbmc68k").pop("license"), ["'pbmc68k'", "license"]),
    (lambda r: _dataset(r, "dsb2018-stardist").update(citation=""), ["'dsb2018-stardist'",
                                                                     "citation"]),
    (lambda r: _dataset(r, "pbmc3k").pop("checksum_source"), ["'pbmc3k'", "checksum"]),
    (lambda r: _dataset(r, "cellpose-cpsam")["files"][0].pop("url"), ["'cellpose-cpsam'",
                                                                      "address"]),
    (lambda r: r["datasets"].append(copy.deepcopy(r["datasets"][0])), ["unique"]),
])
def test_manifest_mistakes_are_named(tmp_path, monkeypatch, change, words):
    message = str(_broken(tmp_path, monkeypatch, change))
    for word in words:
        assert word in message, message
    assert "manifest.yaml" in message and "Fix:" in message


def test_unknown_dataset(shipped):
    with pytest.raises(UnknownDataset) as info:
        shipped.get("bbbc38")
    assert "did you mean 'bbbc039'" in str(info.value) and "data_manifest.yaml" in str(info.value)


@pytest.mark.parametrize(("make", "words"), [
    (lambda p: p.write_bytes(b"version: 1\ndatasets: []\n# caf\xe9 latin-1\n"),
     ["is not UTF-8 text", "line 3", "0xe9", "Fix: save it as UTF-8"]),
    (lambda p: p.mkdir(), ["it is a directory", "Fix:", "COURSE_DATA_MANIFEST"]),
])
def test_unreadable_manifest_is_one_line_not_a_traceback(tmp_path, monkeypatch, capsys, make,
                                                         words):
    from data_fixtures import data_cli

    manifest = tmp_path / "manifest.yaml"
    make(manifest)
    monkeypatch.setenv("COURSE_DATA_MANIFEST", str(manifest))
    with pytest.raises(ManifestError) as info:
        load_manifest()
    message = str(info.value)
    assert "\n" not in message and str(manifest) in message
    for word in words:
        assert word in message, message
    assert data_cli(["list"]) == 1
    assert capsys.readouterr().err.strip() == message
