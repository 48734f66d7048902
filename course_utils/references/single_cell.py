"""Reference answers of notebook 05_autoencoder_umap (see :mod:`course_utils.references`)."""

from __future__ import annotations

import numpy as np
from torch import nn

from . import reference

NB = "05_autoencoder_umap"


def log_normalize(counts, library_size, target_sum=1e4):
    """log1p of counts scaled to ``target_sum`` per cell (``library_size`` given per cell)."""
    counts = np.asarray(counts, dtype=np.float64)
    scale = target_sum / np.asarray(library_size, dtype=np.float64)
    return np.log1p(counts * scale[:, None])


def explained_variance_ratio(X, n_components):
    """Fraction of the total variance carried by each of the first n_components PCs."""
    X = np.asarray(X, dtype=np.float64)
    power = np.linalg.svd(X - X.mean(axis=0), compute_uv=False) ** 2
    return power[:n_components] / power.sum()


class Autoencoder(nn.Module):
    """Encoder -> bottleneck code -> decoder; forward returns (reconstruction, code)."""

    def __init__(self, n_genes: int, n_latent: int, n_hidden: int = 256) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(n_genes, n_hidden), nn.ReLU(),
                                     nn.Linear(n_hidden, n_latent))
        self.decoder = nn.Sequential(nn.Linear(n_latent, n_hidden), nn.ReLU(),
                                     nn.Linear(n_hidden, n_genes))

    def forward(self, x):
        """(reconstruction, code) of a batch of cells."""
        code = self.encoder(x)
        return self.decoder(code), code


def train_epoch(model, loader, optimizer, loss_fn):
    """One pass over the minibatches; the mean training loss per sample."""
    model.train()
    total, seen = 0.0, 0
    for batch in loader:
        optimizer.zero_grad()
        loss = loss_fn(model, *batch)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(batch[0])
        seen += len(batch[0])
    return total / seen


def knn_accuracy(Z, labels, seed=0, k=15, n_folds=5):
    """Mean held-out accuracy of k-nearest neighbours, stratified k-fold CV."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    folds = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
    return float(np.mean(cross_val_score(KNeighborsClassifier(k), Z, labels, cv=folds)))


reference(NB, "log_normalize", ("log_normalize",), also=("log_normalize_hidden",))(
    lambda: {"log_normalize": log_normalize})
reference(NB, "pca_variance", ("explained_variance_ratio",))(
    lambda: {"explained_variance_ratio": explained_variance_ratio})
reference(NB, "autoencoder_shapes", ("Autoencoder",))(lambda: {"Autoencoder": Autoencoder})
reference(NB, "train_epoch", ("train_epoch",))(lambda: {"train_epoch": train_epoch})
reference(NB, "knn_accuracy", ("knn_accuracy",), also=("knn_accuracy_hidden",))(
    lambda: {"knn_accuracy": knn_accuracy})
