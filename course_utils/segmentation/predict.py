"""Run a trained segmentation network on whole fields and return full-resolution probabilities."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .fields import downscale


def _dihedral(x, k: int, flip: bool, inverse: bool = False):
    """Turn a (N, C, H, W) tensor by ``k`` quarter turns and mirror it (or undo exactly that)."""
    import torch

    if inverse:
        x = torch.flip(x, dims=(3,)) if flip else x
        return torch.rot90(x, -k, dims=(2, 3))
    x = torch.rot90(x, k, dims=(2, 3))
    return torch.flip(x, dims=(3,)) if flip else x


def _softmax(model, x, tta: bool):
    """The model's class probabilities for ``x``; with ``tta``, averaged over 8 flips/turns."""
    import torch

    views = [(k, flip) for k in range(4) for flip in (False, True)] if tta else [(0, False)]
    total = 0
    for k, flip in views:
        view = _dihedral(x, k, flip).contiguous(memory_format=torch.channels_last)
        total = total + _dihedral(model(view).softmax(1), k, flip, inverse=True)
    return total / len(views)


def predict_probabilities(model, image: np.ndarray, factor: int, min_span: float,
                          multiple: int = 8, device=None, tta: bool = False) -> np.ndarray:
    """Class probabilities of one raw field at its own resolution: (n_classes, H, W) float32.

    The field is normalised and downscaled as in training, reflect-padded to a multiple of
    ``multiple`` (the U-Net halves it that often), and the softmax is interpolated back up
    bilinearly, so instances are cut at full resolution. ``tta`` (test-time augmentation)
    averages the predictions for the 8 flips and turns of the field, the same symmetries the
    network was trained with: steadier probabilities for 8 times the compute.
    """
    import torch
    import torch.nn.functional as F

    from ..imaging import normalize

    small = downscale(normalize(image, min_span=min_span), factor)
    h, w = small.shape
    padded = np.pad(small, ((0, -h % multiple), (0, -w % multiple)), mode="reflect")
    x = torch.from_numpy(padded)[None, None].to(device or next(model.parameters()).device)
    model.eval()
    with torch.no_grad():
        prob = _softmax(model, x, tta)[..., :h, :w]
        full = F.interpolate(prob, size=(h * factor, w * factor), mode="bilinear",
                             align_corners=False)[0].float().cpu().numpy()
    out = np.zeros((full.shape[0], *image.shape), np.float32)  # blocks cut off by downscale
    out[0] = 1.0  # … count as background
    out[:, : full.shape[1], : full.shape[2]] = full
    return out


def predict_fields(model, images: Sequence[np.ndarray], factor: int, min_span: float,
                   multiple: int = 8, device=None, tta: bool = False) -> list[np.ndarray]:
    """:func:`predict_probabilities` for each field, with a progress bar."""
    from tqdm.auto import tqdm

    return [predict_probabilities(model, im, factor, min_span, multiple, device, tta)
            for im in tqdm(images, desc="predicting", leave=False)]
