"""Notebook 05's single-cell helpers and checks: data layout, preprocessing, labels, streaming.

The checks are run against the notebook's own answer cells (read from its source) and against
the typical mistakes of tests/fixtures/mistakes/05_autoencoder_umap.yaml, without nbgrader.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from conftest import source_answers

from course_utils import single_cell
from course_utils.checks import Checker, CheckFailed
from course_utils.data import synthetic_counts
from course_utils.grading.mistakes import load_mistakes

ROOT = Path(__file__).resolve().parents[1]
NB = "05_autoencoder_umap"
MISTAKES = load_mistakes(ROOT / "tests" / "fixtures" / "mistakes" / f"{NB}.yaml")
CHECK_OF = {"log_normalize": "log_normalize", "pca_variance": "pca_variance",
            "autoencoder": "autoencoder_shapes", "train_epoch": "train_epoch",
            "knn_accuracy": "knn_accuracy", "q_knn_fair": "q_knn_fair",
            "q_trustworthiness": "q_trustworthiness"}


@pytest.fixture(scope="module")
def cells():
    return single_cell.pbmc68k_reduced_cells()


@pytest.fixture(scope="module")
def answers() -> dict[str, str]:
    """The notebook's answer cells (the solutions), keyed by grade_id."""
    return source_answers(NB)


def _namespace(cells) -> dict:
    """What the notebook has imported and computed before its exercises."""
    import torch
    from sklearn.decomposition import PCA
    from sklearn.model_selection import StratifiedKFold
    from sklearn.neighbors import KNeighborsClassifier
    from torch import nn

    return {"np": np, "torch": torch, "nn": nn, "StratifiedKFold": StratifiedKFold,
            "KNeighborsClassifier": KNeighborsClassifier, "cells": cells,
            "X_pca": PCA(50, svd_solver="full").fit_transform(cells.X)}


def test_pbmc68k_reduced_layout_and_recovered_counts(cells):
    assert cells.shape == (700, 765) and cells.uns["dataset"] == "pbmc68k_reduced"
    counts = cells.layers["counts"]
    assert np.array_equal(counts, np.rint(counts)) and counts.min() >= 0
    assert (counts.sum(axis=1) <= cells.obs["n_counts"].to_numpy()).all()  # a subset of genes
    relog = np.log1p(counts / cells.obs["n_counts"].to_numpy()[:, None] * 1e4)
    assert np.abs(relog - cells.layers["log"]).max() < 5e-3  # values are stored to 3 decimals
    assert len(cells.obs["cell_type"].cat.categories) == 10
    assert abs(cells.X.mean()) < 0.05 and cells.X.dtype == np.float32


def test_recover_counts_refuses_values_that_are_not_log_counts():
    library = np.array([1000.0, 2500.0])
    counts = np.array([[0, 3, 10], [7, 0, 1]], dtype=float)
    log = np.log1p(counts / library[:, None] * 1e4)
    assert np.array_equal(single_cell.recover_counts(log, library), counts)
    with pytest.raises(ValueError, match="integers"):
        single_cell.recover_counts(log + 0.3, library)


def test_preprocess_counts_follows_the_tutorial_steps():
    raw = synthetic_counts(n_cells=600, n_genes=400, n_types=4, seed=1)
    adata = single_cell.preprocess_counts(raw)
    steps = adata.uns["steps"]
    assert steps[0][1:] == (600, 400) and steps[-1][2] == adata.n_vars < 400
    assert adata.var["highly_variable"].all()
    chosen = raw[adata.obs_names, adata.var_names].X.toarray()
    np.testing.assert_allclose(adata.layers["counts"], chosen)
    expected = np.log1p(chosen / adata.obs["n_counts"].to_numpy()[:, None] * 1e4)
    np.testing.assert_allclose(adata.layers["log"], expected, rtol=1e-4, atol=1e-5)
    assert np.allclose(adata.X.mean(axis=0), 0, atol=1e-3)
    assert adata.raw is not None and adata.raw.n_vars == steps[-2][2]


def test_pbmc3k_path_labels_cells_by_their_markers(monkeypatch, capsys):
    """load_cells' online branch, fed counts whose cell types carry real PBMC marker names."""
    raw = synthetic_counts(n_cells=800, n_genes=500, n_types=4, seed=2)
    types = ["B", "NK", "CD14 Monocytes", "Dendritic"]
    rename = {}
    for t, name in zip(raw.uns["marker_genes"], types, strict=True):
        for gene, marker in zip(raw.uns["marker_genes"][t], single_cell.PBMC_MARKERS[name],
                                strict=False):
            rename[gene] = marker
    raw.var_names = [rename.get(g, g) for g in raw.var_names]
    truth = raw.obs["cell_type"].map(dict(zip(raw.uns["marker_genes"], types, strict=True)))
    monkeypatch.setattr("course_utils.data.load_pbmc3k", lambda: raw)

    cells = single_cell.load_cells("pbmc3k")

    assert cells.uns["dataset"] == "pbmc3k"
    agreement = (cells.obs["cell_type"].astype(str) == truth[cells.obs_names].astype(str)).mean()
    assert agreement > 0.95, f"marker labels agree with the truth for only {agreement:.0%}"
    assert "Megakaryocytes" in capsys.readouterr().out  # its marker is absent: said aloud


def test_load_cells_falls_back_loudly_when_pbmc3k_is_unavailable(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("COURSE_DATA_DIRS", "")
    cells = single_cell.load_cells("pbmc3k")
    out = capsys.readouterr().out
    assert cells.uns["dataset"] == "pbmc68k_reduced"
    assert "not available" in out and "course-utils data fetch pbmc3k" in out
    with pytest.raises(ValueError, match="prefer"):
        single_cell.load_cells("pbmc4k")


def test_block_minibatches_cover_every_row_once_in_contiguous_blocks():
    batches = list(single_cell.block_minibatches(1030, 100, seed=0))
    rows = np.concatenate(batches)
    assert sorted(rows) == list(range(1030)) and len(batches) == 11
    assert all((np.diff(b) == 1).all() for b in batches)
    other = [b[0] for b in single_cell.block_minibatches(1030, 100, seed=1)]
    assert other != [b[0] for b in batches]
    with pytest.raises(ValueError, match="batch_size"):
        next(single_cell.block_minibatches(10, 0, seed=0))


def test_read_log_normalised_from_a_backed_file(tmp_path):
    import anndata

    raw = synthetic_counts(n_cells=300, n_genes=120, n_types=3, seed=3)
    raw.write_h5ad(tmp_path / "counts.h5ad")
    backed = anndata.read_h5ad(tmp_path / "counts.h5ad", backed="r")
    dense = raw.X.toarray()
    genes = np.array([3, 10, 50, 119])
    expected = np.log1p(dense / dense.sum(axis=1, keepdims=True) * 1e4)[:, genes]
    for rows in (np.arange(40, 90), np.array([2, 7, 150, 299])):
        got = single_cell.read_log_normalised(backed, rows, genes)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, expected[rows], rtol=1e-5, atol=1e-6)
    backed.file.close()


@pytest.mark.parametrize("grade_id", list(CHECK_OF))
def test_solution_passes_its_check(grade_id, answers, cells):
    ns = _namespace(cells)
    exec(answers[grade_id], ns)
    check = Checker(NB, ns, strict=True)
    check(CHECK_OF[grade_id], quiet=True)  # raises CheckFailed if not
    hidden = f"{CHECK_OF[grade_id]}_hidden"
    if hidden in check.specs:
        check(hidden, quiet=True)  # raises CheckFailed if not


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.name for m in MISTAKES])
def test_typical_mistake_fails_with_its_hint(mistake, cells):
    ns = _namespace(cells)
    exec(mistake.code, ns)
    with pytest.raises(CheckFailed, match=re.escape(mistake.hint)):
        Checker(NB, ns, strict=True)(CHECK_OF[mistake.grade_id])


def test_stub_gets_a_not_written_yet_hint(cells):
    ns = _namespace(cells)
    exec("def knn_accuracy(Z, labels, seed=0, k=15, n_folds=5):\n"
         "    raise NotImplementedError()", ns)
    with pytest.raises(CheckFailed, match="not written yet"):
        Checker(NB, ns, strict=True)("knn_accuracy")
