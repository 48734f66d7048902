"""Reference answers of notebook 01_kmeans (see :mod:`course_utils.references`)."""

from __future__ import annotations

import numpy as np

from . import reference

NB = "01_kmeans"


def assign_clusters(X, centroids):
    """Index of the nearest centroid for every row of X."""
    from sklearn.metrics import pairwise_distances_argmin

    return pairwise_distances_argmin(np.asarray(X, dtype=float), np.asarray(centroids, dtype=float))


def update_centroids(X, labels, centroids):
    """Every centroid at the mean of its points; an empty cluster keeps its centroid."""
    X, labels = np.asarray(X, dtype=float), np.asarray(labels)
    new = np.array(centroids, dtype=float)
    counts = np.bincount(labels, minlength=len(new))
    sums = np.zeros_like(new)
    np.add.at(sums, labels, X)
    filled = counts > 0
    new[filled] = sums[filled] / counts[filled, None]
    return new


def inertia(X, centroids, labels):
    """Sum of squared distances from each point to its own centroid."""
    X, centroids = np.asarray(X, dtype=float), np.asarray(centroids, dtype=float)
    return float(np.square(X - centroids[np.asarray(labels)]).sum())


def run_kmeans(X, init, max_iter=100):
    """Lloyd's algorithm from ``init``: (centroids, labels, inertia history)."""
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


def choose_k(X, ks):
    """Inertia and silhouette of k-means for every k in ks, and the k the silhouette picks."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    fits = {k: KMeans(n_clusters=k, n_init=4, random_state=0).fit(X) for k in ks}
    silhouettes = {k: silhouette_score(X, m.labels_) for k, m in fits.items()}
    return ({k: m.inertia_ for k, m in fits.items()}, silhouettes,
            max(silhouettes, key=silhouettes.get))


def scores_over_seeds(X, y, seeds):
    """ARI and homogeneity of 10-cluster k-means (k-means++, one start) per seed."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, homogeneity_score

    runs = [KMeans(n_clusters=10, init="k-means++", n_init=1, random_state=s).fit_predict(X)
            for s in seeds]
    return ([adjusted_rand_score(y, r) for r in runs], [homogeneity_score(y, r) for r in runs])


def kmeans_mask(image, seed=0):
    """True where a pixel falls in the brighter of two intensity clusters."""
    from sklearn.cluster import KMeans

    values = np.asarray(image, dtype=float).reshape(-1, 1)
    model = KMeans(n_clusters=2, n_init=1, random_state=seed).fit(values)
    return (model.labels_ == np.argmax(model.cluster_centers_[:, 0])).reshape(np.shape(image))


for _name, _func in [("assign_step", assign_clusters), ("update_step", update_centroids),
                     ("inertia", inertia), ("kmeans_loop", run_kmeans),
                     ("choose_k", choose_k), ("digits_scores", scores_over_seeds),
                     ("pixel_kmeans", kmeans_mask)]:
    reference(NB, _name, (_func.__name__,))(lambda _f=_func: {_f.__name__: _f})
