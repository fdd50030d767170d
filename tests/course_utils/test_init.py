"""course_utils.init equals torch.nn.init: bit for bit with torch's draws, in distribution with numpy's."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course_utils import init

SHAPES = [(3, 5), (7, 2), (16, 16), (1, 1), (33, 17), (4, 3, 2, 2), (8, 2, 5)]
SEEDS = range(20)


def torch_init(fill, shape, seed, **settings) -> np.ndarray:
    tensor = torch.empty(shape, dtype=torch.float64)
    return fill(tensor, generator=torch.Generator().manual_seed(seed), **settings).numpy()


@pytest.mark.parametrize("shape", SHAPES)
def test_fans_are_torchs(shape):
    assert init.fans(shape) == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


@pytest.mark.parametrize("nonlinearity, param", [("linear", None), ("conv2d", None), ("sigmoid", None),
                                                 ("tanh", None), ("relu", None), ("leaky_relu", None),
                                                 ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)),
                                                 ("selu", None)])
def test_calculate_gain_is_torchs(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(nonlinearity, param)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("gain", [1.0, 5 / 3, 0.3])
def test_xavier_equals_torch_bit_for_bit_with_torchs_draws(shape, gain):
    for seed in SEEDS:
        np.testing.assert_array_equal(init.xavier_uniform(shape, init.TorchDraws(seed), gain),
                                      torch_init(torch.nn.init.xavier_uniform_, shape, seed, gain=gain))
        np.testing.assert_array_equal(init.xavier_normal(shape, init.TorchDraws(seed), gain),
                                      torch_init(torch.nn.init.xavier_normal_, shape, seed, gain=gain))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("slope, mode, nonlinearity", [(0, "fan_in", "relu"), (0.2, "fan_out", "leaky_relu"),
                                                       (math.sqrt(5), "fan_in", "leaky_relu"),
                                                       (0, "fan_out", "tanh")])
def test_kaiming_equals_torch_bit_for_bit_with_torchs_draws(shape, slope, mode, nonlinearity):
    gain = init.calculate_gain(nonlinearity, slope)
    for seed in SEEDS:
        settings = dict(a=slope, mode=mode, nonlinearity=nonlinearity)
        np.testing.assert_array_equal(init.kaiming_normal(shape, init.TorchDraws(seed), gain, mode),
                                      torch_init(torch.nn.init.kaiming_normal_, shape, seed, **settings))
        np.testing.assert_array_equal(init.kaiming_uniform(shape, init.TorchDraws(seed), gain, mode),
                                      torch_init(torch.nn.init.kaiming_uniform_, shape, seed, **settings))


def test_nn_linear_default_is_kaiming_uniform_with_gain_sqrt_one_third():
    """torch.nn.Linear starts from kaiming_uniform_(a=√5): U(±1/√fan_in), the course's nn.Linear bound."""
    for seed in SEEDS:
        torch.manual_seed(seed)
        layer = torch.nn.Linear(40, 7, dtype=torch.float64)
        weights = init.kaiming_uniform((7, 40), init.TorchDraws(seed), gain=math.sqrt(1 / 3))
        np.testing.assert_array_equal(layer.weight.detach().numpy(), weights)
        assert np.abs(weights).max() <= 1 / math.sqrt(40)


@pytest.mark.parametrize("draw, std", [
    (lambda r: init.xavier_uniform((300, 500), r), math.sqrt(2 / 800)),
    (lambda r: init.xavier_normal((300, 500), r, gain=5 / 3), 5 / 3 * math.sqrt(2 / 800)),
    (lambda r: init.kaiming_normal((300, 500), r), math.sqrt(2 / 500)),
    (lambda r: init.kaiming_uniform((300, 500), r, mode="fan_out"), math.sqrt(2 / 300)),
])
def test_numpy_draws_have_the_formulas_statistics(draw, std):
    for seed in range(5):
        weights = draw(np.random.default_rng(seed))
        assert weights.shape == (300, 500) and weights.dtype == np.float64
        assert abs(weights.mean()) < 0.01 * std * 10
        assert abs(weights.std() / std - 1) < 0.01


def test_uniform_draws_fill_the_bound_and_stay_inside():
    a = math.sqrt(6 / (20 + 30))
    weights = init.xavier_uniform((30, 20), np.random.default_rng(0))
    assert np.abs(weights).max() <= a and np.abs(weights).max() > 0.99 * a
    # the same draws as rng.uniform(-a, a, size): one call, so results are reproducible
    np.testing.assert_array_equal(weights, np.random.default_rng(0).uniform(-a, a, size=(30, 20)))


def test_torch_draws_behave_like_a_generator():
    draws = init.TorchDraws(4)
    assert isinstance(draws.uniform(), float) and draws.normal(size=3).shape == (3,)
    assert draws.random((2, 2)).shape == (2, 2) and draws.standard_normal(5).dtype == np.float64
    first, again = init.TorchDraws(4).uniform(-1, 1, size=10), init.TorchDraws(4).uniform(-1, 1, size=10)
    np.testing.assert_array_equal(first, again)


@pytest.mark.parametrize("call, error, words", [
    (lambda: init.xavier_uniform(5, np.random.default_rng(0)), TypeError, "shape must be a tuple"),
    (lambda: init.xavier_uniform((5,), np.random.default_rng(0)), ValueError, "at least 2 dimensions"),
    (lambda: init.xavier_uniform((5, 0), np.random.default_rng(0)), ValueError, r"shape\[1\] must be >= 1"),
    (lambda: init.xavier_uniform((5, 3), 0), TypeError, "rng must be a np.random.Generator"),
    (lambda: init.xavier_normal((5, 3), np.random.default_rng(0), gain=0), ValueError, "gain must be > 0"),
    (lambda: init.kaiming_normal((5, 3), np.random.default_rng(0), mode="fan"), ValueError, "mode must be"),
    (lambda: init.calculate_gain("gelu"), ValueError, "nonlinearity must be one of"),
    (lambda: init.calculate_gain(3), TypeError, "nonlinearity must be a name"),
    (lambda: init.TorchDraws(-1), ValueError, "seed must be >= 0"),
])
def test_bad_arguments_are_named(call, error, words):
    with pytest.raises(error, match=words):
        call()
