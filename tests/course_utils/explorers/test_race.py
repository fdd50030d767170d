"""explorers.race: every racer's path is torch.optim's; your rules race; playback is cached."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils import optim
from course_utils.explorers import race
from course_utils.explorers.race import optimizer_race
from explorer_testing import assert_no_callback_error, xy


def torch_race(landscape, start, steps, lr_sgd, lr_adaptive, beta, alpha, beta1, beta2):
    """Every racer's path from torch.optim itself, in float64."""
    makers = {
        "SGD": lambda p: torch.optim.SGD([p], lr=lr_sgd),
        "momentum": lambda p: torch.optim.SGD([p], lr=lr_sgd, momentum=beta),
        "Nesterov": lambda p: torch.optim.SGD([p], lr=lr_sgd, momentum=beta, nesterov=True),
        "RMSprop": lambda p: torch.optim.RMSprop([p], lr=lr_adaptive, alpha=alpha, eps=1e-8),
        "Adam": lambda p: torch.optim.Adam([p], lr=lr_adaptive, betas=(beta1, beta2), eps=1e-8),
    }
    paths = {}
    for label, make in makers.items():
        p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
        opt = make(p)
        path = [p.detach().numpy().copy()]
        for _ in range(steps):
            p.grad = torch.from_numpy(landscape.grad(p.detach().numpy()))
            opt.step()
            path.append(p.detach().numpy().copy())
        path = np.array(path)
        with np.errstate(invalid="ignore"):
            path[~(np.abs(path) <= 1e6)] = np.nan  # the explorer draws escaped points as gaps
        paths[label] = path
    return paths


RACE_CASES = [
    ("ill-conditioned bowl", dict(lr_sgd=0.04, lr_adaptive=0.3, beta=0.9, alpha=0.99, beta1=0.9,
                                  beta2=0.999, x0=-8.0, y0=3.0)),
    ("Rosenbrock", dict(lr_sgd=1e-3, lr_adaptive=0.1, beta=0.8, alpha=0.9, beta1=0.8, beta2=0.99,
                        x0=-1.2, y0=1.0)),
    ("saddle", dict(lr_sgd=0.05, lr_adaptive=0.02, beta=0.5, alpha=0.95, beta1=0.7, beta2=0.95,
                    x0=1.8, y0=0.05)),
]


@pytest.mark.parametrize("landscape, settings", RACE_CASES, ids=[c[0] for c in RACE_CASES])
def test_optimizer_race_draws_torch_trajectories(landscape, settings):
    explorer = optimizer_race(landscape=landscape, steps=120)
    for name, value in settings.items():
        explorer.controls[name].value = value
    assert_no_callback_error(explorer)
    used = {name: explorer.controls[name].value for name in settings}  # as the sliders rounded
    surface = explorer.state["landscape"]
    expected = torch_race(surface, [used["x0"], used["y0"]], 120, used["lr_sgd"],
                          used["lr_adaptive"], used["beta"], used["alpha"], used["beta1"],
                          used["beta2"])
    for k in (120, 37, 0):
        explorer.controls["step"].value = k
        for label, path in expected.items():
            shown = xy(explorer.artists[f"path_{label}"])
            assert shown.shape == (k + 1, 2), label
            np.testing.assert_allclose(shown, path[: k + 1], rtol=1e-9, atol=1e-12,
                                       err_msg=f"{label} on {landscape}, first {k} steps")
            np.testing.assert_allclose(xy(explorer.artists[f"head_{label}"])[0], path[k],
                                       rtol=1e-9, atol=1e-12)
            assert np.isfinite(path[min(k, 30)]).all(), "the comparison must cover real steps"
    assert explorer.artists["step_line"].get_xdata()[0] == 0


def test_race_loss_curves_are_the_landscape_along_the_paths():
    explorer = optimizer_race(landscape="Rosenbrock")
    surface = explorer.state["landscape"]
    for label, path in explorer.state["paths"].items():
        np.testing.assert_allclose(xy(explorer.artists[f"loss_{label}"])[:, 1],
                                   np.maximum(surface.value(path), 1e-16), rtol=1e-12)


def test_your_rule_races_against_the_reference():
    def my_adam(w, g, m, v, t, lr, beta1, beta2, eps):  # a correct student Adam
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        return w - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps), m, v

    explorer = optimizer_race(your_rules={"adam": my_adam, "momentum": optim.momentum_step})
    assert_no_callback_error(explorer)
    paths = explorer.state["paths"]
    # Same math, written in another order: equal to rounding.
    np.testing.assert_allclose(paths["your Adam"], paths["Adam"], rtol=1e-9, atol=1e-14)
    np.testing.assert_array_equal(paths["your momentum"], paths["momentum"])
    np.testing.assert_array_equal(xy(explorer.artists["path_your Adam"]), paths["your Adam"])
    assert explorer.controls["show_your Adam"].description == "your Adam"


def test_a_wrong_or_broken_rule_is_visible_not_fatal():
    def no_bias_correction(w, g, m, v, t, lr, beta1, beta2, eps):
        return optim.adam_step(w, g, m, v, t, lr, beta1, beta2, eps, bias_correction=False)

    def unfinished(w, g, lr):
        raise NotImplementedError("YOUR CODE HERE")

    def released_blank(w, g, v, lr, beta):  # what nbgrader's student release holds
        raise NotImplementedError()

    explorer = optimizer_race(your_rules={"adam": no_bias_correction, "sgd": unfinished,
                                                  "momentum": released_blank})
    paths = explorer.state["paths"]
    assert not np.allclose(paths["your Adam"][1], paths["Adam"][1])  # the first step differs
    messages = "".join(out["text"] for out in explorer.output.outputs)
    assert "your SGD raised NotImplementedError: YOUR CODE HERE" in messages
    assert "your momentum raised NotImplementedError: (no message: is it written yet?)" in messages
    assert np.all(np.isnan(paths["your SGD"][1:])) and np.all(np.isfinite(paths["SGD"]))


def test_race_show_hide_arrows_and_landscape_switch():
    explorer = optimizer_race()
    explorer.controls["show_SGD"].value = False
    assert not explorer.artists["path_SGD"].get_visible()
    assert not explorer.artists["loss_SGD"].get_visible()
    assert explorer.artists["path_Adam"].get_visible()
    explorer.controls["arrows"].value = True
    explorer.controls["step"].value = 10
    head = explorer.state["paths"]["Adam"][10]
    gradient = explorer.artists["grad_Adam"]
    assert gradient.get_visible() and not explorer.artists["grad_SGD"].get_visible()
    np.testing.assert_allclose(gradient.get_offsets()[0], head)
    downhill = -explorer.state["landscape"].grad(head)
    drawn = np.array([gradient.U[0], gradient.V[0]])
    np.testing.assert_allclose(drawn / np.linalg.norm(drawn), downhill / np.linalg.norm(downhill))
    step = explorer.state["paths"]["Adam"][11] - head
    move = explorer.artists["move_Adam"]
    drawn = np.array([move.U[0], move.V[0]])
    np.testing.assert_allclose(drawn / np.linalg.norm(drawn), step / np.linalg.norm(step))

    explorer.controls["landscape"].value = "saddle"
    assert_no_callback_error(explorer)
    assert explorer.state["landscape"].name == "saddle"
    assert (explorer.controls["x0"].value, explorer.controls["y0"].value) == (1.8, 0.05)
    assert explorer.figure.axes[1].get_yscale() == "symlog"
    np.testing.assert_allclose(explorer.state["paths"]["SGD"][0], [1.8, 0.05])


def test_race_can_start_with_a_subset_shown():
    explorer = optimizer_race(show=("SGD", "momentum", "Nesterov"))
    assert [label for label in race.RACERS if explorer.controls[f"show_{label}"].value] == [
        "SGD", "momentum", "Nesterov"]
    assert not explorer.artists["path_Adam"].get_visible()
    with pytest.raises(ValueError, match="show"):
        optimizer_race(show=("SGD", "Lion"))


def test_playback_reuses_the_precomputed_paths(monkeypatch):
    explorer = optimizer_race()
    calls = []
    original = race.race_path
    monkeypatch.setattr(race, "race_path", lambda *a, **k: calls.append(1) or original(*a, **k))
    for k in range(0, 200, 7):
        explorer.controls["step"].value = k
    assert calls == []  # playback only slices the paths
    explorer.controls["lr_sgd"].value = 0.02
    assert len(calls) == 3  # SGD, momentum, Nesterov; RMSprop and Adam did not move


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="landscape"):
        optimizer_race(landscape="himmelblau")
    with pytest.raises(ValueError, match="your_rules"):
        optimizer_race(your_rules={"lion": optim.sgd_step})
    with pytest.raises(TypeError, match="your_rules"):
        optimizer_race(your_rules={"adam": "adam_step"})
    with pytest.raises(ValueError, match="beta"):
        optimizer_race(beta=1.0)
