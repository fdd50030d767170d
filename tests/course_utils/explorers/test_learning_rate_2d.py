"""explorers.learning_rate_2d: gradient descent on the bowl's contours; a click moves the start."""
from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backend_bases import MouseEvent

from course_utils import landscapes
from course_utils.explorers.learning_rate_2d import learning_rate_explorer_2d
from explorer_testing import RTOL, assert_no_callback_error, gd_reference, xy


def test_lr_explorer_2d_draws_the_reference_path_and_labels_the_regime():
    explorer = learning_rate_explorer_2d()
    bowl = landscapes.quadratic_bowl(condition_number=10.0)
    for lr, regime in [(0.15, "oscillating"), (0.25, "diverging"), (0.08, "good")]:
        explorer.controls["lr"].value = lr
        explorer.controls["x0"].value, explorer.controls["y0"].value = -6.0, 4.0
        assert_no_callback_error(explorer)
        expected = gd_reference(bowl.grad, [-6.0, 4.0], explorer.controls["lr"].value, 40)
        shown = xy(explorer.artists["path"])
        finite = np.all(np.abs(expected) < 1e6, axis=1)  # far-away points are drawn as gaps
        np.testing.assert_allclose(shown[finite], expected[finite], rtol=RTOL)
        assert explorer.state["regime"] == regime
        assert f">{regime}</span>" in explorer.labels["regime"].value


def test_a_click_on_the_contours_moves_the_start():
    explorer = learning_rate_explorer_2d()
    canvas = explorer.figure.canvas
    ax = explorer.figure.axes[0]
    x_px, y_px = ax.transData.transform((2.0, -3.0))
    canvas.callbacks.process("button_press_event",
                             MouseEvent("button_press_event", canvas, x_px, y_px, button=1))
    assert_no_callback_error(explorer)
    assert explorer.controls["x0"].value == pytest.approx(2.0, abs=0.11)
    assert explorer.controls["y0"].value == pytest.approx(-3.0, abs=0.11)
    np.testing.assert_allclose(xy(explorer.artists["path"])[0],
                               [explorer.controls["x0"].value, explorer.controls["y0"].value])
