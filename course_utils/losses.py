"""Loss functions and their gradients, each gradient right below its loss (notebook 04).

Notation: ŷ is the prediction (a probability after sigmoid/softmax), y the target, z the
logits, N the number of entries the mean runs over. Every loss is a *mean* (torch's default
``reduction="mean"``) and every ``*_grad`` is the gradient of that mean with respect to the
prediction or the logits, so it carries the 1/N.

- regression:      ``mse``, ``mse_grad``, ``mae``, ``mae_grad``
- binary:          ``sigmoid``, ``bce``, ``bce_grad``, ``bce_with_logits``, ``bce_with_logits_grad``
- multi-class:     ``softmax``, ``softmax_jacobian``, ``log_softmax``, ``one_hot``,
                   ``cross_entropy``, ``cross_entropy_grad``

Every function validates its arguments (shape, NaN/inf, label range) and raises
``ValueError``/``TypeError`` naming the argument; none mutates its inputs.
"""
from __future__ import annotations

import numpy as np

from . import arguments
from .i18n import _

__all__ = [
    "mse",
    "mse_grad",
    "mae",
    "mae_grad",
    "sigmoid",
    "bce",
    "bce_grad",
    "bce_with_logits",
    "bce_with_logits_grad",
    "softmax",
    "softmax_jacobian",
    "log_softmax",
    "one_hot",
    "cross_entropy",
    "cross_entropy_grad",
]

# torch.nn.functional.binary_cross_entropy clamps each log at -100 so that ŷ = 0 or 1 gives a
# large finite loss instead of inf; bce follows it so the two agree everywhere.
_LOG_FLOOR = -100.0
# torch's binary_cross_entropy backward divides by max(ŷ(1 − ŷ), 1e-12) for the same reason.
_BCE_GRAD_EPS = 1e-12
# Probability rows must sum to 1 within this (float32 data normalised upstream still passes).
_ROW_SUM_TOL = 1e-6


# ---------------------------------------------------------------- argument checks (shared)

def _pair(pred, target, pred_name: str, target_name: str) -> tuple[np.ndarray, np.ndarray]:
    """Float64 arrays of one shape, finite and non-empty."""
    p = arguments.as_array(pred, pred_name)
    t = arguments.as_array(target, target_name)
    # No broadcasting: (N, 1) against (N,) silently gives an (N, N) loss, the classic bug.
    arguments.same_shape(p, t, pred_name, target_name)
    if p.size == 0:
        raise ValueError(_("{name} must not be empty, got shape {shape}").format(name=pred_name,
                                                                                  shape=p.shape))
    return p, t


def _in_unit_interval(x: np.ndarray, name: str) -> None:
    if np.any((x < 0) | (x > 1)):
        raise ValueError(_("{name} must lie in [0, 1], got values from {low} to {high}").format(
            name=name, low=f"{x.min():.6g}", high=f"{x.max():.6g}"))


def _axis(axis, ndim: int) -> int:
    axis = arguments.integer(axis, "axis")
    if not -max(ndim, 1) <= axis < max(ndim, 1):
        raise ValueError(_("axis must be in [-{n}, {n}) for an array with {ndim} dimension(s), "
                           "got {got}").format(n=max(ndim, 1), ndim=ndim, got=axis))
    return axis


def _logits_2d(logits) -> np.ndarray:
    z = arguments.as_array(logits, "logits", ndim=2)
    if z.shape[0] == 0 or z.shape[1] == 0:
        raise ValueError(_("logits must have shape (N, C) with N, C >= 1, got shape {shape}"
                           ).format(shape=z.shape))
    return z


def _class_indices(labels, num_classes: int, n: int | None = None) -> np.ndarray:
    """Integer labels of shape (N,) with every entry in [0, num_classes)."""
    if isinstance(labels, (str, bytes)) or labels is None:
        raise TypeError(_("labels must be an array of integer class indices, got {kind}").format(
            kind=type(labels).__name__))
    y = np.asarray(labels)
    if y.ndim != 1:
        raise ValueError(_("labels must have shape (N,), got shape {shape}").format(shape=y.shape))
    if y.dtype == bool or y.dtype.kind not in "iu":
        raise TypeError(_("labels must hold integer class indices (dtype int), got dtype {dtype}; "
                          "for soft targets pass probability rows of shape (N, C)").format(
            dtype=y.dtype))
    if n is not None and y.shape[0] != n:
        raise ValueError(_("labels must have one entry per row of logits: logits has {rows} rows, "
                           "labels has {entries} entries").format(rows=n, entries=y.shape[0]))
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(_("labels must be class indices in [0, {classes}), got values from {low} "
                           "to {high}").format(classes=num_classes, low=y.min(), high=y.max()))
    return y.astype(np.int64, copy=False)


def _targets(labels, z: np.ndarray) -> np.ndarray:
    """Target probability rows y of shape (N, C): one-hot for int labels, else checked rows."""
    n, c = z.shape
    if np.ndim(labels) != 2:
        return one_hot(_class_indices(labels, c, n), c)
    y = arguments.as_array(labels, "labels", ndim=2)
    arguments.same_shape(z, y, "logits", "labels")
    if np.any(y < 0):
        raise ValueError(_("labels given as probability rows must be >= 0, got a minimum of "
                           "{low}").format(low=f"{y.min():.6g}"))
    row_sums = y.sum(axis=1)
    if np.any(np.abs(row_sums - 1) > _ROW_SUM_TOL):
        worst = int(np.argmax(np.abs(row_sums - 1)))
        raise ValueError(_("labels given as probability rows must sum to 1 along axis 1, row "
                           "{row} sums to {total}").format(row=worst,
                                                           total=f"{row_sums[worst]:.6g}"))
    return y


# ---------------------------------------------------------------- regression

def mse(pred, target) -> float:
    """Mean squared error  L = (1/N) Σ (ŷ − y)²  over all N entries.

    ``pred`` and ``target`` must have the same shape (any shape); returns a float.
    Equals ``torch.nn.functional.mse_loss(pred, target)``.
    """
    p, t = _pair(pred, target, "pred", "target")
    return float(np.mean((p - t) ** 2))


def mse_grad(pred, target) -> np.ndarray:
    """∂L/∂ŷ of the mean squared error:  2(ŷ − y)/N, same shape as ``pred``."""
    p, t = _pair(pred, target, "pred", "target")
    return 2.0 * (p - t) / p.size


def mae(pred, target) -> float:
    """Mean absolute error  L = (1/N) Σ |ŷ − y|  over all N entries.

    Equals ``torch.nn.functional.l1_loss(pred, target)``.
    """
    p, t = _pair(pred, target, "pred", "target")
    return float(np.mean(np.abs(p - t)))


def mae_grad(pred, target) -> np.ndarray:
    """∂L/∂ŷ of the mean absolute error:  sign(ŷ − y)/N  (0 where ŷ = y, as torch)."""
    p, t = _pair(pred, target, "pred", "target")
    return np.sign(p - t) / p.size


# ---------------------------------------------------------------- binary classification

def sigmoid(z) -> np.ndarray:
    """σ(z) = 1 / (1 + e^(−z)), elementwise, any shape; float64 array of the same shape.

    Stable for large |z|: only e^(−|z|) ≤ 1 is ever computed, using σ(z) = e^z / (1 + e^z) for
    z < 0, so nothing overflows. σ′(z) = σ(z)(1 − σ(z)).
    """
    z = arguments.as_array(z, "z")
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def bce(prob, target) -> float:
    """Binary cross-entropy on probabilities  L = −(1/N) Σ [y log ŷ + (1 − y) log(1 − ŷ)].

    ``prob`` (ŷ) and ``target`` (y) have the same shape, entries in [0, 1]. Each log is clipped
    at −100 (so ŷ = 0 or 1 gives a large finite loss, not inf), exactly as
    ``torch.nn.functional.binary_cross_entropy``. Prefer ``bce_with_logits`` in practice.
    """
    p, y = _pair(prob, target, "prob", "target")
    _in_unit_interval(p, "prob")
    _in_unit_interval(y, "target")
    with np.errstate(divide="ignore"):  # log(0) = -inf, clipped on the next line
        log_p = np.maximum(np.log(p), _LOG_FLOOR)
        log_1mp = np.maximum(np.log1p(-p), _LOG_FLOOR)
    return float(-np.mean(y * log_p + (1 - y) * log_1mp))


def bce_grad(prob, target) -> np.ndarray:
    """∂L/∂ŷ of ``bce``:  (ŷ − y) / (ŷ(1 − ŷ)) / N, the denominator floored at 1e-12 as torch.

    Chained with σ′(z) = ŷ(1 − ŷ) the denominator cancels: ∂L/∂z = (ŷ − y)/N, the same form as
    softmax + cross-entropy (see ``bce_with_logits_grad``).
    """
    p, y = _pair(prob, target, "prob", "target")
    _in_unit_interval(p, "prob")
    _in_unit_interval(y, "target")
    return (p - y) / np.maximum(p * (1 - p), _BCE_GRAD_EPS) / p.size


def bce_with_logits(logits, target) -> float:
    """Binary cross-entropy on logits,  L = (1/N) Σ ℓ(z, y)  with ŷ = σ(z), computed stably as

        ℓ(z, y) = max(z, 0) − z·y + log(1 + e^(−|z|)),

    which equals −[y log σ(z) + (1 − y) log(1 − σ(z))] but never takes the log of 0 or exp of a
    large number. ``logits`` and ``target`` have the same shape, targets in [0, 1].
    Equals ``torch.nn.functional.binary_cross_entropy_with_logits(logits, target)``.
    """
    z, y = _pair(logits, target, "logits", "target")
    _in_unit_interval(y, "target")
    return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))


def bce_with_logits_grad(logits, target) -> np.ndarray:
    """∂L/∂z of ``bce_with_logits``:  (σ(z) − y)/N, same shape as ``logits``."""
    z, y = _pair(logits, target, "logits", "target")
    _in_unit_interval(y, "target")
    return (sigmoid(z) - y) / z.size


# ---------------------------------------------------------------- multi-class classification

def softmax(z, axis: int = -1) -> np.ndarray:
    """ŷ_j = e^(z_j) / Σ_k e^(z_k) along ``axis`` (default: the last, i.e. per row of (N, C)).

    Stable: z − max(z) is used instead of z (softmax is shift-invariant), so the largest
    exponent is e^0 = 1 and nothing overflows. Returns an array of the shape of ``z``.
    """
    z = arguments.as_array(z, "z")
    axis = _axis(axis, z.ndim)
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def softmax_jacobian(z) -> np.ndarray:
    """The (C, C) Jacobian of softmax for one logit vector z of shape (C,):

        ∂ŷ_j/∂z_k = ŷ_j(δ_jk − ŷ_k),  i.e.  J = diag(ŷ) − ŷŷᵀ.

    With cross-entropy L = −Σ_j y_j log ŷ_j (Σ y_j = 1) the chain rule collapses to
    ∂L/∂z_k = Σ_j (−y_j/ŷ_j) ŷ_j(δ_jk − ŷ_k) = ŷ_k − y_k.
    """
    z = arguments.as_array(z, "z", ndim=1)
    y_hat = softmax(z)
    return np.diag(y_hat) - np.outer(y_hat, y_hat)


def log_softmax(z, axis: int = -1) -> np.ndarray:
    """log ŷ_j = z_j − log Σ_k e^(z_k) along ``axis``, via log-sum-exp shifted by m = max(z):

        log Σ_k e^(z_k) = m + log Σ_k e^(z_k − m).

    Finite even for logits of ±1e4, where log(softmax(z)) would give log(0) = −inf.
    """
    z = arguments.as_array(z, "z")
    axis = _axis(axis, z.ndim)
    shifted = z - np.max(z, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def one_hot(labels, num_classes: int) -> np.ndarray:
    """Rows y of shape (N, num_classes), float64, with y[i, labels[i]] = 1 and 0 elsewhere.

    ``labels``: integer class indices of shape (N,), each in [0, num_classes).
    """
    num_classes = arguments.integer(num_classes, "num_classes", minimum=1)
    y = _class_indices(labels, num_classes)
    rows = np.zeros((y.shape[0], num_classes))
    rows[np.arange(y.shape[0]), y] = 1.0
    return rows


def cross_entropy(logits, labels) -> float:
    """Mean categorical cross-entropy  L = −(1/N) Σ_i Σ_j y_ij log softmax(z_i)_j.

    ``logits`` z: shape (N, C). ``labels``: int class indices of shape (N,) (y = one-hot), or
    probability rows of shape (N, C) (one-hot or soft targets, rows summing to 1).
    Equals ``torch.nn.functional.cross_entropy(logits, labels)`` for both kinds of labels.
    """
    z = _logits_2d(logits)
    y = _targets(labels, z)
    return float(-np.sum(y * log_softmax(z, axis=1)) / z.shape[0])


def cross_entropy_grad(logits, labels) -> np.ndarray:
    """∂L/∂z of the mean cross-entropy:  (ŷ − y)/N with ŷ = softmax(z) row-wise; shape (N, C).

    The 1/N is the batch mean. For one layer z = Wa + b this gives ∂L/∂W = (ŷ − y)aᵀ and
    ∂L/∂b = ŷ − y per example (see ``softmax_jacobian`` for the derivation).
    """
    z = _logits_2d(logits)
    y = _targets(labels, z)
    return (softmax(z, axis=1) - y) / z.shape[0]
