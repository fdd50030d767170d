"""explorers.backprop: gradient norms and pre-activations per layer, from torch autograd."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils import data
from course_utils.explorers.backprop import GRADIENT_AXIS, backprop_explorer
from explorer_testing import assert_no_callback_error, xy


def deep_mlp_reference(depth, activation, scale, batch=256, width=32):
    """Gradient norms and pre-activations, from nn.MLP and independently from torch autograd."""
    from course_utils import nn

    digits = data.load_digits()
    X, labels = digits.X_train[:batch], digits.y_train[:batch]
    mlp = nn.MLP((64,) + (width,) * depth + (10,), activation=activation, seed=0)
    weights = [W * scale for W in mlp.params[::2]]
    biases = mlp.params[1::2]
    act = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}[activation]
    Ws = [torch.tensor(W, requires_grad=True) for W in weights]
    out, preacts = torch.from_numpy(X), []
    for k, (W, b) in enumerate(zip(Ws, biases)):
        s = out @ W.T + torch.from_numpy(b)
        if k < depth:
            preacts.append(s.detach().numpy())
            out = act(s)
        else:
            out = s
    torch.nn.functional.cross_entropy(out, torch.from_numpy(labels)).backward()
    norms = np.array([np.linalg.norm(W.grad.numpy()) for W in Ws])
    return norms, preacts


@pytest.mark.parametrize("depth, activation, scale", [(6, "sigmoid", 1.0), (3, "relu", 2.0),
                                                       (10, "tanh", 0.5), (1, "sigmoid", 4.0)])
def test_backprop_explorer_draws_torch_gradient_norms(depth, activation, scale):
    explorer = backprop_explorer()
    with explorer.paused():
        explorer.controls["depth"].value = depth
        explorer.controls["activation"].value = activation
        explorer.controls["weight_scale"].value = scale
    explorer.update()
    assert_no_callback_error(explorer)
    scale = explorer.controls["weight_scale"].value
    norms, preacts = deep_mlp_reference(depth, activation, scale)
    np.testing.assert_allclose(explorer.state["grad_norms"], norms, rtol=1e-9)
    low = GRADIENT_AXIS[0]
    for layer in range(1, 12):
        bar = explorer.artists[f"grad_{layer}"]
        assert bar.get_visible() == (layer <= depth + 1), layer
        if layer <= depth + 1:
            np.testing.assert_allclose(bar.get_y() + bar.get_height(), norms[layer - 1], rtol=1e-9)
    spread = np.array([np.percentile(s, [1, 10, 50, 90, 99]) for s in preacts])
    np.testing.assert_allclose(xy(explorer.artists["median"]),
                               np.column_stack([np.arange(1, depth + 1), spread[:, 2]]),
                               rtol=1e-9, atol=1e-12)
    thick = xy(explorer.artists["spread_10_90"]).reshape(depth, 3, 2)
    np.testing.assert_allclose(thick[:, 0, 1], spread[:, 1], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(thick[:, 1, 1], spread[:, 3], rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(thick[:, 0, 0], np.arange(1, depth + 1))
    assert low < norms.min()


def test_backprop_explorer_shows_vanishing_and_exploding_gradients():
    explorer = backprop_explorer(depth=8, activation="sigmoid", weight_scale=1.0)
    vanishing = explorer.state["grad_norms"]
    assert vanishing[0] < 1e-3 * vanishing[-1]  # σ′ ≤ ¼ at each of 8 layers
    explorer.controls["activation"].value = "relu"
    small = explorer.state["grad_norms"]
    explorer.controls["weight_scale"].value = 5.0
    exploding = explorer.state["grad_norms"]
    assert exploding.min() > 1e2 and exploding[0] > 1e5 * small[0]
    # g = √6: torch's uniform ±1/√n_in times √6 has variance 2/n_in, He's initialisation for
    # ReLU: the gradient keeps its size through all 9 layers.
    explorer.controls["weight_scale"].value = 6 ** 0.5
    balanced = explorer.state["grad_norms"]
    assert balanced.max() < 3 * balanced.min()
    assert "×" in explorer.labels["summary"].value


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="depth"):
        backprop_explorer(depth=11)
    with pytest.raises(ValueError, match="activation"):
        backprop_explorer(activation="gelu")
    with pytest.raises(ValueError, match="weight_scale"):
        backprop_explorer(weight_scale=100.0)
