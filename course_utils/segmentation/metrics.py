"""Instance-segmentation scores as the field reports them: matching AP = TP / (TP + FP + FN).

One-to-one matching of predicted and true nuclei at an IoU threshold (cellpose's implementation,
after StarDist's). Pooled AP sums TP, FP and FN over all fields first (as StarDist does);
per-field AP averages field by field (as cellpose does) — the notebooks show both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from cellpose.metrics import average_precision  # imports torch: grading kernels preload it

THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


@dataclass
class MatchingScores:
    """Counts and AP per threshold; ``per_field`` has one row per field (NaN for empty fields)."""

    thresholds: tuple[float, ...]
    tp: np.ndarray  # (n_fields, n_thresholds) counts
    fp: np.ndarray
    fn: np.ndarray

    @property
    def pooled(self) -> np.ndarray:
        """AP per threshold from counts summed over all fields."""
        tp, fp, fn = self.tp.sum(0), self.fp.sum(0), self.fn.sum(0)
        return tp / np.maximum(tp + fp + fn, 1)

    @property
    def per_field(self) -> np.ndarray:
        """AP per field and threshold; NaN where a field has neither true nor predicted nuclei."""
        total = self.tp + self.fp + self.fn
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, self.tp / total, np.nan)

    def at(self, threshold: float) -> float:
        """Pooled AP at one of the thresholds."""
        return float(self.pooled[self.thresholds.index(threshold)])


def matching_ap(true_labels: Sequence[np.ndarray], pred_labels: Sequence[np.ndarray],
                thresholds: Sequence[float] = THRESHOLDS) -> MatchingScores:
    """Match predicted to true instances field by field and count TP, FP, FN per threshold."""
    if len(true_labels) != len(pred_labels):
        raise ValueError(f"{len(true_labels)} true fields but {len(pred_labels)} predicted ones: "
                         "pass the predictions for exactly the evaluated fields, in order.")
    with np.errstate(invalid="ignore", divide="ignore"):  # its own AP of a blank field is 0/0
        _, tp, fp, fn = average_precision([np.asarray(t, np.int32) for t in true_labels],
                                          [np.asarray(p, np.int32) for p in pred_labels],
                                          threshold=list(thresholds))
    return MatchingScores(tuple(float(t) for t in thresholds), tp, fp, fn)
