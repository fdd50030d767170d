"""course_utils.loop: the one training loop reproduces what it replaced, to the last bit.

``descend`` with ``as_rule(optim.sgd_step)`` is ``landscapes.gradient_descent``; with the other
rules, on a list of parameters, it is the torch-mirroring classes of ``optim`` (momentum,
Nesterov, RMSprop, Adam, AdamW), schedule included; a run continued from its returned state is
the same run; a student's rule written like a reference rule runs in its place.
"""
from __future__ import annotations

import numpy as np
import pytest

from course_utils import landscapes, optim
from course_utils.loop import as_rule, descend


def on_landscape(landscape):
    """The objective of a path on a landscape: no loss, the gradient at w."""
    return lambda w, _: (None, landscape.grad_f(w))


@pytest.mark.parametrize("landscape, start, lr", [
    (landscapes.quadratic_bowl(10.0), [-6.0, 4.0], 0.15),
    (landscapes.rosenbrock(), [-1.2, 1.0], 1e-3),
    (landscapes.parabola(2.0), 3.0, 0.3),
    (landscapes.parabola(1.0), 3.5, 2.5),  # diverges: NaN after the blow-up
])
def test_sgd_through_the_loop_is_gradient_descent(landscape, start, lr):
    run = descend(as_rule(optim.sgd_step), start, on_landscape(landscape), 400, {"lr": lr})
    expected = landscapes.gradient_descent(landscape, start, lr, 400)
    np.testing.assert_array_equal(run.path, expected)
    assert run.diverged == bool(np.isnan(expected).any())
    assert np.all(np.isnan(run.losses))  # the objective gave no loss


TORCH_LIKE = [
    ("momentum", optim.momentum_step, {"beta": 0.9},
     lambda params, lr: optim.SGD(params, lr=lr, momentum=0.9)),
    ("nesterov", optim.nesterov_step, {"beta": 0.8},
     lambda params, lr: optim.SGD(params, lr=lr, momentum=0.8, nesterov=True)),
    ("rmsprop", optim.rmsprop_step, {"alpha": 0.9},
     lambda params, lr: optim.RMSprop(params, lr=lr, alpha=0.9)),
    ("adam", optim.adam_step, {}, lambda params, lr: optim.Adam(params, lr=lr)),
    ("adamw", optim.adamw_step, {"beta1": 0.8}, lambda params, lr: optim.AdamW(params, lr=lr,
                                                                               betas=(0.8, 0.999))),
]


def model_and_batches(seed=0, steps=60):
    """Two parameters of different shapes, a least-squares loss and one batch per step."""
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal((3, 4)), rng.standard_normal(3)]
    batches = [(rng.standard_normal((5, 4)), rng.standard_normal((5, 3))) for _ in range(steps)]

    def objective(params, batch):
        X, Y = batch
        residual = X @ params[0].T + params[1] - Y
        return float(np.mean(residual ** 2)), [2 * residual.T @ X / residual.size,
                                               2 * residual.sum(0) / residual.size]

    return params, batches, objective


@pytest.mark.parametrize("name, step, hyper, make", TORCH_LIKE, ids=[c[0] for c in TORCH_LIKE])
def test_the_loop_on_a_model_is_the_optim_class(name, step, hyper, make):
    params, batches, objective = model_and_batches()
    schedule = [0.05 * (1 - k / len(batches)) for k in range(len(batches))]  # down to ~0
    reference = [p.copy() for p in params]
    opt = make(reference, schedule[0])
    expected_losses = []
    for k, batch in enumerate(batches):
        opt.lr = schedule[k]
        loss, grads = objective(reference, batch)
        expected_losses.append(loss)
        opt.step(grads)
    run = descend(as_rule(step), params, objective, batches, hyper, lr=schedule)
    assert not run.diverged and run.steps == len(batches) and run.path is None
    for p, q in zip(params, reference):  # updated in place, as the class does
        np.testing.assert_array_equal(p, q)
    np.testing.assert_array_equal(run.losses, expected_losses)


def test_a_point_path_is_the_class_on_one_array():
    bowl = landscapes.quadratic_bowl(20.0)
    w = bowl.start.copy()
    opt, expected = optim.Adam([w], lr=0.3), [w.copy()]
    for _ in range(100):
        opt.step([bowl.grad(w)])
        expected.append(w.copy())
    run = descend(as_rule(optim.adam_step), bowl.start, on_landscape(bowl), 100, {"lr": 0.3})
    np.testing.assert_array_equal(run.path, np.array(expected))
    assert run.state["t"] == 101 and set(run.state) == {"lr", "m", "v", "t"}


def test_a_run_continued_from_its_state_is_one_run():
    params, batches, objective = model_and_batches(seed=1)
    whole = [p.copy() for p in params]
    descend(as_rule(optim.adam_step), whole, objective, batches, {"lr": 0.01})
    first = descend(as_rule(optim.adam_step), params, objective, batches[:25], {"lr": 0.01})
    descend(as_rule(optim.adam_step), params, objective, batches[25:], first.state)
    for p, q in zip(params, whole):
        np.testing.assert_array_equal(p, q)


def test_your_rule_runs_like_the_reference_it_imitates():
    def my_momentum(w, grad, velocity, lr, beta):  # other names, same positions
        velocity = beta * velocity + grad
        return w - lr * velocity, velocity

    bowl = landscapes.quadratic_bowl(10.0)
    state = {"lr": 0.05, "beta": 0.9}
    mine = descend(as_rule(my_momentum, like=optim.momentum_step), bowl.start,
                   on_landscape(bowl), 50, state)
    reference = descend(as_rule(optim.momentum_step), bowl.start, on_landscape(bowl), 50, state)
    np.testing.assert_array_equal(mine.path, reference.path)

    def forgot_the_velocity(w, g, v, lr, beta):
        return w - lr * g

    with pytest.raises(TypeError, match=r"forgot_the_velocity must return \(w, v\)"):
        descend(as_rule(forgot_the_velocity, like=optim.momentum_step), bowl.start,
                on_landscape(bowl), 5, state)


def test_hyperparameters_are_read_from_the_state_by_name():
    rule = as_rule(optim.adam_step)
    assert rule.hyperparameters == ("lr", "beta1", "beta2", "eps", "weight_decay",
                                    "bias_correction")
    assert as_rule(optim.rmsprop_step).hyperparameters == ("lr", "alpha", "eps")
    w, g = np.array([1.0, -2.0]), np.array([0.5, 0.5])
    # Left out: the default. Given after one that is left out: passed by name.
    _, state = rule(w, g, {"lr": 0.1, "eps": 1e-3})
    expected = optim.adam_step(w, g, np.zeros(2), np.zeros(2), 1, lr=0.1, eps=1e-3)
    np.testing.assert_array_equal(rule(w, g, {"lr": 0.1, "eps": 1e-3})[0], expected[0])
    np.testing.assert_array_equal(state["m"], expected[1])
    off = rule(w, g, {"lr": 0.1, "bias_correction": False})[0]
    np.testing.assert_array_equal(off, optim.adam_step(w, g, np.zeros(2), np.zeros(2), 1, lr=0.1,
                                                       bias_correction=False)[0])


def test_a_loss_that_is_not_finite_stops_before_its_update():
    seen = []

    def objective(w, batch):
        seen.append(batch)
        return (np.inf if batch == 3 else float(w @ w)), 2 * w

    run = descend(as_rule(optim.sgd_step), [1.0, 2.0], objective, list(range(6)), {"lr": 0.1})
    assert run.diverged and run.steps == 3 and seen == [0, 1, 2, 3]
    assert np.isinf(run.losses[3]) and np.all(np.isnan(run.losses[4:]))
    np.testing.assert_allclose(run.path[3], 0.8 ** 3 * np.array([1.0, 2.0]))
    assert np.all(np.isnan(run.path[4:]))


def test_limit_stops_a_run_that_blew_up_and_keeps_that_point():
    run = descend(as_rule(optim.sgd_step), [1.0], lambda w, _: (None, -w), 50, {"lr": 1.0},
                  limit=100.0)  # w doubles every step: 2, 4, …, 128
    assert run.diverged and run.steps == 7
    np.testing.assert_array_equal(run.path[:8, 0], 2.0 ** np.arange(8))
    assert np.all(np.isnan(run.path[8:]))


def test_w0_is_not_modified_and_the_rows_are_copies():
    def in_place(w, dw, state):  # a careless rule that updates w in place
        w *= 0.5
        return w, state

    w0 = np.array([1.0, -1.0])
    run = descend(in_place, w0, lambda w, _: (None, None), 3)
    np.testing.assert_array_equal(w0, [1.0, -1.0])
    np.testing.assert_array_equal(run.path[:, 0], [1.0, 0.5, 0.25, 0.125])


def test_bad_arguments_are_named():
    sgd = as_rule(optim.sgd_step)
    grad = lambda w, _: (None, w)  # noqa: E731
    with pytest.raises(TypeError, match="rule"):
        descend("sgd", [1.0], grad, 3)
    with pytest.raises(ValueError, match="lr"):
        descend(sgd, [1.0], grad, 3, {}, lr=[0.1, 0.1])
    with pytest.raises(ValueError, match="batches"):
        descend(sgd, [1.0], grad, -1)
    with pytest.raises(ValueError, match="limit"):
        descend(sgd, [1.0], grad, 3, {"lr": 0.1}, limit=0)
    with pytest.raises(ValueError, match="w"):
        descend(sgd, [np.nan], grad, 3, {"lr": 0.1})
    with pytest.raises(TypeError, match=r"w\[1\]"):
        descend(sgd, [np.zeros(2), [1.0]], grad, 3, {"lr": 0.1})
    with pytest.raises(ValueError, match="shape"):
        descend(lambda w, dw, s: (w[:1], s), [1.0, 2.0], grad, 3)
    with pytest.raises(TypeError, match="pure rules of course_utils.optim"):
        as_rule(lambda w, g, lr: w - lr * g)
    with pytest.raises(TypeError, match="step"):
        as_rule("adam", like=optim.adam_step)
