"""course_utils.losses equals torch.nn.functional (values and autograd gradients) in float64.

Every comparison uses ``relative_error`` (max |a − b| / max(|a| + |b|)) against a bound of
1e-6; the measured maxima are ~1e-16.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from course_utils import losses as L
from course_utils.gradcheck import numerical_gradient, relative_error

TOL = 1e-6
SEEDS = range(25)


def _torch_value_and_grad(torch_loss, x, *rest):
    """torch's loss value and its autograd gradient w.r.t. the first argument."""
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    others = [torch.as_tensor(r) if np.asarray(r).dtype.kind in "iu" else torch.tensor(r, dtype=torch.float64)
              for r in rest]
    value = torch_loss(xt, *others)
    value.backward()
    return value.item(), xt.grad.numpy()


def _random_shape(rng):
    return tuple(int(n) for n in rng.integers(1, 6, size=rng.integers(1, 4)))


# Each case builds random inputs from a seed and returns
# (our value, torch value, our gradient, torch gradient).
def _mse(rng):
    shape = _random_shape(rng)
    pred, target = rng.normal(scale=3, size=shape), rng.normal(scale=3, size=shape)
    value, grad = _torch_value_and_grad(F.mse_loss, pred, target)
    return L.mse(pred, target), value, L.mse_grad(pred, target), grad


def _mae(rng):
    shape = _random_shape(rng)
    pred, target = rng.normal(scale=3, size=shape), rng.normal(scale=3, size=shape)
    value, grad = _torch_value_and_grad(F.l1_loss, pred, target)
    return L.mae(pred, target), value, L.mae_grad(pred, target), grad


def _bce(rng):
    shape = _random_shape(rng)
    prob = rng.uniform(1e-3, 1 - 1e-3, size=shape)
    # Hard 0/1 labels on even seeds' halves, soft targets elsewhere: both are valid BCE targets.
    target = rng.uniform(size=shape) if rng.random() < 0.5 else rng.integers(0, 2, size=shape).astype(float)
    value, grad = _torch_value_and_grad(F.binary_cross_entropy, prob, target)
    return L.bce(prob, target), value, L.bce_grad(prob, target), grad


def _bce_with_logits(rng):
    shape = _random_shape(rng)
    logits = rng.normal(scale=5, size=shape)
    target = rng.uniform(size=shape) if rng.random() < 0.5 else rng.integers(0, 2, size=shape).astype(float)
    value, grad = _torch_value_and_grad(F.binary_cross_entropy_with_logits, logits, target)
    return L.bce_with_logits(logits, target), value, L.bce_with_logits_grad(logits, target), grad


def _cross_entropy_int(rng):
    n, c = (int(k) for k in rng.integers(1, 8, size=2))
    logits = rng.normal(scale=4, size=(n, c))
    labels = rng.integers(0, c, size=n)
    value, grad = _torch_value_and_grad(F.cross_entropy, logits, labels)
    return L.cross_entropy(logits, labels), value, L.cross_entropy_grad(logits, labels), grad


def _cross_entropy_probabilities(rng):
    # C >= 2: with one class the true gradient is 0 and only rounding (~1e-17) is left to compare.
    n, c = int(rng.integers(1, 8)), int(rng.integers(2, 8))
    logits = rng.normal(scale=4, size=(n, c))
    targets = rng.dirichlet(np.ones(c), size=n)
    value, grad = _torch_value_and_grad(F.cross_entropy, logits, targets)
    return L.cross_entropy(logits, targets), value, L.cross_entropy_grad(logits, targets), grad


def _cross_entropy_one_hot_rows(rng):
    n, c = (int(k) for k in rng.integers(1, 8, size=2))
    logits = rng.normal(scale=4, size=(n, c))
    labels = rng.integers(0, c, size=n)
    rows = L.one_hot(labels, c)
    value, grad = _torch_value_and_grad(F.cross_entropy, logits, labels)
    return L.cross_entropy(logits, rows), value, L.cross_entropy_grad(logits, rows), grad


LOSS_CASES = {
    "mse": _mse,
    "mae": _mae,
    "bce": _bce,
    "bce_with_logits": _bce_with_logits,
    "cross_entropy_int_labels": _cross_entropy_int,
    "cross_entropy_probability_rows": _cross_entropy_probabilities,
    "cross_entropy_one_hot_rows": _cross_entropy_one_hot_rows,
}


def max_errors_vs_torch(seeds=SEEDS):
    """{case: (max value rel. error, max gradient rel. error)} over the seeds (also used to
    report the measured numbers)."""
    out = {}
    for name, case in LOSS_CASES.items():
        worst_value = worst_grad = 0.0
        for seed in seeds:
            ours, theirs, our_grad, their_grad = case(np.random.default_rng(seed))
            worst_value = max(worst_value, relative_error(ours, theirs))
            worst_grad = max(worst_grad, relative_error(our_grad, their_grad))
        out[name] = (worst_value, worst_grad)
    return out


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", LOSS_CASES)
def test_loss_and_gradient_equal_torch(name, seed):
    ours, theirs, our_grad, their_grad = LOSS_CASES[name](np.random.default_rng(seed))
    assert isinstance(ours, float)
    assert our_grad.shape == their_grad.shape
    assert relative_error(ours, theirs) <= TOL, f"{name} value: {ours} vs torch {theirs}"
    assert relative_error(our_grad, their_grad) <= TOL, f"{name} gradient differs from torch autograd"


@pytest.mark.parametrize("seed", SEEDS)
def test_softmax_and_log_softmax_equal_torch_along_any_axis(seed):
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=10, size=_random_shape(rng))
    axis = int(rng.integers(-z.ndim, z.ndim))
    zt = torch.tensor(z)
    assert relative_error(L.softmax(z, axis=axis), torch.softmax(zt, dim=axis).numpy()) <= TOL
    assert relative_error(L.log_softmax(z, axis=axis), torch.log_softmax(zt, dim=axis).numpy()) <= TOL


@pytest.mark.parametrize("seed", range(10))
def test_softmax_jacobian_equals_torch_and_collapses_to_y_hat_minus_y(seed):
    rng = np.random.default_rng(seed)
    c = int(rng.integers(2, 8))
    z = rng.normal(scale=3, size=c)
    jac = L.softmax_jacobian(z)
    torch_jac = torch.autograd.functional.jacobian(lambda t: torch.softmax(t, dim=0), torch.tensor(z)).numpy()
    assert relative_error(jac, torch_jac) <= TOL
    y_hat = L.softmax(z)
    assert relative_error(jac, y_hat[:, None] * (np.eye(c) - y_hat[None, :])) <= 1e-14  # ŷ_j(δ_jk − ŷ_k)
    # Chain rule for L = −Σ y_j log ŷ_j: ∂L/∂z = Jᵀ(−y/ŷ) = ŷ − y, and for a batch of one N = 1.
    label = int(rng.integers(0, c))
    y = L.one_hot([label], c)[0]
    chained = jac.T @ (-y / y_hat)
    assert relative_error(chained, y_hat - y) <= 1e-12
    assert relative_error(L.cross_entropy_grad(z[None, :], [label])[0], y_hat - y) <= 1e-14


def test_cross_entropy_with_a_single_class_is_zero():
    logits, rows = np.array([[3.0], [-2.0]]), np.ones((2, 1))
    assert L.cross_entropy(logits, rows) == 0.0 == L.cross_entropy(logits, [0, 0])
    np.testing.assert_allclose(L.cross_entropy_grad(logits, rows), 0.0, atol=1e-16)


def test_cross_entropy_gradient_divides_by_the_batch_size():
    rng = np.random.default_rng(0)
    logits, labels = rng.normal(size=(4, 3)), np.array([0, 2, 1, 1])
    per_example = L.softmax(logits) - L.one_hot(labels, 3)
    np.testing.assert_allclose(L.cross_entropy_grad(logits, labels), per_example / 4, rtol=1e-14)


# ---------------------------------------------------------------- extreme inputs

def test_cross_entropy_finite_and_exact_for_logits_of_1e4():
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]])
    labels = np.array([1, 2])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        value = L.cross_entropy(logits, labels)
        grad = L.cross_entropy_grad(logits, labels)
    torch_value, torch_grad = _torch_value_and_grad(F.cross_entropy, logits, labels)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert relative_error(value, torch_value) <= TOL  # 2e4 / 2 = 1e4
    assert relative_error(grad, torch_grad) <= TOL
    assert np.all(np.isfinite(L.log_softmax(logits)))


def test_sigmoid_is_stable_and_exact_for_large_logits():
    z = np.array([-1000.0, -40.0, -1.0, 0.0, 1.0, 40.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = L.sigmoid(z)
    assert relative_error(s, torch.sigmoid(torch.tensor(z)).numpy()) <= TOL
    # The small side keeps its relative precision (1 − σ(40) would round to 0, e^−40 does not).
    assert s[1] == pytest.approx(np.exp(-40.0), rel=1e-12)
    assert s[3] == 0.5 and s[-1] == 1.0 and s[0] == 0.0


def test_bce_with_logits_finite_for_large_logits():
    logits = np.array([-1e4, -50.0, 50.0, 1e4])
    target = np.array([1.0, 0.0, 1.0, 0.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = L.bce_with_logits(logits, target)
        grad = L.bce_with_logits_grad(logits, target)
    torch_value, torch_grad = _torch_value_and_grad(F.binary_cross_entropy_with_logits, logits, target)
    assert relative_error(value, torch_value) <= TOL
    assert relative_error(grad, torch_grad) <= TOL


def test_bce_clips_log_at_minus_100_like_torch():
    prob = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    target = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    value, grad = _torch_value_and_grad(F.binary_cross_entropy, prob, target)
    assert L.bce(prob, target) == pytest.approx(value, rel=1e-12)  # (100 + 100 + log 2) / 5
    assert relative_error(L.bce_grad(prob, target), grad) <= TOL


def test_sigmoid_then_bce_gives_the_logit_gradient_y_hat_minus_y():
    rng = np.random.default_rng(1)
    z, y = rng.normal(size=7), rng.integers(0, 2, size=7).astype(float)
    p = L.sigmoid(z)
    chained = L.bce_grad(p, y) * p * (1 - p)  # ∂L/∂ŷ · σ′(z)
    assert relative_error(chained, L.bce_with_logits_grad(z, y)) <= 1e-12
    assert L.bce(p, y) == pytest.approx(L.bce_with_logits(z, y), rel=1e-12)


# ---------------------------------------------------------------- properties (hypothesis)

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
matrices = arrays(np.float64, array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=6), elements=finite)


@settings(max_examples=80, deadline=None)
@given(z=matrices, shift=finite)
def test_softmax_rows_sum_to_one_and_are_shift_invariant(z, shift):
    y_hat = L.softmax(z)
    assert np.all(y_hat >= 0)
    np.testing.assert_allclose(y_hat.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(L.softmax(z + shift), y_hat, rtol=0, atol=1e-10)
    np.testing.assert_allclose(np.exp(L.log_softmax(z)), y_hat, rtol=0, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(z=matrices, data=st.data())
def test_cross_entropy_gradient_matches_central_differences_and_rows_sum_to_zero(z, data):
    z = z / 100  # keep logits moderate so finite differences are accurate
    labels = np.array(data.draw(st.lists(st.integers(0, z.shape[1] - 1), min_size=z.shape[0],
                                         max_size=z.shape[0])))
    grad = L.cross_entropy_grad(z, labels)
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-15)
    numeric = numerical_gradient(lambda w: L.cross_entropy(w, labels), z)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


vectors = arrays(np.float64, array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=5),
                 elements=st.floats(-10, 10, allow_nan=False))


@settings(max_examples=60, deadline=None)
@given(pred=vectors, data=st.data())
def test_regression_and_logit_gradients_match_central_differences(pred, data):
    target = data.draw(arrays(np.float64, pred.shape, elements=st.floats(-10, 10, allow_nan=False)))
    np.testing.assert_allclose(L.mse_grad(pred, target),
                               numerical_gradient(lambda p: L.mse(p, target), pred), rtol=1e-6, atol=1e-8)
    # |p − t| has a kink at 0: compare only where the difference is clearly away from it.
    away = np.abs(pred - target) > 1e-3
    np.testing.assert_allclose(L.mae_grad(pred, target)[away],
                               numerical_gradient(lambda p: L.mae(p, target), pred)[away], atol=1e-9)
    probs = data.draw(arrays(np.float64, pred.shape, elements=st.floats(0, 1)))
    np.testing.assert_allclose(L.bce_with_logits_grad(pred, probs),
                               numerical_gradient(lambda z: L.bce_with_logits(z, probs), pred),
                               rtol=1e-6, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(pred=vectors)
def test_losses_do_not_mutate_their_inputs(pred):
    target = pred[::-1].copy()
    before = pred.copy(), target.copy()
    L.mse(pred, target), L.mse_grad(pred, target), L.mae_grad(pred, target)
    L.softmax(pred), L.log_softmax(pred), L.sigmoid(pred)
    np.testing.assert_array_equal(pred, before[0])
    np.testing.assert_array_equal(target, before[1])


def test_one_hot():
    np.testing.assert_array_equal(L.one_hot([2, 0, 1], 3), np.eye(3)[[2, 0, 1]])
    assert L.one_hot(np.array([1], dtype=np.uint8), 2).dtype == np.float64


# ---------------------------------------------------------------- bad input names the argument

LOGITS = np.zeros((3, 4))


@pytest.mark.parametrize("call, error, match", [
    (lambda: L.mse([1.0, 2.0], [1.0, 2.0, 3.0]), ValueError, "target must have the same shape as pred"),
    (lambda: L.mse(np.ones((3, 1)), np.ones(3)), ValueError, "target must have the same shape as pred"),
    (lambda: L.mse_grad([np.nan], [1.0]), ValueError, "pred contains NaN"),
    (lambda: L.mae("abc", [1.0]), TypeError, "pred must be a number"),
    (lambda: L.mae_grad([1.0], [np.inf]), ValueError, "target contains inf"),
    (lambda: L.mse([], []), ValueError, "pred must not be empty"),
    (lambda: L.bce([1.5], [1.0]), ValueError, r"prob must lie in \[0, 1\]"),
    (lambda: L.bce_grad([0.5], [2.0]), ValueError, r"target must lie in \[0, 1\]"),
    (lambda: L.bce_with_logits([0.0], [-1.0]), ValueError, "target must lie"),
    (lambda: L.bce_with_logits_grad([0.0, 1.0], [1.0]), ValueError, "target must have the same shape as logits"),
    (lambda: L.sigmoid(None), TypeError, "z must be"),
    (lambda: L.softmax([1.0, np.nan]), ValueError, "z contains NaN"),
    (lambda: L.softmax([1.0, 2.0], axis=1), ValueError, "axis must be in"),
    (lambda: L.log_softmax([1.0, 2.0], axis=0.5), TypeError, "axis must be an integer"),
    (lambda: L.softmax_jacobian(np.zeros((2, 2))), ValueError, "z must have 1 dimension"),
    (lambda: L.cross_entropy(np.zeros(4), [0]), ValueError, "logits must have 2 dimension"),
    (lambda: L.cross_entropy(np.zeros((0, 4)), np.array([], dtype=int)), ValueError, "logits must have shape"),
    (lambda: L.cross_entropy([[np.inf, 0.0]], [0]), ValueError, "logits contains inf"),
    (lambda: L.cross_entropy(LOGITS, [0, 1, 4]), ValueError, r"labels must be class indices in \[0, 4\)"),
    (lambda: L.cross_entropy_grad(LOGITS, [0, -1, 2]), ValueError, "labels must be class indices"),
    (lambda: L.cross_entropy(LOGITS, [0.0, 1.0, 2.0]), TypeError, "labels must hold integer class indices"),
    (lambda: L.cross_entropy(LOGITS, [True, False, True]), TypeError, "labels must hold integer"),
    (lambda: L.cross_entropy(LOGITS, "abc"), TypeError, "labels must be an array of integer"),
    (lambda: L.cross_entropy_grad(LOGITS, [0, 1]), ValueError, "labels must have one entry per row of logits"),
    (lambda: L.cross_entropy(LOGITS, np.zeros((3, 5))), ValueError, "labels must have the same shape as logits"),
    (lambda: L.cross_entropy(LOGITS, np.full((3, 4), 0.5)), ValueError, "labels .* must sum to 1"),
    (lambda: L.cross_entropy_grad(LOGITS, np.tile([1.5, -0.5, 0, 0], (3, 1))), ValueError, "labels .* must be >= 0"),
    (lambda: L.cross_entropy(LOGITS, np.zeros((3, 4, 1))), ValueError, r"labels must have shape \(N,\)"),
    (lambda: L.cross_entropy(LOGITS, 2), ValueError, r"labels must have shape \(N,\)"),
    (lambda: L.one_hot([0, 3], 3), ValueError, "labels must be class indices"),
    (lambda: L.one_hot([0], 0), ValueError, "num_classes must be >= 1"),
    (lambda: L.one_hot([0], 2.0), TypeError, "num_classes must be an integer"),
])
def test_bad_input_raises_naming_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()
