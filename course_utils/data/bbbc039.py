"""BBBC039 nuclei (U2OS, Hoechst): 16-bit fields and their instance labels, by split.

The masks are RGBA PNGs whose red channel holds a graph colouring (0 background; 1, 2, 3 for
nuclei, touching nuclei differ). One nucleus is one connected component of one value, so the
instance labels are the components of each value, numbered together. See PROVENANCE.md.
The split lists ship inside this package; images and masks come through :func:`fetch`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DatasetUnavailable
from .fetch import fetch

NAME = "bbbc039"
SHAPE = (520, 696)
SPLIT_FILES = {"train": "splits/training.txt", "val": "splits/validation.txt",
               "test": "splits/test.txt"}


@dataclass
class Fields:
    """Microscopy fields with instance labels.

    images: (N, H, W) uint16 raw intensities; labels: (N, H, W) int32, 0 = background,
    1..k = one nucleus each; names: N field names; split: where they came from. For sets
    whose fields differ in size (DSB2018), images and labels are lists of (H_i, W_i) arrays.
    """

    images: np.ndarray | list[np.ndarray]
    labels: np.ndarray | list[np.ndarray]
    names: list[str]
    split: str

    def __len__(self) -> int:
        return len(self.names)


def decode_mask(rgba: np.ndarray) -> np.ndarray:
    """Instance labels (int32) from a BBBC039 mask: connected components per colour value."""
    from skimage.measure import label

    red = rgba[..., 0] if rgba.ndim == 3 else rgba
    out = np.zeros(red.shape, dtype=np.int32)
    offset = 0
    for value in (1, 2, 3):
        comp = label(red == value, connectivity=1).astype(np.int32)
        inside = comp > 0
        out[inside] = comp[inside] + offset
        offset += int(comp.max())
    return out


def split_names(split: str) -> list[str]:
    """Field names (no extension) of one split, from the split list shipped with the package."""
    if split not in SPLIT_FILES:
        raise ValueError(f"unknown BBBC039 split {split!r}; use one of {sorted(SPLIT_FILES)}")
    path = fetch(NAME, [SPLIT_FILES[split]])[SPLIT_FILES[split]]
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def read_field(image_path: Path, mask_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One field: (image uint16 (H, W), instance labels int32 (H, W))."""
    import tifffile
    from skimage.io import imread

    image = np.asarray(tifffile.imread(image_path), dtype=np.uint16)
    return image, decode_mask(imread(mask_path))


def load_bbbc039(split: str = "train", n: int | None = None) -> Fields:
    """BBBC039 fields of ``split`` ("train", "val", "test"), the first ``n`` (all when None).

    Returns :class:`Fields`: images (N, 520, 696) uint16, labels (N, 520, 696) int32.
    Raises DatasetUnavailable when the files can't be had (with what was tried and the fix).
    """
    names = split_names(split)[:n]
    rels = [(f"images/{x}.tif", f"masks/{x}.png") for x in names]
    paths = fetch(NAME, [r for pair in rels for r in pair])
    pairs = [read_field(paths[img], paths[mask]) for img, mask in rels]
    images = np.stack([p[0] for p in pairs]) if pairs else np.zeros((0, *SHAPE), np.uint16)
    labels = np.stack([p[1] for p in pairs]) if pairs else np.zeros((0, *SHAPE), np.int32)
    return Fields(images, labels, names, split)


def load_bbbc039_eval(n: int | None = None) -> Fields:
    """The test split when it can be had, else the validation split (and says so)."""
    try:
        return load_bbbc039("test", n)
    except DatasetUnavailable as exc:
        print(f"BBBC039's test split is not available here, so evaluation uses the validation "
              f"split instead.\n{exc}")
        return load_bbbc039("val", n)
