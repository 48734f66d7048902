"""Cellpose 4's default pretrained weights (``cpsam_v2``) from the data layer.

Cellpose reads ``$CELLPOSE_LOCAL_MODELS_PATH`` once, when ``cellpose.models`` is imported, and
downloads ``cpsam_v2`` there if it is missing. Pointing it at the folder this layer verified
(a hub's shared mirror, the image's staged copy or the cache) avoids that 1.2 GB download.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

from .fetch import fetch

NAME = "cellpose-cpsam"
WEIGHTS = "cpsam_v2"
ENV = "CELLPOSE_LOCAL_MODELS_PATH"


def cellpose_models_dir(set_env: bool = True) -> Path:
    """The folder holding the verified ``cpsam_v2`` weights; raises DatasetUnavailable.

    With ``set_env`` (the default) it also sets ``$CELLPOSE_LOCAL_MODELS_PATH``: call it
    before ``import cellpose``. It warns when cellpose was imported earlier with another folder;
    passing ``pretrained_model=str(folder / "cpsam_v2")`` to ``CellposeModel`` works either way.
    """
    folder = fetch(NAME, [WEIGHTS])[WEIGHTS].parent
    if set_env:
        os.environ[ENV] = str(folder)
        models = sys.modules.get("cellpose.models")
        if models is not None and Path(models.MODEL_DIR).resolve() != folder.resolve():
            warnings.warn(
                f"cellpose was imported before {ENV} was set, so it looks for its weights in "
                f"{models.MODEL_DIR}, not {folder}. Pass pretrained_model="
                f"'{folder / WEIGHTS}' to CellposeModel, or restart the kernel and call "
                "cellpose_models_dir() before `import cellpose`.", stacklevel=2)
    return folder
