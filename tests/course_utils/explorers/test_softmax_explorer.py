"""explorers.softmax: the bars are losses.softmax, cross_entropy and its gradient (torch's)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils import losses
from course_utils.explorers.softmax import softmax_explorer
from explorer_testing import RTOL, assert_no_callback_error, xy


def bar_heights(explorer, prefix, n):
    return np.array([explorer.artists[f"{prefix}_{j}"].get_height() for j in range(n)])


@pytest.mark.parametrize("logits, true_class, temperature", [
    ((2.0, 1.0, -1.0), 0, 1.0),
    ((-4.0, 3.5, 0.2), 0, 1.0),    # the true class has the smallest logit: its entry → −1
    ((1.0, 0.5, -0.5), 2, 0.1),    # T small: nearly one-hot
    ((5.0, -5.0, 0.0), 1, 10.0),   # T large: nearly uniform
])
def test_softmax_explorer_draws_the_losses_module(logits, true_class, temperature):
    explorer = softmax_explorer()
    with explorer.paused():
        for j, z in enumerate(logits):
            explorer.controls[f"z{j + 1}"].value = z
        explorer.controls["true_class"].value = true_class
        explorer.controls["T"].value = temperature
    explorer.update()
    assert_no_callback_error(explorer)
    T = explorer.controls["T"].value  # as the log slider rounded it
    z = np.array(logits)[None, :] / T
    y_hat = losses.softmax(z)[0]
    gradient = losses.cross_entropy_grad(z, np.array([true_class]))[0]
    loss = losses.cross_entropy(z, np.array([true_class]))
    np.testing.assert_allclose(bar_heights(explorer, "logit", 3), logits, rtol=RTOL)
    np.testing.assert_allclose(bar_heights(explorer, "prob", 3), y_hat, rtol=RTOL, atol=1e-300)
    np.testing.assert_allclose(bar_heights(explorer, "grad", 3), gradient, rtol=RTOL, atol=1e-15)
    np.testing.assert_array_equal(xy(explorer.artists["target"])[:, 1],
                                  np.eye(3)[true_class])
    assert explorer.state["loss"] == pytest.approx(loss, rel=RTOL)
    assert f"{loss:.3g}" in explorer.artists["loss_text"].get_text()
    # ŷ − y, worked out here from the formula with torch: the autograd gradient of the loss.
    u = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.cross_entropy(u, torch.tensor([true_class])).backward()
    np.testing.assert_allclose(bar_heights(explorer, "grad", 3), u.grad[0].numpy(),
                               rtol=1e-9, atol=1e-15)
    assert abs(np.sum(bar_heights(explorer, "grad", 3))) < 1e-12


def test_softmax_explorer_is_shift_invariant_and_highlights_the_true_class():
    explorer = softmax_explorer(logits=(1.0, -0.5, 0.3), true_class=1)
    before = bar_heights(explorer, "prob", 3)
    with explorer.paused():
        for j, z in enumerate((1.0, -0.5, 0.3)):
            explorer.controls[f"z{j + 1}"].value = z + 2.0
    explorer.update()
    np.testing.assert_allclose(bar_heights(explorer, "prob", 3), before, rtol=1e-12)
    colours = [explorer.artists[f"prob_{j}"].get_facecolor() for j in range(3)]
    assert colours[1] != colours[0] == colours[2]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="logits"):
        softmax_explorer(logits=(1.0, 2.0))
    with pytest.raises(ValueError, match="true_class"):
        softmax_explorer(true_class=3)
    with pytest.raises(ValueError, match="temperature"):
        softmax_explorer(temperature=0.0)
