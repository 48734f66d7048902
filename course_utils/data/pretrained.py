"""Pretrained weights the course ships: notebook 06's U-Net, pretrained off BBBC039.

The file is made by ``scripts/pretrain_unet.py`` and bundled in the package (its sha256 in
``data_manifest.yaml``, dataset ``unet-pretrained``), so it loads through the data layer like
any dataset: verified, never downloaded, a clear error when the installation lost it.
"""

from __future__ import annotations

from .fetch import fetch

NAME = "unet-pretrained"
FILES = {"synthetic": "unet_synthetic_c8.pt"}  # source -> file in the dataset


def load_pretrained_unet(source: str = "synthetic") -> dict:
    """The pretrained U-Net of ``source``: {"state_dict", "recipe", "final_loss"}.

    ``state_dict`` loads into ``course_utils.references.segmentation.UNet(recipe["channels"],
    recipe["depth"])``; ``recipe`` is the pretraining run's settings (see
    :class:`course_utils.pretraining.Recipe`). Read with ``weights_only=True``:
    tensors and plain values only, nothing is unpickled.
    """
    import torch

    if source not in FILES:
        raise ValueError(f"no pretrained U-Net from {source!r}; the course ships {sorted(FILES)}"
                         " (scripts/pretrain_unet.py makes others)")
    path = fetch(NAME, files=[FILES[source]])[FILES[source]]
    return torch.load(path, map_location="cpu", weights_only=True)
