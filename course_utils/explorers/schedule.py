"""Notebook 08: a learning-rate schedule (and warmup) → its curve and a noisy SGD run."""
from __future__ import annotations

import math

import ipywidgets as ipw
import numpy as np

from course_utils import arguments, landscapes, loop, optim, plotting, schedules
from course_utils.explorers.drawing import gap, legend_above, status_text
from course_utils.explorers.stage import Explorer, Panel, log_slider
from course_utils.i18n import NP_, _, pgettext

SCHEDULE = "schedule"   # the gettext context of schedule names ("step" is not a step of GD)

__all__ = ["schedule_explorer", "schedule_functions", "noisy_run"]

SGD = loop.as_rule(optim.sgd_step)


def schedule_explorer(schedule: str = "cosine", lr0: float = 0.15, warmup_steps: int = 0,
                      total_steps: int = 200, noise: float = 3.0, seed: int = 0,
                      name: str = "schedule explorer") -> Explorer:
    """A learning-rate schedule (and warmup) → its lr curve and a noisy SGD run that uses it.

    Left: lr(t) for t = 0 … T−1 of the chosen schedule (bold) and the other four (faint), all
    from ``course_utils.schedules`` and, with warmup W > 0, wrapped by ``with_warmup(f, W)``.
    Right: SGD with noisy gradients, w ← w − lr(t)·(∇f(w) + σξ_t) (ξ_t ~ N(0, I), the same
    draws for every schedule), on the bowl f = ½wᵀAw (κ = 10): the loss per step, against a
    constant lr0. A constant rate stalls at a noise floor that scales with lr; decaying it
    goes below.

    Controls: ``schedule``, ``lr0``, ``warmup``. Artists: ``lr``, ``lr_<schedule>`` (faint),
    ``loss``, ``loss_constant``. State: ``lrs``, ``losses``, ``constant_losses``.
    """
    return Schedule(schedule, lr0, warmup_steps, total_steps, noise, seed, name).show()


def schedule_functions(lr0, total_steps):
    """The five schedules of ``course_utils.schedules`` (and a constant), lr0 at t = 0.

    The names are the values of ``schedule=`` and of the drop-down, shown translated."""
    return {
        NP_("schedule", "constant"): lambda t: np.full(np.shape(t), lr0) if np.ndim(t) else lr0,
        NP_("schedule", "step"): lambda t: schedules.step_lr(t, lr0, step_size=total_steps // 3,
                                                             gamma=0.2),
        NP_("schedule", "cosine"): lambda t: schedules.cosine_lr(t, lr0, total_steps),
        NP_("schedule", "linear"): lambda t: schedules.linear_lr(t, lr0, total_steps),
        NP_("schedule", "inverse sqrt"): lambda t: schedules.inverse_sqrt_lr(t, lr0),
    }


def noisy_run(bowl, shocks, lrs) -> np.ndarray:
    """f(w_t), t = 0 … T, of SGD on ``bowl`` with the gradient noise ``shocks[t]`` and the
    learning rate ``lrs[t]`` at step t, through the one loop."""
    run = loop.descend(SGD, bowl.start, lambda w, shock: (None, bowl.grad_f(w) + shock), shocks,
                       {}, lr=lrs)
    return bowl.f(run.path)


class Schedule(Panel):
    """The schedule explorer: six lr curves and two loss curves on fixed axes."""

    primary = "lr0"

    def __init__(self, schedule, lr0, warmup_steps, total_steps, noise, seed, name):
        self.names = list(schedule_functions(1.0, 10))
        if schedule not in self.names:
            raise ValueError(f"schedule must be one of {self.names}, got {schedule!r}")
        lr0 = arguments.positive(lr0, "lr0")
        self.total_steps = arguments.integer(total_steps, "total_steps", minimum=2)
        warmup_steps = arguments.integer(warmup_steps, "warmup_steps", minimum=0)
        noise = arguments.non_negative(noise, "noise")
        seed = arguments.integer(seed, "seed", minimum=0)
        self.bowl = landscapes.quadratic_bowl(condition_number=10.0)
        self.shocks = np.random.default_rng(seed).standard_normal((total_steps, 2)) * noise
        super().__init__(name, (9.0, 4.6))
        ax_lr, ax_loss = self.figure.subplots(1, 2, gridspec_kw={"wspace": 0.28})
        self.figure.subplots_adjust(left=0.085, right=0.98, top=0.76, bottom=0.11)
        self._draw_lr_axis(ax_lr)
        self._draw_loss_axis(ax_loss, noise)
        self.controls.update(
            schedule=ipw.Dropdown(options=[(pgettext(SCHEDULE, n), n) for n in self.names],
                                  value=schedule,
                                  description=_("schedule")),
            lr0=log_slider("lr0", lr0, 1e-3, 0.3),
            warmup=ipw.IntSlider(value=warmup_steps, min=0, max=total_steps // 4,
                                 description=_("warmup steps W"),
                                 style={"description_width": "initial"}))
        self.labels["summary"] = ipw.HTML()

    def _draw_lr_axis(self, ax) -> None:
        for i, label in enumerate(self.names):
            look = plotting.style(i)
            self.artists[f"lr_{label}"], = ax.plot([], [], color=look["color"],
                                                   ls=look["linestyle"], lw=1.2, alpha=0.45,
                                                   label=pgettext(SCHEDULE, label))
        self.artists["lr"], = ax.plot([], [], color="black", lw=2.4, label=_("chosen (bold)"))
        limit = 2 / self.bowl.max_curvature
        ax.axhline(limit, color="0.3", ls=":", lw=1,
                   label=_("2/λ_max = {limit}: above, GD diverges").format(limit=f"{limit:g}"))
        legend_above(ax, ncol=3, fontsize=7.5)
        ax.set_xlim(0, self.total_steps)
        ax.set_xlabel(_("step t"))
        ax.set_ylabel(_("learning rate lr(t)  (log scale)"))
        ax.set_yscale("log")
        ax.set_ylim(1e-4, 1.0)  # fixed limits: a slider move redraws only the lines
        ax.set_title(_("schedule"), fontsize=10, pad=44)
        ax.grid(True, alpha=0.3)

    def _draw_loss_axis(self, ax, noise) -> None:
        constant, = ax.plot([], [], color="0.55", lw=1, ls="--", label=_("constant lr0"))
        chosen, = ax.plot([], [], color=plotting.OKABE_ITO["vermillion"], lw=1.4,
                          label=_("chosen schedule"))
        self.artists.update(loss=chosen, loss_constant=constant, status=status_text(ax, y=0.85))
        self.artists["status"].set_fontsize(8.5)
        ax.set_xlim(0, self.total_steps)
        ax.set_yscale("log")
        ax.set_xlabel(_("step t"))
        ax.set_ylabel(_("f(w_t)  (log scale)"))
        ax.set_title(_("noisy SGD on a bowl (κ = 10, σ = {noise})").format(noise=f"{noise:g}"),
                     fontsize=10, pad=44)
        top = self.bowl.value(self.bowl.start)
        ax.set_ylim(1e-4, 10 ** math.ceil(math.log10(top) + 1))
        legend_above(ax, ncol=1, fontsize=7.5)
        ax.grid(True, alpha=0.3)

    def refresh(self) -> None:
        eta0, warmup = self.controls["lr0"].value, self.controls["warmup"].value
        chosen, total = self.controls["schedule"].value, self.total_steps
        steps, curves = np.arange(total), {}
        for label, f in schedule_functions(eta0, total).items():
            if warmup:
                f = schedules.with_warmup(f, warmup)
            curves[label] = schedules.lr_curve(f, total)
            self.artists[f"lr_{label}"].set_data(steps, curves[label])
        self.artists["lr"].set_data(steps, curves[chosen])
        with np.errstate(over="ignore", invalid="ignore"):
            values = noisy_run(self.bowl, self.shocks, curves[chosen])
            constant = noisy_run(self.bowl, self.shocks, np.full(total, eta0))
        self.artists["loss"].set_data(np.arange(total + 1), gap(values))
        self.artists["loss_constant"].set_data(np.arange(total + 1), gap(constant))
        blown = [name for name, run in ((pgettext(SCHEDULE, chosen), values),
                                        (_("constant lr0"), constant))
                 if not np.all(np.isfinite(run)) or np.max(run) > 1e6]
        self.artists["status"].set_text(
            _("diverged: {runs} — lr above 2/λ_max").format(runs=_(" and ").join(blown))
            if blown else "")
        tail = max(1, total // 10)
        warmup_note = _(" with {steps} warmup steps").format(steps=warmup) if warmup else ""
        name = f"<b>{pgettext(SCHEDULE, chosen)}</b>{warmup_note}"
        self.labels["summary"].value = _(
            "{schedule}: mean loss over the last {tail} steps {loss} (constant lr0: {constant})"
        ).format(schedule=name, tail=tail, loss=f"{np.mean(values[-tail:]):.3g}",
                 constant=f"{np.mean(constant[-tail:]):.3g}")
        self.state.update(lrs=curves[chosen], all_lrs=curves, losses=values,
                          constant_losses=constant, diverged=blown)
        self.stage.render()

    def rows(self):
        controls = self.controls
        return [ipw.HBox([controls["schedule"], controls["lr0"], controls["warmup"]]),
                self.labels["summary"]]
