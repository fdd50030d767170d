"""Notebook 02: η and the start point → gradient descent on an ill-conditioned bowl."""
from __future__ import annotations

import math

import ipywidgets as ipw
import numpy as np

from course_utils import arguments, landscapes, plotting, regimes
from course_utils.i18n import _
from course_utils.explorers.drawing import (badge, contours, for_drawing, gap, legend_above,
                                            regime_strip)
from course_utils.explorers.stage import Explorer, Panel, click_to_start, log_slider, slider

__all__ = ["learning_rate_explorer_2d"]

LR_RANGE = (1e-3, 1.0)


def learning_rate_explorer_2d(lr: float = 0.05, start=None, steps: int = 40,
                              condition_number: float = 10.0, tolerance: float = 0.1,
                              name: str = "learning-rate explorer (2-D)") -> Explorer:
    """η and the start point → gradient descent on the contours of an ill-conditioned bowl.

    f(w) = ½ wᵀAw with eigenvalues λ_min = 1 and λ_max = κ. Left: contours and the path
    (click the contours to move the start). Right: f(w_k) per step (log scale). Below: the η
    axis with the bowl's regimes (``quadratic_regime``): zig-zag for η > 1/λ_max, divergence
    for η > 2/λ_max, crawling along the flat direction when η·λ_min is small.

    Args:
        lr: initial η in [1e-3, 1]; default 0.05.
        start: (2,) start point; default the bowl's start.
        steps: N updates, integer >= 1; default 40.
        condition_number: κ >= 1; default 10.
        tolerance: "too small" threshold; default 0.1.
        name: figure name.

    Controls: ``lr``, ``x0``, ``y0``. Artists: ``path``, ``start_point``, ``loss``,
    ``lr_marker``. State: ``path``, ``losses``, ``regime``.
    """
    panel = LearningRate2D(lr, start, steps, condition_number, tolerance, name)
    explorer = panel.show()
    click_to_start(explorer, panel.ax_map, "x0", "y0")
    return explorer


class LearningRate2D(Panel):
    """The 2-D learning-rate explorer: one bowl, drawn once; the path and η marker move."""

    def __init__(self, lr, start, steps, condition_number, tolerance, name):
        lr = arguments.positive(lr, "lr")
        self.steps = arguments.integer(steps, "steps", minimum=1)
        self.tolerance = regimes.check_tolerance(tolerance)
        self.landscape = landscapes.quadratic_bowl(condition_number=condition_number)
        self.lam_max, self.lam_min = self.landscape.max_curvature, 1.0
        start = self.landscape.start if start is None else arguments.as_array(start, "start", ndim=1)
        if start.shape != (2,):
            raise ValueError(f"start must have shape (2,), got {start.shape}")
        super().__init__(name, (9.0, 5.0))
        grid = self.figure.add_gridspec(2, 2, height_ratios=[4, 1], hspace=0.55, wspace=0.25,
                                        left=0.08, right=0.98, top=0.86, bottom=0.12)
        self.ax_map = self.figure.add_subplot(grid[0, 0])
        self._draw_map()
        self._draw_loss_axis(self.figure.add_subplot(grid[0, 1]))
        edges = regimes.regime_edges(self.lam_max, self.lam_min, self.steps, self.tolerance)
        self.artists["lr_marker"] = regime_strip(
            self.figure.add_subplot(grid[1, :]), edges, LR_RANGE,
            _("theory for this bowl, N = {steps}").format(steps=self.steps), curvature="λ_max")
        half = (self.landscape.xlim[1] - self.landscape.xlim[0]) / 2
        self.controls.update(lr=log_slider(_("learning rate η"), lr, *LR_RANGE),
                             x0=slider(_("start w₁"), float(start[0]), -half, half, 0.1),
                             y0=slider(_("start w₂"), float(start[1]), -half, half, 0.1))
        self.labels["regime"] = ipw.HTML()

    def _draw_map(self) -> None:
        ax, landscape, colours = self.ax_map, self.landscape, plotting.OKABE_ITO
        contours(ax, landscape)
        ax.plot(*landscape.minimizers[0], "*", color="black", ms=10, label=_("minimum"))
        self.artists["path"], = ax.plot([], [], color=colours["vermillion"], marker="o", ms=3,
                                        lw=1.2, label="w_k")
        self.artists["start_point"], = ax.plot([], [], "s", color=colours["blue"], ms=7,
                                               label=_("start (click to move)"))
        ax.set_xlim(*landscape.xlim)
        ax.set_ylim(*landscape.ylim)
        ax.set_aspect("equal")
        ax.set_xlabel(_("w₁  (flat direction, λ_min = 1)"))
        ax.set_ylabel(_("w₂  (steep, λ_max = {curvature})").format(curvature=f"{self.lam_max:g}"))
        ax.set_title(f"{landscape.formula}, κ = {self.lam_max / self.lam_min:g}", fontsize=10,
                     pad=18)
        legend_above(ax, ncol=3)

    def _draw_loss_axis(self, ax) -> None:
        self.artists["loss"], = ax.plot([], [], color=plotting.OKABE_ITO["vermillion"],
                                        marker="o", ms=3, lw=1)
        ax.set_yscale("log")
        ax.set_xlim(0, self.steps)
        ax.set_xlabel(_("step k"))
        ax.set_ylabel(_("f(w_k)  (log scale)"))
        ax.set_title(_("loss per step"), fontsize=10, pad=18)
        top = np.max(self.landscape.grid(20)[2])
        ax.set_ylim(1e-12, 10 ** math.ceil(math.log10(top) + 2))
        ax.grid(True, alpha=0.3)

    def refresh(self) -> None:
        eta = self.controls["lr"].value
        w0 = np.array([self.controls["x0"].value, self.controls["y0"].value])
        path = landscapes.gradient_descent(self.landscape, w0, eta, self.steps)
        with np.errstate(over="ignore", invalid="ignore"):
            values = self.landscape.f(path)
        shown = for_drawing(path)
        self.artists["path"].set_data(shown[:, 0], shown[:, 1])
        self.artists["start_point"].set_data([w0[0]], [w0[1]])
        self.artists["loss"].set_data(np.arange(self.steps + 1), gap(values))
        self.artists["lr_marker"].set_xdata([eta, eta])
        lam_max = self.lam_max
        regime = regimes.quadratic_regime(eta, lam_max, self.lam_min, self.steps, self.tolerance)
        self.labels["regime"].value = badge(regime, _(
            "η = {lr},  η·λ_max = {product}  (zig-zag above 1/λ_max = {zigzag}, diverges above "
            "2/λ_max = {limit})").format(lr=f"{eta:.3g}", product=f"{eta * lam_max:.3g}",
                                        zigzag=f"{1 / lam_max:.3g}", limit=f"{2 / lam_max:.3g}"))
        self.state.update(path=path, losses=values, regime=regime, landscape=self.landscape)
        self.stage.render()

    def rows(self):
        controls = self.controls
        return [ipw.HBox([controls["lr"], controls["x0"], controls["y0"]]), self.labels["regime"]]
