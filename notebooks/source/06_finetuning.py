# ---
# jupyter:
#   course:
#     grade_seconds: 30
#     datasets: [bbbc039, unet-pretrained]
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
# # 06 · How many annotated images do you need? Learning curves, augmentation, fine-tuning
#
# Every lab that wants a segmentation network asks the same question before it starts drawing
# outlines: *how many images do we have to annotate?* A BBBC039 field holds about a hundred
# nuclei; at half a minute per outline that is an hour of careful drawing per field, so the
# answer decides weeks of work. The usual advice is
# "retrain lightly": start from a network pretrained elsewhere, fine-tune it on a few of your
# own images, and augment them. In this notebook you *measure* that advice on real data,
# instead of taking it on trust.
#
# **You will be able to**
# 1. draw a learning curve — held-out AP against the number of annotated fields — and read
#    from it how many fields a goal needs and where more annotation stops paying;
# 2. measure what augmentation (flips, turns, brightness, elastic bending) buys when data are
#    few, and say when it should matter most;
# 3. fine-tune a pretrained U-Net: all layers or a frozen encoder (`requires_grad`), with a
#    lower learning rate, and say why;
# 4. compare from-scratch and fine-tuned training fairly: same fields, same steps, same seeds;
# 5. turn the measurements into a decision for a real project.
#
# **Time:** about 60 minutes, of which about 2 minutes of training on a laptop CPU (quick
# mode: a dozen short runs). **Exercises:** 4 and 2 questions, worth 9 points; each is
# followed by a check cell that tells you whether you got it right (and, if not, where to look).
#
# **Builds on** notebook 04: the same data (BBBC039), the same U-Net design, targets, loss and
# metric. So that nothing here depends on your answers there, this notebook uses the course's
# own version of 04's U-Net (`course_utils.references.segmentation`).
#
# **Data:** BBBC039v1 (Caicedo et al., *Cytometry A* 95:952, 2019; CC0) through the course's
# data layer, and a U-Net pretrained by the course on *generated* nuclei
# (`scripts/pretrain_unet.py`), shipped with the package.

# %% [markdown]
# **When you are stuck.** A check that fails prints ✗ with a hint, and the notebook goes on.
# The cell after each exercise's check, `check.use_reference("…")`, does nothing when your
# answer passes; when it fails, it puts the course's own version under the same name (and
# says so), so that the cells after it run. The reference scores no points: come back, fix
# your answer and run it again. Questions ask what a result means: set the variable to a
# letter.

# %%
from course_utils.checks import Checker

check = Checker("06_finetuning", globals())

# %%
import zlib
from itertools import pairwise

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import display
from skimage.morphology import remove_small_objects
from tqdm.auto import tqdm

from course_utils import by_mode, get_mode, report
from course_utils.cpus import thread_count
from course_utils.data import load_pretrained_unet, nuclei_fields
from course_utils.device import get_device
from course_utils.imaging import min_span_of
from course_utils.pretraining import pretrain_here
from course_utils.references.segmentation import (
    UNet,
    segmentation_loss,
    three_class_targets,
    to_instances,
)
from course_utils.segmentation.baseline import otsu_watershed
from course_utils.segmentation.fields import prepare_images, prepare_targets
from course_utils.segmentation.metrics import matching_ap
from course_utils.segmentation.patches import PatchSampler, augment, elastic_deform
from course_utils.segmentation.predict import predict_fields
from course_utils.training import checkpoint_path, finished_checkpoint, load_or_train

device = get_device()
torch.set_num_threads(min(thread_count(), 8))  # the CPUs this kernel may use (a grader's share)
print(f"Computing on {device}, {torch.get_num_threads()} CPU threads, run mode {get_mode()}.")

# %% [markdown]
# ## 1 · The data, and what an annotation costs
#
# The annotated fields come from BBBC039's training split, in a fixed random order: "4
# fields" always means the first 4 of that order, so each larger set *contains* the smaller
# ones and the curve shows the effect of more data, not of other data. (In full mode each
# seed has its own order, so the error bars include the luck of *which* fields were annotated.)
# Scores are on held-out fields — the test split when present, else the validation split, as
# in notebook 04 — that no run ever trains on.
#
# What costs time is outlining nuclei, not taking pictures, so we count the cost of a training
# set in **nuclei outlined**. Images without outlines are free: the normalisation floor of
# notebook 04 is computed from all training images.

# %%
SIZES = by_mode(quick=(1, 4, 16), full=(1, 2, 4, 8, 16), grade=(1,))
SEEDS = by_mode(quick=(0,), full=(0, 1, 2), grade=(0,))
pool = nuclei_fields("train", n=by_mode(quick=None, full=None, grade=2))
evaluation = nuclei_fields("test", n=by_mode(quick=16, full=None, grade=1))
EVAL_SPLIT = evaluation.split  # "test", "val" — or "synthetic" when no real data was found
order = {seed: np.random.default_rng(seed).permutation(len(pool)) for seed in SEEDS}
nuclei_per_field = np.array([int(lab.max()) for lab in pool.labels])  # ids run 1 … k
cost = {seed: {n: int(nuclei_per_field[order[seed][:n]].sum()) for n in SIZES} for seed in SEEDS}
print(f"annotation pool: {len(pool)} training fields; evaluation: {len(evaluation)} fields of "
      f"the {EVAL_SPLIT!r} split, {sum(int(t.max()) for t in evaluation.labels):,} nuclei")
print("nuclei outlined in the first n fields (seed 0):", cost[SEEDS[0]])

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 4))
first = order[SEEDS[0]][0]
axes[0].imshow(pool.images[first], cmap="gray")
axes[0].set_title("annotated field #1")
axes[1].imshow(np.where(pool.labels[first] > 0, pool.labels[first] % 20 + 1, 0), cmap="tab20",
               interpolation="nearest")
axes[1].set_title(f"its outlines: {nuclei_per_field[first]} nuclei")
for ax in axes[:2]:
    ax.axis("off")
axes[2].hist(nuclei_per_field, bins=20)
axes[2].set(xlabel="nuclei in a training field", ylabel="fields",
            title="what one field costs to annotate")
plt.show()

# %%
SCALE = 2  # half resolution, as in notebook 04
MIN_SPAN = min_span_of(pool.images)
pool_x = prepare_images(pool.images, SCALE, MIN_SPAN)
pool_y = prepare_targets(pool.labels, SCALE, three_class_targets)
print(f"network input: {pool_x.shape}, targets: {pool_y.shape}")

# %% [markdown]
# ## 2 · One recipe for every run
#
# A fair comparison changes one thing at a time. Every run below trains notebook 04's U-Net
# with the same loss (weighted cross-entropy + soft Dice), the same patches, the same number of
# steps and the same one-cycle learning-rate schedule; only the number of annotated fields,
# the augmentation, the starting weights and the learning rate change — and the table says
# which.
#
# The number of steps is fixed, not the number of epochs: a run on 1 field and a run on 16
# fields get the same compute, and differ only in how much *different* data they see. Quick
# mode gives each run a few seconds of CPU; full mode (a GPU) trains each run far longer and
# repeats every point with three seeds. A few seconds are far too few for a network that
# starts from random weights (notebook 04 trains one for minutes): expect the scratch curve to
# lag in quick mode for lack of compute as much as of data. Compare the runs with one another.
#
# Post-processing (seeds, watershed, small fragments) is also fixed, at values that suit a
# trained U-Net: tuning it per run would need annotated fields of its own, and those are what
# this notebook counts.

# %%
PATCH = 96
STEPS = by_mode(quick=200, full=1500, grade=2)
BATCH = by_mode(quick=4, full=16, grade=2)
LEARNING_RATE = 5e-3  # notebook 04's, for a network that starts from random weights
CLASS_WEIGHTS = torch.tensor([1.0, 1.0, 5.0], device=device)
POST = {"seed_threshold": 0.6, "mask_threshold": 0.5, "min_size": 30}


def train(model, n_fields, seed, learning_rate, augmented=True):
    """Train ``model`` in place for STEPS steps on the first ``n_fields`` fields of ``seed``'s order.

    Only parameters with ``requires_grad`` are given to the optimiser: a frozen layer keeps its
    weights (and gets no weight decay either). Returns the loss of every step.
    """
    chosen = np.sort(order[seed][:n_fields])
    sampler = PatchSampler(pool_x[chosen], pool_y[chosen], PATCH, augment_patches=augmented,
                           elastic=0.5 if augmented else 0.0)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trainable, lr=learning_rate, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=learning_rate,
                                                   total_steps=STEPS, pct_start=0.15)
    rng = np.random.default_rng(seed)
    model.train()
    losses = []
    for _ in range(STEPS):
        images, targets = sampler.batch(BATCH, rng)
        loss = segmentation_loss(model(images.to(device)), targets.to(device), CLASS_WEIGHTS)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        losses.append(loss.item())
    return losses


def segment(prob):
    """Instances from the three class probabilities, with the fixed post-processing."""
    labels = to_instances(prob, POST["seed_threshold"], POST["mask_threshold"])
    return remove_small_objects(labels, max_size=POST["min_size"])


truth = list(evaluation.labels)


def evaluate(model):
    """Pooled AP@0.5 of ``model`` on the evaluation fields."""
    prob = predict_fields(model, evaluation.images, SCALE, MIN_SPAN)
    return matching_ap(truth, [segment(p) for p in prob], (0.5,)).at(0.5)


# %% [markdown]
# The floor every learned model must beat is notebook 04's classical pipeline, Otsu threshold
# and watershed, which needs no annotation at all. The mark at the top is notebook 04's U-Net,
# trained for minutes on all 90 of its training fields: when you ran notebook 04 in this run
# mode (or your course provides its reference run), its saved model is scored here on the same
# fields, with this notebook's fixed post-processing and a single view per field. (Notebook 04
# tuned its post-processing, averaged eight views and scored other fields, so the numbers of
# its own table are not comparable with these.) A short run that reaches it has done with a
# few fields what 04 did with 90.

# %%
baseline_ap = matching_ap(truth, [otsu_watershed(im) for im in evaluation.images], (0.5,)).at(0.5)
ceiling_ap = None
saved_04 = finished_checkpoint(f"04_unet_{get_mode()}_")
if saved_04 is not None:
    state = torch.load(saved_04, map_location="cpu", weights_only=False)["model"]
    ceiling_model = UNet(channels=state["head.weight"].shape[1]).to(device)
    ceiling_model.load_state_dict(state)
    ceiling_ap = evaluate(ceiling_model)
    print(f"notebook 04's U-Net ({saved_04.name}): AP@0.5 = {ceiling_ap:.3f}")
else:
    print("No finished run of notebook 04 in this run mode was found, so the plots leave out "
          "04's U-Net. Run notebook 04 first (or ask for its reference run) to add it.")
print(f"Otsu + watershed: AP@0.5 = {baseline_ap:.3f} on the same {len(truth)} fields")

# %% [markdown]
# ## 3 · A pretrained network
#
# The course ships a U-Net of exactly 04's design, pretrained from scratch on fields the
# course **generates**: elliptical nuclei, some touching, with uneven background, blur and
# camera noise (`course_utils.data.synthetic_nuclei`). It has never seen a BBBC039 field. This
# is a *sim-to-real* start: the network has learnt what a bright blob with an edge looks like,
# and how to mark the boundary between two blobs, but not the texture, sizes and shapes of
# real U2OS nuclei. (A pretrained network from a real, varied collection — DSB2018 —
# is the other choice: `scripts/pretrain_unet.py --source dsb2018` makes one where that data
# can be had.)
#
# How good is it before it sees a single BBBC039 outline? That is the "0 annotated fields"
# point of the fine-tuning curve. In full mode (a GPU) the notebook pretrains its own network
# first, for longer, on DSB2018 when that can be had and on generated nuclei otherwise: the
# recipe printed below says which.

# %%
PRETRAIN_HERE = by_mode(quick=False, full=True, grade=False)
pretrained = pretrain_here(device) if PRETRAIN_HERE else load_pretrained_unet("synthetic")
RECIPE = pretrained["recipe"]
CHANNELS, DEPTH = RECIPE["channels"], RECIPE["depth"]
print(f"pretrained on {RECIPE['n_fields']} {RECIPE['source']} fields for {RECIPE['steps']} "
      f"steps (loss at the end {pretrained['final_loss']:.3f}); {CHANNELS} channels, "
      f"depth {DEPTH}")


def pretrained_unet():
    """A fresh copy of the pretrained U-Net, on ``device``."""
    model = UNet(channels=CHANNELS, depth=DEPTH)
    model.load_state_dict(pretrained["state_dict"])
    return model.to(device)


zero_shot_ap = evaluate(pretrained_unet())
print(f"pretrained, not fine-tuned: AP@0.5 = {zero_shot_ap:.3f} "
      f"(Otsu + watershed: {baseline_ap:.3f})")

# %% [markdown]
# ### Freezing layers
#
# Fine-tuning continues training from the pretrained weights. One choice is which layers may
# change. The **encoder** (`model.down`: every block on the way down, the bottleneck included)
# turns pixels into features — edges, blobs, textures — that are much the same in any
# fluorescence image; the **decoder** (`model.up`, `model.merge`) and the **head** turn those
# features into this task's classes. Freezing the encoder keeps its features as they are and
# trains only the rest: fewer parameters to fit to very few fields.
#
# In PyTorch a parameter is frozen by setting its `requires_grad` to `False`: backpropagation
# then computes no gradient for it, and our `train` does not hand it to the optimiser. (Its
# batch-normalisation *running averages* still adapt to the new images in training mode —
# they are statistics, not parameters.)
#
# ### Exercise 1 — freeze the encoder (2 points)
# Write `freeze_encoder(model)`: set `requires_grad = False` on every parameter of
# `model.down` (and on nothing else), then return the model. `module.parameters()` yields the
# parameters of a module and of all the modules inside it.

# %% tags=["answer"] grade_id="freeze_encoder"
def freeze_encoder(model):
    """Stop training the encoder: no parameter of ``model.down`` gets a gradient."""
    ### BEGIN SOLUTION
    for parameter in model.down.parameters():
        parameter.requires_grad = False
    return model
    ### END SOLUTION


# %% tags=["check"] grade_id="freeze_encoder_check" points=2
check("freeze_encoder")
### BEGIN HIDDEN TESTS
check("freeze_encoder_hidden")
### END HIDDEN TESTS

# %%
check.use_reference("freeze_encoder")  # only acts if the check above fails

# %% [markdown]
# ### Exercise 2 — count what will be trained (1 point)
# Write `count_trainable(model)`: the number of individual weights (numbers, not tensors) that
# the optimiser will change — the total `numel()` of the parameters whose `requires_grad` is
# `True`.

# %% tags=["answer"] grade_id="count_trainable"
def count_trainable(model):
    """How many numbers of ``model`` receive gradients."""
    ### BEGIN SOLUTION
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
    ### END SOLUTION


# %% tags=["check"] grade_id="count_trainable_check" points=1
check("count_trainable")

# %%
check.use_reference("count_trainable")  # only acts if the check above fails

# %%
whole = pretrained_unet()
total = count_trainable(whole)
frozen = count_trainable(freeze_encoder(pretrained_unet()))
print(f"all layers: {total:,} trainable parameters; frozen encoder: {frozen:,} "
      f"({frozen / total:.0%} of them)")

# %% [markdown]
# ### A lower learning rate
#
# From random weights, notebook 04 trains at a peak learning rate of 5·10⁻³. A pretrained
# network already sits near a good solution; steps much larger than it needs throw part of it
# away in the first updates, and with one or two annotated fields what replaces it is fitted
# to those fields alone. Fine-tuning therefore usually starts about ten times lower: the
# weights move from where pretraining left them rather than start over. How much lower is a
# trade-off — too low and the network barely adapts in the steps it has — and the cell after
# the curves measures one point of it: the same field fine-tuned at ten times *04's* rate.

# %%
FINETUNE_LR = LEARNING_RATE / 10

# %% [markdown]
# ### Question 1 — why a lower learning rate (1 point)
# Why does fine-tuning use a learning rate about ten times lower than training from scratch?
#
# - **a)** A lower learning rate makes each step cheaper to compute.
# - **b)** The pretrained weights are already close to a good solution: steps that are too
#   large overwrite what pretraining learnt before the few annotated fields can guide them,
#   and fit what replaces it to those few fields.
# - **c)** Adam cannot train a network whose weights are not random.
# - **d)** Frozen layers have no gradient, so the others need a smaller step.
#
# Set `answer_lr` to the letter of your answer, as a string such as "a".

# %% tags=["answer"] grade_id="q_finetune_lr"
### BEGIN SOLUTION
answer_lr = "b"
### END SOLUTION

# %% tags=["check"] grade_id="q_finetune_lr_check" points=1
check("q_finetune_lr")

# %% [markdown]
# ## 4 · Augmentation, with elastic bending
#
# Notebook 04 showed each patch in a random one of its eight flips and turns, with jittered
# brightness. Here half the augmented patches are also **bent**: every pixel moves by a
# smooth random displacement (a few pixels, smoothed over a few pixels), the image
# interpolated and the target taking the nearest class. Cells bend; a network shown bent
# nuclei learns shapes the annotated fields don't hold.

# %%
image, target = pool_x[first, :PATCH, :PATCH], pool_y[first, :PATCH, :PATCH]
rng = np.random.default_rng(3)
fig, axes = plt.subplots(2, 4, figsize=(12, 6.2))
views = [("original", image, target), ("bent", *elastic_deform(image, target, rng)),
         ("flipped, turned, jittered", *augment(image, target, rng)),
         ("all of them", *augment(*elastic_deform(image, target, rng), rng))]
for column, (title, im, tg) in enumerate(views):
    axes[0, column].imshow(im, cmap="gray", vmin=0, vmax=1.3)
    axes[0, column].set_title(title)
    axes[1, column].imshow(tg, interpolation="nearest")
for ax in axes.ravel():
    ax.axis("off")
plt.show()

# %% [markdown]
# ## 5 · The runs
#
# Five kinds of run, each trained on 1, 4 and 16 fields (quick mode; full mode adds 2 and 8
# and three seeds):
#
# | run | starts from | trains | learning rate | augmentation |
# |---|---|---|---|---|
# | scratch | random weights | all layers | 5·10⁻³ | yes |
# | fine-tuned | pretrained | all layers | 5·10⁻⁴ | yes |
# | fine-tuned, no augmentation | pretrained | all layers | 5·10⁻⁴ | no |
# | fine-tuned, frozen encoder | pretrained | decoder and head | 5·10⁻⁴ | yes |
# | fine-tuned, rate too high | pretrained | all layers | 5·10⁻² | yes (1 field only) |
#
# Augmentation is measured on the fine-tuned runs: in quick mode a network from random
# weights gets too few steps to learn much at all (see its curve), so a gap measured there
# would be noise. Full mode's longer runs show the scratch curve properly.
#
# Every finished run is saved (in your checkpoint folder, as in notebook 04): if the kernel
# dies, run the notebook again and the finished runs load in a second while the rest train.

# %%
TOO_HIGH_LR = 10 * LEARNING_RATE
KINDS = {  # kind -> (pretrained, frozen encoder, learning rate, augmentation)
    "scratch": (False, False, LEARNING_RATE, True),
    "fine-tuned": (True, False, FINETUNE_LR, True),
    "fine-tuned, no augmentation": (True, False, FINETUNE_LR, False),
    "fine-tuned, frozen encoder": (True, True, FINETUNE_LR, True),
    "fine-tuned, rate too high": (True, False, TOO_HIGH_LR, True),
}
RUNS = [(kind, n, seed) for kind in KINDS for n in SIZES for seed in SEEDS
        if kind != "fine-tuned, rate too high" or n == SIZES[0]]


def make_model(kind, seed):
    """The starting network of a run of ``kind``: random (seeded) or pretrained, maybe frozen."""
    from_pretrained, frozen_encoder = KINDS[kind][:2]
    torch.manual_seed(seed)
    model = pretrained_unet() if from_pretrained else UNet(channels=CHANNELS, depth=DEPTH).to(device)
    return freeze_encoder(model) if frozen_encoder else model


def run(kind, n_fields, seed):
    """Train (or load) one run and score it: (AP@0.5, loaded from a previous session)."""
    model = make_model(kind, seed)
    _, _, learning_rate, augmented = KINDS[kind]
    trains = zlib.crc32(bytes(p.requires_grad for p in model.parameters()))  # which layers
    name = (f"06_{get_mode()}_{kind.replace(', ', '_').replace(' ', '-')}_n{n_fields}"
            f"_s{seed}_{STEPS}x{BATCH}_{trains:08x}")
    _, loaded = load_or_train(checkpoint_path(name), model, lambda: {
        "losses": train(model, n_fields, seed, learning_rate, augmented)})
    return evaluate(model), loaded


rows = []
for kind, n_fields, seed in tqdm(RUNS, desc="runs"):
    ap, loaded = run(kind, n_fields, seed)
    rows.append({"run": kind, "fields": n_fields, "seed": seed, "AP@0.5": ap,
                 "nuclei outlined": cost[seed][n_fields], "loaded": loaded})
results = pd.DataFrame(rows)
report("resumed", bool(results["loaded"].any()))  # the benchmark flags runs it did not train
curves = results.groupby(["run", "fields"])["AP@0.5"].agg(["mean", "std", "count"])
display(curves.round(3))

# %% [markdown]
# ## 6 · The learning curves
#
# One plot, every kind of run: AP on the held-out fields against the number of annotated
# fields, on a log axis (each step doubles or quadruples the annotation), labelled with what
# that cost in nuclei outlined. The dashed lines are the floor (no annotation, the
# classical pipeline) and, where it was found, notebook 04's U-Net trained on all 90 fields.

# %%
def curve(kind):
    """(sizes, mean AP, std AP) of one kind of run."""
    table = curves.loc[kind]
    return table.index.to_numpy(), table["mean"].to_numpy(), table["std"].fillna(0).to_numpy()


fig, ax = plt.subplots(figsize=(8.5, 5.2), layout="constrained")
for kind in KINDS:
    if kind == "fine-tuned, rate too high":
        continue
    sizes, mean, spread = curve(kind)
    ax.errorbar(sizes, mean, yerr=spread, marker="o", capsize=3, label=kind)
ax.scatter([SIZES[0] * 0.75], [zero_shot_ap], marker="*", s=120, color="k", zorder=3,
           label="pretrained, not fine-tuned (0 fields)")
ax.axhline(baseline_ap, color="gray", ls="--", label="Otsu + watershed (no annotation)")
if ceiling_ap is not None:
    ax.axhline(ceiling_ap, color="green", ls="--", label="notebook 04's U-Net (90 fields)")
ax.set_xscale("log", base=2)
mean_cost = [np.mean([cost[s][n] for s in SEEDS]) for n in SIZES]
ax.set_xticks(SIZES, [f"{n}\n({c:,.0f} nuclei)" for n, c in zip(SIZES, mean_cost, strict=True)])
ax.xaxis.set_minor_locator(plt.NullLocator())
ax.set(xlabel="annotated training fields (nuclei outlined in them)",
       ylabel=f"pooled AP@0.5 ({EVAL_SPLIT} fields)",
       title=f"learning curves: {STEPS} steps per run, {len(SEEDS)} seed(s)")
ax.grid(alpha=0.3)
ax.legend(fontsize=8, loc="lower right")
plt.show()

# %% [markdown]
# ### What too high a learning rate does
# The same pretrained network, the same field and steps, fine-tuned at ten times the rate that
# trains a network from random weights:

# %%
def mean_ap(kind, n_fields):
    """The mean AP@0.5 of the runs of ``kind`` on ``n_fields`` fields."""
    return float(curves.loc[(kind, n_fields), "mean"])


n_high = SIZES[0]
print(f"{n_high} field(s), {STEPS} steps: fine-tuned at {FINETUNE_LR:.0e}: AP@0.5 "
      f"{mean_ap('fine-tuned', n_high):.3f}; at {TOO_HIGH_LR:.0e}: "
      f"{mean_ap('fine-tuned, rate too high', n_high):.3f}; pretrained, before any step: "
      f"{zero_shot_ap:.3f}")

# %% [markdown]
# ## 7 · Reading the curve
#
# Two questions a project asks of a learning curve: *how many fields to reach the AP we need?*
# and *where does annotating more stop paying?* The second is about the slope. Because the
# sizes grow by doubling (or more), we measure the gain **per doubling** of the annotation:
# going from $n_a$ to $n_b$ fields is $\log_2(n_b / n_a)$ doublings, so
#
# $$\text{gain per doubling} = \frac{\mathrm{AP}(n_b) - \mathrm{AP}(n_a)}{\log_2(n_b / n_a)} .$$
#
# ### Exercise 3 — how many fields for a goal (2 points)
# Write `fields_needed(ap_by_n, target)`: `ap_by_n` maps a number of fields to the AP measured
# with it (a dict, in any order). Return the smallest number of fields whose AP is at least
# `target`, or `None` when no size on the curve reaches it.

# %% tags=["answer"] grade_id="fields_needed"
def fields_needed(ap_by_n, target):
    """The fewest annotated fields whose measured AP reaches ``target`` (None: none does)."""
    ### BEGIN SOLUTION
    reached = [n for n, ap in ap_by_n.items() if ap >= target]
    return min(reached) if reached else None
    ### END SOLUTION


# %% tags=["check"] grade_id="fields_needed_check" points=2
check("fields_needed")
### BEGIN HIDDEN TESTS
check("fields_needed_hidden")
### END HIDDEN TESTS

# %%
check.use_reference("fields_needed")  # only acts if the check above fails

# %% [markdown]
# ### Exercise 4 — the gain per doubling (2 points)
# Write `gain_per_doubling(ap_by_n)`: for each size on the curve but the largest, the AP
# gained per doubling between it and the *next larger* size on the curve (formula above).
# Return a dict {smaller size: gain}. The sizes need not come sorted, nor be powers of two.

# %% tags=["answer"] grade_id="gain_per_doubling"
def gain_per_doubling(ap_by_n):
    """{n_a: (AP(n_b) − AP(n_a)) / log2(n_b / n_a)} for consecutive sizes n_a < n_b."""
    ### BEGIN SOLUTION
    sizes = sorted(ap_by_n)
    return {a: (ap_by_n[b] - ap_by_n[a]) / np.log2(b / a) for a, b in pairwise(sizes)}
    ### END SOLUTION


# %% tags=["check"] grade_id="gain_per_doubling_check" points=2
check("gain_per_doubling")
### BEGIN HIDDEN TESTS
check("gain_per_doubling_hidden")
### END HIDDEN TESTS

# %%
check.use_reference("gain_per_doubling")  # only acts if the check above fails

# %% [markdown]
# Now on the measured curves. The goal: do at least as well as the classical pipeline plus a
# margin of 0.05 — a network worth the annotation. "Stops paying" is where a doubling of the
# annotation gains less than `MIN_GAIN`, set in the cell below.

# %%
GOAL = baseline_ap + 0.05
MIN_GAIN = 0.01
verdicts = []
for kind in ["scratch", "fine-tuned", "fine-tuned, no augmentation", "fine-tuned, frozen encoder"]:
    ap_by_n = {int(n): float(ap) for n, ap in zip(*curve(kind)[:2], strict=True)}
    gains = gain_per_doubling(ap_by_n)
    flat = [n for n, gain in gains.items() if gain < MIN_GAIN]
    verdicts.append({"run": kind, f"fields for AP ≥ {GOAL:.2f}": fields_needed(ap_by_n, GOAL),
                     "gain per doubling": {n: round(g, 3) for n, g in gains.items()},
                     f"gains < {MIN_GAIN} from": min(flat) if flat else None})
display(pd.DataFrame(verdicts).set_index("run"))

# %% [markdown]
# ### What augmentation bought
# The gap between the fine-tuned runs with and without augmentation, at each size:

# %%
gap = {n: mean_ap("fine-tuned", n) - mean_ap("fine-tuned, no augmentation", n) for n in SIZES}
print("AP@0.5 with augmentation minus without, by annotated fields:",
      {n: round(g, 3) for n, g in gap.items()})
biggest = max(gap, key=gap.get)
print(f"Largest gain from augmentation: {gap[biggest]:+.3f} at {biggest} field(s); at "
      f"{SIZES[-1]} fields: {gap[SIZES[-1]]:+.3f}.")

# %% [markdown]
# ### Question 2 — what augmentation adds (1 point)
# Think of the run on a single annotated field. What does augmentation give it that the field
# alone does not?
#
# - **a)** More annotated nuclei: each flip of a patch counts as a new manual outline.
# - **b)** Test fields that look like the training field.
# - **c)** Views of the same nuclei turned, mirrored, brighter or dimmer and bent, each with a
#   correct target, so the network cannot fit that one field's particular orientations and
#   brightness; many real fields already vary in these ways, which is why the gap tends to
#   shrink as annotation grows.
# - **d)** Shorter training, since augmented patches are easier.
#
# Set `answer_augmentation` to the letter of your answer, as a string such as "a".

# %% tags=["answer"] grade_id="q_augmentation"
### BEGIN SOLUTION
answer_augmentation = "c"
### END SOLUTION

# %% tags=["check"] grade_id="q_augmentation_check" points=1
check("q_augmentation")

# %% [markdown]
# ## 8 · Cellpose: the field's way to fine-tune
#
# Cellpose (notebook 04, section 10) ships its own training loop, `cellpose.train.train_seg`,
# for exactly this: start from the pretrained generalist and fine-tune it on a few of your
# images, with a learning rate of 10⁻⁵ (its default) — lower still, because its network is
# far larger. Cellpose-SAM has about 300 million parameters (ours: about 120 thousand), so
# fine-tuning it is GPU work: this section runs in full mode only, and only where the
# pretrained weights can be had.

# %%
from course_utils.segmentation.generalist import finetune_cellpose, load_cellpose, run_cellpose

CELLPOSE_SIZES = by_mode(quick=(), full=SIZES[:3], grade=())
CELLPOSE_EPOCHS = 100
cellpose_ap = {}
why_not = "quick mode: fine-tuning Cellpose-SAM needs a GPU and runs in full mode only."
if CELLPOSE_SIZES:
    base, why_not = load_cellpose(device)
    if base is not None:
        cellpose_ap[0] = matching_ap(truth, run_cellpose(base, evaluation.images).masks,
                                     (0.5,)).at(0.5)
for n_fields in CELLPOSE_SIZES if not why_not else ():
    chosen = order[SEEDS[0]][:n_fields]
    model = finetune_cellpose(pool.images[chosen], pool.labels[chosen], device,
                              n_epochs=CELLPOSE_EPOCHS)
    cellpose_ap[n_fields] = matching_ap(truth, run_cellpose(model, evaluation.images).masks,
                                        (0.5,)).at(0.5)
if why_not:
    print("Cellpose is NOT fine-tuned here:", why_not, sep="\n")
else:
    print("Cellpose-SAM fine-tuned with train_seg, AP@0.5 by annotated fields "
          "(0 = as pretrained):", {n: round(ap, 3) for n, ap in cellpose_ap.items()})

# %% [markdown]
# ## 9 · What the numbers say
#
# The cell below prints this run's conclusions from its own measurements; read them before
# the decision table. They are from short runs on few fields, so treat differences of a few
# hundredths as noise unless full mode's error bars say otherwise.
#
# A published figure to hold them against: in the Cellpose 2.0 paper (Pachitariu & Stringer,
# *Nature Methods* 19:1634, 2022), specialist models fine-tuned from pretrained Cellpose on
# 500–1,000 outlined cells came close to models trained on whole datasets of up to 200,000,
# and correcting the model's own outlines (human in the loop) brought that down to 100–200.
# The tick labels of the learning curves count this notebook's annotation the same way, in
# nuclei outlined.

# %%
def first_reaching(kind):
    """The fewest fields at which ``kind`` reaches GOAL, as words."""
    n = fields_needed({int(k): float(v) for k, v in zip(*curve(kind)[:2], strict=True)}, GOAL)
    return f"{n} field(s)" if n else f"none of {SIZES}"


small, large = SIZES[0], SIZES[-1]
lead = {n: mean_ap("fine-tuned", n) - mean_ap("scratch", n) for n in SIZES}
print(f"This run ({get_mode()} mode, {STEPS} steps per run, {len(truth)} {EVAL_SPLIT} fields):")
print(f"  pretrained on generated nuclei, without fine-tuning: {zero_shot_ap:.3f} "
      f"(Otsu + watershed {baseline_ap:.3f})")
print(f"  fine-tuned minus scratch, by fields: {({n: round(v, 3) for n, v in lead.items()})} — "
      + ("fine-tuning is ahead at every size" if min(lead.values()) > 0 else
         "fine-tuning is NOT ahead at every size here"))
print(f"  AP ≥ {GOAL:.2f} (the baseline + 0.05): scratch needs {first_reaching('scratch')}, "
      f"fine-tuned {first_reaching('fine-tuned')}, frozen encoder "
      f"{first_reaching('fine-tuned, frozen encoder')}")
frozen_vs_all = mean_ap("fine-tuned, frozen encoder", small) - mean_ap("fine-tuned", small)
print(f"  at {small} field(s), a frozen encoder {'gains' if frozen_vs_all > 0 else 'loses'} "
      f"{abs(frozen_vs_all):.3f} against fine-tuning all layers")
print(f"  augmentation: {gap[small]:+.3f} at {small} field(s), {gap[large]:+.3f} at {large}")
if ceiling_ap is not None:
    print(f"  notebook 04's U-Net on all 90 fields (minutes of training): {ceiling_ap:.3f}; "
          f"the best run here: {results['AP@0.5'].max():.3f}")

# %%
for kind, key in [("scratch", "ap50_scratch"), ("fine-tuned", "ap50_finetuned"),
                  ("fine-tuned, no augmentation", "ap50_noaug"),
                  ("fine-tuned, frozen encoder", "ap50_frozen")]:
    for n in SIZES:  # one metric per size: ap50_scratch_n1, ap50_scratch_n4, …
        report(f"{key}_n{n}", mean_ap(kind, n))
report("ap50_zero_shot", zero_shot_ap)
report("ap50_baseline", baseline_ap)
if ceiling_ap is not None:
    report("ap50_ceiling", ceiling_ap)
report("eval_split", EVAL_SPLIT)
report("n_eval", len(truth))

# %% [markdown]
# ## 10 · A decision table for a real project
#
# What this kind of measurement usually says, and what to do. Check it against *your* curve:
# it is cheap to draw, and it is the only evidence that counts for your images.
#
# | you have | do |
# |---|---|
# | no annotations, nuclei of a common stain | try a generalist first (Cellpose, notebook 04) and the classical pipeline; annotate 2–4 fields only to *measure* them |
# | a pretrained model for a similar stain, 1–4 annotated fields | fine-tune it at a low learning rate, with augmentation; freeze the encoder if the fields are very few and the pretraining data look like yours |
# | a pretrained model from different-looking data (other stain, generated images) | fine-tune all layers; check that it beats training from scratch on *your* curve — the head start can be small |
# | no pretrained model, a few fields | train from scratch with strong augmentation; draw the curve at 1, 2, 4, … fields and stop annotating where a doubling gains little |
# | 20 or more annotated fields | the start matters less: train longer, tune post-processing on held-out fields, and spend annotation on the cases the errors show (merged clumps, dim nuclei) |
#
# Whatever the row: hold out annotated fields for the evaluation (never train on them), report
# the same metric as your baseline, and look at the errors by kind before you trust a number.

# %% [markdown]
# ## Glossary
#
# - **learning curve**: held-out performance against the amount of training data.
# - **annotation cost**: the effort of labelling; here counted in nuclei outlined.
# - **pretraining**: training a network on another, larger or cheaper, source of data first.
# - **fine-tuning**: continuing to train a pretrained network on the target data.
# - **sim-to-real**: pretraining on generated (simulated) data, then using real data.
# - **frozen layer**: a layer whose parameters have `requires_grad = False` and do not change.
# - **encoder / decoder**: the U-Net's downward (features) and upward (classes) halves.
# - **elastic deformation**: bending an image (and its target) by a smooth random displacement.
# - **gain per doubling**: the AP gained when the annotated data double.
# - **zero-shot**: using a pretrained model on new data without any training on it.

# %% [markdown]
# ## What you learned
# * A learning curve answers "how many images?" with a measurement: held-out AP against
#   annotated fields, on a log axis, beside a floor (no annotation) and your best model.
# * Fair comparisons change one thing: same fields, steps, seeds and post-processing.
# * Augmentation adds variation for free. What it buys is measured, not assumed: compare the
#   runs with and without it at equal steps, as above.
# * Fine-tuning starts from pretrained weights, at a lower learning rate; freezing the encoder
#   (`requires_grad = False`) trains fewer parameters — and whether either pays off depends
#   on how much the pretraining data resemble yours, which only your curve can tell.
# * Read a curve by its slope per doubling: annotate until a doubling no longer buys enough.

# %%
check.all()
