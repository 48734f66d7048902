"""Single-cell count matrices as AnnData: PBMC 3k in memory, PBMC 68k disk-backed.

AnnData layout: ``X`` is cells x genes (``n_obs`` x ``n_vars``) of raw UMI counts (float32,
scipy CSR), ``obs_names`` are cell barcodes, ``var_names`` gene symbols (made unique).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .fetch import fetch
from .locations import cache_dir
from .tempfiles import write_atomically

if TYPE_CHECKING:
    from anndata import AnnData

CONVERTED = "pbmc68k_counts.h5ad"


def load_pbmc3k() -> AnnData:
    """PBMC 3k raw counts: 2,700 cells x 32,738 genes, in memory (scanpy's pbmc3k_raw.h5ad)."""
    import anndata

    return anndata.read_h5ad(fetch("pbmc3k", ["pbmc3k_raw.h5ad"])["pbmc3k_raw.h5ad"])


def load_pbmc68k(backed: bool = True) -> AnnData:
    """PBMC 68k raw counts: 68,579 cells x 32,738 genes, disk-backed unless ``backed=False``.

    The first call converts 10x's Matrix Market files once into an h5ad file in the cache
    (a minute or two, ~0.5 GB); later calls open it read-only (``adata.X`` stays on disk: take
    ``adata[idx].to_memory()`` for the rows you need).
    """
    import anndata

    path = converted_h5ad(fetch("pbmc68k")["extracted"])
    return anndata.read_h5ad(path, backed="r" if backed else None)


def converted_h5ad(extracted: Path) -> Path:
    """The h5ad made from the Matrix Market folder under ``extracted`` (made once, atomically)."""
    from filelock import FileLock

    out = cache_dir() / "pbmc68k" / CONVERTED
    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(out.parent / ".convert.lock")):
        if out.is_file():
            return out
        adata = _read_mtx(_mtx_folder(extracted))
        write_atomically(out, adata.write_h5ad)
    return out


def _mtx_folder(extracted: Path) -> Path:
    """The folder holding matrix.mtx (10x v1 layout: filtered_matrices_mex/hg19/)."""
    found = sorted(p.parent for p in extracted.rglob("matrix.mtx*"))
    if not found:
        raise FileNotFoundError(f"no matrix.mtx under {extracted}: the archive is not the "
                                "10x filtered gene-barcode matrix it should be")
    return found[0]


def _read_mtx(folder: Path) -> AnnData:
    """Read a 10x Matrix Market folder as cells x genes float32 CSR counts."""
    import numpy as np
    import scanpy as sc

    adata = sc.read_10x_mtx(folder, var_names="gene_symbols", make_unique=True, cache=False)
    adata.X = adata.X.astype(np.float32).tocsr()
    return adata
