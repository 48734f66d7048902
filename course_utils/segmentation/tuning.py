"""Choose post-processing settings on tuning fields: a small grid search scored by matching AP.

Tuning on the fields you report would flatter the result, so callers pass fields held out from
both training and evaluation.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence

import numpy as np


def tune_settings(probabilities: Sequence[np.ndarray], labels: Sequence[np.ndarray],
                  to_instances: Callable[..., np.ndarray],
                  grid: Mapping[str, Sequence[float]],
                  iou: float = 0.5) -> tuple[dict[str, float], list[tuple[dict, float]]]:
    """Try every combination in ``grid`` as keyword arguments of ``to_instances(prob, **kw)``.

    Returns the best settings (pooled AP at ``iou``) and every (settings, AP) tried, best first.
    """
    from .metrics import matching_ap

    if len(probabilities) != len(labels) or not labels:
        raise ValueError(f"need as many probability maps as label fields (got "
                         f"{len(probabilities)} and {len(labels)}), and at least one")
    names = list(grid)
    scored = []
    for values in itertools.product(*(grid[name] for name in names)):
        settings = dict(zip(names, values, strict=True))
        predicted = [to_instances(prob, **settings) for prob in probabilities]
        scored.append((settings, matching_ap(labels, predicted, [iou]).at(iou)))
    scored.sort(key=lambda item: -item[1])
    return scored[0][0], scored
