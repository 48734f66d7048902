"""DSB2018 fluorescence nuclei (StarDist's subset): images and instance labels by split.

The archive unpacks to ``dsb2018/{train,test}/{images,masks}/<name>.tif``; each mask is
already an instance label image (0 background, one integer per nucleus). Fields differ in
size, so :class:`Fields` holds lists here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .bbbc039 import Fields
from .fetch import fetch

NAME = "dsb2018-stardist"
SPLITS = ("train", "test")


def load_dsb2018(split: str = "train", n: int | None = None) -> Fields:
    """DSB2018 fields of ``split`` ("train": 447, "test": 50), the first ``n`` by name.

    Returns :class:`Fields` with lists: images[i] (H_i, W_i) uint16 (8-bit originals
    widened, not rescaled), labels[i] (H_i, W_i) int32. Raises DatasetUnavailable.
    """
    import tifffile

    entry = split_dir(split)
    images = sorted((entry / "images").glob("*.tif"))[:n]
    names = [p.stem for p in images]
    pixels = [_gray(tifffile.imread(p)) for p in images]
    labels = [np.asarray(tifffile.imread(entry / "masks" / p.name), dtype=np.int32)
              for p in images]
    return Fields(pixels, labels, names, split)


def _gray(image: np.ndarray) -> np.ndarray:
    """A 2-D uint16 intensity image (channels, if any, averaged)."""
    image = np.asarray(image)
    if image.ndim == 3:
        image = image.mean(axis=-1)
    return image.astype(np.uint16)


def split_dir(split: str) -> Path:
    """The folder of one split (``images/`` and ``masks/`` inside), fetched when needed."""
    if split not in SPLITS:
        raise ValueError(f"unknown DSB2018 split {split!r}; use one of {SPLITS}")
    return fetch(NAME)["extracted"] / "dsb2018" / split
