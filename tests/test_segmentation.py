"""Notebook 04's segmentation helpers and checks: fields, patches, prediction, errors, tuning.

The checks run against the notebook's own answer cells (read from its source) and against the
typical mistakes of tests/fixtures/mistakes/04_unet_segmentation.yaml, without nbgrader.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from check_harness import NotebookChecks

from course_utils.checks import Checker
from course_utils.checks.segmentation import probabilities_of, touching_discs, touching_squares
from course_utils.segmentation.errors import classify_errors, error_overlay, match, overlap_table
from course_utils.segmentation.fields import (
    downscale,
    downscale_labels,
    prepare_images,
    prepare_targets,
)
from course_utils.segmentation.patches import PatchSampler, augment
from course_utils.segmentation.tuning import tune_settings

ROOT = Path(__file__).resolve().parents[1]
NB = "04_unet_segmentation"
CHECKS = NotebookChecks(NB)


@pytest.fixture(scope="module")
def answers() -> dict[str, str]:
    """The notebook's answer cells (the solutions), keyed by grade_id."""
    return {gid: cell.source for gid, cell in CHECKS.answers.items()}


@pytest.fixture(scope="module")
def solved_once() -> dict:
    """A namespace with every answer of the notebook run (tests/check_harness.py)."""
    return CHECKS.namespace()


@pytest.fixture
def solved(solved_once) -> dict:
    """That namespace, for one test to add to."""
    return dict(solved_once)


# --- checks against the solutions and the typical mistakes ---------------------------------

def test_summary_catches_an_answer_overwritten_later(solved, capsys, monkeypatch):
    """check.all() re-runs the checks: a name redefined after its check passed is caught."""
    monkeypatch.setenv("COURSE_MODE", "quick")
    ns = solved
    check = Checker(NB, ns)
    check("targets", quiet=True)
    exec("def three_class_targets(labels):\n    return (labels > 0).astype(np.uint8)", ns)
    check.all()
    out = capsys.readouterr().out
    assert "✗ targets" in out and "passed earlier" in out, out


def test_unet_with_swapped_concatenation_order_passes(answers):
    """[upsampled, skip] is as good as [skip, upsampled]: the check must not insist on one."""
    code = answers["unet"].replace("torch.cat([skips[level], self.up[level](x)], dim=1)",
                                   "torch.cat([self.up[level](x), skips[level]], dim=1)")
    assert code != answers["unet"]
    ns = CHECKS.namespace({"unet": code})
    Checker(NB, ns, strict=True)("unet", quiet=True)  # raises CheckFailed if not


def test_ap_check_agrees_with_cellpose_on_the_toy_cases(solved):
    from cellpose.metrics import average_precision

    ns = solved
    true = touching_squares()
    pred = np.where(true == 3, 0, true)
    assert np.isclose(ns["average_precision_at"](true, pred, 0.5),
                      average_precision(true, pred, threshold=[0.5])[0][0])
    assert ns["average_precision_at"](np.zeros((4, 4), int), np.zeros((4, 4), int), 0.5) == 1.0


# --- fields and patches ----------------------------------------------------------------------

def test_downscale_averages_blocks_and_drops_the_ragged_edge():
    image = np.arange(30, dtype=np.uint16).reshape(5, 6)
    small = downscale(image, 2)
    assert small.shape == (2, 3) and small.dtype == np.float32
    assert small[0, 0] == np.mean([0, 1, 6, 7])
    labels = np.array([[0, 0, 3, 3], [0, 5, 3, 3], [7, 7, 0, 0]])
    assert downscale_labels(labels, 2).tolist() == [[0, 3]]
    assert downscale(image, 1).shape == image.shape


def test_prepare_images_floors_the_range_of_a_blank_field():
    rng = np.random.default_rng(0)
    blank = rng.normal(150, 5, (40, 60)).astype(np.uint16)
    bright = blank.copy()
    bright[10:20, 10:20] = 1150
    out = prepare_images([blank, bright], 2, min_span=250.0)
    assert out.shape == (2, 20, 30)
    assert out[0].max() < 0.2, "a blank field's noise must not be stretched to 1"
    assert 0.8 < out[1].max() < 1.2


def test_prepare_targets_uses_the_given_class_function(solved):
    ns = solved
    labels = np.stack([np.kron(touching_squares(), np.ones((2, 2), int))] * 2)
    maps = prepare_targets(labels, 2, ns["three_class_targets"])
    assert maps.shape == (2, 20, 30) and maps.dtype == np.uint8
    assert np.array_equal(maps[0], ns["three_class_targets"](touching_squares()))


def test_augment_moves_image_and_target_together():
    rng = np.random.default_rng(0)
    image = np.arange(64, dtype=np.float32).reshape(8, 8)
    for _ in range(20):
        aug_image, aug_target = augment(image, image.astype(np.int64), rng, gain=(1, 1),
                                        offset=(0, 0))
        assert np.array_equal(aug_image, aug_target)
    jittered, _ = augment(image, image, rng, gain=(2, 2), offset=(0.5, 0.5))
    assert np.array_equal(np.sort(jittered.ravel()), np.sort(image.ravel()) * 2 + 0.5)
    assert jittered.dtype == np.float32 and jittered.flags["C_CONTIGUOUS"]


def test_patch_sampler_batches_are_reproducible_and_well_shaped():
    rng_data = np.random.default_rng(1)
    images = rng_data.random((3, 40, 50), dtype=np.float32)
    targets = rng_data.integers(0, 3, (3, 40, 50)).astype(np.uint8)
    sampler = PatchSampler(images, targets, 16)
    x, y = sampler.batch(4, np.random.default_rng(5))
    x2, y2 = sampler.batch(4, np.random.default_rng(5))
    assert tuple(x.shape) == (4, 1, 16, 16) and tuple(y.shape) == (4, 16, 16)
    assert str(x.dtype) == "torch.float32" and str(y.dtype) == "torch.int64"
    assert (x == x2).all() and (y == y2).all()
    with pytest.raises(ValueError, match="larger than the fields"):
        PatchSampler(images, targets, 64)
    with pytest.raises(ValueError, match="same shape"):
        PatchSampler(images, targets[:2], 16)


def test_predict_probabilities_returns_full_resolution_probabilities(solved):
    import torch

    from course_utils.segmentation.predict import predict_probabilities

    ns = solved
    torch.manual_seed(0)
    model = ns["UNet"](channels=4, depth=2)
    image = np.random.default_rng(0).integers(100, 900, (45, 70)).astype(np.uint16)
    prob = predict_probabilities(model, image, factor=2, min_span=200.0, multiple=4)
    assert prob.shape == (3, 45, 70) and prob.dtype == np.float32
    assert np.allclose(prob.sum(0), 1.0, atol=1e-5)
    assert np.all(prob[0, 44, :] == 1.0), "the row cut off by downscaling counts as background"



def test_test_time_augmentation_makes_predictions_symmetric(solved):
    """With TTA, mirroring or turning the field mirrors or turns the probabilities exactly."""
    import torch

    from course_utils.segmentation.predict import predict_probabilities

    ns = solved
    torch.manual_seed(0)
    model = ns["UNet"](channels=4, depth=2)
    image = np.random.default_rng(1).integers(100, 900, (48, 64)).astype(np.uint16)

    def predict(im, tta):
        return predict_probabilities(model, np.ascontiguousarray(im), factor=2, min_span=200.0,
                                     multiple=4, tta=tta)

    plain, averaged = predict(image, False), predict(image, True)
    assert averaged.shape == plain.shape and np.allclose(averaged.sum(0), 1.0, atol=1e-5)
    assert not np.allclose(predict(image[:, ::-1], False), plain[:, :, ::-1], atol=1e-4), \
        "an untrained network is not symmetric by itself"
    assert np.allclose(predict(image[:, ::-1], True), averaged[:, :, ::-1], atol=1e-5)
    assert np.allclose(predict(np.rot90(image), True), np.rot90(averaged, axes=(1, 2)),
                       atol=1e-5)

# --- errors by kind and tuning ---------------------------------------------------------------

def test_errors_are_sorted_by_kind():
    true = touching_squares()
    pred = np.zeros_like(true)
    pred[2:12, 3:19] = 1  # covers nuclei 1 and 2: a merge
    pred[17:20, 0:3] = 2  # nothing there: false
    errors = classify_errors(true, pred)
    assert errors.counts() == {"missed": 1, "false": 1, "merged": 2, "split": 0}
    assert sorted(errors.merged) == [1, 2] and errors.missed == [3]

    split = np.where(true == 1, 0, true)
    split[3:11, 3:6], split[3:11, 6:9], split[3:11, 9:11] = 4, 5, 6  # nucleus 1 in 3 pieces
    errors = classify_errors(true, split)
    assert errors.counts() == {"missed": 1, "false": 0, "merged": 0, "split": 3}
    assert sorted(p for _, p in errors.matched) == [2, 3]


def test_matching_agrees_with_cellpose_counts():
    from cellpose.metrics import average_precision

    true = touching_discs()
    pred = np.roll(true, 4, axis=1)
    for threshold in (0.5, 0.7, 0.9):
        tp = average_precision(true, pred, threshold=[threshold])[1][0]
        assert len(match(overlap_table(true, pred), threshold)) == tp


def test_error_overlay_is_an_rgb_picture():
    true = touching_squares()
    rgb = error_overlay(true.astype(float), true, np.where(true == 3, 0, true),
                        classify_errors(true, np.where(true == 3, 0, true)))
    assert rgb.shape == (*true.shape, 3) and 0 <= rgb.min() and rgb.max() <= 1


def test_tune_settings_picks_the_best_grid_point(solved):
    ns = solved
    labels = touching_discs()
    prob = probabilities_of(labels)
    best, tried = tune_settings([prob], [labels], ns["to_instances"],
                                {"seed_threshold": [0.1, 0.5], "mask_threshold": [0.5]})
    assert best == {"seed_threshold": 0.5, "mask_threshold": 0.5}
    assert tried[0][1] == 1.0 and tried[-1][1] < 1.0 and len(tried) == 2
    with pytest.raises(ValueError, match="as many"):
        tune_settings([prob], [], ns["to_instances"], {"seed_threshold": [0.5]})


# --- Cellpose without weights, checkpoints ---------------------------------------------------

def test_cellpose_loader_says_why_when_the_weights_are_missing(monkeypatch, tmp_path):
    from course_utils.segmentation.generalist import load_cellpose

    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("COURSE_DATA_DIRS", "")
    model, why = load_cellpose()
    assert model is None and "cellpose-cpsam" in why and "Fix" in why


def test_ideal_flows_lead_back_to_the_nuclei():
    from course_utils.segmentation.generalist import ideal_flows, masks_from_flows
    from course_utils.segmentation.metrics import matching_ap

    labels = touching_discs()
    flows, cellprob = ideal_flows(labels)
    assert flows.shape == (2, *labels.shape) and cellprob.shape == labels.shape
    assert matching_ap([labels], [masks_from_flows(flows, cellprob)], [0.5]).at(0.5) == 1.0


def test_checkpoint_path_honours_the_environment_and_unwritable_folders(monkeypatch, tmp_path,
                                                                        capsys):
    from course_utils.training import CHECKPOINT_ENV, checkpoint_path

    monkeypatch.delenv(CHECKPOINT_ENV, raising=False)  # default: the cache, never the cwd
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache_dir"))
    monkeypatch.chdir(tmp_path)
    assert checkpoint_path("run") == tmp_path / "cache_dir" / "checkpoints" / "run.pt"
    assert not (tmp_path / "checkpoints").exists()
    monkeypatch.setenv(CHECKPOINT_ENV, str(tmp_path / "ck"))
    assert checkpoint_path("run") == tmp_path / "ck" / "run.pt"
    (tmp_path / "a_file").write_text("not a folder")
    monkeypatch.setenv(CHECKPOINT_ENV, str(tmp_path / "a_file" / "ck"))  # cannot be created
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = checkpoint_path("run")
    assert path.parent.is_dir() and tmp_path / "a_file" not in path.parents
    assert "Cannot write checkpoints" in capsys.readouterr().out
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "a_file" / "cache"))  # nor this one
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    assert checkpoint_path("run").parent.parent == tmp_path / "tmp"  # a private temporary one
    assert "Cannot write checkpoints" in capsys.readouterr().out
