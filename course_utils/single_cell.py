"""Single-cell plumbing for notebook 05: the cells it analyses, marker-gene labels, minibatches.

What the lesson is about — normalisation, PCA, the autoencoder, the metrics — is written out in
the notebook. This module prepares the data the same way for either source and streams rows of
a disk-backed AnnData. Every dataset comes out in one layout (see :func:`load_cells`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    from anndata import AnnData

TARGET_SUM = 1e4  # counts per cell after normalisation ("counts per 10 k"), as scanpy's tutorials

# Standard PBMC markers (Seurat's and scanpy's PBMC 3k tutorials, "Assigning cell type identity").
PBMC_MARKERS: dict[str, list[str]] = {
    "CD4 T": ["IL7R", "CCR7", "LDHB"],
    "CD8 T": ["CD8A", "CD8B"],
    "NK": ["GNLY", "NKG7"],
    "B": ["MS4A1", "CD79A"],
    "CD14 Monocytes": ["CD14", "LYZ"],
    "FCGR3A Monocytes": ["FCGR3A", "MS4A7"],
    "Dendritic": ["FCER1A", "CST3"],
    "Megakaryocytes": ["PPBP"],
}

WHY_PBMC3K = ("10x PBMC 3k from raw UMI counts: you see every preprocessing step the field uses, "
              "and the cell types come from marker genes (how, is shown below).")
WHY_REDUCED = ("scanpy's bundled pbmc68k_reduced (700 cells x 765 genes): it needs no network, "
               "so it runs the same in class, offline and in CI, and its 10 `bulk_labels` were "
               "assigned independently of any embedding (by correlation with bulk profiles of "
               "FACS-sorted populations, Zheng et al. 2017), which keeps the comparison fair.")


def load_cells(prefer: str = "pbmc3k") -> AnnData:
    """The cells of the lesson: PBMC 3k when ``prefer`` is "pbmc3k" and it can be had, else
    pbmc68k_reduced (said aloud, with the reason).

    Layout (cells x HVGs, float32, dense): ``X`` log-normalised then scaled to unit variance;
    ``layers["log"]`` log1p of counts per 10 k; ``layers["counts"]`` UMI counts; ``raw``: the
    log-normalised values of all kept genes; ``obs``: ``cell_type`` (categorical), ``n_counts``
    (UMIs over all genes), ``n_genes``, ``percent_mito`` (fraction); ``var``: ``means``,
    ``dispersions_norm``, ``highly_variable``; ``uns``: ``dataset``, ``why``, ``label_source``.
    """
    if prefer not in ("pbmc3k", "pbmc68k_reduced"):
        raise ValueError(f"prefer must be 'pbmc3k' or 'pbmc68k_reduced', not {prefer!r}")
    if prefer == "pbmc3k":
        from .data import DatasetUnavailable, load_pbmc3k

        try:
            return pbmc3k_cells(load_pbmc3k())
        except DatasetUnavailable as exc:
            print(f"PBMC 3k is not available here ({exc}).\nUsing the bundled pbmc68k_reduced "
                  "instead; `course-utils data fetch pbmc3k` gets PBMC 3k for next time.")
    return pbmc68k_reduced_cells()


def pbmc68k_reduced_cells() -> AnnData:
    """scanpy's bundled pbmc68k_reduced in the layout of :func:`load_cells` (counts recovered)."""
    import scanpy as sc

    adata = sc.datasets.pbmc68k_reduced()
    log = _dense(adata.raw.X)
    cells = adata.copy()
    cells.X = np.asarray(adata.X, dtype=np.float32)
    cells.layers["log"] = log
    cells.layers["counts"] = recover_counts(log, adata.obs["n_counts"].to_numpy())
    cells.obs["cell_type"] = adata.obs["bulk_labels"].astype("category")
    cells.uns.update(dataset="pbmc68k_reduced", why=WHY_REDUCED,
                     label_source="bulk_labels: correlation with FACS-sorted bulk profiles "
                                  "(Zheng et al., Nat. Commun. 2017)")
    return cells


def recover_counts(log_values: np.ndarray, library_size: np.ndarray,
                   target_sum: float = TARGET_SUM) -> np.ndarray:
    """Undo ``log1p(counts / library_size * target_sum)``: the integer UMI counts (float32).

    Raises ValueError when the values were not made that way (the result is not whole numbers).
    """
    counts = np.expm1(log_values.astype(np.float64)) * (library_size[:, None] / target_sum)
    rounded = np.rint(counts)
    # stored values carry ~3 significant decimals, so allow a small relative error
    off = np.abs(counts - rounded) - (0.05 + 1e-3 * rounded)
    if off.size and off.max() > 0:
        raise ValueError(f"these values are not log1p(counts per {target_sum:g}) of whole "
                         "counts with these library sizes: they don't come back as integers")
    return rounded.astype(np.float32)


def pbmc3k_cells(counts: AnnData, n_comps: int = 50, seed: int = 0) -> AnnData:
    """PBMC 3k raw counts -> the layout of :func:`load_cells`, labelled by marker genes."""
    import scanpy as sc

    adata = preprocess_counts(counts)
    sc.tl.pca(adata, n_comps=n_comps, random_state=seed)
    adata.obs["cell_type"] = label_by_markers(adata, PBMC_MARKERS, seed=seed)
    adata.uns.update(dataset="pbmc3k", why=WHY_PBMC3K,
                     label_source="marker genes: Leiden clusters of the PCA neighbour graph, "
                                  "each named after the marker set it expresses most")
    return adata


def preprocess_counts(counts: AnnData, min_genes: int = 200, max_genes: int = 2500,
                      max_mito: float = 0.05, min_cells: int = 3) -> AnnData:
    """Quality control, normalise_total, log1p, highly variable genes, scale (scanpy's tutorial).

    Thresholds are those of scanpy's and Seurat's PBMC 3k tutorials; each step's cells x genes
    is kept in ``uns["steps"]``.
    """
    import scanpy as sc

    adata = counts.copy()
    steps = [("raw counts", *adata.shape)]
    sc.pp.filter_cells(adata, min_genes=min_genes)
    sc.pp.filter_genes(adata, min_cells=min_cells)
    steps.append((f"cells with >= {min_genes} genes, genes in >= {min_cells} cells", *adata.shape))
    adata.var["mt"] = adata.var_names.str.upper().str.startswith("MT-")
    sc.pp.calculate_qc_metrics(adata, qc_vars=["mt"], percent_top=None, log1p=False,
                               inplace=True)
    adata.obs["n_counts"] = adata.obs["total_counts"].astype(np.float32)
    adata.obs["n_genes"] = adata.obs["n_genes_by_counts"]
    adata.obs["percent_mito"] = adata.obs["pct_counts_mt"] / 100
    keep = (adata.obs["n_genes"] < max_genes) & (adata.obs["percent_mito"] < max_mito)
    adata = adata[keep.to_numpy()].copy()
    steps.append((f"< {max_genes} genes and < {max_mito:.0%} mitochondrial UMIs", *adata.shape))
    adata.layers["counts"] = adata.X.copy()
    sc.pp.normalize_total(adata, target_sum=TARGET_SUM)
    sc.pp.log1p(adata)
    sc.pp.highly_variable_genes(adata, min_mean=0.0125, max_mean=3, min_disp=0.5)
    adata.raw = adata
    adata = adata[:, adata.var["highly_variable"].to_numpy()].copy()
    steps.append(("highly variable genes", *adata.shape))
    adata.layers["log"] = _dense(adata.X)
    adata.layers["counts"] = _dense(adata.layers["counts"])
    adata.X = adata.layers["log"].copy()
    sc.pp.scale(adata, max_value=10)
    adata.uns["steps"] = steps
    return adata


def label_by_markers(adata: AnnData, markers: dict[str, list[str]], resolution: float = 1.0,
                     seed: int = 0) -> pd.Series:
    """Cell types from marker genes: Leiden clusters, each named by its best marker score.

    Needs ``obsm["X_pca"]`` and log-normalised values in ``raw`` (or ``X``). A cell type's
    score is scanpy's ``score_genes`` (mean of its markers minus a matched control set);
    a cluster takes the type whose mean score over its cells is highest. Markers missing
    from the data are skipped; a type with none left is dropped (and said).
    """
    import pandas as pd
    import scanpy as sc

    genes = adata.raw.var_names if adata.raw is not None else adata.var_names
    present = {t: [g for g in gs if g in genes] for t, gs in markers.items()}
    dropped = sorted(t for t, gs in present.items() if not gs)
    if dropped:
        print(f"No marker genes of {', '.join(dropped)} in these data: those types can't be named.")
    present = {t: gs for t, gs in present.items() if gs}
    if not present:
        raise ValueError("none of the marker genes is in these data: check the gene names")
    work = adata.copy()
    sc.pp.neighbors(work, n_neighbors=15, use_rep="X_pca", random_state=seed)
    sc.tl.leiden(work, resolution=resolution, flavor="igraph", n_iterations=2, directed=False,
                 random_state=seed)
    scores = pd.DataFrame(index=work.obs_names)
    for cell_type, gene_list in present.items():
        sc.tl.score_genes(work, gene_list, score_name="score", random_state=seed,
                          use_raw=work.raw is not None)
        scores[cell_type] = work.obs["score"]
    best = scores.groupby(work.obs["leiden"], observed=True).mean().idxmax(axis=1)
    labels = work.obs["leiden"].map(best).astype(str)
    return pd.Series(pd.Categorical(labels, categories=list(present)), index=adata.obs_names,
                     name="cell_type").cat.remove_unused_categories()


def block_minibatches(n_rows: int, batch_size: int, seed: int) -> Iterator[np.ndarray]:
    """Row indices in contiguous blocks, blocks in random order: fast reads from a disk file.

    Random single rows would make every minibatch a scatter of small reads; whole blocks keep
    each read sequential while the block order still shuffles the epoch.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    starts = np.arange(0, n_rows, batch_size)
    for start in np.random.default_rng(seed).permutation(starts):
        yield np.arange(start, min(start + batch_size, n_rows))


def read_log_normalised(backed: AnnData, rows: np.ndarray, genes: np.ndarray) -> np.ndarray:
    """log1p(counts per 10 k) of ``rows`` x ``genes`` of a disk-backed count matrix (float32).

    The library size is summed over all genes of each row before the gene subset is taken,
    as ``normalize_total`` does on the full matrix.
    """
    block = backed.X[int(rows[0]):int(rows[-1]) + 1] if _contiguous(rows) else backed.X[rows]
    block = block.tocsr() if hasattr(block, "tocsr") else np.asarray(block)
    library = np.asarray(block.sum(axis=1)).ravel()
    library[library == 0] = 1.0
    chosen = _dense(block[:, genes])
    return np.log1p(chosen / library[:, None] * TARGET_SUM).astype(np.float32)


def _contiguous(rows: np.ndarray) -> bool:
    """True when ``rows`` is a run of consecutive indices (one slice read from disk)."""
    return len(rows) > 0 and int(rows[-1]) - int(rows[0]) == len(rows) - 1


def _dense(matrix: object) -> np.ndarray:
    """A float32 dense copy of a dense or scipy-sparse matrix."""
    if hasattr(matrix, "toarray"):
        matrix = matrix.toarray()
    return np.asarray(matrix, dtype=np.float32)
