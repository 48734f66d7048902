"""Training conveniences shared by the deep-learning notebooks: a live curve and checkpoints.

The training loop itself stays in the notebooks, where students read it; these helpers only
draw the loss as it falls and make training survive a disconnected kernel.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


class LiveCurve:
    """A loss/metric plot that redraws in place in Jupyter (one figure, updated each epoch)."""

    def __init__(self, title: str = "training", xlabel: str = "epoch") -> None:
        self.title, self.xlabel = title, xlabel
        self.history: dict[str, list[tuple[float, float]]] = {}
        self._handle = None

    def update(self, x: float, **values: float) -> None:
        """Add one point per named series (e.g. ``train=0.3, val=0.4``) and redraw."""
        for name, value in values.items():
            self.history.setdefault(name, []).append((float(x), float(value)))
        self._draw()

    def _draw(self) -> None:
        """Render the figure and show it, replacing the previous drawing."""
        import matplotlib.pyplot as plt
        from IPython.display import display

        fig, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
        for name, points in self.history.items():
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, marker="o", ms=3, label=name)
        ax.set(title=self.title, xlabel=self.xlabel)
        ax.grid(alpha=0.3)
        ax.legend()
        if self._handle is None:
            self._handle = display(fig, display_id=True)
        else:
            self._handle.update(fig)
        plt.close(fig)


CHECKPOINT_ENV = "COURSE_CHECKPOINT_DIR"


def default_checkpoint_dir() -> Path:
    """The user's cache (``COURSE_CACHE_DIR``, else the platform's) ``/checkpoints``.

    Never the working folder: a checkpoint left next to the notebooks (in the repository)
    would make the next run resume instead of train, and would end up committed.
    """
    from .data.locations import cache_dir

    return cache_dir() / "checkpoints"


def checkpoint_path(name: str) -> Path:
    """Where a notebook keeps checkpoint ``name``: ``$COURSE_CHECKPOINT_DIR``, else the cache.

    A folder that can't be written (a read-only shared folder on a hub, a grading sandbox)
    falls back to the user cache, then to a private temporary folder, and says so, rather
    than failing when the first epoch ends.
    """
    from platformdirs import user_cache_dir

    folder = Path(os.environ.get(CHECKPOINT_ENV) or default_checkpoint_dir()).expanduser()
    private = Path(tempfile.gettempdir()) / f"course-utils-checkpoints-{os.getuid()}"
    fallbacks = [Path(user_cache_dir("course-utils", appauthor=False)) / "checkpoints", private]
    usable = next((f for f in [folder, *fallbacks] if _writable(f)
                   and (f != private or private.stat().st_uid == os.getuid())), None)
    if usable is None:
        raise OSError(f"no folder can hold checkpoints: {folder} and {fallbacks} are all "
                      f"read-only. Set {CHECKPOINT_ENV} to a folder you can write to.")
    if usable != folder:
        print(f"Cannot write checkpoints to {folder.resolve()} (read-only?); using {usable}. "
              f"Set {CHECKPOINT_ENV} to choose another folder.")
    return usable / f"{name}.pt"


def _writable(folder: Path) -> bool:
    """True when ``folder`` exists or can be made, and a file can be created in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test").close()
    except OSError:
        return False
    return True


def save_atomically(state: dict, path: Path) -> None:
    """``torch.save`` to a temporary file beside ``path``, then rename it into place."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class Checkpoint:
    """Save model + optimizer state after every epoch, atomically, and resume from it."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    def save(self, epoch: int, model, optimizer, scheduler=None, **extra: object) -> None:
        """Write the state after ``epoch`` to a temporary file, then rename it into place."""
        save_atomically({"epoch": epoch, "model": model.state_dict(),
                         "optimizer": optimizer.state_dict(), "extra": extra,
                         "scheduler": scheduler.state_dict() if scheduler is not None else None},
                        self.path)

    def resume(self, model, optimizer, scheduler=None) -> tuple[int, dict]:
        """Load the last checkpoint if any; return (next epoch to run, extra values saved)."""
        import torch

        if not self.path.exists():
            return 0, {}
        try:
            state = torch.load(self.path, map_location="cpu", weights_only=False)
            model.load_state_dict(state["model"])
        except (RuntimeError, KeyError, EOFError) as exc:
            print(f"Checkpoint {self.path} does not fit this model ({type(exc).__name__}); "
                  "starting from scratch. Delete the file to silence this message.")
            return 0, {}
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None and state.get("scheduler") is not None:
            scheduler.load_state_dict(state["scheduler"])
        print(f"Resumed from {self.path}: epoch {state['epoch'] + 1} already done.")
        return state["epoch"] + 1, state.get("extra", {})

    def clear(self) -> None:
        """Delete the checkpoint (start the next training from scratch)."""
        self.path.unlink(missing_ok=True)


REFERENCE_RUNS_ENV = "COURSE_REFERENCE_RUNS"


def reference_run(name: str) -> Path | None:
    """The finished checkpoint ``name`` of the course's reference run, if one was provided.

    An instructor makes it by running the solution notebook once with ``COURSE_CHECKPOINT_DIR``
    set to a folder, and points ``COURSE_REFERENCE_RUNS`` (read-only is fine) at that folder
    for the class. Nothing is downloaded: without that folder there is no reference run.
    """
    folder = os.environ.get(REFERENCE_RUNS_ENV)
    if not folder:
        return None
    path = Path(folder).expanduser() / f"{name}.pt"
    return path if path.is_file() else None


def finished_checkpoint(prefix: str) -> Path | None:
    """The newest finished run whose checkpoint name starts with ``prefix``, or None.

    Looks in the reference runs (``COURSE_REFERENCE_RUNS``) first, then in this user's
    checkpoint folder. A run name carries its length as ``_e<epochs>x`` (notebook 04's
    ``04_unet_quick_c8_e6x150x8``); a checkpoint counts as finished when its last saved epoch
    is the last of those.
    """
    import re

    import torch

    folders = [os.environ.get(REFERENCE_RUNS_ENV),
               os.environ.get(CHECKPOINT_ENV) or default_checkpoint_dir()]
    found = [p for folder in folders if folder and Path(folder).expanduser().is_dir()
             for p in Path(folder).expanduser().glob(f"{prefix}*.pt")]
    for path in sorted(found, key=lambda p: p.stat().st_mtime, reverse=True):
        epochs = re.search(r"_e(\d+)x", path.name)
        try:
            state = torch.load(path, map_location="cpu", weights_only=False)
        except (RuntimeError, EOFError, OSError):
            continue
        if epochs and state.get("epoch") == int(epochs.group(1)) - 1:
            return path
    return None


def catch_up(checkpoint: Checkpoint, name: str) -> bool:
    """Put the reference run's checkpoint ``name`` where ``checkpoint`` resumes from; say what.

    The file is copied (the reference folder stays untouched), so the training cell then
    "resumes" after the reference run's last epoch and loads its weights in seconds. Returns
    False, and says how to get one, when no reference run is available.
    """
    import shutil

    source = reference_run(name)
    if source is None:
        where = os.environ.get(REFERENCE_RUNS_ENV)
        print(f"No reference run {name}.pt " + (f"in {where}" if where else
              f"({REFERENCE_RUNS_ENV} is not set)") + ": training from where you are. "
              "An instructor provides one by running the solution notebook with "
              f"COURSE_CHECKPOINT_DIR set to the folder {REFERENCE_RUNS_ENV} points to.")
        return False
    checkpoint.path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, checkpoint.path)
    print(f"Catching up: copied the reference run's trained model {source} to "
          f"{checkpoint.path}; the training cell below loads it instead of training.")
    return True


def load_or_train(path: str | os.PathLike, model, train: Callable[[], dict]) -> tuple[dict, bool]:
    """A finished run: load ``model``'s weights and results from ``path``, or train and save.

    For notebooks that train many short runs (a learning curve): each finished run is written
    to its own file (temporary file, then rename), so a kernel that dies halfway loses only
    the run it was in. ``train()`` trains ``model`` in place and returns plain results
    (numbers, lists). Returns (results, True when loaded rather than trained).
    """
    import torch

    path = Path(path)
    if path.exists():
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            model.load_state_dict(state["model"])
            return state["results"], True
        except (RuntimeError, KeyError, EOFError, ValueError) as exc:
            print(f"Saved run {path} does not fit this model ({type(exc).__name__}): training "
                  "it again.")
    results = train()
    save_atomically({"model": model.state_dict(), "results": results}, path)
    return results, False
