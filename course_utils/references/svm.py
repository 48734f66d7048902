"""Reference answers of notebook 02_svm (see :mod:`course_utils.references`)."""

from __future__ import annotations

import numpy as np

from . import reference

NB = "02_svm"


@reference(NB, "baseline", ("baseline_acc",))
def baseline(X_cancer, y_cancer):
    """The mean 10-fold accuracy of always answering the most common class."""
    from sklearn.dummy import DummyClassifier
    from sklearn.model_selection import cross_val_score

    return {"baseline_acc": cross_val_score(DummyClassifier(strategy="most_frequent"),
                                            X_cancer, y_cancer, cv=10).mean()}


@reference(NB, "two_kernels", ("svm_linear", "svm_rbf", "acc_linear", "acc_rbf"))
def two_kernels(X2_train, y2_train, X2_test, y2_test):
    """A linear and an RBF (γ = 1) SVM on the two features, and their test accuracies."""
    from sklearn.svm import SVC

    linear = SVC(kernel="linear", C=1).fit(X2_train, y2_train)
    rbf = SVC(kernel="rbf", C=1, gamma=1).fit(X2_train, y2_train)
    return {"svm_linear": linear, "svm_rbf": rbf, "acc_linear": linear.score(X2_test, y2_test),
            "acc_rbf": rbf.score(X2_test, y2_test)}


def rbf_kernel(A, B, gamma):
    """Gaussian kernel between every row of A and every row of B."""
    from sklearn.metrics.pairwise import rbf_kernel as sklearn_rbf

    return sklearn_rbf(np.asarray(A, dtype=float), np.asarray(B, dtype=float), gamma=gamma)


def decision_by_hand(model, X):
    """f(x) = sum_i a_i K(s_i, x) + b of a fitted two-class RBF SVC."""
    return model.dual_coef_[0] @ rbf_kernel(model.support_vectors_, X, model.gamma) \
        + model.intercept_[0]


reference(NB, "rbf_kernel", ("rbf_kernel",))(lambda: {"rbf_kernel": rbf_kernel})
reference(NB, "decision_function", ("decision_by_hand",))(
    lambda: {"decision_by_hand": decision_by_hand})


@reference(NB, "scaling", ("cv_unscaled", "scaled_model", "cv_scaled"))
def scaling(X_cancer, y_cancer):
    """10-fold accuracy of a default SVC unscaled and in a pipeline after a scaler."""
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    model = make_pipeline(StandardScaler(), SVC())
    return {"cv_unscaled": cross_val_score(SVC(), X_cancer, y_cancer, cv=10).mean(),
            "scaled_model": model,
            "cv_scaled": cross_val_score(model, X_cancer, y_cancer, cv=10).mean()}


@reference(NB, "digits_svm", ("digits_model", "digits_test_acc"))
def digits_svm(X_digits_train, y_digits_train, X_digits_test, y_digits_test):
    """SVC(gamma=0.001) fitted on the training half, and its accuracy on the test half."""
    from sklearn.svm import SVC

    model = SVC(gamma=0.001).fit(X_digits_train, y_digits_train)
    return {"digits_model": model, "digits_test_acc": model.score(X_digits_test, y_digits_test)}


@reference(NB, "confusion", ("cm", "most_confused"))
def confusion(digits_model, X_digits_test, y_digits_test):
    """The test half's confusion matrix and its largest off-diagonal (true, predicted) pair."""
    from sklearn.metrics import confusion_matrix

    cm = confusion_matrix(y_digits_test, digits_model.predict(X_digits_test))
    off = cm - np.diag(np.diag(cm))
    true, predicted = np.unravel_index(off.argmax(), off.shape)
    return {"cm": cm, "most_confused": (int(true), int(predicted))}
