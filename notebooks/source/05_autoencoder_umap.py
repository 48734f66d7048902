# ---
# jupyter:
#   course:
#     grade_seconds: 60
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
# # 05 · Single-cell RNA-seq: PCA, UMAP and an autoencoder, honestly compared
#
# A single-cell RNA-seq experiment counts, for every cell, the messenger RNA molecules of every
# gene: a table of thousands of cells × thousands of genes, mostly zeros. Nobody can look at
# 2,000 dimensions, so every analysis starts by squeezing them into a few. In this notebook you
# prepare real blood-cell data the way the field does, reduce it with PCA (linear), with UMAP and
# t-SNE (neighbour embeddings) and with an autoencoder you write in PyTorch — and then you
# *measure* which representation keeps the cell types apart, instead of judging pretty pictures.
#
# **You will be able to**
# 1. normalise UMI counts (library size, log1p) and say why each step is there;
# 2. read a PCA: explained variance, the elbow, which genes drive a component;
# 3. run UMAP and t-SNE, and tell what their pictures do and do not show;
# 4. write, train (minibatches, early stopping) and use an autoencoder;
# 5. compare embeddings with cross-validated kNN accuracy, silhouette and trustworthiness over
#    several seeds, and decide from the numbers whether the deep model was worth it.
#
# **Time:** about 80 minutes. **Exercises:** 5 and 2 questions, worth 12 points; each is followed by a check
# cell that tells you whether you got it right (and, if not, where to look).
#
# **Data:** peripheral blood mononuclear cells (PBMCs) from 10x Genomics. With a network
# connection: PBMC 3k from raw counts, through the course's data layer. Without one (and in
# CI): scanpy's bundled `pbmc68k_reduced`. The first section says which one you got, and why.

# %% [markdown]
# **When you are stuck.** A check that fails prints ✗ with a hint, and the notebook goes on.
# The cell after each exercise's check, `check.use_reference("…")`, does nothing when your
# answer passes; when it fails, it puts the course's own version under the same name (and
# says so), so that the cells after it run. The reference scores no points: come back, fix
# your answer and run it again. Questions ask what a result means: set the variable to a
# letter.

# %%
from course_utils.checks import Checker

check = Checker("05_autoencoder_umap", globals())

# %%
import copy
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import scanpy as sc
import torch
from ipywidgets import FloatSlider, IntSlider, interact_manual
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE, trustworthiness
from sklearn.metrics import silhouette_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.neighbors import KNeighborsClassifier
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from tqdm.auto import tqdm

from course_utils import by_mode, report
from course_utils.data import DatasetUnavailable
from course_utils.device import get_device
from course_utils.single_cell import PBMC_MARKERS, load_cells
from course_utils.training import LiveCurve

DEVICE = get_device()
# Neighbour embeddings (UMAP, t-SNE) are pictures, not graded: grading skips them, which also
# skips numba's one-off compilation of UMAP (10–40 s).
EMBED = by_mode(quick=True, full=True, grade=False)
SEEDS = list(range(by_mode(quick=3, full=5, grade=1)))
print(f"Computing on {DEVICE}; {len(SEEDS)} seeds; neighbour embeddings: {EMBED}")

# %% [markdown]
# ## 1 · From counts to a matrix you can analyse
#
# The loader below tries PBMC 3k first (2,700 cells; raw counts) and falls back to the bundled
# `pbmc68k_reduced` (700 cells × 765 genes) when it can't be had. While grading, it always uses
# the bundled set, so every submission sees the same data.
#
# For PBMC 3k it runs the standard scanpy pipeline (the thresholds of scanpy's and Seurat's
# PBMC 3k tutorials):
#
# | step | scanpy | why |
# |---|---|---|
# | quality control | `filter_cells(min_genes=200)`, `filter_genes(min_cells=3)`, drop cells with ≥ 2,500 genes (doublets) or ≥ 5 % mitochondrial UMIs (broken cells) | empty droplets, doublets and dying cells are not cell types |
# | normalise | `normalize_total(target_sum=1e4)` | a cell sequenced twice as deep has twice the counts of every gene |
# | log | `log1p` | a few genes have huge counts; the log compresses them, and log1p keeps 0 at 0 |
# | select genes | `highly_variable_genes(min_mean=0.0125, max_mean=3, min_disp=0.5)` | most genes vary only by noise |
# | scale | `scale(max_value=10)` | every gene gets unit variance, so PCA isn't dominated by a few abundant genes |
#
# `pbmc68k_reduced` was made with those same steps by scanpy's authors; its stored values let us
# recover the original integer counts, so you can redo the normalisation yourself below.

# %%
cells = load_cells(prefer=by_mode(quick="pbmc3k", full="pbmc3k", grade="pbmc68k_reduced"))
print(f"Dataset: {cells.uns['dataset']} — {cells.n_obs} cells × {cells.n_vars} genes.")
print("Why this one:", cells.uns["why"])
print("Cell-type labels:", cells.uns["label_source"])
if "steps" in cells.uns:
    print(pd.DataFrame(cells.uns["steps"], columns=["step", "cells", "genes"]).to_string())
labels = cells.obs["cell_type"].cat.codes.to_numpy()
cell_types = list(cells.obs["cell_type"].cat.categories)
print(cells.obs["cell_type"].value_counts().to_string())

# %% [markdown]
# Each cell's quality numbers: how many UMIs it has (its *library size*), how many genes it
# shows, and which fraction of its UMIs come from mitochondrial genes.

# %%
fig, axes = plt.subplots(1, 3, figsize=(12, 3), layout="constrained")
for ax, column, title in zip(axes, ["n_counts", "n_genes", "percent_mito"],
                             ["UMIs per cell (library size)", "genes detected per cell",
                              "mitochondrial fraction"], strict=True):
    ax.hist(cells.obs[column], bins=40, color="grey")
    ax.set(title=title, ylabel="cells")
plt.show()

# %% [markdown]
# Library sizes vary several-fold between cells, for technical reasons (capture, sequencing
# depth) rather than biology. That is what normalisation removes.
#
# ### Exercise 1 — log-normalisation (2 points)
# Write `log_normalize(counts, library_size, target_sum=1e4)`. `counts` is a (cells, genes)
# array of UMI counts and `library_size` a (cells,) array with each cell's total UMIs over
# **all** genes (the matrix may hold only some of them). Scale every cell to `target_sum` total
# counts, then take `log1p` (log(1 + x)). Return a (cells, genes) array.

# %% tags=["answer"] grade_id="log_normalize"
def log_normalize(counts, library_size, target_sum=1e4):
    """log1p of counts scaled to ``target_sum`` per cell."""
    ### BEGIN SOLUTION
    counts = np.asarray(counts, dtype=np.float64)
    library_size = np.asarray(library_size, dtype=np.float64)
    return np.log1p(counts / library_size[:, None] * target_sum)
    ### END SOLUTION


# %% tags=["check"] grade_id="log_normalize_check" points=2
check("log_normalize")
### BEGIN HIDDEN TESTS
check("log_normalize_hidden")
### END HIDDEN TESTS

# %%
check.use_reference("log_normalize")  # only acts if the check above fails

# %% [markdown]
# Your function applied to the counts gives back the dataset's stored log-normalised values.
# Now the trap this exercise was built around: scanpy's `normalize_total` divides by the sum of
# the genes **in the matrix you give it**. Run it on the selected genes only and the values
# change — normalise first, select genes afterwards.

# %%
mine = log_normalize(cells.layers["counts"], cells.obs["n_counts"].to_numpy())
print(f"your log_normalize vs stored values: largest difference "
      f"{np.abs(mine - cells.layers['log']).max():.4f}")
subset = sc.AnnData(cells.layers["counts"].copy())
sc.pp.normalize_total(subset, target_sum=1e4)
sc.pp.log1p(subset)
print(f"normalize_total on the {cells.n_vars} selected genes only: values off by "
      f"{np.abs(subset.X - cells.layers['log']).mean():.3f} on average (log units)")

# %% [markdown]
# ### Which genes are kept
# Highly variable genes vary more between cells than genes of the same mean expression — the
# ones likely to tell cell types apart. The selection compares each gene's dispersion with
# that of genes of similar mean. (PBMC 3k: all genes, before the selection. `pbmc68k_reduced`
# ships 765 genes, of which its authors' last call flagged some; we use all 765, the setting
# in which a 50-component PCA is known to give a kNN accuracy of about 0.80.)

# %%
var = cells.raw.var if "dispersions_norm" in cells.raw.var else cells.var
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.scatter(var["means"], var["dispersions_norm"], s=4,
           c=np.where(var["highly_variable"], "crimson", "grey"))
ax.set(xlabel="mean log expression", ylabel="normalised dispersion",
       title=f"{int(var['highly_variable'].sum())} of {len(var)} genes flagged highly variable")
plt.show()

# %% [markdown]
# ### Where the labels come from
# We will score embeddings by how well they keep **known** cell types together, so the labels
# must not come from the embeddings we compare. For `pbmc68k_reduced` they don't: each cell was
# matched to expression profiles of FACS-sorted populations (Zheng et al., *Nat. Commun.* 2017).
# For PBMC 3k they come from marker genes: cells are clustered (Leiden, on a PCA neighbour
# graph) and each cluster is named after the marker set it expresses most — as in scanpy's and
# Seurat's PBMC 3k tutorials. That route *does* use PCA, which favours PCA in the comparison:
# keep it in mind when you read the numbers.
#
# Either way, the labels should agree with the textbook markers. Each dot below is one
# (cell type, gene) pair: its colour is the mean expression, its size the fraction of cells
# expressing the gene.

# %%
genes_present = set(cells.raw.var_names if cells.raw is not None else cells.var_names)
markers = {t: [g for g in gs if g in genes_present] for t, gs in PBMC_MARKERS.items()}
markers = {t: gs for t, gs in markers.items() if gs}
sc.pl.dotplot(cells, markers, groupby="cell_type", use_raw=cells.raw is not None,
              standard_scale="var", show=False)
plt.show()

# %% [markdown]
# B cells light up MS4A1 and CD79A, monocytes LYZ, NK cells GNLY and NKG7, dendritic cells
# FCER1A — but the T-cell subtypes (CD4 vs CD8, naive vs memory) share most markers. Expect
# every method to mix those up.
#
# ## 2 · Linear first: PCA
#
# PCA rotates the (centred) data so that the first axis carries the most variance, the second
# the most of what is left, and so on. With the singular value decomposition of the centred
# matrix, $X_c = U S V^\top$, the rows of $V^\top$ are the components (one weight per gene:
# the *loadings*) and component $k$ explains the fraction $s_k^2 / \sum_j s_j^2$ of the total
# variance.
#
# ### Exercise 2 — explained variance (2 points)
# Write `explained_variance_ratio(X, n_components)`: centre the columns of `X`, take the
# singular values with `np.linalg.svd(..., compute_uv=False)`, and return the fraction of the
# **total** variance explained by each of the first `n_components` components, largest first.

# %% tags=["answer"] grade_id="pca_variance"
def explained_variance_ratio(X, n_components):
    """Fraction of the total variance carried by each of the first n_components PCs."""
    ### BEGIN SOLUTION
    centred = X - X.mean(axis=0)
    power = np.linalg.svd(centred, compute_uv=False) ** 2
    return power[:n_components] / power.sum()
    ### END SOLUTION


# %% tags=["check"] grade_id="pca_variance_check" points=2
check("pca_variance")

# %%
check.use_reference("pca_variance")  # only acts if the check above fails

# %%
N_PCS = 50
pca = PCA(n_components=N_PCS, svd_solver="full").fit(cells.X)
X_pca = pca.transform(cells.X)
ratios = explained_variance_ratio(cells.X, N_PCS)
print(f"yours vs scikit-learn, first 3: {np.round(ratios[:3], 4)} vs "
      f"{np.round(pca.explained_variance_ratio_[:3], 4)}")
report("pca_variance_50", float(ratios.sum()))

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.5), layout="constrained")
ax1.plot(np.arange(1, N_PCS + 1), ratios, "o-", ms=3)
ax1.set(xlabel="component", ylabel="fraction of variance", title="scree plot: look for the elbow")
ax2.plot(np.arange(1, N_PCS + 1), np.cumsum(ratios), "o-", ms=3)
ax2.set(xlabel="components kept", ylabel="cumulative fraction", ylim=(0, 1),
        title=f"{N_PCS} components keep {ratios.sum():.0%} of the variance")
plt.show()

# %% [markdown]
# The curve drops steeply for the first handful of components and then flattens into a long
# tail: the elbow. The steep part is structure shared by many genes (cell types); the tail is
# mostly gene-by-gene noise. Only a fraction of the total variance is kept — single-cell data
# are noisy, and that is fine: we keep the shared part.
#
# Which genes drive the first components? The loadings of the marker genes tell.

# %%
gene_index = {g: i for i, g in enumerate(cells.var_names)}
shown = [g for gs in markers.values() for g in gs if g in gene_index]
loadings = pd.DataFrame(pca.components_[:3, [gene_index[g] for g in shown]].T, index=shown,
                        columns=["PC1", "PC2", "PC3"])

def plot_cells(ax, Z, title):
    """Scatter a 2-D embedding, coloured by cell type."""
    for code, name in enumerate(cell_types):
        ax.scatter(*Z[labels == code, :2].T, s=4, color=plt.cm.tab10(code % 10), label=name)
    ax.set(title=title, xticks=[], yticks=[])

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5), layout="constrained")
loadings.plot.barh(ax=ax1)
ax1.axvline(0, color="k", lw=0.5)
ax1.set(title="loadings of the marker genes", xlabel="weight in the component")
plot_cells(ax2, X_pca, "cells on PC1 and PC2")
ax2.set(xlabel="PC1", ylabel="PC2")
ax2.legend(fontsize=7, markerscale=3, loc="center left", bbox_to_anchor=(1, 0.5))
plt.show()
print(loadings.round(3).to_string())

# %% [markdown]
# Read the signs together with the scatter: genes with large weights of the same sign rise
# together along that component. Typically the myeloid markers (LYZ, CST3, FCER1A) and the
# lymphoid ones (IL7R, GNLY, NKG7, MS4A1) sit at opposite ends of one of the first components:
# the biggest split in blood. Two components separate the large groups but squash the rest —
# which is why we keep 50 and hand them to a neighbour embedding for the picture.
#
# ## 3 · Neighbour embeddings: UMAP and t-SNE
#
# UMAP and t-SNE don't keep variance; they keep **neighbourhoods**. Each finds, for every cell,
# its nearest neighbours in the 50-D PCA space, then places the cells in 2-D so that neighbours
# stay neighbours. `n_neighbors` (UMAP) and `perplexity` (t-SNE) set how many neighbours count;
# `min_dist` (UMAP) how tightly points may pack. Both run on the PCA space, as in every
# single-cell pipeline: it is faster and less noisy than the raw genes.

# %%
UMAP_EPOCHS = by_mode(quick=200, full=None)  # None: umap-learn's default (500 for small data)
TSNE_ITERATIONS = by_mode(quick=500, full=1000)  # the first 250 are "early exaggeration"


def umap_embed(Z, seed, n_neighbors=15, min_dist=0.1):
    """UMAP of Z in 2-D (a fixed seed makes it reproducible, and single-threaded)."""
    import umap  # the first call compiles with numba: 10–40 s, once per kernel

    return umap.UMAP(n_neighbors=n_neighbors, min_dist=min_dist, n_epochs=UMAP_EPOCHS,
                     random_state=seed, n_jobs=1).fit_transform(Z)


def tsne_embed(Z, seed, perplexity=30):
    """t-SNE of Z in 2-D, initialised from PCA (the scikit-learn default)."""
    return TSNE(perplexity=perplexity, init="pca", max_iter=TSNE_ITERATIONS,
                random_state=seed).fit_transform(Z)


if EMBED:
    start = time.perf_counter()
    umap_pca = {0: umap_embed(X_pca, 0)}
    print(f"UMAP: {time.perf_counter() - start:.1f} s (includes numba's first compilation)")
    start = time.perf_counter()
    tsne_pca = tsne_embed(X_pca, 0)
    print(f"t-SNE: {time.perf_counter() - start:.1f} s")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
    plot_cells(axes[0], umap_pca[0], "UMAP of the 50 PCs")
    plot_cells(axes[1], tsne_pca, "t-SNE of the 50 PCs")
    axes[1].legend(fontsize=7, markerscale=3, loc="center left", bbox_to_anchor=(1, 0.5))
    plt.show()
else:
    print("Grading run: UMAP and t-SNE are skipped (they are not graded).")

# %% [markdown]
# ### Try it — what changes, what doesn't (not graded)
# Move the sliders and press **Run Interact** (each run takes a few seconds). Write down:
# 1. With `n_neighbors` = 5 vs 50, which clusters split or merge? How does the spread inside a
#    cluster change?
# 2. With `min_dist` = 0 vs 0.9, does anything change other than how tightly points pack?
# 3. Do the *distances between* clusters, and their sizes on the page, stay the same across
#    settings and between UMAP and t-SNE?
#
# What you should find: local detail changes with the settings; which cells are neighbours
# mostly doesn't; and the gaps and areas between clusters move freely — they carry little
# meaning. Never read "cluster A is twice as far from B as from C" off such a plot.

# %%
def explore(n_neighbors=15, min_dist=0.1, perplexity=30):
    """Redraw UMAP and t-SNE of the PCA space with these settings."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
    plot_cells(axes[0], umap_embed(X_pca, 0, n_neighbors, min_dist),
               f"UMAP, n_neighbors={n_neighbors}, min_dist={min_dist:.2f}")
    plot_cells(axes[1], tsne_embed(X_pca, 0, perplexity), f"t-SNE, perplexity={perplexity}")
    plt.show()


if EMBED:
    interact_manual(explore,
                    n_neighbors=IntSlider(value=15, min=2, max=100, description="n_neighbors"),
                    min_dist=FloatSlider(value=0.1, min=0.0, max=0.99, step=0.05,
                                         description="min_dist"),
                    perplexity=IntSlider(value=30, min=5, max=100, description="perplexity"))

# %% [markdown]
# ## 4 · An autoencoder
#
# PCA is the best *linear* compression: no other linear map of the data to 50 numbers rebuilds
# it with a smaller squared error. An autoencoder drops the word "linear". An **encoder**
# network maps each cell's expression to a short code (the **bottleneck**); a **decoder** network
# maps the code back to all genes; both are trained together so the reconstruction matches the
# input. The code is the new representation.
#
# ```
# log-expression (genes) ─▶ Linear ─▶ ReLU ─▶ Linear ─▶ code (n_latent) ─▶ Linear ─▶ ReLU ─▶ Linear ─▶ reconstruction (genes)
#                          └────────────── encoder ─────────────┘         └────────────── decoder ─────────────┘
# ```
#
# We reconstruct the **log-normalised** values (`cells.layers["log"]`) with a mean squared
# error: the same space a person reads expression in.
#
# ### Exercise 3 — the model (2 points)
# Complete `Autoencoder(n_genes, n_latent, n_hidden=256)`: `self.encoder` = Linear(n_genes →
# n_hidden), ReLU, Linear(n_hidden → n_latent); `self.decoder` the mirror image (n_latent →
# n_hidden → n_genes, ReLU in between). `forward(x)` returns **two** things: the reconstruction
# and the code. (`nn.Sequential` chains layers.)

# %% tags=["answer"] grade_id="autoencoder"
class Autoencoder(nn.Module):
    """Encoder -> bottleneck code -> decoder; forward returns (reconstruction, code)."""

    def __init__(self, n_genes, n_latent, n_hidden=256):
        super().__init__()
        ### BEGIN SOLUTION
        self.encoder = nn.Sequential(nn.Linear(n_genes, n_hidden), nn.ReLU(),
                                     nn.Linear(n_hidden, n_latent))
        self.decoder = nn.Sequential(nn.Linear(n_latent, n_hidden), nn.ReLU(),
                                     nn.Linear(n_hidden, n_genes))
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        code = self.encoder(x)
        return self.decoder(code), code
        ### END SOLUTION


# %% tags=["check"] grade_id="autoencoder_check" points=2
check("autoencoder_shapes")

# %%
check.use_reference("autoencoder_shapes")  # only acts if the check above fails

# %% [markdown]
# ### Exercise 4 — one epoch of minibatch training (2 points)
# Write `train_epoch(model, loader, optimizer, loss_fn)`. Put the model in training mode
# (`model.train()`), then for every `batch` the `loader` gives (a tuple of tensors):
# zero the gradients, compute `loss = loss_fn(model, *batch)`, backpropagate, take an optimiser
# step. Return the mean loss over the epoch as a Python float (weight each batch by its size,
# `len(batch[0])`, since the last one may be smaller).

# %% tags=["answer"] grade_id="train_epoch"
def train_epoch(model, loader, optimizer, loss_fn):
    """One pass over the minibatches; returns the mean training loss."""
    ### BEGIN SOLUTION
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
    ### END SOLUTION


# %% tags=["check"] grade_id="train_epoch_check" points=2
check("train_epoch")

# %%
check.use_reference("train_epoch")  # only acts if the check above fails

# %% [markdown]
# ### The training loop, with early stopping
# A network with hundreds of thousands of weights and a few thousand cells will eventually
# memorise the training cells — noise included. So we hold out 20 % of the cells, compute their
# reconstruction loss after every epoch, and stop when it hasn't improved for `patience` epochs;
# the weights of the best epoch are the ones we keep. The held-out cells are only used to decide
# *when to stop*; the code is computed for all cells afterwards (the autoencoder never sees a
# label, so this is no leak into the kNN evaluation).

# %%
N_LATENT = 32
MAX_EPOCHS = by_mode(quick=100, full=200, grade=15)
PATIENCE = 5
BATCH_SIZE = 128


def reconstruction_loss(model, x):
    """Mean squared error between the log-expression and its reconstruction."""
    x = x.to(DEVICE)
    reconstruction, _ = model(x)
    return ((reconstruction - x) ** 2).mean()


@torch.no_grad()
def evaluate(model, loader, loss_fn):
    """Mean loss over a loader, without training."""
    model.eval()
    total, seen = 0.0, 0
    for batch in loader:
        total += loss_fn(model, *batch).item() * len(batch[0])
        seen += len(batch[0])
    return total / seen


def fit_autoencoder(model, arrays, seed, loss_fn=reconstruction_loss, curve=None):
    """Train on 80 % of the cells with early stopping on the other 20 %; return the best model."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    tensors = [torch.as_tensor(a, dtype=torch.float32) for a in arrays]
    order = torch.randperm(len(tensors[0]), generator=generator)
    held_out, training = order[: len(order) // 5], order[len(order) // 5:]
    train_loader = DataLoader(TensorDataset(*[t[training] for t in tensors]),
                              batch_size=BATCH_SIZE, shuffle=True, generator=generator)
    val_loader = DataLoader(TensorDataset(*[t[held_out] for t in tensors]), batch_size=1024)
    model = model.to(DEVICE)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    best, best_state, waited = float("inf"), None, 0
    epochs = tqdm(range(1, MAX_EPOCHS + 1), desc=f"seed {seed}", leave=False)
    for epoch in epochs:
        train_loss = train_epoch(model, train_loader, optimizer, loss_fn)
        val_loss = evaluate(model, val_loader, loss_fn)
        epochs.set_postfix(train=f"{train_loss:.4f}", validation=f"{val_loss:.4f}")
        if curve is not None:
            curve.update(epoch, train=train_loss, validation=val_loss)
        if val_loss < best - 1e-4:
            best, best_state, waited = val_loss, copy.deepcopy(model.state_dict()), 0
        else:
            waited += 1
            if waited >= PATIENCE:
                break
    model.load_state_dict(best_state)
    model.best_epoch, model.best_val_loss = epoch - waited, best
    return model


@torch.no_grad()
def encode(model, X):
    """The bottleneck code of every cell (numpy, cells x n_latent)."""
    model.eval()
    return model.encoder(torch.as_tensor(X, dtype=torch.float32).to(DEVICE)).cpu().numpy()


X_log = cells.layers["log"]
start = time.perf_counter()
curve = LiveCurve(title="autoencoder: reconstruction loss (MSE)")
ae = {0: fit_autoencoder(Autoencoder(cells.n_vars, N_LATENT), [X_log], seed=0, curve=curve)}
print(f"trained in {time.perf_counter() - start:.1f} s; best epoch {ae[0].best_epoch}, "
      f"held-out MSE {ae[0].best_val_loss:.4f}")
codes = {0: encode(ae[0], X_log)}
n_weights = sum(p.numel() for p in ae[0].parameters())
print(f"{n_weights:,} weights for {cells.n_obs} cells; code: {codes[0].shape}")

# %% [markdown]
# The training loss keeps falling; the validation loss flattens and would turn up if we let it
# run — the gap between the curves is memorisation. Early stopping kept the weights from the
# bottom of the validation curve.
#
# Now the side-by-side: UMAP of the 50 principal components vs UMAP of the 32-number code.

# %%
if EMBED:
    umap_ae = {0: umap_embed(codes[0], 0)}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
    plot_cells(axes[0], umap_pca[0], "PCA (50) → UMAP")
    plot_cells(axes[1], umap_ae[0], f"autoencoder code ({N_LATENT}) → UMAP")
    axes[1].legend(fontsize=7, markerscale=3, loc="center left", bbox_to_anchor=(1, 0.5))
    plt.show()

# %% [markdown]
# Two plausible pictures. Which representation is *better*? Pictures can't say — next we
# measure.
#
# ## 5 · An honest comparison
#
# Three questions, three numbers, each computed the same way for every representation:
#
# - **kNN accuracy**: predict a cell's type from its 15 nearest neighbours, with 5-fold
#   cross-validation — the classifier is always scored on cells it did not see. Do cells of a
#   type sit together?
# - **silhouette** of the labels (−1 … 1): is each cell closer to its own type than to the
#   nearest other type, on average? It rewards compact, separated groups.
# - **trustworthiness** (0 … 1): are a cell's neighbours in the embedding also its neighbours in
#   the full expression data? It punishes neighbourhoods invented by the embedding: every
#   embedding neighbour that is not among the cell's $k$ nearest in the expression data costs
#   its rank there minus $k$ (a cell that is 200th-nearest in the data costs far more than one
#   that is 16th), and the summed cost is scaled so that 1 means no intruders and 0 the worst
#   possible. So 0.8 does **not** mean "a fifth of the neighbours are wrong": it means the
#   intruders, weighted by how far away they really are, add up to a fifth of the maximum
#   penalty.
#
# The three numbers are not equally comparable *across* representations. kNN accuracy asks the
# same question in any space. Silhouette and trustworthiness are not: a silhouette computed in
# 50, 32 or 2 dimensions measures distances of different kinds (in high dimensions distances
# concentrate and silhouettes come out low), and trustworthiness of a 2-D picture is judged
# against a space the 50-D PCA is a linear projection of, which favours PCA. Read those two
# within a column (seed to seed, UMAP against UMAP), not as a ranking of 50-D against 2-D.
#
# And each over several seeds (the autoencoder's initialisation and minibatches, UMAP's
# layout, the folds), because a difference smaller than the seed-to-seed spread is no
# difference.
#
# ### Exercise 5 — kNN accuracy (2 points)
# Write `knn_accuracy(Z, labels, seed=0, k=15, n_folds=5)`: split the cells with
# `StratifiedKFold(n_folds, shuffle=True, random_state=seed)` (each fold keeps the type
# proportions); for each split fit `KNeighborsClassifier(k)` on the training part and score it
# on the held-out part; return the mean accuracy.

# %% tags=["answer"] grade_id="knn_accuracy"
def knn_accuracy(Z, labels, seed=0, k=15, n_folds=5):
    """Mean held-out accuracy of a k-nearest-neighbour classifier, stratified k-fold CV."""
    ### BEGIN SOLUTION
    folds = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
    scores = []
    for train, test in folds.split(Z, labels):
        model = KNeighborsClassifier(k).fit(Z[train], labels[train])
        scores.append(model.score(Z[test], labels[test]))
    return float(np.mean(scores))
    ### END SOLUTION


# %% tags=["check"] grade_id="knn_accuracy_check" points=2
check("knn_accuracy")
### BEGIN HIDDEN TESTS
check("knn_accuracy_hidden")
### END HIDDEN TESTS

# %%
check.use_reference("knn_accuracy")  # only acts if the check above fails

# %% [markdown]
# Now every representation, every seed. PCA itself doesn't depend on the seed; its spread comes
# from the folds alone.
#
# **Like for like.** The lesson's PCA has 50 components of the *scaled* genes (`cells.X`); the
# autoencoder has a 32-number code of the *log-normalised, unscaled* values (`X_log`). A fair
# duel changes one thing only, so the table adds a PCA with the autoencoder's dimension
# (32) on the autoencoder's input (`X_log`). And trustworthiness needs a reference space: the
# scaled genes are what the 50-component PCA was computed from, which favours it, so it is
# measured against both spaces — `cells.X` (scaled) and `X_log` (the autoencoder's input,
# which the 32-component PCA shares).

# %%
X_pca_same = PCA(n_components=N_LATENT, random_state=0).fit_transform(np.asarray(X_log))
PCA_SAME = f"PCA ({N_LATENT}, AE input)"


def scores(Z, seed):
    """The numbers of one representation (trustworthiness against both reference spaces)."""
    return {"kNN accuracy": knn_accuracy(Z, labels, seed=seed),
            "silhouette": silhouette_score(Z, labels),
            "trustworthiness": trustworthiness(cells.X, Z, n_neighbors=15),
            "trustworthiness (X_log)": trustworthiness(np.asarray(X_log), Z, n_neighbors=15)}


rows = []
for seed in tqdm(SEEDS, desc="seeds"):
    if seed not in ae:
        ae[seed] = fit_autoencoder(Autoencoder(cells.n_vars, N_LATENT), [X_log], seed=seed)
        codes[seed] = encode(ae[seed], X_log)
    representations = {"PCA (50)": X_pca, PCA_SAME: X_pca_same,
                       f"AE code ({N_LATENT})": codes[seed]}
    if EMBED:
        if seed not in umap_pca:
            umap_pca[seed], umap_ae[seed] = umap_embed(X_pca, seed), umap_embed(codes[seed], seed)
        representations |= {"PCA → UMAP": umap_pca[seed], "AE → UMAP": umap_ae[seed]}
    for method, Z in representations.items():
        rows.append({"method": method, "seed": seed, **scores(Z, seed)})

results = pd.DataFrame(rows)
summary = results.drop(columns="seed").groupby("method", sort=False).agg(["mean", "std"])
print(summary.round(3).to_string())

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.5), layout="constrained")
for ax, metric in zip(axes, ["kNN accuracy", "silhouette", "trustworthiness"], strict=True):
    ax.barh(summary.index, summary[(metric, "mean")], xerr=summary[(metric, "std")],
            color="steelblue", capsize=3)
    ax.scatter(results[metric], results["method"], color="k", s=8, zorder=3)
    ax.set(title=metric)
    ax.invert_yaxis()
axes[0].set_xlim(0.5, 1)
axes[2].set_xlim(0.5, 1)
fig.suptitle(f"{cells.uns['dataset']}: mean ± std over {len(SEEDS)} seeds (dots: single seeds)")
plt.show()

# %%
def stat(method, metric, what="mean"):
    """One number of the summary table (0 for the spread of a single seed)."""
    value = summary.loc[method, (metric, what)]
    return 0.0 if np.isnan(value) else float(value)


AE = f"AE code ({N_LATENT})"
report("dataset", cells.uns["dataset"])
report("n_seeds", len(SEEDS))
for key, method in [("pca", "PCA (50)"), ("pca_same", PCA_SAME), ("ae", AE),
                    ("umap_pca", "PCA → UMAP"), ("umap_ae", "AE → UMAP")]:
    if method not in summary.index:
        continue
    report(f"knn_acc_{key}", stat(method, "kNN accuracy"))
    report(f"knn_acc_{key}_std", stat(method, "kNN accuracy", "std"))
    report(f"silhouette_{key}", stat(method, "silhouette"))
    report(f"trustworthiness_{key}", stat(method, "trustworthiness"))
    report(f"trustworthiness_log_{key}", stat(method, "trustworthiness (X_log)"))

for rival in ("PCA (50)", PCA_SAME):
    gap = stat(AE, "kNN accuracy") - stat(rival, "kNN accuracy")
    noise = max(stat(AE, "kNN accuracy", "std"), stat(rival, "kNN accuracy", "std"), 0.005)
    if abs(gap) <= 2 * noise:
        verdict = "a tie: the difference is within the seed-to-seed spread"
    else:
        verdict = f"{'the autoencoder' if gap > 0 else 'PCA'} is ahead by more than the spread"
    print(f"kNN accuracy, autoencoder − {rival}: {gap:+.3f} (spread about ±{noise:.3f}) "
          f"→ {verdict}.")

# %% [markdown]
# Which cells does the classifier get wrong? The most frequent confusions on the PCA space:

# %%
predicted = cross_val_predict(KNeighborsClassifier(15), X_pca, labels,
                              cv=StratifiedKFold(5, shuffle=True, random_state=0))
wrong = pd.Series([f"{cell_types[t]} → {cell_types[p]}"
                   for t, p in zip(labels, predicted, strict=True) if t != p])
print(f"{len(wrong)} of {len(labels)} cells misclassified; the most frequent mix-ups:")
print(wrong.value_counts().head(6).to_string())

# %%
n_weights = sum(p.numel() for p in ae[SEEDS[0]].parameters())
print(f"this run: {cells.uns['dataset']}, {cells.n_obs} cells × {cells.n_vars} genes, "
      f"{len(SEEDS)} seeds; the autoencoder has {n_weights:,} weights")
for method in summary.index:
    print(f"  {method:12s} kNN {stat(method, 'kNN accuracy'):.3f} "
          f"± {stat(method, 'kNN accuracy', 'std'):.3f}, "
          f"silhouette {stat(method, 'silhouette'):.2f}, trustworthiness "
          f"{stat(method, 'trustworthiness'):.2f} (scaled) / "
          f"{stat(method, 'trustworthiness (X_log)'):.2f} (X_log)")

# %% [markdown]
# ### Question 1 — why kNN accuracy is the fair question (1 point)
# Why does this notebook compare representations by cross-validated kNN accuracy rather than
# by how well separated the clusters look in a UMAP of each?
#
# - **a)** kNN is faster to compute than UMAP.
# - **b)** A UMAP cannot be computed from an autoencoder's code.
# - **c)** kNN accuracy asks the same question in any space (do a cell's nearest neighbours
#   share its type?) on held-out cells, while a picture's look depends on UMAP's own
#   settings and seed.
# - **d)** kNN accuracy is always higher than the silhouette.
#
# Set `answer_knn` to the letter of your answer, as a string such as "a".

# %% tags=["answer"] grade_id="q_knn_fair"
### BEGIN SOLUTION
answer_knn = "c"
### END SOLUTION

# %% tags=["check"] grade_id="q_knn_fair_check" points=1
check("q_knn_fair")


# %% [markdown]
# ### Reading the numbers
# Read this run's numbers (the cell above) first; which dataset you got decides some of them.
# For reference, on `pbmc68k_reduced` (the offline and grading data; quick mode, 3 seeds,
# course reference run) we measured kNN accuracies of about 0.79 (PCA), 0.80 (autoencoder
# code), 0.80 (PCA → UMAP) and 0.79 (AE → UMAP), each with a spread of about ±0.01;
# silhouettes rising from 0.09 (PCA) to 0.17 (code) and 0.20–0.27 (UMAPs); and
# trustworthiness falling from 0.96 (PCA) to 0.82 (code) and 0.78–0.79 (UMAPs). On PBMC 3k
# (online) the numbers differ — more cells, other genes, and labels from a PCA-based
# clustering that favours PCA (section 2) — so check each statement below against your own
# table and the verdicts printed above it. The like-for-like row (PCA with 32 components of
# `X_log`) is the fair rival of the autoencoder; trustworthiness against `X_log` is the
# reference that favours neither of those two. On `pbmc68k_reduced` (quick mode, 3 seeds,
# measured 2026-12-02) that duel gave kNN 0.799 ± 0.002 (PCA 32) against 0.803 ± 0.013 (AE):
# a tie; silhouette 0.14 against 0.17; trustworthiness against `X_log` 0.97 against 0.95 —
# the linear map kept neighbourhoods slightly better, the autoencoder drew tighter clusters.
#
# - **For telling cell types apart, it is a tie.** All four representations reach the same kNN
#   accuracy within about twice the seed-to-seed spread. The mistakes (above) are mostly
#   dendritic cells ↔ monocytes, T-cell subtypes among themselves, and NK ↔ cytotoxic T cells —
#   populations whose labels came from bulk correlations and whose expression differs in a few
#   genes. A non-linear encoder cannot recover information that a few hundred to a few
#   thousand noisy cells (the cell above says how many) don't hold.
# - **Tighter clusters are not better data.** The autoencoder and, more so, UMAP raise the
#   silhouette — same-type cells are pulled together — while trustworthiness drops: their
#   neighbourhoods take in cells that are far down the list in the expression data (weighted
#   by how far, as explained above). A crisp UMAP is partly UMAP's doing; it is a picture, and
#   its gaps carry little meaning.
# - **The autoencoder costs more for the same answer.** It needs early stopping (without it the
#   code keeps fitting noise: watch the validation curve above), more hyperparameters, seconds
#   instead of milliseconds, and its result varies with the seed. PCA — one line, deterministic —
#   already gives what it gives here.
#
# **When does the deep model pay off?** With more data and with the right likelihood:
#
# - **Scale.** PCA on 1.3 million cells (10x's mouse brain set) needs the whole matrix, or
#   incremental and randomised variants; a neighbour embedding of 1.3 M points takes hours. An
#   autoencoder trains on minibatches streamed from disk, so its memory does not grow with the
#   number of cells, and encoding a new cell is one forward pass. scVI (Lopez et al., *Nat.
#   Methods* 2018) was shown on exactly that 1.3 M-cell dataset.
# - **Capacity.** Hundreds of thousands of weights (printed above) fitted on a few hundred or a
#   few thousand training cells are mostly noise-fitting capacity;
#   with a million cells the same network has data enough to learn structure that a linear map
#   misses (continuous trajectories, rare subtypes).
# - **Counts.** Squared error on log values treats a 0 as exact. Real UMI counts are noisy
#   draws; a count likelihood (negative binomial, below) models that noise, and lets the model
#   also absorb batch effects or library size explicitly.
#
# For 700 or 2,700 cells: PCA is enough, and it is the honest baseline any deep model must beat
# *with error bars*.
# %% [markdown]
# ### Question 2 — what a trustworthiness of 0.8 says (1 point)
# Suppose a 2-D embedding has a trustworthiness of 0.8 against the space it was computed
# from. What does that say?
#
# - **a)** 80 % of the cells are placed in the cluster of their true type.
# - **b)** Its neighbourhoods are mostly but not fully real: some of a cell's neighbours in the
#   picture are not near it in the original space. It says nothing about the distances
#   between clusters.
# - **c)** The embedding keeps 80 % of the variance of the original space.
# - **d)** Distances between clusters in the picture are 80 % of the true distances.
#
# Set `answer_trust` to the letter of your answer, as a string such as "a".

# %% tags=["answer"] grade_id="q_trustworthiness"
### BEGIN SOLUTION
answer_trust = "b"
### END SOLUTION

# %% tags=["check"] grade_id="q_trustworthiness_check" points=1
check("q_trustworthiness")


# %% [markdown]
# ## 6 · Extension (full mode): a count-aware autoencoder
#
# The decoder now outputs, for each cell, the **share** of its UMIs that each gene gets
# (softmax); times the cell's total UMIs that is the expected count $\mu$. Counts are scored
# with the negative binomial log-likelihood, whose per-gene dispersion $\theta$ is learned
# (small $\theta$: more variable than Poisson):
#
# $$\log p(x \mid \mu, \theta) = \log\Gamma(x+\theta) - \log\Gamma(\theta) - \log\Gamma(x+1)
#   + \theta \log\frac{\theta}{\theta+\mu} + x \log\frac{\mu}{\theta+\mu}.$$
#
# The encoder still reads log-normalised values; only what it must explain changes: the raw
# counts, instead of their log.

# %%
class CountAutoencoder(Autoencoder):
    """The same encoder; the decoder's outputs become gene shares; plus a per-gene dispersion."""

    def __init__(self, n_genes, n_latent, n_hidden=256):
        super().__init__(n_genes, n_latent, n_hidden)
        self.log_theta = nn.Parameter(torch.zeros(n_genes))


def nb_loss(model, x_log, counts):
    """Negative binomial negative log-likelihood of the counts, per gene and cell."""
    x_log, counts = x_log.to(DEVICE), counts.to(DEVICE)
    logits, _ = model(x_log)
    mu = torch.softmax(logits, dim=-1) * counts.sum(dim=1, keepdim=True)
    theta = model.log_theta.exp()
    log_p = (torch.lgamma(counts + theta) - torch.lgamma(theta) - torch.lgamma(counts + 1)
             + theta * (torch.log(theta) - torch.log(theta + mu))
             + counts * (torch.log(mu + 1e-8) - torch.log(theta + mu)))
    return -log_p.mean()


COUNT_MODEL = by_mode(quick=False, full=True)
if COUNT_MODEL:
    nb_rows = []
    for seed in tqdm(SEEDS, desc="count model"):
        model = fit_autoencoder(CountAutoencoder(cells.n_vars, N_LATENT),
                                [X_log, cells.layers["counts"]], seed=seed, loss_fn=nb_loss)
        nb_rows.append(scores(encode(model, X_log), seed))
    nb_summary = pd.DataFrame(nb_rows).agg(["mean", "std"])
    print("negative-binomial autoencoder, over seeds:\n" + nb_summary.round(3).to_string())
    report("knn_acc_ae_nb", float(nb_summary.loc["mean", "kNN accuracy"]))
    report("knn_acc_ae_nb_std", float(nb_summary.loc["std", "kNN accuracy"]))
else:
    print("The count model trains in full mode (COURSE_MODE=full); the code above is complete.")

# %% [markdown]
# ## 7 · Scale up (full mode): 68,579 cells streamed from disk
#
# The same autoencoder on all of 10x's PBMC 68k (68,579 cells × 32,738 genes, the dataset that
# `pbmc68k_reduced` was sampled from). The count matrix stays **on disk** (AnnData's
# `backed="r"` mode); each minibatch reads a block of consecutive rows, normalises it (library
# size over all genes), keeps the genes of our lesson and feeds the network. Memory stays flat
# however many cells there are — the property that makes 1.3 M cells feasible.

# %%
SCALE_UP = by_mode(quick=False, full=True)
big = None
if not SCALE_UP:
    print("Scale-up runs in full mode only (COURSE_MODE=full): it reads a 0.5 GB file.")
else:
    from course_utils.data import load_pbmc68k

    try:
        big = load_pbmc68k(backed=True)
    except DatasetUnavailable as exc:
        print(f"PBMC 68k is not available here, so this section is skipped.\n{exc}")

# %%
if big is not None:
    from course_utils.single_cell import block_minibatches, read_log_normalised

    genes = np.flatnonzero(big.var_names.isin(cells.var_names))
    print(f"{big.n_obs:,} cells on disk; training on the {len(genes)} genes shared with the "
          "lesson's data")
    rng = np.random.default_rng(0)
    held_rows = np.sort(rng.choice(big.n_obs, 5000, replace=False))
    X_held = torch.as_tensor(read_log_normalised(big, held_rows, genes))
    big_model = Autoencoder(len(genes), N_LATENT).to(DEVICE)
    optimizer = torch.optim.Adam(big_model.parameters(), lr=2e-3)
    big_curve = LiveCurve(title="PBMC 68k from disk: reconstruction loss")
    for epoch in range(1, 4):
        start = time.perf_counter()
        batches = ((torch.as_tensor(read_log_normalised(big, rows, genes)),)
                   for rows in block_minibatches(big.n_obs, 512, seed=epoch))
        train_loss = train_epoch(big_model, tqdm(batches, total=-(-big.n_obs // 512),
                                                 desc=f"epoch {epoch}", leave=False),
                                 optimizer, reconstruction_loss)
        seconds = time.perf_counter() - start
        big_curve.update(epoch, train=train_loss, validation=evaluate(
            big_model, [(X_held,)], reconstruction_loss))
        print(f"epoch {epoch}: {seconds:.0f} s, {big.n_obs / seconds:,.0f} cells/s")
    report("scaleup_cells_per_s", big.n_obs / seconds)
    sample = np.sort(rng.choice(big.n_obs, 4000, replace=False))
    sample_log = read_log_normalised(big, sample, genes)
    sample_umap = umap_embed(encode(big_model, sample_log), 0)
    shown_genes = [g for g in ["LYZ", "MS4A1", "NKG7", "IL7R"] if g in big.var_names[genes]]
    fig, axes = plt.subplots(1, len(shown_genes), figsize=(3.5 * len(shown_genes), 3.5),
                             layout="constrained")
    for ax, gene in zip(np.atleast_1d(axes), shown_genes, strict=True):
        column = list(big.var_names[genes]).index(gene)
        ax.scatter(*sample_umap.T, c=sample_log[:, column], s=1, cmap="viridis")
        ax.set(title=f"{gene}: UMAP of 4,000 sampled cells", xticks=[], yticks=[])
    plt.show()

# %% [markdown]
# ## Glossary
#
# - **count matrix**: cells × genes, the number of RNA molecules of each gene found in each
#   cell.
# - **library size**: a cell's total count; dividing by it removes differences in sequencing
#   depth.
# - **log1p**: log(1 + x), which keeps zeros at zero and tames the largest counts.
# - **highly variable genes**: the genes whose expression varies most between cells, kept for
#   analysis.
# - **explained variance ratio**: the share of the total variance along each principal
#   component.
# - **UMAP / t-SNE**: 2-D pictures that keep each cell's neighbours close; far distances mean
#   little.
# - **autoencoder**: a network that squeezes its input through a small code (the bottleneck)
#   and rebuilds it.
# - **minibatch**: the few cells one optimiser step sees.
# - **early stopping**: keeping the model of the epoch with the lowest validation loss.
# - **kNN accuracy**: how often a cell's k nearest neighbours vote for its own type, on held-
#   out cells.
# - **silhouette**: how much closer a cell is to its own type than to the nearest other type.
# - **trustworthiness**: whether a cell's neighbours in an embedding are also its neighbours
#   in the original space.

# %% [markdown]
# ## What you learned
# - Single-cell counts are normalised per cell (library size, then `log1p`) **before** genes
#   are selected; quality control removes empty droplets, doublets and broken cells; highly
#   variable genes and scaling prepare the matrix for PCA.
# - PCA's explained-variance ratio is $s_k^2/\sum_j s_j^2$; a scree plot's elbow separates
#   shared structure from noise; loadings tell which genes drive a component.
# - UMAP and t-SNE keep neighbourhoods, not distances: local detail depends on `n_neighbors`,
#   `min_dist` and `perplexity`; gaps and cluster sizes on the page mean little.
# - An autoencoder is an encoder, a bottleneck and a decoder trained to rebuild its input; it
#   needs minibatches, a held-out set and early stopping, or it memorises.
# - Compare representations with cross-validated kNN accuracy, silhouette and trustworthiness,
#   over several seeds, with the spread. On a few thousand cells the autoencoder ties with PCA at
#   best; its advantages — streaming from disk, count likelihoods, capacity — show at scale.

# %%
check.all()
