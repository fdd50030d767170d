"""Notebook 01: η and the start point → gradient descent on a 1-D loss, and its regime."""
from __future__ import annotations

import math

import ipywidgets as ipw
import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgba

from course_utils import arguments, landscapes, optim, plotting, regimes
from course_utils.i18n import N_, _
from course_utils.explorers.drawing import REGIME_COLOURS, badge, for_drawing, gap, legend_above
from course_utils.explorers.stage import (Explorer, Panel, log_slider, set_range, set_value,
                                          slider)

__all__ = ["learning_rate_explorer_1d", "CURVES_1D", "regimes_along"]

# name -> (landscape, the η it starts with when picked from the drop-down); the names are the
# values of ``loss=`` and of the drop-down, shown translated (``_(name)``).
CURVES_1D = {
    N_("parabola  L = ½λw²"): (lambda: landscapes.parabola(curvature=1.0), 0.3),
    N_("double well (non-convex)"): (lambda: landscapes.double_well(), 0.05),
}
LR_RANGE = (1e-3, 10.0)
LR_STEP = 0.05  # the η slider's grid, in decades: the strip has one cell per grid point
LABEL_DECADES = 0.3  # a band gets its name written in it when it is at least this wide


def learning_rate_explorer_1d(lr: float = 0.3, start: float | None = None, steps: int = 30,
                              loss: str = "parabola  L = ½λw²", tolerance: float = 0.1,
                              name: str = "learning-rate explorer (1-D)") -> Explorer:
    """η and the start point → the gradient-descent path on a 1-D loss and the loss per step.

    Left: L(w) with w_0 … w_N marked on it. Right: L(w_k) − L(w*) per step (log scale: a
    straight line is linear convergence). Below: the η axis, coloured by the regime that N
    steps of gradient descent from this w_0 show at each η on the slider's grid (too small /
    good / oscillating / diverging, ``classify_regime``), with 1/λ and 2/λ of the quadratic
    theory dotted; the marker is the current η. The badge names the regime of the run drawn,
    so it always matches the band under the marker. On the parabola the bands are the theory
    (GD converges iff η < 2/λ); on the double well they depend on the start.

    Args:
        lr: initial η, in [1e-3, 10]; default 0.3.
        start: initial w_0; default the loss's own start point.
        steps: N updates, integer >= 1; default 30.
        loss: one of the drop-down's entries ("parabola …" or "double well …").
        tolerance: "too small" threshold of ``classify_regime``; default 0.1.
        name: figure name (re-using a name replaces that explorer).

    Controls: ``lr``, ``start``, ``loss``. Artists: ``curve``, ``path``, ``start_point``,
    ``loss``, ``lr_marker``, ``bands`` (one cell per η of the grid), ``band_label_<i>``.
    State: ``path``, ``losses``, ``regime``, ``band_regimes`` (one per grid η).
    """
    return LearningRate1D(lr, start, steps, loss, tolerance, name).show()


def regimes_along(landscape, w0: float, lrs: np.ndarray, steps: int, tolerance: float) -> list:
    """The regime ``classify_regime`` names for N steps of gradient descent from w0, at each η.

    All the runs step together (one array of w, one per η) with ``optim.sgd_step``'s
    arithmetic, so each path is the one ``landscapes.gradient_descent`` gives for its η.
    """
    step = optim.unchecked(optim.sgd_step)
    paths = np.empty((steps + 1, len(lrs)))
    paths[0] = w = np.full(len(lrs), float(w0))
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(steps):
            w = step(w, landscape.grad_f(w), lrs)
            paths[k + 1] = w
    return [regimes.classify_regime(paths[:, i], landscape, tolerance) for i in range(len(lrs))]


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
        low, high = (math.log10(x) for x in LR_RANGE)
        self.lrs = 10 ** (low + LR_STEP * np.arange(round((high - low) / LR_STEP) + 1))
        super().__init__(name, (9.0, 5.0))
        self._draw_axes()
        self.controls.update(
            lr=log_slider(_("learning rate η"), lr, *LR_RANGE, step=LR_STEP),
            start=slider(_("start w₀"), start, *landscape.xlim, 0.05),
            loss=ipw.Dropdown(options=[(_(curve), curve) for curve in CURVES_1D], value=loss,
                              description=_("loss")))
        self.labels["regime"] = ipw.HTML()
        self.scene = {"name": None}

    def _draw_axes(self) -> None:
        grid = self.figure.add_gridspec(2, 2, height_ratios=[4, 1], hspace=0.6, wspace=0.28,
                                        left=0.08, right=0.98, top=0.86, bottom=0.14)
        self.ax_curve = self.figure.add_subplot(grid[0, 0])
        self.ax_loss = self.figure.add_subplot(grid[0, 1])
        self.ax_strip = self.figure.add_subplot(grid[1, :])
        colours, ax_curve, ax_loss = plotting.OKABE_ITO, self.ax_curve, self.ax_loss
        self.artists["curve"], = ax_curve.plot([], [], color="0.35", lw=1.5, label="L(w)")
        self.artists["path"], = ax_curve.plot([], [], color=colours["vermillion"], marker="o",
                                              ms=4, lw=1, label="w_k")
        self.artists["start_point"], = ax_curve.plot([], [], "s", color=colours["blue"], ms=8,
                                                     label=_("start w_0"))
        ax_curve.set_xlabel(_("weight w"))
        ax_curve.set_ylabel(_("loss L(w)"))
        legend_above(ax_curve, ncol=3)
        self.artists["loss"], = ax_loss.plot([], [], color=colours["vermillion"], marker="o",
                                             ms=3, lw=1)
        ax_loss.set_yscale("log")
        ax_loss.set_xlim(0, self.steps)
        ax_loss.set_xlabel(_("step k"))
        ax_loss.set_ylabel(_("L(w_k) − L(w*)  (log scale)"))
        ax_loss.set_title(_("loss per step"), fontsize=10, pad=16)
        ax_loss.grid(True, which="major", alpha=0.3)
        self._draw_strip_cells()

    def _draw_strip_cells(self) -> None:
        """One rectangle per η of the slider's grid (coloured on refresh), the marker, and a
        few labels that move to the bands wide enough to hold one."""
        ax = self.ax_strip
        half = 10 ** (LR_STEP / 2)
        edges = np.clip(np.column_stack([self.lrs / half, self.lrs * half]), *LR_RANGE)
        self.cell_edges = edges
        cells = [[(a, 0), (b, 0), (b, 1), (a, 1)] for a, b in edges]
        bands = PolyCollection(cells, transform=ax.get_xaxis_transform(), linewidths=0,
                               facecolors="white")
        self.artists["bands"] = ax.add_collection(bands, autolim=False)
        for i in range(6):
            self.artists[f"band_label_{i}"] = ax.text(1, 0.5, "", ha="center", va="center",
                                                      fontsize=8,
                                                      transform=ax.get_xaxis_transform())
        self.artists["lr_marker"] = ax.axvline(LR_RANGE[0], color="black", lw=2.5)
        ax.set_xscale("log")
        ax.set_xlim(*LR_RANGE)
        ax.set_yticks([])

    def draw_static(self, landscape) -> None:
        """Only when the loss changes: the curve, the view window, the strip's theory marks."""
        w = np.linspace(*landscape.xlim, 400)
        self.artists["curve"].set_data(w, landscape.value(w))
        self.ax_curve.set_xlim(*landscape.xlim)
        self.ax_curve.set_ylim(*landscape.ylim)
        self.ax_curve.set_title(landscape.formula, fontsize=11, pad=18)
        top = float(np.max(landscape.value(w)) - landscape.value(landscape.minimizers[0]))
        self.ax_loss.set_ylim(1e-12, 10 ** math.ceil(math.log10(top) + 2))  # fixed: no re-render
        for mark in self.scene.get("theory_marks", ()):
            mark.remove()
        lam = landscape.max_curvature
        marks = []
        for x, text, side in ((1 / lam, "1/λ", "right"), (2 / lam, "2/λ", "left")):
            if LR_RANGE[0] < x < LR_RANGE[1]:  # 2/λ is twice 1/λ: labels lean apart
                marks.append(self.ax_strip.axvline(x, color="0.3", lw=0.8, ls=":"))
                marks.append(self.ax_strip.text(x, 1.04, f" {text} = {x:.3g} ", ha=side,
                                                va="bottom", fontsize=8,
                                                transform=self.ax_strip.get_xaxis_transform()))
        where = ("½λw²" if landscape.minimizers.size == 1 else
                 _("λ = L″ = {curvature} (the steeper minimum)").format(curvature=f"{lam:.3g}"))
        self.ax_strip.set_xlabel(_("learning rate η (log scale)\nbands: the regime {steps} steps "
                                   "from this w₀ show at each η;  dotted: theory for {where}"
                                   ).format(steps=self.steps, where=where), fontsize=9)
        self.scene.update(name=self.controls["loss"].value, landscape=landscape,
                          theory_marks=marks, bands_for=None)

    def refresh(self) -> None:
        controls = self.controls
        new_scene = self.scene["name"] != controls["loss"].value
        if new_scene:
            landscape, lr = CURVES_1D[controls["loss"].value]
            landscape = landscape()
            self.draw_static(landscape)
            if self.state:  # a new loss starts from its own start point and η
                set_range(controls["start"], *landscape.xlim, value=float(landscape.start))
                set_value(controls["lr"], lr)
        landscape = self.scene["landscape"]
        eta, w0 = controls["lr"].value, controls["start"].value
        path = landscapes.gradient_descent(landscape, w0, eta, self.steps)
        with np.errstate(over="ignore", invalid="ignore"):
            values = landscape.f(path)
        self._draw_run(landscape, path, values, eta, w0)
        regime = regimes.classify_regime(path, landscape, self.tolerance)
        self._colour_strip(landscape, w0, eta, regime)
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

    def _colour_strip(self, landscape, w0, eta, regime) -> None:
        """Bands of the runs from w0 (recomputed when w0 or the loss moved); the cell under
        the marker shows the regime of the run drawn, whatever η's place in the cell."""
        if self.scene["bands_for"] != w0:
            self.scene["band_regimes"] = regimes_along(landscape, w0, self.lrs, self.steps,
                                                       self.tolerance)
            self.scene["bands_for"] = w0
        shown = list(self.scene["band_regimes"])
        cell = int(np.argmin(np.abs(np.log10(self.lrs) - math.log10(eta))))
        shown[cell] = regime
        self.artists["bands"].set_facecolors([to_rgba(REGIME_COLOURS[r], 0.3) for r in shown])
        labels = iter(self.artists[f"band_label_{i}"] for i in range(6))
        start = 0
        for end in range(1, len(shown) + 1):
            if end < len(shown) and shown[end] == shown[start]:
                continue
            left, right = self.cell_edges[start, 0], self.cell_edges[end - 1, 1]
            label = next(labels, None) if math.log10(right / left) >= LABEL_DECADES else None
            if label is not None:
                label.set_x(math.sqrt(left * right))
                label.set_text(regimes.regime_name(shown[start]))
            start = end
        for label in labels:
            label.set_text("")
        self.state["band_regimes"] = shown

    def _write_regime(self, landscape, regime, eta) -> None:
        lam = landscape.max_curvature
        where = (_("on ½λw²") if landscape.minimizers.size == 1
                 else _("near the steeper minimum, λ = L″ = {curvature}:").format(
                     curvature=f"{lam:.3g}"))
        self.labels["regime"].value = badge(regime, _(
            "η = {lr},  η·λ = {product}  ({where} converges iff η < 2/λ = {limit})").format(
            lr=f"{eta:.3g}", product=f"{eta * lam:.3g}", where=where, limit=f"{2 / lam:.3g}"))

    def rows(self):
        controls = self.controls
        return [ipw.HBox([controls["lr"], controls["start"], controls["loss"]]),
                self.labels["regime"]]
