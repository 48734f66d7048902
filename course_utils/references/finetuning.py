"""Reference answers of notebook 06_finetuning (see :mod:`course_utils.references`)."""

from __future__ import annotations

import math
from itertools import pairwise

from . import reference

NB = "06_finetuning"


def freeze_encoder(model):
    """Stop training the encoder: no parameter of ``model.down`` gets a gradient."""
    for parameter in model.down.parameters():
        parameter.requires_grad_(False)
    return model


def count_trainable(model):
    """How many numbers of ``model`` receive gradients."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def fields_needed(ap_by_n, target):
    """The fewest annotated fields whose measured AP reaches ``target`` (None: none does)."""
    return min((n for n, ap in ap_by_n.items() if ap >= target), default=None)


def gain_per_doubling(ap_by_n):
    """{n_a: (AP(n_b) − AP(n_a)) / log2(n_b / n_a)} for consecutive sizes n_a < n_b."""
    sizes = sorted(ap_by_n)
    return {a: (ap_by_n[b] - ap_by_n[a]) / math.log2(b / a) for a, b in pairwise(sizes)}


reference(NB, "freeze_encoder", ("freeze_encoder",), also=("freeze_encoder_hidden",))(
    lambda: {"freeze_encoder": freeze_encoder})
reference(NB, "count_trainable", ("count_trainable",))(
    lambda: {"count_trainable": count_trainable})
reference(NB, "fields_needed", ("fields_needed",), also=("fields_needed_hidden",))(
    lambda: {"fields_needed": fields_needed})
reference(NB, "gain_per_doubling", ("gain_per_doubling",), also=("gain_per_doubling_hidden",))(
    lambda: {"gain_per_doubling": gain_per_doubling})
