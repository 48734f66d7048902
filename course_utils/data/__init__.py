"""The course's datasets: verified fetching (see ``data_manifest.yaml``), loaders, fallbacks.

Where files come from, in order: files shipped in this package; each folder of
``COURSE_DATA_DIRS`` (colon-separated, read-only, laid out ``<dir>/<dataset>/<relpath>``);
the cache ``COURSE_CACHE_DIR`` (default: the user cache folder); then the public address.
Every file is checked against its sha256. ``COURSE_OFFLINE=1`` forbids the network.
Failures raise :class:`DatasetUnavailable`, whose message names the dataset, what was tried
and the fix (its ``missing`` says why each missing file is missing).

Loaders (shapes and dtypes):

- ``load_bbbc039(split="train", n=None) -> Fields``: ``split`` is "train" (100 fields),
  "val" (50) or "test" (50); images (N, 520, 696) uint16 (12-bit range), labels
  (N, 520, 696) int32 (0 background, 1..k one nucleus each); names: N field names.
- ``load_bbbc039_eval(n=None) -> Fields``: the test split, else (said aloud) the val split.
- ``nuclei_fields(split="train", n=None, seed=0) -> Fields``: BBBC039 when it can be had,
  else ``synthetic_nuclei`` with a printed warning saying why (``Fields.split == "synthetic"``).
- ``synthetic_nuclei(n=8, shape=(520, 696), seed=0) -> Fields``: generated fields with exact
  instance labels; same dtypes as BBBC039.
- ``load_dsb2018(split="train", n=None) -> Fields``: "train" (447) or "test" (50); images and
  labels are lists of (H_i, W_i) arrays, uint16 and int32 (fields differ in size).
- ``decode_mask(rgba) -> (H, W) int32``: BBBC039's colour-coded mask as instance labels.
- ``load_pbmc3k() -> AnnData``: 2,700 cells x 32,738 genes, raw counts (float32 CSR).
- ``load_pbmc68k(backed=True) -> AnnData``: 68,579 cells x 32,738 genes, raw counts, opened
  read-only from disk (``backed="r"``).
- ``synthetic_counts(n_cells=2000, n_genes=1000, n_types=5, seed=0) -> AnnData``: generated
  counts (float32 CSR) with ``obs["cell_type"]`` and ``uns["marker_genes"]``.
- ``load_pretrained_unet(source="synthetic") -> dict``: notebook 06's pretrained U-Net
  (``state_dict``, ``recipe``, ``final_loss``), shipped in the package.
- ``cellpose_models_dir() -> Path``: folder with cellpose 4's ``cpsam_v2`` weights (sets
  ``$CELLPOSE_LOCAL_MODELS_PATH``; call it before ``import cellpose``).
- Library sets, as their libraries give them: ``sklearn.datasets.load_digits`` /
  ``load_breast_cancer``, ``scanpy.datasets.pbmc68k_reduced`` (700 x 765), ``skimage.data``.

Plumbing: ``fetch(name, files=None, into=None) -> {relpath: Path}`` (all or nothing),
``dataset_dir(name, files=None) -> Path`` (without ``files``: as much of the dataset as can be
had, with an ``IncompleteDataset`` warning when part is missing), ``dataset_status() ->
[(name, status, detail)]`` (bundled / mirrored / cached / missing, no network),
``announce(name)`` (fetch and print where it is, or why not), ``verify_present() ->
Verification`` (bad, unreadable and missing files, partial files left by a killed fetch),
``load_manifest()``, ``cache_dir()``, ``mirror_dirs()``.
Names resolve lazily, so importing this package stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

from .errors import DatasetUnavailable
from .fetch import dataset_dir, fetch  # bound now: the name `fetch` is also a submodule

_EXPORTS = {
    "UnknownDataset": "errors", "ManifestError": "errors",
    "Fields": "bbbc039", "decode_mask": "bbbc039", "load_bbbc039": "bbbc039",
    "load_bbbc039_eval": "bbbc039", "load_dsb2018": "dsb2018",
    "load_pbmc3k": "single_cell", "load_pbmc68k": "single_cell",
    "synthetic_nuclei": "synthetic", "synthetic_counts": "synthetic",
    "nuclei_fields": "fallback", "cellpose_models_dir": "cellpose_models",
    "dataset_status": "status", "verify_present": "status", "load_manifest": "manifest",
    "cache_dir": "locations", "mirror_dirs": "locations", "IncompleteDataset": "fetch",
    "announce": "fetch", "load_pretrained_unet": "pretrained",
}
__all__ = ["DatasetUnavailable", "dataset_dir", "fetch", *_EXPORTS]


def __getattr__(name: str) -> Any:
    """Import the submodule that defines ``name`` on first use."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
