"""Notebook 04: three logits, the true class and a temperature → softmax, loss and gradient."""
from __future__ import annotations

import ipywidgets as ipw
import numpy as np

from course_utils import arguments, losses, plotting
from course_utils.explorers.stage import Explorer, Panel, log_slider, slider
from course_utils.i18n import _

__all__ = ["softmax_explorer"]

LOGIT_RANGE = (-5.0, 5.0)
TEMPERATURE_RANGE = (0.1, 10.0)
CLASSES = np.arange(3)


def softmax_explorer(logits=(2.0, 1.0, -1.0), true_class: int = 0, temperature: float = 1.0,
                     name: str = "softmax explorer") -> Explorer:
    """Three logits, the true class and a temperature → softmax, the loss and its gradient.

    With u = z / T (the logits divided by the temperature T), ŷ = softmax(u), y the one-hot
    vector of the true class c and L = −log ŷ_c (the cross-entropy of one example):

        ∂L/∂u = ŷ − y      (its entries sum to 0: ŷ_c − 1 ∈ (−1, 0), the others ŷ_j ∈ (0, 1))
        ∂L/∂z = (ŷ − y)/T

    Left: the logits z as bars. Middle: ŷ as bars, y marked, L written. Right: ŷ − y as bars.
    The numbers come from ``losses.softmax``, ``losses.cross_entropy`` and
    ``losses.cross_entropy_grad`` (N = 1, so its 1/N is 1).

    Args:
        logits: the three initial logits (z₁, z₂, z₃), each in [−5, 5]; default (2, 1, −1).
        true_class: c, 0, 1 or 2 (shown as class 1, 2, 3); default 0.
        temperature: T in [0.1, 10]; default 1.
        name: figure name.

    Controls: ``z1``, ``z2``, ``z3``, ``true_class``, ``T``. Artists: ``logit_<j>``,
    ``prob_<j>``, ``grad_<j>`` (j = 0, 1, 2: bars whose height is the value), ``target`` (y, as
    markers), ``loss_text``. State: ``logits``, ``probabilities``, ``gradient``, ``loss``.
    """
    return Softmax(logits, true_class, temperature, name).show()


class Softmax(Panel):
    """The softmax explorer: three bar charts whose heights and colours change."""

    primary = "z1"

    def __init__(self, logits, true_class, temperature, name):
        z0 = arguments.as_array(logits, "logits", ndim=1)
        if z0.shape != (3,) or np.any(z0 < LOGIT_RANGE[0]) or np.any(z0 > LOGIT_RANGE[1]):
            raise ValueError(f"logits must be three numbers in [{LOGIT_RANGE[0]:g}, "
                             f"{LOGIT_RANGE[1]:g}], got {z0.tolist()}")
        true_class = arguments.integer(true_class, "true_class", minimum=0)
        if true_class > 2:
            raise ValueError(f"true_class must be 0, 1 or 2, got {true_class}")
        temperature = arguments.positive(temperature, "temperature")
        if not TEMPERATURE_RANGE[0] <= temperature <= TEMPERATURE_RANGE[1]:
            raise ValueError(f"temperature must be in {list(TEMPERATURE_RANGE)}, got {temperature}")
        super().__init__(name, (9.0, 3.8))
        self._draw_axes()
        self.controls.update({f"z{j + 1}": slider(f"z{'₁₂₃'[j]}", float(z0[j]), *LOGIT_RANGE, 0.1)
                              for j in CLASSES})
        self.controls["true_class"] = ipw.ToggleButtons(
            options=[("1", 0), ("2", 1), ("3", 2)], value=true_class, description=_("true class"),
            style={"button_width": "40px", "description_width": "initial"})
        self.controls["T"] = log_slider(_("temperature T"), temperature, *TEMPERATURE_RANGE)
        self.labels["summary"] = ipw.HTML()

    def _draw_axes(self) -> None:
        ax_logits, ax_probs, ax_grad = self.figure.subplots(1, 3, gridspec_kw={"wspace": 0.45})
        self.figure.subplots_adjust(left=0.07, right=0.99, top=0.86, bottom=0.15)
        for prefix, ax in (("logit", ax_logits), ("prob", ax_probs), ("grad", ax_grad)):
            bars = ax.bar(CLASSES, np.zeros(3), width=0.6, color=plotting.OKABE_ITO["blue"],
                          edgecolor="black", linewidth=0.6)
            for j, bar in enumerate(bars):
                self.artists[f"{prefix}_{j}"] = bar
            ax.set_xticks(CLASSES, [f"{j + 1}" for j in CLASSES])
            ax.set_xlabel(_("class j"))
            ax.axhline(0, color="0.3", lw=0.8)
            ax.grid(True, axis="y", alpha=0.3)
        self.artists["target"], = ax_probs.plot([], [], "_", color="black", ms=26, mew=2.5,
                                                label=_("target y (one-hot)"))
        self.artists["loss_text"] = ax_probs.text(
            0.5, 0.97, "", transform=ax_probs.transAxes, ha="center", va="top", fontsize=9,
            bbox=dict(facecolor="white", alpha=0.85, lw=0))
        ax_logits.set_ylim(LOGIT_RANGE[0] - 0.5, LOGIT_RANGE[1] + 0.5)
        ax_logits.set_ylabel("logit z_j")
        ax_logits.set_title(_("logits z  (softmax sees z / T)"), fontsize=10)
        ax_probs.set_ylim(0, 1.18)
        ax_probs.set_ylabel(_("probability ŷ_j"))
        ax_probs.set_title(_("ŷ = softmax(z/T) (bars), target y (—)"), fontsize=10)
        ax_grad.set_ylim(-1.05, 1.05)
        ax_grad.set_ylabel("∂L/∂(z_j / T)")
        ax_grad.set_title(_("gradient ŷ − y  (sums to 0)"), fontsize=10)

    def refresh(self) -> None:
        z = np.array([self.controls[f"z{j + 1}"].value for j in CLASSES])
        c, T = self.controls["true_class"].value, self.controls["T"].value
        scaled = (z / T)[None, :]  # one example: the losses module works on (N, C)
        y_hat = losses.softmax(scaled)[0]
        loss = losses.cross_entropy(scaled, np.array([c]))
        gradient = losses.cross_entropy_grad(scaled, np.array([c]))[0]
        colours = plotting.OKABE_ITO
        for j in CLASSES:
            colour = colours["vermillion"] if j == c else colours["blue"]
            for prefix, value in (("logit", z[j]), ("prob", y_hat[j]), ("grad", gradient[j])):
                self.artists[f"{prefix}_{j}"].set_height(value)
                self.artists[f"{prefix}_{j}"].set_facecolor(colour)
        self.artists["target"].set_data(CLASSES, (CLASSES == c).astype(float))
        self.artists["loss_text"].set_text(f"L = −log ŷ_{c + 1} = {loss:.3g}")
        self.labels["summary"].value = (
            f"ŷ = [{', '.join(f'{p:.3f}' for p in y_hat)}],  L = −log ŷ<sub>{c + 1}</sub> = "
            f"{loss:.4g},  ŷ − y = [{', '.join(f'{g:+.3f}' for g in gradient)}] "
            + _("(sum {total});  ∂L/∂z = (ŷ − y)/T with T = {temperature}").format(
                total=f"{np.sum(gradient):+.1e}", temperature=f"{T:.3g}"))
        self.state.update(logits=z, probabilities=y_hat, gradient=gradient, loss=loss)
        self.stage.render()

    def rows(self):
        controls = self.controls
        return [ipw.HBox([controls["z1"], controls["z2"], controls["z3"]]),
                ipw.HBox([controls["true_class"], controls["T"]]), self.labels["summary"]]
