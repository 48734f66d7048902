"""Checks of notebook 04_unet_segmentation: targets, U-Net, loss, instances, matching AP.

Each check builds its own small problem (touching squares, discs, a tiny network), so a
student's function is tested on its own — a mistake in one exercise never fails another.
Hints name the property that failed and where to look, not the code.
"""

from __future__ import annotations

import numpy as np

from .core import call_student, expect, hidden_seed, probe, register
from .expected import case, expected

NB = "04_unet_segmentation"
BACKGROUND, INTERIOR, BOUNDARY = 0, 1, 2


def touching_squares() -> np.ndarray:
    """Instance labels: two 8×8 nuclei side by side (touching) and a separate 6×6 one."""
    labels = np.zeros((20, 30), np.int32)
    labels[3:11, 3:11] = 1
    labels[3:11, 11:19] = 2
    labels[12:18, 22:28] = 3
    return labels


def touching_discs(shape: tuple[int, int] = (40, 64)) -> np.ndarray:
    """Instance labels: two discs of radius 10 that touch along a vertical line, one far away."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    labels = np.zeros(shape, np.int32)
    labels[(yy - 18) ** 2 + (xx - 16) ** 2 <= 100] = 1
    right = (yy - 18) ** 2 + (xx - 34) ** 2 <= 100
    labels[right & (xx >= 25)] = 2
    labels[(yy - 30) ** 2 + (xx - 54) ** 2 <= 36] = 3
    return labels


def known_labels() -> dict[str, np.ndarray]:
    """The label images the checks make network outputs of, by name."""
    return {"squares": touching_squares(), "discs": touching_discs(),
            "padded_squares": np.pad(touching_squares(), ((10, 10), (17, 17)))}


@case(NB, "class_maps", grade_id="targets")
def class_maps_expected(solution) -> dict:
    """The solution's three-class maps of :func:`known_labels`, one digit string per row."""
    return {name: ["".join(str(int(v)) for v in row)
                   for row in np.asarray(solution["three_class_targets"](labels.copy()))]
            for name, labels in known_labels().items()}


def class_map(labels: np.ndarray) -> np.ndarray:
    """The solution's class map of one of :func:`known_labels` (stored at build time).

    The checks of later exercises need right targets without computing them: their code
    would be the targets exercise's answer.
    """
    for name, known in known_labels().items():
        if np.shape(labels) == known.shape and np.array_equal(labels, known):
            rows = expected(NB, "class_maps")[name]
            return np.array([[int(c) for c in row] for row in rows], np.int64)
    raise KeyError("class_map knows only the label images of known_labels()")


def probabilities_of(labels: np.ndarray, blur: float = 1.0) -> np.ndarray:
    """A plausible network output for ``labels`` (one of :func:`known_labels`): smoothed
    one-hot three-class maps (3, H, W)."""
    from scipy import ndimage as ndi

    classes = class_map(labels)
    onehot = np.stack([(classes == k).astype(np.float32) for k in range(3)])
    smooth = np.stack([ndi.gaussian_filter(c, blur) for c in onehot])
    return smooth / smooth.sum(0, keepdims=True)


def _neighbours_differ(labels: np.ndarray) -> np.ndarray:
    """True where a pixel has a 4-neighbour with another label (image edges do not count)."""
    differ = np.zeros(labels.shape, bool)
    vertical = labels[1:] != labels[:-1]
    horizontal = labels[:, 1:] != labels[:, :-1]
    differ[1:] |= vertical
    differ[:-1] |= vertical
    differ[:, 1:] |= horizontal
    differ[:, :-1] |= horizontal
    return differ


# --- targets --------------------------------------------------------------------------------

def _targets_of(three_class_targets, labels: np.ndarray) -> np.ndarray:
    """The student's class map for ``labels``, checked for shape and values."""
    out = np.asarray(call_student(three_class_targets, labels.copy(), what="three_class_targets"))
    expect(out.shape == labels.shape, f"three_class_targets should return one class per pixel: "
           f"shape {labels.shape}, got {out.shape}.")
    values = set(np.unique(out).tolist())
    expect(values <= {0, 1, 2}, f"The classes are 0 (background), 1 (interior), 2 (boundary); "
           f"your map also holds {sorted(values - {0, 1, 2})}.")
    return out


@register(NB, "targets", why="Touching nuclei now have a line of boundary pixels between them: "
          "the network can learn to cut there, which a foreground/background map cannot teach.")
def targets_check(three_class_targets):
    """0 on background, 1/2 on nuclei, every interior pixel surrounded by its own nucleus."""
    labels = touching_squares()
    out = _targets_of(three_class_targets, labels)
    expect(np.all(out[labels == 0] == BACKGROUND), "Background pixels (label 0) must be class 0.")
    expect(np.all(out[labels > 0] != BACKGROUND), "Every nucleus pixel must be class 1 (interior) "
           "or 2 (boundary); some nucleus pixels came out as background.")
    expect((out == BOUNDARY).any(), "There are no boundary pixels (class 2): mark the nucleus "
           "pixels that touch something other than their own nucleus.")
    against_background = (labels > 0) & _neighbours_differ(labels > 0)
    expect(np.all(out[against_background] == BOUNDARY), "The outline of each nucleus against "
           "the background should be boundary (class 2).")
    expect(np.all(out[3:11, 10:12] == BOUNDARY), "Where two nuclei touch, the pixels on both "
           "sides of the contact must be boundary (class 2). Compare each pixel's label with "
           "its neighbours' labels, not only with the background: `labels > 0` loses which "
           "nucleus a pixel belongs to.")
    expect(np.all(out[5:9, 5:9] == INTERIOR), "The middle of each nucleus should be interior "
           "(class 1): only a thin outline (one or two pixels) is boundary.")


@register(NB, "targets_hidden", why="It works on a real field's labels too.", hidden=True)
def targets_hidden(three_class_targets):
    """On touching discs: no interior pixel next to another label, the boundary stays thin."""
    labels = touching_discs()
    out = _targets_of(three_class_targets, labels)
    interior = out == INTERIOR
    expect(not np.any(interior & _neighbours_differ(labels)), "Some interior pixels touch "
           "another nucleus or the background: they should be boundary.")
    expect(interior.sum() > 0.5 * (labels > 0).sum(), "The boundary is too thick: most "
           "nucleus pixels should stay interior.")


# --- U-Net ----------------------------------------------------------------------------------

def _captured_forward(model, x):
    """Run ``model(x)``; return its output, each encoder block's output and each merge input."""
    import torch

    encoded, merged = {}, {}
    hooks = [block.register_forward_hook(
        lambda _m, _i, out, level=level: encoded.__setitem__(level, out))
        for level, block in enumerate(model.down)]
    hooks += [block.register_forward_pre_hook(
        lambda _m, inputs, level=level: merged.__setitem__(level, inputs[0]))
        for level, block in enumerate(model.merge)]
    try:
        with torch.no_grad():
            out = call_student(model, x, what="UNet.forward")
    finally:
        for hook in hooks:
            hook.remove()
    return out, encoded, merged


def unet_forward(UNet, channels: int, depth: int, shape: tuple[int, int]) -> dict:
    """Build the student's UNet and run it once, noting what each block saw (beside ``UNet``).

    Plain data only: the output shape, how many encoder and decoder blocks ran, and for each
    level the shapes fed to its merge block and whether they hold that level's encoder output.
    """
    import torch

    torch.manual_seed(0)
    model = call_student(UNet, channels=channels, depth=depth,
                         what=f"UNet(channels={channels}, depth={depth})").eval()
    missing = [part for part in ("down", "up", "merge", "head") if not hasattr(model, part)]
    if missing:
        return {"missing": missing}
    out, encoded, merged = _captured_forward(model, torch.randn(2, 1, *shape))
    levels = []
    for level in range(depth):
        if level not in encoded or level not in merged:
            break
        features, fed = encoded[level], merged[level]
        width = features.shape[1]
        levels.append({"width": width, "features": tuple(features.shape[2:]),
                       "fed": tuple(fed.shape[1:]),
                       "skip": fed.shape[1] == 2 * width and any(
                           torch.allclose(h, features) for h in (fed[:, :width], fed[:, width:]))})
    return {"missing": [], "out": tuple(out.shape), "encoded": len(encoded),
            "merged": len(merged), "levels": levels}


def _check_unet(UNet, channels: int, depth: int, shape: tuple[int, int]) -> None:
    """Output shape, every level used, and each decoder level fed the encoder's features."""
    seen = call_student(probe, unet_forward, UNet, channels, depth, shape,
                        what=f"UNet(channels={channels}, depth={depth})")
    for part in seen["missing"]:
        expect(False, f"The model lost its `self.{part}` layers: keep __init__ "
               "as given and write only forward.")
    expect(tuple(seen["out"]) == (2, 3, *shape), f"For input (2, 1, {shape[0]}, {shape[1]}) the "
           f"output should be (2, 3, {shape[0]}, {shape[1]}): one score per class and pixel. Got "
           f"{tuple(seen['out'])}. Does every level you go down come back up, and does "
           "`self.head` come last?")
    expect(seen["encoded"] == depth + 1, f"Only {seen['encoded']} of the {depth + 1} encoder "
           "blocks (`self.down`) ran: loop over all of them.")
    expect(seen["merged"] == depth, f"Only {seen['merged']} of the {depth} decoder blocks "
           "(`self.merge`) ran: every level needs its own merge block.")
    for level, info in enumerate(seen["levels"]):
        width, fed = info["width"], tuple(info["fed"])
        expect(fed[0] == 2 * width and fed[1:] == tuple(info["features"]),
               f"Decoder level {level} (`self.merge[{level}]`) received {fed}; "
               f"it should get {2 * width} channels at {tuple(info['features'])}: the "
               f"upsampled features concatenated (torch.cat, dim=1) with the encoder's output "
               f"at the same level.")
        expect(info["skip"],
               f"The input of `self.merge[{level}]` does not contain the encoder features of "
               f"level {level}: that is the skip connection. Keep each `self.down[{level}]` "
               "output before pooling, and concatenate it with the upsampled tensor of the "
               "same size.")


@register(NB, "unet", why="The skip connections hand the decoder the fine detail the encoder "
          "saw before pooling: that is what lets a U-Net draw one-pixel boundaries.")
def unet_check(UNet):
    """(N, 1, H, W) in, (N, 3, H, W) out; each merge block gets [skip, upsampled] features."""
    _check_unet(UNet, channels=4, depth=2, shape=(32, 40))


@register(NB, "unet_hidden", why="It works for other depths and sizes too.", hidden=True)
def unet_hidden(UNet):
    """Depth 3, 6 channels, a non-square input."""
    _check_unet(UNet, channels=6, depth=3, shape=(48, 64))


# --- loss -----------------------------------------------------------------------------------

def loss_summary(segmentation_loss, logits, target, weights) -> dict:
    """What the student's loss gives for ``logits`` (run beside the loss): plain facts only."""
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"  # as the notebook's tensors are
    logits = logits.to(device).clone().requires_grad_(True)
    target, weights = target.to(device), weights.to(device)
    loss = call_student(segmentation_loss, logits, target, weights, what="segmentation_loss")
    scalar = isinstance(loss, torch.Tensor) and loss.ndim == 0
    return {"scalar": scalar, "finite": scalar and bool(torch.isfinite(loss).item()),
            "grad": scalar and bool(loss.requires_grad),
            "value": float(loss.detach()) if scalar else None}


def _loss_value(segmentation_loss, logits, target, weights) -> float:
    """The student's loss as a float, after checking it is a differentiable scalar tensor."""
    seen = call_student(probe, loss_summary, segmentation_loss, logits, target, weights,
                        what="segmentation_loss")
    expect(seen["scalar"], "segmentation_loss should return "
           "one number as a 0-d torch tensor (a mean over pixels), so that .backward() works.")
    expect(seen["finite"], "The loss is not finite (NaN or inf): check divisions "
           "(add a small constant to the Dice denominator).")
    expect(seen["grad"], "The loss has no gradient: compute it from `logits` with torch "
           "operations (no .detach(), .numpy() or .item()).")
    return float(seen["value"])


@register(NB, "loss", why="Weighting makes a missed boundary pixel cost more than a missed "
          "background pixel, so the rare class that separates nuclei is not ignored.")
def loss_check(segmentation_loss):
    """Near zero for confident right answers; boundary mistakes cost more than background ones."""
    import torch

    target = torch.from_numpy(
        np.asarray(probabilities_of(touching_squares()).argmax(0), np.int64))[None]
    weights = torch.tensor([1.0, 1.0, 5.0])
    right = torch.nn.functional.one_hot(target, 3).permute(0, 3, 1, 2).float() * 20 - 10
    expect(_loss_value(segmentation_loss, right, target, weights) < 0.05,
           "Confident, correct logits should give a loss near 0. Does your loss take logits "
           "(cross_entropy applies the softmax itself; apply softmax only for the Dice part)?")
    n = int((target == BOUNDARY).sum())
    miss_boundary, miss_background = right.clone(), right.clone()
    where_b = (target[0] == BOUNDARY).nonzero()[:n]
    where_0 = (target[0] == BACKGROUND).nonzero()[:n]
    for logits, where in ((miss_boundary, where_b), (miss_background, where_0)):
        logits[0, :, where[:, 0], where[:, 1]] = torch.tensor([-10.0, 10.0, -10.0])[:, None]
    cost_b = _loss_value(segmentation_loss, miss_boundary, target, weights)
    cost_0 = _loss_value(segmentation_loss, miss_background, target, weights)
    expect(cost_b > 1.5 * cost_0, "Getting N boundary pixels wrong should cost clearly more "
           "than getting N background pixels wrong when the boundary weight is 5: pass "
           "`class_weights` to the cross-entropy (its `weight=` argument).")
    _loss_against_reference(segmentation_loss)


def reference_loss_parts(logits, target, weights) -> dict[str, float]:
    """Weighted cross-entropy and the soft Dice losses (pooled over the batch or per image)."""
    import torch.nn.functional as F

    ce = float(F.cross_entropy(logits, target, weight=weights))
    prob = logits.softmax(1)
    onehot = F.one_hot(target, logits.shape[1]).permute(0, 3, 1, 2).to(prob.dtype)
    pooled = (2 * (prob * onehot).sum((0, 2, 3)) + 1) / ((prob + onehot).sum((0, 2, 3)) + 1)
    per_image = (2 * (prob * onehot).sum((2, 3)) + 1) / ((prob + onehot).sum((2, 3)) + 1)
    return {"ce": ce, "dice": float(1 - pooled.mean()),
            "dice_per_image": float(1 - per_image.mean())}


def _loss_against_reference(segmentation_loss) -> None:
    """On random logits the loss is cross-entropy + Dice: neither part alone passes."""
    import torch

    rng = np.random.default_rng(44)
    logits = torch.from_numpy(rng.normal(scale=3.0, size=(2, 3, 12, 14)).astype(np.float32))
    target = torch.from_numpy(rng.integers(0, 3, size=(2, 12, 14)))
    weights = torch.tensor([1.0, 2.0, 5.0])
    got = _loss_value(segmentation_loss, logits, target, weights)
    parts = reference_loss_parts(logits, target, weights)
    wants = [parts["ce"] + parts["dice"], parts["ce"] + parts["dice_per_image"]]
    if any(abs(got - want) < 0.01 for want in wants):
        return
    expect(abs(got - parts["ce"]) > 0.01, "On random logits your loss equals the weighted "
           "cross-entropy alone: add the soft Dice loss (1 − Dice, averaged over the classes).")
    expect(min(abs(got - parts["dice"]), abs(got - parts["dice_per_image"])) > 0.01,
           "On random logits your loss equals the Dice loss alone: add the weighted "
           "cross-entropy of the logits.")
    expect(False, "On random logits your loss is not weighted cross-entropy + soft Dice loss. "
           "Check each part: cross_entropy on the raw logits with weight=class_weights; Dice "
           "on the softmax probabilities against the one-hot targets, per class, "
           "(2·overlap + 1) / (sum + 1), then 1 − Dice averaged over the classes.")


@register(NB, "loss_decreases", why="A loss that falls over the first steps is the first sign "
          "that model, targets and optimiser are wired together correctly.")
def loss_decreases(segmentation_loss):
    """Thirty Adam steps of a tiny network on two fields lower the student's loss clearly."""
    losses = call_student(probe, tiny_training, segmentation_loss, what="segmentation_loss")
    expect(losses is not None, "segmentation_loss should return a 0-d tensor computed from "
           "the logits.")
    expect(np.isfinite(losses).all(), "The loss became NaN or inf during training.")
    expect(np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5]), "Training a small network with "
           "your loss for 30 steps did not lower it: check that the loss gets smaller as the "
           "predicted class probabilities move towards the targets (sign, and logits vs. "
           "probabilities).")


def tiny_training(segmentation_loss, steps: int = 30) -> list[float] | None:
    """The losses of ``steps`` Adam steps of a tiny network trained with the student's loss.

    Runs beside the loss (training needs its gradients); None if it returns no 0-d tensor
    with a gradient.
    """
    import torch

    torch.manual_seed(0)
    device = "cuda" if torch.cuda.is_available() else "cpu"  # as the notebook's tensors are
    labels = np.stack([touching_discs(), np.pad(touching_squares(), ((10, 10), (17, 17)))])
    target = torch.from_numpy(np.stack([probabilities_of(lab).argmax(0) for lab in labels]))
    image = (torch.from_numpy((labels > 0).astype(np.float32))[:, None]
             + 0.3 * torch.randn(2, 1, *labels.shape[1:]))
    image, target = image.to(device), target.to(device)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(),
                              torch.nn.Conv2d(8, 8, 3, padding=1), torch.nn.ReLU(),
                              torch.nn.Conv2d(8, 3, 1))
    net = net.to(device)
    optimiser = torch.optim.Adam(net.parameters(), lr=0.02)
    weights = torch.tensor([1.0, 1.0, 5.0], device=device)
    losses = []
    for _ in range(steps):
        loss = call_student(segmentation_loss, net(image), target, weights,
                            what="segmentation_loss")
        if not (isinstance(loss, torch.Tensor) and loss.ndim == 0 and loss.requires_grad):
            return None
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(float(loss.detach()))
    return losses


# --- instances ------------------------------------------------------------------------------

def _instances_of(to_instances, prob: np.ndarray, **settings) -> np.ndarray:
    """The student's instance labels for ``prob``, checked for shape and type."""
    out = np.asarray(call_student(to_instances, prob.copy(), **settings, what="to_instances"))
    expect(out.shape == prob.shape[1:], f"to_instances should return one label per pixel: shape "
           f"{prob.shape[1:]}, got {out.shape}.")
    expect(np.issubdtype(out.dtype, np.integer), "Instance labels should be integers "
           "(0 background, 1, 2, … one per nucleus).")
    return out


def _best_iou(true: np.ndarray, pred: np.ndarray, label: int) -> float:
    """IoU of true object ``label`` with the predicted object overlapping it most."""
    region = true == label
    ids, counts = np.unique(pred[region & (pred > 0)], return_counts=True)
    if not len(ids):
        return 0.0
    best = ids[counts.argmax()]
    return float((region & (pred == best)).sum() / (region | (pred == best)).sum())


@register(NB, "instances", why="Seeds from the confident interior, grown by a watershed over the "
          "foreground, turn three probability maps into separate nuclei — touching ones too.")
def instances_check(to_instances):
    """Touching discs come out as separate instances; an empty map gives no instances."""
    labels = touching_discs()
    out = _instances_of(to_instances, probabilities_of(labels), seed_threshold=0.5,
                        mask_threshold=0.5)
    expect(np.all(out[labels == 0] == 0) or (out[labels == 0] > 0).mean() < 0.02,
           "Background pixels should be 0: keep only pixels whose foreground probability "
           "(interior + boundary) is above mask_threshold.")
    found = len(np.unique(out[out > 0]))
    expect(found != 2, "The two touching discs came out as one object: seed the watershed from "
           "the interior probability only (the boundary between them is not interior).")
    expect(found == 3, f"Expected 3 nuclei (two touching, one apart), found {found}. Each "
           "connected region of interior > seed_threshold should become one seed.")
    ious = [_best_iou(labels, out, k) for k in (1, 2, 3)]
    expect(min(ious) > 0.8, "The nuclei were found but their outlines are off (IoU "
           f"{min(ious):.2f} < 0.8): grow the seeds over the whole foreground (interior + "
           "boundary > mask_threshold) with a watershed, so boundary pixels join a nucleus.")
    empty = np.zeros_like(probabilities_of(labels))
    empty[0] = 1.0
    expect(_instances_of(to_instances, empty, seed_threshold=0.5, mask_threshold=0.5).max() == 0,
           "A field with no nuclei (background probability 1 everywhere) should give no "
           "instances.")


# --- matching AP ----------------------------------------------------------------------------

def _ap_of(average_precision_at, true, pred, threshold) -> float:
    """The student's AP as a float in [0, 1]."""
    value = call_student(average_precision_at, true.copy(), pred.copy(), threshold,
                         what="average_precision_at")
    expect(np.ndim(value) == 0, "average_precision_at should return one number.")
    value = float(value)
    expect(0.0 <= value <= 1.0, f"AP is a fraction TP / (TP + FP + FN); got {value}.")
    return value


def _reference_ap(true, pred, threshold) -> float:
    """cellpose's matching AP for one field."""
    from cellpose.metrics import average_precision

    return float(average_precision(true, pred, threshold=[threshold])[0][0])


@register(NB, "matching_ap", why="AP = TP / (TP + FP + FN) at an IoU threshold counts every "
          "missed, invented, merged or split nucleus: the number to trust for instances.")
def matching_ap_check(average_precision_at):
    """Perfect, missed, merged and shifted toy predictions give cellpose's AP."""
    true = touching_squares()
    expect(np.isclose(_ap_of(average_precision_at, true, true, 0.5), 1.0),
           "A prediction identical to the truth should score AP = 1.")
    missed = np.where(true == 3, 0, true)
    expect(np.isclose(_ap_of(average_precision_at, true, missed, 0.5), 2 / 3),
           "One of three nuclei missed: TP = 2, FN = 1, so AP = 2/3. Count the true nuclei "
           "without a match as FN.")
    merged = np.where(true == 3, 2, 0)
    merged[2:12, 3:19] = 1  # one object over both touching nuclei (and a rim around them)
    expect(np.isclose(_ap_of(average_precision_at, true, merged, 0.5), 1 / 4),
           "Two touching nuclei predicted as one object: that object overlaps each with IoU "
           "0.5 or less, so it matches neither. TP = 1 (the third), FP = 1, FN = 2: AP = 1/4. "
           "Use IoU = intersection / union, and count a match only when IoU > threshold.")
    halves = np.where(true == 3, 0, true)
    halves[12:18, 22:25], halves[12:18, 25:28] = 7, 8  # nucleus 3 cut into two equal halves
    got = call_student(average_precision_at, true.copy(), halves.copy(), 0.5,
                       what="average_precision_at")
    expect(np.ndim(got) == 0, "average_precision_at should return one number.")
    got = float(got)
    expect(got <= 1, f"Your AP is {got:.3g}, above 1: a nucleus cut into two equal halves has "
           "IoU exactly 0.5 with each, and your count matched it twice. Count a match only "
           "when IoU is strictly greater than the threshold (> 0.5 makes matching one-to-one).")
    expect(np.isclose(got, 2 / 5), "A nucleus cut into two equal halves: each half has IoU "
           "exactly 0.5, which is not a match at threshold 0.5 (a match needs IoU > threshold). "
           "So TP = 2, FP = 2, FN = 1 and AP = 2/5.")
    shifted = np.roll(true, 3, axis=1)
    for threshold in (0.5, 0.75):
        expect(np.isclose(_ap_of(average_precision_at, true, shifted, threshold),
                          _reference_ap(true, shifted, threshold)),
               f"For a prediction shifted by 3 pixels your AP at IoU {threshold} differs from "
               "the reference: compute IoU for every pair (true, predicted) of objects and "
               "count pairs above the threshold.")


@register(NB, "matching_ap_hidden", why="It agrees with cellpose's implementation on random "
          "fields.", hidden=True)
def matching_ap_hidden(average_precision_at):
    """Random disc fields: the student's AP equals cellpose's at several thresholds."""
    from skimage.draw import disk

    rng = np.random.default_rng(hidden_seed(3))
    true = np.zeros((80, 80), np.int32)
    pred = np.zeros((80, 80), np.int32)
    for k in range(1, 9):
        centre = rng.integers(10, 70, 2)
        true[disk(tuple(centre), 6, shape=true.shape)] = k
        if k != 4:
            moved = centre + rng.integers(-4, 5, 2)
            pred[disk(tuple(moved), int(rng.integers(4, 8)), shape=pred.shape)] = k + 10
    for threshold in (0.5, 0.7, 0.9):
        expect(np.isclose(_ap_of(average_precision_at, true, pred, threshold),
                          _reference_ap(true, pred, threshold), atol=1e-6),
               f"On random nuclei your AP at IoU {threshold} differs from cellpose's.")


# Interpretation questions (issue 18): what a result means, judged by a salted hash.
from .questions import question  # noqa: E402 - beside the questions it registers

question(NB, "q_weighted_loss", "answer_loss", 4,
         "a2b5c1e999433be7bdcfd2ae4a02423e65cd4fa9f335e3b9e4c973c513545c2c",
         hint=('Count: what share of the target pixels is boundary (class 2)? How much would a'
               ' model that never predicts class 2 lose under an unweighted mean over pixels —'
               ' and what would the watershed then do with two touching nuclei?'),
         why=('A rare class that matters must cost more per pixel, or the easy majority drowns'
              ' it.'))

question(NB, "q_merged_errors", "answer_merged", 4,
         "b83d7832ea3878299e8df04fdb0ebcbe49917462f0e6fa971c2ff4fda7710335",
         hint=('A merge means the seeds of two nuclei ran together. What must the network '
               'predict between two touching nuclei to keep their seeds apart, and how many '
               'pixels does it have for that at the resolution it works at?'),
         why=('Instance errors come from the boundary class; where it is thinnest, it is '
              'learnt last.'))
