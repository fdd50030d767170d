"""explorers.batch_size: mini-batch SGD through the loop equals a plain mini-batch loop."""
from __future__ import annotations

import math

import numpy as np
import pytest

from course_utils import data, losses
from course_utils.explorers.batch_size import batch_size_explorer
from explorer_testing import assert_no_callback_error, xy


@pytest.mark.parametrize("batch_size, lr, shuffle", [(8, 0.05, True), (1, 0.01, True),
                                                     (128, 0.3, False), (32, 0.1, False)])
def test_batch_size_explorer_matches_a_plain_minibatch_loop(batch_size, lr, shuffle):
    explorer = batch_size_explorer()
    explorer.controls["lr"].value = lr
    explorer.controls["shuffle"].value = shuffle
    explorer.controls["batch_size"].value = batch_size
    assert_no_callback_error(explorer)
    lr = explorer.controls["lr"].value
    x, y = data.make_linear_regression(n=128, noise=0.5, seed=0)
    w = b = 0.0
    rng = np.random.default_rng(0)
    per_update, per_epoch = [], [losses.mse(w * x + b, y)]
    for _ in range(8):
        for xb, yb in data.minibatches(x, y, batch_size, rng=rng, shuffle=shuffle):
            residual = w * xb + b - yb  # ∂/∂w and ∂/∂b of mean (w x + b − y)², by hand
            w, b = w - lr * 2 * np.mean(residual * xb), b - lr * 2 * np.mean(residual)
            per_update.append(losses.mse(w * x + b, y))
        per_epoch.append(per_update[-1])
    assert len(per_update) == math.ceil(128 / batch_size) * 8
    np.testing.assert_allclose(xy(explorer.artists["per_update"])[:, 1], per_update, rtol=1e-9)
    np.testing.assert_allclose(xy(explorer.artists["per_update"])[:, 0],
                               np.arange(1, len(per_update) + 1))
    np.testing.assert_allclose(xy(explorer.artists["per_epoch"])[:, 1], per_epoch, rtol=1e-9)
    np.testing.assert_allclose(explorer.state["theta"], [w, b], rtol=1e-9)
    assert f"{math.ceil(128 / batch_size)} updates per epoch" in explorer.labels["summary"].value


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="batch_size"):
        batch_size_explorer(batch_size=3)


def test_a_run_that_blows_up_is_reported_not_an_error():
    explorer = batch_size_explorer()
    explorer.controls["batch_size"].value = 1
    explorer.controls["lr"].value = 1.0  # |1 − η·2x²| > 1 for many samples: θ blows up
    assert_no_callback_error(explorer)
    assert explorer.state["diverged"]
    assert "diverged — lower η" in explorer.labels["summary"].value
    seen, full = explorer.state["batch_losses"], explorer.state["update_losses"]
    assert len(full) == len(seen) < 128 * 8  # it stopped: no loss after the blown-up update
    np.testing.assert_array_equal(xy(explorer.artists["per_update"])[:, 0],
                                  np.arange(1, len(full)))
