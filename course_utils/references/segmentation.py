"""Reference answers of notebook 04_unet_segmentation (see :mod:`course_utils.references`).

The reference U-Net has the notebook's module layout (``down``, ``up``, ``merge``, ``head``),
so a state dict saved from either loads into the other.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import reference

NB = "04_unet_segmentation"


def three_class_targets(labels):
    """0 = background, 1 = interior, 2 = boundary, from instance labels."""
    from skimage.segmentation import find_boundaries

    labels = np.asarray(labels)
    classes = (labels > 0).astype(np.uint8)
    classes[find_boundaries(labels, mode="inner") & (labels > 0)] = 2
    return classes


def conv_block(c_in: int, c_out: int) -> nn.Sequential:
    """Two 3 × 3 convolutions, each followed by batch normalisation and ReLU."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True))


class UNet(nn.Module):
    """A U-Net for one-channel images and three classes (the notebook's layout)."""

    def __init__(self, channels: int = 8, depth: int = 3, n_classes: int = 3) -> None:
        super().__init__()
        widths = [channels * 2**level for level in range(depth + 1)]
        self.down = nn.ModuleList([conv_block(1, widths[0])] +
                                  [conv_block(widths[i], widths[i + 1]) for i in range(depth)])
        self.up = nn.ModuleList([nn.ConvTranspose2d(widths[i + 1], widths[i], 2, stride=2)
                                 for i in range(depth)])
        self.merge = nn.ModuleList([conv_block(2 * widths[i], widths[i]) for i in range(depth)])
        self.head = nn.Conv2d(widths[0], n_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (N, classes, H, W) of a batch (N, 1, H, W), H and W divisible by 2**depth."""
        skips = []
        for level, block in enumerate(self.down):
            x = block(x)
            if level < len(self.up):
                skips.append(x)
                x = F.max_pool2d(x, 2)
        for level in reversed(range(len(self.up))):
            x = self.merge[level](torch.cat([skips[level], self.up[level](x)], dim=1))
        return self.head(x)


def segmentation_loss(logits, target, class_weights):
    """Weighted cross-entropy plus soft Dice (smoothed by 1) averaged over the classes."""
    ce = F.cross_entropy(logits, target, weight=class_weights)
    prob = logits.softmax(dim=1)
    onehot = F.one_hot(target, logits.shape[1]).permute(0, 3, 1, 2).to(prob.dtype)
    dims = (0, 2, 3)
    dice = (2 * (prob * onehot).sum(dim=dims) + 1.0) / ((prob + onehot).sum(dim=dims) + 1.0)
    return ce + (1 - dice).mean()


def to_instances(prob, seed_threshold=0.5, mask_threshold=0.5):
    """Seeds from the interior probability, grown by a watershed over the foreground."""
    from skimage.measure import label
    from skimage.segmentation import watershed

    interior, foreground = prob[1], prob[1] + prob[2]
    return watershed(-interior, label(interior > seed_threshold),
                     mask=foreground > mask_threshold)


def average_precision_at(true, pred, threshold=0.5):
    """Matching AP of one field: a match needs IoU strictly above ``threshold``."""
    true_ids, true = np.unique(np.asarray(true), return_inverse=True)
    pred_ids, pred = np.unique(np.asarray(pred), return_inverse=True)
    overlap = np.bincount(true.ravel() * len(pred_ids) + pred.ravel(),
                          minlength=len(true_ids) * len(pred_ids)).reshape(len(true_ids), -1)
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = overlap / (overlap.sum(1, keepdims=True) + overlap.sum(0, keepdims=True) - overlap)
    iou = iou[true_ids > 0][:, pred_ids > 0]
    tp = int((iou > threshold).sum())
    total = iou.shape[0] + iou.shape[1] - tp
    return tp / total if total else 1.0


reference(NB, "targets", ("three_class_targets",), also=("targets_hidden",))(
    lambda: {"three_class_targets": three_class_targets})
reference(NB, "unet", ("UNet", "conv_block"), also=("unet_hidden",))(
    lambda: {"UNet": UNet, "conv_block": conv_block})
reference(NB, "loss", ("segmentation_loss",), also=("loss_decreases",))(
    lambda: {"segmentation_loss": segmentation_loss})
reference(NB, "instances", ("to_instances",))(lambda: {"to_instances": to_instances})
reference(NB, "matching_ap", ("average_precision_at",), also=("matching_ap_hidden",))(
    lambda: {"average_precision_at": average_precision_at})
