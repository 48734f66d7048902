"""The shared figure helpers of the classical-ML notebooks (course_utils.plots)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from ipywidgets import IntSlider  # noqa: E402

from course_utils.plots import draw_svm, grid_over, slider_figure  # noqa: E402


def test_grid_covers_the_points_with_a_margin():
    X = np.array([[0.0, -1.0], [2.0, 3.0]])
    xx, yy, points = grid_over(X, steps=11, pad=0.1)
    assert xx.shape == yy.shape == (11, 11) and points.shape == (121, 2)
    assert points[:, 0].min() < 0 and points[:, 0].max() > 2
    assert points[:, 1].min() < -1 and points[:, 1].max() > 3


def test_grid_refuses_points_that_are_not_2d():
    with pytest.raises(ValueError, match="shape \\(n, 2\\)"):
        grid_over(np.zeros((5, 3)))


def test_slider_figure_draws_now_and_again_when_the_slider_moves(capsys):
    seen = []

    def draw(k):
        seen.append(k)
        fig, ax = plt.subplots()
        ax.plot(range(k))
        return fig

    slider = IntSlider(value=3, min=1, max=5)
    slider_figure(draw, k=slider)
    slider.value = 5
    assert seen == [3, 5]
    assert plt.get_fignums() == []  # each figure is shown through the handle, then closed
    assert "Output" not in capsys.readouterr().out  # no Output widget to stall headless runs


def test_draw_svm_rings_the_support_vectors():
    from sklearn.svm import SVC

    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(-1, 0.5, (20, 2)), rng.normal(1, 0.5, (20, 2))])
    y = np.repeat([0, 1], 20)
    model = SVC(kernel="linear").fit(X, y)
    fig, ax = plt.subplots()
    draw_svm(ax, model, X, y, steps=30)
    rings = ax.collections[-1].get_offsets()
    assert np.allclose(rings, model.support_vectors_)
    plt.close(fig)
