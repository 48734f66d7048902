"""Checks of notebook 05_autoencoder_umap: normalisation, PCA variance, the autoencoder, kNN.

Each check builds its own small problem, so a student's function is tested on data it has not
seen; hints name the property that failed and where to look, not the code.
"""

from __future__ import annotations

import numpy as np

from .core import call_student, expect, hidden_seed, probe, register

NB = "05_autoencoder_umap"


def _counts(seed: int, n_cells: int = 40, n_genes: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Small UMI-like counts with uneven library sizes, and each cell's library size."""
    rng = np.random.default_rng(seed)
    depth = rng.lognormal(np.log(300), 0.6, n_cells)
    counts = rng.poisson(depth[:, None] * rng.dirichlet(np.ones(n_genes))).astype(np.float32)
    counts[:, 0] = 0  # a gene nobody expresses: log(0) must not appear
    return counts, counts.sum(axis=1) + rng.integers(50, 200, n_cells)  # + genes not shown


def _array(value: object, shape: tuple[int, ...], what: str) -> np.ndarray:
    """The student's result as a float array of ``shape``, or a hint saying what is off."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    if hasattr(value, "toarray"):
        value = value.toarray()
    result = np.asarray(value, dtype=float)
    expect(result.shape == shape, f"{what} should have shape {shape}, got {result.shape}.")
    return result


@register(NB, "log_normalize", why="Dividing by the library size removes sequencing depth; "
          "log1p tames the few huge counts and keeps zeros at zero.")
def log_normalize_check(log_normalize):
    """log1p(counts / library * 1e4), per cell, with the library size given (not re-summed)."""
    counts, library = _counts(5)
    got = _array(call_student(log_normalize, counts.copy(), library.copy(), what="log_normalize"),
                 counts.shape, "log_normalize(counts, library_size)")
    per10k = counts / library[:, None] * 1e4
    expect(np.isfinite(got).all(), "Your result has -inf or NaN: log(0) is -inf. Which "
           "logarithm keeps a zero count at zero?")
    expect(not np.allclose(got, per10k, rtol=1e-3), "These are counts per 10,000 but not yet "
           "logged: the last step is the logarithm (log1p).")
    expect(not np.allclose(got, np.log1p(counts), rtol=1e-3), "You took log1p of the raw "
           "counts: first scale each cell to the same total (10,000) using its library size.")
    resummed = np.log1p(counts / counts.sum(axis=1, keepdims=True) * 1e4)
    expect(not np.allclose(got, resummed, rtol=1e-3), "You divided by the sum of the counts "
           "you were given, but `library_size` is the total over *all* genes of each cell "
           "(these are only some of them). Divide by `library_size`.")
    expect(np.allclose(got, np.log1p(per10k), rtol=1e-4, atol=1e-5),
           "Close, but not log1p(counts / library_size × 10,000) for every cell: check the "
           "target sum (`target_sum`, 10,000) and the order of the steps.")


def lesson_data(cells) -> dict:
    """The arrays of the lesson's AnnData that the hidden checks use (run beside ``cells``)."""
    def dense(matrix):
        return np.asarray(matrix.toarray() if hasattr(matrix, "toarray") else matrix)

    return {"counts": dense(cells.layers["counts"]), "log": dense(cells.layers["log"]),
            "library": cells.obs["n_counts"].to_numpy(),
            "labels": cells.obs["cell_type"].cat.codes.to_numpy(),
            "dataset": str(cells.uns.get("dataset", ""))}


@register(NB, "log_normalize_hidden", why="It reproduces the dataset's own normalised values.",
          hidden=True)
def log_normalize_hidden(log_normalize, cells):
    """On the lesson's data the result matches the stored log-normalised layer."""
    data = probe(lesson_data, cells)
    counts, library = data["counts"], data["library"]
    got = _array(call_student(log_normalize, counts, library, what="log_normalize"),
                 counts.shape, "log_normalize(counts, library_size)")
    expect(np.abs(got - data["log"]).max() < 5e-3,
           "On the course data your values differ from the stored log-normalised ones.")


@register(NB, "pca_variance", why="The explained-variance ratio tells how much of the data a "
          "few components keep: the basis of the elbow plot.")
def pca_variance_check(explained_variance_ratio):
    """Matches scikit-learn's PCA, relative to the total variance, for a few k."""
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(7)
    X = rng.normal(size=(80, 12)) @ rng.normal(size=(12, 12)) + rng.normal(size=12) * 5
    reference = PCA().fit(X).explained_variance_ratio_
    got = _array(call_student(explained_variance_ratio, X.copy(), 4,
                              what="explained_variance_ratio"), (4,),
                 "explained_variance_ratio(X, 4)")
    expect(not np.isclose(got.sum(), 1.0) or np.isclose(reference[:4].sum(), 1.0),
           "Your 4 ratios add up to 1: you divided by the variance of the kept components only. "
           "Divide by the *total* variance (all components), so the ratios say what is kept.")
    expect(np.all(np.diff(got) <= 1e-9), "The ratios should come sorted, largest first (the "
           "singular values from SVD are).")
    uncentred = np.linalg.svd(X, compute_uv=False)
    expect(not np.allclose(got, (uncentred**2 / (uncentred**2).sum())[:4], rtol=1e-3),
           "The data were not centred: subtract each column's mean before the SVD, otherwise "
           "the first component just points at the mean.")
    expect(np.allclose(got, reference[:4], rtol=1e-3, atol=1e-6),
           "The ratios differ from PCA's. Ratio k = s_k² / Σ s_j² over all singular values of "
           "the column-centred data; check which values you square and sum.")


@register(NB, "autoencoder_shapes", why="The bottleneck forces the network to keep only what "
          "it needs to rebuild every gene: that code is the embedding.")
def autoencoder_shapes(Autoencoder):
    """encoder/decoder modules; forward returns (reconstruction, code) of the right shapes."""
    seen = call_student(probe, autoencoder_forward, Autoencoder,
                        what="Autoencoder(n_genes=50, n_latent=4)")
    expect(seen["module"], "Autoencoder should be a torch.nn.Module "
           "subclass (class Autoencoder(nn.Module)), with super().__init__() first.")
    for part in ("encoder", "decoder"):
        expect(part not in seen["missing"],
               f"The model needs an attribute `{part}` that is an nn.Module (e.g. nn.Sequential).")
    expect(seen["pair"], "forward(x) should return two things: (reconstruction, code).")
    expect(tuple(seen["code"]) == (7, 4), f"The code (bottleneck) should be (batch, n_latent) "
           f"= (7, 4), got {tuple(seen['code'])}. Check the encoder's last layer.")
    expect(tuple(seen["recon"]) == (7, 50), f"The reconstruction should be (batch, n_genes) "
           f"= (7, 50), got {tuple(seen['recon'])}. Check the decoder's last layer.")
    expect(seen["code_is_encoder"], "The code should be what `self.encoder` gives for x.")
    expect(seen["recon_is_decoder"],
           "The reconstruction should be what `self.decoder` gives for the code.")


def autoencoder_forward(Autoencoder) -> dict:
    """Build the student's Autoencoder(50, 4) and run it once (beside the class): plain facts."""
    import torch

    model = call_student(Autoencoder, 50, 4, what="Autoencoder(n_genes=50, n_latent=4)")
    seen = {"module": isinstance(model, torch.nn.Module), "missing": [
        part for part in ("encoder", "decoder")
        if not isinstance(getattr(model, part, None), torch.nn.Module)]}
    if not seen["module"] or seen["missing"]:
        return seen
    model.eval()
    x = torch.randn(7, 50)
    with torch.no_grad():
        out = call_student(model, x, what="model(x)")
        seen["pair"] = isinstance(out, tuple) and len(out) == 2
        if not seen["pair"]:
            return seen
        recon, code = out
        seen |= {"code": tuple(code.shape), "recon": tuple(recon.shape)}
        if seen["code"] == (7, 4) and seen["recon"] == (7, 50):
            seen["code_is_encoder"] = bool(torch.allclose(code, model.encoder(x), atol=1e-5))
            seen["recon_is_decoder"] = bool(torch.allclose(recon, model.decoder(code),
                                                           atol=1e-5))
    return seen


@register(NB, "train_epoch", why="One pass over shuffled minibatches — zero the gradients, "
          "compute the loss, backpropagate, step — is all of deep-learning training.")
def train_epoch_check(train_epoch):
    """Loss falls over a few epochs on a small problem; returns the epoch's mean loss."""
    seen = call_student(probe, six_epochs, train_epoch, what="train_epoch")
    expect(seen["bad"] is None, seen["bad"] or "")
    losses, start = seen["losses"], seen["start"]
    expect(seen["training"], "Call model.train() at the start of the epoch: layers such as "
           "dropout behave differently while training.")
    expect(losses[-1] < 0.8 * losses[0], "The loss did not go down over 6 epochs. For every "
           "batch: optimizer.zero_grad(), loss = loss_fn(model, *batch), loss.backward(), "
           "optimizer.step().")
    expect(0.2 * start < losses[0] < 2 * start, "The returned value doesn't look like the mean "
           "loss over the batches (a sum, or the last batch only?). Average the batch losses.")


def six_epochs(train_epoch) -> dict:
    """Six epochs of a tiny autoencoder with the student's train_epoch (beside it): losses."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    rng = np.random.default_rng(3)
    data = torch.tensor(rng.normal(size=(160, 3)) @ rng.normal(size=(3, 20)), dtype=torch.float32)
    loader = DataLoader(TensorDataset(data), batch_size=32, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    model = _tiny_autoencoder(20, 3)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)

    def loss_fn(model, x):
        return ((model(x)[0] - x) ** 2).mean()

    with torch.no_grad():
        start = float(loss_fn(model, data))
    model.eval()
    losses = []
    for _ in range(6):
        value = call_student(train_epoch, model, loader, optimizer, loss_fn, what="train_epoch")
        if hasattr(value, "item"):
            if getattr(value, "numel", lambda: 1)() != 1:
                return {"bad": "train_epoch should return one number (the mean loss), not a "
                               "tensor of many values."}
            value = value.item()
        if not (isinstance(value, (int, float)) and np.isfinite(value)):
            return {"bad": "train_epoch should return the epoch's mean loss as a number, got "
                           f"{value!r}."}
        losses.append(float(value))
    return {"bad": None, "losses": losses, "start": start, "training": model.training}


def _tiny_autoencoder(n_in: int, n_latent: int):
    """A 2-layer autoencoder returning (reconstruction, code), like the notebook's."""
    from torch import nn

    class Tiny(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = nn.Linear(n_in, n_latent)
            self.decoder = nn.Linear(n_latent, n_in)

        def forward(self, x):
            code = self.encoder(x)
            return self.decoder(code), code

    return Tiny()


@register(NB, "knn_accuracy", why="Cross-validated kNN accuracy asks a fair question: do "
          "cells of a type sit next to each other, judged on cells the classifier never saw?")
def knn_accuracy_check(knn_accuracy):
    """Cross-validated (not resubstitution) accuracy, matching stratified 5-fold within noise."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    rng = np.random.default_rng(9)
    noise, random_labels = rng.normal(size=(120, 5)), rng.integers(0, 2, 120)
    chance = float(call_student(knn_accuracy, noise, random_labels, seed=0, k=1,
                                what="knn_accuracy(Z, labels, seed=0, k=1)"))
    expect(0.0 <= chance <= 1.0, f"An accuracy is between 0 and 1, got {chance}.")
    expect(chance < 0.75, "With random labels and k = 1 your accuracy is far above chance (0.5): "
           "each cell is being classified by a model that already saw it. Fit on the training "
           "folds and score on the held-out fold only.")
    centres = rng.normal(size=(4, 5)) * 1.2
    labels = rng.integers(0, 4, 200)
    Z = centres[labels] + rng.normal(size=(200, 5))
    got = float(call_student(knn_accuracy, Z, labels, seed=1, what="knn_accuracy(Z, labels)"))
    cv = StratifiedKFold(5, shuffle=True, random_state=1)
    reference = cross_val_score(KNeighborsClassifier(15), Z, labels, cv=cv).mean()
    expect(abs(got - reference) < 0.04, "Your accuracy is far from a 5-fold cross-validated "
           "15-nearest-neighbour classifier's on the same data. Check k (the `k` argument), the "
           "number of folds (5) and that you return the mean over folds.")


@register(NB, "knn_accuracy_hidden", why="On the course data PCA reaches the known accuracy.",
          hidden=True)
def knn_accuracy_hidden(knn_accuracy, cells, X_pca):
    """On the lesson's PCA, with folds drawn from the grader's seed, accuracy lands where the
    published figure says (about 0.8)."""
    data = probe(lesson_data, cells)
    got = float(call_student(knn_accuracy, X_pca, data["labels"], seed=hidden_seed(0),
                             what="knn_accuracy"))
    low = 0.7 if data["dataset"] == "pbmc68k_reduced" else 0.5
    expect(low <= got <= 1.0, "On the course's PCA your accuracy is outside the expected range.")


# Interpretation questions (issue 18): what a result means, judged by a salted hash.
from .questions import question  # noqa: E402 - beside the questions it registers

question(NB, "q_knn_fair", "answer_knn", 4,
         "7e5fcdcd21325e4012483b3e470e8fefa7eb36858252f7703c0caa2bf373411e",
         hint=('Think of what decides how a UMAP picture looks (you moved n_neighbors and '
               'min_dist in section 3) and what a cross-validated score holds fixed.'),
         why=('A score that asks one question, on cells it did not fit, compares spaces; a '
              "picture mostly shows the embedding's own choices."))

question(NB, "q_trustworthiness", "answer_trust", 4,
         "4544e60ef561b07d7f6dbb9bb52fdd89a2a82b2c7ca6bde49fcd8997225c455d",
         hint=("Trustworthiness looks at each cell's k nearest neighbours in the embedding and"
               ' penalises those that are far down its neighbour ranking in the original '
               "space. Which scale does that look at — a cell's neighbourhood, or the layout "
               'of whole clusters?'),
         why=('Trustworthiness is about local neighbourhoods only; read far distances in a '
              'UMAP or t-SNE picture with care whatever its score.'))
