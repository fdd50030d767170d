"""Shared figures: a landscape's contours with optimizer paths, loss curves, a 1-D descent.

Every helper draws on the ``ax`` you pass (or on a new figure when ``ax`` is None), gives the
axes a title, axis labels and a legend where lines differ, and returns the artists so a widget
can move them with ``update`` (``set_data`` underneath) instead of redrawing everything.
Helpers never call ``plt.show()`` and keep no state between calls.

Colours are the Okabe–Ito palette (safe for the common colour-vision deficiencies), and the
lines in ``STYLES`` also differ in dash pattern and marker, so they stay apart in grey print.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable, Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from course_utils import arguments
from course_utils.i18n import _
from course_utils.landscapes import Landscape

__all__ = [
    "OKABE_ITO",
    "STYLES",
    "style",
    "log_levels",
    "PathPlot",
    "CurvePlot",
    "contour_with_paths",
    "loss_curves",
    "curve_with_path_1d",
]

OKABE_ITO = MappingProxyType({
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
})

# Yellow is left out: too faint on white. Use as ax.plot(x, y, **STYLES[i]).
STYLES = tuple(MappingProxyType(s) for s in (
    {"color": OKABE_ITO["blue"], "linestyle": "-", "marker": "o"},
    {"color": OKABE_ITO["vermillion"], "linestyle": "--", "marker": "s"},
    {"color": OKABE_ITO["bluish_green"], "linestyle": "-.", "marker": "^"},
    {"color": OKABE_ITO["orange"], "linestyle": ":", "marker": "D"},
    {"color": OKABE_ITO["reddish_purple"], "linestyle": (0, (5, 1)), "marker": "v"},
    {"color": OKABE_ITO["sky_blue"], "linestyle": (0, (3, 1, 1, 1, 1, 1)), "marker": "P"},
    {"color": OKABE_ITO["black"], "linestyle": (0, (1, 1)), "marker": "X"},
))


def style(i: int) -> dict:
    """The i-th line style (colour, dash pattern, marker), cycling through ``STYLES``."""
    i = arguments.integer(i, "i", minimum=0)
    return dict(STYLES[i % len(STYLES)])


def _axes(ax, figsize=(6.0, 4.5)) -> Axes:
    if ax is None:
        return plt.subplots(figsize=figsize)[1]
    if not isinstance(ax, Axes):
        raise TypeError(_("ax must be a matplotlib Axes or None, got {kind}").format(
            kind=type(ax).__name__))
    return ax


def _plottable(values: np.ndarray) -> np.ndarray:
    # A diverged run holds inf; NaN makes matplotlib end the line there instead of failing.
    return np.where(np.isfinite(values), values, np.nan)


def _labelled(data, name: str) -> dict:
    if not isinstance(data, Mapping):
        raise TypeError(_("{name} must be a dict mapping a label to its data, got {kind}").format(
            name=name, kind=type(data).__name__))
    for label in data:
        if not isinstance(label, str):
            raise TypeError(_("{name} labels must be strings, got {got}").format(name=name,
                                                                                  got=repr(label)))
    return dict(data)


@dataclass(frozen=True, eq=False)
class PathPlot:
    """Artists of a trajectory plot: move a path with ``update(label, path)``.

    Attributes:
        ax: the Axes drawn on.
        lines: label -> the Line2D of that path.
        starts: label -> the Line2D marking that path's start point.
        to_xy: how a path becomes (x, y) on this plot.
    """

    ax: Axes
    lines: dict[str, Line2D]
    starts: dict[str, Line2D]
    to_xy: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]

    def update(self, label: str, path) -> None:
        """Show a new trajectory for ``label`` (same shape convention as when plotted)."""
        if label not in self.lines:
            raise KeyError(_("label must be one of {choices}, got {got}").format(
                choices=list(self.lines), got=repr(label)))
        x, y = self.to_xy(arguments.as_array(path, "path", finite=False))
        self.lines[label].set_data(x, y)
        self.starts[label].set_data(x[:1], y[:1])


@dataclass(frozen=True, eq=False)
class CurvePlot:
    """Artists of a loss-curve plot: replace a curve with ``update(label, curve)``."""

    ax: Axes
    lines: dict[str, Line2D]

    def update(self, label: str, curve, rescale: bool = True) -> None:
        """Show new values for ``label``; ``rescale`` refits the axis limits to the data."""
        if label not in self.lines:
            raise KeyError(_("label must be one of {choices}, got {got}").format(
                choices=list(self.lines), got=repr(label)))
        x, y = _curve_xy(curve, f"curve {label!r}")
        self.lines[label].set_data(x, y)
        if rescale:
            self.ax.relim()
            self.ax.autoscale_view()


def log_levels(landscape: Landscape, F: np.ndarray, n_levels: int = 20) -> np.ndarray:
    """Contour levels for ``F`` (values of ``landscape`` on a grid), evenly spaced in
    log(f − f_min): dense near the minimum, where paths end; even levels when f is unbounded
    below (no minimiser)."""
    if len(landscape.minimizers) == 0:  # unbounded below (a saddle): plain even levels
        return np.linspace(np.nanmin(F), np.nanmax(F), n_levels)
    f_min = float(np.min(landscape.value(landscape.minimizers)))
    span = float(np.nanmax(F)) - f_min
    return f_min + np.geomspace(span * 1e-4, span, n_levels)


def contour_with_paths(landscape: Landscape, paths: Mapping[str, np.ndarray] | None = None,
                       ax: Axes | None = None, levels=None, n_levels: int = 20,
                       title: str | None = None, n_grid: int = 200,
                       legend_loc: str = "upper right") -> PathPlot:
    """Contours of a 2-D landscape with optimizer trajectories drawn on top.

    Args:
        landscape: a 2-D ``Landscape`` (its window, minimiser and name are used).
        paths: label -> trajectory of shape (n, 2), e.g. from ``run_optimizer``; may be empty.
        ax: Axes to draw on; None creates a new figure.
        levels: contour levels; default ``n_levels`` log-spaced above the minimum value.
        n_levels: number of default levels; default 20.
        title: default "<landscape name>: <formula>".
        n_grid: grid points per axis for the contours; default 200.
        legend_loc: legend position (fixed: "best" is recomputed at every widget redraw).

    Returns:
        ``PathPlot`` with ``.ax``, ``.lines[label]``, ``.starts[label]`` and ``.update``.
    """
    if not isinstance(landscape, Landscape) or landscape.dim != 2:
        raise TypeError(_("landscape must be a 2-D Landscape (e.g. rosenbrock()), got {got}"
                          ).format(got=getattr(landscape, "name", type(landscape).__name__)))
    paths = _labelled(paths or {}, "paths")
    arrays = {}
    for label, path in paths.items():
        arr = arguments.as_array(path, f"paths[{label!r}]", ndim=2, finite=False)
        if arr.shape[1] != 2 or len(arr) == 0:
            raise ValueError(_("{name} must have shape (n, 2) with n >= 1, got {shape}").format(
                name=f"paths[{label!r}]", shape=arr.shape))
        arrays[label] = arr
    n_levels = arguments.integer(n_levels, "n_levels", minimum=2)
    ax = _axes(ax)

    W1, W2, F = landscape.grid(n_grid)
    if levels is None:
        levels = log_levels(landscape, F, n_levels)
    ax.contour(W1, W2, F, levels=levels, cmap="viridis", linewidths=0.8)
    if len(landscape.minimizers):
        m = landscape.minimizers
        ax.plot(m[:, 0], m[:, 1], linestyle="none", marker="*", markersize=15,
                color=OKABE_ITO["black"], label=_("minimum") if len(m) == 1 else _("minima"))

    def to_xy(path):
        return _plottable(path[:, 0]), _plottable(path[:, 1])

    lines, starts = {}, {}
    for i, (label, path) in enumerate(arrays.items()):
        x, y = to_xy(path)
        lines[label], = ax.plot(x, y, **style(i), markersize=3.5, linewidth=1.6, label=label)
        starts[label], = ax.plot(x[:1], y[:1], linestyle="none", marker="o", markersize=10,
                                 markerfacecolor="none", markeredgewidth=1.8,
                                 color=OKABE_ITO["black"], label=_("start") if i == 0 else "_nolegend_")
    ax.set_xlim(landscape.xlim)
    ax.set_ylim(landscape.ylim)
    ax.set_xlabel(r"$w_1$")
    ax.set_ylabel(r"$w_2$")
    ax.set_title(title if title is not None else f"{landscape.name}: {landscape.formula}")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc=legend_loc, fontsize="small")
    return PathPlot(ax, lines, starts, to_xy)


def _curve_xy(curve, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A curve is values y of shape (n,) (x = 0 … n−1) or a pair (x, y) of equal length."""
    if isinstance(curve, tuple) and len(curve) == 2:
        x = arguments.as_array(curve[0], f"{name} x", ndim=1)
        y = arguments.as_array(curve[1], f"{name} y", ndim=1, finite=False)
        if x.shape != y.shape:
            raise ValueError(_("{name} must have x and y of equal length, got {x} and {y}").format(
                name=name, x=len(x), y=len(y)))
        return x, _plottable(y)
    y = arguments.as_array(curve, name, ndim=1, finite=False)
    return np.arange(len(y)), _plottable(y)


def loss_curves(curves: Mapping[str, np.ndarray], ax: Axes | None = None, log: bool = True,
                xlabel: str | None = None, ylabel: str | None = None, title: str | None = None,
                legend_loc: str = "upper right") -> CurvePlot:
    """Loss (or any quantity) against step, one styled line per label.

    Args:
        curves: label -> values of shape (n,) (plotted at x = 0 … n−1) or a pair (x, y),
            e.g. ``(updates / updates_per_epoch, losses)`` to plot against epochs.
        ax: Axes to draw on; None creates a new figure.
        log: logarithmic y axis (losses shrink geometrically); default True.
        xlabel, ylabel, title: axis labels and title; default "step", "loss", "Loss per step"
            (in the notebook's language).
        legend_loc: legend position, shown when there is more than one curve.

    Returns:
        ``CurvePlot`` with ``.ax``, ``.lines[label]`` and ``.update(label, curve)``.
    """
    curves = _labelled(curves, "curves")
    if not curves:
        raise ValueError(_("curves must hold at least one labelled curve, got an empty dict"))
    # Check every curve before drawing, so bad input leaves no half-made figure behind.
    data = {label: _curve_xy(curve, f"curves[{label!r}]") for label, curve in curves.items()}
    ax = _axes(ax)
    lines = {}
    for i, (label, (x, y)) in enumerate(data.items()):
        lines[label], = ax.plot(x, y, **style(i), markevery=max(1, len(x) // 10), markersize=5,
                                linewidth=1.6, label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(_("step") if xlabel is None else xlabel)
    ax.set_ylabel(_("loss") if ylabel is None else ylabel)
    ax.set_title(_("Loss per step") if title is None else title)
    if len(lines) > 1:
        ax.legend(loc=legend_loc, fontsize="small")
    return CurvePlot(ax, lines)


def _window_1d(window, landscape, arrays) -> tuple[float, float]:
    """(low, high) to draw: ``window``, else the landscape's, else the paths' range plus a margin."""
    if window is None:
        if landscape is not None:
            window = landscape.xlim
        else:
            finite = np.concatenate([a[np.isfinite(a)] for a in arrays.values()] + [np.zeros(0)])
            if finite.size == 0:
                raise ValueError(_("window is needed when f is a plain function and the path "
                                   "has no finite points"))
            lo, hi = float(finite.min()), float(finite.max())
            margin = 0.2 * (hi - lo) + 0.5
            window = (lo - margin, hi + margin)
    lo, hi = (float(arguments.as_array(v, "window", ndim=0)) for v in window)
    if not lo < hi:
        raise ValueError(_("window must be (low, high) with low < high, got {got}").format(
            got=window))
    return lo, hi


def _loss_1d(f):
    """(the 1-D landscape or None, the function L(w)) of ``curve_with_path_1d``'s ``f``."""
    landscape = f if isinstance(f, Landscape) else None
    if landscape is not None and landscape.dim != 1:
        raise ValueError(_("f must be a 1-D loss; {landscape} has dim={dim} (use "
                           "contour_with_paths)").format(landscape=landscape.name,
                                                         dim=landscape.dim))
    if landscape is None and not callable(f):
        raise TypeError(_("f must be a 1-D Landscape or a function of w, got {kind}").format(
            kind=type(f).__name__))
    return landscape, (landscape.value if landscape is not None else f)


def curve_with_path_1d(f, path, ax: Axes | None = None, window: tuple[float, float] | None = None,
                       title: str | None = None, n_grid: int = 400,
                       legend_loc: str = "upper right") -> PathPlot:
    """A 1-D loss curve L(w) with gradient-descent iterates w_0, w_1, … drawn on it.

    Args:
        f: a 1-D ``Landscape`` (e.g. ``double_well()``) or a function L(w) vectorised over w.
        path: iterates of shape (n,), or a dict label -> iterates for several runs.
        ax: Axes to draw on; None creates a new figure.
        window: (w_low, w_high) to draw; default the landscape's window, or the path's range.
        title: default the landscape's name and formula, or "Gradient descent on L(w)".
        n_grid: points on the curve; default 400.
        legend_loc: legend position.

    Returns:
        ``PathPlot``; ``update(label, path)`` moves a run (the label is "path" when ``path``
        was a single array).
    """
    landscape, loss = _loss_1d(f)
    runs = _labelled(path, "path") if isinstance(path, Mapping) else {"path": path}
    arrays = {label: arguments.as_array(p, "path" if label == "path" else f"path[{label!r}]",
                                    ndim=1, finite=False) for label, p in runs.items()}
    lo, hi = _window_1d(window, landscape, arrays)
    ax = _axes(ax)

    grid = np.linspace(lo, hi, arguments.integer(n_grid, "n_grid", minimum=2))
    ax.plot(grid, loss(grid), color=OKABE_ITO["black"], linewidth=1.5, label=r"$L(w)$")
    if landscape is not None and len(landscape.minimizers):
        m = landscape.minimizers
        ax.plot(m, landscape.value(m), linestyle="none", marker="*", markersize=14,
                color=OKABE_ITO["black"], label=_("minimum") if len(m) == 1 else _("minima"))

    def to_xy(p):
        with np.errstate(over="ignore", invalid="ignore"):
            return _plottable(p), _plottable(np.asarray(loss(p), dtype=np.float64))

    lines, starts = {}, {}
    for i, (label, p) in enumerate(arrays.items()):
        x, y = to_xy(p)
        lines[label], = ax.plot(x, y, **style(i), markersize=5, linewidth=1.2, alpha=0.9,
                                label=_("gradient descent") if label == "path" else label)
        starts[label], = ax.plot(x[:1], y[:1], linestyle="none", marker="o", markersize=11,
                                 markerfacecolor="none", markeredgewidth=1.8,
                                 color=style(i)["color"], label=_("start") if i == 0 else "_nolegend_")
    ax.set_xlim(lo, hi)
    if landscape is not None:
        ax.set_ylim(landscape.ylim)
    ax.set_xlabel(r"$w$")
    ax.set_ylabel(r"$L(w)$")
    default_title = (f"{landscape.name}: {landscape.formula}" if landscape is not None
                     else _("Gradient descent on L(w)"))
    ax.set_title(title if title is not None else default_title)
    ax.legend(loc=legend_loc, fontsize="small")
    return PathPlot(ax, lines, starts, to_xy)
