"""Checks that can't be passed wrongly or failed rightly (issue 15).

For each check changed there: a typical wrong-but-plausible answer fails with a hint that
teaches, and a valid alternative implementation passes — judged inline and through the
grader's remote namespace (the "kernel" is this process, as in test_remote_checks.py), so both
paths give the same verdict. tests/fixtures/mistakes/ repeats the wrong answers through real
kernels in test_grading.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.checks import agent
from course_utils.checks.core import judge, load_checks, set_grading_secret
from course_utils.checks.remote import Channel, RemoteNamespace


@pytest.fixture
def verdict(monkeypatch):
    """judge(check) on ``names`` inline and remotely; both must agree; returns (passed, msg)."""
    kernel: dict = {}
    monkeypatch.setattr(agent, "_namespace", lambda: kernel)

    def run(notebook: str, check: str, names: dict) -> tuple[bool, str]:
        spec = load_checks(notebook)[check]
        inline = judge(spec, dict(names))
        kernel.clear()
        kernel.update(names)
        remote = judge(spec, RemoteNamespace(Channel(agent.serve)))
        assert remote == inline, (remote, inline)
        return inline

    return run


# --- 01 Ex 6: homogeneity_score's argument order ---------------------------------------------

def _scores_over_seeds(swap: bool, via_loop: bool = True):
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, homogeneity_score
    from sklearn.metrics.cluster import homogeneity_completeness_v_measure

    def scores_over_seeds(X, y, seeds):
        aris, homs = [], []
        for seed in seeds:
            labels = KMeans(n_clusters=10, init="k-means++", n_init=1,
                            random_state=seed).fit(X).labels_
            aris.append(adjusted_rand_score(labels, y))  # symmetric: either order is right
            if via_loop:
                homs.append(homogeneity_score(labels, y) if swap else homogeneity_score(y, labels))
            else:
                homs.append(homogeneity_completeness_v_measure(y, labels)[0])
        return aris, homs

    return scores_over_seeds


def test_01_homogeneity_with_swapped_arguments_fails(verdict):
    passed, hint = verdict("01_kmeans", "digits_scores",
                           {"scores_over_seeds": _scores_over_seeds(swap=True)})
    assert not passed and "completeness" in hint and "not symmetric" in hint


@pytest.mark.parametrize("via_loop", [True, False])
def test_01_homogeneity_alternatives_pass(verdict, via_loop):
    passed, hint = verdict("01_kmeans", "digits_scores",
                           {"scores_over_seeds": _scores_over_seeds(False, via_loop)})
    assert passed, hint


# --- 02 baseline and cv_unscaled: recomputed from data the check loads -----------------------

def _cancer():
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(return_X_y=True)


def test_02_baseline_is_recomputed(verdict):
    from sklearn.dummy import DummyClassifier
    from sklearn.model_selection import cross_val_score

    X, y = _cancer()
    right = cross_val_score(DummyClassifier(strategy="most_frequent"), X, y, cv=10).mean()
    assert verdict("02_svm", "baseline", {"baseline_acc": right})[0]
    assert verdict("02_svm", "baseline", {"baseline_acc": float(np.mean(y == 1))})[0]  # same rate
    for guess in (0.63, 0.62, 0.64):  # a typed-in number in the old range no longer passes
        passed, hint = verdict("02_svm", "baseline", {"baseline_acc": guess})
        assert not passed and "most common class" in hint
    passed, hint = verdict("02_svm", "baseline", {"baseline_acc": 1 - right})
    assert not passed and "rarer" in hint


def _scaling_names(cv_unscaled):
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    X, y = _cancer()
    model = make_pipeline(StandardScaler(), SVC())
    return {"cv_unscaled": cv_unscaled, "scaled_model": model,
            "cv_scaled": cross_val_score(model, X, y, cv=10).mean()}


def test_02_cv_unscaled_is_recomputed(verdict):
    from sklearn.model_selection import cross_val_score
    from sklearn.svm import SVC

    X, y = _cancer()
    right = cross_val_score(SVC(), X, y, cv=10).mean()
    assert verdict("02_svm", "scaling", _scaling_names(right))[0]
    passed, hint = verdict("02_svm", "scaling",
                           _scaling_names(SVC().fit(X, y).score(X, y)))  # training accuracy
    assert not passed and "trained on" in hint
    for guess in (0.91, 0.92):  # inside the old accepted range
        passed, hint = verdict("02_svm", "scaling", _scaling_names(guess))
        assert not passed and "10-fold accuracy" in hint


def _confusion_names(pair, cm_transform=lambda cm: cm):
    from sklearn.datasets import load_digits
    from sklearn.metrics import confusion_matrix
    from sklearn.svm import SVC

    X, y = load_digits(return_X_y=True)
    half = len(X) // 2
    model = SVC(gamma=0.001).fit(X[:half], y[:half])
    cm = confusion_matrix(y[half:], model.predict(X[half:]))
    return cm, {"cm": cm_transform(cm), "most_confused": pair(cm), "digits_model": model,
                "X_digits_test": X[half:], "y_digits_test": y[half:]}


def _argmax_pair(cm):
    off = cm - np.diag(np.diag(cm))
    return tuple(int(v) for v in np.unravel_index(off.argmax(), off.shape))


def test_02_most_confused_must_be_the_pair(verdict):
    cm, names = _confusion_names(_argmax_pair)
    assert verdict("02_svm", "confusion", names)[0]
    alternative = dict(names, most_confused=np.array(_argmax_pair(cm)))  # an array pair
    assert verdict("02_svm", "confusion", alternative)[0]
    off = cm - np.diag(np.diag(cm))
    for wrong in (int(off.max()), int(off.argmax())):  # the count, or the flat index
        passed, hint = verdict("02_svm", "confusion", dict(names, most_confused=wrong))
        assert not passed and "pair of digits" in hint
    t, p = _argmax_pair(cm)
    if cm[p, t] < off.max():
        passed, hint = verdict("02_svm", "confusion", dict(names, most_confused=(p, t)))
        assert not passed and "wrong way round" in hint


# --- 03 Ex 6: 0/1 classes get a hint about the labels ---------------------------------------

def test_03_zero_one_classes_get_a_label_hint(verdict):
    def shifted(features, scribbles):
        drawn = scribbles > 0
        return features[drawn], scribbles[drawn].astype(int) - 1

    def via_nonzero(features, scribbles):
        rows, cols = np.nonzero(scribbles)
        return features[rows, cols], scribbles[rows, cols]

    passed, hint = verdict("03_cross_validation", "sparse_labels",
                           {"pixels_from_scribbles": shifted})
    assert not passed and "1 (background) and 2 (nucleus)" in hint and "unlabelled" not in hint
    passed, hint = verdict("03_cross_validation", "sparse_labels",
                           {"pixels_from_scribbles": via_nonzero})
    assert passed, hint


# --- 04 loss: neither part alone; 04 strict matching ----------------------------------------

def _losses():
    import torch.nn.functional as F

    def dice_loss(logits, target):
        prob = logits.softmax(dim=1)
        onehot = F.one_hot(target, logits.shape[1]).permute(0, 3, 1, 2).to(prob.dtype)
        overlap = (prob * onehot).sum(dim=(0, 2, 3))
        total = (prob + onehot).sum(dim=(0, 2, 3))
        return (1 - (2 * overlap + 1.0) / (total + 1.0)).mean()

    def full(logits, target, class_weights):
        return F.cross_entropy(logits, target, weight=class_weights) + dice_loss(logits, target)

    def moved(logits, target, class_weights):  # the old solution: weights moved explicitly
        ce = F.cross_entropy(logits, target, weight=class_weights.to(logits.device))
        return ce + dice_loss(logits, target)

    def ce_only(logits, target, class_weights):
        return F.cross_entropy(logits, target, weight=class_weights)

    def dice_only(logits, target, class_weights):
        return dice_loss(logits, target) * 3

    return full, moved, ce_only, dice_only


def test_04_loss_needs_both_parts(verdict):
    pytest.importorskip("torch")
    full, moved, ce_only, dice_only = _losses()
    for good in (full, moved):
        passed, hint = verdict("04_unet_segmentation", "loss", {"segmentation_loss": good})
        assert passed, hint
    passed, hint = verdict("04_unet_segmentation", "loss", {"segmentation_loss": ce_only})
    assert not passed and "cross-entropy alone" in hint
    passed, hint = verdict("04_unet_segmentation", "loss", {"segmentation_loss": dice_only})
    assert not passed and "Dice" in hint


def _ap(strict: bool):
    def average_precision_at(true, pred, threshold=0.5):
        true_ids = [i for i in np.unique(true) if i]
        pred_ids = [j for j in np.unique(pred) if j]
        iou = np.array([[np.sum((true == i) & (pred == j)) / np.sum((true == i) | (pred == j))
                         for j in pred_ids] for i in true_ids]).reshape(len(true_ids), -1)
        tp = int((iou > threshold).sum() if strict else (iou >= threshold).sum())
        total = len(true_ids) + len(pred_ids) - tp
        return tp / total if total else 1.0

    return average_precision_at


def test_04_matching_must_be_strict(verdict):
    passed, hint = verdict("04_unet_segmentation", "matching_ap",
                           {"average_precision_at": _ap(strict=False)})
    assert not passed and "strictly greater" in hint
    passed, hint = verdict("04_unet_segmentation", "matching_ap",
                           {"average_precision_at": _ap(strict=True)})
    assert passed, hint


@pytest.mark.parametrize("secret", [None, "batch-a", "batch-b"])
def test_04_hidden_matching_passes_a_right_answer_for_any_seed(verdict, secret):
    set_grading_secret(secret)
    try:
        passed, hint = verdict("04_unet_segmentation", "matching_ap_hidden",
                               {"average_precision_at": _ap(strict=True)})
    finally:
        set_grading_secret(None)
    assert passed, hint


# --- 04/05: hidden checks are marked hidden ---------------------------------------------------

@pytest.mark.parametrize("notebook", ["03_cross_validation", "04_unet_segmentation",
                                      "05_autoencoder_umap", "06_finetuning"])
def test_checks_named_hidden_are_registered_hidden(notebook):
    for name, spec in load_checks(notebook).items():
        assert spec.hidden == name.endswith("_hidden"), name


# --- answer-safe checks (issue 15, item 4): stored expected outputs, not reference code -------

def _assign(distance: str):
    def assign_clusters(X, centroids):
        diff = X[:, None, :] - centroids[None]
        if distance == "l1":
            return np.abs(diff).sum(-1).argmin(1)
        if distance == "farthest":
            return (diff**2).sum(-1).argmax(1)
        if distance == "loop":  # one point at a time, the plain Euclidean norm
            return np.array([int(np.argmin(np.linalg.norm(centroids - x, axis=1))) for x in X])
        from sklearn.metrics import pairwise_distances_argmin

        return pairwise_distances_argmin(X, centroids)

    return assign_clusters


@pytest.mark.parametrize("distance", ["loop", "sklearn"])
def test_01_assign_alternatives_pass(verdict, distance):
    passed, hint = verdict("01_kmeans", "assign_step", {"assign_clusters": _assign(distance)})
    assert passed, hint


@pytest.mark.parametrize(("distance", "hint_part"), [("l1", "squared *Euclidean* distance"),
                                                     ("farthest", "smallest or the largest")])
def test_01_assign_mistakes_fail_with_their_hint(verdict, distance, hint_part):
    passed, hint = verdict("01_kmeans", "assign_step", {"assign_clusters": _assign(distance)})
    assert not passed and hint_part in hint


def _rbf(kind: str):
    def rbf_kernel(A, B, gamma):
        from scipy.spatial.distance import cdist

        if kind == "sklearn":
            from sklearn.metrics.pairwise import rbf_kernel as sk_rbf

            return sk_rbf(A, B, gamma=gamma)
        d = cdist(A, B)
        return np.exp(-gamma * (d if kind == "plain" else d**2))

    return rbf_kernel


def test_02_rbf_kernel_alternatives_pass_and_the_plain_distance_fails(verdict):
    for kind in ("cdist", "sklearn"):
        passed, hint = verdict("02_svm", "rbf_kernel", {"rbf_kernel": _rbf(kind)})
        assert passed, (kind, hint)
    passed, hint = verdict("02_svm", "rbf_kernel", {"rbf_kernel": _rbf("plain")})
    assert not passed and "*squared* distance" in hint


def _nested(kind: str):
    def nested_cv_scores(model, param_grid, X, y, inner_cv, outer_cv):
        from sklearn.model_selection import GridSearchCV, cross_val_score, cross_validate

        search = GridSearchCV(model, param_grid, cv=inner_cv)
        if kind == "leaked":
            return cross_val_score(search.fit(X, y).best_estimator_, X, y, cv=outer_cv)
        if kind == "by_hand":  # the outer loop written out
            return [GridSearchCV(model, param_grid, cv=inner_cv).fit(X[tr], y[tr])
                    .score(X[te], y[te]) for tr, te in outer_cv.split(X, y)]
        return cross_validate(search, X, y, cv=outer_cv)["test_score"]

    return nested_cv_scores


@pytest.mark.parametrize("check", ["nested_cv", "nested_cv_hidden"])
def test_03_nested_cv_alternatives_pass_and_leaking_fails(verdict, check):
    for kind in ("cross_validate", "by_hand"):
        passed, hint = verdict("03_cross_validation", check, {"nested_cv_scores": _nested(kind)})
        assert passed, (kind, hint)
    passed, hint = verdict("03_cross_validation", check, {"nested_cv_scores": _nested("leaked")})
    assert not passed and "chosen on all the data" in hint


# --- hidden checks draw their inputs from the grader's seed (issue 15, item C) ----------------

HIDDEN_03 = {"kfold_by_hand_hidden": "kfold_by_hand", "confusion_counts_hidden": "confusion_counts",
             "rates_hidden": "rates", "operating_point_hidden": "operating_point",
             "grouped_folds_hidden": "grouped_folds", "sparse_labels_hidden": "sparse_labels",
             "nested_cv_hidden": "nested_cv"}


@pytest.fixture(scope="module")
def solution_03():
    """The 03 solution's answer cells, run from the source (as the expected outputs are)."""
    from pathlib import Path

    from course_utils.checks.expected import solution_namespace

    source = Path(__file__).resolve().parents[1] / "notebooks/source/03_cross_validation.py"
    return {name: solution_namespace(source, grade_id) for name, grade_id in HIDDEN_03.items()}


@pytest.mark.parametrize("secret", [None, "batch-a", "batch-b"])
@pytest.mark.parametrize("check", sorted(HIDDEN_03))
def test_03_hidden_checks_pass_the_solution_for_any_seed(verdict, solution_03, check, secret):
    spec = load_checks("03_cross_validation")[check]
    names = {p: solution_03[check][p] for p in spec.params}
    set_grading_secret(secret)
    try:
        passed, hint = verdict("03_cross_validation", check, names)
    finally:
        set_grading_secret(None)
    assert passed, hint


def test_03_hidden_inputs_follow_the_grader_seed():
    """Under a secret the hidden checks' seeds differ from the literal ones a student can read."""
    from course_utils.checks.core import hidden_seed

    set_grading_secret("batch-a")
    try:
        drawn = [hidden_seed(n) for n in (3, 8, 9, 10, 11)]
    finally:
        set_grading_secret(None)
    assert all(a != b for a, b in zip(drawn, (3, 8, 9, 10, 11), strict=True))


LITERAL_SEED = r"default_rng\(\d|seed=\d|random_state=\d|manual_seed\(\d"


@pytest.mark.parametrize("notebook", ["01_kmeans", "02_svm", "03_cross_validation",
                                      "04_unet_segmentation", "05_autoencoder_umap",
                                      "06_finetuning"])
def test_hidden_checks_use_no_literal_seed(notebook):
    """A hidden check's random inputs come from hidden_seed (stored cases name no seed here)."""
    import inspect
    import re

    literal = [name for name, spec in load_checks(notebook).items() if spec.hidden
               and re.search(LITERAL_SEED, inspect.getsource(spec.func))]
    assert not literal, f"hidden checks with a literal seed: {literal}"


def test_the_literal_seed_pattern_finds_one():
    import re

    assert re.search(LITERAL_SEED, "    rng = np.random.default_rng(8)\n")
    assert not re.search(LITERAL_SEED, "    rng = np.random.default_rng(hidden_seed(8))\n")
