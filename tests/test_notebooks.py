"""Run every notebook top to bottom in quick mode, as a student would, and check its numbers.

Notebooks are picked up from ``notebooks/solutions/`` automatically (the complete versions; the
student versions are exercised by the grading round trip). Each runs through the benchmark's
executor, so the harness and ``course-utils bench`` measure the same thing; the results are
kept in ``artifacts/notebooks-quick.json``.
"""

from __future__ import annotations

import functools
import json

import pytest

from course_utils import bench
from course_utils.data import dataset_status

NOTEBOOKS = sorted(bench.solutions_dir().glob("*.ipynb"))
ARTIFACT = bench.REPO_ROOT / "artifacts" / "notebooks-quick.json"

# Metric ranges each notebook must reproduce in quick mode (sources in the notebooks and in
# ../shared/GUIDE.md). Ranges that need the real BBBC039 images apply only when it is present.
EXPECTED: dict[str, dict[str, tuple[float, float]]] = {
    # scikit-learn's k-means digits example: ARI 0.47-0.57 by initialisation (one run per seed
    # spreads a little wider); GUIDE.md: breast cancer RBF SVC ~0.92 unscaled, ~0.975 scaled
    # (10-fold), digits SVC(gamma=0.001) on a 50/50 split ~0.97
    "01_kmeans": {"ari_mean": (0.45, 0.60), "dice_kmeans": (0.90, 0.98),
                  "dice_otsu": (0.90, 0.98)},
    "02_svm": {"cv_unscaled": (0.90, 0.93), "cv_scaled": (0.965, 0.985),
               "digits_test_acc": (0.95, 0.99)},
    # Breast cancer: leave-one-out accuracy and ROC AUC of a scaled linear model are published
    # near 0.97-0.98 and 0.99+; pixel-level folds of one field's pixels leak (measured gap
    # ~0.004 against folds by field). Pixel classifier vs Otsu, AP@0.5 on the 50 validation
    # fields in quick mode: measured 0.657 vs 0.542.
    "03_cross_validation": {"acc_loo": (0.95, 0.99), "roc_auc": (0.98, 1.0),
                            "leakage_gap": (0.0005, 0.03),
                            "ap50_pixel_classifier": (0.60, 0.75), "ap50_otsu": (0.50, 0.60)},
    # Issue 7 / GUIDE.md: Otsu + watershed reaches ~0.81 AP@0.5 on the test fields (measured 0.784
    # on the validation fields); the U-Net's goal is >= 0.88 (measured in quick mode: see the
    # closing note; the lower bound leaves room for run-to-run noise on another CPU).
    "04_unet_segmentation": {"ap50": (0.86, 0.95), "ap75": (0.70, 0.92),
                             "ap50_baseline": (0.74, 0.84)},
    # GUIDE.md: 5-fold kNN (k=15) on a 50-component PCA of pbmc68k_reduced is about 0.80
    "05_autoencoder_umap": {"knn_acc_pca": (0.76, 0.83), "knn_acc_ae": (0.77, 0.84)},
}
NEEDS_BBBC039: dict[str, set[str]] = {
    "01_kmeans": {"dice_kmeans", "dice_otsu"},
    "03_cross_validation": {"ap50_pixel_classifier", "ap50_otsu"},
    "04_unet_segmentation": {"ap50", "ap75", "ap50_baseline"},
}
# (a, b, margin): metric a must reach metric b + margin (the issues' "beats the baseline" goals)
BEATS: dict[str, list[tuple[str, str, float]]] = {
    "02_svm": [("cv_scaled", "cv_unscaled", 0.04),
               ("digits_test_acc", "digits_nearest_centroid_acc", 0.05)],
    "03_cross_validation": [("ap50_pixel_classifier", "ap50_otsu", 0.05)],
    "04_unet_segmentation": [("ap50", "ap50_baseline", 0.05)],
    "05_autoencoder_umap": [("knn_acc_ae", "knn_acc_pca", -0.03)],
}


@functools.cache
def bbbc039_present() -> bool:
    """BBBC039 images are on disk here (looked up without hashing or network)."""
    return any(name == "bbbc039" and status != "missing" for name, status, _ in dataset_status())


def _store(stem: str, result: dict) -> None:
    ARTIFACT.parent.mkdir(exist_ok=True)
    data = json.loads(ARTIFACT.read_text()) if ARTIFACT.exists() else {"notebooks": {}}
    data["notebooks"][stem] = result
    ARTIFACT.write_text(json.dumps(data, indent=2))


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_quick_mode(path):
    result = bench.execute(path, "quick")
    _store(path.stem, result)
    assert result["status"] == "ok", f"{path.stem} failed: {result['error']}"
    assert not result["resumed"], f"{path.stem} resumed from a checkpoint: not a fresh run"
    needs_real = set() if bbbc039_present() else NEEDS_BBBC039.get(path.stem, set())
    unchecked = []
    for name, (low, high) in EXPECTED.get(path.stem, {}).items():
        if name in needs_real:
            unchecked.append(name)
            continue
        value = result["metrics"].get(name)
        assert value is not None, f"{path.stem} did not report {name}"
        assert low <= value <= high, f"{path.stem}: {name}={value} outside [{low}, {high}]"
    for a, b, margin in BEATS.get(path.stem, []):
        if {a, b} & needs_real:
            unchecked.append(f"{a} >= {b} {margin:+}")
            continue
        metrics = result["metrics"]
        assert metrics[a] >= metrics[b] + margin, f"{path.stem}: {a} < {b} {margin:+}: {metrics}"
    if unchecked:  # the notebook ran and its other numbers hold; these need the real images
        pytest.skip(f"{path.stem} ran on synthetic fields (BBBC039 not here; `course-utils data "
                    f"fetch bbbc039`), so the real-data checks were not made: "
                    + ", ".join(unchecked))
