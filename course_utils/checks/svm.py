"""Checks of notebook 02_svm: baseline, two kernels, the RBF by hand, scaling, digits.

Models and scores are checked for what they must be (fitted on the right data, the right kind
of model, a score consistent with the model) and for plausible ranges; hints point at the
step that went wrong, not at the code.
"""

from __future__ import annotations

import numpy as np

from .core import build, call_student, expect, is_instance, probe, register
from .expected import case, expected
from .remote import type_name

NB = "02_svm"


def _score(value: object, name: str) -> float:
    """A student's accuracy as a float in [0, 1], or a hint saying what it is instead."""
    expect(np.ndim(value) == 0, f"{name} should be one number (a mean accuracy), not "
           f"{type(value).__name__} of shape {np.shape(value)}.")
    value = float(value)
    expect(0 <= value <= 1, f"{name} should be an accuracy between 0 and 1, got {value:.3g}.")
    return value


def _fitted_svc(model: object, name: str) -> None:
    """Fail with a hint unless ``model`` is a fitted scikit-learn SVC."""
    from sklearn.svm import SVC

    expect(is_instance(model, SVC), f"{name} should be an SVC, got {type_name(model)}.")
    expect(hasattr(model, "support_vectors_"), f"{name} is not fitted yet: call its .fit(X, y).")


def _trained_on(model: object, X: np.ndarray) -> bool:
    """True when ``model``'s support vectors are rows of ``X`` (so it was fitted on X)."""
    sv = model.support_vectors_
    return (model.shape_fit_ == X.shape and sv.shape[1] == X.shape[1]
            and np.allclose(sv, X[model.support_]))


def cancer_data() -> tuple[np.ndarray, np.ndarray]:
    """The breast-cancer features and classes, loaded here (never read from the notebook)."""
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(return_X_y=True)


@register(NB, "baseline", why="Always answering the most common class ('benign') is already "
          "right most of the time: a model is only as good as its margin over this floor.")
def baseline(baseline_acc):
    """The majority-class rate under 10-fold CV, recomputed on the data loaded here."""
    from sklearn.dummy import DummyClassifier
    from sklearn.model_selection import cross_val_score

    value = _score(baseline_acc, "baseline_acc")
    X, y = cancer_data()
    want = cross_val_score(DummyClassifier(strategy="most_frequent"), X, y, cv=10).mean()
    expect(not abs(value - (1 - want)) < 0.01, "That is the share of the *rarer* class: the "
           "baseline always predicts the most frequent one.")
    expect(abs(value - want) < 1e-4, "baseline_acc is not the accuracy of always predicting "
           "the most common class. Cross-validate DummyClassifier(strategy=\"most_frequent\") "
           "on X_cancer, y_cancer with cv=10 and take the mean over folds.")


@register(NB, "two_kernels", why="A linear boundary and a curved RBF one, both decided by a few "
          "support vectors; on two features they score about the same.")
def two_kernels(svm_linear, svm_rbf, acc_linear, acc_rbf, X2_train, X2_test, y2_test):
    """Both SVCs fitted on the standardised training pair with the asked kernels; test scores."""
    for model, name, kernel in ((svm_linear, "svm_linear", "linear"), (svm_rbf, "svm_rbf", "rbf")):
        _fitted_svc(model, name)
        expect(model.kernel == kernel, f"{name} should use kernel=\"{kernel}\", not "
               f"\"{model.kernel}\".")
        expect(_trained_on(model, X2_train), f"{name} was not fitted on X2_train (the "
               "standardised training part). Fit it on X2_train, y2_train.")
    expect(svm_rbf.gamma == 1 and svm_rbf.C == 1 and svm_linear.C == 1,
           "Use C=1 for both models and gamma=1 for the RBF one.")
    for model, value, name in ((svm_linear, acc_linear, "acc_linear"),
                               (svm_rbf, acc_rbf, "acc_rbf")):
        value = _score(value, name)
        expect(np.isclose(value, model.score(X2_test, y2_test)), f"{name} is not the model's "
               "accuracy on the test part: score it on X2_test, y2_test (not the training data).")


def rbf_inputs() -> tuple[np.ndarray, np.ndarray, float]:
    """The kernel check's fixed problem: 5 and 4 points in 3-D, and gamma."""
    rng = np.random.default_rng(21)
    return rng.normal(size=(5, 3)), rng.normal(size=(4, 3)), 0.7


@case(NB, "rbf_kernel", grade_id="rbf_kernel")
def rbf_expected(solution) -> dict:
    """The solution's kernel matrix on :func:`rbf_inputs` (stored at build time, as floats)."""
    return {"K": np.asarray(solution["rbf_kernel"](*rbf_inputs()), dtype=float).tolist()}


@register(NB, "rbf_kernel", why="The RBF kernel turns a squared distance into a similarity: "
          "1 for identical points, fading with distance at a rate set by gamma.")
def rbf_kernel_check(rbf_kernel):
    """The solution's matrix on a fixed problem (stored at build time: the check holds no
    kernel formula), within a tolerance; shape, sign, squared distance, the diagonal."""
    A, B, gamma = rbf_inputs()
    K = np.asarray(call_student(rbf_kernel, A, B, gamma, what="rbf_kernel"), dtype=float)
    expect(K.shape != (4, 5), "Your matrix is transposed: rows should follow A, columns B.")
    expect(K.shape == (5, 4), f"rbf_kernel(A, B, gamma) should have shape (len(A), len(B)) = "
           f"(5, 4), got {K.shape}.")
    expect(np.all(K <= 1 + 1e-12), "Some similarities exceed 1: the exponent must be negative "
           "(similarity falls with distance).")
    want = np.asarray(expected(NB, "rbf_kernel")["K"], dtype=float)
    plain = np.exp(-np.sqrt(-gamma * np.log(want)))  # the same kernel of the plain distance
    expect(not np.allclose(K, plain), "You used the distance; the RBF kernel uses the "
           "*squared* distance.")
    expect(np.allclose(K, want), "The values are off. For every pair (i, j) take the squared "
           "distance between A[i] and B[j], multiply by -gamma, exponentiate.")
    same = np.asarray(call_student(rbf_kernel, A, A, gamma, what="rbf_kernel"), dtype=float)
    expect(np.allclose(np.diag(same), 1), "A point's similarity with itself should be 1.")


def moons_svc():
    """An RBF SVC fitted on noisy moons, with a gamma of its own (not the notebook's)."""
    from sklearn.datasets import make_moons
    from sklearn.svm import SVC

    X, y = make_moons(n_samples=120, noise=0.25, random_state=4)
    return SVC(kernel="rbf", C=2, gamma=0.5).fit(X, y)


def cv_mean(model, X, y, cv: int = 10) -> float:
    """The mean ``cv``-fold accuracy of a fresh clone of ``model`` (run beside the model)."""
    from sklearn.base import clone
    from sklearn.model_selection import cross_val_score

    return float(cross_val_score(clone(model), X, y, cv=cv).mean())


@register(NB, "decision_function", why="A kernel SVM is a weighted sum of similarities to its "
          "support vectors plus an intercept: nothing more is stored or computed.")
def decision_function(decision_by_hand):
    """Equals model.decision_function for a fresh RBF SVC with its own gamma."""
    model = moons_svc()
    X_new = np.random.default_rng(22).uniform(-1.5, 2.5, size=(25, 2))
    want = model.decision_function(X_new)
    got = np.asarray(call_student(decision_by_hand, build(decision_by_hand, moons_svc), X_new,
                                  what="decision_by_hand"), dtype=float)
    expect(got.size == len(X_new), f"decision_by_hand should return one score per row of X "
           f"({len(X_new)}), got shape {got.shape}.")
    expect(got.shape == (len(X_new),), f"Return a flat array of shape ({len(X_new)},), not "
           f"{got.shape}: dual_coef_ has shape (1, n_support).")
    expect(not np.allclose(got, -want), "Your scores have the wrong sign everywhere: the weights "
           "in dual_coef_ already carry the class sign; use them as they are.")
    expect(not np.allclose(got - want, -model.intercept_[0]), "Every score is off by the same "
           "amount: add the intercept b (model.intercept_).")
    expect(np.allclose(got, want, atol=1e-6), "Your scores differ from decision_function. "
           "Compare every support vector with every row of X (kernel with the model's own "
           "gamma), weight by dual_coef_, sum over support vectors, add the intercept.")


@register(NB, "scaling", why="Unscaled, the RBF distance is nuclear area alone; a scaler inside "
          "the Pipeline gives every feature a say and refits on each training fold.")
def scaling(cv_unscaled, cv_scaled, scaled_model):
    """Unscaled recomputed here; a Pipeline scaler → SVC; its own 10-fold score."""
    from sklearn.pipeline import Pipeline
    from sklearn.svm import SVC

    X_cancer, y_cancer = cancer_data()
    unscaled, scaled = _score(cv_unscaled, "cv_unscaled"), _score(cv_scaled, "cv_scaled")
    want_unscaled = cv_mean(SVC(), X_cancer, y_cancer)
    expect(not np.isclose(unscaled, SVC().fit(X_cancer, y_cancer).score(X_cancer, y_cancer)),
           "cv_unscaled is the accuracy on the data the SVC was trained on. Cross-validate: "
           "cross_val_score(SVC(), X_cancer, y_cancer, cv=10), then the mean over folds.")
    expect(abs(unscaled - want_unscaled) < 1e-4, "cv_unscaled is not the 10-fold accuracy of a "
           "default SVC() on the raw X_cancer: no scaler, cv=10, the mean over folds.")
    expect(is_instance(scaled_model, Pipeline), "scaled_model should be a Pipeline (e.g. from "
           "make_pipeline), so the scaler is refitted inside every fold.")
    steps = [step for _, step in scaled_model.steps]
    expect(len(steps) >= 2 and "Scaler" in type_name(steps[0]),
           "The first step of scaled_model should be a scaler (StandardScaler).")
    expect(is_instance(steps[-1], SVC) and steps[-1].kernel == "rbf",
           "The last step of scaled_model should be a default SVC() (RBF kernel).")
    expect(scaled > unscaled + 0.03, "cv_scaled is no better than cv_unscaled: is the pipeline "
           "(scaler and SVC) the model you cross-validated?")
    again = probe(cv_mean, scaled_model, X_cancer, y_cancer)
    expect(abs(again - scaled) < 0.002, "cv_scaled is not the 10-fold score of scaled_model on "
           "X_cancer, y_cancer. Cross-validate the pipeline itself on the raw features.")


@register(NB, "digits_svm", why="An RBF SVM reads unseen handwritten digits about 97 % right.")
def digits_svm(digits_model, digits_test_acc, X_digits_train, X_digits_test, y_digits_test):
    """Fitted on the training half only; the score is its test-half accuracy."""
    _fitted_svc(digits_model, "digits_model")
    expect(_trained_on(digits_model, X_digits_train), "digits_model was not fitted on the "
           "training half alone (X_digits_train). The test images must stay unseen until you "
           "score the model.")
    value = _score(digits_test_acc, "digits_test_acc")
    expect(np.isclose(value, digits_model.score(X_digits_test, y_digits_test)),
           "digits_test_acc is not digits_model's accuracy on the test half "
           "(X_digits_test, y_digits_test).")
    expect(value > 0.93, f"A test accuracy of {value:.3f} is low for this task: use an RBF SVC "
           "with gamma=0.001.")


@register(NB, "confusion", why="The confusion matrix shows which digits the model mixes up, "
          "which one accuracy number hides.")
def confusion(cm, most_confused, digits_model, X_digits_test, y_digits_test):
    """The test-half confusion matrix (rows true) and its largest off-diagonal cell, as a pair."""
    from sklearn.metrics import confusion_matrix

    expect(np.ndim(most_confused) == 1 and np.size(most_confused) == 2
           and np.issubdtype(np.asarray(most_confused).dtype, np.integer),
           "most_confused should be a pair of digits (true digit, predicted digit), e.g. a "
           "tuple of two ints — not a count or a flat index.")
    cm = np.asarray(cm)
    expect(cm.shape == (10, 10), f"cm should be 10 × 10 (one row and column per digit), got "
           f"{cm.shape}.")
    expect(cm.sum() == len(y_digits_test), f"cm should count the {len(y_digits_test)} test "
           f"images, but its entries add up to {cm.sum()}.")
    want = confusion_matrix(y_digits_test, digits_model.predict(X_digits_test))
    expect(not (np.array_equal(cm, want.T) and not np.array_equal(cm, want)),
           "cm is transposed: rows should be the true digits, columns the predictions "
           "(true labels first in confusion_matrix).")
    expect(np.array_equal(cm, want), "cm doesn't match digits_model's predictions on the test "
           "half. Predict X_digits_test and compare with y_digits_test.")
    true_digit, predicted_digit = (int(v) for v in most_confused)
    expect(0 <= min(true_digit, predicted_digit) and max(true_digit, predicted_digit) <= 9,
           "most_confused should hold two digits 0 … 9: (true digit, predicted digit).")
    expect(true_digit != predicted_digit, "That pair is on the diagonal, where predictions are "
           "right. Look only at cells off the diagonal.")
    off = want - np.diag(np.diag(want))
    expect(not (want[predicted_digit, true_digit] == off.max()
                and want[true_digit, predicted_digit] < off.max()),
           "Your pair is the right cell read the wrong way round: the first digit is the row "
           "(the true digit), the second the column (the prediction).")
    expect(want[true_digit, predicted_digit] == off.max(), "That is a confusion, but not the "
           "most frequent one. Find the largest count off the diagonal (row = true digit).")


# Interpretation questions (issue 18): what a result means, judged by a salted hash.
from .questions import question  # noqa: E402 - beside the questions it registers

question(NB, "q_flat_model", "answer_flat", 4,
         "e80cb04b7c8ca2d87d59ab998aae0a88f9435a0f90f133b960524aa6eb551eee",
         hint=('Write out f(x) = Σ a_i K(s_i, x) + b. How large may each |a_i| be with C = '
               '0.1, and how large is K(s_i, x) = exp(−30 ‖s_i − x‖²) when x is half a '
               'standard deviation away from s_i? What is left of f(x) then?'),
         why=('Too local and too cheap to fit anything, the model falls back on its intercept:'
              ' the floor of exercise 1.'))

question(NB, "q_unscaled", "answer_unscaled", 4,
         "e3bfbc7f9ebe4742d309a215eb71c59b771cf0dea8b995d2d95f62a2ba302487",
         hint=("K(x, x') depends on x and x' only through ‖x − x'‖², a sum of one squared "
               'difference per feature. Which terms of that sum are large when one feature '
               'varies by hundreds and another by hundredths?'),
         why=('A distance-based model sees features in proportion to their spread; '
              'standardising gives each measurement a say.'))
