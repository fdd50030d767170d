"""Data for the course: mini-batches, the 8×8 digits set and small synthetic problems.

Used by notebook 02 (1-D linear regression), 03 (batch / stochastic / mini-batch GD),
05 and 09 (an MLP on digits). Every maker takes an explicit ``seed``; nothing reads or
changes numpy's global random state, so re-running a cell gives the same data.
"""
from __future__ import annotations

import numbers
from typing import Iterator, NamedTuple

import numpy as np

from course_utils import arguments
from course_utils.i18n import _

__all__ = [
    "minibatches",
    "DigitsSplit",
    "load_digits",
    "make_linear_regression",
    "least_squares",
    "make_classification_blobs",
]


def _generator(rng, name: str = "rng") -> np.random.Generator:
    """A ``np.random.Generator`` from a Generator (used as is), an int seed, or None (fresh)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (numbers.Integral, np.integer)) and not isinstance(rng, bool)):
        if rng is not None and rng < 0:
            raise ValueError(_("{name} must be a non-negative seed, got {got}").format(name=name,
                                                                                        got=rng))
        return np.random.default_rng(rng)
    raise TypeError(_("{name} must be a np.random.Generator, an int seed or None, got {kind}"
                      ).format(name=name, kind=type(rng).__name__))


def minibatches(X, y, batch_size: int, rng=None, shuffle: bool = True
                ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(X_batch, y_batch)`` pairs that visit every sample exactly once (one epoch).

    The samples are taken in a random order when ``shuffle`` (otherwise in order), in batches
    of ``batch_size``; the last batch is smaller when N is not a multiple of ``batch_size``,
    and ``batch_size >= N`` gives one full batch (batch gradient descent).

    Args:
        X: inputs, shape (N, ...) — N samples along the first axis.
        y: targets, shape (N, ...).
        batch_size: B, integer >= 1.
        rng: a ``np.random.Generator`` (advanced by each epoch: pass the *same* generator every
            epoch to get a new order each epoch, reproducibly), an int seed (the same order on
            every call), or None (a fresh, unseeded order).
        shuffle: shuffle the order of the samples; default True.

    Yields:
        ``X[idx], y[idx]`` of shapes (B, ...) and (B, ...): copies, dtypes kept; X and y are
        never modified.

    >>> rng = np.random.default_rng(0)
    >>> for epoch in range(3):
    ...     for xb, yb in minibatches(X, y, 32, rng):
    ...         ...
    """
    if isinstance(X, (str, bytes)) or X is None:
        raise TypeError(_("X must be an array of samples, got {kind}").format(
            kind=type(X).__name__))
    if isinstance(y, (str, bytes)) or y is None:
        raise TypeError(_("y must be an array of targets, got {kind}").format(
            kind=type(y).__name__))
    X, y = np.asarray(X), np.asarray(y)
    for name, array in (("X", X), ("y", y)):
        if array.ndim == 0:
            raise ValueError(_("{name} must have at least 1 dimension (samples along axis 0), got "
                               "a scalar").format(name=name))
    if len(X) != len(y):
        raise ValueError(_("y must have one target per sample of X: X has {samples} samples, y "
                           "has {targets}").format(samples=len(X), targets=len(y)))
    if len(X) == 0:
        raise ValueError(_("X must contain at least one sample, got 0"))
    batch_size = arguments.integer(batch_size, "batch_size", minimum=1)
    if not isinstance(shuffle, (bool, np.bool_)):
        raise TypeError(_("{name} must be True or False, got {got}").format(
            name="shuffle", got=type(shuffle).__name__))
    # Resolve the rng before the first yield so a bad rng fails at the call, not mid-loop.
    order = _generator(rng).permutation(len(X)) if shuffle else np.arange(len(X))
    return _batches(X, y, order, batch_size)


def _batches(X, y, order, batch_size):
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]  # fancy indexing copies: the caller cannot alias X or y


class DigitsSplit(NamedTuple):
    """Train/test split of the digits set; unpacks like sklearn's ``train_test_split``."""

    X_train: np.ndarray  # (N_train, 64) float64 in [0, 1]
    X_test: np.ndarray   # (N_test, 64)  float64 in [0, 1]
    y_train: np.ndarray  # (N_train,)    int64 in 0..9
    y_test: np.ndarray   # (N_test,)     int64 in 0..9


def load_digits(test_fraction: float = 0.25, seed: int = 0) -> DigitsSplit:
    """The 1,797 8×8 handwritten digits of ``sklearn.datasets.load_digits`` (offline).

    Pixels (0…16 in the original) are divided by 16, so each image is a row of 64 values in
    [0, 1]. The split is stratified: every digit keeps its share in train and test.
    With the default ``test_fraction=0.25``: X_train (1347, 64), X_test (450, 64),
    y_train (1347,), y_test (450,).

    Args:
        test_fraction: share of samples held out for testing, in (0, 1); default 0.25.
        seed: seed of the shuffle before splitting; default 0.

    Returns:
        ``DigitsSplit(X_train, X_test, y_train, y_test)``: float64 X, int64 y.
    """
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    test_fraction = arguments.positive(test_fraction, "test_fraction")
    if test_fraction >= 1:
        raise ValueError(_("test_fraction must be < 1 (some samples must be left to train on), "
                           "got {got}").format(got=test_fraction))
    seed = arguments.integer(seed, "seed", minimum=0)
    digits = sklearn_digits()
    X = digits.data.astype(np.float64) / 16.0
    y = digits.target.astype(np.int64)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_fraction, random_state=seed, stratify=y)
    return DigitsSplit(X_train, X_test, y_train, y_test)


def make_linear_regression(n: int = 100, noise: float = 0.5, seed: int = 0, w_true=2.0,
                           b_true: float = 1.0, x_range: tuple[float, float] = (-2.0, 2.0)
                           ) -> tuple[np.ndarray, np.ndarray]:
    """Noisy samples of a line (or hyperplane): y = x·w_true + b_true + noise·ε, ε ~ N(0, 1).

    The inputs are uniform on ``x_range`` (every feature). A scalar ``w_true`` gives the 1-D
    problem of notebooks 02 and 03 (x of shape (n,)); a vector ``w_true`` of shape (d,) gives
    X of shape (n, d).

    Args:
        n: number of samples, integer >= 1; default 100.
        noise: standard deviation of the additive Gaussian noise, >= 0; default 0.5.
        seed: integer seed; default 0.
        w_true: true slope (scalar) or weights (d,); default 2.0.
        b_true: true intercept; default 1.0.
        x_range: (low, high) of the uniform inputs; default (-2, 2).

    Returns:
        ``(x, y)``: x of shape (n,) or (n, d), y of shape (n,), both float64.
    """
    n = arguments.integer(n, "n", minimum=1)
    noise = arguments.non_negative(noise, "noise")
    seed = arguments.integer(seed, "seed", minimum=0)
    w_true = arguments.as_array(w_true, "w_true", ndim=(0, 1))
    b_true = float(arguments.as_array(b_true, "b_true", ndim=0))
    if not (isinstance(x_range, (tuple, list)) and len(x_range) == 2):
        raise TypeError(_("x_range must be a pair (low, high), got {got}").format(
            got=repr(x_range))[:100])
    low, high = (float(arguments.as_array(v, "x_range", ndim=0)) for v in x_range)
    if not low < high:
        raise ValueError(_("x_range must have low < high, got {got}").format(got=x_range))
    rng = np.random.default_rng(seed)
    x = rng.uniform(low, high, size=(n,) + w_true.shape)
    y = (x * w_true if w_true.ndim == 0 else x @ w_true) + b_true + noise * rng.standard_normal(n)
    return x, y


def least_squares(x, y) -> tuple[float | np.ndarray, float]:
    """The exact minimiser (w*, b*) of the MSE  L(w, b) = mean((x·w + b − y)²).

    The target that gradient descent should approach; ``np.linalg.lstsq`` on [x, 1].

    Args:
        x: inputs, shape (n,) (1-D problem) or (n, d).
        y: targets, shape (n,).

    Returns:
        ``(w, b)``: w a float for 1-D x, shape (d,) otherwise; b a float.
    """
    x = arguments.as_array(x, "x", ndim=(1, 2))
    y = arguments.as_array(y, "y", ndim=1)
    if len(x) != len(y):
        raise ValueError(_("y must have one target per sample of x: x has {samples}, y has "
                           "{targets}").format(samples=len(x), targets=len(y)))
    design = np.column_stack([x.reshape(len(x), -1), np.ones(len(x))])
    coef = np.linalg.lstsq(design, y, rcond=None)[0]
    w = float(coef[0]) if x.ndim == 1 else coef[:-1]
    return w, float(coef[-1])


def make_classification_blobs(n_per_class: int = 50, n_classes: int = 3, spread: float = 0.6,
                              seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs in 2-D, one per class, centres evenly spaced on the unit circle (×2).

    Args:
        n_per_class: samples per class, integer >= 1; default 50.
        n_classes: number of classes C, integer >= 2; default 3.
        spread: standard deviation of each blob, > 0; default 0.6.
        seed: integer seed; default 0.

    Returns:
        ``(X, y)``: X float64 of shape (C·n_per_class, 2), y int64 of shape (C·n_per_class,)
        with labels 0…C−1, samples shuffled.
    """
    n_per_class = arguments.integer(n_per_class, "n_per_class", minimum=1)
    n_classes = arguments.integer(n_classes, "n_classes", minimum=2)
    spread = arguments.positive(spread, "spread")
    seed = arguments.integer(seed, "seed", minimum=0)
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * np.arange(n_classes) / n_classes
    centres = 2.0 * np.column_stack([np.cos(angles), np.sin(angles)])
    y = np.repeat(np.arange(n_classes, dtype=np.int64), n_per_class)
    X = centres[y] + spread * rng.standard_normal((len(y), 2))
    order = rng.permutation(len(y))
    return X[order], y[order]
