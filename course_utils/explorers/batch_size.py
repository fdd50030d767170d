"""Notebook 03: batch size B and η → mini-batch SGD on a line, per update and per epoch."""
from __future__ import annotations

import math

import ipywidgets as ipw
import numpy as np

from course_utils import arguments, data, loop, losses, optim, plotting
from course_utils.explorers.drawing import FAR, gap, legend_above, status_text
from course_utils.i18n import _, ngettext
from course_utils.explorers.stage import Explorer, Panel, log_slider

__all__ = ["batch_size_explorer", "minibatch_run"]

SGD = loop.as_rule(optim.sgd_step)


def batch_size_explorer(lr: float = 0.05, batch_size: int = 8, n_samples: int = 128,
                        epochs: int = 8, noise: float = 0.5, seed: int = 0,
                        name: str = "batch-size explorer") -> Explorer:
    """Batch size B and η → mini-batch SGD on 1-D linear regression, per update and per epoch.

    Model ŷ = w x + b fitted by MSE on ``data.make_linear_regression(n_samples, noise, seed)``;
    θ = (w, b) starts at 0; each epoch visits the shuffled samples once in batches of B
    (``data.minibatches``) and takes one ``optim.sgd_step`` per batch with the mini-batch
    gradient ∇θ = Xᵦᵀ · 2(Xᵦθ − yᵦ)/B. B = N is batch gradient descent, B = 1 pure SGD.

    Left: training loss (all N samples) after every update, and the mini-batch loss the
    update saw, against the number of updates (log-log). Right: training loss at the end of
    each epoch, with batch GD at the same η for reference. Same seed, same data, same shuffles.

    Controls: ``batch_size``, ``lr``, ``shuffle``. Artists: ``per_update``, ``batch_loss``,
    ``per_epoch``, ``full_batch``. State: ``update_losses``, ``epoch_losses``, ``theta``.
    """
    return BatchSize(lr, batch_size, n_samples, epochs, noise, seed, name).show()


def minibatch_run(X, y, batch_size, lr, epochs, seed, shuffle=True):
    """Mini-batch SGD on the MSE of X θ against y from θ = 0, through ``loop.descend``.

    Stops when |θ| reaches 1e6 (the run blew up). Returns (θ, the mini-batch losses the
    updates saw, the training losses w_0 … before the blow-up, the training loss after each
    whole epoch, diverged).
    """
    rng = np.random.default_rng(seed)
    batches = [batch for _ in range(epochs)
               for batch in data.minibatches(X, y, batch_size, rng=rng, shuffle=shuffle)]

    def objective(theta, batch):
        xb, yb = batch
        pred = xb @ theta
        return losses.mse(pred, yb), xb.T @ losses.mse_grad(pred, yb)

    run = loop.descend(SGD, np.zeros(X.shape[1]), objective, batches, {"lr": lr}, limit=FAR)
    kept = run.steps if run.diverged else run.steps + 1  # the blown-up θ has no loss
    full = np.array([losses.mse(X @ theta, y) for theta in run.path[:kept]])
    per_epoch_updates = math.ceil(len(X) / batch_size)
    per_epoch = full[::per_epoch_updates]
    return run.path[run.steps], run.losses[:run.steps], full, per_epoch, run.diverged


class BatchSize(Panel):
    """The batch-size explorer: the data and both axes are fixed; the four lines move."""

    primary = "lr"

    def __init__(self, lr, batch_size, n_samples, epochs, noise, seed, name):
        lr = arguments.positive(lr, "lr")
        self.n_samples = arguments.integer(n_samples, "n_samples", minimum=2)
        self.epochs = arguments.integer(epochs, "epochs", minimum=1)
        self.seed = arguments.integer(seed, "seed", minimum=0)
        x, self.y = data.make_linear_regression(n=n_samples, noise=noise, seed=self.seed)
        self.X = np.stack([x, np.ones_like(x)], axis=1)  # θ = (w, b): the bias is a weight on a 1
        sizes = [b for b in (2 ** k for k in range(20)) if b < n_samples] + [n_samples]
        batch_size = arguments.integer(batch_size, "batch_size", minimum=1)
        if batch_size not in sizes:
            raise ValueError(f"batch_size must be one of {sizes}, got {batch_size}")
        self.floor = losses.mse(self.X @ np.linalg.lstsq(self.X, self.y, rcond=None)[0], self.y)
        super().__init__(name, (9.0, 4.4))
        self._draw_axes()
        self.controls.update(
            batch_size=ipw.SelectionSlider(options=sizes, value=batch_size,
                                           description=_("batch size B"),
                                           style={"description_width": "initial"},
                                           layout=ipw.Layout(width="340px")),
            lr=log_slider(_("learning rate η"), lr, 1e-3, 1.0),
            shuffle=ipw.Checkbox(value=True, description=_("shuffle each epoch")))
        self.labels["summary"] = ipw.HTML()

    def _draw_axes(self) -> None:
        ax_update, ax_epoch = self.figure.subplots(1, 2, gridspec_kw={"wspace": 0.25})
        self.figure.subplots_adjust(left=0.08, right=0.98, top=0.78, bottom=0.12)
        colours = plotting.OKABE_ITO
        batch_line, = ax_update.plot([], [], color=colours["sky_blue"], lw=0.6, alpha=0.6,
                                     label=_("mini-batch loss (what the update saw)"))
        update_line, = ax_update.plot([], [], color=colours["blue"], lw=1.6,
                                      label=_("training loss (all N)"))
        ax_update.axhline(self.floor, color="0.4", ls=":", lw=1,
                          label=_("best possible (least squares)"))
        ax_update.set_xscale("log")
        ax_update.set_yscale("log")
        ax_update.set_xlabel(_("update (log scale)"))
        ax_update.set_ylabel(_("MSE (log scale)"))
        ax_update.set_title(_("loss per update"), fontsize=10, pad=40)
        legend_above(ax_update, ncol=1, fontsize=7.5)
        epoch_line, = ax_epoch.plot([], [], color=colours["blue"], marker="o", ms=4, lw=1.6,
                                    label=_("mini-batch SGD"))
        full_line, = ax_epoch.plot([], [], color="0.45", marker="s", ms=3, ls="--", lw=1,
                                   label=_("batch GD (B = N), same η"))
        self.artists.update(per_update=update_line, batch_loss=batch_line, per_epoch=epoch_line,
                            full_batch=full_line, status=status_text(ax_update))
        self._finish_axes(ax_update, ax_epoch)

    def _finish_axes(self, ax_update, ax_epoch) -> None:
        ax_epoch.axhline(self.floor, color="0.4", ls=":", lw=1)
        ax_epoch.set_yscale("log")
        ax_epoch.set_xlim(-0.2, self.epochs + 0.2)
        ax_epoch.set_xlabel(_("epoch"))
        ax_epoch.set_ylabel(_("training MSE after the epoch (log scale)"))
        ax_epoch.set_title(_("loss per epoch"), fontsize=10, pad=40)
        ax_epoch.plot([], [], color="0.4", ls=":", lw=1, label=_("best possible (least squares)"))
        legend_above(ax_epoch, ncol=1, fontsize=7.5)
        ax_update.set_xlim(0.8, 1.25 * self.n_samples * self.epochs)  # B = 1: N updates/epoch
        start_loss = losses.mse(np.zeros(self.n_samples), self.y)
        for ax in (ax_update, ax_epoch):  # fixed limits: a slider move redraws only the lines
            ax.set_ylim(self.floor / 30, 3 * start_loss)
            ax.grid(True, alpha=0.3)

    def refresh(self) -> None:
        batch, eta = self.controls["batch_size"].value, self.controls["lr"].value
        theta, seen, full, per_epoch, blew_up = minibatch_run(
            self.X, self.y, batch, eta, self.epochs, self.seed, self.controls["shuffle"].value)
        *unused, reference, blew_up_too = minibatch_run(self.X, self.y, self.n_samples, eta, self.epochs,
                                         self.seed, shuffle=False)
        updates = np.arange(1, len(seen) + 1)
        self.artists["batch_loss"].set_data(updates, gap(seen))
        # The loss after update k = 1, 2, …; a run that blew up has none after its last update.
        self.artists["per_update"].set_data(np.arange(1, len(full)), gap(full[1:]))
        self.artists["per_epoch"].set_data(np.arange(len(per_epoch)), gap(per_epoch))
        self.artists["full_batch"].set_data(np.arange(len(reference)), gap(reference))
        per_epoch_updates, epochs = math.ceil(self.n_samples / batch), self.epochs
        outcome = _("diverged — lower η") if blew_up else _("final training MSE {loss}").format(
            loss=f"{full[-1]:.4g}")
        self.artists["status"].set_text(_("diverged at update {update} — lower η").format(
            update=len(seen)) if blew_up else "")
        cost = ngettext("each costing {count} gradient of one sample",
                        "each costing {count} gradients of one sample", batch).format(count=batch)
        self.labels["summary"].value = _(
            "B = {batch}: {updates} updates per epoch, {total} in {epochs} epochs, {cost}; "
            "{outcome} (best possible {best})").format(
            batch=batch, updates=per_epoch_updates, total=per_epoch_updates * epochs,
            epochs=epochs, cost=cost, outcome=outcome, best=f"{self.floor:.4g}")
        self.state.update(update_losses=full, batch_losses=seen, epoch_losses=per_epoch,
                          theta=theta, diverged=blew_up, reference_epoch_losses=reference)
        self.stage.render()

    def rows(self):
        controls = self.controls
        return [ipw.HBox([controls["batch_size"], controls["lr"], controls["shuffle"]]),
                self.labels["summary"]]
