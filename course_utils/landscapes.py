"""Loss landscapes to descend: each one's value and gradient written side by side.

A ``Landscape`` bundles what a notebook, a plot or a widget needs about a test function:
its ``name`` and ``formula``, the value ``f`` and gradient ``grad_f`` (vectorised), a default
view window, a good start point, the minimiser(s) and the largest curvature λ_max (the largest
Hessian eigenvalue at a minimiser: gradient descent is stable there iff η < 2/λ_max).

Points are arrays whose **last axis** holds the coordinates, so one call evaluates a whole grid:
``bowl.value(np.stack([W1, W2], axis=-1))`` has the shape of ``W1``. One-dimensional losses
take plain numbers or arrays of any shape (no coordinate axis). The formulas use only
arithmetic and indexing, so ``f`` also runs on torch tensors — the tests use that to check
``grad_f`` against autograd.

Landscapes: ``sum_of_squares``, ``quadratic_bowl``, ``rosenbrock``, ``saddle`` (2-D and up) and
``parabola``, ``double_well`` (1-D). Helpers: ``run_optimizer``, ``gradient_descent``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from course_utils import arguments, loop, optim
from course_utils.i18n import _

__all__ = [
    "Landscape",
    "sum_of_squares",
    "quadratic_bowl",
    "rosenbrock",
    "saddle",
    "parabola",
    "double_well",
    "run_optimizer",
    "gradient_descent",
]


@dataclass(frozen=True, eq=False)
class Landscape:
    """A test function with its gradient and what plots need to show it.

    Attributes:
        name: short title, e.g. "Rosenbrock (a=1, b=100)".
        formula: LaTeX of the function, for titles.
        dim: number of coordinates d (1 for a loss of one weight).
        f: value, (..., d) -> (...) — or (...) -> (...) when d = 1. Unchecked; prefer ``value``.
        grad_f: gradient, (..., d) -> (..., d) — or (...) -> (...) when d = 1.
        xlim, ylim: default view window; for d = 1 ``ylim`` is the loss range to show.
        start: a start point that shows the landscape's character, shape (d,) or () for d = 1.
        minimizers: the local minimisers, deepest first, shape (k, d) or (k,) for d = 1
            (k = 0 for a saddle, which has none).
        max_curvature: λ_max, the largest Hessian eigenvalue at the minimisers (at the
            stationary point for a saddle), or None if unknown.
    """

    name: str
    formula: str
    dim: int
    f: Callable[[Any], Any]
    grad_f: Callable[[Any], Any]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    start: np.ndarray
    minimizers: np.ndarray
    max_curvature: float | None

    def _points(self, w, name: str = "w") -> np.ndarray:
        # Diverged runs produce inf/NaN points; plots still evaluate them, so no finite check.
        w = arguments.as_array(w, name, finite=False)
        if self.dim > 1 and (w.ndim == 0 or w.shape[-1] != self.dim):
            raise ValueError(_("{name} must have {dim} coordinates on its last axis for "
                               "{landscape}, got shape {shape}").format(
                name=name, dim=self.dim, landscape=self.name, shape=w.shape))
        return w

    def value(self, w) -> float | np.ndarray:
        """f(w) for points w of shape (..., d) (any shape when d = 1); a float for one point."""
        w = self._points(w)
        with np.errstate(over="ignore", invalid="ignore"):  # a diverged point's loss is inf
            out = self.f(w)
        return float(out) if np.ndim(out) == 0 else out

    def grad(self, w) -> np.ndarray:
        """∇f(w), same shape as w."""
        w = self._points(w)
        with np.errstate(over="ignore", invalid="ignore"):
            return np.asarray(self.grad_f(w), dtype=np.float64)

    __call__ = value

    def grid(self, n: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(W1, W2, F)`` on an n×n grid over the view window, for ``contour`` (2-D only)."""
        if self.dim != 2:
            raise ValueError(_("grid needs a 2-D landscape; {landscape} has dim={dim}").format(
                landscape=self.name, dim=self.dim))
        n = arguments.integer(n, "n", minimum=2)
        W1, W2 = np.meshgrid(np.linspace(*self.xlim, n), np.linspace(*self.ylim, n))
        return W1, W2, self.f(np.stack([W1, W2], axis=-1))


def sum_of_squares(dim: int = 2) -> Landscape:
    """f(w) = Σ_i w_i²,  ∇f(w) = 2w.  Minimiser 0, curvature 2 in every direction.

    Notebook 02's ★ example: w0 = [10, 10], η = 0.01 gives f = 192.08, 184.47, …, 133.52 after
    1, 2, …, 10 steps (each step multiplies w by 1 − 2η = 0.98).
    """
    dim = arguments.integer(dim, "dim", minimum=1)
    if dim == 1:
        return Landscape("sum of squares", r"$f(w) = w^2$", 1, lambda w: w ** 2, lambda w: 2 * w,
                         (-12.0, 12.0), (-5.0, 150.0), np.array(10.0), np.zeros(1), 2.0)
    return Landscape(
        name="sum of squares",
        formula=r"$f(\mathbf{w}) = \sum_i w_i^2$",
        dim=dim,
        f=lambda w: (w ** 2).sum(-1),
        grad_f=lambda w: 2 * w,
        xlim=(-12.0, 12.0), ylim=(-12.0, 12.0),
        start=np.full(dim, 10.0),
        minimizers=np.zeros((1, dim)),
        max_curvature=2.0,
    )


def quadratic_bowl(condition_number: float = 10.0, lambda_min: float = 1.0,
                   angle: float = 0.0) -> Landscape:
    """f(w) = ½ wᵀAw, ∇f(w) = Aw, with A = R diag(λ_min, κ·λ_min) Rᵀ (R rotates by ``angle``).

    The condition number κ = λ_max/λ_min sets how elongated the elliptical contours are;
    gradient descent needs η < 2/λ_max, and then crawls along the flat direction at the speed
    set by η·λ_min: the zig-zag of ill-conditioning.

    Args:
        condition_number: κ >= 1; default 10.
        lambda_min: the smallest eigenvalue of A, > 0; default 1.
        angle: rotation of the principal axes in radians; default 0 (axes aligned, the flat
            direction along w1).
    """
    kappa = arguments.positive(condition_number, "condition_number")
    if kappa < 1:
        raise ValueError(_("condition_number must be >= 1 (it is λ_max / λ_min), got {got}"
                           ).format(got=kappa))
    lambda_min = arguments.positive(lambda_min, "lambda_min")
    angle = float(arguments.as_array(angle, "angle", ndim=0))
    c, s = math.cos(angle), math.sin(angle)
    rotation = np.array([[c, -s], [s, c]])
    A = rotation @ np.diag([lambda_min, kappa * lambda_min]) @ rotation.T
    a11, a12, a22 = float(A[0, 0]), float(A[0, 1]), float(A[1, 1])

    def f(w):
        x, y = w[..., 0], w[..., 1]
        return 0.5 * (a11 * x * x + 2 * a12 * x * y + a22 * y * y)

    def grad_f(w):
        x, y = w[..., 0], w[..., 1]
        return np.stack([a11 * x + a12 * y, a12 * x + a22 * y], axis=-1)

    # Window: the level set through the start point fits, the flat direction fully visible.
    reach = 10.0 / math.sqrt(lambda_min)
    return Landscape(
        name=f"quadratic bowl (κ = {kappa:g})",
        formula=r"$f(\mathbf{w}) = \frac{1}{2}\mathbf{w}^\top A \mathbf{w}$",
        dim=2, f=f, grad_f=grad_f,
        xlim=(-reach, reach), ylim=(-reach, reach),
        start=rotation @ np.array([-0.8 * reach, 0.3 * reach]),
        minimizers=np.zeros((1, 2)),
        max_curvature=kappa * lambda_min,
    )


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Landscape:
    """f(x, y) = (a − x)² + b (y − x²)², the curved narrow valley.

        ∂f/∂x = −2(a − x) − 4b x (y − x²),   ∂f/∂y = 2b (y − x²)

    Minimiser (a, a²) with f = 0; λ_max is the largest eigenvalue of the Hessian there,
    [[2 + 8a²b, −4ab], [−4ab, 2b]] (≈ 1001.6 for a = 1, b = 100).
    """
    a = float(arguments.as_array(a, "a", ndim=0))
    b = arguments.positive(b, "b")

    def f(w):
        x, y = w[..., 0], w[..., 1]
        return (a - x) ** 2 + b * (y - x ** 2) ** 2

    def grad_f(w):
        x, y = w[..., 0], w[..., 1]
        return np.stack([-2 * (a - x) - 4 * b * x * (y - x ** 2), 2 * b * (y - x ** 2)], axis=-1)

    hessian = np.array([[2 + 8 * a * a * b, -4 * a * b], [-4 * a * b, 2 * b]])
    return Landscape(
        name=f"Rosenbrock (a = {a:g}, b = {b:g})",
        formula=r"$f(x, y) = (a - x)^2 + b\,(y - x^2)^2$",
        dim=2, f=f, grad_f=grad_f,
        xlim=(a - 3.0, a + 1.5), ylim=(a * a - 2.0, a * a + 2.5),
        start=np.array([a - 2.5, a * a + 2.0]),
        minimizers=np.array([[a, a * a]]),
        max_curvature=float(np.linalg.eigvalsh(hessian)[-1]),
    )


def saddle() -> Landscape:
    """f(x, y) = x² − y², ∇f = (2x, −2y): a stationary point at 0 that is not a minimum.

    Gradient descent started on the x-axis converges to the saddle; the smallest offset in y
    grows by a factor (1 + 2η) per step and the run escapes downhill. No minimiser (f is
    unbounded below); curvatures at the saddle are +2 and −2.
    """
    return Landscape(
        name="saddle",
        formula=r"$f(x, y) = x^2 - y^2$",
        dim=2,
        f=lambda w: w[..., 0] ** 2 - w[..., 1] ** 2,
        grad_f=lambda w: np.stack([2 * w[..., 0], -2 * w[..., 1]], axis=-1),
        xlim=(-2.0, 2.0), ylim=(-2.0, 2.0),
        start=np.array([1.8, 0.05]),
        minimizers=np.zeros((0, 2)),
        max_curvature=2.0,
    )


def parabola(curvature: float = 1.0) -> Landscape:
    """L(w) = (λ/2) w²,  L′(w) = λ w  (1-D).  GD converges iff 0 < η < 2/λ.

    Each step multiplies w by (1 − ηλ): monotone for η < 1/λ, oscillating for
    1/λ < η < 2/λ, diverging for η > 2/λ.
    """
    lam = arguments.positive(curvature, "curvature")
    return Landscape(
        name=f"parabola (λ = {lam:g})",
        formula=r"$L(w) = \frac{\lambda}{2} w^2$",
        dim=1,
        f=lambda w: 0.5 * lam * w ** 2,
        grad_f=lambda w: lam * w,
        xlim=(-4.0, 4.0), ylim=(-0.5, 8.0 * lam + 0.5),
        start=np.array(3.5),
        minimizers=np.zeros(1),
        max_curvature=lam,
    )


def double_well(tilt: float = 0.5) -> Landscape:
    """L(w) = w⁴ − 2w² + tilt·w,  L′(w) = 4w³ − 4w + tilt  (1-D, non-convex).

    Two minima of different depth (for 0 < |tilt| < 8/(3√3) ≈ 1.54): with tilt > 0 the deeper
    one is near w = −1, the shallower near w = +1, and a maximum near 0 separates them, so the
    start point decides which minimum gradient descent finds.
    ``minimizers`` lists both, deepest first; ``max_curvature`` is max L″ = 12w² − 4 over them.
    """
    tilt = float(arguments.as_array(tilt, "tilt", ndim=0))
    if not 0 < abs(tilt) < 8 / (3 * math.sqrt(3)):
        raise ValueError(_("tilt must satisfy 0 < |tilt| < 1.539 for two minima of different "
                           "depth, got {got}").format(got=tilt))

    def f(w):
        return w ** 4 - 2 * w ** 2 + tilt * w

    def grad_f(w):
        return 4 * w ** 3 - 4 * w + tilt

    stationary = np.sort(np.roots([4.0, 0.0, -4.0, tilt]).real)  # three real roots here
    minima = stationary[[0, 2]]
    minima = minima[np.argsort(f(minima))]
    return Landscape(
        name=f"double well (tilt = {tilt:g})",
        formula=r"$L(w) = w^4 - 2w^2 + %g\,w$" % tilt,
        dim=1, f=f, grad_f=grad_f,
        xlim=(-1.8, 1.8), ylim=(-2.0, 3.0),
        start=np.array(0.3 if tilt > 0 else -0.3),  # just on the shallow side of the hump
        minimizers=minima,
        max_curvature=float(np.max(12 * minima ** 2 - 4)),
    )


def run_optimizer(step_fn: Callable, w0, n_steps: int, state=None) -> np.ndarray:
    """The trajectory of a pure update rule: w_0, w_1, …, w_{n_steps}.

    Without ``state``: ``w_{k+1} = step_fn(w_k)``.
    With ``state`` (e.g. a velocity): ``w_{k+1}, state = step_fn(w_k, state)`` — the shape of
    ``momentum_step(w, g, v, lr, beta) -> (w, v)`` once the gradient is computed inside.

    A run that diverges (inf/NaN) stops calling ``step_fn``; its remaining rows are NaN so the
    trajectory keeps its shape and plots simply end. Runs through the course's one training
    loop, ``course_utils.loop.descend``.

    Args:
        step_fn: the update rule (pure: it must not modify its arguments).
        w0: start point, shape (d,) or a number for 1-D losses.
        n_steps: number of updates, integer >= 0.
        state: initial optimizer state, or None for a stateless rule.

    Returns:
        float64 array of shape (n_steps + 1, *w0.shape); row 0 is w0.
    """
    if not callable(step_fn):
        raise TypeError(_("step_fn must be a function w -> w (or (w, state) -> (w, state)), got "
                          "{kind}").format(kind=type(step_fn).__name__))
    if state is None:
        def rule(w, dw, carried):
            return step_fn(w), carried
    else:
        def rule(w, dw, carried):
            return step_fn(w, carried)
    rule.__name__ = "step_fn"  # what the loop's messages call it
    return _trajectory(rule, w0, lambda w: None, n_steps, state)


def gradient_descent(landscape: Landscape, w0, lr: float, n_steps: int) -> np.ndarray:
    """Plain gradient descent w ← w − η ∇f(w) on a landscape; trajectory (n_steps + 1, d).

    The loop of ``course_utils.loop`` with the rule ``optim.sgd_step``.
    """
    if not isinstance(landscape, Landscape):
        raise TypeError(_("landscape must be a Landscape (e.g. rosenbrock()), got {kind}").format(
            kind=type(landscape).__name__))
    lr = arguments.positive(lr, "lr")
    w0 = landscape._points(w0, "w0")
    return _trajectory(_SGD, w0, landscape.grad_f, n_steps, {"lr": lr})


_SGD = loop.as_rule(optim.sgd_step)


def _trajectory(rule, w0, gradient, n_steps, state) -> np.ndarray:
    w0 = arguments.as_array(w0, "w0", ndim=(0, 1))
    n_steps = arguments.integer(n_steps, "n_steps", minimum=0)
    return loop.descend(rule, w0, lambda w, _: (None, gradient(w)), n_steps, state).path
