"""Checks of notebook 03_cross_validation: k-fold by hand, the confusion matrix and its rates,
an operating point on the ROC curve, nested cross-validation, sparse labels, folds by image.

Each check builds a fresh small problem, runs the student's function on it and compares with
scikit-learn (or the course's own pixel helpers); hints name the step that went wrong.
"""

from __future__ import annotations

import numpy as np

from .core import build, call_student, expect, hidden_seed, register, salted_hash
from .expected import case, expected

NB = "03_cross_validation"
RATE_KEYS = ("tpr", "fpr", "fnr", "tnr", "precision", "f1", "error_rate", "accuracy")


def scaled_logistic():
    """A fast scaled logistic regression (unfitted)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression())


def _small_problem(seed: int, n: int = 120):
    """A noisy two-class problem and a fast scaled logistic regression for it."""
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=n, n_features=8, n_informative=4, flip_y=0.15,
                               random_state=seed)
    return scaled_logistic(), X, y


def _kfold_case(kfold_accuracies, seed: int, k: int) -> None:
    """Compare the student's per-fold accuracies with cross_val_score on the same folds."""
    from sklearn.base import clone
    from sklearn.model_selection import KFold, cross_val_score

    model, X, y = _small_problem(seed)
    theirs = build(kfold_accuracies, scaled_logistic)
    got = call_student(kfold_accuracies, theirs, X, y, k, seed, what="kfold_accuracies")
    got = np.asarray(got, dtype=float).ravel()
    expect(len(got) == k, f"kfold_accuracies(model, X, y, k={k}, seed={seed}) should return "
           f"one accuracy per fold ({k} numbers), got {len(got)}.")
    folds = KFold(k, shuffle=True, random_state=seed)
    want = cross_val_score(model, X, y, cv=folds)
    if np.allclose(np.sort(got), np.sort(want)):
        return
    on_train = [clone(model).fit(X[tr], y[tr]).score(X[tr], y[tr]) for tr, _ in folds.split(X)]
    expect(not np.allclose(np.sort(got), np.sort(on_train)), "Each fold's model was scored on "
           "the samples it was trained on: score it on the fold it has not seen.")
    unshuffled = cross_val_score(model, X, y, cv=KFold(k))
    expect(not np.allclose(np.sort(got), np.sort(unshuffled)), "Your folds are not shuffled: "
           "use KFold(k, shuffle=True, random_state=seed) so that the folds match.")
    expect(False, "The fold accuracies differ from cross-validation on the same folds. For each "
           "(train, test) pair of KFold(k, shuffle=True, random_state=seed).split(X): fit a "
           "fresh clone(model) on the training rows, score it on the test rows.")


@register(NB, "kfold_by_hand", why="k-fold CV: every sample is tested exactly once, by a model "
          "that never saw it, and the k scores show how much the estimate wobbles.")
def kfold_by_hand(kfold_accuracies):
    """Per-fold accuracies equal scikit-learn's on a fresh problem."""
    _kfold_case(kfold_accuracies, seed=3, k=4)


@register(NB, "kfold_by_hand_hidden", why="Also right for other k and seeds.", hidden=True)
def kfold_by_hand_hidden(kfold_accuracies):
    """Same comparison with another k, and a seed and data drawn from the grader's seed."""
    _kfold_case(kfold_accuracies, seed=hidden_seed(11), k=6)


def _counts(confusion_counts, y_true: np.ndarray, y_pred: np.ndarray) -> None:
    """Compare (tp, fp, fn, tn) with scikit-learn's confusion matrix, with targeted hints."""
    from sklearn.metrics import confusion_matrix

    got = call_student(confusion_counts, y_true, y_pred, what="confusion_counts")
    expect(isinstance(got, (tuple, list)) and len(got) == 4, "confusion_counts should return "
           "four numbers, in the order (tp, fp, fn, tn).")
    got = tuple(int(v) for v in got)
    tn, fp, fn, tp = (int(v) for v in confusion_matrix(y_true, y_pred, labels=[0, 1]).ravel())
    expect(sum(got) == len(y_true), f"The four counts should add up to the number of samples "
           f"({len(y_true)}), they add up to {sum(got)}: every sample is exactly one of "
           "TP, FP, FN, TN.")
    expect(got != (tp, fn, fp, tn), "FP and FN are swapped. A false positive is *predicted* "
           "positive but actually negative.")
    expect(got != (tn, fn, fp, tp), "Positive and negative are swapped: the positive class is "
           "1 (malignant).")
    expect(got == (tp, fp, fn, tn), "The counts do not match the confusion matrix; compare each "
           "count with its definition (what was predicted, what is true).")


@register(NB, "confusion_counts", why="The four counts are all there is: every metric of a "
          "binary classifier is a ratio of them.")
def confusion_counts_check(confusion_counts):
    """Counts on an unbalanced random labelling."""
    rng = np.random.default_rng(5)
    y_true = (rng.random(200) < 0.3).astype(int)
    y_pred = np.where(rng.random(200) < 0.75, y_true, 1 - y_true)
    _counts(confusion_counts, y_true, y_pred)


@register(NB, "confusion_counts_hidden", why="Also right for boolean inputs and lists.",
          hidden=True)
def confusion_counts_hidden(confusion_counts):
    """Counts when the labels come as booleans (predictions from a threshold)."""
    rng = np.random.default_rng(hidden_seed(8))
    y_true = rng.random(150) < 0.6
    y_pred = rng.random(150) < 0.5
    _counts(confusion_counts, y_true.astype(int), y_pred.astype(int))


def _reference_rates(tp: int, fp: int, fn: int, tn: int) -> dict[str, float]:
    """The eight rates computed by scikit-learn from labels that realise the counts."""
    from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

    y_true = np.array([1] * tp + [0] * fp + [1] * fn + [0] * tn)
    y_pred = np.array([1] * tp + [1] * fp + [0] * fn + [0] * tn)
    tpr, tnr = recall_score(y_true, y_pred), recall_score(y_true, y_pred, pos_label=0)
    acc = accuracy_score(y_true, y_pred)
    return {"tpr": tpr, "fpr": 1 - tnr, "fnr": 1 - tpr, "tnr": tnr,
            "precision": precision_score(y_true, y_pred), "f1": f1_score(y_true, y_pred),
            "error_rate": 1 - acc, "accuracy": acc}


RATE_HINTS = {
    "tpr": "TPR (recall, sensitivity) is a fraction of the actual positives: which of them "
           "were found?",
    "fpr": "FPR is a fraction of the actual negatives, not of the predicted positives: check "
           "its denominator.",
    "fnr": "FNR is a fraction of the actual positives: the ones that were missed.",
    "tnr": "TNR (specificity) is a fraction of the actual negatives: which of them were "
           "correctly left out?",
    "precision": "Precision is a fraction of the predicted positives: how many were right? "
                 "(Did you compute recall instead?)",
    "f1": "F1 is the harmonic mean of precision and recall, not their average.",
    "error_rate": "The error rate is the fraction of all samples that were misclassified.",
    "accuracy": "Accuracy is the fraction of all samples that were classified correctly.",
}


def _rates_case(rates_from_counts, tp: int, fp: int, fn: int, tn: int) -> None:
    """Compare each rate with scikit-learn's, naming the first that is off."""
    got = call_student(rates_from_counts, tp, fp, fn, tn, what="rates_from_counts")
    expect(isinstance(got, dict), "rates_from_counts should return a dict of the eight rates.")
    missing = [k for k in RATE_KEYS if k not in got]
    expect(not missing, f"The dict lacks {', '.join(repr(k) for k in missing)}; use exactly "
           f"the keys {', '.join(RATE_KEYS)}.")
    want = _reference_rates(tp, fp, fn, tn)
    for key in RATE_KEYS:
        value = float(np.asarray(got[key]))
        expect(np.isclose(value, want[key]), f"'{key}' is {value:.4f} for (tp, fp, fn, tn) = "
               f"({tp}, {fp}, {fn}, {tn}). {RATE_HINTS[key]}")


@register(NB, "rates", why="Each rate answers one question: of the actual positives (TPR, FNR), "
          "of the actual negatives (FPR, TNR), of the predicted positives (precision), of all.")
def rates_check(rates_from_counts):
    """All eight rates for counts where every confusion shows."""
    _rates_case(rates_from_counts, tp=40, fp=10, fn=20, tn=130)


@register(NB, "rates_hidden", why="Also right for other counts.", hidden=True)
def rates_hidden(rates_from_counts):
    """Rates for counts with more false positives than true ones (drawn from the grader's seed)."""
    rng = np.random.default_rng(hidden_seed(10))
    tp = int(rng.integers(3, 15))
    fp, fn, tn = tp + int(rng.integers(10, 30)), int(rng.integers(1, 10)), int(rng.integers(30, 80))
    _rates_case(rates_from_counts, tp=tp, fp=fp, fn=fn, tn=tn)


def _threshold_case(threshold_for_tpr, seed: int, target: float) -> None:
    """The student's threshold must give the same predictions as the strictest valid one."""
    from sklearn.metrics import roc_curve

    rng = np.random.default_rng(seed)
    y = (rng.random(300) < 0.35).astype(int)
    scores = np.round(np.clip(rng.normal(0.35 + 0.3 * y, 0.18), 0, 1), 3)
    fpr, tpr, thresholds = roc_curve(y, scores, drop_intermediate=False)
    best = thresholds[np.argmax(tpr >= target)]
    got = call_student(threshold_for_tpr, y, scores, target, what="threshold_for_tpr")
    expect(np.ndim(got) == 0, "threshold_for_tpr should return one number, the threshold.")
    got = float(got)
    reached = ((scores >= got) & (y == 1)).sum() / (y == 1).sum()
    expect(reached >= target, f"With your threshold {got:.3f}, scores >= threshold find only "
           f"{reached:.1%} of the positives; the target was {target:.0%}. Lower it.")
    expect(np.array_equal(scores >= got, scores >= best), f"Your threshold {got:.3f} reaches "
           "the target TPR but is not the strictest that does: it flags more samples (and so "
           "more false positives) than needed. Look for the largest threshold that still works.")


@register(NB, "operating_point", why="A threshold is a choice of operating point: demand a high "
          "TPR and you pay for it in FPR, a trade the ROC curve shows in full.")
def operating_point(threshold_for_tpr):
    """Strictest threshold with TPR ≥ 0.9 on overlapping random scores."""
    _threshold_case(threshold_for_tpr, seed=2, target=0.9)


@register(NB, "operating_point_hidden", why="Also right for other targets.", hidden=True)
def operating_point_hidden(threshold_for_tpr):
    """Strictest threshold with TPR ≥ 0.75 on other scores (drawn from the grader's seed)."""
    _threshold_case(threshold_for_tpr, seed=hidden_seed(9), target=0.75)


NESTED_SEEDS = {"nested_cv": 4, "nested_cv_hidden": 16}  # fixed (stored); leaking shows on both


def _nested_problem(seed: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """A small noisy problem and a grid where tuning matters."""
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=90, n_features=6, n_informative=3, flip_y=0.2,
                               random_state=seed)
    return X, y, {"C": [0.01, 100], "gamma": [0.01, 1]}


def _scores_hash(scores: object) -> str:
    """The salted hash of outer scores rounded to 6 decimals (they are multiples of 1/30)."""
    return salted_hash(np.round(np.asarray(scores, dtype=float).ravel(), 6).tolist())


def _nested_expected(solution, seed: int) -> dict:
    """The solution's outer scores for ``seed``, hashed."""
    from sklearn.model_selection import StratifiedKFold
    from sklearn.svm import SVC

    X, y, grid = _nested_problem(seed)
    inner, outer = (StratifiedKFold(3, shuffle=True, random_state=s) for s in (seed, seed + 1))
    return {"scores": _scores_hash(solution["nested_cv_scores"](SVC(), grid, X, y, inner, outer))}


@case(NB, "nested_cv", grade_id="nested_cv")
def nested_expected(solution) -> dict:
    """Outer scores of the visible check's problem (stored hashed at build time)."""
    return _nested_expected(solution, NESTED_SEEDS["nested_cv"])


@case(NB, "nested_cv_hidden", grade_id="nested_cv")
def nested_hidden_expected(solution) -> dict:
    """Outer scores of the hidden check's problem (stored hashed at build time)."""
    return _nested_expected(solution, NESTED_SEEDS["nested_cv_hidden"])


def _nested_case(nested_cv_scores, name: str) -> None:
    """Outer scores equal the solution's (stored hashed); hints for the usual shortcuts."""
    from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
    from sklearn.svm import SVC

    seed = NESTED_SEEDS[name]
    X, y, grid = _nested_problem(seed)
    theirs = [build(nested_cv_scores, SVC)] + [
        build(nested_cv_scores, StratifiedKFold, 3, shuffle=True, random_state=s)
        for s in (seed, seed + 1)]
    got = call_student(nested_cv_scores, theirs[0], grid, X, y, *theirs[1:],
                       what="nested_cv_scores")
    got = np.asarray(got, dtype=float).ravel()
    expect(len(got) == 3, "nested_cv_scores should return one score per *outer* fold "
           f"(3 here), got {len(got)}.")
    if _scores_hash(got) == expected(NB, name)["scores"]:
        return
    inner = StratifiedKFold(3, shuffle=True, random_state=seed)
    outer = StratifiedKFold(3, shuffle=True, random_state=seed + 1)
    search = GridSearchCV(SVC(), grid, cv=inner).fit(X, y)  # the shortcuts, not the answer
    leaked = cross_val_score(search.best_estimator_, X, y, cv=outer)
    expect(not np.allclose(got, leaked), "The hyperparameters were chosen on all the data, "
           "outer test folds included, before the outer loop: the search must run again inside "
           "every outer training part.")
    expect(not np.allclose(got, search.best_score_), "That is the inner search's best score, "
           "the optimistic one: score on the outer folds instead.")
    expect(False, "The outer scores differ from nested cross-validation. Wrap the model in a "
           "GridSearchCV with the inner folds, and cross-validate that search over the outer "
           "folds.")


@register(NB, "nested_cv", why="Tuning inside every outer training part keeps each outer test "
          "fold unseen by both the fit and the choice of hyperparameters.")
def nested_cv(nested_cv_scores):
    """Nested CV on a small noisy problem, against the solution's scores (stored hashed)."""
    _nested_case(nested_cv_scores, "nested_cv")


@register(NB, "nested_cv_hidden", why="Also right on other data.", hidden=True)
def nested_cv_hidden(nested_cv_scores):
    """Nested CV on another fixed draw: its expected scores are stored hashed, so its inputs
    need no grader's seed (a right answer is the only way to hit the hash)."""
    _nested_case(nested_cv_scores, "nested_cv_hidden")


def _scribble_case(pixels_from_scribbles, seed: int) -> None:
    """Compare with the course's labelled_pixels, order-free."""
    from ..pixel_features import labelled_pixels

    rng = np.random.default_rng(seed)
    features = rng.normal(size=(9, 11, 4)).astype(np.float32)
    scribbles = rng.choice([0, 0, 0, 1, 2], size=(9, 11)).astype(np.uint8)
    got = call_student(pixels_from_scribbles, features, scribbles, what="pixels_from_scribbles")
    expect(isinstance(got, tuple) and len(got) == 2, "pixels_from_scribbles should return two "
           "arrays: (X, y).")
    X, y = (np.asarray(a) for a in got)
    want_X, want_y = labelled_pixels(features, scribbles)
    expect(len(y) != scribbles.size, "You kept every pixel: keep only the ones a user drew on "
           "(scribble value not 0).")
    expect(X.shape == want_X.shape, f"X should have one row per labelled pixel and one column "
           f"per feature: shape {want_X.shape} here, got {X.shape}.")
    expect(y.shape == want_y.shape, f"y should hold one class per labelled pixel, shape "
           f"{want_y.shape}, got {y.shape}.")
    values = set(np.unique(y).tolist())
    expect(not (y.dtype == bool or values <= {0, 1}), "Your classes are 0/1 (or True/False), "
           "but the strokes are labelled 1 (background) and 2 (nucleus): keep each drawn "
           "pixel's scribble value as its class, so y means what the scribbles mean.")
    expect(0 not in values, "y contains 0, the value of pixels nobody drew on: keep only the "
           "drawn pixels (scribble value not 0).")
    order, want_order = np.lexsort(X.T), np.lexsort(want_X.T)
    expect(np.allclose(X[order], want_X[want_order]), "The rows of X are not the features of "
           "the labelled pixels: index the feature stack with the same mask as the labels.")
    expect(np.array_equal(y[order], want_y[want_order]), "The classes in y do not belong to "
           "the rows of X: take both with the same mask, in the same order.")


@register(NB, "sparse_labels", why="A random forest learns only from the pixels someone drew "
          "on: a few hundred per field instead of a whole annotated mask.")
def sparse_labels(pixels_from_scribbles):
    """Labelled pixels of a random feature stack."""
    _scribble_case(pixels_from_scribbles, seed=1)


@register(NB, "sparse_labels_hidden", why="Also right on other stacks.", hidden=True)
def sparse_labels_hidden(pixels_from_scribbles):
    """Labelled pixels of another random stack (drawn from the grader's seed when grading)."""
    _scribble_case(pixels_from_scribbles, seed=hidden_seed(6))


def _folds_case(grouped_folds, groups: np.ndarray, n_splits: int) -> None:
    """The folds partition the samples and never split a group between train and test."""
    folds = call_student(grouped_folds, groups, n_splits, what="grouped_folds")
    folds = list(folds)
    expect(len(folds) == n_splits, f"grouped_folds(groups, {n_splits}) should give {n_splits} "
           f"(train, test) pairs, got {len(folds)}.")
    n = len(groups)
    tested = np.zeros(n, dtype=int)
    for i, pair in enumerate(folds, start=1):
        expect(len(pair) == 2, "Each fold should be a pair (train_indices, test_indices).")
        train, test = (np.asarray(a, dtype=int) for a in pair)
        expect(len(test) > 0, f"Fold {i} has no test samples.")
        expect(len(np.union1d(train, test)) == n and len(np.intersect1d(train, test)) == 0,
               f"In fold {i}, the training and test indices should split all {n} samples "
               "between them, with none in both.")
        shared = np.intersect1d(groups[train], groups[test])
        expect(len(shared) == 0, f"In fold {i}, pixels of field(s) {shared[:5].tolist()} are "
               "in both the training and the test part. Neighbouring pixels of one field are "
               "near-copies: a whole field must be either trained on or tested.")
        tested[test] += 1
    expect(np.all(tested == 1), "Across the folds every sample should be tested exactly once.")


@register(NB, "grouped_folds", why="Folds by field test the classifier on fields it has never "
          "seen, which is what it will meet after training.")
def grouped_folds_check(grouped_folds):
    """Folds over pixels of 6 fields, in field order."""
    groups = np.repeat(np.arange(6), [40, 25, 60, 30, 45, 50])
    _folds_case(grouped_folds, groups, 3)


@register(NB, "grouped_folds_hidden", why="Also right for shuffled, unevenly sized groups.",
          hidden=True)
def grouped_folds_hidden(grouped_folds):
    """Folds over shuffled pixels of 7 fields with arbitrary ids (drawn from the grader's seed)."""
    rng = np.random.default_rng(hidden_seed(3))
    ids, sizes = rng.choice(100, size=7, replace=False), rng.integers(8, 60, size=7)
    groups = rng.permutation(np.repeat(ids, sizes))
    _folds_case(grouped_folds, groups, 4)


# Interpretation questions (issue 18): what a result means, judged by a salted hash.
from .questions import question  # noqa: E402 - beside the questions it registers

question(NB, "q_rare_accuracy", "answer_rare", 4,
         "2765039f27e7bbf8c9bc23fe844a4ff46b40f4e362795faabb405efaca7989d3",
         hint=('Fill in its four counts for 100 people (tp, fp, fn, tn), then use your '
               'rates_from_counts definitions: accuracy counts every right answer, TPR only '
               'the sick who were found.'),
         why=('With a rare positive class accuracy rewards ignoring it; the TPR (and '
              'precision) say whether the positives are found at all.'))

question(NB, "q_nested", "answer_nested", 4,
         "8ba7f7eaefefa8586bb155c76c639f4033468f60577fdadf55da3a3244108ba7",
         hint=('Picture 16 settings that are all worthless: each CV score is chance plus '
               'noise. What does taking the maximum of 16 such scores give on average — and '
               'who chose the maximum in each estimate?'),
         why=('Choosing is fitting: a score used to choose is optimistic, so the honest '
              'estimate keeps its test folds out of the choice.'))

question(NB, "q_grouped_pessimistic", "answer_grouped", 4,
         "76b3934a042b6c1454e5f6a7e28485ae4e028dc9d1025f5d54e48cb4166db04a",
         hint=('A CV estimate scores models that are trained on less than the final model. In '
               "grouped folds, what does each fold's model have less of, and how much does "
               'that unit matter for new fields?'),
         why=('Every CV estimate scores smaller training sets than the final fit; grouped '
              'folds remove whole fields, so they are the safe estimate, not an exact one.'))
