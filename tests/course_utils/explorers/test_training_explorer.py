"""explorers.training: the digits run, through the loop, equals notebook 09's loop with the
optim classes on notebook 09's training/validation split; the test set is never looked at;
divergence is reported."""
from __future__ import annotations

import math

import numpy as np
import pytest

from course_utils import data, nn, optim, schedules
from course_utils.explorers import training
from course_utils.explorers.training import training_explorer, validation_split
from explorer_testing import assert_no_callback_error, xy

FULL_BATCH = 1078  # notebook 09's training split: 1,347 - 269 validation digits


def notebook_09_split():
    """Notebook 09's cell 3, written out here (not through the module under test)."""
    X_rest, X_test, y_rest, y_test = data.load_digits(test_fraction=0.25, seed=0)
    order = np.random.default_rng(0).permutation(len(X_rest))
    n_validation = len(X_rest) // 5
    X_val, y_val = X_rest[order[:n_validation]], y_rest[order[:n_validation]]
    X_train, y_train = X_rest[order[n_validation:]], y_rest[order[n_validation:]]
    return X_train, y_train, X_val, y_val


def train_reference(optimizer, lr0, batch_size, schedule, warmup, hidden, epochs=2):
    """Notebook 09's loop with the optim classes, written out here."""
    X_train, y_train, X_val, y_val = notebook_09_split()
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
        model.accuracy(X_val, y_val)]
    for _ in range(epochs):
        for xb, yb in data.minibatches(X_train, y_train, batch_size, rng=rng):
            opt.lr = float(lr(step))
            loss, grads = model.loss_and_grads(xb, yb)
            batch_losses.append(loss)
            opt.step(grads)
            step += 1
        accuracy.append(model.accuracy(X_val, y_val))
    return np.array(batch_losses), np.array(accuracy)


def test_the_split_is_notebook_09s():
    X_train, y_train, X_val, y_val = notebook_09_split()
    split = validation_split()
    assert split.X_train.shape == (FULL_BATCH, 64) and split.X_val.shape == (269, 64)
    for got, expected in zip(split, (X_train, X_val, y_train, y_val)):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("optimizer, lr0, batch_size, schedule, warmup, hidden", [
    ("Adam", 0.01, 64, "cosine", 10, 32), ("SGD + momentum", 0.05, 256, "step", 0, 16),
    ("AdamW", 0.003, FULL_BATCH, "constant", 0, 8)])
def test_training_explorer_runs_notebook_09s_loop(optimizer, lr0, batch_size, schedule, warmup,
                                                   hidden):
    explorer = training_explorer(epochs=2, batch_size=FULL_BATCH)
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
    explorer = training_explorer(optimizer="SGD", lr0=1.0, batch_size=FULL_BATCH, epochs=2,
                                 schedule="constant")
    assert_no_callback_error(explorer)
    assert explorer.state["diverged"] == bool(np.any(np.isnan(explorer.state["accuracy"])))
    explorer.controls["lr0"].value = 1e-3
    assert not explorer.state["diverged"]
    assert "validation accuracy" in explorer.labels["summary"].value
    assert "test" not in explorer.labels["summary"].value


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="optimizer"):
        training_explorer(optimizer="Lion")
    with pytest.raises(ValueError, match="batch_size"):
        training_explorer(batch_size=10)
    with pytest.raises(ValueError, match="batch_size"):  # the old full batch: all 1,347 digits
        training_explorer(batch_size=1347)
    with pytest.raises(TypeError, match="TrainValidation"):  # the test set cannot sneak in
        training.train_digits(data.load_digits(), "Adam", 0.01, 64, "cosine", 0, 8, 1, 0)


def test_the_explorer_never_looks_at_the_test_set(monkeypatch):
    """With a poisoned test set (NaN pixels, label -1), any look at it would show: training on it
    diverges, measuring on it gives accuracy 0. The run must still equal the reference on the
    validation split, and every epoch must train on exactly the 1,078 training digits."""
    clean = data.load_digits
    X_train, y_train, X_val, y_val = notebook_09_split()

    def poisoned(*args, **kwargs):
        split = clean(*args, **kwargs)
        return split._replace(X_test=np.full_like(split.X_test, np.nan),
                              y_test=np.full_like(split.y_test, -1))

    monkeypatch.setattr(data, "load_digits", poisoned)
    rows = []  # the rows of every forward pass: training batches and accuracy measurements
    forward = nn.MLP.forward
    monkeypatch.setattr(nn.MLP, "forward", lambda self, X: rows.append(len(X)) or forward(self, X))
    explorer = training_explorer(batch_size=64, epochs=2)
    assert_no_callback_error(explorer)
    seen, steps = list(rows), math.ceil(FULL_BATCH / 64)
    # Before training and after each epoch: 269 validation rows; in between, 17 batches of 1,078.
    assert seen == [269] + ([64] * (steps - 1) + [FULL_BATCH - 64 * (steps - 1)] + [269]) * 2
    assert not explorer.state["diverged"]
    batch_losses, accuracy = train_reference("Adam", explorer.controls["lr0"].value, 64,
                                             "cosine", 0, 64)
    np.testing.assert_allclose(explorer.state["batch_losses"], batch_losses, rtol=1e-9)
    np.testing.assert_array_equal(explorer.state["accuracy"], accuracy)
    assert explorer.state["accuracy"][-1] > 0.5  # trained, and measured on real digits
    assert "validation accuracy (269 digits)" in [ax.get_title() for ax in explorer.figure.axes]
