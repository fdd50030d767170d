"""Live explorers: drag a slider, watch gradient descent change (notebooks 01–09).

Each explorer is one function that builds an :class:`Explorer` — the widget box, the figure,
its artists and controls — and shows itself when it is the last expression of a cell::

    from course_utils import widgets
    widgets.learning_rate_explorer_1d()

=================================  ==========  ================================================
explorer                           notebooks   controls
=================================  ==========  ================================================
``learning_rate_explorer_1d()``    01          η (log), start w0, loss (parabola / double well)
``learning_rate_explorer_2d()``    02          η (log), start (sliders or a click)
``batch_size_explorer()``          03          batch size B, η, shuffle
``softmax_explorer()``             04          logits z₁ z₂ z₃, true class, temperature T
``backprop_explorer()``            05          depth, activation, initial weight scale g
``optimizer_race()``               06, 07      landscape, η (SGD family / adaptive), β, α, β1,
                                               β2, start (sliders or a click), show/hide,
                                               step-by-step playback, arrows
``schedule_explorer()``            08          schedule, lr0, warmup steps
``training_explorer()``            09          optimizer, η₀, batch size, schedule, warmup,
                                               hidden units (retrains on release)
=================================  ==========  ================================================

Every number comes from the reference code — the update rules of ``course_utils.optim``, the
landscapes of ``course_utils.landscapes``, ``losses``, ``nn``, ``schedules``; a student's own
rule can join the optimizer race (``optimizer_race(your_rules={"adam": adam_step})``).

How they stay fast and clean:

- The static parts (curves, contours, axes, legends, regime bands) are drawn once and cached;
  a control change recomputes the numbers, calls ``set_data`` on the existing artists and
  redraws only those over the cached background (blitting). Axes limits are fixed per scene
  so that a slider move never re-renders the static parts.
- In a Jupyter kernel with ipympl installed, the explorer's figure gets an ipympl canvas of its
  own: a live figure without ``%matplotlib widget``, so the notebook's backend — and every
  other figure of the notebook — stays inline. Re-running the cell replaces the explorer of
  that name (closing the old one's widgets) instead of piling up canvases. Elsewhere (Colab,
  scripts, tests) the figure is shown as a PNG in an ``Image`` widget: same controls, same
  numbers.
- An error in a callback (e.g. a student's rule raising) is printed in the explorer's
  ``Output`` area, not lost in the kernel log.

``measure_update_latency(explorer)`` times slider change → figure rendered, for the benchmark;
``python -m course_utils.widgets`` prints it for every explorer (set
``MPLBACKEND=module://ipympl.backend_nbagg`` to measure the ipympl path outside a kernel).
"""
from __future__ import annotations

import contextlib
import importlib.util
import io
import math
import sys
import time
import traceback
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import ipywidgets as ipw
import matplotlib
import numpy as np
from matplotlib.figure import Figure

from course_utils import _validate as check
from course_utils import data, landscapes, losses, nn, optim, plotting, schedules

__all__ = [
    "Explorer",
    "REGIMES",
    "classify_regime",
    "quadratic_regime",
    "learning_rate_explorer_1d",
    "learning_rate_explorer_2d",
    "batch_size_explorer",
    "softmax_explorer",
    "backprop_explorer",
    "optimizer_race",
    "schedule_explorer",
    "training_explorer",
    "measure_update_latency",
]

REGIMES = ("too small", "good", "oscillating", "diverging")
_REGIME_COLOURS = {  # Okabe–Ito: blue, bluish green, orange, vermillion
    "too small": "#0072B2", "good": "#009E73", "oscillating": "#E69F00", "diverging": "#D55E00",
}
# Points this far out are off every view window: drawn as gaps, so Agg never strokes 1e200.
_FAR = 1e6


# ---------------------------------------------------------------- the explorer object

@dataclass(eq=False)
class Explorer:
    """A live figure with its controls.

    Attributes:
        name: the figure's name; building another explorer with this name replaces this one.
        box: the ipywidgets container to display (an Explorer displays as its box).
        figure: the matplotlib Figure.
        artists: the artists that change, by name (``artists["path"].get_data()`` …).
        controls: the widgets that drive it, by name (``controls["lr"].value = 0.5``).
        labels: the text widgets it writes, by name (``labels["regime"].value``).
        output: where callback errors (and messages such as "your Adam raised …") appear.
        state: the latest computed numbers (paths, losses, the regime label …).
        refresh: recompute from the controls and redraw; raises on error (for tests).
        primary: the name of the control ``measure_update_latency`` moves by default.
        live: True when the figure is an ipympl canvas, False when it is shown as a PNG.
    """

    name: str
    box: ipw.Box
    figure: Figure
    artists: dict[str, Any]
    controls: dict[str, ipw.Widget]
    labels: dict[str, ipw.Widget]
    output: ipw.Output
    refresh: Callable[[], None]
    state: dict[str, Any] = field(default_factory=dict)
    primary: str = "lr"
    live: bool = False
    _busy: bool = field(default=False, repr=False)

    def update(self) -> None:
        """What a control change runs: ``refresh``, with any error printed in ``output``.

        Value changes that ``refresh`` itself makes (e.g. a new landscape resets the start
        sliders) do not start a second, nested refresh.
        """
        if self._busy:
            return
        self._busy = True
        try:
            if self.output.outputs:
                self.output.outputs = ()
            self.refresh()
        except Exception:  # noqa: BLE001 - shown to the student, who can act on it
            self.output.append_stderr(traceback.format_exc())
        finally:
            self._busy = False

    @contextlib.contextmanager
    def paused(self):
        """Change several controls at once; call ``update()`` once afterwards."""
        busy, self._busy = self._busy, True
        try:
            yield self
        finally:
            self._busy = busy

    def close(self) -> None:
        """Close the widgets, the canvas and its toolbar (frees the kernel-side objects)."""
        _close_tree(self.box)
        toolbar = getattr(self.figure.canvas, "toolbar", None)
        if isinstance(toolbar, ipw.Widget):
            toolbar.close()
        if _LIVE_FIGURES.get(self.name) is self.figure:
            del _LIVE_FIGURES[self.name]

    def _repr_mimebundle_(self, **kwargs):
        return self.box._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        return f"Explorer({self.name!r}, controls={sorted(self.controls)})"


def _close_tree(widget: ipw.Widget) -> None:
    for child in getattr(widget, "children", ()):
        _close_tree(child)
    widget.close()


# Which live figure holds which explorer name, so that re-running a cell replaces the explorer
# it built before (closing its widgets) instead of leaving a second live canvas in the kernel.
# The only module state; it changes nothing a computation returns.
_LIVE_FIGURES: dict[str, Figure] = {}


def _ipympl_active() -> bool:
    backend = matplotlib.get_backend().lower()
    return "ipympl" in backend or backend == "widget"


def _kernel_shows_ipympl() -> bool:
    """True in a Jupyter kernel whose frontend can show an ipympl canvas (not Colab's)."""
    if "google.colab" in sys.modules or importlib.util.find_spec("ipympl") is None:
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return getattr(get_ipython(), "kernel", None) is not None


def _live_possible() -> bool:
    return _ipympl_active() or _kernel_shows_ipympl()


def _ipympl_canvas_classes():
    """ipympl's ``Canvas`` and ``FigureManager``, imported without changing the backend.

    ``import ipympl`` runs ``matplotlib.use("module://ipympl.backend_nbagg")`` when matplotlib
    is already imported (ipympl 0.10): every later figure of the notebook would become a
    widget. The backend in force before the import is put back (once per kernel: later imports
    are cached and change nothing).
    """
    before = dict.__getitem__(matplotlib.rcParams, "backend")  # raw: may be "not chosen yet"
    from ipympl.backend_nbagg import Canvas, FigureManager

    if dict.__getitem__(matplotlib.rcParams, "backend") != before:
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None and isinstance(before, str):
            pyplot.switch_backend(before)  # pyplot also caches the backend module
        else:
            dict.__setitem__(matplotlib.rcParams, "backend", before)
            dict.__setitem__(matplotlib.rcParamsDefault, "backend", before)
    return Canvas, FigureManager


class _Stage:
    """A figure drawn once, whose changing artists are redrawn on top of a cached background.

    All artists in ``artists`` are "animated": a full draw (``render(full=True)``, or any
    redraw the frontend asks for) renders the static parts, caches those pixels and then
    draws the artists over them. ``render()`` restores the cache and redraws only the
    artists — blitting — so a slider move costs a few line draws instead of re-rendering
    every contour, tick and label. Call ``render(full=True)`` after changing anything static
    (axes limits, contours, titles).

    Live (a Jupyter kernel with ipympl, or the ipympl backend): the figure gets an ipympl
    canvas of its own — outside pyplot, so the notebook's backend (``%matplotlib inline``)
    stays as it is for every other figure, and no ``%matplotlib widget`` is needed. An older
    explorer of the same name is closed first, so re-running a cell never piles canvases up;
    ``canvas.blit`` ships the changed pixels to the browser. Otherwise (Colab, scripts,
    tests): the figure is shown as a PNG in an ``Image`` widget.
    """

    def __init__(self, name: str, figsize: tuple[float, float]):
        self.live = _live_possible()
        self.artists: dict[str, Any] = {}
        self._background = None
        self.figure = Figure(figsize=figsize, dpi=100)
        if self.live:
            Canvas, FigureManager = _ipympl_canvas_classes()
            previous = _LIVE_FIGURES.pop(name, None)
            close_previous = getattr(previous, "_close_explorer", None)
            if close_previous is not None:
                close_previous()
            canvas = Canvas(self.figure)
            with warnings.catch_warnings():  # ipympl 0.10's Toolbar trips a traitlets warning
                warnings.simplefilter("ignore", DeprecationWarning)
                FigureManager(canvas, 0)  # answers the page's resize / refresh / dpi messages
            canvas.header_visible = False
            canvas.footer_visible = False
            canvas.resizable = False
            canvas.toolbar_visible = False  # pan/zoom would fight the fixed, blitted axes
            _LIVE_FIGURES[name] = self.figure
            self.view = canvas
        else:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            FigureCanvasAgg(self.figure)
            self.view = ipw.Image(format="png",
                                  layout=ipw.Layout(max_width=f"{figsize[0] * 100:.0f}px"))
        self.figure.canvas.mpl_connect("draw_event", self._on_full_draw)

    def _on_full_draw(self, event) -> None:
        canvas = self.figure.canvas
        self._background = (canvas.copy_from_bbox(self.figure.bbox),
                            (event.renderer.width, event.renderer.height))
        self._draw_artists()

    def _draw_artists(self) -> None:
        for artist in self.artists.values():
            if artist.get_visible():  # a hidden quiver would still build its arrows
                self.figure.draw_artist(artist)

    def render(self, full: bool = False) -> None:
        canvas = self.figure.canvas
        for artist in self.artists.values():
            artist.set_animated(True)
        if self.live and getattr(canvas, "syncing_data_url", False):
            # No page has shown the canvas yet. A frame drawn now would be stored as the
            # widget's data URL, which ipympl 0.10 writes without its "data:image/png;base64,"
            # prefix: the page then fails to show the figure at all. The page asks for its
            # first frame when it connects; that draw caches the background.
            return
        renderer = canvas.get_renderer()
        stale = self._background is None or self._background[1] != (renderer.width, renderer.height)
        if full or stale:
            canvas.draw()  # fires draw_event: cache the background, draw the artists
        else:
            canvas.restore_region(self._background[0])
            self._draw_artists()
            if self.live:
                canvas.blit(self.figure.bbox)
        if not self.live:
            self.view.value = self.png()

    def png(self) -> bytes:
        """The figure's current pixels as PNG bytes (what the Image widget shows)."""
        from PIL import Image
        pixels = np.asarray(self.figure.canvas.buffer_rgba())
        with io.BytesIO() as buffer:
            Image.fromarray(np.ascontiguousarray(pixels[..., :3])).save(
                buffer, format="png", compress_level=3)
            return buffer.getvalue()


def _assemble(name, stage, artists, controls, labels, layout, refresh, output,
              state, primary="lr") -> Explorer:
    """Wire every control to the explorer's guarded update, draw it once, return it."""
    stage.artists = artists
    explorer = Explorer(name=name, box=ipw.VBox([*layout, stage.view, output]),
                        figure=stage.figure, artists=artists, controls=controls, labels=labels,
                        output=output, refresh=refresh, state=state, primary=primary,
                        live=stage.live)
    for widget in controls.values():
        if not isinstance(widget, ipw.Play):  # Play drives the step slider in the browser
            widget.observe(lambda change: explorer.update(), names="value")
    stage.figure._close_explorer = explorer.close
    explorer.update()
    return explorer


def _log_slider(description, value, low, high, step=0.05) -> ipw.FloatLogSlider:
    """A log-scale slider over [low, high] whose readout can be typed into.

    The start value is snapped to the slider's grid (10^(min + k·step)), as the browser's
    slider would snap it on first display: kernel and page then agree from the start.
    """
    exponent = math.log10(low) + round((math.log10(value) - math.log10(low)) / step) * step
    return ipw.FloatLogSlider(
        value=10 ** exponent, base=10, min=math.log10(low), max=math.log10(high), step=step,
        description=description, readout_format=".3g", continuous_update=True,
        style={"description_width": "initial"}, layout=ipw.Layout(width="340px"))


def _slider(description, value, low, high, step) -> ipw.FloatSlider:
    return ipw.FloatSlider(value=value, min=low, max=high, step=step, description=description,
                           readout_format=".2f", continuous_update=True,
                           style={"description_width": "initial"},
                           layout=ipw.Layout(width="300px"))


def _set_range(slider, low, high) -> None:
    """Move a slider's range; widen first so that min <= max holds at every step."""
    slider.min, slider.max = min(low, slider.min), max(high, slider.max)
    slider.min, slider.max = low, high


def _for_drawing(points: np.ndarray) -> np.ndarray:
    """inf and far-away points become NaN: matplotlib draws them as gaps."""
    points = np.array(points, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        points[~np.isfinite(points) | (np.abs(points) > _FAR)] = np.nan
    return points


def _gap(values: np.ndarray, floor: float = 1e-16) -> np.ndarray:
    """Loss above the minimum for a log axis: floored, with NaN where the run blew up."""
    values = _for_drawing(values)
    with np.errstate(invalid="ignore"):
        return np.where(np.isnan(values), np.nan, np.maximum(values, floor))


def _badge(regime: str, detail: str) -> str:
    colour = _REGIME_COLOURS[regime]
    return (f"<span class='descent-regime' style='background:{colour};color:white;padding:2px 8px;"
            f"border-radius:4px;font-weight:bold'>{regime}</span>&nbsp; {detail}")


# ---------------------------------------------------------------- regimes

def quadratic_regime(lr, max_curvature, min_curvature=None, steps: int = 30,
                     tolerance: float = 0.1) -> str:
    """The learning-rate regime of gradient descent on a quadratic, from theory.

    On L(w) = ½ wᵀAw each step multiplies the component along an eigenvector of A (eigenvalue
    λ) by (1 − ηλ). With λ_max and λ_min the extreme eigenvalues:

        "diverging"    η λ_max > 2                     (|1 − ηλ_max| > 1)
        "oscillating"  1 < η λ_max ≤ 2                 (the steepest component flips sign)
        "too small"    (1 − η λ_min)^steps > tolerance (after ``steps`` steps the slowest
                                                       component has not shrunk by 1/tolerance)
        "good"         otherwise

    Args:
        lr: η > 0.
        max_curvature: λ_max > 0.
        min_curvature: λ_min in (0, λ_max]; default λ_max (a 1-D parabola).
        steps: N, integer >= 1; default 30.
        tolerance: in (0, 1); default 0.1.

    Returns one of ``REGIMES``. Agrees with ``classify_regime`` on a 1-D parabola.
    """
    lr = check.positive(lr, "lr")
    lam_max = check.positive(max_curvature, "max_curvature")
    lam_min = lam_max if min_curvature is None else check.positive(min_curvature, "min_curvature")
    if lam_min > lam_max:
        raise ValueError(f"min_curvature must be <= max_curvature, got {lam_min} > {lam_max}")
    steps = check.integer(steps, "steps", minimum=1)
    tolerance = _tolerance(tolerance)
    if lr * lam_max > 2:
        return "diverging"
    if lr * lam_max > 1:
        return "oscillating"
    if (1 - lr * lam_min) ** steps > tolerance:
        return "too small"
    return "good"


def _regime_edges(max_curvature, min_curvature, steps, tolerance):
    """η where the regimes of ``quadratic_regime`` change: too small | good | osc. | diverging."""
    too_small_below = (1 - tolerance ** (1 / steps)) / min_curvature
    return too_small_below, 1 / max_curvature, 2 / max_curvature


def _tolerance(tolerance) -> float:
    tolerance = check.positive(tolerance, "tolerance")
    if tolerance >= 1:
        raise ValueError(f"tolerance must be in (0, 1), got {tolerance}")
    return tolerance


def classify_regime(path, landscape: landscapes.Landscape, tolerance: float = 0.1) -> str:
    """Name the learning-rate regime a gradient-descent path shows, from the path alone.

    With w_0 … w_N the path and Δ_k = w_{k+1} − w_k the steps:

        "diverging"    the run blew up (inf/NaN) or ended higher than it started, L(w_N) > L(w_0)
        "oscillating"  most consecutive steps point against each other, Δ_k · Δ_{k+1} < 0
        "too small"    still far from a stationary point: ‖∇L(w_N)‖ > tolerance · ‖∇L(w_0)‖
        "good"         otherwise

    Args:
        path: (N + 1,) for a 1-D loss or (N + 1, d), N >= 1 — e.g. ``landscapes.run_optimizer``.
        landscape: the ``Landscape`` the path descends.
        tolerance: in (0, 1); default 0.1.

    Returns one of ``REGIMES``. Works on any landscape; on a quadratic it agrees with the
    theory of ``quadratic_regime`` in 1-D.
    """
    if not isinstance(landscape, landscapes.Landscape):
        raise TypeError(f"landscape must be a Landscape, got {type(landscape).__name__}")
    path = check.as_array(path, "path", ndim=(1, 2), finite=False)
    if path.shape[0] < 2:
        raise ValueError(f"path must hold at least 2 points (w_0 and w_1), got shape {path.shape}")
    tolerance = _tolerance(tolerance)
    points = path.reshape(path.shape[0], -1)
    if not np.all(np.isfinite(points)):
        return "diverging"
    first, last = (p.reshape(path.shape[1:]) for p in (points[0], points[-1]))
    with np.errstate(over="ignore", invalid="ignore"):
        loss_first, loss_last = landscape.value(first), landscape.value(last)
        if not np.isfinite(loss_last) or loss_last > loss_first + 1e-12 * max(1.0, abs(loss_first)):
            return "diverging"
        deltas = np.diff(points, axis=0)
        lengths = np.linalg.norm(deltas, axis=1)
        # Steps that vanished (converged to the last bit) say nothing about direction.
        moving = (lengths[:-1] > 1e-12) & (lengths[1:] > 1e-12)
        turns = np.sum(deltas[:-1] * deltas[1:], axis=1) < 0
        if moving.any() and turns[moving].mean() >= 0.5:
            return "oscillating"
        grad_first = np.linalg.norm(landscape.grad(first))
        grad_last = np.linalg.norm(landscape.grad(last))
    if grad_first > 0 and grad_last > tolerance * grad_first:
        return "too small"
    return "good"


def _draw_regime_strip(ax, edges, lr_range, note, curvature="λ"):
    """The η axis with the regime bands of a quadratic: drawn once, a marker moves on it."""
    low, high = lr_range
    bounds = [low, *edges, high]
    for regime, left, right in zip(REGIMES, bounds[:-1], bounds[1:]):
        left, right = max(left, low), min(right, high)
        if right <= left:
            continue
        ax.axvspan(left, right, color=_REGIME_COLOURS[regime], alpha=0.25, lw=0)
        ax.text(math.sqrt(left * right), 0.5, regime, ha="center", va="center", fontsize=8,
                transform=ax.get_xaxis_transform())
    for x, text, side in zip(edges[1:], (f"1/{curvature}", f"2/{curvature}"), ("right", "left")):
        if low < x < high:  # 2/λ is always twice 1/λ: labels lean apart, not on each other
            ax.axvline(x, color="0.3", lw=0.8, ls=":")
            ax.text(x, 1.02, f" {text} = {x:.3g} ", ha=side, va="bottom", fontsize=8,
                    transform=ax.get_xaxis_transform())
    ax.set_xscale("log")
    ax.set_xlim(low, high)
    ax.set_yticks([])
    ax.set_xlabel(f"learning rate η (log scale) — {note}")
    return ax.axvline(low, color="black", lw=2.5)


def _sgd_path(landscape, start, lr, steps):
    """Gradient descent with the reference rule: w ← w − η ∇L(w)."""
    sgd = optim.sgd_step.__wrapped__  # the rule's math; arguments are checked once, here
    return landscapes.run_optimizer(lambda w: sgd(w, landscape.grad_f(w), lr), start, steps)


# ---------------------------------------------------------------- 01: learning rate in 1-D

# name -> (landscape, the η it starts with when picked from the drop-down)
_CURVES_1D = {
    "parabola  L = ½λw²": (lambda: landscapes.parabola(curvature=1.0), 0.3),
    "double well (non-convex)": (lambda: landscapes.double_well(), 0.05),
}


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
    lr = check.positive(lr, "lr")
    steps = check.integer(steps, "steps", minimum=1)
    tolerance = _tolerance(tolerance)
    if loss not in _CURVES_1D:
        raise ValueError(f"loss must be one of {list(_CURVES_1D)}, got {loss!r}")
    lr_range = (1e-3, 10.0)
    landscape = _CURVES_1D[loss][0]()
    if start is None:
        start = float(landscape.start)
    start = float(check.as_array(start, "start", ndim=0))

    stage = _Stage(name, (9.5, 5.2))
    fig = stage.figure
    grid = fig.add_gridspec(2, 2, height_ratios=[4, 1], hspace=0.55, wspace=0.25,
                            left=0.07, right=0.98, top=0.92, bottom=0.12)
    ax_curve, ax_loss = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
    ax_strip = fig.add_subplot(grid[1, :])
    colours = plotting.OKABE_ITO
    curve, = ax_curve.plot([], [], color="0.35", lw=1.5, label="L(w)")
    path_line, = ax_curve.plot([], [], color=colours["vermillion"], marker="o", ms=4, lw=1,
                               label="w_k")
    start_point, = ax_curve.plot([], [], "s", color=colours["blue"], ms=8, label="start w_0")
    ax_curve.set_xlabel("weight w")
    ax_curve.set_ylabel("loss L(w)")
    ax_curve.legend(loc="upper center", fontsize=8, ncol=3)
    loss_line, = ax_loss.plot([], [], color=colours["vermillion"], marker="o", ms=3, lw=1)
    ax_loss.set_yscale("log")
    ax_loss.set_xlim(0, steps)
    ax_loss.set_xlabel("step k")
    ax_loss.set_ylabel("L(w_k) − L(w*)  (log scale)")
    ax_loss.set_title("loss per step", fontsize=10)
    ax_loss.grid(True, which="major", alpha=0.3)

    controls = {
        "lr": _log_slider("learning rate η", lr, *lr_range),
        "start": _slider("start w₀", start, *landscape.xlim, 0.05),
        "loss": ipw.Dropdown(options=list(_CURVES_1D), value=loss, description="loss"),
    }
    regime_label = ipw.HTML()
    artists = {"curve": curve, "path": path_line, "start_point": start_point, "loss": loss_line}
    scene = {"name": None}
    state: dict[str, Any] = {}
    output = ipw.Output()

    def draw_static(landscape):
        # Runs only when the loss changes: the curve, the view window and the regime strip.
        w = np.linspace(*landscape.xlim, 400)
        curve.set_data(w, landscape.value(w))
        ax_curve.set_xlim(*landscape.xlim)
        ax_curve.set_ylim(*landscape.ylim)
        ax_curve.set_title(landscape.formula, fontsize=11)
        top = float(np.max(landscape.value(w)) - landscape.value(landscape.minimizers[0]))
        ax_loss.set_ylim(1e-12, 10 ** math.ceil(math.log10(top) + 2))  # fixed: no re-render
        ax_strip.clear()
        lam = landscape.max_curvature
        note = "bands: theory for ½λw²" if landscape.minimizers.size == 1 else \
            f"bands: local theory near the minima, λ = L″ = {lam:.3g}"
        edges = _regime_edges(lam, lam, steps, tolerance)
        artists["lr_marker"] = _draw_regime_strip(ax_strip, edges, lr_range, note)
        _set_range(controls["start"], *landscape.xlim)
        scene.update(name=controls["loss"].value, landscape=landscape)

    def refresh():
        new_scene = scene["name"] != controls["loss"].value
        if new_scene:
            draw_static(_CURVES_1D[controls["loss"].value][0]())
            if state:  # a new loss starts from its own start point and η
                controls["start"].value = float(scene["landscape"].start)
                controls["lr"].value = _CURVES_1D[controls["loss"].value][1]
        landscape = scene["landscape"]
        eta, w0 = controls["lr"].value, controls["start"].value
        path = _sgd_path(landscape, w0, eta, steps)
        with np.errstate(over="ignore", invalid="ignore"):
            values = landscape.f(path)
        shown = _for_drawing(np.stack([path, values]))
        path_line.set_data(shown[0], shown[1])
        start_point.set_data([w0], [landscape.value(w0)])
        best = landscape.value(landscape.minimizers[0])
        loss_line.set_data(np.arange(steps + 1), _gap(values - best))
        artists["lr_marker"].set_xdata([eta, eta])
        regime = classify_regime(path, landscape, tolerance)
        lam = landscape.max_curvature
        where = ("on ½λw²" if landscape.minimizers.size == 1
                 else f"near a minimum, λ = L″ = {lam:.3g}:")
        regime_label.value = _badge(
            regime, f"η = {eta:.3g},  η·λ = {eta * lam:.3g}  ({where} converges iff η < 2/λ = "
                    f"{2 / lam:.3g})")
        state.update(path=path, losses=values, regime=regime, landscape=landscape)
        stage.render(full=new_scene)

    return _assemble(
        name, stage, artists, controls, {"regime": regime_label},
        [ipw.HBox([controls["lr"], controls["start"], controls["loss"]]), regime_label],
        refresh, output, state)


# ---------------------------------------------------------------- 02: learning rate in 2-D

def _contours(ax, landscape, n_levels=20):
    """Contour lines, log-spaced above the minimum (dense where paths end), as in ``plotting``."""
    W1, W2, F = landscape.grid(160)
    if len(landscape.minimizers) == 0:  # unbounded below: even levels
        levels = np.linspace(np.nanmin(F), np.nanmax(F), n_levels)
    else:
        f_min = float(np.min(landscape.value(landscape.minimizers)))
        span = float(np.nanmax(F)) - f_min
        levels = f_min + np.geomspace(span * 1e-4, span, n_levels)
    return ax.contour(W1, W2, F, levels=levels, cmap="viridis", linewidths=0.7, alpha=0.9)


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
    lr = check.positive(lr, "lr")
    steps = check.integer(steps, "steps", minimum=1)
    tolerance = _tolerance(tolerance)
    landscape = landscapes.quadratic_bowl(condition_number=condition_number)
    lam_max, lam_min = landscape.max_curvature, 1.0
    start = landscape.start if start is None else check.as_array(start, "start", ndim=1)
    if start.shape != (2,):
        raise ValueError(f"start must have shape (2,), got {start.shape}")
    lr_range = (1e-3, 1.0)

    stage = _Stage(name, (9.5, 5.2))
    fig = stage.figure
    grid = fig.add_gridspec(2, 2, height_ratios=[4, 1], hspace=0.55, wspace=0.25,
                            left=0.07, right=0.98, top=0.92, bottom=0.12)
    ax_map, ax_loss = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
    ax_strip = fig.add_subplot(grid[1, :])
    colours = plotting.OKABE_ITO
    _contours(ax_map, landscape)
    ax_map.plot(*landscape.minimizers[0], "*", color="black", ms=10, label="minimum")
    path_line, = ax_map.plot([], [], color=colours["vermillion"], marker="o", ms=3, lw=1.2,
                             label="w_k")
    start_point, = ax_map.plot([], [], "s", color=colours["blue"], ms=7,
                               label="start (click to move)")
    ax_map.set_xlim(*landscape.xlim)
    ax_map.set_ylim(*landscape.ylim)
    ax_map.set_aspect("equal")
    ax_map.set_xlabel("w₁  (flat direction, λ_min = 1)")
    ax_map.set_ylabel(f"w₂  (steep, λ_max = {lam_max:g})")
    ax_map.set_title(f"{landscape.formula}, κ = {lam_max / lam_min:g}", fontsize=10)
    ax_map.legend(loc="lower right", fontsize=7)
    loss_line, = ax_loss.plot([], [], color=colours["vermillion"], marker="o", ms=3, lw=1)
    ax_loss.set_yscale("log")
    ax_loss.set_xlim(0, steps)
    ax_loss.set_xlabel("step k")
    ax_loss.set_ylabel("f(w_k)  (log scale)")
    ax_loss.set_title("loss per step", fontsize=10)
    ax_loss.set_ylim(1e-12, 10 ** math.ceil(math.log10(np.max(landscape.grid(20)[2])) + 2))
    ax_loss.grid(True, alpha=0.3)
    edges = _regime_edges(lam_max, lam_min, steps, tolerance)
    lr_marker = _draw_regime_strip(ax_strip, edges, lr_range, f"theory for this bowl, N = {steps}",
                                   curvature="λ_max")

    half = (landscape.xlim[1] - landscape.xlim[0]) / 2
    controls = {
        "lr": _log_slider("learning rate η", lr, *lr_range),
        "x0": _slider("start w₁", float(start[0]), -half, half, 0.1),
        "y0": _slider("start w₂", float(start[1]), -half, half, 0.1),
    }
    regime_label = ipw.HTML()
    artists = {"path": path_line, "start_point": start_point, "loss": loss_line,
               "lr_marker": lr_marker}
    state: dict[str, Any] = {}
    output = ipw.Output()

    def refresh():
        eta = controls["lr"].value
        w0 = np.array([controls["x0"].value, controls["y0"].value])
        path = _sgd_path(landscape, w0, eta, steps)
        with np.errstate(over="ignore", invalid="ignore"):
            values = landscape.f(path)
        shown = _for_drawing(path)
        path_line.set_data(shown[:, 0], shown[:, 1])
        start_point.set_data([w0[0]], [w0[1]])
        loss_line.set_data(np.arange(steps + 1), _gap(values))
        lr_marker.set_xdata([eta, eta])
        regime = quadratic_regime(eta, lam_max, lam_min, steps, tolerance)
        regime_label.value = _badge(
            regime, f"η = {eta:.3g},  η·λ_max = {eta * lam_max:.3g}  (zig-zag above 1/λ_max = "
                    f"{1 / lam_max:.3g}, diverges above 2/λ_max = {2 / lam_max:.3g})")
        state.update(path=path, losses=values, regime=regime, landscape=landscape)
        stage.render()

    explorer = _assemble(
        name, stage, artists, controls, {"regime": regime_label},
        [ipw.HBox([controls["lr"], controls["x0"], controls["y0"]]), regime_label],
        refresh, output, state)
    _click_to_start(explorer, ax_map, "x0", "y0")
    return explorer


def _click_to_start(explorer: Explorer, ax, x_name: str, y_name: str) -> None:
    """A click on ``ax`` (ipympl, no pan/zoom active) moves the start sliders there."""
    controls = explorer.controls

    def on_click(event):
        toolbar = getattr(explorer.figure.canvas, "toolbar", None)
        if event.inaxes is not ax or event.xdata is None or getattr(toolbar, "mode", ""):
            return
        x_slider, y_slider = controls[x_name], controls[y_name]
        with explorer.paused():  # one recomputation for the pair
            x_slider.value = float(np.clip(event.xdata, x_slider.min, x_slider.max))
            y_slider.value = float(np.clip(event.ydata, y_slider.min, y_slider.max))
        explorer.update()

    explorer.figure.canvas.mpl_connect("button_press_event", on_click)


# ---------------------------------------------------------------- 03: batch size

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
    lr = check.positive(lr, "lr")
    n_samples = check.integer(n_samples, "n_samples", minimum=2)
    epochs = check.integer(epochs, "epochs", minimum=1)
    seed = check.integer(seed, "seed", minimum=0)
    x, y = data.make_linear_regression(n=n_samples, noise=noise, seed=seed)
    X = np.stack([x, np.ones_like(x)], axis=1)  # θ = (w, b): the bias is a weight on a 1
    sizes = [b for b in (2 ** k for k in range(20)) if b < n_samples] + [n_samples]
    batch_size = check.integer(batch_size, "batch_size", minimum=1)
    if batch_size not in sizes:
        raise ValueError(f"batch_size must be one of {sizes}, got {batch_size}")
    sgd = optim.sgd_step.__wrapped__
    floor = losses.mse(X @ np.linalg.lstsq(X, y, rcond=None)[0], y)  # the best any θ can do

    def train(batch, eta, shuffle):
        rng = np.random.default_rng(seed)
        theta = np.zeros(2)
        seen, full = [], [losses.mse(X @ theta, y)]
        per_epoch = [full[0]]
        for _ in range(epochs):
            for xb, yb in data.minibatches(X, y, batch, rng=rng, shuffle=shuffle):
                pred = xb @ theta
                seen.append(losses.mse(pred, yb))
                theta = sgd(theta, xb.T @ losses.mse_grad(pred, yb), eta)
                if not np.all(np.abs(theta) < _FAR):
                    return theta, np.array(seen), np.array(full), np.array(per_epoch), True
                full.append(losses.mse(X @ theta, y))
            per_epoch.append(full[-1])
        return theta, np.array(seen), np.array(full), np.array(per_epoch), False

    stage = _Stage(name, (9.5, 4.2))
    fig = stage.figure
    ax_update, ax_epoch = fig.subplots(1, 2, gridspec_kw={"wspace": 0.25})
    fig.subplots_adjust(left=0.08, right=0.98, top=0.88, bottom=0.14)
    colours = plotting.OKABE_ITO
    batch_line, = ax_update.plot([], [], color=colours["sky_blue"], lw=0.6, alpha=0.6,
                                 label="mini-batch loss (what the update saw)")
    update_line, = ax_update.plot([], [], color=colours["blue"], lw=1.6,
                                  label="training loss (all N)")
    ax_update.axhline(floor, color="0.4", ls=":", lw=1, label="best possible (least squares)")
    ax_update.set_xscale("log")
    ax_update.set_yscale("log")
    ax_update.set_xlabel("update (log scale)")
    ax_update.set_ylabel("MSE (log scale)")
    ax_update.set_title("loss per update", fontsize=10)
    ax_update.legend(fontsize=7, loc="lower left")
    epoch_line, = ax_epoch.plot([], [], color=colours["blue"], marker="o", ms=4, lw=1.6,
                                label="mini-batch SGD")
    full_line, = ax_epoch.plot([], [], color="0.45", marker="s", ms=3, ls="--", lw=1,
                               label="batch GD (B = N), same η")
    ax_epoch.axhline(floor, color="0.4", ls=":", lw=1)
    ax_epoch.set_yscale("log")
    ax_epoch.set_xlim(-0.2, epochs + 0.2)
    ax_epoch.set_xlabel("epoch")
    ax_epoch.set_ylabel("training MSE after the epoch (log scale)")
    ax_epoch.set_title("loss per epoch", fontsize=10)
    ax_epoch.legend(fontsize=7)
    ax_update.set_xlim(0.8, 1.25 * n_samples * epochs)  # B = 1 takes N updates per epoch
    start_loss = losses.mse(np.zeros(n_samples), y)
    for ax in (ax_update, ax_epoch):  # fixed limits: a slider move redraws only the lines
        ax.set_ylim(floor / 30, 3 * start_loss)
        ax.grid(True, alpha=0.3)

    controls = {
        "batch_size": ipw.SelectionSlider(options=sizes, value=batch_size,
                                          description="batch size B",
                                          style={"description_width": "initial"},
                                          layout=ipw.Layout(width="340px")),
        "lr": _log_slider("learning rate η", lr, 1e-3, 1.0),
        "shuffle": ipw.Checkbox(value=True, description="shuffle each epoch"),
    }
    summary = ipw.HTML()
    artists = {"per_update": update_line, "batch_loss": batch_line, "per_epoch": epoch_line,
               "full_batch": full_line}
    state: dict[str, Any] = {}
    output = ipw.Output()

    def refresh():
        batch, eta = controls["batch_size"].value, controls["lr"].value
        theta, seen, full, per_epoch, blew_up = train(batch, eta, controls["shuffle"].value)
        _, _, _, reference, _ = train(n_samples, eta, False)
        updates = np.arange(1, len(seen) + 1)
        batch_line.set_data(updates, _gap(seen))
        update_line.set_data(updates, _gap(full[1:]))  # the loss after update k, k = 1, 2, …
        epoch_line.set_data(np.arange(len(per_epoch)), _gap(per_epoch))
        full_line.set_data(np.arange(len(reference)), _gap(reference))
        per_epoch_updates = math.ceil(n_samples / batch)
        outcome = "diverged — lower η" if blew_up else f"final training MSE {full[-1]:.4g}"
        summary.value = (f"B = {batch}: {per_epoch_updates} updates per epoch, "
                         f"{per_epoch_updates * epochs} in {epochs} epochs, each costing {batch} "
                         f"gradient(s) of one sample; {outcome} (best possible {floor:.4g})")
        state.update(update_losses=full, batch_losses=seen, epoch_losses=per_epoch, theta=theta,
                     diverged=blew_up, reference_epoch_losses=reference)
        stage.render()

    return _assemble(
        name, stage, artists, controls, {"summary": summary},
        [ipw.HBox([controls["batch_size"], controls["lr"], controls["shuffle"]]), summary],
        refresh, output, state)


def _one_blas_thread():
    """A context that runs numpy's BLAS on one thread, for the small matrices of the MLPs here.

    On (256, 32) matrices BLAS threads only cost: a pass is 10–40× slower with two threads
    when the cores are busy (1.5 ms → 30–70 ms measured). The controller is built once per
    explorer; entering ``limit`` then costs microseconds, and leaving it restores the threads.
    """
    from threadpoolctl import ThreadpoolController  # installed with scikit-learn

    controller = ThreadpoolController()
    return lambda: controller.limit(limits=1, user_api="blas")


# ---------------------------------------------------------------- 04: softmax and cross-entropy

_LOGIT_RANGE = (-5.0, 5.0)
_TEMPERATURE_RANGE = (0.1, 10.0)


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
    z0 = check.as_array(logits, "logits", ndim=1)
    if z0.shape != (3,) or np.any(z0 < _LOGIT_RANGE[0]) or np.any(z0 > _LOGIT_RANGE[1]):
        raise ValueError(f"logits must be three numbers in [{_LOGIT_RANGE[0]:g}, "
                         f"{_LOGIT_RANGE[1]:g}], got {z0.tolist()}")
    true_class = check.integer(true_class, "true_class", minimum=0)
    if true_class > 2:
        raise ValueError(f"true_class must be 0, 1 or 2, got {true_class}")
    temperature = check.positive(temperature, "temperature")
    if not _TEMPERATURE_RANGE[0] <= temperature <= _TEMPERATURE_RANGE[1]:
        raise ValueError(f"temperature must be in {list(_TEMPERATURE_RANGE)}, got {temperature}")
    classes = np.arange(3)
    colours = plotting.OKABE_ITO

    stage = _Stage(name, (10, 3.8))
    fig = stage.figure
    ax_logits, ax_probs, ax_grad = fig.subplots(1, 3, gridspec_kw={"wspace": 0.32})
    fig.subplots_adjust(left=0.06, right=0.99, top=0.86, bottom=0.15)
    artists: dict[str, Any] = {}
    for prefix, ax in (("logit", ax_logits), ("prob", ax_probs), ("grad", ax_grad)):
        bars = ax.bar(classes, np.zeros(3), width=0.6, color=colours["blue"], edgecolor="black",
                      linewidth=0.6)
        for j, bar in enumerate(bars):
            artists[f"{prefix}_{j}"] = bar
        ax.set_xticks(classes, [f"{j + 1}" for j in classes])
        ax.set_xlabel("class j")
        ax.axhline(0, color="0.3", lw=0.8)
        ax.grid(True, axis="y", alpha=0.3)
    target, = ax_probs.plot([], [], "_", color="black", ms=26, mew=2.5, label="target y (one-hot)")
    loss_text = ax_probs.text(0.5, 0.97, "", transform=ax_probs.transAxes, ha="center", va="top",
                              fontsize=9, bbox=dict(facecolor="white", alpha=0.85, lw=0))
    artists.update(target=target, loss_text=loss_text)
    ax_logits.set_ylim(_LOGIT_RANGE[0] - 0.5, _LOGIT_RANGE[1] + 0.5)
    ax_logits.set_ylabel("logit z_j")
    ax_logits.set_title("logits z  (softmax sees z / T)", fontsize=10)
    ax_probs.set_ylim(0, 1.18)
    ax_probs.set_ylabel("probability ŷ_j")
    ax_probs.set_title("ŷ = softmax(z / T) (bars),  target y (—)", fontsize=10)
    ax_grad.set_ylim(-1.05, 1.05)
    ax_grad.set_ylabel("∂L/∂(z_j / T)")
    ax_grad.set_title("gradient ŷ − y  (sums to 0)", fontsize=10)

    controls = {
        f"z{j + 1}": _slider(f"z{'₁₂₃'[j]}", float(z0[j]), *_LOGIT_RANGE, 0.1) for j in classes
    }
    controls["true_class"] = ipw.ToggleButtons(options=[("1", 0), ("2", 1), ("3", 2)],
                                               value=true_class, description="true class",
                                               style={"button_width": "40px"})
    controls["T"] = _log_slider("temperature T", temperature, *_TEMPERATURE_RANGE)
    summary = ipw.HTML()
    state: dict[str, Any] = {}
    output = ipw.Output()

    def refresh():
        z = np.array([controls[f"z{j + 1}"].value for j in classes])
        c, T = controls["true_class"].value, controls["T"].value
        scaled = (z / T)[None, :]  # one example: the losses module works on (N, C)
        y_hat = losses.softmax(scaled)[0]
        loss = losses.cross_entropy(scaled, np.array([c]))
        gradient = losses.cross_entropy_grad(scaled, np.array([c]))[0]
        for j in classes:
            colour = colours["vermillion"] if j == c else colours["blue"]
            for prefix, value in (("logit", z[j]), ("prob", y_hat[j]), ("grad", gradient[j])):
                artists[f"{prefix}_{j}"].set_height(value)
                artists[f"{prefix}_{j}"].set_facecolor(colour)
        target.set_data(classes, (classes == c).astype(float))
        loss_text.set_text(f"L = −log ŷ_{c + 1} = {loss:.3g}")
        summary.value = (
            f"ŷ = [{', '.join(f'{p:.3f}' for p in y_hat)}],  L = −log ŷ<sub>{c + 1}</sub> = "
            f"{loss:.4g},  ŷ − y = [{', '.join(f'{g:+.3f}' for g in gradient)}] "
            f"(sum {np.sum(gradient):+.1e});  ∂L/∂z = (ŷ − y)/T with T = {T:.3g}")
        state.update(logits=z, probabilities=y_hat, gradient=gradient, loss=loss)
        stage.render()

    class_row = ipw.HBox([controls["true_class"], controls["T"]])
    return _assemble(
        name, stage, artists, controls, {"summary": summary},
        [ipw.HBox([controls["z1"], controls["z2"], controls["z3"]]), class_row, summary],
        refresh, output, state, primary="z1")


# ---------------------------------------------------------------- 05: gradients through depth

_GRADIENT_AXIS = (1e-12, 1e8)
_SPREAD_AXIS = 1e5


def _deep_mlp_pass(X, labels, depth, activation, weight_scale, width, seed):
    """One forward and backward pass of a deep MLP of ``course_utils.nn``.

    The MLP 64 → width (× depth) → 10 starts from torch's initial weights (``nn.MLP``), each
    W⁽ˡ⁾ then multiplied by ``weight_scale``. Returns the loss, ‖∂L/∂W⁽ˡ⁾‖ (Frobenius) for
    l = 1 … depth + 1, and the pre-activations s⁽ˡ⁾ (N, width) of the hidden layers.
    """
    mlp = nn.MLP((X.shape[1],) + (width,) * depth + (10,), activation=activation, seed=seed)
    for W in mlp.params[::2]:
        W *= weight_scale  # the live arrays: the layers compute with the scaled weights
    preacts, out = [], X
    for layer in mlp.layers[:-1]:  # the same pass as mlp.forward, keeping s⁽ˡ⁾ for the plot
        out = layer.forward(out)
        if isinstance(layer, nn.Linear):
            preacts.append(out)
    logits = mlp.forward(X)
    grads = mlp.backward(losses.cross_entropy_grad(logits, labels))
    norms = np.array([np.linalg.norm(dW) for dW in grads[::2]])
    return losses.cross_entropy(logits, labels), norms, preacts


def backprop_explorer(depth: int = 6, activation: str = "sigmoid", weight_scale: float = 1.0,
                      width: int = 32, batch_size: int = 256, max_depth: int = 10, seed: int = 0,
                      name: str = "backprop explorer") -> Explorer:
    """Depth, activation and initial weight scale → the gradient's size at every layer.

    A deep, narrow MLP of ``course_utils.nn`` (64 → width → … → width → 10, ``depth`` hidden
    layers, torch's initial weights with every W⁽ˡ⁾ multiplied by the scale g) does one forward
    and one backward pass of the mean cross-entropy on a fixed batch of digits. Backprop
    multiplies δ by W⁽ˡ⁾ᵀ and by σ′(s⁽ˡ⁾) at every layer on its way down, so the gradient
    shrinks geometrically (vanishing: σ′ ≤ ¼ for the sigmoid, or a small g) or grows
    (exploding: a large g).

    Left: ‖∂L/∂W⁽ˡ⁾‖ (Frobenius norm) per layer l = 1 … depth + 1, log scale. Right: the
    pre-activations s⁽ˡ⁾ of each hidden layer over the batch and the units: median (marker),
    10–90 % (thick) and 1–99 % (thin) percentiles, on a symlog scale — they shrink to 0 or
    spread into the flat tails of the sigmoid and tanh.

    Args:
        depth: initial number of hidden layers, 1 … max_depth; default 6.
        activation: "sigmoid", "tanh" or "relu"; default "sigmoid".
        weight_scale: g in [0.1, 10]; default 1 (torch's ``nn.Linear`` initialisation).
        width: units per hidden layer; default 32.
        batch_size: digits in the batch (the first of ``data.load_digits().X_train``); default 256.
        max_depth: the depth slider's maximum; default 10.
        seed: the MLP's seed; default 0.
        name: figure name.

    Controls: ``depth``, ``activation``, ``weight_scale``. Artists: ``grad_<l>`` (bars,
    l = 1 … max_depth + 1, top = ‖∂L/∂W⁽ˡ⁾‖; unused layers hidden), ``median``, ``spread_10_90``,
    ``spread_1_99`` (lines over the hidden layers l = 1 … depth). State: ``loss``,
    ``grad_norms``, ``percentiles`` ((depth, 5): 1, 10, 50, 90, 99 %).
    """
    max_depth = check.integer(max_depth, "max_depth", minimum=1)
    depth = check.integer(depth, "depth", minimum=1)
    if depth > max_depth:
        raise ValueError(f"depth must be <= max_depth = {max_depth}, got {depth}")
    activations = ["sigmoid", "tanh", "relu"]
    if activation not in activations:
        raise ValueError(f"activation must be one of {activations}, got {activation!r}")
    weight_scale = check.positive(weight_scale, "weight_scale")
    if not 0.1 <= weight_scale <= 10:
        raise ValueError(f"weight_scale must be in [0.1, 10], got {weight_scale}")
    width = check.integer(width, "width", minimum=1)
    batch_size = check.integer(batch_size, "batch_size", minimum=1)
    seed = check.integer(seed, "seed", minimum=0)
    digits = data.load_digits()
    X, labels = digits.X_train[:batch_size], digits.y_train[:batch_size]

    stage = _Stage(name, (10, 4.2))
    fig = stage.figure
    ax_grad, ax_spread = fig.subplots(1, 2, gridspec_kw={"wspace": 0.22})
    fig.subplots_adjust(left=0.075, right=0.98, top=0.88, bottom=0.14)
    colours = plotting.OKABE_ITO
    low, high = _GRADIENT_AXIS
    layers = np.arange(1, max_depth + 2)
    artists: dict[str, Any] = {}
    for layer, bar in zip(layers, ax_grad.bar(layers, np.ones(len(layers)), bottom=low,
                                              width=0.65, color=colours["blue"],
                                              edgecolor="black", linewidth=0.6)):
        artists[f"grad_{layer}"] = bar
    ax_grad.set_yscale("log")
    ax_grad.set_ylim(low, high)  # fixed: a slider move redraws only the bars
    ax_grad.set_xlim(0.4, max_depth + 1.6)
    ax_grad.set_xticks(layers)
    ax_grad.set_xlabel("layer l  (1 = first, nearest the input; the last is the output layer)")
    ax_grad.set_ylabel("‖∂L/∂W⁽ˡ⁾‖  (log scale)")
    ax_grad.set_title("gradient norm per layer", fontsize=10)
    ax_grad.grid(True, axis="y", alpha=0.3)
    ax_spread.axhspan(-2, 2, color=colours["bluish_green"], alpha=0.15, lw=0,
                      label="|s| < 2: sigmoid/tanh not saturated")
    thin, = ax_spread.plot([], [], color=colours["blue"], lw=1, label="1–99 %")
    thick, = ax_spread.plot([], [], color=colours["blue"], lw=5, alpha=0.7, label="10–90 %")
    median, = ax_spread.plot([], [], "o", color=colours["vermillion"], mec="black", ms=6,
                             label="median")
    artists.update(spread_1_99=thin, spread_10_90=thick, median=median)
    ax_spread.set_yscale("symlog", linthresh=1.0)
    ax_spread.set_ylim(-_SPREAD_AXIS, _SPREAD_AXIS)
    ax_spread.set_xlim(0.4, max_depth + 0.6)
    ax_spread.set_xticks(np.arange(1, max_depth + 1))
    ax_spread.set_xlabel("hidden layer l")
    ax_spread.set_ylabel("pre-activation s⁽ˡ⁾  (symlog scale)")
    ax_spread.set_title("pre-activations over the batch and the units", fontsize=10)
    ax_spread.legend(fontsize=7, loc="lower left", ncol=2)
    ax_spread.grid(True, axis="y", alpha=0.3)

    controls = {
        "depth": ipw.IntSlider(value=depth, min=1, max=max_depth, description="hidden layers",
                               style={"description_width": "initial"}),
        "activation": ipw.ToggleButtons(options=activations, value=activation,
                                        description="activation",
                                        style={"button_width": "70px"}),
        "weight_scale": _log_slider("initial weight scale g", weight_scale, 0.1, 10.0),
    }
    summary = ipw.HTML()
    state: dict[str, Any] = {}
    output = ipw.Output()

    def segments(xs, bottoms, tops):
        """Vertical segments x: bottom → top, separated by NaN, as one line's data."""
        nans = np.full(len(xs), np.nan)
        return (np.column_stack([xs, xs, nans]).ravel(),
                np.column_stack([bottoms, tops, nans]).ravel())

    one_thread = _one_blas_thread()

    def refresh():
        n_hidden, g = controls["depth"].value, controls["weight_scale"].value
        with np.errstate(over="ignore", invalid="ignore"), one_thread():
            loss, norms, preacts = _deep_mlp_pass(X, labels, n_hidden, controls["activation"].value,
                                                  g, width, seed)
        for layer in layers:
            bar = artists[f"grad_{layer}"]
            used = layer <= n_hidden + 1
            bar.set_visible(used)
            if used:
                norm = norms[layer - 1]
                bar.set_height(max(norm, low) - low if np.isfinite(norm) else high)
                bar.set_facecolor(colours["orange"] if layer == n_hidden + 1 else colours["blue"])
        spread = np.array([np.percentile(s, [1, 10, 50, 90, 99]) for s in preacts])
        hidden = np.arange(1, n_hidden + 1)
        thin.set_data(*segments(hidden, spread[:, 0], spread[:, 4]))
        thick.set_data(*segments(hidden, spread[:, 1], spread[:, 3]))
        median.set_data(hidden, spread[:, 2])
        ratio = norms[0] / norms[-1]
        summary.value = (f"loss {loss:.4g};  ‖∂L/∂W⁽¹⁾‖ = {norms[0]:.3g}, "
                         f"‖∂L/∂W⁽{n_hidden + 1}⁾‖ = {norms[-1]:.3g}: the first layer's gradient "
                         f"is <b>{ratio:.3g}×</b> the last one's")
        state.update(loss=loss, grad_norms=norms, percentiles=spread)
        stage.render()

    return _assemble(
        name, stage, artists, controls, {"summary": summary},
        [ipw.HBox([controls["depth"], controls["activation"], controls["weight_scale"]]), summary],
        refresh, output, state, primary="weight_scale")


# ---------------------------------------------------------------- 06/07: optimizer race

# label -> (kind, reference rule). The kind fixes the rule's signature and its state.
_RACERS = {
    "SGD": ("sgd", optim.sgd_step),
    "momentum": ("momentum", optim.momentum_step),
    "Nesterov": ("nesterov", optim.nesterov_step),
    "RMSprop": ("rmsprop", optim.rmsprop_step),
    "Adam": ("adam", optim.adam_step),
}
_KIND_LABELS = {"sgd": "SGD", "momentum": "momentum", "nesterov": "Nesterov",
                "rmsprop": "RMSprop", "adam": "Adam"}
_ADAPTIVE = {"rmsprop", "adam"}
_USES = {"sgd": (), "momentum": ("beta",), "nesterov": ("beta",), "rmsprop": ("alpha",),
         "adam": ("beta1", "beta2")}

# name -> (landscape, η for SGD/momentum/Nesterov, η for RMSprop/Adam, start): tuned so
# that at the defaults every racer moves and the race tells the landscape's story.
_RACE_LANDSCAPES = {
    "ill-conditioned bowl": (lambda: landscapes.quadratic_bowl(condition_number=20.0), 0.04, 0.3,
                             (-8.0, 3.0)),
    "Rosenbrock": (lambda: landscapes.rosenbrock(), 1e-3, 0.1, (-1.2, 1.0)),
    "saddle": (lambda: landscapes.saddle(), 0.05, 0.05, (1.8, 0.05)),
}


def _race_path(kind, rule, landscape, start, steps, lr, beta, beta1, beta2, alpha, eps=1e-8):
    """The path of one racer: ``rule`` called with the signature of the reference rule ``kind``.

        sgd       w = rule(w, g, lr)
        momentum  w, v = rule(w, g, v, lr, beta)          (also nesterov)
        rmsprop   w, s = rule(w, g, s, lr, alpha, eps)
        adam      w, m, v = rule(w, g, m, v, t, lr, beta1, beta2, eps),  t = 1, 2, …
    """
    grad = landscape.grad_f
    zeros = np.zeros_like(start)
    if kind == "sgd":
        return landscapes.run_optimizer(lambda w: rule(w, grad(w), lr), start, steps)
    if kind in ("momentum", "nesterov"):
        return landscapes.run_optimizer(lambda w, v: rule(w, grad(w), v, lr, beta), start, steps,
                                        state=zeros)
    if kind == "rmsprop":
        return landscapes.run_optimizer(lambda w, s: rule(w, grad(w), s, lr, alpha, eps), start,
                                        steps, state=zeros)

    def adam(w, state):
        m, v, t = state
        w, m, v = rule(w, grad(w), m, v, t, lr, beta1, beta2, eps)
        return w, (m, v, t + 1)

    return landscapes.run_optimizer(adam, start, steps, state=(zeros, zeros, 1))


def optimizer_race(landscape: str = "ill-conditioned bowl", steps: int = 200,
                   your_rules: dict[str, Callable] | None = None, beta: float = 0.9,
                   alpha: float = 0.99, beta1: float = 0.9, beta2: float = 0.999,
                   arrows: bool = False, show=None, name: str = "optimizer race") -> Explorer:
    """SGD, momentum, Nesterov, RMSprop and Adam race on a 2-D landscape, step by step.

    Every path is precomputed with the reference rules of ``course_utils.optim`` from the same
    start; the Play button (or the step slider) then shows the first k steps of each. Moving a
    slider recomputes all paths; clicking the contours moves the start point.

    Hyper-parameters: η_SGD for SGD, momentum and Nesterov (v ← βv + g; w ← w − ηv), η_adaptive
    for RMSprop and Adam (whose steps are ≈ η whatever the gradient's scale, so they need a
    different η); β for momentum/Nesterov; α for RMSprop; β1, β2 for Adam.

    Args:
        landscape: "ill-conditioned bowl" (κ = 20), "Rosenbrock" or "saddle".
        steps: N updates per racer, integer >= 1; default 200.
        your_rules: your own rules to race against the reference, keyed by the reference rule
            they implement: "sgd", "momentum", "nesterov", "rmsprop" or "adam", e.g.
            ``{"adam": adam_step}``; each must take the arguments of that reference rule (in
            ``course_utils.optim``, positionally) and return what it returns. It races as
            "your Adam"; if it raises, the message appears below the figure and the others
            still race.
        beta, alpha, beta1, beta2: initial β (momentum), α (RMSprop), β1, β2 (Adam); defaults
            0.9, 0.99, 0.9, 0.999 (torch's).
        show: the racers shown at first (the others can be ticked on), e.g.
            ``("SGD", "momentum", "Nesterov")`` for notebook 06; default all.
        arrows: at the current step show the direction of −∇f (thin, grey) and of the step the
            optimizer took (thick, its colour); default False.
        name: figure name.

    Controls: ``landscape``, ``lr_sgd``, ``lr_adaptive``, ``beta``, ``alpha``, ``beta1``, ``beta2``,
    ``x0``, ``y0``, ``step``, ``play``, ``arrows``, ``show_<label>`` per racer.
    Artists: ``path_<label>``, ``head_<label>``, ``loss_<label>``, ``grad_<label>``,
    ``move_<label>``, ``step_line``. State: ``paths`` (label → (N + 1, 2)), ``losses``.
    """
    if landscape not in _RACE_LANDSCAPES:
        raise ValueError(f"landscape must be one of {list(_RACE_LANDSCAPES)}, got {landscape!r}")
    steps = check.integer(steps, "steps", minimum=1)
    beta = check.in_unit_interval(beta, "beta")
    beta1 = check.in_unit_interval(beta1, "beta1")
    beta2 = check.in_unit_interval(beta2, "beta2")
    alpha = check.in_unit_interval(alpha, "alpha")
    racers = {label: (kind, rule.__wrapped__, True) for label, (kind, rule) in _RACERS.items()}
    for kind, rule in (your_rules or {}).items():
        if kind not in _KIND_LABELS:
            raise ValueError(f"your_rules keys must be one of {list(_KIND_LABELS)} (the reference "
                             f"rule yours implements), got {kind!r}")
        if not callable(rule):
            raise TypeError(f"your_rules[{kind!r}] must be a function like optim.{kind}_step, "
                            f"got {type(rule).__name__}")
        racers[f"your {_KIND_LABELS[kind]}"] = (kind, rule, False)
    shown = set(racers) if show is None else set(show)
    if not shown <= set(racers):
        raise ValueError(f"show must name racers among {list(racers)}, got "
                         f"{sorted(shown - set(racers))}")

    stage = _Stage(name, (10, 4.6))
    fig = stage.figure
    ax_map, ax_loss = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.15, 1], "wspace": 0.22})
    fig.subplots_adjust(left=0.075, right=0.98, top=0.9, bottom=0.12)
    artists: dict[str, Any] = {}
    for i, label in enumerate(racers):
        look = plotting.style(i)  # colour, dash pattern and marker: apart in grey print too
        line = dict(color=look["color"], ls=look["linestyle"], lw=1.5 if racers[label][2] else 2.4)
        artists[f"path_{label}"], = ax_map.plot([], [], label=label, **line)
        artists[f"head_{label}"], = ax_map.plot([], [], marker=look["marker"], color=look["color"],
                                                ms=8, mec="black", mew=0.6, ls="none")
        artists[f"loss_{label}"], = ax_loss.plot([], [], label=label, **line)
        artists[f"grad_{label}"] = ax_map.quiver([0], [0], [0], [0], color="0.25",
                                                 angles="xy", scale_units="xy", scale=1,
                                                 width=0.004, zorder=4)
        artists[f"move_{label}"] = ax_map.quiver([0], [0], [0], [0], color=look["color"],
                                                 angles="xy", scale_units="xy", scale=1,
                                                 width=0.009, ec="black", lw=0.5, zorder=5)
    start_point, = ax_map.plot([], [], "s", color="black", ms=7, label="start (click to move)")
    minimum_point, = ax_map.plot([], [], "*", color="black", ms=11, label="minimum")
    step_line = ax_loss.axvline(steps, color="0.3", lw=1, ls=":")
    artists.update(start_point=start_point, step_line=step_line)
    ax_map.set_xlabel("w₁")
    ax_map.set_ylabel("w₂")
    ax_loss.set_xlim(0, steps)
    ax_loss.set_xlabel("step k")
    ax_loss.grid(True, alpha=0.3)
    ax_loss.legend(fontsize=7, loc="upper right", ncol=2)

    first = _RACE_LANDSCAPES[landscape][0]()
    span = max(np.ptp(first.xlim), np.ptp(first.ylim)) / 2 + 1
    controls: dict[str, ipw.Widget] = {
        "landscape": ipw.Dropdown(options=list(_RACE_LANDSCAPES), value=landscape,
                                  description="landscape"),
        "lr_sgd": _log_slider("η SGD / momentum / Nesterov", _RACE_LANDSCAPES[landscape][1],
                              1e-4, 1.0),
        "lr_adaptive": _log_slider("η RMSprop / Adam", _RACE_LANDSCAPES[landscape][2], 1e-3, 2.0),
        "beta": _slider("β (momentum)", beta, 0.0, 0.99, 0.01),
        "beta1": _slider("β1 (Adam)", beta1, 0.0, 0.99, 0.01),
        "beta2": ipw.FloatSlider(value=beta2, min=0.5, max=0.9999, step=0.0001,
                                 description="β2 (Adam)", readout_format=".4f",
                                 style={"description_width": "initial"},
                                 layout=ipw.Layout(width="300px")),
        "alpha": _slider("α (RMSprop)", alpha, 0.5, 0.999, 0.001),
        "x0": _slider("start w₁", _RACE_LANDSCAPES[landscape][3][0], -span, span, 0.05),
        "y0": _slider("start w₂", _RACE_LANDSCAPES[landscape][3][1], -span, span, 0.05),
        "step": ipw.IntSlider(value=steps, min=0, max=steps, description="step k",
                              layout=ipw.Layout(width="340px")),
        "play": ipw.Play(value=steps, min=0, max=steps, interval=60, description="play"),
        "arrows": ipw.Checkbox(value=bool(arrows),
                               description="arrows: −∇f (grey), step direction"),
    }
    ipw.jslink((controls["play"], "value"), (controls["step"], "value"))
    for label in racers:
        controls[f"show_{label}"] = ipw.Checkbox(value=label in shown, description=label,
                                                 indent=False,
                                                 layout=ipw.Layout(width="auto"))
    state: dict[str, Any] = {"scene": None, "paths": {}, "losses": {}, "cache": {}}
    output = ipw.Output()

    def draw_landscape(surface):
        # Only when the landscape changes: contours, window, the loss axis' scale.
        if state.get("contours") is not None:
            state["contours"].remove()
        state["contours"] = _contours(ax_map, surface)
        ax_map.set_xlim(*surface.xlim)
        ax_map.set_ylim(*surface.ylim)
        ax_map.set_title(f"{surface.name}:  {surface.formula}", fontsize=10)
        ax_map.legend(handles=[start_point, minimum_point][: 2 if len(surface.minimizers) else 1],
                      fontsize=7, loc="lower right")
        has_minimum = surface.minimizers.shape[0] > 0
        highest = float(np.max(np.abs(surface.grid(40)[2])))
        # Fixed limits per landscape: a slider move redraws only the lines, never the axes.
        if has_minimum:
            minimum_point.set_data(surface.minimizers[:, 0], surface.minimizers[:, 1])
            ax_loss.set_yscale("log")
            ax_loss.set_ylim(1e-10, 10 ** math.ceil(math.log10(highest) + 1))
            ax_loss.set_ylabel("f(w_k) − f(w*)  (log scale)")
        else:
            minimum_point.set_data([], [])
            ax_loss.set_yscale("symlog", linthresh=1e-2)
            ax_loss.set_ylim(-100 * highest, 10 * highest)
            ax_loss.set_ylabel("f(w_k)  (symlog: unbounded below)")
        ax_loss.set_title("loss per step", fontsize=10)
        state.update(scene=controls["landscape"].value, landscape=surface, has_minimum=has_minimum)

    def compute():
        surface = state["landscape"]
        start = np.array([controls["x0"].value, controls["y0"].value])
        hyper = dict(beta=controls["beta"].value, beta1=controls["beta1"].value,
                     beta2=controls["beta2"].value, alpha=controls["alpha"].value)
        paths, values, failures = {}, {}, []
        for label, (kind, rule, reference) in racers.items():
            lr = controls["lr_adaptive" if kind in _ADAPTIVE else "lr_sgd"].value
            # A racer is rerun only when something it depends on moved (η_SGD leaves Adam be).
            key = (state["scene"], lr, tuple(start), *(hyper[h] for h in _USES[kind]))
            cached = state["cache"].get(label)
            if cached is not None and cached[0] == key:
                paths[label], values[label] = cached[1], cached[2]
                continue
            try:
                with np.errstate(over="ignore", invalid="ignore"):
                    path = _race_path(kind, rule, surface, start, steps, lr, **hyper)
            except Exception as error:  # noqa: BLE001 - a student's rule: report, keep racing
                if reference:
                    raise
                detail = str(error) or "(no message: is it written yet?)"
                failures.append(f"{label} raised {type(error).__name__}: {detail} — the others "
                                "still race")
                path = np.full((steps + 1, 2), np.nan)
                path[0] = start
            with np.errstate(over="ignore", invalid="ignore"):
                loss = surface.f(path)
            if state["has_minimum"]:
                loss = loss - surface.value(surface.minimizers[0])
            paths[label], values[label] = path, loss
            shown = _gap(loss) if state["has_minimum"] else _for_drawing(loss)
            artists[f"loss_{label}"].set_data(np.arange(steps + 1), shown)
            if not failures:
                state["cache"][label] = (key, path, loss)
        state.update(paths=paths, losses=values, start=start)
        for message in failures:
            output.append_stderr(message + "\n")
        start_point.set_data([start[0]], [start[1]])

    def show_step():
        k = controls["step"].value
        length = 0.08 * np.ptp(ax_map.get_xlim())
        for label in racers:
            visible = controls[f"show_{label}"].value
            path = _for_drawing(state["paths"][label])
            head = path[min(k, steps)]
            artists[f"path_{label}"].set_data(path[: k + 1, 0], path[: k + 1, 1])
            artists[f"head_{label}"].set_data([head[0]], [head[1]])
            for prefix in ("path", "head", "loss"):
                artists[f"{prefix}_{label}"].set_visible(visible)
            arrows_on = visible and controls["arrows"].value and np.all(np.isfinite(head))
            if arrows_on:
                # Directions only, both drawn at one length: where the gradient points versus
                # where the optimizer actually went (momentum and scaling turn the step).
                downhill = -state["landscape"].grad(head)
                move = np.nan_to_num(path[k + 1] - head) if k < steps else np.zeros(2)
                downhill, move = (length * u / max(np.linalg.norm(u), 1e-300)
                                  for u in (downhill, move))
                artists[f"grad_{label}"].set_offsets([head])
                artists[f"grad_{label}"].set_UVC([downhill[0]], [downhill[1]])
                artists[f"move_{label}"].set_offsets([head])
                artists[f"move_{label}"].set_UVC([move[0]], [move[1]])
            artists[f"grad_{label}"].set_visible(bool(arrows_on))
            artists[f"move_{label}"].set_visible(bool(arrows_on))
        step_line.set_xdata([k, k])

    def refresh():
        new_scene = state["scene"] != controls["landscape"].value
        if new_scene:
            surface = _RACE_LANDSCAPES[controls["landscape"].value][0]()
            first_build = state["scene"] is None
            draw_landscape(surface)
            if not first_build:
                _, lr_sgd, lr_adaptive, start = _RACE_LANDSCAPES[controls["landscape"].value]
                # A new landscape starts from its own start point and suggested rates.
                controls["lr_sgd"].value, controls["lr_adaptive"].value = lr_sgd, lr_adaptive
                span = max(np.ptp(surface.xlim), np.ptp(surface.ylim)) / 2 + 1
                for slider in (controls["x0"], controls["y0"]):
                    _set_range(slider, -span, span)
                controls["x0"].value, controls["y0"].value = start
        key = tuple(controls[n].value for n in
                    ("landscape", "lr_sgd", "lr_adaptive", "beta", "alpha", "beta1", "beta2", "x0",
                     "y0"))
        if state.get("key") != key:  # playback and show/hide reuse the precomputed paths
            compute()
            state["key"] = key
        show_step()
        stage.render(full=new_scene)

    hyper_row = ipw.HBox([controls["lr_sgd"], controls["lr_adaptive"]])
    beta_row = ipw.HBox([controls["beta"], controls["alpha"], controls["beta1"], controls["beta2"]])
    start_row = ipw.HBox([controls["landscape"], controls["x0"], controls["y0"]])
    play_row = ipw.HBox([controls["play"], controls["step"], controls["arrows"]])
    show_row = ipw.HBox([ipw.Label("show:")] + [controls[f"show_{label}"] for label in racers])
    explorer = _assemble(name, stage, artists, controls, {},
                         [start_row, hyper_row, beta_row, show_row, play_row], refresh, output,
                         state, primary="lr_sgd")
    _click_to_start(explorer, ax_map, "x0", "y0")
    return explorer


# ---------------------------------------------------------------- 08: schedules

def _schedule_functions(lr0, total_steps):
    """The five schedules of ``course_utils.schedules`` (and a constant), lr0 at t = 0."""
    return {
        "constant": lambda t: np.full(np.shape(t), lr0) if np.ndim(t) else lr0,
        "step": lambda t: schedules.step_lr(t, lr0, step_size=total_steps // 3, gamma=0.2),
        "cosine": lambda t: schedules.cosine_lr(t, lr0, total_steps),
        "linear": lambda t: schedules.linear_lr(t, lr0, total_steps),
        "inverse sqrt": lambda t: schedules.inverse_sqrt_lr(t, lr0),
    }


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
    names = list(_schedule_functions(1.0, 10))
    if schedule not in names:
        raise ValueError(f"schedule must be one of {names}, got {schedule!r}")
    lr0 = check.positive(lr0, "lr0")
    total_steps = check.integer(total_steps, "total_steps", minimum=2)
    warmup_steps = check.integer(warmup_steps, "warmup_steps", minimum=0)
    noise = check.non_negative(noise, "noise")
    seed = check.integer(seed, "seed", minimum=0)
    bowl = landscapes.quadratic_bowl(condition_number=10.0)
    shocks = np.random.default_rng(seed).standard_normal((total_steps, 2)) * noise
    sgd = optim.sgd_step.__wrapped__
    steps = np.arange(total_steps)

    def noisy_run(lrs):
        w, out = np.array(bowl.start), np.empty(total_steps + 1)
        out[0] = bowl.value(w)
        for t in range(total_steps):
            w = sgd(w, bowl.grad_f(w) + shocks[t], lrs[t])
            out[t + 1] = bowl.f(w)
        return out

    stage = _Stage(name, (9.5, 4.2))
    fig = stage.figure
    ax_lr, ax_loss = fig.subplots(1, 2, gridspec_kw={"wspace": 0.25})
    fig.subplots_adjust(left=0.08, right=0.98, top=0.88, bottom=0.14)
    artists: dict[str, Any] = {}
    for i, label in enumerate(names):
        look = plotting.style(i)
        artists[f"lr_{label}"], = ax_lr.plot([], [], color=look["color"], ls=look["linestyle"],
                                             lw=1.2, alpha=0.45, label=label)
    chosen_lr, = ax_lr.plot([], [], color="black", lw=2.4, label="chosen (bold)")
    artists["lr"] = chosen_lr
    limit = 2 / bowl.max_curvature
    ax_lr.axhline(limit, color="0.3", ls=":", lw=1,
                  label=f"2/λ_max = {limit:g}: above, GD diverges")
    ax_lr.legend(fontsize=7, loc="lower left")
    constant_loss, = ax_loss.plot([], [], color="0.55", lw=1, ls="--", label="constant lr0")
    chosen_loss, = ax_loss.plot([], [], color=plotting.OKABE_ITO["vermillion"], lw=1.4,
                            label="chosen schedule")
    artists.update(loss=chosen_loss, loss_constant=constant_loss)
    ax_lr.set_xlim(0, total_steps)
    ax_lr.set_xlabel("step t")
    ax_lr.set_ylabel("learning rate lr(t)  (log scale)")
    ax_lr.set_yscale("log")
    ax_lr.set_ylim(1e-4, 1.0)  # fixed limits: a slider move redraws only the lines
    ax_lr.set_title("schedule", fontsize=10)
    ax_loss.set_xlim(0, total_steps)
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("step t")
    ax_loss.set_ylabel("f(w_t)  (log scale)")
    ax_loss.set_title(f"noisy SGD on a bowl (κ = 10, σ = {noise:g})", fontsize=10)
    ax_loss.set_ylim(1e-4, 10 ** math.ceil(math.log10(bowl.value(bowl.start)) + 1))
    ax_loss.legend(fontsize=8, loc="upper right")
    for ax in (ax_lr, ax_loss):
        ax.grid(True, alpha=0.3)

    controls = {
        "schedule": ipw.Dropdown(options=names, value=schedule, description="schedule"),
        "lr0": _log_slider("lr0", lr0, 1e-3, 0.3),
        "warmup": ipw.IntSlider(value=warmup_steps, min=0, max=total_steps // 4,
                                description="warmup steps W",
                                style={"description_width": "initial"}),
    }
    summary = ipw.HTML()
    state: dict[str, Any] = {}
    output = ipw.Output()

    def refresh():
        eta0, warmup = controls["lr0"].value, controls["warmup"].value
        chosen = controls["schedule"].value
        curves = {}
        for label, f in _schedule_functions(eta0, total_steps).items():
            if warmup:
                f = schedules.with_warmup(f, warmup)
            curves[label] = schedules.lr_curve(f, total_steps)
            artists[f"lr_{label}"].set_data(steps, curves[label])
        chosen_lr.set_data(steps, curves[chosen])
        with np.errstate(over="ignore", invalid="ignore"):
            values = noisy_run(curves[chosen])
            constant = noisy_run(np.full(total_steps, eta0))
        chosen_loss.set_data(np.arange(total_steps + 1), _gap(values))
        constant_loss.set_data(np.arange(total_steps + 1), _gap(constant))
        tail = max(1, total_steps // 10)
        summary.value = (f"<b>{chosen}</b>{f' with {warmup} warmup steps' if warmup else ''}: "
                         f"mean loss over the last {tail} steps {np.mean(values[-tail:]):.3g} "
                         f"(constant lr0: {np.mean(constant[-tail:]):.3g})")
        state.update(lrs=curves[chosen], all_lrs=curves, losses=values, constant_losses=constant)
        stage.render()

    return _assemble(
        name, stage, artists, controls, {"summary": summary},
        [ipw.HBox([controls["schedule"], controls["lr0"], controls["warmup"]]), summary],
        refresh, output, state, primary="lr0")


# ---------------------------------------------------------------- 09: training on the digits

_TRAINING_OPTIMIZERS = {
    "SGD": lambda params, lr: optim.SGD(params, lr=lr),
    "SGD + momentum": lambda params, lr: optim.SGD(params, lr=lr, momentum=0.9),
    "RMSprop": lambda params, lr: optim.RMSprop(params, lr=lr),
    "Adam": lambda params, lr: optim.Adam(params, lr=lr),
    "AdamW": lambda params, lr: optim.AdamW(params, lr=lr),
}


def _training_schedule(kind, lr0, total_steps, warmup_steps):
    """lr(t) of the training explorer: the main schedule over the steps after the warmup."""
    main_steps = max(total_steps - warmup_steps, 1)
    main = {
        "constant": lambda t: lr0 + 0.0 * np.asarray(t, dtype=np.float64),
        "step": lambda t: schedules.step_lr(t, lr0, step_size=max(main_steps // 3, 1), gamma=0.1),
        "cosine": lambda t: schedules.cosine_lr(t, lr0, main_steps),
    }[kind]
    return schedules.with_warmup(main, warmup_steps) if warmup_steps else main


def _train_digits(X_train, y_train, X_test, y_test, optimizer, lr0, batch_size, schedule,
                  warmup_steps, hidden, epochs, seed):
    """The loop of notebook 09: per mini-batch, lr ← schedule(t), forward, loss, backward, step.

    Returns the loss of every mini-batch (before its update), the test accuracy after every
    epoch (epoch 0 = before training), and whether the run blew up (it then stops: NaN after).
    """
    model = nn.MLP((X_train.shape[1], hidden, 10), activation="relu", seed=seed)
    opt = _TRAINING_OPTIMIZERS[optimizer](model.params, lr0)
    per_epoch = math.ceil(len(X_train) / batch_size)
    lr = _training_schedule(schedule, lr0, epochs * per_epoch, warmup_steps)
    rng = np.random.default_rng(seed)
    batch_losses = np.full(epochs * per_epoch, np.nan)
    accuracy = np.full(epochs + 1, np.nan)
    accuracy[0] = model.accuracy(X_test, y_test)
    step = 0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(1, epochs + 1):
            for xb, yb in data.minibatches(X_train, y_train, batch_size, rng=rng):
                opt.lr = float(lr(step))
                logits = model.forward(xb)
                batch_losses[step] = losses.cross_entropy(logits, yb)
                if not np.isfinite(batch_losses[step]):
                    return batch_losses, accuracy, True
                opt.step(model.backward(losses.cross_entropy_grad(logits, yb)))
                step += 1
            if not all(np.all(np.isfinite(p)) for p in model.params):
                return batch_losses, accuracy, True
            accuracy[epoch] = model.accuracy(X_test, y_test)
    return batch_losses, accuracy, False


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
    change stays as a faint line, to compare. Right: test accuracy after every epoch.

    Args:
        optimizer: one of "SGD", "SGD + momentum", "RMSprop", "Adam", "AdamW"; default "Adam".
        lr0: η₀ in [1e-4, 1]; default 0.01.
        batch_size: one of 1, 4, 16, 64, 256 or the whole training set (1347); default 64.
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
    if optimizer not in _TRAINING_OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {list(_TRAINING_OPTIMIZERS)}, got {optimizer!r}")
    if schedule not in ("constant", "step", "cosine"):
        raise ValueError(f"schedule must be 'constant', 'step' or 'cosine', got {schedule!r}")
    lr0 = check.positive(lr0, "lr0")
    epochs = check.integer(epochs, "epochs", minimum=1)
    seed = check.integer(seed, "seed", minimum=0)
    X_train, X_test, y_train, y_test = data.load_digits()
    batch_sizes = [1, 4, 16, 64, 256, len(X_train)]
    if batch_size not in batch_sizes:
        raise ValueError(f"batch_size must be one of {batch_sizes}, got {batch_size}")
    widths = [8, 16, 32, 64, 128]
    if hidden not in widths:
        raise ValueError(f"hidden must be one of {widths}, got {hidden}")
    warmup_steps = check.integer(warmup_steps, "warmup_steps", minimum=0)
    if warmup_steps > 200:
        raise ValueError(f"warmup_steps must be <= 200, got {warmup_steps}")

    stage = _Stage(name, (10, 4.2))
    fig = stage.figure
    ax_loss, ax_acc = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.4, 1], "wspace": 0.22})
    fig.subplots_adjust(left=0.07, right=0.98, top=0.88, bottom=0.14)
    colours = plotting.OKABE_ITO
    loss_previous, = ax_loss.plot([], [], color="0.6", lw=0.8, label="previous run")
    loss_line, = ax_loss.plot([], [], color=colours["blue"], lw=0.9, label="this run")
    accuracy_previous, = ax_acc.plot([], [], color="0.6", ls="--", marker="s", ms=4,
                                     label="previous run")
    accuracy_line, = ax_acc.plot([], [], color=colours["vermillion"], marker="o", ms=5,
                                 label="this run")
    ax_loss.set_yscale("log")
    ax_loss.set_xlim(0, epochs)
    ax_loss.set_ylim(1e-3, 30)
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("mini-batch loss  (log scale)")
    ax_loss.set_title("training loss per step", fontsize=10)
    ax_loss.legend(fontsize=8, loc="lower left")
    ax_acc.set_xlim(-0.2, epochs + 0.2)
    ax_acc.set_ylim(0, 1.02)
    ax_acc.axhline(0.1, color="0.3", ls=":", lw=1, label="chance (0.1)")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("test accuracy")
    ax_acc.set_title(f"test accuracy ({len(X_test)} digits)", fontsize=10)
    ax_acc.legend(fontsize=8, loc="lower right")
    for ax in (ax_loss, ax_acc):
        ax.grid(True, alpha=0.3)

    released = dict(continuous_update=False, style={"description_width": "initial"})
    controls = {
        "optimizer": ipw.Dropdown(options=list(_TRAINING_OPTIMIZERS), value=optimizer,
                                  description="optimizer"),
        "lr0": _log_slider("η₀", lr0, 1e-4, 1.0),
        "batch_size": ipw.SelectionSlider(options=batch_sizes, value=batch_size,
                                          description="batch size", **released),
        "schedule": ipw.Dropdown(options=["constant", "step", "cosine"], value=schedule,
                                 description="schedule"),
        "warmup": ipw.IntSlider(value=warmup_steps, min=0, max=200, step=5,
                                description="warmup steps W", **released),
        "hidden": ipw.SelectionSlider(options=widths, value=hidden, description="hidden units",
                                      **released),
    }
    controls["lr0"].continuous_update = False
    summary = ipw.HTML()
    state: dict[str, Any] = {}
    output = ipw.Output()

    one_thread = _one_blas_thread()

    def refresh():
        batch = controls["batch_size"].value
        with one_thread():
            batch_losses, accuracy, diverged = _train_digits(
                X_train, y_train, X_test, y_test, controls["optimizer"].value,
                controls["lr0"].value, batch, controls["schedule"].value,
                controls["warmup"].value, controls["hidden"].value, epochs, seed)
        if "batch_losses" in state:  # the last run becomes the faint comparison
            loss_previous.set_data(*loss_line.get_data())
            accuracy_previous.set_data(*accuracy_line.get_data())
        per_epoch = math.ceil(len(X_train) / batch)
        warmup = controls["warmup"].value
        warmup_note = f" after {warmup} warmup steps" if warmup else ""
        loss_line.set_data(np.arange(1, len(batch_losses) + 1) / per_epoch, _gap(batch_losses))
        accuracy_line.set_data(np.arange(epochs + 1), accuracy)
        outcome = ("<b>diverged</b> — lower η₀ or add warmup" if diverged else
                   f"test accuracy {accuracy[-1]:.3f} after {epochs} epochs")
        summary.value = (f"{controls['optimizer'].value}, η₀ = {controls['lr0'].value:.3g}, "
                         f"B = {batch} ({per_epoch} steps per epoch), {controls['schedule'].value}"
                         f"{warmup_note}: "
                         f"{outcome}")
        state.update(batch_losses=batch_losses, accuracy=accuracy, diverged=diverged)
        stage.render()

    return _assemble(
        name, stage,
        {"loss": loss_line, "accuracy": accuracy_line, "loss_previous": loss_previous,
         "accuracy_previous": accuracy_previous},
        controls, {"summary": summary},
        [ipw.HBox([controls["optimizer"], controls["lr0"], controls["batch_size"]]),
         ipw.HBox([controls["schedule"], controls["warmup"], controls["hidden"]]), summary],
        refresh, output, state, primary="lr0")


# ---------------------------------------------------------------- benchmark hook

def measure_update_latency(explorer: Explorer, n: int = 50, control: str | None = None) -> dict:
    """Time "slider change → figure rendered" in the kernel, ``n`` times; milliseconds.

    Each round sets ``control`` (default: the explorer's main η slider) to a new value, which
    runs everything the kernel does for a real slider move: the callback recomputes, calls
    ``set_data``, redraws the changing artists over the cached background and encodes the
    pixels — under ipympl ``canvas.blit`` builds and sends the PNG diff to the browser, in
    PNG mode the callback writes the Image widget. The browser's own drawing is not included.

    Returns ``{"median_ms", "p90_ms", "max_ms", "n", "mode"}`` (mode "ipympl" or "png").
    """
    if not isinstance(explorer, Explorer):
        raise TypeError(f"explorer must be an Explorer, got {type(explorer).__name__}")
    n = check.integer(n, "n", minimum=1)
    name = explorer.primary if control is None else control
    if name not in explorer.controls:
        raise ValueError(f"control must be one of {sorted(explorer.controls)}, got {name!r}")
    widget = explorer.controls[name]
    canvas = explorer.figure.canvas
    # Without a browser ipympl also re-encodes a full PNG for the notebook file on every frame;
    # once a browser view is connected it stops. Measure the connected case.
    syncing = getattr(canvas, "syncing_data_url", None)
    if syncing is not None:
        canvas.syncing_data_url = False
    times = []
    try:
        for value in _sweep(widget, n):
            begin = time.perf_counter()
            widget.value = value
            times.append(time.perf_counter() - begin)
    finally:
        if syncing is not None:
            canvas.syncing_data_url = syncing
    if explorer.output.outputs:
        raise RuntimeError(f"the explorer's callback failed: {explorer.output.outputs[-1]}")
    ms = np.array(times) * 1e3
    return {"median_ms": float(np.median(ms)), "p90_ms": float(np.percentile(ms, 90)),
            "max_ms": float(ms.max()), "n": n, "mode": "ipympl" if explorer.live else "png"}


def _sweep(widget, n):
    """n values for a slider, each different from the one before, spread over its range."""
    if isinstance(widget, ipw.SelectionSlider):
        options = list(widget.options)
        return [options[(options.index(widget.value) + 1 + i) % len(options)] for i in range(n)]
    if isinstance(widget, ipw.FloatLogSlider):
        exponents = np.linspace(widget.min, widget.max, 7)[1:-1]
        return [float(widget.base ** exponents[i % len(exponents)]) for i in range(n)]
    if isinstance(widget, (ipw.FloatSlider, ipw.IntSlider)):
        points = np.linspace(widget.min, widget.max, 7)[1:-1]
        kind = int if isinstance(widget, ipw.IntSlider) else float
        return [kind(points[i % len(points)]) for i in range(n)]
    raise TypeError(f"cannot sweep a {type(widget).__name__}; pick a slider control")


def _latency_report(n: int = 50) -> dict:
    """``measure_update_latency`` for every explorer, built with its defaults.

    Not the training explorer: each of its updates is a whole training run, by design.
    """
    builders = (learning_rate_explorer_1d, learning_rate_explorer_2d, batch_size_explorer,
                softmax_explorer, backprop_explorer, optimizer_race, schedule_explorer)
    report = {}
    for build in builders:
        explorer = build()
        report[build.__name__] = measure_update_latency(explorer, n=n)
        explorer.close()
    return report


if __name__ == "__main__":  # python -m course_utils.widgets [n]
    import json
    import sys

    print(json.dumps(_latency_report(int(sys.argv[1]) if len(sys.argv) > 1 else 50), indent=1))
