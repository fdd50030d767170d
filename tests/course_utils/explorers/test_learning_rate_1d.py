"""explorers.learning_rate_1d: the path on a 1-D loss is gradient descent's; the regime is named."""
from __future__ import annotations

import numpy as np
import pytest

from course_utils import landscapes
from course_utils.explorers.learning_rate_1d import learning_rate_explorer_1d
from explorer_testing import RTOL, assert_no_callback_error, gd_reference, xy


@pytest.mark.parametrize("lr, start", [(0.3, 3.5), (1.5, -2.0), (0.02, 1.0)])
def test_lr_explorer_1d_draws_the_reference_path(lr, start):
    explorer = learning_rate_explorer_1d()
    explorer.controls["lr"].value = lr
    explorer.controls["start"].value = start
    assert_no_callback_error(explorer)
    parabola = landscapes.parabola(curvature=1.0)
    lr = explorer.controls["lr"].value  # the log slider rounds to its step
    expected = gd_reference(parabola.grad, start, lr, 30)
    np.testing.assert_allclose(xy(explorer.artists["path"]),
                               np.column_stack([expected, parabola.value(expected)]), rtol=RTOL)
    np.testing.assert_allclose(xy(explorer.artists["loss"])[:, 1],
                               np.maximum(parabola.value(expected), 1e-16), rtol=RTOL)
    assert explorer.artists["lr_marker"].get_xdata()[0] == lr


@pytest.mark.parametrize("lr, expected", [(0.01, "too small"), (0.3, "good"),
                                          (1.5, "oscillating"), (2.5, "diverging")])
def test_lr_explorer_1d_names_the_regime(lr, expected):
    explorer = learning_rate_explorer_1d()
    explorer.controls["lr"].value = lr
    assert explorer.state["regime"] == expected
    label = explorer.labels["regime"].value
    assert f">{expected}</span>" in label
    assert "2/λ = 2" in label  # the threshold of L = ½w², stated next to the regime


def test_lr_explorer_1d_switches_to_the_double_well():
    explorer = learning_rate_explorer_1d()
    explorer.controls["loss"].value = "double well (non-convex)"
    assert_no_callback_error(explorer)
    well = landscapes.double_well()
    assert explorer.controls["start"].value == pytest.approx(float(well.start))
    assert (explorer.controls["start"].min, explorer.controls["start"].max) == well.xlim
    expected = gd_reference(well.grad, explorer.controls["start"].value,
                            explorer.controls["lr"].value, 30)
    np.testing.assert_allclose(xy(explorer.artists["path"])[:, 0], expected, rtol=RTOL)
    curve = xy(explorer.artists["curve"])
    np.testing.assert_allclose(curve[:, 1], well.value(curve[:, 0]), rtol=RTOL)
    # The start decides the minimum: from the right of the hump, the shallow one near +1.
    assert expected[-1] > 0.5 and explorer.state["regime"] == "good"


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="lr"):
        learning_rate_explorer_1d(lr=0)
    with pytest.raises(ValueError, match="loss"):
        learning_rate_explorer_1d(loss="cubic")
