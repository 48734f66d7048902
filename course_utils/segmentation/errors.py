"""Sort a segmentation's mistakes into kinds a biologist recognises, and draw them.

At an IoU threshold every true nucleus is matched to at most one predicted one. What is left
over is an error, and its kind says what to fix:

- **merged** — a true nucleus lost because one predicted object covers it *and* a neighbour
  (touching nuclei not separated);
- **split** — a predicted object that is a piece of a nucleus another prediction also covers
  (one nucleus cut in two or more);
- **missed** — any other true nucleus without a match (not found, or outlined too badly);
- **false** — any other predicted object without a match (debris, noise, a bad outline).

An object that merged nuclei is not counted again as false: its error is the merge.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

KINDS = ("missed", "false", "merged", "split")
COLOURS = {"matched": (0.2, 0.85, 0.2), "missed": (1.0, 0.1, 0.8), "false": (1.0, 0.9, 0.0),
           "merged": (1.0, 0.45, 0.0), "split": (0.0, 0.8, 1.0)}


@dataclass
class FieldErrors:
    """Ids of matched and erroneous objects; true ids for missed/merged, predicted otherwise."""

    matched: list[tuple[int, int]] = field(default_factory=list)  # (true id, predicted id)
    missed: list[int] = field(default_factory=list)
    merged: list[int] = field(default_factory=list)
    false: list[int] = field(default_factory=list)
    split: list[int] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Number of errors of each kind."""
        return {kind: len(getattr(self, kind)) for kind in KINDS}


def overlap_table(true: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Pixel counts of every (true id, predicted id) pair, background row and column included."""
    true, pred = np.asarray(true, np.int64), np.asarray(pred, np.int64)
    if true.shape != pred.shape:
        raise ValueError(f"true {true.shape} and predicted {pred.shape} labels differ in shape")
    n_true, n_pred = int(true.max()) + 1, int(pred.max()) + 1
    flat = np.bincount((true * n_pred + pred).ravel(), minlength=n_true * n_pred)
    return flat.reshape(n_true, n_pred)


def match(overlap: np.ndarray, threshold: float = 0.5) -> list[tuple[int, int]]:
    """One-to-one (true id, predicted id) pairs with IoU ≥ threshold (as cellpose matches)."""
    from scipy.optimize import linear_sum_assignment

    area_true, area_pred = overlap.sum(1, keepdims=True), overlap.sum(0, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.nan_to_num(overlap / (area_true + area_pred - overlap))[1:, 1:]
    if iou.size == 0:
        return []
    costs = -(iou >= threshold).astype(float) - iou / (2 * min(iou.shape))
    rows, cols = linear_sum_assignment(costs)
    return [(r + 1, c + 1) for r, c in zip(rows, cols, strict=True) if iou[r, c] >= threshold]


def classify_errors(true: np.ndarray, pred: np.ndarray, threshold: float = 0.5) -> FieldErrors:
    """Match one field's predicted nuclei to the true ones and sort the leftovers by kind."""
    overlap = overlap_table(true, pred)
    area_true, area_pred = overlap.sum(1), overlap.sum(0)
    pairs = match(overlap, threshold)
    errors = FieldErrors(matched=pairs)
    done_true, done_pred = {t for t, _ in pairs}, {p for _, p in pairs}
    mostly_in_pred = overlap * 2 >= area_true[:, None]  # [t, p]: half of t lies in p
    mostly_in_true = overlap * 2 >= area_pred[None, :]  # [t, p]: half of p lies in t
    for t in range(1, len(area_true)):
        if area_true[t] == 0 or t in done_true:
            continue
        covering = np.flatnonzero(mostly_in_pred[t, 1:]) + 1
        merged = any(mostly_in_pred[1:, p].sum() >= 2 for p in covering)
        (errors.merged if merged else errors.missed).append(t)
    for p in range(1, len(area_pred)):
        if area_pred[p] == 0 or p in done_pred:
            continue
        if mostly_in_pred[1:, p].sum() >= 2:  # the object that merged nuclei: counted there
            continue
        hosts = np.flatnonzero(mostly_in_true[1:, p]) + 1
        split = any(mostly_in_true[t, 1:].sum() >= 2 for t in hosts)
        (errors.split if split else errors.false).append(p)
    return errors


def error_overlay(image: np.ndarray, true: np.ndarray, pred: np.ndarray,
                  errors: FieldErrors) -> np.ndarray:
    """An RGB picture: the field in grey, matched outlines green, errors filled by kind."""
    from skimage.segmentation import find_boundaries

    from ..imaging import normalize

    grey = np.clip(normalize(image), 0, 1)
    rgb = np.repeat(grey[..., None], 3, axis=-1)
    fills = {"missed": (true, errors.missed), "merged": (true, errors.merged),
             "false": (pred, errors.false), "split": (pred, errors.split)}
    for kind, (labels, ids) in fills.items():
        where = np.isin(labels, ids) & (labels > 0)
        rgb[where] = 0.45 * rgb[where] + 0.55 * np.array(COLOURS[kind])
    matched = np.isin(pred, [p for _, p in errors.matched]) & (pred > 0)
    rgb[find_boundaries(np.where(matched, pred, 0), mode="inner")] = COLOURS["matched"]
    return rgb


def draw_errors(ax, image: np.ndarray, true: np.ndarray, pred: np.ndarray,
                threshold: float = 0.5, title: str = "") -> FieldErrors:
    """Show :func:`error_overlay` on ``ax`` with a legend of counts; returns the errors."""
    from matplotlib.patches import Patch

    errors = classify_errors(true, pred, threshold)
    ax.imshow(error_overlay(image, true, pred, errors))
    counts = errors.counts()
    handles = [Patch(color=COLOURS["matched"], label=f"matched ({len(errors.matched)})")]
    handles += [Patch(color=COLOURS[k], label=f"{k} ({counts[k]})") for k in KINDS]
    ax.legend(handles=handles, loc="lower right", fontsize=7, framealpha=0.8)
    ax.set_title(title)
    ax.axis("off")
    return errors
