"""course_utils.landscapes: gradients equal finite differences and torch autograd."""
import math

import numpy as np
import pytest
import torch

from course_utils.landscapes import (
    Landscape,
    double_well,
    gradient_descent,
    parabola,
    quadratic_bowl,
    rosenbrock,
    run_optimizer,
    saddle,
    sum_of_squares,
)

LANDSCAPES = {
    "sum_of_squares": sum_of_squares(),
    "sum_of_squares_5d": sum_of_squares(5),
    "bowl": quadratic_bowl(),
    "bowl_rotated": quadratic_bowl(condition_number=25.0, lambda_min=0.5, angle=0.7),
    "rosenbrock": rosenbrock(),
    "rosenbrock_other": rosenbrock(a=-0.5, b=10.0),
    "saddle": saddle(),
    "parabola": parabola(3.0),
    "double_well": double_well(),
    "double_well_negative": double_well(-0.8),
}


def random_points(landscape: Landscape, n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = (n,) if landscape.dim == 1 else (n, landscape.dim)
    lo, hi = landscape.xlim
    return rng.uniform(lo, hi, size=shape)


def central_differences(landscape: Landscape, w: np.ndarray, h: float = 1e-6) -> np.ndarray:
    if landscape.dim == 1:
        return (landscape.f(w + h) - landscape.f(w - h)) / (2 * h)
    grad = np.empty_like(w)
    for i in range(landscape.dim):
        e = np.zeros(landscape.dim)
        e[i] = h
        grad[..., i] = (landscape.f(w + e) - landscape.f(w - e)) / (2 * h)
    return grad


@pytest.mark.parametrize("name", list(LANDSCAPES))
def test_gradient_equals_central_differences(name):
    landscape = LANDSCAPES[name]
    w = random_points(landscape, 50)
    numeric = central_differences(landscape, w)
    analytic = landscape.grad(w)
    assert analytic.shape == w.shape
    scale = np.maximum(1.0, np.abs(numeric))
    assert np.max(np.abs(analytic - numeric) / scale) < 1e-5


@pytest.mark.parametrize("name", list(LANDSCAPES))
def test_gradient_equals_torch_autograd(name):
    landscape = LANDSCAPES[name]
    w = random_points(landscape, 50, seed=1)
    w_torch = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    landscape.f(w_torch).sum().backward()  # points are independent: sum keeps each gradient
    np.testing.assert_allclose(landscape.grad(w), w_torch.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(landscape.value(w), landscape.f(w_torch).detach().numpy(), rtol=1e-14)


@pytest.mark.parametrize("name", list(LANDSCAPES))
def test_minimizers_are_stationary_and_curvature_matches_the_hessian(name):
    landscape = LANDSCAPES[name]
    minimizers = landscape.minimizers
    for w_star in minimizers:
        np.testing.assert_allclose(landscape.grad(w_star), 0.0, atol=1e-9)
    if len(minimizers):
        values = [landscape.value(m) for m in minimizers]
        assert values == sorted(values)  # deepest first
        # Hessian from torch at each minimiser: its top eigenvalue is the max curvature.
        tops = []
        for w_star in minimizers:
            hessian = torch.autograd.functional.hessian(
                lambda t: landscape.f(t).sum(), torch.tensor(w_star, dtype=torch.float64))
            tops.append(np.linalg.eigvalsh(hessian.reshape(max(1, landscape.dim), -1).numpy())[-1])
        assert landscape.max_curvature == pytest.approx(max(tops), rel=1e-9)
        # Nothing on a grid around the global minimiser is lower.
        w = random_points(landscape, 2000, seed=2)
        assert np.min(landscape.value(w)) >= values[0] - 1e-12


def test_star_sum_of_squares_sequence():
    """Notebook 02 ★: f(w) = Σw², w0 = [10, 10], η = 0.01, 10 steps."""
    landscape = sum_of_squares()
    path = gradient_descent(landscape, [10.0, 10.0], lr=0.01, n_steps=10)
    losses = landscape.value(path)
    assert path.shape == (11, 2) and losses.shape == (11,)
    assert losses[0] == 200.0
    assert losses[1] == pytest.approx(192.08, abs=1e-10)
    assert losses[2] == pytest.approx(184.473632, abs=1e-10)
    assert losses[10] == pytest.approx(133.5216, abs=5e-5)  # "133.52…"
    np.testing.assert_allclose(losses, 200 * 0.98 ** (2 * np.arange(11)), rtol=1e-13)


def test_double_well_start_decides_the_minimum():
    landscape = double_well(0.5)
    deep, shallow = landscape.minimizers
    assert deep < 0 < shallow and landscape.value(deep) < landscape.value(shallow)
    left = gradient_descent(landscape, -0.5, lr=0.05, n_steps=300)
    right = gradient_descent(landscape, landscape.start, lr=0.05, n_steps=300)
    assert left.shape == (301,)
    assert left[-1] == pytest.approx(deep, abs=1e-8)
    assert right[-1] == pytest.approx(shallow, abs=1e-8)


@pytest.mark.parametrize("lr, converges", [(0.5, True), (0.65, True), (0.7, False)])
def test_parabola_two_over_lambda_threshold(lr, converges):
    landscape = parabola(3.0)  # 2/λ = 0.667
    path = gradient_descent(landscape, 1.0, lr, 1000)
    assert (abs(path[-1]) < 1e-6) == converges
    assert (lr < 2 / landscape.max_curvature) == converges


def test_bowl_geometry():
    bowl = quadratic_bowl(condition_number=10.0, lambda_min=2.0, angle=math.pi / 6)
    c, s = math.cos(math.pi / 6), math.sin(math.pi / 6)
    flat, steep = np.array([c, s]), np.array([-s, c])
    assert bowl.value(flat) == pytest.approx(1.0)    # ½ λ_min
    assert bowl.value(steep) == pytest.approx(10.0)  # ½ κ λ_min
    assert bowl.max_curvature == 20.0
    with pytest.raises(ValueError, match="condition_number"):
        quadratic_bowl(condition_number=0.5)


def test_grid_for_contours():
    W1, W2, F = rosenbrock().grid(60)
    assert W1.shape == W2.shape == F.shape == (60, 60)
    assert F[0, 0] == pytest.approx(rosenbrock().value([W1[0, 0], W2[0, 0]]))
    with pytest.raises(ValueError, match="2-D"):
        parabola().grid()


def test_value_and_grad_do_not_mutate_and_check_shapes():
    w = np.array([[1.0, 2.0], [3.0, 4.0]])
    before = w.copy()
    for landscape in (rosenbrock(), quadratic_bowl(angle=0.3), saddle(), sum_of_squares()):
        landscape.value(w)
        landscape.grad(w)
        np.testing.assert_array_equal(w, before)
        with pytest.raises(ValueError, match=r"\bw\b.*2 coordinates"):
            landscape.value(np.ones(3))
    assert isinstance(rosenbrock()([1.0, 1.0]), float)


def test_run_optimizer_with_and_without_state():
    bowl = quadratic_bowl()
    lr, beta = 0.05, 0.9
    plain = run_optimizer(lambda w: w - lr * bowl.grad_f(w), bowl.start, 30)
    np.testing.assert_array_equal(plain, gradient_descent(bowl, bowl.start, lr, 30))

    def momentum(w, v):  # torch's form: v ← βv + g, w ← w − ηv
        v = beta * v + bowl.grad_f(w)
        return w - lr * v, v

    path = run_optimizer(momentum, bowl.start, 30, state=np.zeros(2))
    # Replay by hand with torch.optim.SGD for an independent check.
    w = torch.tensor(bowl.start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=lr, momentum=beta)
    expected = [w.detach().numpy().copy()]
    for _ in range(30):
        opt.zero_grad()
        bowl.f(w).backward()
        opt.step()
        expected.append(w.detach().numpy().copy())
    np.testing.assert_allclose(path, np.array(expected), rtol=1e-12, atol=1e-12)


def test_run_optimizer_diverging_run_keeps_shape_and_ends_in_nan():
    landscape = parabola(1.0)
    with np.errstate(all="raise"):  # proves run_optimizer silences the overflow itself
        path = run_optimizer(lambda w: w * 1e200, 1.0, 10)
    assert path.shape == (11,)
    with np.errstate(all="raise"):
        assert np.isinf(landscape.value(path[1]))  # 1e200 squared overflows, silently
    assert path[1] == 1e200 and np.isinf(path[2]) and np.isnan(path[3:]).all()
    assert landscape.value(path).shape == (11,)


def test_run_optimizer_keeps_w0_even_when_step_fn_updates_in_place():
    def in_place(w):  # a student's `w -= ...`: must not reach the caller's w0 or earlier rows
        w *= 0.5
        return w

    w0 = np.array([1.0, -1.0])
    path = run_optimizer(in_place, w0, 3)
    np.testing.assert_array_equal(w0, [1.0, -1.0])
    np.testing.assert_array_equal(path[:, 0], [1.0, 0.5, 0.25, 0.125])


@pytest.mark.parametrize("call, error, name", [
    (lambda: run_optimizer("sgd", [1.0, 1.0], 5), TypeError, "step_fn"),
    (lambda: run_optimizer(lambda w: w, [1.0, np.nan], 5), ValueError, "w0"),
    (lambda: run_optimizer(lambda w: w, np.ones((2, 2)), 5), ValueError, "w0"),
    (lambda: run_optimizer(lambda w: w, [1.0, 1.0], -1), ValueError, "n_steps"),
    (lambda: run_optimizer(lambda w: w[:1], [1.0, 1.0], 3), ValueError, "step_fn"),
    (lambda: gradient_descent(sum_of_squares(), [1.0, 1.0], 0.0, 5), ValueError, "lr"),
    (lambda: gradient_descent(sum_of_squares(), [1.0, 1.0, 1.0], 0.1, 5), ValueError, "w0"),
    (lambda: gradient_descent(lambda w: w, [1.0, 1.0], 0.1, 5), TypeError, "landscape"),
    (lambda: rosenbrock(b=0.0), ValueError, "b"),
    (lambda: parabola(-1.0), ValueError, "curvature"),
    (lambda: double_well(0.0), ValueError, "tilt"),
    (lambda: double_well(2.0), ValueError, "tilt"),
    (lambda: sum_of_squares(0), ValueError, "dim"),
    (lambda: quadratic_bowl(lambda_min=0.0), ValueError, "lambda_min"),
])
def test_bad_arguments_raise_errors_that_name_them(call, error, name):
    with pytest.raises(error, match=rf"\b{name}\b"):
        call()
