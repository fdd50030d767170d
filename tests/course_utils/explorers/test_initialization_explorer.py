"""explorers.initialization: the per-layer signal it draws is torch autograd's, for every control."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course_utils import init
from course_utils.explorers.initialization import SIGNAL_AXIS, initialization_explorer
from explorer_testing import assert_no_callback_error, xy


def torch_signal(scheme, activation, depth, scale, width=64, batch=64, max_depth=50, seed=0):
    """rms of the activations, of ∂L/∂x⁽ˡ⁻¹⁾ and of ∂L/∂W⁽ˡ⁾ per layer, from torch autograd."""
    rng = np.random.default_rng(seed)
    X, G = rng.normal(size=(batch, width)), rng.normal(size=(batch, width))
    draw = {"torch default": lambda s, r: init.kaiming_uniform(s, r, gain=math.sqrt(1 / 3)),
            "Xavier": init.xavier_normal, "He": init.kaiming_normal}
    weights = {}
    for name in ("torch default", "Xavier", "He"):     # drawn in the explorer's order
        weights[name] = [draw[name]((width, width), rng) for _ in range(max_depth)]
    sigma = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}[activation]
    Ws = [torch.tensor(scale * W, requires_grad=True) for W in weights[scheme][:depth]]
    h, inputs, outputs = torch.tensor(X, requires_grad=True), [], []
    for W in Ws:
        h.retain_grad()
        inputs.append(h)
        h = sigma(h @ W.T)
        outputs.append(h)
    (h * torch.from_numpy(G)).sum().backward()
    rms = lambda t: float(t.detach().pow(2).mean().sqrt())  # noqa: E731
    return (np.array([rms(o) for o in outputs]), np.array([rms(i.grad) for i in inputs]),
            np.array([rms(W.grad) for W in Ws]))


@pytest.mark.parametrize("scheme, activation, depth, scale", [
    ("torch default", "tanh", 20, 1.0), ("He", "relu", 50, 1.0), ("Xavier", "sigmoid", 7, 2.0),
    ("He", "tanh", 1, 0.5), ("Xavier", "relu", 33, 4.0)])
def test_the_explorer_draws_torch_autograds_signal(scheme, activation, depth, scale):
    explorer = initialization_explorer()
    with explorer.paused():
        explorer.controls["scheme"].value = scheme
        explorer.controls["activation"].value = activation
        explorer.controls["depth"].value = depth
        explorer.controls["scale"].value = scale
    explorer.update()
    assert_no_callback_error(explorer)
    scale = explorer.controls["scale"].value            # as snapped to the slider's grid
    forward, backward, weight_grads = torch_signal(scheme, activation, depth, scale)
    np.testing.assert_allclose(explorer.state["forward"], forward, rtol=1e-9)
    np.testing.assert_allclose(explorer.state["backward"], backward, rtol=1e-9)
    np.testing.assert_allclose(explorer.state["weight_gradients"], weight_grads, rtol=1e-9)
    low, high = SIGNAL_AXIS
    for key, values in (("activations", forward), ("input_gradients", backward),
                        ("weight_gradients", weight_grads)):
        points = xy(explorer.artists[key])
        np.testing.assert_array_equal(points[:, 0], np.arange(1, depth + 1))
        np.testing.assert_allclose(points[:, 1], np.clip(values, low * 1.5, high / 1.5), rtol=1e-9)
    assert "<b>" in explorer.labels["summary"].value and scheme in explorer.labels["summary"].value


def test_the_explorer_shows_vanishing_exploding_and_a_kept_signal():
    explorer = initialization_explorer(scheme="torch default", activation="relu", depth=30)
    assert explorer.state["forward"][-1] < 1e-8 and explorer.state["backward"][0] < 1e-8
    explorer.controls["scheme"].value = "He"
    assert 0.05 < explorer.state["forward"][-1] < 20 and 0.05 < explorer.state["backward"][0] < 20
    explorer.controls["scale"].value = 2.0
    assert explorer.state["forward"][-1] > 1e6 and explorer.state["backward"][0] > 1e6
    explorer.controls["activation"].value = "sigmoid"           # σ′ ≤ 1/4: the gradient vanishes anyway
    assert explorer.state["backward"][0] < 1e-6 * explorer.state["backward"][-1]


def test_values_beyond_the_axis_are_drawn_on_its_edge():
    explorer = initialization_explorer(scheme="torch default", activation="relu", depth=50, scale=0.25)
    low = SIGNAL_AXIS[0]
    assert explorer.state["forward"][-1] < low
    assert xy(explorer.artists["activations"])[-1, 1] == pytest.approx(1.5 * low)


@pytest.mark.parametrize("kwargs, words", [({"depth": 51}, "depth must be <= max_depth"),
                                           ({"scheme": "LeCun"}, "scheme must be one of"),
                                           ({"activation": "gelu"}, "activation must be one of"),
                                           ({"scale": 10.0}, r"scale must be in \[0.25, 4\]"),
                                           ({"width": 0}, "width must be >= 1")])
def test_bad_arguments_are_named(kwargs, words):
    with pytest.raises(ValueError, match=words):
        initialization_explorer(**kwargs)
