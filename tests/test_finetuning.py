"""Notebook 06's parts: elastic augmentation, saved runs, pretraining and its shipped weights."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np
import pytest

from course_utils.segmentation.patches import PatchSampler, elastic_deform

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


def test_elastic_deform_bends_image_and_target_together():
    rng = np.random.default_rng(0)
    image = np.zeros((64, 64), np.float32)
    image[20:44, 20:44] = 1.0
    target = (image > 0).astype(np.uint8) * 2
    bent, bent_target = elastic_deform(image, target, rng, alpha=5, sigma=6)
    assert bent.shape == image.shape and bent.dtype == np.float32
    assert bent_target.dtype == target.dtype and set(np.unique(bent_target)) <= {0, 2}
    assert not np.array_equal(bent_target, target)  # it moved …
    assert abs(int((bent_target > 0).sum()) - int((target > 0).sum())) < 0.2 * target.sum() / 2
    assert ((bent > 0.5) == (bent_target > 0)).mean() > 0.97  # … and the image moved with it
    nowhere, _ = elastic_deform(image, target, rng, alpha=0.0)
    assert np.allclose(nowhere, image)


def test_sampler_bends_only_when_asked_and_keeps_04s_draws():
    rng_images = np.random.default_rng(1)
    images = rng_images.random((2, 40, 40)).astype(np.float32)
    targets = (images > 0.5).astype(np.uint8)
    plain = PatchSampler(images, targets, 16)
    bending = PatchSampler(images, targets, 16, elastic=1.0)
    a = plain.batch(3, np.random.default_rng(5))[0].numpy()
    b = PatchSampler(images, targets, 16, elastic=0.0).batch(3, np.random.default_rng(5))[0]
    assert np.array_equal(a, b.numpy())  # elastic off: exactly the draws of notebook 04
    assert not np.array_equal(a, bending.batch(3, np.random.default_rng(5))[0].numpy())


def test_load_or_train_trains_once_then_loads(tmp_path, capsys):
    import torch

    from course_utils.training import load_or_train

    calls = []

    def train(model):
        def run():
            calls.append(1)
            with torch.no_grad():
                model.weight.fill_(3.0)
            return {"loss": [1.0, 0.5]}
        return run

    first = torch.nn.Linear(2, 1)
    results, loaded = load_or_train(tmp_path / "run.pt", first, train(first))
    assert (results, loaded, len(calls)) == ({"loss": [1.0, 0.5]}, False, 1)
    second = torch.nn.Linear(2, 1)
    results, loaded = load_or_train(tmp_path / "run.pt", second, train(second))
    assert loaded and len(calls) == 1 and torch.all(second.weight == 3.0)
    assert not list(tmp_path.glob("*.tmp"))  # written to a temporary file, then renamed
    wider = torch.nn.Linear(3, 1)  # another model under the same name: trained, said so
    _, loaded = load_or_train(tmp_path / "run.pt", wider, train(wider))
    assert not loaded and "does not fit" in capsys.readouterr().out


def test_finished_checkpoint_skips_unfinished_runs(tmp_path, monkeypatch):
    import torch

    from course_utils.training import (
        CHECKPOINT_ENV,
        REFERENCE_RUNS_ENV,
        Checkpoint,
        finished_checkpoint,
    )

    monkeypatch.setenv(CHECKPOINT_ENV, str(tmp_path / "mine"))
    monkeypatch.delenv(REFERENCE_RUNS_ENV, raising=False)
    model = torch.nn.Linear(2, 1)
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
    Checkpoint(tmp_path / "mine" / "04_unet_quick_c8_e6x150x8.pt").save(3, model, optimiser)
    assert finished_checkpoint("04_unet_quick_") is None  # 4 of 6 epochs
    Checkpoint(tmp_path / "mine" / "04_unet_quick_c8_e6x150x8.pt").save(5, model, optimiser)
    found = finished_checkpoint("04_unet_quick_")
    assert found is not None and found.name == "04_unet_quick_c8_e6x150x8.pt"
    assert finished_checkpoint("04_unet_full_") is None


def test_pretraining_script_is_reproducible_and_loads_into_the_unet(tmp_path):
    """Two tiny runs with one seed write identical files; the state dict fits 04's U-Net."""
    import torch

    from course_utils.references.segmentation import UNet

    digests = []
    for run in ("a", "b"):
        out = tmp_path / run / "unet.pt"
        done = subprocess.run([sys.executable, str(ROOT / "scripts" / "pretrain_unet.py"),
                               "--steps", "3", "--n-fields", "2", "--out", str(out)],
                              capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        digests.append(hashlib.sha256(out.read_bytes()).hexdigest())
        assert f"sha256: {digests[-1]}" in done.stdout
    assert digests[0] == digests[1]
    saved = torch.load(out, map_location="cpu", weights_only=True)
    assert saved["recipe"]["steps"] == 3 and saved["recipe"]["source"] == "synthetic"
    UNet(saved["recipe"]["channels"], saved["recipe"]["depth"]).load_state_dict(
        saved["state_dict"])


def test_shipped_pretrained_unet_is_verified_and_fits(monkeypatch, tmp_path):
    from course_utils.data import load_manifest, load_pretrained_unet
    from course_utils.data.pretrained import FILES, NAME
    from course_utils.references.segmentation import UNet

    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COURSE_OFFLINE", "1")  # shipped: never downloaded
    entry = load_manifest().get(NAME).file(FILES["synthetic"])
    assert entry.bundled
    saved = load_pretrained_unet("synthetic")
    recipe = saved["recipe"]
    assert (recipe["source"], recipe["channels"], recipe["depth"]) == ("synthetic", 8, 3)
    UNet(recipe["channels"], recipe["depth"]).load_state_dict(saved["state_dict"])
    with pytest.raises(ValueError, match="ships"):
        load_pretrained_unet("imagenet")


def test_dsb2018_fields_are_cropped_to_one_square():
    from course_utils.pretraining import square_crop

    image, labels = square_crop(np.ones((100, 300), np.uint16), np.ones((100, 300), np.int32),
                                size=128)
    assert image.shape == labels.shape == (128, 128)
    assert labels[100:].max() == 0 and image[100:].min() == 1  # padding: no nuclei invented


def test_full_mode_pretrains_on_generated_nuclei_when_dsb2018_cannot_be_had(monkeypatch, tmp_path,
                                                                            capsys):
    from course_utils.pretraining import pretrain_here
    from course_utils.references.segmentation import UNet

    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("COURSE_DATA_DIRS", raising=False)
    made = pretrain_here(steps=2, n_synthetic=2)
    assert "Pretraining on dsb2018 is not possible here" in capsys.readouterr().out
    assert made["recipe"]["source"] == "synthetic" and made["recipe"]["steps"] == 2
    UNet(made["recipe"]["channels"], made["recipe"]["depth"]).load_state_dict(made["state_dict"])
