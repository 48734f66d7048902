"""A pixel classifier in the spirit of Trainable Weka Segmentation (Arganda-Carreras et al. 2017).

Every pixel gets a vector of filter responses at several scales (Gaussian, difference of
Gaussians, Sobel gradient magnitude, Hessian eigenvalues); a random forest learns, from a few
sparse strokes per class, which vectors are nucleus and which background; a threshold on its
probability plus a distance-transform watershed turns the probability map into nuclei.

Notebook 03 builds and cross-validates it; notebook 04 reuses it in a few lines::

    from course_utils.pixel_features import draw_scribbles, train_pixel_classifier
    clf = train_pixel_classifier(train.images, [draw_scribbles(m, seed=i)
                                                for i, m in enumerate(train.labels)])
    predicted = [clf.segment(image) for image in val.images]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .cpus import thread_count
from .imaging import min_span_of, normalize  # shared with segmentation; importable here too

if TYPE_CHECKING:
    from sklearn.ensemble import RandomForestClassifier

UNLABELLED, BACKGROUND, NUCLEUS = 0, 1, 2
CLASS_NAMES = {BACKGROUND: "background", NUCLEUS: "nucleus"}
FILTERS_PER_SCALE = ("gaussian", "sobel", "hessian_max", "hessian_min")


def scales(sigma_min: float = 1.0, sigma_max: float = 8.0) -> np.ndarray:
    """The Gaussian scales of the filter bank: powers of two from sigma_min to sigma_max."""
    if not 0 < sigma_min <= sigma_max:
        raise ValueError(f"need 0 < sigma_min <= sigma_max, got {sigma_min} and {sigma_max}")
    num = int(np.log2(sigma_max) - np.log2(sigma_min) + 1)
    return np.logspace(np.log2(sigma_min), np.log2(sigma_max), num=num, base=2)


def feature_names(sigma_min: float = 1.0, sigma_max: float = 8.0) -> list[str]:
    """Names of the columns of :func:`pixel_features`, in order."""
    sig = scales(sigma_min, sigma_max)
    names = [f"{f} σ={s:g}" for s in sig for f in FILTERS_PER_SCALE]
    return names + [f"DoG σ={a:g}−{b:g}" for a, b in zip(sig[:-1], sig[1:], strict=True)]


def pixel_features(image: np.ndarray, sigma_min: float = 1.0, sigma_max: float = 8.0,
                   workers: int | None = None) -> np.ndarray:
    """Filter-bank features of a normalised 2-D field: (H, W, n_features) float32.

    Columns follow :func:`feature_names`: per scale Gaussian, Sobel of it, the two Hessian
    eigenvalues (scikit-image's ``multiscale_basic_features``), then differences of
    neighbouring Gaussians (DoG), which respond to blobs of about that size. The scales are
    computed in ``workers`` threads (None: one per scale, at most
    :func:`course_utils.cpus.thread_count`).
    """
    from skimage.feature import multiscale_basic_features

    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 2:
        raise ValueError(f"expected one 2-D field (H, W), got shape {image.shape}")
    n_scales = len(scales(sigma_min, sigma_max))
    bank = multiscale_basic_features(image, sigma_min=sigma_min, sigma_max=sigma_max,
                                     num_sigma=n_scales,
                                     workers=workers or min(n_scales, thread_count()))
    gauss = bank[..., :: len(FILTERS_PER_SCALE)]
    dog = gauss[..., :-1] - gauss[..., 1:]
    return np.concatenate([bank, dog], axis=-1).astype(np.float32, copy=False)


def _stroke(shape: tuple[int, int], centre: np.ndarray, angle: float,
            length: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates of a straight stroke through ``centre``, clipped to the image."""
    from skimage.draw import line

    half = np.array([np.sin(angle), np.cos(angle)]) * length / 2
    (r0, c0), (r1, c1) = np.round(centre - half).astype(int), np.round(centre + half).astype(int)
    rr, cc = line(r0, c0, r1, c1)
    keep = (rr >= 0) & (rr < shape[0]) & (cc >= 0) & (cc < shape[1])
    return rr[keep], cc[keep]


def draw_scribbles(labels: np.ndarray, n_strokes: int = 8, length: int = 48,
                   margin: int = 1, seed: int = 0) -> np.ndarray:
    """Simulate what a Weka user draws: a few straight strokes per class, off the edges.

    Returns uint8 (H, W): 0 unlabelled, 1 background, 2 nucleus. Each nucleus stroke lies in
    one of ``n_strokes`` random nuclei, ``margin`` pixels inside it; ``n_strokes`` background
    strokes stay ``margin`` pixels away from every nucleus.
    """
    from scipy import ndimage as ndi

    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"expected 2-D instance labels (H, W), got shape {labels.shape}")
    rng = np.random.default_rng(seed)
    nuclei = labels > 0
    if margin > 0:  # scipy reads iterations=0 as "until nothing changes"
        inside = ndi.binary_erosion(nuclei, iterations=margin)
        background = ~ndi.binary_dilation(nuclei, iterations=margin)
    else:
        inside, background = nuclei, ~nuclei
    inside &= labels == ndi.grey_erosion(labels, size=3)  # not on a border between nuclei
    out = np.zeros(labels.shape, dtype=np.uint8)
    ids = np.unique(labels[inside])
    for nucleus in rng.choice(ids, size=min(n_strokes, len(ids)), replace=False):
        region = inside & (labels == nucleus)
        _draw(out, region, rng.choice(np.argwhere(region)), NUCLEUS, length, rng)
    free = np.argwhere(background)
    for pick in rng.choice(len(free), size=min(n_strokes, len(free)), replace=False):
        _draw(out, background, free[pick], BACKGROUND, length, rng)
    return out


def _draw(out: np.ndarray, region: np.ndarray, centre: np.ndarray, cls: int, length: int,
          rng: np.random.Generator) -> None:
    """Mark with ``cls`` the pixels of a random stroke through ``centre`` that lie in ``region``."""
    rr, cc = _stroke(out.shape, centre, rng.uniform(0, np.pi), length)
    keep = region[rr, cc]
    out[rr[keep], cc[keep]] = cls


def labelled_pixels(features: np.ndarray, scribbles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The training pairs of one field: features (n, F) and class (n,) of its labelled pixels."""
    if features.shape[:2] != scribbles.shape:
        raise ValueError(f"features {features.shape[:2]} and scribbles {scribbles.shape} "
                         "must cover the same pixels")
    where = scribbles != UNLABELLED
    return features[where], scribbles[where].astype(np.int64)


@dataclass
class PixelSamples:
    """Labelled pixels of many fields: X (n, F), y (n,) class, groups (n,) field index."""

    X: np.ndarray
    y: np.ndarray
    groups: np.ndarray


def collect_samples(images: Sequence[np.ndarray], scribbles: Sequence[np.ndarray],
                    min_span: float, sigma_min: float = 1.0,
                    sigma_max: float = 8.0) -> PixelSamples:
    """Features of every scribbled pixel of every field, with the field index as its group."""
    if len(images) != len(scribbles):
        raise ValueError(f"{len(images)} images but {len(scribbles)} scribble maps")
    xs, ys, gs = [], [], []
    for i, (image, scribble) in enumerate(zip(images, scribbles, strict=True)):
        feats = pixel_features(normalize(image, min_span=min_span), sigma_min, sigma_max)
        x, y = labelled_pixels(feats, scribble)
        xs.append(x)
        ys.append(y)
        gs.append(np.full(len(y), i))
    return PixelSamples(np.concatenate(xs), np.concatenate(ys), np.concatenate(gs))


def make_forest(n_estimators: int = 50, max_depth: int | None = 12, seed: int = 0,
                n_jobs: int = 2) -> RandomForestClassifier:
    """The classifier's random forest (Trainable Weka Segmentation's default has 200 trees of
    unlimited depth; fewer, shallower ones here, because it is applied to every pixel)."""
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=n_estimators, max_depth=max_depth,
                                  min_samples_leaf=2, n_jobs=n_jobs, random_state=seed)


@dataclass
class PixelClassifier:
    """A trained pixel classifier: features → random forest → probability → nuclei."""

    forest: RandomForestClassifier
    min_span: float
    sigma_min: float = 1.0
    sigma_max: float = 8.0

    def features(self, image: np.ndarray) -> np.ndarray:
        """The filter-bank features this classifier reads: (H, W, n_features) float32."""
        return pixel_features(normalize(image, min_span=self.min_span),
                              self.sigma_min, self.sigma_max)

    def probability(self, image: np.ndarray) -> np.ndarray:
        """Probability that each pixel is nucleus: (H, W) float32."""
        return self.probability_from_features(self.features(image))

    def probability_from_features(self, features: np.ndarray) -> np.ndarray:
        """Nucleus probability from features already computed by :meth:`features`."""
        column = list(self.forest.classes_).index(NUCLEUS)
        flat = self.forest.predict_proba(features.reshape(-1, features.shape[-1]))[:, column]
        return flat.reshape(features.shape[:2]).astype(np.float32)

    def segment(self, image: np.ndarray, threshold: float = 0.5) -> np.ndarray:
        """Instance labels (int32) of one field."""
        return probability_to_instances(self.probability(image), threshold)


def probability_to_instances(probability: np.ndarray, threshold: float = 0.5,
                             min_size: int = 30, min_distance: int = 7) -> np.ndarray:
    """Nuclei from a probability map: threshold, fill holes, split touching by watershed."""
    from scipy import ndimage as ndi
    from skimage.morphology import remove_small_objects

    from .segmentation.baseline import split_touching

    foreground = ndi.binary_fill_holes(probability > threshold)
    foreground = remove_small_objects(foreground, max_size=min_size)
    return split_touching(foreground, min_distance=min_distance)


def train_pixel_classifier(images: Sequence[np.ndarray], scribbles: Sequence[np.ndarray],
                           n_estimators: int = 50, seed: int = 0, sigma_min: float = 1.0,
                           sigma_max: float = 8.0) -> PixelClassifier:
    """Fit the forest on the scribbled pixels of ``images``; returns a :class:`PixelClassifier`."""
    min_span = min_span_of(images)
    samples = collect_samples(images, scribbles, min_span, sigma_min, sigma_max)
    if len(np.unique(samples.y)) < 2:
        raise ValueError("the scribbles must mark both background and nucleus pixels")
    forest = make_forest(n_estimators=n_estimators, seed=seed).fit(samples.X, samples.y)
    return PixelClassifier(forest, min_span, sigma_min, sigma_max)
