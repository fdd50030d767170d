"""The stage and the controls every explorer is built from.

- ``Explorer``: what an explorer function returns — the widget box, the figure, its artists,
  controls, labels and latest numbers — and what a control change runs (``update``).
- ``Stage``: the figure, drawn once; the changing artists are redrawn over a cached background
  (blitting), on an ipympl canvas of its own in a kernel, or as a PNG elsewhere.
- ``Panel``: the base of the explorers' classes: build the static parts once, then
  ``refresh`` (recompute, move the artists, render) on every change; ``show`` wires it up.
- Controls: ``log_slider``, ``slider``, ``set_range``, ``click_to_start``.
"""
from __future__ import annotations

import abc
import contextlib
import importlib.util
import io
import math
import sys
import traceback
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import ipywidgets as ipw
import matplotlib
import numpy as np
from matplotlib.figure import Figure

__all__ = ["Explorer", "Stage", "Panel", "LIVE_FIGURES", "kernel_shows_ipympl",
           "ipympl_canvas_classes", "log_slider", "slider", "set_range", "click_to_start",
           "one_blas_thread"]


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
        if LIVE_FIGURES.get(self.name) is self.figure:
            del LIVE_FIGURES[self.name]

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
LIVE_FIGURES: dict[str, Figure] = {}


def _ipympl_active() -> bool:
    backend = matplotlib.get_backend().lower()
    return "ipympl" in backend or backend == "widget"


def kernel_shows_ipympl() -> bool:
    """True in a Jupyter kernel whose frontend can show an ipympl canvas (not Colab's)."""
    if "google.colab" in sys.modules or importlib.util.find_spec("ipympl") is None:
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return getattr(get_ipython(), "kernel", None) is not None


def ipympl_canvas_classes():
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


class Stage:
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
        self.live = _ipympl_active() or kernel_shows_ipympl()
        self.artists: dict[str, Any] = {}
        self._background = None
        self.figure = Figure(figsize=figsize, dpi=100)
        self.view = self._live_canvas(name) if self.live else self._png_view(figsize)
        self.figure.canvas.mpl_connect("draw_event", self._on_full_draw)

    def _live_canvas(self, name: str):
        Canvas, FigureManager = ipympl_canvas_classes()
        previous = LIVE_FIGURES.pop(name, None)
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
        LIVE_FIGURES[name] = self.figure
        return canvas

    def _png_view(self, figsize) -> ipw.Image:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        FigureCanvasAgg(self.figure)
        return ipw.Image(format="png", layout=ipw.Layout(max_width=f"{figsize[0] * 100:.0f}px"))

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


class Panel(abc.ABC):
    """One explorer: its stage, artists, controls, labels and numbers.

    A subclass draws the static parts in ``__init__`` (axes, curves, contours, the controls),
    recomputes and moves its artists in ``refresh`` (run on every control change), and lists
    the rows of controls above the figure in ``rows``; ``show`` wires it all into an
    ``Explorer`` and draws it once.
    """

    primary = "lr"  # the control measure_update_latency moves by default

    def __init__(self, name: str, figsize: tuple[float, float]):
        self.name = name
        self.stage = Stage(name, figsize)
        self.figure = self.stage.figure
        self.artists: dict[str, Any] = {}
        self.controls: dict[str, ipw.Widget] = {}
        self.labels: dict[str, ipw.Widget] = {}
        self.state: dict[str, Any] = {}
        self.output = ipw.Output()

    @abc.abstractmethod
    def refresh(self) -> None:
        """Recompute from the controls, move the artists, render."""

    @abc.abstractmethod
    def rows(self) -> list[ipw.Widget]:
        """The rows of controls and labels shown above the figure."""

    def show(self) -> Explorer:
        """Wire every control to the explorer's guarded update, draw it once, return it."""
        self.stage.artists = self.artists
        explorer = Explorer(name=self.name, box=ipw.VBox([*self.rows(), self.stage.view,
                                                          self.output]),
                            figure=self.figure, artists=self.artists, controls=self.controls,
                            labels=self.labels, output=self.output, refresh=self.refresh,
                            state=self.state, primary=self.primary, live=self.stage.live)
        for widget in self.controls.values():
            if not isinstance(widget, ipw.Play):  # Play drives the step slider in the browser
                widget.observe(lambda change: explorer.update(), names="value")
        self.figure._close_explorer = explorer.close
        explorer.update()
        return explorer


def log_slider(description, value, low, high, step=0.05) -> ipw.FloatLogSlider:
    """A log-scale slider over [low, high] whose readout can be typed into.

    The start value is snapped to the slider's grid (10^(min + k·step)), as the browser's
    slider would snap it on first display: kernel and page then agree from the start.
    """
    exponent = math.log10(low) + round((math.log10(value) - math.log10(low)) / step) * step
    return ipw.FloatLogSlider(
        value=10 ** exponent, base=10, min=math.log10(low), max=math.log10(high), step=step,
        description=description, readout_format=".3g", continuous_update=True,
        style={"description_width": "initial"}, layout=ipw.Layout(width="340px"))


def slider(description, value, low, high, step) -> ipw.FloatSlider:
    return ipw.FloatSlider(value=value, min=low, max=high, step=step, description=description,
                           readout_format=".2f", continuous_update=True,
                           style={"description_width": "initial"},
                           layout=ipw.Layout(width="300px"))


def set_range(widget, low, high) -> None:
    """Move a slider's range; widen first so that min <= max holds at every step."""
    widget.min, widget.max = min(low, widget.min), max(high, widget.max)
    widget.min, widget.max = low, high


def click_to_start(explorer: Explorer, ax, x_name: str, y_name: str) -> None:
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


def one_blas_thread():
    """A context that runs numpy's BLAS on one thread, for the small matrices of the MLPs here.

    On (256, 32) matrices BLAS threads only cost: a pass is 10–40× slower with two threads
    when the cores are busy (1.5 ms → 30–70 ms measured). The controller is built once per
    explorer; entering ``limit`` then costs microseconds, and leaving it restores the threads.
    """
    from threadpoolctl import ThreadpoolController  # installed with scikit-learn

    controller = ThreadpoolController()
    return lambda: controller.limit(limits=1, user_api="blas")
