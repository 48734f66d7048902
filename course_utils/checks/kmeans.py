"""Checks of notebook 01_kmeans: the two Lloyd steps, the loop, choosing k, scores, pixels.

Each check builds its own small problem, so a student's function is tested on data it has not
seen; hints name the property that failed and where to look, not the code.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .core import call_student, expect, register, salted_hash
from .expected import case, expected

NB = "01_kmeans"


def _labels(value: object, n: int, what: str) -> np.ndarray:
    """The student's labels as an integer array of length n, or a hint saying what is off."""
    labels = np.asarray(value)
    expect(labels.shape == (n,), f"{what} should give one label per point: shape ({n},), "
           f"got shape {labels.shape}.")
    expect(np.issubdtype(labels.dtype, np.integer),
           f"{what} should give integer labels (the index of a centroid), got {labels.dtype}.")
    return labels


def assign_inputs() -> tuple[np.ndarray, np.ndarray]:
    """The assign check's fixed problem: 60 points in 3-D and 5 spread-out centroids."""
    rng = np.random.default_rng(11)
    return rng.normal(size=(60, 3)), rng.normal(size=(5, 3)) * 2


def _label_hash(labels: object) -> str:
    """The salted hash of a labelling, whatever integer type or container it comes in."""
    return salted_hash(np.asarray(labels).astype(np.int64).ravel().tolist())


@case(NB, "assign_step", grade_id="assign_step")
def assign_expected(solution) -> dict:
    """The solution's labels on :func:`assign_inputs`, hashed (stored at build time)."""
    return {"labels": _label_hash(solution["assign_clusters"](*assign_inputs()))}


@register(NB, "assign_step", why="Each point joins its nearest centroid: the first half of "
          "every k-means iteration.")
def assign_step(assign_clusters):
    """Labels of points placed at known centroids, the solution's labels on a fresh 3-D
    problem (stored hashed at build time: the check holds no distance code), and k = 1."""
    X, centroids = assign_inputs()
    labels = _labels(call_student(assign_clusters, X, centroids, what="assign_clusters"),
                     len(X), "assign_clusters")
    expect(labels.min() >= 0 and labels.max() < len(centroids),
           "Labels must be centroid indices 0 … k−1 (k = number of rows of `centroids`).")
    owner = np.arange(len(X)) % len(centroids)  # each point sits right next to its centroid
    beside = centroids[owner] + 0.01 * X
    near = _labels(call_student(assign_clusters, beside, centroids, what="assign_clusters"),
                   len(X), "assign_clusters")
    expect(np.any(near == owner), "No point went to the centroid it sits next to: every "
           "point went to another one. Which of the distances in a row do you want: the "
           "smallest or the largest?")
    expect(np.all(near == owner), f"{np.mean(near != owner):.0%} of the points lying right "
           "next to a centroid were given another one. Compute the distance from each point to "
           "each centroid (an (n, k) table), then pick the closest centroid along the right "
           "axis (one answer per point).")
    expect(_label_hash(labels) == expected(NB, "assign_step")["labels"], "Points lying right "
           "next to a centroid get it, but points between centroids don't all get their "
           "nearest one. Is your distance the squared *Euclidean* distance, summed over the "
           "coordinates (not absolute differences, not one coordinate)?")
    single = np.asarray(call_student(assign_clusters, X, centroids[:1], what="assign_clusters"))
    expect(np.array_equal(single, np.zeros(len(X))),
           "With a single centroid every label should be 0.")


@register(NB, "update_step", why="Each centroid moves to the mean of its points: the second "
          "half of every iteration, and the reason the inertia never goes up.")
def update_step(update_centroids):
    """Means of the members; an empty cluster keeps its old centroid; no NaN."""
    rng = np.random.default_rng(12)
    X = rng.normal(size=(40, 2)) * 3
    labels = rng.choice([0, 1, 3], size=len(X))  # cluster 2 gets no points
    old = rng.normal(size=(4, 2))
    new = np.asarray(call_student(update_centroids, X, labels, old.copy(),
                                  what="update_centroids"), dtype=float)
    expect(new.shape == old.shape, f"update_centroids should return one row per centroid: "
           f"shape {old.shape}, got {new.shape}.")
    expect(not np.isnan(new).any(), "Your centroids contain NaN: that is the mean of an empty "
           "cluster. When no point has label j, keep row j of the old `centroids`.")
    for j in (0, 1, 3):
        expect(np.allclose(new[j], X[labels == j].mean(axis=0)),
               f"Centroid {j} is not the mean of the points labelled {j}. Average their "
               "coordinates (one mean per coordinate, so you get a point of d numbers).")
    expect(np.allclose(new[2], old[2]), "Cluster 2 had no points and should have kept its old "
           "centroid, but it moved.")


@register(NB, "inertia", why="The inertia is what k-means minimises; watching it tells you "
          "the loop works.")
def inertia_check(inertia):
    """Sum of squared distances to the own centroid (not distances, not a mean)."""
    rng = np.random.default_rng(13)
    X, centroids = rng.normal(size=(30, 2)), rng.normal(size=(3, 2))
    labels = rng.integers(0, 3, size=len(X))
    value = call_student(inertia, X, centroids, labels, what="inertia")
    expect(np.ndim(value) == 0, "inertia should return one number for the whole data set.")
    value = float(value)
    distances = np.linalg.norm(X - centroids[labels], axis=1)
    expect(not np.isclose(value, distances.sum()), "You summed the distances; k-means sums the "
           "*squared* distances.")
    expect(not np.isclose(value, (distances**2).mean()), "That is the mean squared distance; "
           "the inertia is the sum over all points.")
    expect(np.isclose(value, (distances**2).sum()), "The inertia is off. For each point take "
           "the centroid of *its own* cluster (`centroids[labels]` lines them up), then sum the "
           "squared differences over coordinates and points.")


@register(NB, "kmeans_loop", why="Your loop reaches the same fixed point as scikit-learn's "
          "Lloyd algorithm: you have written k-means.")
def kmeans_loop(run_kmeans):
    """Converges to a fixed point, inertia never rises, matches sklearn from the same start."""
    from sklearn.cluster import KMeans
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(n_samples=200, centers=3, cluster_std=1.5, random_state=3)
    init = X[[0, 1, 2]].copy()
    out = call_student(run_kmeans, X, init.copy(), what="run_kmeans")
    expect(isinstance(out, tuple) and len(out) == 3,
           "run_kmeans should return three things: centroids, labels, history.")
    centroids, labels, history = np.asarray(out[0], dtype=float), out[1], out[2]
    labels = _labels(labels, len(X), "run_kmeans")
    history = np.asarray(history, dtype=float).ravel()
    expect(centroids.shape == init.shape, f"centroids should have shape {init.shape}, got "
           f"{centroids.shape}.")
    expect(len(history) >= 2, "history should hold the inertia at the start and after every "
           "update (at least two numbers here).")
    expect(np.all(np.diff(history) <= 1e-9 * history[0]), "Your inertia went up between two "
           "steps. No assign and no update ever raises it: is every update computed "
           "from the current labels, and every assignment from the current centroids?")
    means = np.array([X[labels == j].mean(0) for j in range(3)])
    expect(np.allclose(centroids, means), "At the end the centroids are not the means of "
           "their points. Return the centroids that go with the final labels.")
    ref = KMeans(n_clusters=3, init=init, n_init=1, algorithm="lloyd", tol=0).fit(X)
    expect(np.array_equal(labels, ref.labels_) and np.allclose(centroids, ref.cluster_centers_),
           "Your result is not the fixed point scikit-learn reaches from the same start. Start "
           "from `init` exactly, alternate assign → update, and stop only when no label "
           "changes (a loop that stops earlier leaves points away from their nearest centroid).")
    start = call_student(run_kmeans, X, init.copy(), max_iter=0, what="run_kmeans(..., max_iter=0)")
    expect(np.allclose(np.asarray(start[0], dtype=float), init) and len(start[2]) == 1,
           "With max_iter=0 run_kmeans should do no update: return `init`, its labels and a "
           "history of one inertia.")


@register(NB, "choose_k", why="The silhouette peaks at the k where clusters are tight and well "
          "apart; the inertia keeps falling, so it cannot choose k alone.")
def choose_k_check(choose_k):
    """On fresh blobs with 3 groups: both dicts keyed by every k, plausible, best_k = 3."""
    from sklearn.cluster import KMeans
    from sklearn.datasets import make_blobs
    from sklearn.metrics import silhouette_score

    X, _ = make_blobs(n_samples=150, centers=3, cluster_std=0.7, random_state=3)
    ks = range(2, 6)
    out = call_student(choose_k, X, ks, what="choose_k")
    expect(isinstance(out, tuple) and len(out) == 3,
           "choose_k should return three things: inertias, silhouettes, best_k.")
    inertias, silhouettes, best_k = out
    for name, table in (("inertias", inertias), ("silhouettes", silhouettes)):
        expect(isinstance(table, Mapping), f"{name} should be a dict {{k: value}}.")
        expect(set(table) == set(ks), f"{name} should have one entry per k in `ks`, keyed by "
               f"k: asked for {list(ks)}, got keys {sorted(table)}.")
    sil = {k: float(v) for k, v in silhouettes.items()}
    expect(all(-1 <= v <= 1 for v in sil.values()), "Silhouette scores lie between −1 and 1; "
           "some of yours don't. Did you store the inertia as the silhouette?")
    inert = [float(inertias[k]) for k in sorted(inertias)]
    rising = any(b > a * 1.01 for a, b in zip(inert, inert[1:], strict=False))
    expect(not rising, "Your inertia grows with k somewhere. More centroids can only shorten "
           "distances: is each value the model's `inertia_` for that k?")
    model = KMeans(n_clusters=3, n_init=4, random_state=0).fit(X)
    expect(np.isclose(float(inertias[3]), model.inertia_, rtol=0.01),
           "The inertia for k = 3 doesn't match a 3-cluster KMeans on X. Fit one model per k "
           "on the X you were given and store that model's inertia.")
    expect(abs(sil[3] - silhouette_score(X, model.labels_)) < 0.02,
           "The silhouette for k = 3 doesn't match a 3-cluster KMeans on X. Score the data "
           "you clustered, with that model's labels.")
    expect(best_k != max(ks), "best_k is the largest k you tried: that is what the inertia "
           "always prefers. Choose by the silhouette instead.")
    expect(best_k == max(sil, key=sil.get), "best_k should be the k whose silhouette score is "
           "highest.")


@register(NB, "digits_scores", why="ARI and homogeneity compare a clustering with the truth "
          "whatever the cluster numbers are; the spread over seeds is the local-minimum problem.")
def digits_scores(scores_over_seeds):
    """On the standardised digits: one ARI and homogeneity per seed, in range, varying by seed."""
    from sklearn.datasets import load_digits
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    seeds = [3, 4]
    out = call_student(scores_over_seeds, StandardScaler().fit_transform(X), y, seeds,
                       what="scores_over_seeds")
    expect(isinstance(out, tuple) and len(out) == 2,
           "scores_over_seeds should return two lists: aris, homogeneities.")
    for name, values in zip(("aris", "homogeneities"), out, strict=True):
        expect(np.ndim(values) == 1 and len(values) == len(seeds),
               f"{name} should hold one number per seed ({len(seeds)} here), got "
               f"{np.size(values)}.")
    a, h = (np.asarray(values, dtype=float) for values in out)
    expect(np.ptp(a) > 1e-9, "Every run gave the same ARI: the runs did not start differently. "
           "Give each model its own random_state.")
    expect(not np.allclose(a, h), "aris and homogeneities are identical: use "
           "adjusted_rand_score for one and homogeneity_score for the other.")
    expect(a.max() > 0.3, "These ARIs are far below what k-means reaches on the digits. Compare "
           "the true classes with the cluster labels using adjusted_rand_score (cluster numbers "
           "are arbitrary, so plain accuracy is meaningless).")
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, completeness_score, homogeneity_score

    Xs = StandardScaler().fit_transform(X)
    runs = [KMeans(n_clusters=10, init="k-means++", n_init=1, random_state=s).fit_predict(Xs)
            for s in seeds]
    want_a = np.array([adjusted_rand_score(y, labels) for labels in runs])
    want_h = np.array([homogeneity_score(y, labels) for labels in runs])
    swapped = np.array([completeness_score(y, labels) for labels in runs])
    expect(np.allclose(a, want_a, atol=1e-6), "Your ARIs are not those of 10-cluster k-means "
           "with one k-means++ start per seed on X: use n_clusters=10, n_init=1 and "
           "random_state=seed, fitted on the X you were given.")
    expect(not (np.allclose(h, swapped, atol=1e-6) and not np.allclose(h, want_h, atol=1e-6)),
           "Your homogeneities are the *completeness* of the clusterings: homogeneity_score is "
           "not symmetric. It takes the true classes first and the cluster labels second "
           "(labels_true, labels_pred).")
    expect(np.allclose(h, want_h, atol=1e-6), "Your homogeneities don't match the clusterings "
           "your ARIs came from: homogeneity_score(y, labels), true classes first, on the "
           "same runs.")


@register(NB, "pixel_kmeans", why="Clustering intensities into two groups and keeping the "
          "brighter one segments the nuclei with no training labels at all.")
def pixel_kmeans(kmeans_mask, field, truth):
    """A boolean mask on the nuclei: the bright cluster, whatever number k-means gave it."""
    h, w = np.shape(field)
    crop = np.asarray(field, dtype=float)[: h // 2, : w // 2]
    nuclei = np.asarray(truth)[: h // 2, : w // 2] > 0
    mask = np.asarray(call_student(kmeans_mask, crop, what="kmeans_mask"))
    expect(mask.shape == crop.shape, f"kmeans_mask should return a mask shaped like the image "
           f"{crop.shape}, got {mask.shape}. Reshape the per-pixel labels back.")
    expect(mask.dtype == bool, f"kmeans_mask should return a boolean mask (True = nucleus), got "
           f"{mask.dtype}. Compare the labels with the number of the bright cluster.")
    overlap = 2 * (mask & nuclei).sum() / max(mask.sum() + nuclei.sum(), 1)
    flipped = 2 * (~mask & nuclei).sum() / max((~mask).sum() + nuclei.sum(), 1)
    expect(flipped < overlap, "Your mask is True on the background and False on the nuclei: you "
           "kept the darker cluster. Pick the cluster whose centre is brighter.")
    expect(overlap > 0.8, f"Your mask overlaps the annotated nuclei poorly (Dice {overlap:.2f}). "
           "Cluster the intensities (one feature per pixel) into 2 groups.")
    inverted = crop.max() - crop  # now the background is the bright cluster
    mask_inv = np.asarray(call_student(kmeans_mask, inverted, what="kmeans_mask"))
    expect(mask_inv.shape == crop.shape and np.mean(mask_inv == ~mask) > 0.98,
           "On an inverted image (dark nuclei, bright background) your mask should mark the "
           "bright background. Which number k-means gives a cluster is arbitrary: find the "
           "bright cluster from the cluster centres, not by assuming it is 1.")


# Interpretation questions (issue 18): what a result means, judged by a salted hash.
from .questions import question  # noqa: E402 - beside the questions it registers

question(NB, "q_inertia_k", "answer_inertia", 4,
         "406276077ab52a0abbf21c2afe5db50f7af0b2fd90d412f0ef03061d04860bba",
         hint=('Think about what adding one more centroid can do to the sum of squared '
               'distances: can the best inertia with k + 1 centroids be higher than with k? '
               'Then ask what a curve that falls for every data set can tell you about this '
               'one.'),
         why=('Inertia falls with k on clustered and on structureless data alike, so it cannot'
              ' pick k on its own; the elbow and the silhouette compare it with something.'))

question(NB, "q_seeds", "answer_seeds", 4,
         "4fee4df5bb525776d5df5759c547007cb981fa431f68939d163b123d9f418a42",
         hint=('Go back to section 2: what does each assign/update step guarantee about the '
               'inertia, and what does it not guarantee about where the run ends? What does '
               'the seed choose?'),
         why=('No step ever raises the inertia, so a run ends in a local minimum near its '
              'start; k-means++ and several starts (n_init) make the bad ones rare.'))

question(NB, "q_pixel_dice", "answer_dice", 4,
         "593f5160f710439c6374b69b2b060a9c85836186957d3633a9d889518d65a8d0",
         hint=('Dice is 2|A ∩ B| / (|A| + |B|) over pixels. Draw two touching discs once as '
               'one blob and once as two: how much does the pixel overlap with the annotation '
               'change?'),
         why=('Dice scores which pixels are nucleus, not which nucleus they belong to; '
              "counting objects needs an instance score such as notebook 04's matching AP."))
