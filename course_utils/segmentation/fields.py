"""Fields as the U-Net sees them: percentile-normalised, downscaled, paired with class maps.

BBBC039 nuclei are about 28 pixels across. Halving the resolution keeps them about 14 pixels
wide — plenty to find and separate them — while every convolution gets four times cheaper,
which is what lets a CPU train a useful model in minutes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def downscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Average ``factor`` × ``factor`` blocks (float32); a partial block at the edge is dropped."""
    image = np.asarray(image, dtype=np.float32)
    if factor == 1:
        return image
    h, w = (image.shape[0] // factor) * factor, (image.shape[1] // factor) * factor
    return image[:h, :w].reshape(h // factor, factor, w // factor, factor).mean(axis=(1, 3))


def downscale_labels(labels: np.ndarray, factor: int) -> np.ndarray:
    """Instance labels at 1/``factor`` resolution by taking every ``factor``-th pixel (ids kept)."""
    labels = np.asarray(labels)
    h, w = labels.shape[0] // factor, labels.shape[1] // factor
    return labels[::factor, ::factor][:h, :w]


def prepare_images(images: Sequence[np.ndarray], factor: int, min_span: float) -> np.ndarray:
    """Normalise each field (percentiles, floored range) and downscale it: (N, h, w) float32."""
    from ..imaging import normalize

    return np.stack([downscale(normalize(im, min_span=min_span), factor) for im in images])


def prepare_targets(labels: Sequence[np.ndarray], factor: int,
                    to_classes: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Class maps of downscaled instance labels, made by ``to_classes``: (N, h, w) uint8."""
    maps = [np.asarray(to_classes(downscale_labels(lab, factor))) for lab in labels]
    return np.stack(maps).astype(np.uint8)
