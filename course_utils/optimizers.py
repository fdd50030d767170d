"""Optimizers that mirror ``torch.optim`` on numpy arrays, re-exported by ``course_utils.optim``.

Each class holds a list of float arrays and updates them in place on ``step(grads)``, with
torch's defaults and update order. SGD and RMSprop loop over the pure rules of ``optim``; Adam
and AdamW do the same arithmetic in place (as torch does) and stay equal to ``adam_step`` and
``adamw_step`` bit for bit.
"""
from __future__ import annotations

import abc

import numpy as np

from . import arguments
from .i18n import _
from .optim import momentum_step, nesterov_step, rmsprop_step, sgd_step, unchecked

def _check_params(params) -> list[np.ndarray]:
    if isinstance(params, (np.ndarray, str, bytes)) or not hasattr(params, "__iter__"):
        raise TypeError(_("params must be a list of numpy arrays (wrap a single array as [w]), "
                          "got {kind}").format(kind=type(params).__name__))
    params = list(params)
    if not params:
        raise ValueError(_("params is empty: give the optimizer at least one array to update"))
    for i, p in enumerate(params):
        if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
            what = (_("an array of dtype {dtype}").format(dtype=p.dtype)
                    if isinstance(p, np.ndarray) else type(p).__name__)
            raise TypeError(_("{name} must be a float numpy array (it is updated in place), got "
                              "{kind}").format(name=f"params[{i}]", kind=what))
        arguments.as_array(p, f"params[{i}]")
        for j, q in enumerate(params[:i]):
            if np.shares_memory(p, q):
                raise ValueError(_("{name} shares memory with {other}: it would be updated twice "
                                   "per step").format(name=f"params[{i}]", other=f"params[{j}]"))
    return params


def _check_betas(betas) -> tuple[float, float]:
    if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
        raise TypeError(_("betas must be a pair (beta1, beta2), got {got}").format(got=repr(betas)))
    return (arguments.in_unit_interval(betas[0], "betas[0]"),
            arguments.in_unit_interval(betas[1], "betas[1]"))


class Optimizer(abc.ABC):
    """Base of the classes: ``params`` updated in place, a settable ``lr``, per-parameter ``state``.

    Subclasses define ``_update(w, g, state) -> new w`` for one parameter; ``step`` checks the
    gradients once and writes each new w into the caller's array (``p[...] = new``), so a
    model holding these arrays sees the update.
    """

    def __init__(self, params, lr):
        self.params = _check_params(params)
        self.lr = arguments.positive(lr, "lr")
        self.state: list[dict] = [{} for _ in self.params]  # state[i] belongs to params[i]

    @property
    def lr(self) -> float:
        """The learning rate of the next step; a schedule may lower it to 0 (torch allows it)."""
        return self._lr

    @lr.setter
    def lr(self, value) -> None:
        self._lr = arguments.non_negative(value, "lr")

    def step(self, grads) -> None:
        """Update every parameter in place from ``grads``, a list aligned with ``params``."""
        grads = self._check_grads(grads)
        for p, g, state in zip(self.params, grads, self.state):
            new = self._update(p, g, state)
            if new is not p:  # an update done in place (Adam) needs no copy back
                p[...] = new

    def _check_grads(self, grads) -> list[np.ndarray]:
        if isinstance(grads, (np.ndarray, str, bytes)) or not hasattr(grads, "__len__"):
            raise TypeError(_("grads must be a list of arrays, one per parameter, got {kind}"
                              ).format(kind=type(grads).__name__))
        if len(grads) != len(self.params):
            raise ValueError(_("grads must hold one array per parameter: {count} params, got "
                               "{got} grads").format(count=len(self.params), got=len(grads)))
        checked = []
        for i, (p, g) in enumerate(zip(self.params, grads)):
            g = arguments.as_array(g, f"grads[{i}]")
            arguments.same_shape(p, g, f"params[{i}]", f"grads[{i}]")
            checked.append(g)
        return checked

    @abc.abstractmethod
    def _update(self, w: np.ndarray, g: np.ndarray, state: dict) -> np.ndarray:
        """The new value of one parameter ``w`` given its gradient ``g`` and its ``state``."""

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in self._settings().items())
        return f"{type(self).__name__}({settings})"

    def _settings(self) -> dict:
        return {"lr": self.lr}


class SGD(Optimizer):
    """``torch.optim.SGD`` on numpy arrays: plain, with momentum, dampening, L2 decay, Nesterov.

    Per parameter, with λ = weight_decay, β = momentum, d = dampening:

        g ← g + λ w
        v ← g on the first step, then v ← β v + (1 − d) g      (only when β > 0)
        w ← w − η v         or, with nesterov=True,   w ← w − η (g + β v)

    lr has no default (as in the course contract); momentum in [0, 1), dampening in [0, 1].
    ``state[i]["momentum_buffer"]`` is v. nesterov=True needs momentum > 0 and dampening = 0.
    """

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params, lr)
        self.momentum = arguments.in_unit_interval(momentum, "momentum")
        self.dampening = arguments.in_unit_interval(dampening, "dampening", include_one=True)
        self.weight_decay = arguments.non_negative(weight_decay, "weight_decay")
        if not isinstance(nesterov, (bool, np.bool_)):
            raise TypeError(_("{name} must be True or False, got {got}").format(
                name="nesterov", got=repr(nesterov)))
        if nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError(_("nesterov=True needs momentum > 0 and dampening = 0 (as torch), got "
                               "momentum={momentum}, dampening={dampening}").format(
                momentum=self.momentum, dampening=self.dampening))
        self.nesterov = bool(nesterov)

    def _update(self, w, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * w
        if self.momentum == 0:
            return unchecked(sgd_step)(w, g, self.lr)
        if "momentum_buffer" in state:
            v, g = state["momentum_buffer"], (1 - self.dampening) * g
        else:  # torch's first step: the buffer is g itself, not dampened
            v = np.zeros_like(w, dtype=np.float64)
        rule = nesterov_step if self.nesterov else momentum_step
        w, state["momentum_buffer"] = unchecked(rule)(w, g, v, self.lr, self.momentum)
        return w

    def _settings(self):
        return {"lr": self.lr, "momentum": self.momentum, "dampening": self.dampening,
                "weight_decay": self.weight_decay, "nesterov": self.nesterov}


class RMSprop(Optimizer):
    """``torch.optim.RMSprop`` on numpy arrays (not centered, no momentum).

    Per parameter: g ← g + λ w (L2, λ = weight_decay), then ``rmsprop_step``.
    Defaults as torch: lr = 1e-2, alpha = 0.99, eps = 1e-8, weight_decay = 0.
    ``state[i]`` holds "step" and "square_avg" (s).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        self.alpha = arguments.in_unit_interval(alpha, "alpha")
        self.eps = arguments.positive(eps, "eps")
        self.weight_decay = arguments.non_negative(weight_decay, "weight_decay")

    def _update(self, w, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * w
        s = state.get("square_avg", np.zeros_like(w, dtype=np.float64))
        w, state["square_avg"] = unchecked(rmsprop_step)(w, g, s, self.lr, self.alpha, self.eps)
        state["step"] = state.get("step", 0) + 1
        return w

    def _settings(self):
        return {"lr": self.lr, "alpha": self.alpha, "eps": self.eps,
                "weight_decay": self.weight_decay}


# Weights per block of Adam's in-place arithmetic: w, g, m, v and two scratch blocks of 2¹⁵
# float64 (1.5 MiB) fit in a core's L2 cache.
BLOCK = 1 << 15


class Adam(Optimizer):
    """``torch.optim.Adam`` on numpy arrays: ``adam_step`` per parameter, t counted per parameter.

    Defaults as torch: lr = 1e-3, betas = (0.9, 0.999), eps = 1e-8, weight_decay = 0 (L2).
    ``state[i]`` holds "step" (t), "exp_avg" (m) and "exp_avg_sq" (v).
    """

    decoupled = False   # AdamW: weight decay on w itself, not in the gradient

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        self.betas = _check_betas(betas)
        self.eps = arguments.positive(eps, "eps")
        self.weight_decay = arguments.non_negative(weight_decay, "weight_decay")
        scratch = min(BLOCK, max(p.size for p in self.params))
        self._scratch = (np.empty(scratch), np.empty(scratch))

    def _update(self, w, g, state):
        """``adam_step`` (``adamw_step`` when decoupled) done in place, as torch does: m, v and
        w change where they live, so a step allocates nothing. Same operations in the same order
        as the rule: equal to it bit for bit. The arithmetic runs over blocks of ``BLOCK``
        weights: the dozen passes of one block stay in the CPU cache, where over the whole 10⁶
        array each pass went out to memory (1.7× slower than torch's fused kernels)."""
        if "step" not in state:
            state.update(step=0, exp_avg=np.zeros_like(w, dtype=np.float64),
                         exp_avg_sq=np.zeros_like(w, dtype=np.float64))
        state["step"] += 1
        m, v = state["exp_avg"], state["exp_avg_sq"]
        if self.weight_decay and self.decoupled:
            w *= 1 - self.lr * self.weight_decay               # w ← w (1 − ηλ)
        elif self.weight_decay:
            g = g + self.weight_decay * w                       # g ← g + λw
        g = np.broadcast_to(g, w.shape)
        if not (w.flags.c_contiguous and m.flags.c_contiguous and v.flags.c_contiguous):
            self._update_block(w, g, m, v, state["step"], np.empty(w.shape), np.empty(w.shape))
            return w
        w_, g_, m_, v_ = w.reshape(-1), np.ravel(g), m.reshape(-1), v.reshape(-1)
        for lo in range(0, w_.size, BLOCK):
            hi = min(lo + BLOCK, w_.size)
            step, denominator = (buffer[:hi - lo] for buffer in self._scratch)
            self._update_block(w_[lo:hi], g_[lo:hi], m_[lo:hi], v_[lo:hi], state["step"],
                               step, denominator)
        return w

    def _update_block(self, w, g, m, v, t, step, denominator):
        beta1, beta2 = self.betas
        m *= beta1                                              # m ← β1 m + (1 − β1) g
        m += np.multiply(1 - beta1, g, out=step)
        v *= beta2                                              # v ← β2 v + (1 − β2) g²
        np.multiply(g, g, out=step)
        v += np.multiply(1 - beta2, step, out=step)
        np.divide(v, 1 - beta2**t, out=denominator)             # √v̂ + ε
        np.sqrt(denominator, out=denominator)
        denominator += self.eps
        np.divide(m, 1 - beta1**t, out=step)                    # η m̂ / (√v̂ + ε)
        step *= self.lr
        step /= denominator
        w -= step

    def _settings(self):
        return {"lr": self.lr, "betas": self.betas, "eps": self.eps,
                "weight_decay": self.weight_decay}


class AdamW(Adam):
    """``torch.optim.AdamW`` on numpy arrays: ``adamw_step`` per parameter (decoupled decay).

    Defaults as torch: lr = 1e-3, betas = (0.9, 0.999), eps = 1e-8, weight_decay = 1e-2.
    """

    decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, lr, betas, eps, weight_decay)
