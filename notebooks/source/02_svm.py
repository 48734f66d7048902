# ---
# jupyter:
#   course:
#     grade_seconds: 30
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 02 · Support vector machines: margins, kernels and scaling
#
# A support vector machine (SVM) separates two classes with the widest possible margin, and with
# a kernel it can bend that boundary. It is a strong, honest baseline for measurements taken on
# cells — and it fails quietly when those measurements come in different units. This notebook
# shows both, with numbers.
#
# **You will be able to**
# 1. train linear and RBF SVMs and read their boundary, margin and support vectors;
# 2. write the RBF decision function yourself from a trained model — what a kernel machine
#    actually computes;
# 3. say what `C` and `gamma` do, after moving them yourself;
# 4. show with 10-fold cross-validation why features must be scaled, and scale without leaking
#    test data by putting the scaler in a `Pipeline`;
# 5. classify handwritten digits with an RBF SVM and read its confusion matrix.
#
# **Time:** about 55 minutes. **Exercises:** 7 and 2 questions, worth 15 points; each is followed by a check.
#
# **Data:** the Wisconsin breast cancer (diagnostic) set — 30 measurements of the cell nuclei in
# images of 569 fine-needle aspirates, each labelled malignant or benign (Street, Wolberg &
# Mangasarian 1993; bundled with scikit-learn) — and scikit-learn's handwritten digits.

# %% [markdown]
# **When you are stuck.** A check that fails prints ✗ with a hint, and the notebook goes on.
# The cell after each exercise's check, `check.use_reference("…")`, does nothing when your
# answer passes; when it fails, it puts the course's own version under the same name (and
# says so), so that the cells after it run. The reference scores no points: come back, fix
# your answer and run it again. Questions ask what a result means: set the variable to a
# letter.

# %%
from course_utils.checks import Checker

check = Checker("02_svm", globals())

# %%
import matplotlib.pyplot as plt
import numpy as np
from ipywidgets import FloatLogSlider
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.dummy import DummyClassifier
from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix
from sklearn.model_selection import cross_val_score, train_test_split, validation_curve
from sklearn.neighbors import NearestCentroid
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from course_utils import by_mode, report
from course_utils.plots import draw_svm, slider_figure

SHADING = by_mode(quick=120, full=200, grade=40)  # grid points per side of the shaded plane

# %% [markdown]
# ## 1 · The data: nuclei measured in images
#
# For every aspirate, ten properties of the nuclei were measured on a digitised image (radius,
# texture, perimeter, area, smoothness, compactness, concavity, concave points, symmetry,
# fractal dimension), each summarised three ways — the mean, the standard error and the
# "worst" (mean of the three largest) — giving 30 numbers per sample.

# %%
cancer = load_breast_cancer()
X_cancer, y_cancer = cancer.data, cancer.target
feature_names = list(cancer.feature_names)
counts = np.bincount(y_cancer)
print(f"{len(X_cancer)} samples × {X_cancer.shape[1]} features; "
      f"{counts[0]} {cancer.target_names[0]}, {counts[1]} {cancer.target_names[1]}")

spread = X_cancer.std(axis=0)
fig, ax = plt.subplots(figsize=(11, 3.2))
ax.bar(range(30), spread)
ax.set_yscale("log")
ax.set_xticks(range(30), feature_names, rotation=90, fontsize=7)
ax.set(ylabel="standard deviation (log)", title="the 30 features live on very different scales")
plt.show()

# %% [markdown]
# Keep that figure in mind: the areas vary by hundreds, the smoothness by hundredths.
#
# ### Exercise 1 — the floor to beat (1 point)
# Before any model: what accuracy do you get by always predicting the most common class? Set
# `baseline_acc` to the mean 10-fold cross-validated accuracy of
# `DummyClassifier(strategy="most_frequent")` on `X_cancer, y_cancer`
# (`cross_val_score(model, X, y, cv=10)` returns one accuracy per fold).

# %% tags=["answer"] grade_id="baseline"
### BEGIN SOLUTION
baseline_acc = cross_val_score(DummyClassifier(strategy="most_frequent"), X_cancer, y_cancer,
                               cv=10).mean()
### END SOLUTION

# %% tags=["check"] grade_id="baseline_check" points=1
check("baseline")

# %%
check.use_reference("baseline")  # only acts if the check above fails

# %%
report("baseline_acc", baseline_acc)

# %% [markdown]
# ## 2 · Two features, two kernels
#
# To *see* what an SVM does we first use two features: the nuclei's mean radius (size) and mean
# texture (the spread of grey levels, i.e. chromatin pattern). We keep a quarter of the samples
# aside for testing and standardise both features with statistics of the training part only.
#
# A **linear SVM** finds the straight line $w \cdot x + b = 0$ with the widest margin: the
# band $|w \cdot x + b| < 1$ that the classes should stay out of. Points that sit on or inside
# the band are the **support vectors**: they alone decide the line. `C` prices margin
# violations: small `C` tolerates many (wide, soft margin), large `C` few (narrow, hard).

# %%
pair = ["mean radius", "mean texture"]
X2 = X_cancer[:, [feature_names.index(name) for name in pair]]
X2_train_raw, X2_test_raw, y2_train, y2_test = train_test_split(
    X2, y_cancer, test_size=0.25, stratify=y_cancer, random_state=0)
pair_scaler = StandardScaler().fit(X2_train_raw)
X2_train, X2_test = pair_scaler.transform(X2_train_raw), pair_scaler.transform(X2_test_raw)
print(f"train {X2_train.shape}, test {X2_test.shape}")

# %% [markdown]
# ### Exercise 2 — linear and RBF (2 points)
# Fit `svm_linear = SVC(kernel="linear", C=1)` and `svm_rbf = SVC(kernel="rbf", C=1, gamma=1)`
# on `X2_train, y2_train`, and set `acc_linear` and `acc_rbf` to their accuracies on
# `X2_test, y2_test` (a fitted model's `.score(X, y)`).

# %% tags=["answer"] grade_id="two_kernels"
### BEGIN SOLUTION
svm_linear = SVC(kernel="linear", C=1).fit(X2_train, y2_train)
svm_rbf = SVC(kernel="rbf", C=1, gamma=1).fit(X2_train, y2_train)
acc_linear = svm_linear.score(X2_test, y2_test)
acc_rbf = svm_rbf.score(X2_test, y2_test)
### END SOLUTION

# %% tags=["check"] grade_id="two_kernels_check" points=2
check("two_kernels")

# %%
check.use_reference("two_kernels")  # only acts if the check above fails

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
for ax, model, name, acc in [(axes[0], svm_linear, "linear", acc_linear),
                             (axes[1], svm_rbf, "RBF, γ = 1", acc_rbf)]:
    draw_svm(ax, model, X2_train, y2_train, steps=SHADING)
    ax.set(title=f"{name}: test accuracy {acc:.3f}, {model.n_support_.sum()} support vectors",
           xlabel=f"{pair[0]} (standardised)", ylabel=f"{pair[1]} (standardised)")
plt.show()

# %% [markdown]
# Solid line: the decision boundary; dashed: the margin; ringed points: support vectors
# (red = benign, blue = malignant). Most training points are *not* support vectors — delete
# them and the boundary would not move.
#
# ## 3 · What the RBF kernel computes
#
# The RBF (Gaussian) kernel measures how alike two points are:
#
# $$K(x, x') = \exp\left(-\gamma \lVert x - x' \rVert^2\right),$$
#
# 1 for identical points, falling towards 0 with distance; `gamma` sets how fast. A trained
# kernel SVM scores a new point $x$ by comparing it with every support vector $s_i$:
#
# $$f(x) = \sum_{i} a_i \, K(s_i, x) + b ,$$
#
# where the weights $a_i$ and $b$ came out of training. Each weight is a product
# $a_i = \alpha_i y_i$: $\alpha_i$ ($0 < \alpha_i \le C$) is how much support vector $i$ counts
# — the dual coefficient that training solved for, 0 for every point that is not a support
# vector — and $y_i = \pm 1$ its class, so the sign of $a_i$ says which class it votes for. It predicts the second class when $f(x) > 0$. In
# scikit-learn: `model.support_vectors_` are the $s_i$, `model.dual_coef_` the $a_i$ (shape
# `(1, n_support)`), `model.intercept_` holds $b$, and `model.gamma` is $\gamma$.

# %% [markdown]
# ### Exercise 3 — the kernel (2 points)
# Write `rbf_kernel(A, B, gamma)`: for `A` of shape `(n, d)` and `B` of shape `(m, d)`, return
# the `(n, m)` matrix with entry `[i, j] = exp(-gamma * ||A[i] - B[j]||²)`.

# %% tags=["answer"] grade_id="rbf_kernel"
def rbf_kernel(A, B, gamma):
    """Gaussian kernel between every row of A and every row of B."""
    ### BEGIN SOLUTION
    squared = ((A[:, None, :] - B[None, :, :]) ** 2).sum(axis=-1)
    return np.exp(-gamma * squared)
    ### END SOLUTION


# %% tags=["check"] grade_id="rbf_kernel_check" points=2
check("rbf_kernel")

# %%
check.use_reference("rbf_kernel")  # only acts if the check above fails

# %% [markdown]
# ### Exercise 4 — the decision function by hand (2 points)
# Write `decision_by_hand(model, X)` for a fitted RBF `SVC` with two classes: return $f(x)$ for
# every row of `X`, shape `(n,)`, using only `rbf_kernel` and the model's `support_vectors_`,
# `dual_coef_`, `intercept_` and `gamma`. It should equal `model.decision_function(X)`.
# `dual_coef_[0, i]` is the $a_i = \alpha_i y_i$ of `support_vectors_[i]`: the class sign is
# already in it.

# %% tags=["answer"] grade_id="decision_function"
def decision_by_hand(model, X):
    """f(x) = sum_i a_i K(s_i, x) + b for a fitted two-class RBF SVC."""
    ### BEGIN SOLUTION
    similarity = rbf_kernel(model.support_vectors_, X, model.gamma)
    return model.dual_coef_[0] @ similarity + model.intercept_[0]
    ### END SOLUTION


# %% tags=["check"] grade_id="decision_function_check" points=2
check("decision_function")

# %%
check.use_reference("decision_function")  # only acts if the check above fails

# %%
by_hand = decision_by_hand(svm_rbf, X2_test)
print(f"largest difference from scikit-learn: {np.abs(by_hand - svm_rbf.decision_function(X2_test)).max():.1e}")
predicted = svm_rbf.classes_[(by_hand > 0).astype(int)]
print(f"predictions from the sign of f(x) equal model.predict: {np.array_equal(predicted, svm_rbf.predict(X2_test))}")

# %% [markdown]
# So an RBF SVM is a weighted vote of its support vectors, each voting with a strength that
# fades with distance. Only the support vectors are needed to predict — which is why a model
# with fewer of them is faster and usually simpler.
#
# ## 4 · C and gamma
#
# `gamma` is how far each support vector's vote reaches: small `gamma`, wide bumps and a
# smooth boundary; large `gamma`, a bump around every point and a boundary that wraps around
# single samples. `C` is how much a training mistake costs. A grid first, then try it yourself:

# %%
def fit_pair(C, gamma):
    """An RBF SVM on the two standardised features."""
    return SVC(kernel="rbf", C=C, gamma=gamma).fit(X2_train, y2_train)


grid_C, grid_gamma = [0.1, 10], [0.1, 1, 30]
fig, axes = plt.subplots(len(grid_C), len(grid_gamma), figsize=(13, 7.5), sharex=True,
                         sharey=True, layout="constrained")
for row, C in zip(axes, grid_C, strict=True):
    for ax, gamma in zip(row, grid_gamma, strict=True):
        model = fit_pair(C, gamma)
        draw_svm(ax, model, X2_train, y2_train, steps=SHADING)
        ax.set_title(f"C={C}, γ={gamma}: train {model.score(X2_train, y2_train):.2f}, "
                     f"test {model.score(X2_test, y2_test):.2f}", fontsize=9)
plt.show()

# %%
flat = fit_pair(0.1, 30)
majority = np.mean(y2_test == np.bincount(y2_train).argmax())
print(f"C=0.1, γ=30: predicts {np.unique(flat.predict(X2_test)).size} class(es) on the test part; "
      f"test accuracy {flat.score(X2_test, y2_test):.3f}, always-'benign' baseline {majority:.3f}; "
      f"{flat.n_support_.sum()} of {len(X2_train)} training points are support vectors")

# %% [markdown]
# ### Question 1 — the model that always says benign (1 point)
# The model with C = 0.1, γ = 30 scores exactly the always-"benign" baseline on the test
# part (printed above). Why?
#
# - **a)** It overfits: with γ = 30 it memorises the training points, and memorised points vote
#   for the majority.
# - **b)** The two features are not scaled, so the kernel only sees the radius.
# - **c)** With C = 0.1 the optimiser stops before it has found any support vectors.
# - **d)** Each support vector's bump is narrow (γ = 30) and its weight is at most C = 0.1, so
#   at almost every new point f(x) is about the intercept b, and b's sign is the
#   majority class.
#
# Set `answer_flat` to the letter of your answer, as a string such as "a".

# %% tags=["answer"] grade_id="q_flat_model"
### BEGIN SOLUTION
answer_flat = "d"
### END SOLUTION

# %% tags=["check"] grade_id="q_flat_model_check" points=1
check("q_flat_model")


# %% [markdown]
# Large `gamma` with large `C` fits the training points almost perfectly and the test points
# worse: overfitting you can see. The panel C = 0.1, γ = 30 is no accident either: it scores
# exactly the always-"benign" baseline, because it predicts "benign" everywhere (the cell above
# prints it). With γ = 30 each support vector's bump is so narrow that it fades within a small
# fraction of a standard deviation, and with C = 0.1 no point's weight $|a_i|$ may exceed 0.1,
# so between the training points (and at almost every new point) the sum of bumps is tiny and
# $f(x)$ is just the intercept $b$ — whose sign is the majority class. Too local and too cheap
# to fit anything, the model falls back on the floor of exercise 1. Move the sliders (a log scale) to explore between the grid
# points; the title gives training and test accuracy and the number of support vectors.

# %%
def show_svm(C, gamma):
    """Boundary, margin and support vectors of an RBF SVM with this C and gamma."""
    model = fit_pair(C, gamma)
    fig, ax = plt.subplots(figsize=(6, 5))
    draw_svm(ax, model, X2_train, y2_train, steps=SHADING)
    ax.set(title=f"C={C:.3g}, γ={gamma:.3g}: train {model.score(X2_train, y2_train):.3f}, "
                 f"test {model.score(X2_test, y2_test):.3f}, {model.n_support_.sum()} SVs",
           xlabel=f"{pair[0]} (standardised)", ylabel=f"{pair[1]} (standardised)")
    return fig


slider_figure(show_svm,
              C=FloatLogSlider(value=1, base=10, min=-2, max=3, step=0.25, description="C",
                               continuous_update=False),
              gamma=FloatLogSlider(value=1, base=10, min=-2, max=2, step=0.25,
                                   description="gamma", continuous_update=False))

# %% [markdown]
# Picking `C` and `gamma` by looking at *test* accuracy, as you just did, uses the test set to
# choose the model — its score is then no longer an honest estimate. Notebook 03 does it
# properly, with nested cross-validation.
#
# ## 5 · The scaling lesson
#
# Back to all 30 features. The RBF kernel compares samples by Euclidean distance, and a
# distance adds up squared differences feature by feature. Which features dominate it?

# %%
variance = X_cancer.var(axis=0)
share = variance / variance.sum()
top = np.argsort(share)[::-1][:3]
for i in top:
    print(f"{feature_names[i]:18s} {share[i]:6.1%} of the summed feature variance")

# %% [markdown]
# ### Question 2 — what the variance shares mean for a kernel (1 point)
# The cell above prints which features hold most of the summed variance of the raw features.
# What does that mean for an RBF SVM trained on them unscaled?
#
# - **a)** Its squared distances are almost only differences in those features, so the other
#   measurements hardly count.
# - **b)** Those features are the most informative, so the SVM is right to rely on them.
# - **c)** Features with a large variance make the kernel matrix singular, so the SVM cannot be
#   fitted.
# - **d)** Nothing: an SVM learns one weight per feature, which undoes any difference in scale.
#
# Set `answer_unscaled` to the letter of your answer, as a string such as "a".

# %% tags=["answer"] grade_id="q_unscaled"
### BEGIN SOLUTION
answer_unscaled = "a"
### END SOLUTION

# %% tags=["check"] grade_id="q_unscaled_check" points=1
check("q_unscaled")


# %% [markdown]
# Two area features hold nearly all of it: without scaling, "distance" means "difference in
# nuclear area", and the other 28 measurements are ignored. Seen on two features (area and
# smoothness), in their own units:

# %%
area_smooth = X_cancer[:, [feature_names.index("mean area"), feature_names.index("mean smoothness")]]
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
for ax, model, title in [(axes[0], SVC(), "unscaled: only area counts"),
                         (axes[1], make_pipeline(StandardScaler(), SVC()), "standardised")]:
    model.fit(area_smooth, y_cancer)
    draw_svm(ax, model, area_smooth, y_cancer, steps=SHADING)
    ax.set(title=f"{title} (training accuracy {model.score(area_smooth, y_cancer):.3f})",
           xlabel="mean area", ylabel="mean smoothness")
plt.show()

# %% [markdown]
# %%
area_to_smoothness = area_smooth[:, 0].mean() / area_smooth[:, 1].mean()
print(f"mean area / mean smoothness: about {area_to_smoothness:,.0f} ×")

# %% [markdown]
# Without scaling the boundary is (almost) a vertical line: smoothness, several thousand times
# smaller in value (the cell above prints the ratio), has no say.
#
# The fix is to standardise each feature (subtract its mean, divide by its standard deviation)
# — but with statistics from the **training folds only**. Standardising the whole data set
# before cross-validation lets every test fold leak its mean and spread into training. A
# `Pipeline` (`make_pipeline(StandardScaler(), SVC())`) is a single model whose `fit` fits the
# scaler and then the SVM on the same training data, so `cross_val_score` refits both inside
# every fold.

# %% [markdown]
# ### Exercise 5 — scaled vs unscaled (2 points)
# Using 10-fold cross-validation (`cv=10`) on `X_cancer, y_cancer`:
# - set `cv_unscaled` to the mean accuracy of a default `SVC()`;
# - build `scaled_model`, a pipeline of a `StandardScaler` followed by a default `SVC()`, and
#   set `cv_scaled` to its mean accuracy.

# %% tags=["answer"] grade_id="scaling"
### BEGIN SOLUTION
cv_unscaled = cross_val_score(SVC(), X_cancer, y_cancer, cv=10).mean()
scaled_model = make_pipeline(StandardScaler(), SVC())
cv_scaled = cross_val_score(scaled_model, X_cancer, y_cancer, cv=10).mean()
### END SOLUTION

# %% tags=["check"] grade_id="scaling_check" points=2
check("scaling")

# %%
check.use_reference("scaling")  # only acts if the check above fails

# %%
report("cv_unscaled", cv_unscaled)
report("cv_scaled", cv_scaled)
linear_scaled = make_pipeline(StandardScaler(), SVC(kernel="linear"))
report("cv_linear_scaled", cross_val_score(linear_scaled, X_cancer, y_cancer, cv=10).mean())
print(f"this run (10-fold CV): unscaled RBF {cv_unscaled:.3f}, scaled {cv_scaled:.3f}")

# %%
folds = {"most frequent": cross_val_score(DummyClassifier(), X_cancer, y_cancer, cv=10),
         "RBF, unscaled": cross_val_score(SVC(), X_cancer, y_cancer, cv=10),
         "RBF, scaled": cross_val_score(scaled_model, X_cancer, y_cancer, cv=10),
         "linear, scaled": cross_val_score(linear_scaled, X_cancer, y_cancer, cv=10)}
fig, ax = plt.subplots(figsize=(7, 3.5))
for i, scores in enumerate(folds.values()):
    ax.scatter(np.full(len(scores), i) + np.linspace(-0.15, 0.15, len(scores)), scores, s=15)
    ax.hlines(scores.mean(), i - 0.3, i + 0.3, color="k")
ax.set_xticks(range(len(folds)), list(folds))
ax.set(ylabel="accuracy per fold", title="10-fold cross-validation: each dot is one fold")
plt.show()
wins = int((folds["RBF, scaled"] > folds["RBF, unscaled"]).sum())
print(f"scaled beats unscaled in {wins} of {len(folds['RBF, scaled'])} folds")

# %% [markdown]
# Scaling moves the RBF SVM from about 0.91 to about 0.975 (this run's values are printed
# above) — and it is not luck of the split: compare fold by fold (the same folds for both
# models) and the scaled model wins in nearly every one. With scaled features a *linear* SVM does just as well here: the classes are
# nearly linearly separable in 30 dimensions. (Try a linear SVM on the unscaled data if you
# have half a minute to spare: its optimiser struggles when features differ in spread by a
# factor of 100,000.)
#
# ## 6 · Handwritten digits
#
# Ten classes, 64 pixel features that already share one scale (grey levels 0–16). `SVC`
# handles several classes by training one SVM per pair of classes and letting them vote. As
# in scikit-learn's classic example, the first half of the images (in file order, no
# shuffling) trains and the second half tests.

# %%
digits = load_digits()
half = len(digits.data) // 2
X_digits_train, y_digits_train = digits.data[:half], digits.target[:half]
X_digits_test, y_digits_test = digits.data[half:], digits.target[half:]
print(f"train {X_digits_train.shape}, test {X_digits_test.shape}")

# %% [markdown]
# `gamma` matters most. Choose it from the training half alone: a validation curve runs
# cross-validation on the training data for a range of values.

# %%
gammas = by_mode(quick=np.logspace(-4, -2, 5), full=np.logspace(-5, -1, 13),
                 grade=np.logspace(-4, -2, 2))
train_scores, val_scores = validation_curve(SVC(), X_digits_train, y_digits_train,
                                            param_name="gamma", param_range=gammas, cv=3)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.semilogx(gammas, train_scores.mean(axis=1), "o-", label="training folds")
ax.semilogx(gammas, val_scores.mean(axis=1), "o-", label="validation folds")
ax.set(xlabel="gamma", ylabel="accuracy", title="validation curve on the training half")
ax.legend()
plt.show()
print(f"best gamma on the training half: {gammas[val_scores.mean(axis=1).argmax()]:.2g}")

# %% [markdown]
# Too small a `gamma` and the boundary is too smooth (the validation score drops); too large
# and every training image becomes its own island (training accuracy 1, validation collapses).
# Around 0.001 is a good choice, as in scikit-learn's example.
#
# ### Exercise 6 — the digit classifier (2 points)
# Fit `digits_model = SVC(gamma=0.001)` on the training half and set `digits_test_acc` to its
# accuracy on the test half.

# %% tags=["answer"] grade_id="digits_svm"
### BEGIN SOLUTION
digits_model = SVC(gamma=0.001).fit(X_digits_train, y_digits_train)
digits_test_acc = digits_model.score(X_digits_test, y_digits_test)
### END SOLUTION

# %% tags=["check"] grade_id="digits_svm_check" points=2
check("digits_svm")

# %%
check.use_reference("digits_svm")  # only acts if the check above fails

# %%
report("digits_test_acc", digits_test_acc)
centroid_acc = NearestCentroid().fit(X_digits_train, y_digits_train).score(X_digits_test,
                                                                            y_digits_test)
report("digits_nearest_centroid_acc", centroid_acc)
print("Reference: scikit-learn's example reports about 0.97 for SVC(gamma=0.001) on this split.")

# %% [markdown]
# The simpler baseline, "nearest class mean" (one centroid per digit, like k-means with the
# labels given), is clearly worse: the SVM's flexible boundary earns its keep.
#
# ### Exercise 7 — what does it confuse? (2 points)
# Set `cm` to the confusion matrix of the test half — rows the true digit, columns the predicted
# one (`confusion_matrix(y_true, y_pred)`) — and `most_confused` to the pair
# `(true digit, predicted digit)` with the largest count **off** the diagonal.

# %% tags=["answer"] grade_id="confusion"
### BEGIN SOLUTION
cm = confusion_matrix(y_digits_test, digits_model.predict(X_digits_test))
mistakes = cm - np.diag(np.diag(cm))
true_digit, predicted_digit = np.unravel_index(mistakes.argmax(), mistakes.shape)
most_confused = (int(true_digit), int(predicted_digit))
### END SOLUTION

# %% tags=["check"] grade_id="confusion_check" points=2
check("confusion")

# %%
check.use_reference("confusion")  # only acts if the check above fails

# %%
fig, ax = plt.subplots(figsize=(5.5, 5))
ConfusionMatrixDisplay(cm, display_labels=range(10)).plot(ax=ax, colorbar=False)
ax.set_title(f"test half: {cm.trace()} of {cm.sum()} right")
plt.show()
print(f"most often: a true {most_confused[0]} read as {most_confused[1]} "
      f"({cm[most_confused]} times)")
report("digits_errors", int(cm.sum() - cm.trace()))

# %%
predictions = digits_model.predict(X_digits_test)
wrong = np.flatnonzero(predictions != y_digits_test)[:16]
fig, axes = plt.subplots(2, 8, figsize=(10, 3))
for ax in axes.ravel():
    ax.axis("off")
for ax, i in zip(axes.ravel(), wrong, strict=False):  # at most 16 shown
    ax.imshow(X_digits_test[i].reshape(8, 8), cmap="gray_r")
    ax.set_title(f"{y_digits_test[i]} → {predictions[i]}", fontsize=9)
fig.suptitle("misread test digits (true → predicted)")
plt.show()

# %% [markdown]
# Many of the misread digits are hard for a person too at 8 × 8 pixels; a few are plain
# mistakes of the model. Looking at the errors, not only the accuracy, tells you which.
#

# %% [markdown]
# ## Glossary
#
# - **margin**: the band around the decision boundary that training keeps as wide as it can.
# - **support vectors**: the training points on or inside the margin; they alone decide the
#   boundary.
# - **C**: the price of a margin violation: small C, soft wide margin; large C, few
#   violations.
# - **kernel**: a similarity K(x, x') that an SVM uses in place of a dot product, so the
#   boundary can bend.
# - **RBF kernel**: exp(−γ‖x − x'‖²): 1 for identical points, falling with distance; γ sets
#   how fast.
# - **dual coefficients**: the weights a_i = α_i y_i of the support vectors in f(x) = Σ a_i
#   K(s_i, x) + b (`dual_coef_`).
# - **intercept**: the constant b of the decision function (`intercept_`).
# - **baseline**: the score of a rule with no model, such as always answering the majority
#   class.
# - **standardise**: subtract a feature's mean and divide by its standard deviation.
# - **pipeline**: steps (a scaler, then a model) fitted as one model, so each CV fold fits the
#   scaler on its own training part.
# - **confusion matrix**: counts of (true class, predicted class) pairs; the diagonal holds
#   the right answers.

# %% [markdown]
# ## What you learned
# - An SVM keeps the widest margin; only the **support vectors** decide the boundary. `C`
#   trades margin width for training mistakes.
# - A kernel SVM scores a point as a **weighted sum of kernel similarities** to its support
#   vectors plus an intercept — you computed it by hand and matched scikit-learn.
# - **gamma** sets how local each support vector's influence is: too large overfits (islands
#   around training points), too small underfits. Choose it on training data, never on the test
#   set.
# - **Scale your features** for distance-based models: unscaled, the RBF SVM on the nuclei
#   features reached about 0.91; scaled, about 0.975 in 10-fold cross-validation. Put the scaler
#   in a **Pipeline** so every fold scales with its own training statistics.
# - On digits an RBF SVM reached about 0.97 on the held-out half; the **confusion matrix** and
#   the misread images show *which* digits it mixes up.

# %%
check.all()
