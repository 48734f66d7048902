"""The Weka-style pixel classifier: features, simulated strokes, training and instances."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from course_utils.pixel_features import (
    BACKGROUND,
    NUCLEUS,
    draw_scribbles,
    feature_names,
    labelled_pixels,
    normalize,
    pixel_features,
    probability_to_instances,
    scales,
    train_pixel_classifier,
)
from course_utils.segmentation.metrics import matching_ap

SHAPE = (128, 160)


def disks_field(seed: int, n: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """A small fluorescence-like field: bright disks (two of them touching) on noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[: SHAPE[0], : SHAPE[1]]
    labels = np.zeros(SHAPE, np.int32)
    centres = [(30, 30), (30, 50)]  # touching pair
    while len(centres) < n:
        c = rng.uniform(15, np.subtract(SHAPE, 15))
        if all(np.hypot(*(c - np.array(o))) > 26 for o in centres):
            centres.append(tuple(c))
    for i, (cy, cx) in enumerate(centres, start=1):
        labels[((yy - cy) ** 2 + (xx - cx) ** 2 <= 10**2) & (labels == 0)] = i
    brightness = np.concatenate([[0], rng.uniform(300, 800, n)])
    clean = ndi.gaussian_filter(150 + brightness[labels], 1.0)
    image = rng.poisson(clean) + rng.normal(0, 5, SHAPE)
    return np.clip(image, 0, 4095).astype(np.uint16), labels


def test_feature_stack_matches_its_names():
    image = normalize(disks_field(0)[0])
    feats = pixel_features(image)
    names = feature_names()
    assert feats.shape == SHAPE + (len(names),) and feats.dtype == np.float32
    assert len(names) == 4 * len(scales()) + len(scales()) - 1 == 19
    gauss_1, gauss_2 = names.index("gaussian σ=1"), names.index("gaussian σ=2")
    dog = names.index("DoG σ=1−2")
    np.testing.assert_allclose(feats[..., dog], feats[..., gauss_1] - feats[..., gauss_2],
                               atol=1e-6)


def test_bad_scales_and_stacks_are_refused():
    with pytest.raises(ValueError, match="sigma_min"):
        scales(4, 2)
    with pytest.raises(ValueError, match="2-D"):
        normalize(np.zeros((2, 8, 8)))
    with pytest.raises(ValueError, match="2-D"):
        pixel_features(np.zeros((2, 8, 8)))


def test_floor_keeps_a_blank_field_dark():
    noise = np.random.default_rng(1).normal(150, 5, SHAPE)
    assert normalize(noise).max() > 0.9  # stretched: the noise would look like nuclei
    assert normalize(noise, min_span=250).max() < 0.2


def test_strokes_stay_inside_their_class_away_from_edges():
    _, labels = disks_field(2)
    strokes = draw_scribbles(labels, n_strokes=5, margin=2, seed=0)
    assert set(np.unique(strokes)) == {0, BACKGROUND, NUCLEUS}
    to_background = ndi.distance_transform_edt(labels > 0)
    to_nuclei = ndi.distance_transform_edt(labels == 0)
    assert np.all(to_background[strokes == NUCLEUS] > 2)
    assert np.all(to_nuclei[strokes == BACKGROUND] > 2)
    assert len(np.unique(labels[strokes == NUCLEUS])) == 5  # one stroke per chosen nucleus
    assert np.array_equal(strokes, draw_scribbles(labels, n_strokes=5, margin=2, seed=0))
    assert not np.array_equal(strokes, draw_scribbles(labels, n_strokes=5, margin=2, seed=1))


def test_blank_field_gets_background_strokes_only():
    strokes = draw_scribbles(np.zeros(SHAPE, np.int32), seed=0)
    assert set(np.unique(strokes)) == {0, BACKGROUND}


def test_labelled_pixels_takes_only_drawn_pixels():
    feats = np.arange(4 * 5 * 2, dtype=np.float32).reshape(4, 5, 2)
    strokes = np.zeros((4, 5), np.uint8)
    strokes[1, 2], strokes[3, 0] = NUCLEUS, BACKGROUND
    X, y = labelled_pixels(feats, strokes)
    np.testing.assert_array_equal(X, feats[[1, 3], [2, 0]])
    np.testing.assert_array_equal(y, [NUCLEUS, BACKGROUND])
    with pytest.raises(ValueError, match="same pixels"):
        labelled_pixels(feats, strokes[:3])


def test_touching_nuclei_are_split():
    _, labels = disks_field(3)
    pair = np.isin(labels, [1, 2]).astype(np.float32)
    instances = probability_to_instances(pair)
    assert instances.max() == 2


def test_classifier_trained_on_strokes_segments_a_new_field():
    fields = [disks_field(seed) for seed in range(4)]
    train, (test_image, test_labels) = fields[:3], fields[3]
    strokes = [draw_scribbles(labels, n_strokes=6, seed=i) for i, (_, labels) in enumerate(train)]
    clf = train_pixel_classifier([image for image, _ in train], strokes, n_estimators=20)
    probability = clf.probability(test_image)
    assert probability.shape == SHAPE and 0 <= probability.min() <= probability.max() <= 1
    foreground = probability > 0.5
    dice = 2 * np.sum(foreground & (test_labels > 0)) / (foreground.sum() + (test_labels > 0).sum())
    assert dice > 0.9
    assert matching_ap([test_labels], [clf.segment(test_image)]).at(0.5) > 0.85


def test_training_needs_both_classes():
    image, labels = disks_field(4)
    only_nuclei = np.where(draw_scribbles(labels, seed=0) == NUCLEUS, NUCLEUS, 0)
    with pytest.raises(ValueError, match="both"):
        train_pixel_classifier([image], [only_nuclei.astype(np.uint8)], n_estimators=5)
