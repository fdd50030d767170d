"""The stage and the controls every explorer is built from.

- ``Explorer``: what an explorer function returns — the widget box, the figure, its artists,
  controls, labels and latest numbers — and what a control change runs (``update``).
- ``Stage``: the figure, drawn once; the changing artists are redrawn over a cached background
  (blitting), on an ipympl canvas of its own in a kernel, or as a PNG elsewhere.
- ``Panel``: the base of the explorers' classes: build the static parts once, then
  ``refresh`` (recompute, move the artists, render) on every change; ``show`` wires it up.
- Controls: ``log_slider``, ``slider``, ``set_value``, ``set_range``, ``click_to_start``.

One change, one frame, and never a wrong one:

- A value the kernel sets is put on the slider's grid first, and a slider's range moves in the
  same message as its value (``set_value``, ``set_range``): the page then has nothing to round
  and send back. What it still sends back (the same number within float noise) is not a
  change (``moved``) and redraws nothing.
- Every frame sent to the page is whole (``ExplorerCanvas``), never a difference from the frame
  before: ipympl's page drops a frame that arrives while the one before is still decoding, and
  a later difference would then be painted over the wrong picture for good.
"""
from __future__ import annotations

import abc
import contextlib
import functools
import gc
import importlib.util
import struct
import sys
import traceback
import warnings
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

import ipywidgets as ipw
import matplotlib
import numpy as np
from matplotlib.figure import Figure

__all__ = ["Explorer", "Stage", "Panel", "LIVE_FIGURES", "kernel_shows_ipympl",
           "ipympl_canvas_classes", "explorer_canvas_class", "log_slider", "slider", "moved",
           "set_value", "set_range", "click_to_start", "one_blas_thread", "dom_class",
           "settle_garbage"]


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
        stage: the ``Stage`` that draws it; ``frames`` counts the pictures it has sent.
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
    stage: Any = field(default=None, repr=False)
    _busy: bool = field(default=False, repr=False)

    @property
    def frames(self) -> int:
        """Pictures sent so far (to the page, or to the PNG view): one per change."""
        return self.stage.frames if self.stage is not None else 0

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


@functools.cache
def explorer_canvas_class():
    """ipympl's ``Canvas``, sending every frame whole.

    matplotlib's web backend sends a frame as the pixels that differ from the frame before,
    and ipympl's page paints a difference over whatever it shows. But the page keeps one image
    to decode into: a frame that arrives while the one before is still decoding replaces it,
    and the one before is lost. A lost difference leaves the canvas wrong for good (notebook
    01 showed the double well under the parabola's lines). A whole frame never depends on the
    one before: a lost one is only a skipped picture. Written by ``png_bytes``, it costs less
    than matplotlib's difference written by PIL.
    """
    Canvas, _ = ipympl_canvas_classes()

    class ExplorerCanvas(Canvas):
        def get_diff_image(self):
            if not self._png_is_old:
                return None
            pixels = np.asarray(self.get_renderer().buffer_rgba())
            self.set_image_mode("full")  # a message only if the mode was ever anything else
            self._last_buff = pixels.view(np.uint32).squeeze(2)  # ipympl's data URL reads it
            self._force_full = self._png_is_old = False
            return png_bytes(pixels)

    ExplorerCanvas.__name__ = ExplorerCanvas.__qualname__ = "ExplorerCanvas"
    return ExplorerCanvas


def png_bytes(pixels: np.ndarray) -> bytes:
    """RGBA pixels (H, W, 4) as a PNG, written here: rows unfiltered, zlib's fastest level.

    A figure is mostly flat colour, so this is about as small as PIL's PNG and 3-5× faster to
    write (PIL tries a filter per row): a 900 × 480 frame takes 3-10 ms instead of 15-35 ms.
    """
    height, width, _ = pixels.shape
    rows = np.empty((height, 4 * width + 1), dtype=np.uint8)
    rows[:, 0] = 0  # filter type "none" for every row
    rows[:, 1:] = pixels.reshape(height, 4 * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"".join([b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", header),
                     _chunk(b"IDAT", zlib.compress(rows.data, 1)), _chunk(b"IEND", b"")])


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


class Stage:
    """A figure drawn once, whose changing artists are redrawn on top of a cached background.

    All artists in ``artists`` are "animated": a full draw (``render(full=True)``, or any
    redraw the frontend asks for) renders the static parts, caches those pixels and then
    draws the artists over them. ``render()`` restores the cache and redraws only the
    artists — blitting — so a slider move costs a few line draws instead of re-rendering
    every contour, tick and label. Call ``render(full=True)`` after changing anything static
    (axes limits, contours, titles). ``frames`` counts the pictures sent: one per render.

    Live (a Jupyter kernel with ipympl, or the ipympl backend): the figure gets an ipympl
    canvas of its own — outside pyplot, so the notebook's backend (``%matplotlib inline``)
    stays as it is for every other figure, and no ``%matplotlib widget`` is needed. An older
    explorer of the same name is closed first, so re-running a cell never piles canvases up;
    each render sends one whole frame to the page (``ExplorerCanvas``). Otherwise (Colab,
    scripts, tests): the figure is shown as a PNG in an ``Image`` widget.
    """

    def __init__(self, name: str, figsize: tuple[float, float]):
        self.live = _ipympl_active() or kernel_shows_ipympl()
        self.artists: dict[str, Any] = {}
        self.frames = 0
        self._background = None
        # A whole number of pixels, nudged up: 4.6 in × 100 dpi is 459.99999999999994 in
        # floats, which Agg rounds to 460 rows and the page's canvas floors to 459.
        figsize = tuple((round(inches * 100) + 1e-3) / 100 for inches in figsize)
        self.figure = Figure(figsize=figsize, dpi=100)
        self.view = self._live_canvas(name) if self.live else self._png_view(figsize)
        self.figure.canvas.mpl_connect("draw_event", self._on_full_draw)

    def _live_canvas(self, name: str):
        _, FigureManager = ipympl_canvas_classes()
        previous = LIVE_FIGURES.pop(name, None)
        close_previous = getattr(previous, "_close_explorer", None)
        if close_previous is not None:
            close_previous()
        canvas = explorer_canvas_class()(self.figure)
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
        self.frames += 1

    def png(self) -> bytes:
        """The figure's current pixels as PNG bytes (what the Image widget shows)."""
        return png_bytes(np.asarray(self.figure.canvas.buffer_rgba()))


def settle_garbage() -> None:
    """Collect now, then exempt every object alive from later full collections (``gc.freeze``).

    A full collection walks every object of the kernel: 70-300 ms with matplotlib, sklearn or
    torch imported, which a student saw as a slider move that hung now and then. Frozen, the
    objects alive when an explorer is built are no longer walked, so later collections see only
    what was made since. The next explorer built unfreezes them first and collects (one that
    re-running its cell replaced is freed then). Only in a live kernel.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


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
                            state=self.state, primary=self.primary, live=self.stage.live,
                            stage=self.stage)
        explorer.box.add_class("descent-explorer")
        explorer.box.add_class(dom_class(self.name))  # for the browser tests: which is which

        def on_change(change):
            if moved(change["owner"], change["old"], change["new"]):
                explorer.update()

        for widget in self.controls.values():
            if not isinstance(widget, ipw.Play):  # Play drives the step slider in the browser
                widget.observe(on_change, names="value")
        self.figure._close_explorer = explorer.close
        explorer.update()
        if self.stage.live:
            settle_garbage()
        return explorer


# The controls (sliders, their grid, click-to-start) live in ``controls``; explorers import them
# from here with the stage.
from course_utils.explorers.controls import (  # noqa: E402,F401
    click_to_start, dom_class, log_slider, moved, on_grid, one_blas_thread, set_range, set_value,
    slider)
