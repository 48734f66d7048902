"""Pretrained Cellpose (cellpose 4, ``cpsam_v2``) as a ready-made competitor to our own U-Net.

The weights (about 1.2 GB) come through the course's data layer: a hub's shared folder, the
course image, the cache, or a download. Where none of these works — offline, say — the loader
returns the reason instead of a model, so a notebook can say so and carry on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass
class CellposeRun:
    """Cellpose's output per field: instance masks, cell-probability logits, flows (2, H, W)."""

    masks: list[np.ndarray] = field(default_factory=list)
    cellprob: list[np.ndarray] = field(default_factory=list)
    flows: list[np.ndarray] = field(default_factory=list)
    seconds: float = 0.0


def load_cellpose(device=None):
    """(model, None) when the pretrained weights can be had, else (None, why not)."""
    from ..data import DatasetUnavailable, cellpose_models_dir

    try:
        folder = cellpose_models_dir()
    except DatasetUnavailable as exc:
        return None, str(exc)
    from cellpose.models import CellposeModel

    from ..device import get_device

    weights = folder / "cpsam_v2"
    return CellposeModel(pretrained_model=str(weights), device=device or get_device()), None


def run_cellpose(model, images: Sequence[np.ndarray], diameter: float | None = None) -> CellposeRun:
    """Segment each field with ``model.eval`` (cellpose's own normalisation and defaults)."""
    import time

    from tqdm.auto import tqdm

    run, start = CellposeRun(), time.perf_counter()
    for image in tqdm(images, desc="cellpose", leave=False):
        masks, flows, _ = model.eval(np.asarray(image, np.float32), diameter=diameter)
        run.masks.append(np.asarray(masks, np.int32))
        run.flows.append(np.asarray(flows[1], np.float32))
        run.cellprob.append(np.asarray(flows[2], np.float32))
    run.seconds = time.perf_counter() - start
    return run


def finetune_cellpose(images: Sequence[np.ndarray], labels: Sequence[np.ndarray], device=None,
                      n_epochs: int = 100, learning_rate: float = 1e-5):
    """A fresh pretrained Cellpose fine-tuned on ``images`` and their instance ``labels``.

    Uses cellpose's own training loop (``cellpose.train.train_seg``: its augmentation, its
    flows computed from the labels, its defaults) and returns the model, ready for
    :func:`run_cellpose`. Raises RuntimeError, saying why, when the pretrained weights can't
    be had (call :func:`load_cellpose` first to ask). The saved copy cellpose writes goes to a
    temporary folder and is removed: the returned model holds the weights.
    """
    import tempfile

    from cellpose import train

    model, why_not = load_cellpose(device)
    if model is None:
        raise RuntimeError(f"cannot fine-tune Cellpose without its pretrained weights: {why_not}")
    with tempfile.TemporaryDirectory(prefix="cellpose-finetune-") as folder:
        train.train_seg(model.net, train_data=[np.asarray(im, np.float32) for im in images],
                        train_labels=[np.asarray(lab, np.int32) for lab in labels],
                        learning_rate=learning_rate, n_epochs=n_epochs, save_path=folder,
                        model_name="finetuned", min_train_masks=1)
    return model


def ideal_flows(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What Cellpose learns to predict for ``labels``: flows (2, H, W) and cell-probability logits.

    Each nucleus pixel gets a unit vector pointing along the heat-diffusion path to the
    nucleus's centre (cellpose's own ``labels_to_flows``); the probability is ±5 logits.
    """
    import torch
    from cellpose.dynamics import labels_to_flows

    flows = labels_to_flows([np.asarray(labels, np.int32)], device=torch.device("cpu"))[0]
    cellprob = np.where(labels > 0, 5.0, -5.0).astype(np.float32)
    return flows[2:4].astype(np.float32), cellprob


def masks_from_flows(flows: np.ndarray, cellprob: np.ndarray) -> np.ndarray:
    """Cellpose's own last step: follow the flows from every cell pixel and group where they end."""
    import torch
    from cellpose.dynamics import compute_masks

    masks = compute_masks(5 * flows, cellprob, device=torch.device("cpu"))
    masks = masks[0] if isinstance(masks, tuple) else masks
    return np.asarray(masks, np.int32)
