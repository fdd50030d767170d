"""The explorers' controls: sliders whose values sit on their grid, ranges that move in one
message, a click that moves the start sliders, and one BLAS thread for small matrices.

Kernel and page must agree on every value: a value the kernel sets is put on the slider's grid
first (``set_value``), a range moves with its value in one message (``set_range``), and float
noise echoed back by the page is not a change (``moved``).
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import ipywidgets as ipw

if TYPE_CHECKING:
    from course_utils.explorers.stage import Explorer


def dom_class(name: str) -> str:
    """The CSS class of an explorer's box on the page: "descent-explorer-" and its name's
    words, e.g. ``descent-explorer-learning-rate-explorer-1-d``."""
    words = "".join(c if c.isalnum() else " " for c in name.lower()).split()
    return "-".join(["descent-explorer", *words])


def log_slider(description, value, low, high, step=0.05) -> ipw.FloatLogSlider:
    """A log-scale slider over [low, high] whose readout can be typed into.

    The start value is snapped to the slider's grid (10^(min + k·step)), as the browser's
    slider would snap it on first display: kernel and page then agree from the start.
    """
    exponent = math.log10(low) + round((math.log10(value) - math.log10(low)) / step) * step
    return ipw.FloatLogSlider(
        value=10 ** exponent, base=10, min=math.log10(low), max=math.log10(high), step=step,
        description=description, readout_format=".3g", continuous_update=True,
        style={"description_width": "initial"}, layout=ipw.Layout(width=_width(description)))


def slider(description, value, low, high, step, readout_format=".2f") -> ipw.FloatSlider:
    """A slider over [low, high] whose start value is on its grid (low + k·step)."""
    widget = ipw.FloatSlider(value=low, min=low, max=high, step=step, description=description,
                             readout_format=readout_format, continuous_update=True,
                             style={"description_width": "initial"},
                             layout=ipw.Layout(width=_width(description, 200)))
    set_value(widget, value)
    return widget


def _width(description: str, track: int = 230) -> str:
    """A slider's width: its description's (about 7 px a character) and a track of ``track``
    px with the readout; a long description does not squeeze the track to nothing."""
    return f"{track + 7 * len(description)}px"


def moved(widget, old, new) -> bool:
    """Whether a slider's value really changed, not just by the float noise of the page
    rounding it to its grid (it sends 0.30000000000000004 back for the kernel's 0.3)."""
    if isinstance(widget, ipw.FloatLogSlider):
        if old > 0 and new > 0:
            return abs(math.log(new / old, widget.base)) > 1e-6 * widget.step
    elif isinstance(widget, ipw.FloatSlider):
        return abs(new - old) > 1e-6 * widget.step
    return old != new


def on_grid(widget, value: float) -> float:
    """``value`` put on the slider's grid, as the page's slider would put it (within float
    noise): min + k·step for a slider, base^(min + k·step) for a log slider."""
    if isinstance(widget, ipw.FloatLogSlider):
        exponent = math.log(value, widget.base) if value > 0 else widget.min
        k = round((min(max(exponent, widget.min), widget.max) - widget.min) / widget.step)
        return float(widget.base ** (widget.min + k * widget.step))
    if isinstance(widget, ipw.FloatSlider):
        k = round((min(max(value, widget.min), widget.max) - widget.min) / widget.step)
        return round(widget.min + k * widget.step, 12)
    return value


def set_value(widget, value) -> None:
    """Set a control from the kernel to a value its page shows as it is (on the grid)."""
    widget.value = on_grid(widget, value)


def set_range(widget, low, high, value=None) -> None:
    """Move a slider's range (and value) in one message to the page, the range first.

    Widened first so that min <= max holds at every step. One message, range first: the page
    sets all three, then updates its slider for the new range with the new value. Had the
    value come first (or alone), the page would pin it into the old range, or put its old
    value on the new grid, and send that back after the kernel had moved on: the slider would
    then read one start while the figure shows another.
    """
    with widget.hold_sync():
        widget.min, widget.max = min(low, widget.min), max(high, widget.max)
        widget.min, widget.max = low, high
        if value is not None:
            set_value(widget, value)
        held = set(widget._states_to_send)  # what ipywidgets would send as a set, in any order
        widget._states_to_send.clear()
    first = [key for key in ("min", "max", "step", "value") if key in held]
    if held:
        widget.send_state(first + sorted(held - set(first)))


def click_to_start(explorer: Explorer, ax, x_name: str, y_name: str) -> None:
    """A click on ``ax`` (ipympl, no pan/zoom active) moves the start sliders there."""
    controls = explorer.controls

    def on_click(event):
        toolbar = getattr(explorer.figure.canvas, "toolbar", None)
        if event.inaxes is not ax or event.xdata is None or getattr(toolbar, "mode", ""):
            return
        x_slider, y_slider = controls[x_name], controls[y_name]
        with explorer.paused():  # one recomputation for the pair
            set_value(x_slider, float(event.xdata))
            set_value(y_slider, float(event.ydata))
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
