"""course_utils.autodiff: the scalar engine's values and gradients equal torch autograd's (float64)."""
import math

import numpy as np
import pytest
import torch

from course_utils.autodiff import Value, random_expression


def both(values, build):
    """Build one expression on Value leaves and on torch leaves; return (ours, torch's) after backward."""
    mine = [Value(v) for v in values]
    theirs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    out_mine, out_theirs = build(mine), build(theirs)
    out_mine.backward()
    out_theirs.backward()
    return (out_mine.data, [v.grad for v in mine]), (out_theirs.item(),
                                                      [0.0 if t.grad is None else t.grad.item() for t in theirs])


def assert_same(ours, theirs, tol=1e-12):
    (value, grads), (t_value, t_grads) = ours, theirs
    assert value == pytest.approx(t_value, rel=tol, abs=tol)
    np.testing.assert_allclose(grads, t_grads, rtol=1e-10, atol=1e-12)


def test_the_lecture_example():
    """L = (w x + b - y)² at w = 1, b = 0.5, x = 1.4, y = 2.1: ∂L/∂w = -0.56, ∂L/∂b = -0.4."""
    w, b = Value(1.0), Value(0.5)
    r = w * 1.4 + b - 2.1
    loss = r * r
    loss.backward()
    assert loss.data == pytest.approx(0.04)
    assert w.grad == pytest.approx(-0.56, abs=1e-12) and b.grad == pytest.approx(-0.4, abs=1e-12)


@pytest.mark.parametrize("build", [
    lambda v: v[0] + v[1],
    lambda v: v[0] * v[1],
    lambda v: v[0].tanh(),
    lambda v: v[0].relu() + v[1].relu(),
    lambda v: v[0] * v[0],                      # one value used twice: gradients accumulate
    lambda v: v[0] + v[0] + v[0] * v[1],
    lambda v: (v[0] * v[1] + v[0]).tanh() * v[0] - 3.0 * v[1],
    lambda v: 2.0 - v[0] * (1.5 + v[1]),
], ids=["add", "mul", "tanh", "relu", "square", "reuse", "mixed", "constants"])
@pytest.mark.parametrize("values", [(0.7, -1.3), (-0.4, 2.5), (1e-3, 3.0)])
def test_each_operation_matches_torch(build, values):
    assert_same(*both(values, build))


def test_relu_at_zero_has_zero_slope_like_torch():
    assert_same(*both((0.0, 1.0), lambda v: v[0].relu() * v[1]))


@pytest.mark.parametrize("seed", range(40))
def test_random_expressions_match_torch(seed):
    rng = np.random.default_rng(seed)
    values = [float(v) for v in rng.normal(scale=0.8, size=int(rng.integers(2, 6)))]
    ops = int(rng.integers(3, 25))
    ours, theirs = both(values, lambda leaves: random_expression(np.random.default_rng(seed), leaves, ops))
    assert_same(ours, theirs, tol=1e-10)


def test_backward_twice_gives_the_same_gradients():
    x, y = Value(0.3), Value(-1.2)
    out = (x * y + x).tanh() * x
    out.backward()
    first = (x.grad, y.grad)
    out.backward()
    assert (x.grad, y.grad) == first


def test_a_deep_chain_needs_no_recursion():
    x = Value(0.5)
    out = x
    for _ in range(5000):
        out = out * 1.0 + 0.0
    out.backward()
    assert x.grad == 1.0


def test_values_and_operands_are_checked():
    with pytest.raises(TypeError, match="data must be a real number"):
        Value("1.0")
    with pytest.raises(TypeError, match="other operand"):
        Value(1.0) + "2"
    assert (2 * Value(3.0)).data == 6.0 and (1 - Value(3.0)).data == -2.0
    assert math.isclose(Value(0.5).tanh().data, math.tanh(0.5))
