"""What the notebooks' prose states about themselves agrees with what they do (issue 15).

A notebook says how many points it is worth, each exercise heading how many points it carries,
and README's table how long each notebook takes. These tests fail, naming the place, when a
stated number differs from the graded points of the check cells or from the notebook's own
time estimate.

The prose also quotes headline metrics ("scaled, about 0.975"). Each such statement is listed
in :data:`CLAIMS` with the metric it quotes, and must lie in the range the benchmark's run
must reproduce (``EXPECTED`` of ``tests/test_notebooks.py``, the stated tolerance); where a
benchmark record of this checkout exists (``artifacts/notebooks-quick.json``, written by
``test_notebooks.py``), the stated value must also be within that range's width of the
measured one. A sentence that puts a number beside a headline metric's name without being
listed fails too, unless it names where the number comes from (full mode, the reference run,
a publication), so a new or edited figure cannot slip past; README quotes none.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_notebooks import ARTIFACT, EXPECTED

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "notebooks" / "source").glob("[0-9][0-9]_*.py"))
HEADER = re.compile(r"^# %%(.*)$", re.M)
POINTS = re.compile(r"\bpoints=(\d+(?:\.\d+)?)")
EXERCISE = re.compile(r"^# ### (Exercise|Question) (\d+)\b.*\((\d+) points?\)", re.M)
TOTAL = re.compile(r"\*\*Exercises:\*\*\s*(\d+)(?: and (\d+) questions?)?, worth (\d+) points")
TIME = re.compile(r"\*\*Time:\*\*\s*about (\d+) minutes")


def _cells(source: Path) -> list[tuple[str, str]]:
    """(header, body) of every percent cell of a jupytext source."""
    text = source.read_text(encoding="utf-8")
    marks = list(HEADER.finditer(text))
    return [(m.group(1), text[m.end():marks[i + 1].start() if i + 1 < len(marks) else None])
            for i, m in enumerate(marks)]


def _stated_and_graded(source: Path) -> tuple[list[tuple[str, int, int, float]], dict]:
    """Per exercise or question: (kind, number, points in its heading, points of its checks)."""
    exercises: list[list] = []
    stated_total: dict = {}
    for header, body in _cells(source):
        if total := TOTAL.search(body):
            stated_total = {"exercises": int(total.group(1)),
                            "questions": int(total.group(2) or 0),
                            "points": int(total.group(3))}
        if heading := EXERCISE.search(body):
            exercises.append([heading.group(1), int(heading.group(2)), int(heading.group(3)),
                              0.0])
        if "check" in header and (points := POINTS.search(header)):
            assert exercises, f"{source.name}: a graded check cell before any exercise heading"
            exercises[-1][3] += float(points.group(1))
    return [tuple(e) for e in exercises], stated_total


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_stated_points_are_the_graded_points(source):
    exercises, total = _stated_and_graded(source)
    wrong = [f"{kind} {n} says {stated} points, its check cells grade {graded:g}"
             for kind, n, stated, graded in exercises if stated != graded]
    assert total, f"{source.name}: no '**Exercises:** N, worth P points' line"
    graded = sum(g for *_, g in exercises)
    if total["points"] != graded:
        wrong.append(f"the introduction says {total['points']} points, the check cells grade "
                     f"{graded:g}")
    for kind, key in (("Exercise", "exercises"), ("Question", "questions")):
        found = sum(1 for k, *_ in exercises if k == kind)
        if total[key] != found:
            wrong.append(f"the introduction says {total[key]} {key}, there are {found}")
    assert not wrong, f"{source.name}: " + "; ".join(wrong)


def _readme_times() -> dict[str, tuple[int, int]]:
    """Notebook stem -> (low, high) minutes from README's table ('45–60 min' or '75 min')."""
    times = {}
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        row = re.match(r"\|\s*`(\d\d_\w+)`\s*\|.*\|\s*(\d+)(?:\s*[–-]\s*(\d+))?\s*min\s*\|", line)
        if row:
            low = int(row.group(2))
            times[row.group(1)] = (low, int(row.group(3) or low))
    return times


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_readme_time_matches_the_notebooks_estimate(source):
    times = _readme_times()
    assert source.stem in times, f"README's table has no time for {source.stem}"
    estimate = TIME.search(source.read_text(encoding="utf-8"))
    assert estimate, f"{source.name}: no '**Time:** about N minutes' line"
    minutes, (low, high) = int(estimate.group(1)), times[source.stem]
    assert low <= minutes <= high, (f"{source.stem}: the notebook says about {minutes} minutes, "
                                    f"README says {low}–{high} min")


def test_a_wrong_statement_is_caught(tmp_path):
    """The parser finds a stated total that disagrees (as 04's '13 points' did)."""
    fake = tmp_path / "99_fake.py"
    fake.write_text("# %% [markdown]\n# **Exercises:** 1, worth 3 points\n"
                    "# %% [markdown]\n# ### Exercise 1 — x (2 points)\n"
                    "# %% tags=[\"check\"] grade_id=\"x_check\" points=2\n"
                    "check(\"x\")\n", encoding="utf-8")
    exercises, total = _stated_and_graded(fake)
    assert exercises == [("Exercise", 1, 2, 2.0)]
    assert total == {"exercises": 1, "questions": 0, "points": 3}


# --- headline metrics in the prose vs the benchmark ------------------------------------------

# (notebook, pattern in its markdown, the metric each group quotes). A pattern matches the
# markdown with the "# " prefixes and line breaks removed (one space between words).
CLAIMS: list[tuple[str, str, tuple[str, ...]]] = [
    ("01_kmeans", r"On digits k-means reached an ARI of about (\d\.\d+)", ("ari_mean",)),
    ("02_svm", r"Scaling moves the RBF SVM from about (\d\.\d+) to about (\d\.\d+)",
     ("cv_unscaled", "cv_scaled")),
    ("02_svm", r"unscaled, the RBF SVM on the nuclei features reached about (\d\.\d+); "
               r"scaled, about (\d\.\d+)", ("cv_unscaled", "cv_scaled")),
    ("02_svm", r"an RBF SVM reached about (\d\.\d+) on the held-out half", ("digits_test_acc",)),
    ("03_cross_validation", r"All methods agree on the \*centre\* \(about (\d\.\d+)\)",
     ("acc_loo",)),
    ("03_cross_validation", r"both score lower there \(about (\d\.\d+) and (\d\.\d+)\)",
     ("ap50_pixel_classifier", "ap50_otsu")),
    ("04_unet_segmentation", r"pooled AP@0\.5 about (\d\.\d+)", ("ap50_baseline",)),
    ("04_unet_segmentation", r"The U-Net reaches a pooled AP@0\.5 of about (\d\.\d+)", ("ap50",)),
    ("05_autoencoder_umap", r"we measured kNN accuracies of about (\d\.\d+) \(PCA\), "
                            r"(\d\.\d+) \(autoencoder code\)", ("knn_acc_pca", "knn_acc_ae")),
]
# How the prose names each headline metric (the metrics of EXPECTED).
NAMES: dict[str, str] = {
    "ari_mean": r"\bARI\b", "dice_kmeans": r"\bDice\b", "dice_otsu": r"\bDice\b",
    "cv_unscaled": r"\bunscaled\b", "cv_scaled": r"\bscal(?:ed|ing)\b",
    "digits_test_acc": r"\bheld-out half\b", "acc_loo": r"\bleave-one-out\b",
    "roc_auc": r"\bAUC\b", "leakage_gap": r"\bleak", "ap50": r"AP@0\.5|AP at IoU 0\.5",
    "ap75": r"AP@0\.75", "ap50_pixel_classifier": r"AP@0\.5|AP at IoU 0\.5",
    "ap50_otsu": r"AP@0\.5|AP at IoU 0\.5", "ap50_baseline": r"AP@0\.5|AP at IoU 0\.5",
    "knn_acc_pca": r"\bkNN\b", "knn_acc_ae": r"\bkNN\b",
    **dict.fromkeys(["ap50_zero_shot", "ap50_finetuned_n1", "ap50_finetuned_n16",
                     "ap50_scratch_n16", "ap50_frozen_n16"], r"AP@0\.5|AP at IoU 0\.5|\bAP\b"),
}
# A sentence naming one of these quotes a number from elsewhere, not from the benchmark's run.
# (03 evaluates "all 50 validation fields" only in full mode; quick mode takes 8.)
SOURCED = re.compile(r"full mode|all 50 validation fields|reference run|published|known to|"
                     r"measured \d|GUIDE|scikit-learn's example|their|StarDist|Cellpose", re.I)
VALUE = re.compile(r"(?<![\w.@])\d?\.\d+(?![\w.])|\b\d+(?:\.\d+)? ?%")
NOT_A_VALUE = re.compile(r"(?:AP@|IoU |threshold |at |… ?|≥ ?|> ?)\d?\.\d+")  # thresholds


def _markdown(text: str) -> list[str]:
    """Every markdown cell of a jupytext source as one line of prose."""
    cells = re.split(r"^# %%.*$", text, flags=re.M)
    headers = HEADER.findall(text)
    prose = []
    for header, body in zip(headers, cells[1:], strict=True):
        if "[markdown]" in header:
            lines = [re.sub(r"^# ?", "", line) for line in body.strip().splitlines()]
            prose.append(re.sub(r"\s+", " ", " ".join(lines)).strip())
    return prose


def _sentences(prose: str) -> list[str]:
    """A cell's prose cut into sentences (a full stop, colon or semicolon before a space)."""
    return [s for s in re.split(r"(?<=[.;:!?])\s+|\s+[-*] ", prose) if s]


def claims_of(stem: str, prose: list[str]) -> list[tuple[str, float, str]]:
    """(metric, stated value, the text stating it) of every listed claim; a claim the prose
    no longer makes is an error (edit CLAIMS with the prose)."""
    found = []
    for notebook, pattern, metrics in CLAIMS:
        if notebook != stem:
            continue
        hits = [m for cell in prose for m in re.finditer(pattern, cell)]
        assert hits, f"{stem}: the prose no longer says {pattern!r}: update CLAIMS"
        for hit in hits:
            found += [(metric, float(hit.group(i + 1)), hit.group(0))
                      for i, metric in enumerate(metrics)]
    return found


def unlisted_statements(stem: str | None, prose: list[str]) -> list[str]:
    """Sentences that put a number beside a headline metric's name, are not a listed claim
    and name no source: a figure the benchmark does not vouch for. ``stem`` None: README,
    where every notebook's metrics count and no claim is listed."""
    metrics = EXPECTED.get(stem, {}) if stem else {m for r in EXPECTED.values() for m in r}
    names = {NAMES[m] for m in metrics}
    listed = [p for nb, p, _ in CLAIMS if nb == stem]
    found = []
    for cell in prose:
        for pattern in listed:  # a listed claim is checked by contradictions()
            cell = re.sub(pattern, "[listed claim]", cell)
        for sentence in _sentences(cell):
            if not any(re.search(name, sentence) for name in names):
                continue
            if VALUE.search(NOT_A_VALUE.sub("", sentence)) and not SOURCED.search(sentence):
                found.append(sentence)
    return found


def contradictions(claims: list[tuple[str, float, str]], ranges: dict,
                   measured: dict | None = None) -> list[str]:
    """Claims outside their metric's range, or (with a bench record) further from the
    measured value than the range is wide."""
    wrong = []
    for metric, value, text in claims:
        low, high = ranges[metric]
        if not low <= value <= high:
            wrong.append(f"{text!r}: {metric} stated {value}, the run must give {low}–{high}")
        got = (measured or {}).get(metric)
        if isinstance(got, (int, float)) and abs(got - value) > high - low:
            wrong.append(f"{text!r}: {metric} stated {value}, the bench measured {got:.4g}")
    return wrong


def _bench_metrics(stem: str) -> dict | None:
    """The metrics of the last benchmark run of ``stem`` in this checkout, if any."""
    if not ARTIFACT.exists():
        return None
    result = json.loads(ARTIFACT.read_text()).get("notebooks", {}).get(stem)
    return result["metrics"] if result and result.get("status") == "ok" else None


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_stated_metrics_agree_with_the_benchmark(source):
    prose = _markdown(source.read_text(encoding="utf-8"))
    claims = claims_of(source.stem, prose)
    wrong = contradictions(claims, EXPECTED.get(source.stem, {}), _bench_metrics(source.stem))
    wrong += [f"unlisted figure: {s!r}" for s in unlisted_statements(source.stem, prose)]
    assert not wrong, f"{source.name}: " + "; ".join(wrong)


def test_readme_quotes_no_headline_metric():
    """README's tables and prose leave the notebooks' metrics to the notebooks' own runs."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    prose = [re.sub(r"\s+", " ", block) for block in re.split(r"```.*?```", text, flags=re.S)]
    assert not unlisted_statements(None, prose)
    assert unlisted_statements(None, ["| 02_svm | SVM | scaled accuracy 0.97 |"])


def test_a_contradicting_metric_is_caught():
    """An injected markdown cell that misstates a metric, or quotes one unlisted, fails."""
    text = ("# %% [markdown]\n# * The U-Net reaches a pooled AP@0.5 of about 0.70 and beats\n"
            "# the pipeline.\n\n# %% [markdown]\n# Here the kNN accuracy reached 0.95, "
            "far above PCA.\n# Its AP@0.5 threshold is fine.\n")
    prose = _markdown(text)
    claims = [c for c in claims_of("04_unet_segmentation", prose + [
        "pooled AP@0.5 about 0.78"]) if c[0] == "ap50"]
    assert claims == [("ap50", 0.70, "The U-Net reaches a pooled AP@0.5 of about 0.70")]
    assert contradictions(claims, EXPECTED["04_unet_segmentation"])
    assert contradictions([("ap50", 0.88, "x")], EXPECTED["04_unet_segmentation"],
                          {"ap50": 0.70}), "a claim far from the bench's measurement"
    assert not contradictions([("ap50", 0.88, "x")], EXPECTED["04_unet_segmentation"],
                              {"ap50": 0.89})
    assert unlisted_statements("05_autoencoder_umap", prose) == [
        "Here the kNN accuracy reached 0.95, far above PCA."]
    sourced = ["Over all 50 fields (full mode) the kNN accuracy was 0.95."]
    assert unlisted_statements("05_autoencoder_umap", sourced) == []


def test_questions_are_counted_apart_from_exercises(tmp_path):
    """A question heading gets its own check cells' points and its own count (issue 18)."""
    fake = tmp_path / "99_fake.py"
    fake.write_text("# %% [markdown]\n# **Exercises:** 1 and 1 question, worth 3 points\n"
                    "# %% [markdown]\n# ### Exercise 1 — x (2 points)\n"
                    "# %% tags=[\"check\"] grade_id=\"x_check\" points=2\ncheck(\"x\")\n"
                    "# %% [markdown]\n# ### Question 1 — y (1 point)\n"
                    "# %% tags=[\"check\"] grade_id=\"y_check\" points=1\ncheck(\"y\")\n",
                    encoding="utf-8")
    exercises, total = _stated_and_graded(fake)
    assert exercises == [("Exercise", 1, 2, 2.0), ("Question", 1, 1, 1.0)]
    assert total == {"exercises": 1, "questions": 1, "points": 3}


def _readme_counts() -> dict[str, tuple[int, int, int]]:
    """Notebook stem -> (exercises, questions, points) from README's '7 + 3 (17 points)' column."""
    counts = {}
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        row = re.match(r"\|\s*`(\d\d_\w+)`\s*\|.*\|\s*(\d+) \+ (\d+) \((\d+) points\)\s*\|", line)
        if row:
            counts[row.group(1)] = tuple(int(g) for g in row.groups()[1:])
    return counts


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_readme_counts_match_the_notebook(source):
    """README's table lists each notebook's exercises, questions and points as graded."""
    exercises, _ = _stated_and_graded(source)
    found = (sum(k == "Exercise" for k, *_ in exercises),
             sum(k == "Question" for k, *_ in exercises), sum(g for *_, g in exercises))
    assert _readme_counts().get(source.stem) == found, (
        f"README says {_readme_counts().get(source.stem)} for {source.stem}; the notebook has "
        f"{found} (exercises, questions, points)")
