"""Generated stand-ins for when no real data can be had, with exactly known answers.

``synthetic_nuclei`` imitates BBBC039 fields (measured on the mirror: ~100 nuclei per field,
median area ~640 px, ~20 % touching another nucleus, background ~150-220 and nuclei ~400-1000
counts): elliptical nuclei, some touching, uneven background, blur, shot and read noise, and
exact instance labels. ``synthetic_counts`` draws UMI counts from a negative binomial with
marker genes per cell type, so the cell types are known.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .bbbc039 import Fields

if TYPE_CHECKING:
    from anndata import AnnData

TOUCH_FRACTION = 0.12  # chance a nucleus is placed against an existing one
MAX_OVERLAP = 0.15  # a new nucleus may lose at most this share of its ellipse to neighbours
BBBC039_AREA = 520 * 696  # pixels of one BBBC039 field, the default shape


def synthetic_nuclei(n: int = 8, shape: tuple[int, int] = (520, 696), seed: int = 0) -> Fields:
    """``n`` generated fluorescence fields: images (n, H, W) uint16, labels (n, H, W) int32."""
    rng = np.random.default_rng(seed)
    pairs = [_field(shape, rng) for _ in range(n)]
    images = np.stack([p[0] for p in pairs]) if pairs else np.zeros((0, *shape), np.uint16)
    labels = np.stack([p[1] for p in pairs]) if pairs else np.zeros((0, *shape), np.int32)
    return Fields(images, labels, [f"synthetic_{seed}_{i:03d}" for i in range(n)], "synthetic")


def _field(shape: tuple[int, int], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One field: (image uint16, instance labels int32)."""
    labels = _place_nuclei(shape, rng)
    return _render(labels, rng), labels


def _place_nuclei(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Instance labels of non-overlapping (possibly touching) elliptical nuclei."""
    from skimage.measure import label as components

    labels = np.zeros(shape, np.int32)
    centres: list[tuple[float, float, float]] = []
    area = shape[0] * shape[1] / BBBC039_AREA  # as crowded as a BBBC039 field
    target = max(1, round(int(rng.integers(60, 130)) * area))
    for _ in range(target * 4):
        if len(centres) >= target:
            break
        a = rng.uniform(11, 21)
        b = a * rng.uniform(0.55, 0.9)
        if centres and rng.random() < TOUCH_FRACTION:
            cy, cx, r = centres[int(rng.integers(len(centres)))]
            angle = rng.uniform(0, 2 * np.pi)
            y, x = cy + (r + b) * np.sin(angle), cx + (r + b) * np.cos(angle)
        else:
            y, x = rng.uniform(0, shape[0]), rng.uniform(0, shape[1])
        box, inside = _ellipse(shape, y, x, a, b, rng.uniform(0, np.pi))
        if inside.sum() < 60:
            continue
        free = inside & (labels[box] == 0)
        if free.sum() < (1 - MAX_OVERLAP) * inside.sum() or components(free).max() != 1:
            continue
        labels[box][free] = len(centres) + 1
        centres.append((y, x, b))
    return labels


def _ellipse(shape: tuple[int, int], y: float, x: float, a: float, b: float,
             theta: float) -> tuple[tuple[slice, slice], np.ndarray]:
    """(bounding-box slices, boolean ellipse within that box), clipped to the field."""
    r = int(np.ceil(a)) + 1
    y0, x0 = max(int(y) - r, 0), max(int(x) - r, 0)
    y1, x1 = max(min(int(y) + r + 1, shape[0]), y0), max(min(int(x) + r + 1, shape[1]), x0)
    yy, xx = np.mgrid[y0:y1, x0:x1]
    dy, dx = yy - y, xx - x
    u = dx * np.cos(theta) + dy * np.sin(theta)
    v = -dx * np.sin(theta) + dy * np.cos(theta)
    return (slice(y0, y1), slice(x0, x1)), (u / a) ** 2 + (v / b) ** 2 <= 1


def _render(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Fluorescence image of ``labels``: uneven background, textured blurred nuclei, noise."""
    from scipy import ndimage as ndi

    h, w = labels.shape
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    blotches = ndi.zoom(rng.normal(size=(5, 6)), (h / 5, w / 6), order=3)[:h, :w]
    background = 160 + 60 * (rng.uniform(-1, 1) * xx + rng.uniform(-1, 1) * yy) ** 2 \
        + 25 * blotches
    brightness = np.concatenate([[0.0], rng.uniform(350, 900, labels.max())])
    texture = 1 + 0.15 * ndi.gaussian_filter(rng.normal(size=(h, w)), 2) / 0.14
    edge = 1 - np.exp(-ndi.distance_transform_edt(labels > 0) / 3)
    signal = brightness[labels] * texture * (0.6 + 0.4 * edge)
    clean = ndi.gaussian_filter(background + signal, 1.2)
    noisy = rng.poisson(np.clip(clean, 0, None)) + rng.normal(0, 5, size=(h, w))
    return np.clip(noisy, 0, 4095).astype(np.uint16)


def synthetic_counts(n_cells: int = 2000, n_genes: int = 1000, n_types: int = 5,
                     seed: int = 0) -> AnnData:
    """Generated UMI counts with known cell types.

    Returns AnnData: X (n_cells, n_genes) float32 CSR counts; obs["cell_type"] categorical
    ("type_1".."type_k"); obs["n_counts"]; uns["marker_genes"]: type -> its marker genes
    (20 each, fewer when n_genes < 20 * n_types).
    """
    import anndata
    import pandas as pd
    from scipy import sparse

    per_type = min(20, n_genes // n_types)
    if per_type < 1:
        raise ValueError(f"need at least one gene per cell type: {n_genes=} < {n_types=}")
    rng = np.random.default_rng(seed)
    base = rng.normal(-1.0, 1.5, n_genes)
    markers = rng.permutation(n_genes)[: per_type * n_types].reshape(n_types, per_type)
    profiles = np.tile(base, (n_types, 1))
    for t in range(n_types):
        profiles[t, markers[t]] += rng.uniform(1.5, 3.0, per_type)
    profiles = np.exp(profiles) / np.exp(profiles).sum(axis=1, keepdims=True)
    types = rng.choice(n_types, size=n_cells, p=rng.dirichlet(np.full(n_types, 5.0)))
    library = rng.lognormal(np.log(2000), 0.4, n_cells)
    mean = library[:, None] * profiles[types]
    theta = 10.0  # negative binomial dispersion (gamma-Poisson)
    counts = rng.poisson(rng.gamma(theta, mean / theta)).astype(np.float32)
    names = [f"type_{t + 1}" for t in range(n_types)]
    genes = np.array([f"gene_{g:04d}" for g in range(n_genes)])
    obs = pd.DataFrame({"cell_type": pd.Categorical([names[t] for t in types], names),
                        "n_counts": counts.sum(axis=1)},
                       index=[f"cell_{c:05d}" for c in range(n_cells)])
    adata = anndata.AnnData(sparse.csr_matrix(counts), obs=obs, var=pd.DataFrame(index=genes))
    adata.uns["marker_genes"] = {names[t]: genes[markers[t]].tolist() for t in range(n_types)}
    return adata
