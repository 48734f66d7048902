"""Pretrain the course's U-Net on another source of nuclei, for notebook 06 to fine-tune.

The source is DSB2018 (many labs, stains and magnifications) where it can be had, or the
course's generated nuclei (:func:`course_utils.data.synthetic_nuclei`): a sim-to-real start,
since no generated field is a BBBC039 field. The network, its targets, its loss and its input
scale are those of notebook 04 (:mod:`course_utils.references.segmentation`), so the weights
load into the notebooks' U-Net. ``scripts/pretrain_unet.py`` is the command line; the file it
writes ships in the package (``data_manifest.yaml``, dataset ``unet-pretrained``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

SOURCES = ("synthetic", "dsb2018")
SYNTHETIC_SEED = 50_000  # far from the seeds of the generated stand-ins for BBBC039's splits
DSB_CROP = 256  # DSB2018 fields differ in size: each is cropped (or padded) to this square


@dataclass(frozen=True)
class Recipe:
    """Everything that decides a pretraining run; saved with the weights."""

    source: str = "synthetic"
    steps: int = 3000
    seed: int = 0
    n_fields: int = 48
    channels: int = 8
    depth: int = 3
    scale: int = 2  # as notebook 04: half resolution
    patch: int = 96
    batch: int = 8
    learning_rate: float = 5e-3
    class_weights: tuple[float, float, float] = (1.0, 1.0, 5.0)


@dataclass
class Pretrained:
    """The trained state dict, the recipe and what the run measured."""

    state_dict: dict
    recipe: Recipe
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0


def source_fields(recipe: Recipe):
    """The pretraining fields of ``recipe.source``: (images, labels), each a list of arrays."""
    if recipe.source == "synthetic":
        from .data import synthetic_nuclei

        fields = synthetic_nuclei(recipe.n_fields, seed=SYNTHETIC_SEED + recipe.seed)
        return list(fields.images), list(fields.labels)
    if recipe.source == "dsb2018":
        from .data import load_dsb2018

        fields = load_dsb2018("train", n=recipe.n_fields)
        pairs = [square_crop(im, lab) for im, lab in zip(fields.images, fields.labels,
                                                         strict=True)]
        return [p[0] for p in pairs], [p[1] for p in pairs]
    raise ValueError(f"unknown pretraining source {recipe.source!r}; use one of {SOURCES}")


def square_crop(image: np.ndarray, labels: np.ndarray,
                size: int = DSB_CROP) -> tuple[np.ndarray, np.ndarray]:
    """The top-left ``size`` × ``size`` of a field, reflect-padded (labels: zero) where smaller."""
    pad = [(0, max(0, size - n)) for n in image.shape]
    image = np.pad(image, pad, mode="reflect")[:size, :size]
    return image, np.pad(labels, pad)[:size, :size]


def pretrain(recipe: Recipe, device=None, progress: bool = True) -> Pretrained:
    """Train the reference U-Net from scratch on the source fields with ``recipe``."""
    import torch
    from tqdm.auto import tqdm

    from .imaging import min_span_of
    from .references.segmentation import UNet, segmentation_loss, three_class_targets
    from .segmentation.fields import prepare_images, prepare_targets
    from .segmentation.patches import PatchSampler

    images, labels = source_fields(recipe)
    x = prepare_images(images, recipe.scale, min_span_of(np.stack(images)))
    y = prepare_targets(labels, recipe.scale, three_class_targets)
    sampler = PatchSampler(x, y, recipe.patch, elastic=0.5)
    torch.manual_seed(recipe.seed)
    rng = np.random.default_rng(recipe.seed)
    device = device or torch.device("cpu")
    model = UNet(recipe.channels, recipe.depth).to(device)
    weights = torch.tensor(recipe.class_weights, device=device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=recipe.learning_rate,
                                  weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=recipe.learning_rate,
                                                   total_steps=recipe.steps, pct_start=0.15)
    losses, started = [], time.perf_counter()
    model.train()
    for _ in tqdm(range(recipe.steps), desc=f"pretraining on {recipe.source}",
                  disable=not progress):
        batch, target = sampler.batch(recipe.batch, rng)
        loss = segmentation_loss(model(batch.to(device)), target.to(device), weights)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        losses.append(float(loss))
    state = {name: value.detach().cpu() for name, value in model.state_dict().items()}
    return Pretrained(state, recipe, losses, time.perf_counter() - started)


def pretrain_here(device=None, steps: int = 6000, n_synthetic: int = Recipe.n_fields) -> dict:
    """Pretrain now, on DSB2018 when it can be had, else on generated nuclei (said which).

    For notebook 06's full mode (a GPU: a few minutes). Returns what
    :func:`course_utils.data.load_pretrained_unet` returns: state dict, recipe, final loss.
    """
    from dataclasses import asdict

    from .data import DatasetUnavailable

    for recipe in (Recipe(source="dsb2018", steps=steps, n_fields=400),
                   Recipe(source="synthetic", steps=steps, n_fields=n_synthetic)):
        try:
            made = pretrain(recipe, device)
        except DatasetUnavailable as exc:
            print(f"Pretraining on {recipe.source} is not possible here ({exc.what}); "
                  "pretraining on generated nuclei instead.")
            continue
        tail = made.losses[-100:]
        return {"state_dict": made.state_dict, "recipe": asdict(made.recipe),
                "final_loss": sum(tail) / len(tail)}
    raise AssertionError("unreachable: generated nuclei are always available")
