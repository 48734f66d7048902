"""Pretrain the course U-Net for notebook 06 and write the weights the package ships.

Trains notebook 04's U-Net (``course_utils.references.segmentation.UNet``, 8 channels, depth 3)
from scratch on fields that are *not* BBBC039 — the course's generated nuclei (default) or
DSB2018 where it can be had — with notebook 04's targets, loss and half-resolution input
(:mod:`course_utils.pretraining`). The file holds the state dict, the recipe and
the last losses; the command prints its sha256 and size for ``data_manifest.yaml`` (dataset
``unet-pretrained``).

    .venv/bin/python scripts/pretrain_unet.py                      # the shipped file
    .venv/bin/python scripts/pretrain_unet.py --source dsb2018 --out /tmp/unet_dsb2018_c8.pt

The same recipe and seed give the same file on the same machine and torch build (CPU,
deterministic kernels); another CPU or torch version gives equally good, not identical, weights.
"""

from __future__ import annotations

import argparse
import hashlib
from dataclasses import asdict
from pathlib import Path

from course_utils.pretraining import SOURCES, Recipe, pretrain

BUNDLED = Path(__file__).resolve().parents[1] / "course_utils/data/bundled/unet-pretrained"


def main(argv: list[str] | None = None) -> None:
    """Parse the recipe from the command line, pretrain, save, print the manifest entry."""
    import torch

    default = Recipe()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", choices=SOURCES, default=default.source)
    parser.add_argument("--steps", type=int, default=default.steps)
    parser.add_argument("--seed", type=int, default=default.seed)
    parser.add_argument("--n-fields", type=int, default=default.n_fields)
    parser.add_argument("--out", type=Path, help="default: the bundled file of this source")
    args = parser.parse_args(argv)
    recipe = Recipe(source=args.source, steps=args.steps, seed=args.seed,
                    n_fields=args.n_fields)
    out = args.out or BUNDLED / f"unet_{recipe.source}_c{recipe.channels}.pt"
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(min(torch.get_num_threads(), 2))  # same reductions on every run
    result = pretrain(recipe)
    tail = result.losses[-100:]
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": result.state_dict, "recipe": asdict(recipe),
                "final_loss": sum(tail) / len(tail)}, out)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    print(f"{recipe.steps} steps in {result.seconds:.0f} s, loss over the last {len(tail)} "
          f"steps {sum(tail) / len(tail):.3f}; wrote {out}")
    print(f"  - {{path: {out.name}, sha256: {digest}, size: {out.stat().st_size}, bundled: true}}")


if __name__ == "__main__":
    main()
