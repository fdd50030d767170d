"""course_utils.clipping equals torch.nn.utils' clip_grad_norm_, get_total_norm and clip_grad_value_."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course_utils import clipping


def random_grads(seed):
    rng = np.random.default_rng(seed)
    shapes = [tuple(rng.integers(1, 7, size=rng.integers(1, 4))) for _ in range(rng.integers(1, 6))]
    return [rng.normal(scale=rng.uniform(1e-3, 30), size=shape) for shape in shapes]


def torch_params(grads):
    params = [torch.tensor(g, requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = torch.tensor(g)
    return params


def relative(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a) - b)) / max(np.max(np.abs(b)), 1e-300))


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
def test_clip_grad_norm_equals_torch(norm_type):
    for seed in range(100):
        grads = random_grads(seed)
        before = [g.copy() for g in grads]
        for max_norm in (0.0, 1e-7, 0.5, 3.0, 1e4):
            params = torch_params(grads)
            expected_total = float(torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type))
            clipped, total = clipping.clip_grad_norm(grads, max_norm, norm_type)
            assert isinstance(total, float)
            assert abs(total - expected_total) <= 1e-12 * expected_total
            for mine, p in zip(clipped, params):
                assert mine.shape == p.grad.shape
                assert relative(mine, p.grad.numpy()) <= 1e-12 or np.max(np.abs(p.grad.numpy())) == 0
            for g, b in zip(grads, before):
                np.testing.assert_array_equal(g, b)   # pure: the inputs are not clipped in place


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
def test_total_norm_equals_torch_get_total_norm(norm_type):
    for seed in range(50):
        grads = random_grads(seed)
        expected = float(torch.nn.utils.get_total_norm([torch.tensor(g) for g in grads], norm_type))
        assert abs(clipping.total_norm(grads, norm_type) - expected) <= 1e-12 * expected
    assert clipping.total_norm([]) == 0.0


def test_clip_grad_value_equals_torch():
    for seed in range(50):
        grads = random_grads(seed)
        for clip_value in (0.0, 0.1, 2.0, 100.0):
            params = torch_params(grads)
            torch.nn.utils.clip_grad_value_(params, clip_value)
            for mine, p in zip(clipping.clip_grad_value(grads, clip_value), params):
                np.testing.assert_array_equal(mine, p.grad.numpy())


def test_clipping_keeps_the_direction_and_caps_the_length():
    grads = [np.array([[3.0, 0.0]]), np.array([4.0])]
    clipped, total = clipping.clip_grad_norm(grads, 1.0)
    assert total == 5.0
    np.testing.assert_allclose(np.concatenate([c.ravel() for c in clipped]), [0.6, 0.0, 0.8], rtol=1e-6)
    unchanged, _ = clipping.clip_grad_norm(grads, 10.0)
    for c, g in zip(unchanged, grads):
        np.testing.assert_array_equal(c, g)


@pytest.mark.parametrize("call, error, words", [
    (lambda: clipping.clip_grad_norm(np.ones(3), 1.0), TypeError, "grads must be a list"),
    (lambda: clipping.clip_grad_norm([np.ones(3)], -1.0), ValueError, "max_norm must be >= 0"),
    (lambda: clipping.clip_grad_norm([np.array([np.inf])], 1.0), ValueError, r"grads\[0\] contains inf"),
    (lambda: clipping.clip_grad_norm([np.ones(3)], 1.0, norm_type=0), ValueError, "norm_type must be > 0"),
    (lambda: clipping.clip_grad_value([np.ones(3), "x"], 1.0), TypeError, r"grads\[1\] must be a number"),
    (lambda: clipping.clip_grad_value([np.ones(3)], -2), ValueError, "clip_value must be >= 0"),
])
def test_bad_arguments_are_named(call, error, words):
    with pytest.raises(error, match=words):
        call()
