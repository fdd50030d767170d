"""course_utils.data: every sample once per epoch, reproducible shuffles, the digits split."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.data import (
    DigitsSplit,
    least_squares,
    load_digits,
    make_classification_blobs,
    make_linear_regression,
    minibatches,
)


def labelled(n: int, d: int = 3):
    """X whose first column is the sample id, so a batch tells which samples it holds."""
    X = np.column_stack([np.arange(n, dtype=np.float64), np.ones((n, d - 1))])
    return X, np.arange(n) * 10


@settings(max_examples=80, deadline=None)
@given(n=st.integers(1, 120), batch_size=st.integers(1, 150), shuffle=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_each_sample_exactly_once_per_epoch(n, batch_size, shuffle, seed):
    X, y = labelled(n)
    X_before, y_before = X.copy(), y.copy()
    batches = list(minibatches(X, y, batch_size, rng=seed, shuffle=shuffle))
    sizes = [len(xb) for xb, _ in batches]
    # All batches full except possibly the last one.
    assert sizes == [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    ids = np.concatenate([xb[:, 0] for xb, _ in batches]).astype(int)
    assert sorted(ids) == list(range(n))
    for xb, yb in batches:  # rows and targets stay paired
        np.testing.assert_array_equal(yb, xb[:, 0].astype(int) * 10)
        assert xb.shape[1:] == X.shape[1:] and yb.dtype == y.dtype
    if not shuffle:
        np.testing.assert_array_equal(ids, np.arange(n))
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)


def order(batches):
    return np.concatenate([xb[:, 0] for xb, _ in batches]).astype(int)


def test_same_seed_same_order_and_generator_reshuffles_each_epoch():
    X, y = labelled(50)
    np.testing.assert_array_equal(order(minibatches(X, y, 8, rng=3)), order(minibatches(X, y, 8, rng=3)))
    assert not np.array_equal(order(minibatches(X, y, 8, rng=3)), order(minibatches(X, y, 8, rng=4)))

    rng = np.random.default_rng(0)
    epochs = [order(minibatches(X, y, 8, rng)) for _ in range(3)]
    assert not np.array_equal(epochs[0], epochs[1]) and not np.array_equal(epochs[1], epochs[2])
    assert not np.array_equal(epochs[0], np.arange(50))
    rng_again = np.random.default_rng(0)
    again = [order(minibatches(X, y, 8, rng_again)) for _ in range(3)]
    for a, b in zip(epochs, again):  # the whole multi-epoch run is reproducible
        np.testing.assert_array_equal(a, b)


def test_batches_are_copies_not_views():
    X, y = labelled(10)
    X_before = X.copy()
    for xb, yb in minibatches(X, y, 4, shuffle=False):
        xb[:] = -1.0
        yb[:] = -1
    np.testing.assert_array_equal(X, X_before)
    assert (y >= 0).all()


def test_batch_larger_than_n_gives_one_full_batch_and_lists_work():
    batches = list(minibatches([[1.0], [2.0], [3.0]], [0, 1, 2], 100, shuffle=False))
    assert len(batches) == 1
    np.testing.assert_array_equal(batches[0][1], [0, 1, 2])


@pytest.mark.parametrize("call, error, name", [
    (lambda: minibatches(np.zeros((5, 2)), np.zeros(4), 2), ValueError, "y"),
    (lambda: minibatches(np.zeros((5, 2)), np.zeros(5), 0), ValueError, "batch_size"),
    (lambda: minibatches(np.zeros((5, 2)), np.zeros(5), 2.0), TypeError, "batch_size"),
    (lambda: minibatches(np.zeros((5, 2)), np.zeros(5), 2, rng="seed"), TypeError, "rng"),
    (lambda: minibatches(np.zeros((5, 2)), np.zeros(5), 2, rng=-1), ValueError, "rng"),
    (lambda: minibatches(np.zeros((5, 2)), np.zeros(5), 2, shuffle="yes"), TypeError, "shuffle"),
    (lambda: minibatches(np.float64(3.0), np.zeros(5), 2), ValueError, "X"),
    (lambda: minibatches(None, np.zeros(5), 2), TypeError, "X"),
    (lambda: minibatches(np.zeros((0, 2)), np.zeros(0), 2), ValueError, "X"),
    (lambda: make_linear_regression(n=0), ValueError, "n"),
    (lambda: make_linear_regression(noise=-1.0), ValueError, "noise"),
    (lambda: make_linear_regression(w_true=np.ones((2, 2))), ValueError, "w_true"),
    (lambda: make_linear_regression(x_range=(1.0, 1.0)), ValueError, "x_range"),
    (lambda: load_digits(test_fraction=1.0), ValueError, "test_fraction"),
    (lambda: load_digits(test_fraction=0.0), ValueError, "test_fraction"),
    (lambda: least_squares(np.ones(3), np.ones(4)), ValueError, "y"),
    (lambda: make_classification_blobs(n_classes=1), ValueError, "n_classes"),
])
def test_bad_arguments_raise_errors_that_name_them(call, error, name):
    # Errors come at the call, not at the first next(): no half-run epoch.
    with pytest.raises(error, match=rf"\b{name}\b"):
        call()


def test_load_digits_shapes_ranges_and_split():
    split = load_digits()
    assert isinstance(split, DigitsSplit)
    X_train, X_test, y_train, y_test = split
    assert X_train.shape == (1347, 64) and X_test.shape == (450, 64)
    assert y_train.shape == (1347,) and y_test.shape == (450,)
    assert X_train.dtype == np.float64 and y_train.dtype == np.int64
    assert X_train.min() == 0.0 and X_train.max() == 1.0 and X_test.max() <= 1.0
    assert set(np.unique(y_train)) == set(range(10)) == set(np.unique(y_test))
    # Stratified: each digit is ~10% of the test set.
    assert np.bincount(y_test, minlength=10).min() >= 43
    again = load_digits()
    np.testing.assert_array_equal(again.X_train, X_train)
    other = load_digits(test_fraction=0.2, seed=1)
    assert other.X_test.shape == (360, 64)
    assert not np.array_equal(other.y_train[:50], y_train[:50])


def test_linear_regression_data_recovers_the_true_line():
    x, y = make_linear_regression(n=2000, noise=0.3, seed=1, w_true=-1.5, b_true=0.7)
    assert x.shape == (2000,) and y.shape == (2000,) and x.dtype == np.float64
    assert x.min() >= -2 and x.max() <= 2
    w, b = least_squares(x, y)
    assert w == pytest.approx(-1.5, abs=0.03) and b == pytest.approx(0.7, abs=0.03)
    residual = y - (w * x + b)
    assert residual.std() == pytest.approx(0.3, rel=0.1)
    x2, y2 = make_linear_regression(n=2000, noise=0.3, seed=1, w_true=-1.5, b_true=0.7)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)


def test_linear_regression_in_d_dimensions_and_noise_free_fit_is_exact():
    X, y = make_linear_regression(n=50, noise=0.0, seed=2, w_true=[1.0, -2.0, 0.5], b_true=3.0)
    assert X.shape == (50, 3) and y.shape == (50,)
    w, b = least_squares(X, y)
    np.testing.assert_allclose(w, [1.0, -2.0, 0.5], rtol=1e-10)
    assert b == pytest.approx(3.0, rel=1e-10)


def test_least_squares_is_the_minimiser_of_the_mse():
    x, y = make_linear_regression(n=40, seed=5)
    w, b = least_squares(x, y)
    # The MSE gradient vanishes at (w*, b*).
    r = w * x + b - y
    assert abs(np.mean(2 * r * x)) < 1e-12 and abs(np.mean(2 * r)) < 1e-12


def test_classification_blobs():
    X, y = make_classification_blobs(n_per_class=30, n_classes=4, seed=0)
    assert X.shape == (120, 2) and y.shape == (120,) and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [30] * 4)
    means = np.array([X[y == c].mean(axis=0) for c in range(4)])
    np.testing.assert_allclose(np.linalg.norm(means, axis=1), 2.0, atol=0.35)
