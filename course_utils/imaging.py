"""Imaging helpers shared by the pixel classifier (notebook 03) and the U-Net (notebook 04).

Percentile normalisation of a field, and the floor that keeps a blank field's noise from being
stretched into bright "nuclei". A leaf: it imports nothing from the course package.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["min_span_of", "normalize"]


def normalize(image: np.ndarray, low: float = 1.0, high: float = 99.8,
              min_span: float = 0.0) -> np.ndarray:
    """Percentile-normalise a field to about [0, 1] (float32).

    ``min_span`` (raw units) floors the percentile range, so a blank field's noise is not
    stretched into bright "nuclei".
    """
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 2:
        raise ValueError(f"expected one 2-D field (H, W), got shape {image.shape}")
    lo, hi = np.percentile(image, [low, high])
    return (image - lo) / max(float(hi - lo), float(min_span), 1e-6)


def min_span_of(images: Sequence[np.ndarray], fraction: float = 0.25) -> float:
    """A floor for :func:`normalize`: ``fraction`` of the median 1–99.8 percentile range."""
    spans = [np.subtract(*np.percentile(im, [99.8, 1.0])) for im in images]
    return float(fraction * np.median(spans)) if spans else 0.0
