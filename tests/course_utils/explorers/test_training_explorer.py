"""explorers.training: the digits run, through the loop, equals notebook 09's loop with the
optim classes; divergence is reported."""
from __future__ import annotations

import math

import numpy as np
import pytest

from course_utils import data, optim, schedules
from course_utils.explorers.training import training_explorer
from explorer_testing import assert_no_callback_error, xy


def train_reference(optimizer, lr0, batch_size, schedule, warmup, hidden, epochs=2):
    """Notebook 09's loop with the optim classes, written out here."""
    from course_utils import nn

    X_train, X_test, y_train, y_test = data.load_digits()
    model = nn.MLP((64, hidden, 10), seed=0)
    make = {"SGD": lambda p: optim.SGD(p, lr=lr0), "Adam": lambda p: optim.Adam(p, lr=lr0),
            "SGD + momentum": lambda p: optim.SGD(p, lr=lr0, momentum=0.9),
            "RMSprop": lambda p: optim.RMSprop(p, lr=lr0),
            "AdamW": lambda p: optim.AdamW(p, lr=lr0)}
    opt = make[optimizer](model.params)
    total = epochs * math.ceil(len(X_train) / batch_size)
    main = {"cosine": lambda t: schedules.cosine_lr(t, lr0, total - warmup),
            "step": lambda t: schedules.step_lr(t, lr0, (total - warmup) // 3, 0.1),
            "constant": lambda t: lr0}[schedule]
    lr = schedules.with_warmup(main, warmup) if warmup else main
    rng, step, batch_losses, accuracy = np.random.default_rng(0), 0, [], [
        model.accuracy(X_test, y_test)]
    for _ in range(epochs):
        for xb, yb in data.minibatches(X_train, y_train, batch_size, rng=rng):
            opt.lr = float(lr(step))
            loss, grads = model.loss_and_grads(xb, yb)
            batch_losses.append(loss)
            opt.step(grads)
            step += 1
        accuracy.append(model.accuracy(X_test, y_test))
    return np.array(batch_losses), np.array(accuracy)


@pytest.mark.parametrize("optimizer, lr0, batch_size, schedule, warmup, hidden", [
    ("Adam", 0.01, 64, "cosine", 10, 32), ("SGD + momentum", 0.05, 256, "step", 0, 16),
    ("AdamW", 0.003, 1347, "constant", 0, 8)])
def test_training_explorer_runs_notebook_09s_loop(optimizer, lr0, batch_size, schedule, warmup,
                                                   hidden):
    explorer = training_explorer(epochs=2, batch_size=1347)
    with explorer.paused():
        for name, value in dict(optimizer=optimizer, lr0=lr0, batch_size=batch_size,
                                schedule=schedule, warmup=warmup, hidden=hidden).items():
            explorer.controls[name].value = value
    explorer.update()
    assert_no_callback_error(explorer)
    batch_losses, accuracy = train_reference(optimizer, explorer.controls["lr0"].value,
                                             batch_size, schedule, warmup, hidden)
    np.testing.assert_allclose(xy(explorer.artists["loss"])[:, 1], batch_losses, rtol=1e-9)
    np.testing.assert_allclose(xy(explorer.artists["accuracy"]),
                               np.column_stack([np.arange(3), accuracy]))
    # The run before this change stays as the faint comparison line.
    assert len(xy(explorer.artists["loss_previous"])) == 2  # full batch, 2 epochs


def test_training_explorer_reports_divergence():
    explorer = training_explorer(optimizer="SGD", lr0=1.0, batch_size=1347, epochs=2,
                                         schedule="constant")
    assert_no_callback_error(explorer)
    assert explorer.state["diverged"] == bool(np.any(np.isnan(explorer.state["accuracy"])))
    explorer.controls["lr0"].value = 1e-3
    assert not explorer.state["diverged"]
    assert "test accuracy" in explorer.labels["summary"].value


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="optimizer"):
        training_explorer(optimizer="Lion")
    with pytest.raises(ValueError, match="batch_size"):
        training_explorer(batch_size=10)
