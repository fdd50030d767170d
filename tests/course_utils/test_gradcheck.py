"""course_utils.gradcheck: central differences are accurate, never touch x, and the relative
error follows its documented definition."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from course_utils.gradcheck import check_gradient, numerical_gradient, relative_error

points = arrays(np.float64, array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4),
                elements=st.floats(-3, 3, allow_nan=False))

# (f, its analytic gradient): smooth functions with every entry of x mattering differently.
FUNCTIONS = {
    "weighted squares": (lambda x: np.sum(np.arange(1, x.size + 1).reshape(x.shape) * x ** 2),
                         lambda x: 2 * np.arange(1, x.size + 1).reshape(x.shape) * x),
    "sin times x": (lambda x: np.sum(np.sin(x) * x), lambda x: np.cos(x) * x + np.sin(x)),
    "log-sum-exp": (lambda x: np.log(np.sum(np.exp(x))), lambda x: np.exp(x) / np.sum(np.exp(x))),
    "cubic coupling": (lambda x: np.sum(x) ** 3 / 10, lambda x: np.full(x.shape, 3 * np.sum(x) ** 2 / 10)),
}


@settings(max_examples=60, deadline=None)
@given(x=points, name=st.sampled_from(sorted(FUNCTIONS)))
def test_numerical_gradient_matches_analytic_and_leaves_x_unchanged(x, name):
    f, grad_f = FUNCTIONS[name]
    before = x.copy()
    numeric = numerical_gradient(f, x)
    np.testing.assert_array_equal(x, before)
    assert numeric.shape == x.shape
    np.testing.assert_allclose(numeric, grad_f(x), rtol=1e-6, atol=1e-7)


@settings(max_examples=50, deadline=None)
@given(x=points)
def test_x_unchanged_even_when_f_writes_into_its_argument_or_raises(x):
    before = x.copy()

    def vandal(w):
        w += 100.0  # a careless f that updates its argument in place
        return float(np.sum(w))

    numerical_gradient(vandal, x)
    np.testing.assert_array_equal(x, before)

    calls = []

    def crashes_on_third_call(w):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("boom")
        return float(np.sum(w ** 2))

    if x.size >= 2:  # the third call perturbs the second entry
        with pytest.raises(RuntimeError, match="boom"):
            numerical_gradient(crashes_on_third_call, x)
    np.testing.assert_array_equal(x, before)


def test_accepts_lists_and_integer_arrays_and_returns_float64():
    grad = numerical_gradient(lambda w: np.sum(w ** 2), [1, 2, 3])
    assert grad.dtype == np.float64
    np.testing.assert_allclose(grad, [2.0, 4.0, 6.0], rtol=1e-9)
    x = np.array([1, 2], dtype=np.int64)
    numerical_gradient(lambda w: np.sum(w ** 2), x)
    np.testing.assert_array_equal(x, [1, 2])


def test_central_difference_error_shrinks_like_h_squared():
    # For f = exp at 0 the error of (f(h) − f(−h))/2h is h²/6 + O(h⁴): ten times smaller h,
    # a hundred times smaller error (a one-sided difference would give only ten).
    errors = [abs(numerical_gradient(lambda w: np.exp(w[0]), np.zeros(1), h=h)[0] - 1.0) for h in (1e-2, 1e-3)]
    assert errors[0] == pytest.approx(1e-4 / 6, rel=1e-3)
    assert errors[0] / errors[1] == pytest.approx(100, rel=1e-2)


def test_relative_error_follows_its_definition():
    a, b = np.array([1.0, 0.0, -2.0]), np.array([1.1, 1e-17, -2.0])
    assert relative_error(a, b) == pytest.approx(0.1 / 4.0, rel=1e-12)  # max|a−b| / max(|a|+|b|)
    assert relative_error(b, a) == relative_error(a, b)
    assert relative_error(a, a) == 0.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0  # no 0/0
    assert relative_error(2.0, 3.0) == pytest.approx(1 / 5)
    assert relative_error(1.0, -1.0) == 1.0  # opposite signs: the largest possible value
    assert relative_error(np.zeros((2, 0)), np.zeros((2, 0))) == 0.0


@settings(max_examples=60, deadline=None)
@given(a=arrays(np.float64, st.integers(1, 6), elements=st.floats(-3, 3).filter(lambda v: v == 0 or abs(v) > 1e-100)),
       power=st.integers(-150, 150))
def test_relative_error_is_scale_invariant_and_in_unit_interval(a, power):
    b = a[::-1] + 0.5
    err = relative_error(a, b)
    assert 0.0 <= err <= 1.0
    scale = 2.0 ** power  # a power of two scales exactly, without rounding
    assert relative_error(a * scale, b * scale) == pytest.approx(err, rel=1e-12)


def test_check_gradient_accepts_right_and_flags_wrong_gradients():
    x = np.array([0.3, -1.2, 2.0])
    f, grad_f = FUNCTIONS["sin times x"]
    assert check_gradient(f, grad_f, x) < 1e-8
    assert check_gradient(f, lambda w: -grad_f(w), x) > 0.5  # flipped sign
    assert check_gradient(f, lambda w: 2 * grad_f(w), x) > 0.3  # missing 1/2
    np.testing.assert_array_equal(x, [0.3, -1.2, 2.0])


@pytest.mark.parametrize("call, error, match", [
    (lambda: numerical_gradient("sum", np.ones(2)), TypeError, "f must be a callable"),
    (lambda: numerical_gradient(np.sum, np.ones(2), h=0.0), ValueError, "h must be > 0"),
    (lambda: numerical_gradient(np.sum, np.ones(2), h="1e-5"), TypeError, "h must be a real number"),
    (lambda: numerical_gradient(np.sum, [1.0, np.nan]), ValueError, "x contains NaN"),
    (lambda: numerical_gradient(lambda w: w, np.ones(2)), ValueError, "f must return a single number"),
    (lambda: relative_error([1.0, 2.0], [1.0]), ValueError, "b must have the same shape as a"),
    (lambda: relative_error([np.inf], [1.0]), ValueError, "a contains inf"),
    (lambda: check_gradient(np.sum, None, np.ones(2)), TypeError, "grad_f must be a callable"),
    (lambda: check_gradient(np.sum, lambda w: np.ones(3), np.ones(2)), ValueError, r"grad_f\(x\) must have the same shape as x"),
])
def test_bad_input_raises_naming_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()
