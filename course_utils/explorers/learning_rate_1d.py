"""Notebook 01: η and the start point → gradient descent on a 1-D loss, and its regime."""
from __future__ import annotations

import math

import ipywidgets as ipw
import numpy as np

from course_utils import arguments, landscapes, plotting, regimes
from course_utils.explorers.drawing import badge, for_drawing, gap, regime_strip
from course_utils.explorers.stage import Explorer, Panel, log_slider, set_range, slider

__all__ = ["learning_rate_explorer_1d", "CURVES_1D"]

# name -> (landscape, the η it starts with when picked from the drop-down)
CURVES_1D = {
    "parabola  L = ½λw²": (lambda: landscapes.parabola(curvature=1.0), 0.3),
    "double well (non-convex)": (lambda: landscapes.double_well(), 0.05),
}
LR_RANGE = (1e-3, 10.0)


def learning_rate_explorer_1d(lr: float = 0.3, start: float | None = None, steps: int = 30,
                              loss: str = "parabola  L = ½λw²", tolerance: float = 0.1,
                              name: str = "learning-rate explorer (1-D)") -> Explorer:
    """η and the start point → the gradient-descent path on a 1-D loss and the loss per step.

    Left: L(w) with w_0 … w_N marked on it. Right: L(w_k) − L(w*) per step (log scale: a
    straight line is linear convergence). Below: the η axis with the parabola's regimes
    (too small / good / oscillating / diverging; GD converges iff η < 2/λ) and the current η.
    The label names the regime this run shows (``classify_regime``).

    Args:
        lr: initial η, in [1e-3, 10]; default 0.3.
        start: initial w_0; default the loss's own start point.
        steps: N updates, integer >= 1; default 30.
        loss: one of the drop-down's entries ("parabola …" or "double well …").
        tolerance: "too small" threshold of ``classify_regime``; default 0.1.
        name: figure name (re-using a name replaces that explorer).

    Controls: ``lr``, ``start``, ``loss``. Artists: ``curve``, ``path``, ``start_point``,
    ``loss``, ``lr_marker``. State: ``path``, ``losses``, ``regime``.
    """
    return LearningRate1D(lr, start, steps, loss, tolerance, name).show()


class LearningRate1D(Panel):
    """The 1-D learning-rate explorer: the curve and the regime strip change with the loss."""

    def __init__(self, lr, start, steps, loss, tolerance, name):
        lr = arguments.positive(lr, "lr")
        self.steps = arguments.integer(steps, "steps", minimum=1)
        self.tolerance = regimes.check_tolerance(tolerance)
        if loss not in CURVES_1D:
            raise ValueError(f"loss must be one of {list(CURVES_1D)}, got {loss!r}")
        landscape = CURVES_1D[loss][0]()
        if start is None:
            start = float(landscape.start)
        start = float(arguments.as_array(start, "start", ndim=0))
        super().__init__(name, (9.5, 5.2))
        self._draw_axes()
        self.controls.update(
            lr=log_slider("learning rate η", lr, *LR_RANGE),
            start=slider("start w₀", start, *landscape.xlim, 0.05),
            loss=ipw.Dropdown(options=list(CURVES_1D), value=loss, description="loss"))
        self.labels["regime"] = ipw.HTML()
        self.scene = {"name": None}

    def _draw_axes(self) -> None:
        grid = self.figure.add_gridspec(2, 2, height_ratios=[4, 1], hspace=0.55, wspace=0.25,
                                        left=0.07, right=0.98, top=0.92, bottom=0.12)
        self.ax_curve = self.figure.add_subplot(grid[0, 0])
        self.ax_loss = self.figure.add_subplot(grid[0, 1])
        self.ax_strip = self.figure.add_subplot(grid[1, :])
        colours, ax_curve, ax_loss = plotting.OKABE_ITO, self.ax_curve, self.ax_loss
        self.artists["curve"], = ax_curve.plot([], [], color="0.35", lw=1.5, label="L(w)")
        self.artists["path"], = ax_curve.plot([], [], color=colours["vermillion"], marker="o",
                                              ms=4, lw=1, label="w_k")
        self.artists["start_point"], = ax_curve.plot([], [], "s", color=colours["blue"], ms=8,
                                                     label="start w_0")
        ax_curve.set_xlabel("weight w")
        ax_curve.set_ylabel("loss L(w)")
        ax_curve.legend(loc="upper center", fontsize=8, ncol=3)
        self.artists["loss"], = ax_loss.plot([], [], color=colours["vermillion"], marker="o",
                                             ms=3, lw=1)
        ax_loss.set_yscale("log")
        ax_loss.set_xlim(0, self.steps)
        ax_loss.set_xlabel("step k")
        ax_loss.set_ylabel("L(w_k) − L(w*)  (log scale)")
        ax_loss.set_title("loss per step", fontsize=10)
        ax_loss.grid(True, which="major", alpha=0.3)

    def draw_static(self, landscape) -> None:
        """Only when the loss changes: the curve, the view window and the regime strip."""
        w = np.linspace(*landscape.xlim, 400)
        self.artists["curve"].set_data(w, landscape.value(w))
        self.ax_curve.set_xlim(*landscape.xlim)
        self.ax_curve.set_ylim(*landscape.ylim)
        self.ax_curve.set_title(landscape.formula, fontsize=11)
        top = float(np.max(landscape.value(w)) - landscape.value(landscape.minimizers[0]))
        self.ax_loss.set_ylim(1e-12, 10 ** math.ceil(math.log10(top) + 2))  # fixed: no re-render
        self.ax_strip.clear()
        lam = landscape.max_curvature
        note = "bands: theory for ½λw²" if landscape.minimizers.size == 1 else \
            f"bands: local theory near the minima, λ = L″ = {lam:.3g}"
        edges = regimes.regime_edges(lam, lam, self.steps, self.tolerance)
        self.artists["lr_marker"] = regime_strip(self.ax_strip, edges, LR_RANGE, note)
        set_range(self.controls["start"], *landscape.xlim)
        self.scene.update(name=self.controls["loss"].value, landscape=landscape)

    def refresh(self) -> None:
        controls = self.controls
        new_scene = self.scene["name"] != controls["loss"].value
        if new_scene:
            self.draw_static(CURVES_1D[controls["loss"].value][0]())
            if self.state:  # a new loss starts from its own start point and η
                controls["start"].value = float(self.scene["landscape"].start)
                controls["lr"].value = CURVES_1D[controls["loss"].value][1]
        landscape = self.scene["landscape"]
        eta, w0 = controls["lr"].value, controls["start"].value
        path = landscapes.gradient_descent(landscape, w0, eta, self.steps)
        with np.errstate(over="ignore", invalid="ignore"):
            values = landscape.f(path)
        self._draw_run(landscape, path, values, eta, w0)
        regime = regimes.classify_regime(path, landscape, self.tolerance)
        self._write_regime(landscape, regime, eta)
        self.state.update(path=path, losses=values, regime=regime, landscape=landscape)
        self.stage.render(full=new_scene)

    def _draw_run(self, landscape, path, values, eta, w0) -> None:
        shown = for_drawing(np.stack([path, values]))
        self.artists["path"].set_data(shown[0], shown[1])
        self.artists["start_point"].set_data([w0], [landscape.value(w0)])
        best = landscape.value(landscape.minimizers[0])
        self.artists["loss"].set_data(np.arange(self.steps + 1), gap(values - best))
        self.artists["lr_marker"].set_xdata([eta, eta])

    def _write_regime(self, landscape, regime, eta) -> None:
        lam = landscape.max_curvature
        where = ("on ½λw²" if landscape.minimizers.size == 1
                 else f"near a minimum, λ = L″ = {lam:.3g}:")
        self.labels["regime"].value = badge(
            regime, f"η = {eta:.3g},  η·λ = {eta * lam:.3g}  ({where} converges iff η < 2/λ = "
                    f"{2 / lam:.3g})")

    def rows(self):
        controls = self.controls
        return [ipw.HBox([controls["lr"], controls["start"], controls["loss"]]),
                self.labels["regime"]]
