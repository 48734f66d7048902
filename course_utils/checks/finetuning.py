"""Checks of notebook 06_finetuning: freezing the encoder, counting trainable weights, and
reading a learning curve (fields needed for a goal, gain per doubling).

The model checks build the course's U-Net where the student's function lives (under grading:
in the student's kernel, through :func:`~.core.probe`) and bring back plain facts — which
parameters are frozen, what was counted; what those facts should be is worked out here, from
a U-Net built in this process. The curve checks hand the functions dicts the check chose;
their hidden twins draw curves from :func:`~.core.hidden_seed`.
"""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np

from .core import call_student, expect, hidden_seed, probe, register
from .questions import question

NB = "06_finetuning"


def _parameter_names(channels: int, depth: int) -> list[str]:
    """The parameter names of the course U-Net of this size, in order."""
    from ..references.segmentation import UNet

    return [name for name, _ in UNet(channels=channels, depth=depth).named_parameters()]


def frozen_after(freeze_encoder, channels: int, depth: int) -> dict:
    """Run ``freeze_encoder`` on a fresh U-Net (beside the function): which parameters froze."""
    from ..references.segmentation import UNet

    model = UNet(channels=channels, depth=depth)
    returned = call_student(freeze_encoder, model, what="freeze_encoder(model)")
    return {"returned_model": returned is model,
            "frozen": [name for name, p in model.named_parameters() if not p.requires_grad]}


def _judge_frozen(freeze_encoder, channels: int, depth: int) -> None:
    """The encoder's parameters, and only those, are frozen; the model is returned."""
    seen = call_student(probe, frozen_after, freeze_encoder, channels, depth,
                        what="freeze_encoder(model)")
    names = _parameter_names(channels, depth)
    encoder = {n for n in names if n.startswith("down.")}
    frozen = set(seen["frozen"])
    size = f"a U-Net with channels={channels}, depth={depth}"
    expect(frozen, f"On {size} no parameter was frozen. Set `requires_grad = False` on every "
           "parameter of `model.down` (loop over `model.down.parameters()`).")
    beyond = sorted(frozen - encoder) + [""]  # "" only keeps the hint's f-string safe
    expect(len(beyond) == 1, f"On {size} you froze parameters outside the encoder too (e.g. "
           f"{beyond[0]}): the decoder (`up`, `merge`) and the `head` must keep learning, or "
           "fine-tuning changes nothing.")
    left = sorted(encoder - frozen) + [""]
    expect(len(left) == 1, f"On {size} part of the encoder still trains (e.g. {left[0]}, "
           f"{len(left) - 1} tensors in all). Freeze every block of `model.down` — however "
           "many the depth gives, the bottleneck (the last one) included — weights and "
           "batch-norm parameters alike.")
    expect(seen["returned_model"], "The right parameters are frozen, but the function should "
           "return the model (`return model` at the end): the notebook uses what it returns.")


@register(NB, "freeze_encoder", why="Only the parameters that still need a gradient are "
          "trained: the encoder's features stay as pretraining left them.")
def freeze_encoder_check(freeze_encoder):
    """Notebook 04's U-Net (8 channels, depth 3): exactly the encoder is frozen."""
    _judge_frozen(freeze_encoder, 8, 3)


@register(NB, "freeze_encoder_hidden", why="It works for U-Nets of any width and depth.",
          hidden=True)
def freeze_encoder_hidden(freeze_encoder):
    """Another width and depth, drawn from the hidden seed."""
    rng = np.random.default_rng(hidden_seed(61))
    _judge_frozen(freeze_encoder, int(rng.choice([2, 4, 6])), int(rng.choice([1, 2, 4])))


def counted(count_trainable, channels: int, depth: int, frozen: tuple[str, ...]) -> object:
    """``count_trainable`` of a fresh U-Net whose parameters under ``frozen`` are frozen."""
    from ..references.segmentation import UNet

    model = UNet(channels=channels, depth=depth)
    for name, parameter in model.named_parameters():
        parameter.requires_grad = not name.startswith(frozen)
    return call_student(count_trainable, model, what="count_trainable(model)")


@register(NB, "count_trainable", why="The trainable count is what fine-tuning fits to your "
          "few fields: freezing the encoder cuts it sharply.")
def count_trainable_check(count_trainable):
    """Three U-Nets: all trainable, encoder frozen, only the head trainable."""
    from ..references.segmentation import UNet

    for channels, depth, frozen in [(4, 2, ()), (8, 3, ("down.",)),
                                    (8, 3, ("down.", "up.", "merge."))]:
        got = call_student(probe, counted, count_trainable, channels, depth, frozen,
                           what="count_trainable(model)")
        params = list(UNet(channels=channels, depth=depth).named_parameters())
        trainable = [p for name, p in params if not name.startswith(frozen)]
        what = (f"a U-Net (channels={channels}, depth={depth}) with "
                + (f"{', '.join(frozen)} frozen" if frozen else "nothing frozen"))
        expect(isinstance(got, (int, float, np.number)) and not isinstance(got, bool)
               and float(got).is_integer(),
               f"count_trainable should return a whole number, got {got!r}.")
        got = int(got)
        expect(got != sum(p.numel() for _, p in params) or not frozen,
               f"For {what} you counted every parameter, frozen or not: count only those "
               "whose `requires_grad` is True.")
        expect(got not in (len(trainable), len(params)), f"For {what} you counted parameter "
               "tensors; count the numbers inside them (`p.numel()`).")
        expect(got == sum(p.numel() for p in trainable), f"For {what} you counted {got:,}, "
               "which is neither all weights nor the number of tensors: add `p.numel()` over "
               "the parameters with `p.requires_grad`.")


def _size(value: object) -> object:
    """A student's "number of fields" as an int (or None), for comparing and printing."""
    if value is None:
        return None
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


FIELDS_CASES = [  # (curve, target, fewest fields reaching it, what that case is about)
    ({1: 0.60, 2: 0.70, 4: 0.80, 8: 0.85, 16: 0.86}, 0.80, 4,
     "An AP exactly equal to the target reaches it: compare with ≥."),
    ({1: 0.60, 2: 0.70, 4: 0.80, 8: 0.85, 16: 0.86}, 0.90, None,
     "When no size on the curve reaches the target, return None."),
    ({16: 0.86, 1: 0.60, 8: 0.85, 4: 0.80, 2: 0.70}, 0.75, 4,
     "The dict is not sorted by size: look for the smallest size that reaches the target, "
     "not the first one you meet."),
    ({1: 0.50, 2: 0.82, 4: 0.78, 8: 0.90}, 0.80, 2,
     "A noisy curve can dip after it reaches the target: the answer is the smallest size "
     "that reaches it, even if a larger one falls below again."),
    ({2: 0.70, 4: 0.75, 8: 0.80}, 0.50, 2,
     "When every size reaches the target, the fewest fields is the smallest size."),
]


@register(NB, "fields_needed", why="Read off the curve, the smallest annotation that meets a "
          "goal is a plan: how many fields to outline.")
def fields_needed_check(fields_needed):
    """Five small curves: equality, unreachable, unsorted, noisy, all reaching."""
    for curve, target, fewest, hint in FIELDS_CASES:
        got = _size(call_student(fields_needed, dict(curve), target, what="fields_needed"))
        expect(not isinstance(got, float), f"fields_needed({curve}, {target}) returned {got}, "
               "an AP: return the number of fields (a key of the dict), not its AP.")
        expect(got == fewest, f"fields_needed({curve}, {target}) returned {got!r}. {hint}")


@register(NB, "fields_needed_hidden", why="It works on any curve.", hidden=True)
def fields_needed_hidden(fields_needed):
    """Random noisy curves with random targets, drawn from the hidden seed."""
    rng = np.random.default_rng(hidden_seed(62))
    for _ in range(6):
        sizes = rng.choice(np.arange(1, 65), size=int(rng.integers(2, 7)), replace=False)
        curve = {int(n): round(float(rng.uniform(0.3, 0.95)), 3) for n in sizes}
        target = round(float(rng.uniform(0.3, 1.0)), 3)
        got = _size(call_student(fields_needed, dict(curve), target, what="fields_needed"))
        reaching = sorted(n for n, ap in curve.items() if ap >= target)
        expect(got == (reaching[0] if reaching else None),
               f"On another curve and target fields_needed returned {got!r}.")


def _gains(value: object) -> dict:
    """A student's {size: gain} as plain ints and floats, or a hint if it is not a dict."""
    expect(isinstance(value, dict), f"gain_per_doubling should return a dict {{size: gain}}, "
           f"got {type(value).__name__}.")
    return {_size(k): float(v) for k, v in value.items()}


GAIN_CASES = [  # curves; each holds what the case is about in the hints below
    {1: 0.50, 4: 0.70, 16: 0.76, 2: 0.62},  # unsorted, gaps of one and two doublings
    {3: 0.60, 12: 0.80},  # not powers of two: two doublings
]


def _per_doubling(curve: dict) -> dict:
    """The gains the exercise's formula defines, for the hints and the hidden twin."""
    sizes = sorted(curve)
    return {a: (curve[b] - curve[a]) / math.log2(b / a) for a, b in pairwise(sizes)}


def _judge_gains(gain_per_doubling, curve: dict) -> None:
    """The gains of one curve, with a hint for each usual slip."""
    got = _gains(call_student(gain_per_doubling, dict(curve), what="gain_per_doubling"))
    sizes = sorted(curve)
    expect(set(got) == set(sizes[:-1]), f"gain_per_doubling({curve}) has keys {sorted(got)}; "
           f"expected one per size but the largest, {sizes[:-1]}: key each gain by the "
           "smaller size of its pair.")
    pairs = list(pairwise(sizes))
    raw = {a: curve[b] - curve[a] for a, b in pairs}
    per_field = {a: (curve[b] - curve[a]) / (b - a) for a, b in pairs}
    wanted = _per_doubling(curve)

    def close(other: dict) -> bool:
        return all(math.isclose(got[a], other[a], abs_tol=1e-9) for a in got)

    expect(close(wanted) or not close(raw), f"gain_per_doubling({curve}) gave the AP "
           "differences themselves: divide each by the number of doublings between the two "
           "sizes, log2(n_b / n_a).")
    expect(close(wanted) or not close(per_field), f"gain_per_doubling({curve}) divided by the "
           "number of fields added (n_b − n_a): the gain is per *doubling*, log2(n_b / n_a).")
    expect(close(wanted), f"gain_per_doubling({curve}) returned {got}. Sort the sizes, pair "
           "each with the next larger one, and divide the AP gained by log2(n_b / n_a).")


@register(NB, "gain_per_doubling", why="The slope per doubling tells where more annotation "
          "stops paying, whatever sizes the curve was measured at.")
def gain_per_doubling_check(gain_per_doubling):
    """An unsorted curve with uneven gaps, and one at sizes that are not powers of two."""
    for curve in GAIN_CASES:
        _judge_gains(gain_per_doubling, curve)


@register(NB, "gain_per_doubling_hidden", why="It works on any curve.", hidden=True)
def gain_per_doubling_hidden(gain_per_doubling):
    """Random unsorted curves, drawn from the hidden seed."""
    rng = np.random.default_rng(hidden_seed(63))
    for _ in range(4):
        sizes = rng.choice(np.arange(1, 65), size=int(rng.integers(2, 7)), replace=False)
        _judge_gains(gain_per_doubling, {int(n): round(float(rng.uniform(0.3, 0.95)), 3)
                                         for n in sizes})


question(NB, "q_finetune_lr", "answer_lr", 4,
         "146b90262256f58f9d9b4d9f778663edd75f7a2f66f3536be3c76443b0006064",
         hint=("Where does a fine-tuning run start, and where does one from random weights "
               "start? Think about what the first few large steps do to weights that were "
               "already good, when the only data guiding them are one or two fields."),
         why="A small learning rate moves pretrained weights; a large one replaces them.")

question(NB, "q_augmentation", "answer_augmentation", 4,
         "857814c7c19336a04632402b99057b53746bede34c80d5c4516f31d2b15d29a7",
         hint=("Augmentation adds no outline a person drew. What does a turned, mirrored, "
               "brighter or bent copy of a patch teach the network that the single field, "
               "as it is, cannot?"),
         why="Augmentation supplies variation that many real fields would have supplied.")
