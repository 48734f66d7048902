"""Random training patches with augmentation: flips, 90° turns, intensity jitter, bending.

A nucleus looks the same turned or mirrored, and stains vary in brightness from well to well,
so each patch is shown to the network in a random one of these equivalent forms. The network
then cannot memorise orientation or exact brightness, and 90 training fields go further.
Elastic deformation (Simard et al. 2003; Ronneberger et al. 2015) bends a patch smoothly, the
way cells bend, which adds shapes the annotated fields do not hold.
"""

from __future__ import annotations

import numpy as np


def augment(image: np.ndarray, target: np.ndarray, rng: np.random.Generator,
            gain: tuple[float, float] = (0.7, 1.3),
            offset: tuple[float, float] = (-0.1, 0.1)) -> tuple[np.ndarray, np.ndarray]:
    """One random flip/rotation of an (image, target) pair, with intensity jitter on the image."""
    turns = int(rng.integers(4))
    image, target = np.rot90(image, turns), np.rot90(target, turns)
    if rng.random() < 0.5:
        image, target = image[:, ::-1], target[:, ::-1]
    image = image * rng.uniform(*gain) + rng.uniform(*offset)
    return np.ascontiguousarray(image, dtype=np.float32), np.ascontiguousarray(target)


def elastic_deform(image: np.ndarray, target: np.ndarray, rng: np.random.Generator,
                   alpha: float = 6.0, sigma: float = 6.0) -> tuple[np.ndarray, np.ndarray]:
    """Bend an (image, target) pair by one smooth random displacement field.

    Each pixel moves by a displacement drawn at random and smoothed with a Gaussian of width
    ``sigma`` pixels, scaled so the largest shift is about ``alpha`` pixels. The image is
    interpolated (linear); the target, a class map, takes the nearest class, so it stays
    whole numbers.
    """
    from scipy.ndimage import gaussian_filter, map_coordinates

    shape = image.shape
    shifts = []
    for _ in range(2):
        field = gaussian_filter(rng.uniform(-1, 1, shape), sigma, mode="reflect")
        shifts.append(field * alpha / max(np.abs(field).max(), 1e-6))
    rows, cols = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    where = np.array([rows + shifts[0], cols + shifts[1]])
    bent = map_coordinates(image, where, order=1, mode="reflect").astype(np.float32)
    return bent, map_coordinates(target, where, order=0, mode="reflect").astype(target.dtype)


class PatchSampler:
    """Draw augmented square patches from prepared fields (N, h, w) and their class maps."""

    def __init__(self, images: np.ndarray, targets: np.ndarray, size: int,
                 augment_patches: bool = True, elastic: float = 0.0) -> None:
        """``elastic``: the share of augmented patches also bent by :func:`elastic_deform`."""
        if images.shape != targets.shape or images.ndim != 3:
            raise ValueError(f"images {images.shape} and targets {targets.shape} must both be "
                             "(n_fields, height, width) with the same shape")
        if size > min(images.shape[1:]):
            raise ValueError(f"patch size {size} is larger than the fields {images.shape[1:]}")
        self.images, self.targets, self.size = images, targets, size
        self.augment_patches, self.elastic = augment_patches, elastic

    def draw(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """One (image, target) patch from a random field at a random position."""
        i = int(rng.integers(len(self.images)))
        r = int(rng.integers(self.images.shape[1] - self.size + 1))
        c = int(rng.integers(self.images.shape[2] - self.size + 1))
        window = (i, slice(r, r + self.size), slice(c, c + self.size))
        image, target = self.images[window], self.targets[window]
        if not self.augment_patches:
            return image.copy(), target.copy()
        if self.elastic and rng.random() < self.elastic:
            image, target = elastic_deform(image, target, rng)
        return augment(image, target, rng)

    def batch(self, n: int, rng: np.random.Generator):
        """A minibatch: images (n, 1, size, size) float32, targets (n, size, size) int64 tensors."""
        import torch

        pairs = [self.draw(rng) for _ in range(n)]
        images = torch.from_numpy(np.stack([p[0] for p in pairs])[:, None])
        targets = torch.from_numpy(np.stack([p[1] for p in pairs]).astype(np.int64))
        return images.contiguous(memory_format=torch.channels_last), targets
