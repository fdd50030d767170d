"""How long a slider move takes to redraw an explorer: what ``bench/widgets.py`` measures."""
from __future__ import annotations

import time

import ipywidgets as ipw
import numpy as np

from course_utils import arguments
from course_utils.explorers.stage import Explorer

__all__ = ["measure_update_latency", "sweep"]


def measure_update_latency(explorer: Explorer, n: int = 50, control: str | None = None) -> dict:
    """Time "slider change → figure rendered" in the kernel, ``n`` times; milliseconds.

    Each round sets ``control`` (default: the explorer's main η slider) to a new value, which
    runs everything the kernel does for a real slider move: the callback recomputes, calls
    ``set_data``, redraws the changing artists over the cached background and encodes the
    pixels — under ipympl ``canvas.blit`` builds and sends the PNG diff to the browser, in
    PNG mode the callback writes the Image widget. The browser's own drawing is not included.

    Without a page (nbclient, a script) the live canvas has drawn nothing yet: it is first
    drawn once, untimed, as a page does when it connects (its first frame); the timed moves
    are then what a student's are.

    Returns ``{"median_ms", "p90_ms", "max_ms", "n", "mode", "times_ms"}`` (mode "ipympl" or
    "png"; ``times_ms`` every move's time, in order).
    """
    if not isinstance(explorer, Explorer):
        raise TypeError(f"explorer must be an Explorer, got {type(explorer).__name__}")
    n = arguments.integer(n, "n", minimum=1)
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
        if syncing:
            canvas.draw()  # the first frame a connecting page asks for
    times = []
    try:
        for value in sweep(widget, n):
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
            "max_ms": float(ms.max()), "n": n, "mode": "ipympl" if explorer.live else "png",
            "times_ms": [round(float(t), 3) for t in ms]}


def sweep(widget, n):
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
