"""Loaders: real BBBC039 (when mirrored), the mask decoder, generated fallbacks, archive loaders."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import zipfile

import numpy as np
import pytest
from data_fixtures import as_other_user, dataset_entry, isolate, sha, world_dir, write_manifest

from course_utils.data import (
    decode_mask,
    load_bbbc039,
    load_bbbc039_eval,
    nuclei_fields,
    synthetic_counts,
    synthetic_nuclei,
)

# Measured on the 150 mirrored masks (train + val) with two independent methods below; the
# published figures, 23,617 decoded vs 19,565 with `red > 0`, are for all 200 masks.
MIRROR_NUCLEI, MIRROR_NAIVE = 17_897, 14_823


@pytest.fixture
def data_env(tmp_path, monkeypatch):
    """Isolated mirror and cache folders."""
    return isolate(tmp_path, monkeypatch)


@pytest.fixture
def real_data(shared_data, tmp_path, monkeypatch):
    """The real mirror as the only source, offline (the test split must not be downloaded)."""
    monkeypatch.setenv("COURSE_DATA_DIRS", str(shared_data))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.delenv("COURSE_DATA_MANIFEST", raising=False)


def test_bbbc039_train_fields(real_data):
    fields = load_bbbc039("train", n=2)
    assert fields.images.shape == (2, 520, 696) and fields.images.dtype == np.uint16
    assert fields.labels.shape == (2, 520, 696) and fields.labels.dtype == np.int32
    assert fields.images.max() < 4096, "12-bit camera range"
    assert all(lab.max() > 20 for lab in fields.labels)
    assert len(fields) == 2 and fields.split == "train"


def test_missing_test_split_falls_back_to_validation(real_data, capsys):
    fields = load_bbbc039_eval(n=1)
    assert fields.split == "val"
    out = capsys.readouterr().out
    assert "validation split" in out and "COURSE_OFFLINE" in out


def test_decoder_counts_match_an_independent_count(shared_data):
    """decode_mask (skimage, per value) vs scipy.ndimage labelling per value, on 150 masks."""
    from scipy import ndimage as ndi
    from skimage.io import imread

    decoded = independent = naive = 0
    for path in sorted((shared_data / "bbbc039" / "masks").glob("*.png")):
        rgba = imread(path)
        red = rgba[..., 0]
        labels = decode_mask(rgba)
        assert np.array_equal(labels > 0, red > 0)
        decoded += int(labels.max())
        assert len(np.unique(labels)) == labels.max() + 1, "labels are 0..k without gaps"
        independent += sum(ndi.label(red == v)[1] for v in (1, 2, 3))
        naive += ndi.label(red > 0)[1]
    assert decoded == independent == MIRROR_NUCLEI
    assert naive == MIRROR_NAIVE
    # same proportion as the published all-200 figures (23,617 / 19,565 = 1.207)
    assert abs(decoded / naive - 23_617 / 19_565) < 0.005


def test_synthetic_nuclei_have_exact_touching_instances():
    from scipy import ndimage as ndi
    from skimage.measure import label

    fields = synthetic_nuclei(2, seed=3)
    assert fields.images.shape == fields.labels.shape == (2, 520, 696)
    assert fields.images.dtype == np.uint16 and fields.labels.dtype == np.int32
    labels = fields.labels[0]
    k = labels.max()
    assert 40 <= k <= 130
    assert all(label(labels == i).max() == 1 for i in range(1, k + 1)), "one component each"
    grown = ndi.grey_dilation(labels, size=3)
    touching = np.unique(labels[(labels > 0) & (grown != labels) & (grown > 0)])
    assert len(touching) >= 5, "some nuclei touch a neighbour"
    image = fields.images[0].astype(float)
    assert image[labels > 0].mean() > 2 * image[labels == 0].mean()
    assert np.array_equal(synthetic_nuclei(1, seed=3).labels[0], labels), "seeded"


@pytest.mark.parametrize("shape", [(32, 48), (64, 64), (128, 96)])
def test_synthetic_nuclei_fit_small_fields(shape):
    """Small fields (quick unit tests, tiny demos) get fewer nuclei, all inside the field."""
    fields = synthetic_nuclei(2, shape=shape, seed=1)
    assert fields.images.shape == fields.labels.shape == (2, *shape)
    density = fields.labels.max() / (shape[0] * shape[1])
    assert density < 2 * 130 / (520 * 696) + 1e-3, "no more crowded than a BBBC039 field"

def test_synthetic_counts_have_known_types():
    adata = synthetic_counts(n_cells=600, n_genes=300, n_types=4, seed=1)
    assert adata.shape == (600, 300) and adata.X.dtype == np.float32
    assert list(adata.obs["cell_type"].cat.categories) == ["type_1", "type_2", "type_3", "type_4"]
    for cell_type, genes in adata.uns["marker_genes"].items():
        mine = (adata.obs["cell_type"] == cell_type).to_numpy()
        expr = adata[:, genes].X.toarray()
        assert expr[mine].mean() > 2 * expr[~mine].mean(), cell_type


def test_nuclei_fields_fall_back_loudly(data_env, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.setenv("COURSE_DATA_DIRS", str(data_env["mirror"]))
    fields = nuclei_fields("val", n=1)
    out = capsys.readouterr().out
    assert fields.split == "synthetic" and fields.images.shape == (1, 520, 696)
    assert "GENERATED" in out and "not BBBC039" in out and "COURSE_OFFLINE" in out


def _first_val_field() -> str:
    """The name of the first field of BBBC039's validation split (shipped in the package)."""
    from course_utils.data.locations import BUNDLED_DIR

    return (BUNDLED_DIR / "bbbc039" / "splits" / "validation.txt").read_text().split()[0]


def test_fallback_banner_names_the_cause_of_each_missing_file(data_env, monkeypatch, capsys):
    field = _first_val_field()
    images = data_env["mirror"] / "bbbc039" / "images"
    images.mkdir(parents=True)
    (images / f"{field}.tif").write_bytes(b"not the pinned image")
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    assert nuclei_fields("val", n=1).split == "synthetic"
    why = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("Why:"))
    assert why == (f"Why: corrupt copy in a mirror, not downloaded (COURSE_OFFLINE=1): "
                   f"images/{field}.tif; absent, not downloaded (COURSE_OFFLINE=1): "
                   f"masks/{field}.png."), why


def test_fallback_banner_groups_many_files_by_cause():
    from course_utils.data import DatasetUnavailable
    from course_utils.data.fallback import _banner

    missing = {f"images/f{i}.tif": "absent, not downloaded (COURSE_OFFLINE=1)" for i in range(5)}
    exc = DatasetUnavailable("bbbc039", "could not get images/f0.tif", [], "fix it", missing)
    assert ("Why: absent, not downloaded (COURSE_OFFLINE=1): 5 files: images/f0.tif, "
            "images/f1.tif, images/f2.tif and 2 more.") in _banner(exc, 5, "val")


def test_unreadable_mirror_falls_back_loudly_with_the_fix(monkeypatch):
    from course_utils.data.manifest import load_manifest

    for var in ("COURSE_DATA_MANIFEST", "COURSE_DATA_DIRS", "COURSE_CACHE_DIR"):
        monkeypatch.delenv(var, raising=False)
    load_manifest()
    synthetic_nuclei(1)  # imported here: another user may not read the libraries' files
    field = _first_val_field()
    with world_dir() as world:
        for sub, ext in (("images", "tif"), ("masks", "png")):
            (world / "mirror" / "bbbc039" / sub).mkdir(parents=True)
            (world / "mirror" / "bbbc039" / sub / f"{field}.{ext}").write_bytes(b"x")
            (world / "mirror" / "bbbc039" / sub / f"{field}.{ext}").chmod(0)
        monkeypatch.setenv("COURSE_DATA_DIRS", str(world / "mirror"))
        monkeypatch.setenv("COURSE_CACHE_DIR", str(world / "cache"))
        monkeypatch.setenv("COURSE_OFFLINE", "1")
        status, split, printed = as_other_user(lambda: nuclei_fields("val", n=1).split)
    assert (status, split) == ("ok", "synthetic"), printed
    assert "GENERATED" in printed and "a copy here may not be read (permissions)" in printed
    assert f"chmod -R a+rX {world / 'mirror'}" in printed, printed


def _in_mirror(data_env, tmp_path, monkeypatch, name, path, data, **extra):
    """Put one file of dataset ``name`` in the test mirror and a manifest listing it."""
    folder = data_env["mirror"] / name
    folder.mkdir(parents=True)
    (folder / path).write_bytes(data)
    entry = dataset_entry(name, [{"path": path, "sha256": sha(data),
                                  "url": "http://127.0.0.1:9/unused", **extra}])
    monkeypatch.setenv("COURSE_DATA_MANIFEST", str(write_manifest(tmp_path, [entry])))
    monkeypatch.setenv("COURSE_OFFLINE", "1")


def _tiff(array: np.ndarray) -> bytes:
    import tifffile

    buffer = io.BytesIO()
    tifffile.imwrite(buffer, array)
    return buffer.getvalue()


def test_dsb2018_loader_reads_the_stardist_layout(data_env, tmp_path, monkeypatch):
    from course_utils.data import load_dsb2018

    image = (np.arange(30 * 40) % 255).astype(np.uint8).reshape(30, 40)
    mask = np.zeros((30, 40), np.uint16)
    mask[5:10, 5:10], mask[20:25, 30:35] = 1, 2
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for split in ("train", "test"):
            zf.writestr(f"dsb2018/{split}/images/f1.tif", _tiff(image))
            zf.writestr(f"dsb2018/{split}/masks/f1.tif", _tiff(mask))
    _in_mirror(data_env, tmp_path, monkeypatch, "dsb2018-stardist", "dsb2018.zip",
               buffer.getvalue(), extract_to="extracted")
    fields = load_dsb2018("test")
    assert fields.names == ["f1"] and fields.images[0].dtype == np.uint16
    assert np.array_equal(fields.images[0], image)
    assert fields.labels[0].dtype == np.int32 and fields.labels[0].max() == 2
    assert (data_env["cache"] / "dsb2018-stardist" / "extracted" / "dsb2018").is_dir()


def test_pbmc68k_loader_returns_disk_backed_counts(data_env, tmp_path, monkeypatch):
    from course_utils.data import load_pbmc68k

    files = {
        "matrix.mtx": b"%%MatrixMarket matrix coordinate integer general\n"
                      b"3 2 3\n1 1 5\n3 1 1\n2 2 7\n",
        "genes.tsv": b"ENSG1\tCD3E\nENSG2\tMS4A1\nENSG3\tCD3E\n",
        "barcodes.tsv": b"AAAC-1\nAAAG-1\n",
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(f"filtered_matrices_mex/hg19/{name}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    _in_mirror(data_env, tmp_path, monkeypatch, "pbmc68k", "pbmc68k.tar.gz",
               buffer.getvalue(), extract_to="extracted")
    adata = load_pbmc68k()
    assert adata.isbacked and adata.shape == (2, 3)
    assert list(adata.obs_names) == ["AAAC-1", "AAAG-1"] and adata.var_names[0] == "CD3E"
    assert adata[:, "MS4A1"].to_memory().X.toarray().ravel().tolist() == [0, 7]
    adata.file.close()


def test_pbmc3k_loader(data_env, tmp_path, monkeypatch):
    import anndata

    from course_utils.data import load_pbmc3k

    source = synthetic_counts(n_cells=20, n_genes=10, n_types=2)
    h5ad = tmp_path / "x.h5ad"
    source.write_h5ad(h5ad)
    _in_mirror(data_env, tmp_path, monkeypatch, "pbmc3k", "pbmc3k_raw.h5ad", h5ad.read_bytes())
    adata = load_pbmc3k()
    assert isinstance(adata, anndata.AnnData) and adata.shape == (20, 10)


def test_cellpose_models_dir_sets_the_variable(data_env, tmp_path, monkeypatch):
    from course_utils.data import cellpose_models_dir

    monkeypatch.setenv("CELLPOSE_LOCAL_MODELS_PATH", "/not/used")  # restored after the test
    _in_mirror(data_env, tmp_path, monkeypatch, "cellpose-cpsam", "cpsam_v2",
               gzip.compress(b"weights"))
    folder = cellpose_models_dir()
    assert folder == data_env["mirror"] / "cellpose-cpsam" and (folder / "cpsam_v2").is_file()
    assert os.environ["CELLPOSE_LOCAL_MODELS_PATH"] == str(folder)
