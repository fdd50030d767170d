"""Notebook 09: optimizer, η₀, batch size, schedule, warmup, width → a fresh run on the digits."""
from __future__ import annotations

import math
from typing import NamedTuple

import ipywidgets as ipw
import numpy as np

from course_utils import arguments, data, loop, losses, nn, optim, plotting, schedules
from course_utils.explorers.drawing import gap, legend_above, status_text
from course_utils.explorers.stage import Explorer, Panel, log_slider, one_blas_thread
from course_utils.i18n import NP_, _, pgettext

SCHEDULE = "schedule"   # the gettext context of schedule names ("step" is not a step of GD)

__all__ = ["training_explorer", "train_digits", "validation_split", "TrainValidation",
           "TRAINING_RULES"]

# name -> (rule, its state beyond lr): torch's defaults, as the optim classes have them.
TRAINING_RULES = {
    "SGD": (loop.as_rule(optim.sgd_step), {}),
    "SGD + momentum": (loop.as_rule(optim.momentum_step), {"beta": 0.9}),
    "RMSprop": (loop.as_rule(optim.rmsprop_step), {}),
    "Adam": (loop.as_rule(optim.adam_step), {}),
    "AdamW": (loop.as_rule(optim.adamw_step), {}),
}
# values of ``schedule=``; shown translated
SCHEDULES = (NP_("schedule", "constant"), NP_("schedule", "step"), NP_("schedule", "cosine"))
WIDTHS = [8, 16, 32, 64, 128]


class TrainValidation(NamedTuple):
    """Notebook 09's training and validation parts of the digits; no test set on purpose."""

    X_train: np.ndarray  # (1078, 64)
    X_val: np.ndarray    # (269, 64)
    y_train: np.ndarray  # (1078,)
    y_val: np.ndarray    # (269,)


def validation_split() -> TrainValidation:
    """Notebook 09's split, line for line: ``data.load_digits(test_fraction=0.25, seed=0)``, then
    a fixed random fifth of its training part (``default_rng(0).permutation``) for validation.

    The explorer makes its choices on these digits, as the notebook does: the test set is
    dropped here, so nothing downstream can look at it.
    """
    X_rest, _, y_rest, _ = data.load_digits(test_fraction=0.25, seed=0)
    order = np.random.default_rng(0).permutation(len(X_rest))
    n_validation = len(X_rest) // 5
    validation, training = order[:n_validation], order[n_validation:]
    return TrainValidation(X_rest[training], X_rest[validation], y_rest[training],
                           y_rest[validation])


def training_explorer(optimizer: str = "Adam", lr0: float = 0.01, batch_size: int = 64,
                      schedule: str = "cosine", warmup_steps: int = 0, hidden: int = 64,
                      epochs: int = 6, seed: int = 0, name: str = "training explorer") -> Explorer:
    """Optimizer, η₀, batch size, schedule, warmup, width → a fresh training run on the digits.

    The loop of notebook 09 with the reference pieces: ``nn.MLP((64, hidden, 10), "relu",
    seed)``, ``data.minibatches`` (shuffled by a generator seeded with ``seed``),
    ``losses.cross_entropy`` and its gradient, an ``optim`` optimizer (SGD, SGD with momentum
    0.9, RMSprop, Adam, AdamW at their torch defaults) and a schedule of ``schedules``
    ("constant", "step": ×0.1 every third of the run, "cosine": to 0), optionally after a linear
    warmup of W steps (``with_warmup``). The learning rate of step t is lr(t), t counted over
    the whole run. Each change retrains (0.1–3 s), so the sliders act when released.

    Left: the loss of every mini-batch against the epoch (log scale); the run before the last
    change stays as a faint line, to compare. Right: validation accuracy after every epoch.

    The data are notebook 09's (``validation_split``): the run trains on its 1,078 training
    digits and is measured on its 269 validation digits; the test set is never looked at, since
    comparing runs is a choice made during training.

    Args:
        optimizer: one of "SGD", "SGD + momentum", "RMSprop", "Adam", "AdamW"; default "Adam".
        lr0: η₀ in [1e-4, 1]; default 0.01.
        batch_size: one of 1, 4, 16, 64, 256 or the whole training split (1078); default 64.
        schedule: "constant", "step" or "cosine"; default "cosine".
        warmup_steps: W, 0 … 200; default 0.
        hidden: hidden units, one of 8, 16, 32, 64, 128; default 64.
        epochs: epochs per run, integer >= 1; default 6.
        seed: seeds the initial weights and the shuffles; default 0.
        name: figure name.

    Controls: ``optimizer``, ``lr0``, ``batch_size``, ``schedule``, ``warmup``, ``hidden``.
    Artists: ``loss``, ``accuracy``, ``loss_previous``, ``accuracy_previous``.
    State: ``batch_losses``, ``accuracy``, ``diverged``.
    """
    return Training(optimizer, lr0, batch_size, schedule, warmup_steps, hidden, epochs, seed,
                    name).show()


def training_schedule(kind, lr0, total_steps, warmup_steps):
    """lr(t) of the training explorer: the main schedule over the steps after the warmup."""
    main_steps = max(total_steps - warmup_steps, 1)
    main = {
        "constant": lambda t: lr0 + 0.0 * np.asarray(t, dtype=np.float64),
        "step": lambda t: schedules.step_lr(t, lr0, step_size=max(main_steps // 3, 1), gamma=0.1),
        "cosine": lambda t: schedules.cosine_lr(t, lr0, main_steps),
    }[kind]
    return schedules.with_warmup(main, warmup_steps) if warmup_steps else main


def epoch_batches(X, y, batch_size, epochs, seed) -> list[list]:
    """The mini-batches of every epoch of a run: ``data.minibatches`` with one generator
    seeded with ``seed`` for the whole run (a new order each epoch, the same for every run)."""
    rng = np.random.default_rng(seed)
    return [list(data.minibatches(X, y, batch_size, rng=rng)) for _ in range(epochs)]


def one_buffer(model) -> np.ndarray:
    """Move the model's weights and biases into one array; the layers compute with views of it.

    The update rule then runs once per step on all parameters at once, with the same
    arithmetic element by element (every rule of ``optim`` works element-wise), instead of
    once per parameter array.
    """
    flat = np.concatenate([p.ravel() for p in model.params])
    offset = 0
    for layer in model.layers:
        if isinstance(layer, nn.Linear):
            for name in ("W", "b"):
                p = getattr(layer, name)
                setattr(layer, name, flat[offset:offset + p.size].reshape(p.shape))
                offset += p.size
    return flat


def train_digits(split, optimizer, lr0, batch_size, schedule, warmup_steps, hidden, epochs,
                 seed, batches=None):
    """The loop of notebook 09: per mini-batch, lr ← schedule(t), forward, loss, backward, step.

    ``split`` is a ``TrainValidation`` (``validation_split()``): the run trains on its training
    part and measures its validation part; a ``data.DigitsSplit`` is refused, so that the test
    set cannot be taken for validation by mistake. Every epoch is one ``loop.descend`` over its
    mini-batches (``batches``: ``epoch_batches(...)`` of this run, computed here if not given),
    updating the MLP's parameters (in one buffer, ``one_buffer``) in place. Returns the loss of
    every mini-batch (before its update), the validation accuracy after every epoch (epoch 0 =
    before training), and whether the run blew up (it then stops: NaN after).
    """
    if not isinstance(split, TrainValidation):
        raise TypeError(f"split must be a TrainValidation (validation_split()), got "
                        f"{type(split).__name__}")
    X_train, X_val, y_train, y_val = split
    model = nn.MLP((X_train.shape[1], hidden, 10), activation="relu", seed=seed)
    params = one_buffer(model)
    gradient = np.empty_like(params)  # reused every step
    rule, state = TRAINING_RULES[optimizer]
    per_epoch = math.ceil(len(X_train) / batch_size)
    lrs = schedules.lr_curve(training_schedule(schedule, lr0, epochs * per_epoch, warmup_steps),
                             epochs * per_epoch)
    if batches is None:
        batches = epoch_batches(X_train, y_train, batch_size, epochs, seed)
    batch_losses = np.full(epochs * per_epoch, np.nan)
    accuracy = np.full(epochs + 1, np.nan)
    accuracy[0] = model.accuracy(X_val, y_val)

    def objective(_, batch):  # the model computes with views of the buffer descend updates
        logits = model.forward(batch[0])
        loss = losses.cross_entropy(logits, batch[1])
        if not math.isfinite(loss):  # the loop stops here: no backward pass needed
            return loss, None
        grads = model.backward(losses.cross_entropy_grad(logits, batch[1]))
        return loss, [np.concatenate([g.ravel() for g in grads], out=gradient)]

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch, epoch_batch in enumerate(batches):
            first = epoch * per_epoch
            run = loop.descend(rule, [params], objective, epoch_batch, state,
                               lr=lrs[first:first + len(epoch_batch)])
            batch_losses[first:first + len(epoch_batch)] = run.losses
            if run.diverged:
                return batch_losses, accuracy, True
            state, accuracy[epoch + 1] = run.state, model.accuracy(X_val, y_val)
    return batch_losses, accuracy, False


class Training(Panel):
    """The training explorer: each change retrains; the last run stays as a faint line."""

    primary = "lr0"

    def __init__(self, optimizer, lr0, batch_size, schedule, warmup_steps, hidden, epochs, seed,
                 name):
        if optimizer not in TRAINING_RULES:
            raise ValueError(f"optimizer must be one of {list(TRAINING_RULES)}, got {optimizer!r}")
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule must be 'constant', 'step' or 'cosine', got {schedule!r}")
        lr0 = arguments.positive(lr0, "lr0")
        self.epochs = arguments.integer(epochs, "epochs", minimum=1)
        self.seed = arguments.integer(seed, "seed", minimum=0)
        self.digits = validation_split()
        batch_sizes = [1, 4, 16, 64, 256, len(self.digits.X_train)]
        if batch_size not in batch_sizes:
            raise ValueError(f"batch_size must be one of {batch_sizes}, got {batch_size}")
        if hidden not in WIDTHS:
            raise ValueError(f"hidden must be one of {WIDTHS}, got {hidden}")
        warmup_steps = arguments.integer(warmup_steps, "warmup_steps", minimum=0)
        if warmup_steps > 200:
            raise ValueError(f"warmup_steps must be <= 200, got {warmup_steps}")
        super().__init__(name, (9.0, 4.4))
        self.batches = {}  # batch size -> the mini-batches of every epoch (the same every run)
        self._draw_axes()
        released = dict(continuous_update=False, style={"description_width": "initial"})
        self.controls.update(
            optimizer=ipw.Dropdown(options=list(TRAINING_RULES), value=optimizer,
                                   description=_("optimizer")),
            lr0=log_slider("η₀", lr0, 1e-4, 1.0),
            batch_size=ipw.SelectionSlider(options=batch_sizes, value=batch_size,
                                           description=_("batch size"), **released),
            schedule=ipw.Dropdown(options=[(pgettext(SCHEDULE, s), s) for s in SCHEDULES],
                                  value=schedule,
                                  description=_("schedule")),
            warmup=ipw.IntSlider(value=warmup_steps, min=0, max=200, step=5,
                                 description=_("warmup steps W"), **released),
            hidden=ipw.SelectionSlider(options=WIDTHS, value=hidden, description=_("hidden units"),
                                       **released))
        self.controls["lr0"].continuous_update = False
        self.labels["summary"] = ipw.HTML()
        self.one_thread = one_blas_thread()

    def _draw_axes(self) -> None:
        ax_loss, ax_acc = self.figure.subplots(
            1, 2, gridspec_kw={"width_ratios": [1.4, 1], "wspace": 0.25})
        self.figure.subplots_adjust(left=0.08, right=0.98, top=0.82, bottom=0.12)
        colours, artists = plotting.OKABE_ITO, self.artists
        loss_previous, = ax_loss.plot([], [], color="0.6", lw=0.8, label=_("previous run"))
        artists["loss"], = ax_loss.plot([], [], color=colours["blue"], lw=0.9, label=_("this run"))
        accuracy_previous, = ax_acc.plot([], [], color="0.6", ls="--", marker="s", ms=4,
                                         label=_("previous run"))
        artists["accuracy"], = ax_acc.plot([], [], color=colours["vermillion"], marker="o", ms=5,
                                           label=_("this run"))
        artists.update(loss_previous=loss_previous, accuracy_previous=accuracy_previous)
        ax_loss.set_yscale("log")
        ax_loss.set_xlim(0, self.epochs)
        ax_loss.set_ylim(1e-3, 30)
        ax_loss.set_xlabel(_("epoch"))
        ax_loss.set_ylabel(_("mini-batch loss  (log scale)"))
        ax_loss.set_title(_("training loss per step"), fontsize=10, pad=18)
        legend_above(ax_loss, ncol=2)
        artists["status"] = status_text(ax_loss, y=0.85)
        ax_acc.set_xlim(-0.2, self.epochs + 0.2)
        ax_acc.set_ylim(0, 1.02)
        ax_acc.axhline(0.1, color="0.3", ls=":", lw=1, label=_("chance (0.1)"))
        ax_acc.set_xlabel(_("epoch"))
        ax_acc.set_ylabel(_("validation accuracy"))
        ax_acc.set_title(_("validation accuracy ({count} digits)").format(
            count=len(self.digits.X_val)), fontsize=10, pad=18)
        legend_above(ax_acc, ncol=3)
        for ax in (ax_loss, ax_acc):
            ax.grid(True, alpha=0.3)

    def refresh(self) -> None:
        controls, batch = self.controls, self.controls["batch_size"].value
        if batch not in self.batches:
            self.batches[batch] = epoch_batches(self.digits.X_train, self.digits.y_train, batch,
                                                self.epochs, self.seed)
        with self.one_thread():
            batch_losses, accuracy, diverged = train_digits(
                self.digits, controls["optimizer"].value, controls["lr0"].value, batch,
                controls["schedule"].value, controls["warmup"].value, controls["hidden"].value,
                self.epochs, self.seed, batches=self.batches[batch])
        if "batch_losses" in self.state:  # the last run becomes the faint comparison
            self.artists["loss_previous"].set_data(*self.artists["loss"].get_data())
            self.artists["accuracy_previous"].set_data(*self.artists["accuracy"].get_data())
        per_epoch = math.ceil(len(self.digits.X_train) / batch)
        warmup, total = controls["warmup"].value, per_epoch * self.epochs
        warmup_note = _(" after {steps} warmup steps").format(steps=warmup) if warmup else ""
        if warmup >= total:  # the rate climbs the whole run long and never reaches η₀
            warmup_note = _(" with <b>a warmup of {steps} steps, longer than the whole run "
                            "({total} steps): η never reaches η₀</b>").format(steps=warmup,
                                                                              total=total)
        self.artists["loss"].set_data(np.arange(1, len(batch_losses) + 1) / per_epoch,
                                      gap(batch_losses))
        self.artists["accuracy"].set_data(np.arange(self.epochs + 1), accuracy)
        outcome = (_("<b>diverged</b> — lower η₀ or add warmup") if diverged else
                   _("validation accuracy {accuracy} after {epochs} epochs").format(
                       accuracy=f"{accuracy[-1]:.3f}", epochs=self.epochs))
        self.artists["status"].set_text(_("diverged — lower η₀ or add warmup") if diverged
                                        else "")
        self.labels["summary"].value = _(
            "{optimizer}, η₀ = {lr}, B = {batch} ({steps} steps per epoch), {schedule}{warmup}: "
            "{outcome}").format(optimizer=controls["optimizer"].value,
                                lr=f"{controls['lr0'].value:.3g}", batch=batch, steps=per_epoch,
                                schedule=pgettext(SCHEDULE, controls["schedule"].value),
                                warmup=warmup_note,
                                outcome=outcome)
        self.state.update(batch_losses=batch_losses, accuracy=accuracy, diverged=diverged,
                          warmup_too_long=warmup >= total)
        self.stage.render()

    def rows(self):
        controls = self.controls
        return [ipw.HBox([controls["optimizer"], controls["lr0"], controls["batch_size"]]),
                ipw.HBox([controls["schedule"], controls["warmup"], controls["hidden"]]),
                self.labels["summary"]]
