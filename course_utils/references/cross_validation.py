"""Reference answers of notebook 03_cross_validation (see :mod:`course_utils.references`)."""

from __future__ import annotations

import numpy as np

from . import reference

NB = "03_cross_validation"


def kfold_accuracies(model, X, y, k, seed):
    """Accuracy of a fresh clone of ``model`` on each of ``k`` shuffled folds."""
    from sklearn.model_selection import KFold, cross_val_score

    return cross_val_score(model, X, y, cv=KFold(k, shuffle=True, random_state=seed))


def confusion_counts(y_true, y_pred):
    """(tp, fp, fn, tn) of binary labels, 1 being the positive class."""
    from sklearn.metrics import confusion_matrix

    tn, fp, fn, tp = confusion_matrix(np.asarray(y_true).astype(int),
                                      np.asarray(y_pred).astype(int), labels=[0, 1]).ravel()
    return int(tp), int(fp), int(fn), int(tn)


def rates_from_counts(tp, fp, fn, tn):
    """The eight rates of the notebook's table, from the four counts."""
    total = tp + fp + fn + tn
    tpr, precision = tp / (tp + fn), tp / (tp + fp)
    return {"tpr": tpr, "fpr": fp / (fp + tn), "fnr": fn / (tp + fn), "tnr": tn / (tn + fp),
            "precision": precision, "f1": 2 * precision * tpr / (precision + tpr),
            "error_rate": (fp + fn) / total, "accuracy": (tp + tn) / total}


def threshold_for_tpr(y_true, scores, target_tpr):
    """Largest threshold whose TPR (scores >= threshold counted positive) reaches target_tpr."""
    y_true, scores = np.asarray(y_true), np.asarray(scores)
    positive = scores[y_true == 1]
    for t in np.unique(scores)[::-1]:
        if np.mean(positive >= t) >= target_tpr:
            return float(t)
    return float(scores.min())


def nested_cv_scores(model, param_grid, X, y, inner_cv, outer_cv):
    """Outer-fold scores of a grid search redone inside every outer training part."""
    from sklearn.model_selection import GridSearchCV, cross_val_score

    return cross_val_score(GridSearchCV(model, param_grid, cv=inner_cv), X, y, cv=outer_cv)


def pixels_from_scribbles(features, scribbles):
    """Feature rows and classes of the pixels a user drew on."""
    from ..pixel_features import labelled_pixels

    return labelled_pixels(features, scribbles)


def grouped_folds(groups, n_splits):
    """(train, test) index pairs that keep every group on one side."""
    from sklearn.model_selection import GroupKFold

    groups = np.asarray(groups)
    return list(GroupKFold(n_splits).split(np.zeros(len(groups)), groups=groups))


for _name, _func in [("kfold_by_hand", kfold_accuracies), ("confusion_counts", confusion_counts),
                     ("rates", rates_from_counts), ("operating_point", threshold_for_tpr),
                     ("nested_cv", nested_cv_scores), ("sparse_labels", pixels_from_scribbles),
                     ("grouped_folds", grouped_folds)]:
    reference(NB, _name, (_func.__name__,), also=(f"{_name}_hidden",))(
        lambda _f=_func: {_f.__name__: _f})
