# ---
# jupyter:
#   course:
#     grade_seconds: 30
#     datasets: [bbbc039]
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
# # 01 · k-means clustering: from points to pixels
#
# k-means is the simplest way to find groups in data nobody has labelled. In this notebook you
# build it yourself, see what can go wrong, test it on handwritten digits where the true groups
# are known, and then use it the way image analysts do: to sort the pixels of a microscopy image
# into classes.
#
# **You will be able to**
# 1. write the two steps of k-means (assign, update) and the loop around them, and match
#    scikit-learn's result exactly;
# 2. explain why the starting centroids matter and what k-means++ does about it;
# 3. measure a clustering against known classes with the adjusted Rand index and homogeneity,
#    and choose k with inertia and the silhouette score;
# 4. segment a fluorescence image by clustering its pixels, compare that with an Otsu
#    threshold, and say where pixel clustering fails and why.
#
# **Time:** about 60 minutes. **Exercises:** 7 and 3 questions, worth 17 points; each is followed by a check
# cell that tells you whether you got it right (and, if not, where to look).
#
# **Data:** a generated 2-D point set; scikit-learn's handwritten digits; scikit-image's bundled
# immunohistochemistry image; one field of BBBC039 (U2OS nuclei, Hoechst stain; Caicedo et al.,
# *Cytometry A* 2019), read through the course's data layer.

# %% [markdown]
# **When you are stuck.** A check that fails prints ✗ with a hint, and the notebook goes on.
# The cell after each exercise's check, `check.use_reference("…")`, does nothing when your
# answer passes; when it fails, it puts the course's own version under the same name (and
# says so), so that the cells after it run. The reference scores no points: come back, fix
# your answer and run it again. Questions ask what a result means: set the variable to a
# letter.

# %%
from course_utils.checks import Checker

check = Checker("01_kmeans", globals())

# %%
import matplotlib.pyplot as plt
import numpy as np
from ipywidgets import FloatSlider, IntSlider
from sklearn.cluster import KMeans, kmeans_plusplus
from sklearn.datasets import load_digits, make_blobs
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score, homogeneity_score, silhouette_score
from sklearn.preprocessing import StandardScaler

from course_utils import by_mode, report
from course_utils.plots import draw_regions, slider_figure

SHADING = by_mode(quick=200, full=300, grade=50)  # grid points per side of the shaded plane

# %% [markdown]
# ## 1 · The algorithm
#
# We start with 300 points in the plane, drawn around 4 centres. k-means does not see the
# colours below; it only gets the coordinates.

# %%
X_blobs, y_blobs = make_blobs(n_samples=300, centers=4, cluster_std=0.8, random_state=42)

fig, ax = plt.subplots(figsize=(4.5, 4))
ax.scatter(X_blobs[:, 0], X_blobs[:, 1], c=y_blobs, cmap="tab10", vmin=0, vmax=9, s=8)
ax.set(title="300 points from 4 groups (colours hidden from k-means)", xlabel="x₁", ylabel="x₂")
plt.show()

# %% [markdown]
# k-means looks for $k$ centroids $\mu_1,\dots,\mu_k$ and an assignment $c(i)$ of every point
# to one of them that make the **inertia** small — the sum of squared distances from each
# point to its own centroid:
#
# $$\text{inertia} = \sum_{i=1}^{n} \lVert x_i - \mu_{c(i)} \rVert^2 .$$
#
# Lloyd's algorithm alternates two steps, neither of which ever raises the inertia:
#
# 1. **assign**: every point joins its nearest centroid;
# 2. **update**: every centroid moves to the mean of the points that joined it.
#
# (Each step lowers it or leaves it unchanged: the assignment picks the nearest centroid, the
# update the point that minimises the squared distances to the members.) It stops when no
# point changes cluster.

# %% [markdown]
# ### Exercise 1 — the assignment step (2 points)
# Write `assign_clusters(X, centroids)`: `X` has shape `(n, d)`, `centroids` shape `(k, d)`.
# Return an integer array of shape `(n,)` whose entry `i` is the index of the centroid nearest
# to point `i` (Euclidean distance). Tip: broadcasting `X[:, None, :] - centroids[None, :, :]`
# gives all point–centroid differences at once, with shape `(n, k, d)`.

# %% tags=["answer"] grade_id="assign_step"
def assign_clusters(X, centroids):
    """Index of the nearest centroid for every row of X."""
    ### BEGIN SOLUTION
    squared = ((X[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=-1)
    return squared.argmin(axis=1)
    ### END SOLUTION


# %% tags=["check"] grade_id="assign_step_check" points=2
check("assign_step")

# %%
check.use_reference("assign_step")  # only acts if the check above fails

# %% [markdown]
# ### Exercise 2 — the update step (2 points)
# Write `update_centroids(X, labels, centroids)`: return a **new** `(k, d)` array whose row `j`
# is the mean of the points with label `j`. A cluster can lose all its points; the mean of
# nothing is undefined, so such a centroid keeps its old position (from `centroids`).

# %% tags=["answer"] grade_id="update_step"
def update_centroids(X, labels, centroids):
    """Move every centroid to the mean of its points; an empty cluster keeps its centroid."""
    ### BEGIN SOLUTION
    new = np.array(centroids, dtype=float)
    for j in range(len(new)):
        members = X[labels == j]
        if len(members):
            new[j] = members.mean(axis=0)
    return new
    ### END SOLUTION


# %% tags=["check"] grade_id="update_step_check" points=2
check("update_step")

# %%
check.use_reference("update_step")  # only acts if the check above fails

# %% [markdown]
# ### Exercise 3 — the objective (1 point)
# Write `inertia(X, centroids, labels)`: the sum over all points of the **squared** distance to
# the centroid of their own cluster (the formula above). Return a float.

# %% tags=["answer"] grade_id="inertia"
def inertia(X, centroids, labels):
    """Sum of squared distances from each point to its own centroid."""
    ### BEGIN SOLUTION
    return float(((X - centroids[labels]) ** 2).sum())
    ### END SOLUTION


# %% tags=["check"] grade_id="inertia_check" points=1
check("inertia")

# %%
check.use_reference("inertia")  # only acts if the check above fails

# %% [markdown]
# ### Exercise 4 — the loop (3 points)
# Put the pieces together in `run_kmeans(X, init, max_iter=100)`, starting from the centroids
# `init` (shape `(k, d)`):
#
# 1. assign every point; record the inertia in a list `history`;
# 2. then, at most `max_iter` times: update the centroids, assign again, append the new inertia
#    to `history`, and **stop as soon as no label changed**.
#
# Return `centroids, labels, history`. With `max_iter=0` it returns the starting state, which
# the figure below uses to show the first iterations.

# %% tags=["answer"] grade_id="kmeans_loop"
def run_kmeans(X, init, max_iter=100):
    """Lloyd's algorithm from the centroids `init`: (centroids, labels, inertia history)."""
    ### BEGIN SOLUTION
    centroids = np.array(init, dtype=float)
    labels = assign_clusters(X, centroids)
    history = [inertia(X, centroids, labels)]
    for _ in range(max_iter):
        centroids = update_centroids(X, labels, centroids)
        new_labels = assign_clusters(X, centroids)
        history.append(inertia(X, centroids, new_labels))
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
    return centroids, labels, history
    ### END SOLUTION


# %% tags=["check"] grade_id="kmeans_loop_check" points=3
check("kmeans_loop")

# %%
check.use_reference("kmeans_loop")  # only acts if the check above fails

# %% [markdown]
# ### Watch it converge
# The simplest start ("Forgy"): pick $k$ of the data points at random as centroids. Below, from
# one such start (seed 33, which happens to end well — section 2 shows how often starts
# don't): the state after 0, 1 and 2 updates and at the end (white crosses are the centroids),
# and the inertia after each step.

# %%
def random_init(X, k, seed):
    """k distinct data points, drawn at random: the classic starting centroids."""
    rng = np.random.default_rng(seed)
    return X[rng.choice(len(X), size=k, replace=False)]


init = random_init(X_blobs, k=4, seed=33)
final_centroids, final_labels, history = run_kmeans(X_blobs, init)
steps = [0, 1, 2, len(history) - 1]
fig, axes = plt.subplots(1, 5, figsize=(19, 3.6), layout="constrained")
for ax, step in zip(axes, steps, strict=False):  # the last axes holds the inertia curve
    centroids, labels, _ = run_kmeans(X_blobs, init, max_iter=step)
    ax.scatter(X_blobs[:, 0], X_blobs[:, 1], c=labels, cmap="tab10", vmin=0, vmax=9, s=6)
    ax.scatter(*centroids.T, marker="X", s=150, c="white", edgecolors="k", linewidths=1.5)
    ax.set(title=f"after {step} update(s)", xticks=[], yticks=[])
axes[-1].plot(history, "o-")
axes[-1].set(title="inertia never goes up", xlabel="update", ylabel="inertia")
plt.show()

# %% [markdown]
# ### Does it match scikit-learn?
# `KMeans` with the same starting centroids (`init=`), one run (`n_init=1`) and Lloyd's
# algorithm runs exactly the steps you wrote, so the answers should agree to rounding.

# %%
sk = KMeans(n_clusters=4, init=init, n_init=1, algorithm="lloyd", tol=0).fit(X_blobs)
print(f"same partition (adjusted Rand index): {adjusted_rand_score(sk.labels_, final_labels):.3f}")
print(f"largest centroid difference: {np.abs(sk.cluster_centers_ - final_centroids).max():.2e}")
print(f"inertia — yours: {history[-1]:.3f}   scikit-learn: {sk.inertia_:.3f}")

# %% [markdown]
# ## 2 · Initialisation matters
#
# No step raises the inertia and there are finitely many partitions, so k-means always stops — but at a *local* minimum that depends
# on where it started. Run it from many random starts (scikit-learn's `KMeans` from now on: you
# have shown it does what yours does, and it is faster):

# %%
n_starts = by_mode(quick=12, full=50, grade=6)
best_possible = KMeans(n_clusters=4, n_init=20, random_state=0).fit(X_blobs).inertia_


def final_inertia(start):
    """Inertia reached by Lloyd's algorithm from the starting centroids `start`."""
    return KMeans(n_clusters=4, init=start, n_init=1, algorithm="lloyd").fit(X_blobs).inertia_


forgy = np.array([final_inertia(random_init(X_blobs, 4, s)) for s in range(n_starts)])
plusplus = np.array([final_inertia(kmeans_plusplus(X_blobs, 4, random_state=s)[0])
                     for s in range(n_starts)])
for name, runs in [("random points (Forgy)", forgy), ("k-means++", plusplus)]:
    stuck = (runs > 1.01 * best_possible).mean()
    print(f"{name:22s} stuck in a worse minimum in {stuck:4.0%} of {n_starts} starts")

# %%
worst = int(np.argmax(forgy))
stuck = KMeans(n_clusters=4, init=random_init(X_blobs, 4, worst), n_init=1).fit(X_blobs)
fig, ax = plt.subplots(figsize=(4.5, 4))
ax.scatter(X_blobs[:, 0], X_blobs[:, 1], c=stuck.labels_, cmap="tab10", vmin=0, vmax=9, s=6)
ax.scatter(*stuck.cluster_centers_.T, marker="X", s=150, c="white", edgecolors="k",
           linewidths=1.5)
ax.set(title=f"a bad start (seed {worst}): inertia {forgy[worst]:.0f} vs {best_possible:.0f}")
plt.show()

# %% [markdown]
# Several centroids crowd into one group while a single centroid has to cover the others.
# Lloyd's steps cannot repair it: every point already sits with its nearest centroid and every
# centroid at its members' mean, so nothing changes. Escaping would take a move that first
# raises the inertia.
#
# **k-means++** chooses starts that are spread out: the first centroid is a random point; each
# next one is a point drawn with probability proportional to its squared distance from the
# nearest centroid chosen so far. Far-away groups almost always get a centroid. scikit-learn
# uses k-means++ by default and, with `n_init`, keeps the best of several starts.

# %% [markdown]
# ## 3 · How many clusters?
#
# k-means needs $k$. Two common guides:
# - **inertia** against $k$: it always falls as $k$ grows (more centroids, shorter distances),
#   so look for the "elbow" where it stops falling fast;
# - the **silhouette score**: for each point, $s = (b - a)/\max(a, b)$ where $a$ is its mean
#   distance to its own cluster and $b$ to the nearest other cluster; averaged over points.
#   Near 1: tight, well-separated clusters; near 0: clusters that touch.

# %% [markdown]
# ### Exercise 5 — choosing k (2 points)
# Write `choose_k(X, ks)`: for every `k` in `ks`, fit
# `KMeans(n_clusters=k, n_init=4, random_state=0)` on `X`, and store its inertia in a dict
# `inertias` and its silhouette score (`silhouette_score(X, labels)`) in a dict `silhouettes`,
# both keyed by `k`. Return `inertias, silhouettes, best_k`, where `best_k` is the `k` the
# silhouette prefers.

# %% tags=["answer"] grade_id="choose_k"
def choose_k(X, ks):
    """Inertia and silhouette of k-means for every k in ks, and the k the silhouette picks."""
    ### BEGIN SOLUTION
    inertias, silhouettes = {}, {}
    for k in ks:
        model = KMeans(n_clusters=k, n_init=4, random_state=0).fit(X)
        inertias[k] = model.inertia_
        silhouettes[k] = silhouette_score(X, model.labels_)
    best_k = max(silhouettes, key=silhouettes.get)
    return inertias, silhouettes, best_k
    ### END SOLUTION


# %% tags=["check"] grade_id="choose_k_check" points=2
check("choose_k")

# %%
check.use_reference("choose_k")  # only acts if the check above fails

# %%
inertias_by_k, silhouettes_by_k, best_k = choose_k(X_blobs, range(2, 9))

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
ax1.plot(list(inertias_by_k), list(inertias_by_k.values()), "o-")
ax1.set(xlabel="k", ylabel="inertia", title="inertia: look for the elbow")
ax2.plot(list(silhouettes_by_k), list(silhouettes_by_k.values()), "o-")
ax2.axvline(best_k, color="gray", ls="--")
ax2.set(xlabel="k", ylabel="mean silhouette", title="silhouette: higher is better")
plt.show()

# %% [markdown]
# ### Question 1 — what the falling inertia says (1 point)
# The inertia curve above falls at every step from the smallest to the largest k. What does
# that tell you about choosing k?
#
# - **a)** The best k is the largest one tried: a lower inertia means better clusters.
# - **b)** Little by itself: one more centroid can never make the best inertia worse, so it
#   falls for any data, clustered or not; only a change in how fast it falls (the
#   elbow), or another score such as the silhouette, says something about k.
# - **c)** The data have no real clusters: on clustered data the inertia would stop falling at
#   the true k.
# - **d)** k-means did not converge for the larger values of k.
#
# Set `answer_inertia` to the letter of your answer, as a string such as "a".

# %% tags=["answer"] grade_id="q_inertia_k"
### BEGIN SOLUTION
answer_inertia = "b"
### END SOLUTION

# %% tags=["check"] grade_id="q_inertia_k_check" points=1
check("q_inertia_k")


# %% [markdown]
# Move the slider: with too few clusters, groups are merged; with too many, real groups are cut
# in pieces — and k-means happily does both without complaint.

# %%
def show_k(k):
    """Cluster the 2-D points with k centroids and colour the plane by nearest centroid."""
    model = KMeans(n_clusters=k, n_init=4, random_state=0).fit(X_blobs)
    fig, ax = plt.subplots(figsize=(4.5, 4))
    draw_regions(ax, model.predict, X_blobs, model.labels_, model.cluster_centers_,
                 steps=SHADING)
    score = silhouette_score(X_blobs, model.labels_)
    ax.set(title=f"k = {k}: inertia {model.inertia_:.0f}, silhouette {score:.2f}")
    return fig


slider_figure(show_k, k=IntSlider(value=4, min=2, max=8, description="k"))

# %% [markdown]
# ## 4 · Handwritten digits: does k-means find the ten digits?
#
# scikit-learn's digits: 1,797 images of 8 × 8 pixels (64 features, grey levels 0–16), each a
# handwritten 0–9. We hide the labels, ask for 10 clusters, and then compare the clusters with
# the true digits. Following scikit-learn's own k-means digits example, each pixel is first
# standardised (mean 0, variance 1).
#
# Two scores compare a clustering with known classes, both blind to the cluster *numbers*
# (cluster 3 need not be digit 3):
# - **adjusted Rand index (ARI)**: over all pairs of images, how often the clustering and the
#   truth agree on "same group / different group", corrected so that a random clustering scores
#   about 0 and a perfect one 1;
# - **homogeneity**: 1 when every cluster holds a single digit (it ignores whether one digit is
#   spread over several clusters).

# %%
digits = load_digits()
X_digits, y_digits = digits.data, digits.target
scaler = StandardScaler().fit(X_digits)
X_digits_scaled = scaler.transform(X_digits)

fig, axes = plt.subplots(1, 10, figsize=(10, 1.3))
for d, ax in enumerate(axes):
    ax.imshow(digits.images[np.flatnonzero(y_digits == d)[0]], cmap="gray_r")
    ax.set(title=str(d), xticks=[], yticks=[])
plt.show()

# %% [markdown]
# ### Exercise 6 — scores over several initialisations (2 points)
# Write `scores_over_seeds(X, y, seeds)`: for every `seed` in `seeds`, fit
# `KMeans(n_clusters=10, init="k-means++", n_init=1, random_state=seed)` on `X`, and collect
# the ARI and the homogeneity of its labels against the true classes `y`. Return two lists,
# `aris, homogeneities`, one number per seed.

# %% tags=["answer"] grade_id="digits_scores"
def scores_over_seeds(X, y, seeds):
    """ARI and homogeneity of 10-cluster k-means against y, one run per seed."""
    ### BEGIN SOLUTION
    aris, homogeneities = [], []
    for seed in seeds:
        model = KMeans(n_clusters=10, init="k-means++", n_init=1, random_state=seed)
        labels = model.fit_predict(X)
        aris.append(adjusted_rand_score(y, labels))
        homogeneities.append(homogeneity_score(y, labels))
    return aris, homogeneities
    ### END SOLUTION


# %% tags=["check"] grade_id="digits_scores_check" points=2
check("digits_scores")

# %%
check.use_reference("digits_scores")  # only acts if the check above fails

# %%
seeds = range(by_mode(quick=8, full=30, grade=3))
aris, homogeneities = scores_over_seeds(X_digits_scaled, y_digits, seeds)
report("ari_mean", np.mean(aris))
report("ari_min", np.min(aris))
report("ari_max", np.max(aris))
report("homogeneity_mean", np.mean(homogeneities))
print("Reference: scikit-learn's digits example reports ARI ≈ 0.47–0.57 for its initialisations.")

# %% [markdown]
# ### Question 2 — why the seed changes the score (1 point)
# Your runs use the same images and the same k, yet the ARI printed above changes from seed
# to seed. Why?
#
# - **a)** The adjusted Rand index has a random correction term.
# - **b)** k-means fits each run on a random subset of the images.
# - **c)** Lloyd's algorithm stops in a local minimum of the inertia, and which one depends on
#   the starting centroids that the seed draws.
# - **d)** The true labels are compared in a different order for each seed.
#
# Set `answer_seeds` to the letter of your answer, as a string such as "a".

# %% tags=["answer"] grade_id="q_seeds"
### BEGIN SOLUTION
answer_seeds = "c"
### END SOLUTION

# %% tags=["check"] grade_id="q_seeds_check" points=1
check("q_seeds")


# %% [markdown]
# The score depends on the start: that is the local-minimum problem of section 2, on real
# data. What did the clusters learn? Each centroid is a 64-pixel "average image"; undo the
# standardisation and look at them, titled by the digit most of their members are:

# %%
model = KMeans(n_clusters=10, n_init=by_mode(quick=2, full=10, grade=1), random_state=0)
cluster_of = model.fit_predict(X_digits_scaled)
centroid_images = scaler.inverse_transform(model.cluster_centers_).reshape(10, 8, 8)
fig, axes = plt.subplots(1, 10, figsize=(11, 1.6))
for j, ax in enumerate(axes):
    members = y_digits[cluster_of == j]
    majority = np.bincount(members, minlength=10).argmax()
    ax.imshow(centroid_images[j], cmap="gray_r")
    ax.set(title=f"{majority} ({np.mean(members == majority):.0%})", xticks=[], yticks=[])
fig.suptitle("the 10 centroids: majority digit (share of members that are that digit)", y=1.12)
plt.show()
majorities = [int(np.bincount(y_digits[cluster_of == j], minlength=10).argmax())
              for j in range(10)]
print("digits that lead two or more clusters:",
      sorted({d for d in majorities if majorities.count(d) > 1}) or "none")
print("digits that lead no cluster:", sorted(set(range(10)) - set(majorities)) or "none")

# %% [markdown]
# A few digits get a clean cluster of their own (99 % one digit); others are split over two
# clusters, while some digits lead no cluster at all — they are mixed into their neighbours'.
# k-means has no notion of "digit"; it finds round blobs of similar pixels.
#
# ### The classic picture: clusters in 2-D
# To *see* clusters we project the 64 dimensions onto the first two principal components
# (PCA) and cluster there. Background colour: the cluster a point in the plane would join;
# dot colour: the true digit; crosses: centroids.

# %%
pca = PCA(n_components=2).fit(X_digits_scaled)
Z = pca.transform(X_digits_scaled)
model_2d = KMeans(n_clusters=10, n_init=by_mode(quick=4, full=10, grade=1), random_state=0).fit(Z)
ari_pca2 = adjusted_rand_score(y_digits, model_2d.labels_)

fig, ax = plt.subplots(figsize=(7, 6))
draw_regions(ax, model_2d.predict, Z, y_digits, model_2d.cluster_centers_, steps=SHADING)
ax.set(title=f"k-means on 2 PCA components (ARI {ari_pca2:.2f}); dots coloured by true digit",
       xlabel="PC 1", ylabel="PC 2")
plt.show()
report("ari_pca2", ari_pca2)

# %% [markdown]
# The regions cut straight through crowds of differently coloured dots: two components keep
# only about a fifth of the variance (`pca.explained_variance_ratio_`), so digits that differ elsewhere fall on top of each other.
# The features you cluster on decide what "similar" means. Compare, over a few seeds:

# %%
def ari_per_seed(features, seeds):
    """ARI of 10-cluster k-means (one k-means++ start per seed) against the true digits."""
    return [adjusted_rand_score(y_digits, KMeans(10, n_init=1, random_state=s).fit_predict(features))
            for s in seeds]


few_seeds = range(by_mode(quick=3, full=20, grade=1))
spaces = {"64 raw pixels": ari_per_seed(X_digits, few_seeds),
          "64 standardised pixels": aris,  # from exercise 6
          "2 PCA components": ari_per_seed(Z, few_seeds)}
for name, scores in spaces.items():
    print(f"{name:24s} ARI {np.mean(scores):.2f}  (min {np.min(scores):.2f}, max {np.max(scores):.2f}, "
          f"{len(scores)} seeds)")

# %% [markdown]
# Standardising *lowers* the ARI here: it blows the nearly always blank border pixels up to the
# same weight as the informative centre ones, so noise gets a say in every distance. (In the SVM
# notebook scaling helps a lot: whether it helps depends on what the features mean.)
#
# **Choosing k on real data.** The same two curves on the digits:

# %%
digit_ks = by_mode(quick=[6, 8, 10, 12, 14], full=list(range(2, 21)), grade=[8, 12])
digit_inertia, digit_silhouette = [], []
for k in digit_ks:
    fitted = KMeans(n_clusters=k, n_init=1, random_state=0).fit(X_digits_scaled)
    digit_inertia.append(fitted.inertia_)
    digit_silhouette.append(silhouette_score(X_digits_scaled, fitted.labels_))
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
ax1.plot(digit_ks, digit_inertia, "o-")
ax1.set(xlabel="k", ylabel="inertia", title="digits: no clear elbow")
ax2.plot(digit_ks, digit_silhouette, "o-")
ax2.set(xlabel="k", ylabel="mean silhouette", title="digits: low and flat")
plt.show()

# %% [markdown]
# On real data the curves rarely point at one $k$: a silhouette around 0.15 says the digit
# clouds overlap. Ten clusters is a choice you bring from outside (there are ten digits), not
# something k-means discovers.
#
# ## 5 · Clustering as segmentation
#
# An image is a set of pixels, and each pixel is a point: in colour space for a stained slide,
# on an intensity line for a fluorescence channel. Cluster the pixels and every cluster becomes
# a class — a segmentation with no training labels at all.
#
# ### An immunohistochemistry slide
# scikit-image's bundled image: human colon tissue stained with haematoxylin (blue, nuclei)
# and DAB (brown, the protein of interest). Every pixel is a point in (R, G, B). Fit k-means on
# a random sample of pixels (fast), then give every pixel its nearest centroid's colour.

# %%
from skimage import data as skdata
from skimage.color import rgb2gray, rgb2hed
from skimage.filters import threshold_otsu

ihc = skdata.immunohistochemistry()
pixels = ihc.reshape(-1, 3) / 255.0
rng = np.random.default_rng(0)
sample = pixels[rng.choice(len(pixels), size=by_mode(quick=20_000, full=len(pixels), grade=5_000),
                           replace=False)]


def show_ihc(k):
    """Cluster the slide's pixel colours into k groups and paint each pixel its centroid colour."""
    model = KMeans(n_clusters=k, n_init=1, random_state=0).fit(sample)
    painted = model.cluster_centers_[model.predict(pixels)].reshape(ihc.shape)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 5))
    ax1.imshow(ihc)
    ax1.set(title="immunohistochemistry (haematoxylin + DAB)", xticks=[], yticks=[])
    ax2.imshow(painted)
    ax2.set(title=f"pixels clustered by colour, k = {k}", xticks=[], yticks=[])
    return fig


slider_figure(show_ihc, k=IntSlider(value=3, min=2, max=6, description="k",
                                    continuous_update=False))

# %% [markdown]
# Try k = 2 … 6. The first clusters split *light from dark* (background, pale brown, dark
# brown): brightness is where most of the pixel variance is, and k-means minimises variance.
# The small blue nuclei in the pale tissue between the glands hardly get a cluster of their
# own — a rare class is swallowed by its big neighbours.
#
# A one-number baseline: Otsu's threshold on the grey-level image. With k = 2, k-means on
# colour and Otsu on grey mostly agree:

# %%
gray = rgb2gray(ihc)
otsu_dark = gray < threshold_otsu(gray)
two = KMeans(n_clusters=2, n_init=1, random_state=0).fit(sample)
dark_cluster = np.argmin(two.cluster_centers_.sum(axis=1))
kmeans_dark = (two.predict(pixels) == dark_cluster).reshape(gray.shape)
print(f"k-means (k=2, colour) and Otsu (grey) agree on {np.mean(kmeans_dark == otsu_dark):.1%} of pixels")

# %% [markdown]
# To separate the *stains* rather than brightness, give the pixels better features: colour
# deconvolution (`rgb2hed`) turns RGB into the amount of haematoxylin, eosin and DAB in each
# pixel. In the haematoxylin channel, the nuclei the colour clustering missed stand out.

# %%
hed = rgb2hed(ihc)
fig, axes = plt.subplots(1, 3, figsize=(15, 5))
for ax, image, title in zip(axes, [otsu_dark, hed[..., 0], hed[..., 2]],
                            ["Otsu on grey: dark = tissue", "haematoxylin amount (nuclei)",
                             "DAB amount (stained protein)"], strict=True):
    ax.imshow(image, cmap="gray", vmax=np.percentile(image, 99.5) if image.dtype != bool else 1)
    ax.set(title=title, xticks=[], yticks=[])
plt.show()

# %% [markdown]
# ### A fluorescence field from BBBC039
# Now a nucleus stain: one channel, so each pixel is a single number, its intensity. The data
# layer reads a training field and its hand-drawn nucleus outlines (the truth we compare
# with). Without the data it says so and uses a generated field instead.

# %%
from course_utils.data import nuclei_fields

fields = nuclei_fields("train", n=2)  # BBBC039, or generated fields with a loud warning
field, truth = fields.images[1].astype(float), fields.labels[1]
nuclei = truth > 0
otsu = threshold_otsu(field)
print(f"{fields.split} field {fields.names[1]}: {field.shape}, intensities {field.min():.0f}–"
      f"{field.max():.0f}, {truth.max()} nuclei annotated")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
ax1.imshow(field, cmap="gray", vmax=np.percentile(field, 99.5))
ax1.set(title=f"nuclear stain ({fields.split} field)", xticks=[], yticks=[])
ax2.hist(field.ravel(), bins=200, log=True, histtype="stepfilled")
ax2.set(title="pixel intensities (log count)", xlabel="intensity")
plt.show()

# %% [markdown]
# ### Exercise 7 — segment by clustering (2 points)
# Write `kmeans_mask(image, seed=0)`: cluster the pixel intensities of `image` into **2**
# groups with `KMeans(n_clusters=2, n_init=1, random_state=seed)` (scikit-learn wants a
# `(n_pixels, 1)` array: one feature per pixel), and return a boolean mask of the image's shape
# that is True where the pixel is in the **brighter** cluster (the nuclei). Careful: which
# cluster k-means calls 0 and which 1 is arbitrary.

# %% tags=["answer"] grade_id="pixel_kmeans"
def kmeans_mask(image, seed=0):
    """True where a pixel falls in the brighter of two intensity clusters."""
    ### BEGIN SOLUTION
    values = np.asarray(image, dtype=float).reshape(-1, 1)
    model = KMeans(n_clusters=2, n_init=1, random_state=seed).fit(values)
    bright = np.argmax(model.cluster_centers_[:, 0])
    return (model.labels_ == bright).reshape(np.shape(image))
    ### END SOLUTION


# %% tags=["check"] grade_id="pixel_kmeans_check" points=2
check("pixel_kmeans")

# %%
check.use_reference("pixel_kmeans")  # only acts if the check above fails

# %% [markdown]
# ### Compared with Otsu
# Otsu's method picks the threshold that minimises the summed within-class variance of the two
# sides — which is exactly the k-means objective for k = 2 on a line. So on one channel,
# 2-means and Otsu should give (almost) the same mask. The Dice score measures overlap with the
# hand-drawn nuclei: $2|A \cap B| / (|A| + |B|)$, 1 is perfect.

# %%
def dice(a, b):
    """Overlap of two boolean masks: 2|A∩B| / (|A|+|B|)."""
    return 2 * np.logical_and(a, b).sum() / (a.sum() + b.sum())


mask_kmeans = kmeans_mask(field)
mask_otsu = field > otsu
print(f"pixels on which the two masks agree: {np.mean(mask_kmeans == mask_otsu):.2%}")
report("dice_kmeans", dice(mask_kmeans, nuclei))
report("dice_otsu", dice(mask_otsu, nuclei))

# %% [markdown]
# Move the threshold yourself: too low and the halo around nuclei joins them; too high and dim
# nuclei vanish. The dashed line on the histogram is Otsu's choice.

# %%
def show_threshold(threshold):
    """Threshold the field by hand; report Dice against the annotation."""
    mask = field > threshold
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.2))
    ax1.imshow(mask, cmap="gray")
    ax1.contour(nuclei, levels=[0.5], colors="r", linewidths=0.5)
    ax1.set(title=f"field > {threshold:.0f}: Dice {dice(mask, nuclei):.3f} (red: annotation)",
            xticks=[], yticks=[])
    ax2.hist(field.ravel(), bins=200, log=True, histtype="stepfilled")
    ax2.axvline(threshold, color="r")
    ax2.axvline(otsu, color="k", ls="--")
    ax2.set(xlabel="intensity", title="solid: your threshold, dashed: Otsu")
    return fig


top = float(np.percentile(field, 99))
slider_figure(show_threshold, threshold=FloatSlider(value=float(otsu), min=float(field.min()),
                                                    max=top, step=5, description="threshold",
                                                    continuous_update=False))

# %% [markdown]
# ### Where pixel clustering fails, and why
# **1. Pixels are not objects.** The mask is right about *which pixels* are nucleus, but the
# question is usually *how many nuclei*. Count the connected blobs of the mask:

# %%
from skimage.measure import label as connected_components
from skimage.measure import regionprops


def nuclei_inside(region):
    """How many annotated nuclei one blob of the mask overlaps."""
    inside = truth[region.slice][region.image]
    return len(np.unique(inside[inside > 0]))


blobs = connected_components(mask_kmeans)
merged = sum(nuclei_inside(r) > 1 for r in regionprops(blobs))
print(f"nuclei annotated: {truth.max()}, blobs in the k-means mask: {blobs.max()}, "
      f"blobs that hold more than one nucleus: {merged}")
report("objects_found", int(blobs.max()))
report("nuclei_annotated", int(truth.max()))

# %%
biggest = max(regionprops(blobs), key=lambda r: r.area)
r0, c0, r1, c1 = biggest.bbox
crop = (slice(max(r0 - 10, 0), r1 + 10), slice(max(c0 - 10, 0), c1 + 10))
fig, axes = plt.subplots(1, 3, figsize=(10, 3.5))
axes[0].imshow(field[crop], cmap="gray")
axes[1].imshow(blobs[crop] == biggest.label, cmap="gray")
axes[2].imshow(truth[crop], cmap="tab20", interpolation="nearest")
for ax, title in zip(axes, ["image", "one blob of the mask", "annotation: separate nuclei"],
                     strict=True):
    ax.set(title=title, xticks=[], yticks=[])
plt.show()

# %% [markdown]
# Touching nuclei share one blob: a pixel's class says nothing about where one nucleus ends
# and the next begins. (Notebook 04 trains a network to predict the boundaries too.)
#
# **2. The clusters follow intensity, not biology.** With k = 3 the extra cluster does not
# find "dim nuclei" or "debris"; it splits nuclei into brighter and dimmer parts, because that
# lowers the variance most.

# %%
three = KMeans(n_clusters=3, n_init=1, random_state=0).fit(field.reshape(-1, 1))
order = np.argsort(three.cluster_centers_[:, 0])
ranks = np.empty(3, dtype=int)
ranks[order] = np.arange(3)
fig, ax = plt.subplots(figsize=(6, 4.5))
ax.imshow(ranks[three.labels_].reshape(field.shape), cmap="viridis")
ax.set(title="k = 3: background / dim / bright pixels", xticks=[], yticks=[])
plt.show()

# %% [markdown]
# **3. One global rule for the whole field.** Microscopes rarely light a field evenly. Below, the
# same field under a simulated illumination falloff (one side at 40 % brightness — a
# demonstration, not measured data): the single cut between the two clusters now misses the
# dim side.

# %%
falloff = np.linspace(0.4, 1.0, field.shape[1])[None, :]
uneven = field * falloff
mask_uneven = kmeans_mask(uneven)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
ax1.imshow(uneven, cmap="gray", vmax=np.percentile(uneven, 99.5))
ax1.set(title="simulated uneven illumination", xticks=[], yticks=[])
ax2.imshow(mask_uneven, cmap="gray")
ax2.set(title=f"2-means mask: Dice {dice(mask_uneven, nuclei):.3f} "
              f"(was {dice(mask_kmeans, nuclei):.3f})", xticks=[], yticks=[])
plt.show()
report("dice_uneven", dice(mask_uneven, nuclei))

# %% [markdown]
# ### Question 3 — what a good Dice does not say (1 point)
# The k-means mask reaches a high Dice against the annotated nuclei, while some of its blobs
# hold more than one nucleus (counted in section 5, point 1). What does the Dice of a mask
# not tell you?
#
# - **a)** Whether most foreground pixels are labelled foreground.
# - **b)** Whether the mask and the annotation cover the same field.
# - **c)** Whether the background pixels are mostly labelled background.
# - **d)** Whether touching nuclei are told apart: Dice compares pixels, and one blob over two
#   nuclei covers almost the same pixels as two separate blobs.
#
# Set `answer_dice` to the letter of your answer, as a string such as "a".

# %% tags=["answer"] grade_id="q_pixel_dice"
### BEGIN SOLUTION
answer_dice = "d"
### END SOLUTION

# %% tags=["check"] grade_id="q_pixel_dice_check" points=1
check("q_pixel_dice")


# %% [markdown]
# The pixel's own value is all k-means sees: no neighbourhood, no shape, no position. Fixes
# exist (subtract the background first; add features computed from the neighbourhood; learn
# from labelled pixels), and notebook 03 builds the last one: a pixel classifier.
#

# %% [markdown]
# ## Glossary
#
# - **centroid**: the mean of a cluster's points; k-means keeps one per cluster.
# - **inertia**: the sum of squared distances from every point to its own centroid: what
#   k-means minimises.
# - **Lloyd's algorithm**: k-means as alternating assignment and update steps until the labels
#   stop changing.
# - **local minimum**: an end point that no single step can improve, though a different start
#   could do better.
# - **k-means++**: a start that spreads the first centroids apart, drawing each far from those
#   chosen already.
# - **silhouette**: per point (b − a)/max(a, b), a and b its mean distances to its own and to
#   the nearest other cluster.
# - **ARI**: adjusted Rand index: agreement of two labellings of the same points, 0 for
#   chance, 1 for identical.
# - **homogeneity**: 1 when every cluster holds a single true class (a cluster per point also
#   scores 1).
# - **PCA**: principal component analysis: the directions of largest variance, used to project
#   onto few dimensions.
# - **Otsu's threshold**: the grey level that best splits an image's histogram into two
#   classes (least within-class variance).
# - **Dice**: 2|A ∩ B| / (|A| + |B|): the pixel overlap of two masks, 1 when they are
#   identical.

# %% [markdown]
# ## What you learned
# - k-means alternates **assign** (nearest centroid) and **update** (mean of members); no
#   step ever raises the inertia, so it converges — to a local minimum that depends on the start.
#   k-means++ and several starts (`n_init`) make bad minima rare.
# - Against known classes, score a clustering with **ARI** and **homogeneity**, never with
#   accuracy (cluster numbers are arbitrary). On digits k-means reached an ARI of about 0.5,
#   varying with the seed.
# - **Inertia** always falls with k; the **silhouette** peaks at well-separated k — on clean
#   blobs. On real data neither may point at one answer.
# - The features decide what "similar" means: 2 PCA components lose the digits; standardising
#   can help or hurt.
# - On one channel, Otsu's threshold is the *best* 2-means cut (the global minimum of the
#   inertia over all thresholds); Lloyd's 2-means reaches it when it does not stop in a worse
#   local minimum, and then the masks agree (here on virtually every pixel, printed above;
#   Otsu searches a 256-bin histogram, so its cut can sit up to a bin away). Started
#   badly, Lloyd's 2-means can stop at a different cut. Pixel clustering gives classes, not
#   objects: touching nuclei merge, uneven light breaks a global cut, and extra clusters follow
#   intensity rather than biology.

# %%
check.all()
