"""Section 5: explorers in a real browser — slider change → canvas pixels changed.

JupyterLab 4 in headless Chromium (``bench/lab.py``: one server, one page), on a notebook that
builds every explorer the way its notebook does (``EXPLORERS``; 06 and 07 race the reference
rules where the students' own go). For each explorer its main slider is moved by the keyboard,
as a student would (focus the handle, press → or ←), ``samples`` times. Each sample is timed in
the page, from the key press (``keydown``, captured before the slider sees it) to the first
time the explorer's canvas is painted afterwards: the page's 2-D context of that canvas has its
``drawImage`` wrapped, which ipympl calls once per frame it shows. Nothing polls the canvas.
Before each press the previous frame has been painted and the kernel is idle, so each time is
one change's: the kernel's work, the frame's trip through the server, PNG decoding and painting.

Reported per explorer: median, p90 and the slowest, against the issue's targets (median ≤ 50 ms
and slowest ≤ 150 ms; the training explorer, which retrains on every change, median ≤ 100 ms).
"""
from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.lab import JupyterLab, browser_problems, chromium, kernel_execute, run_all
from bench.stats import row, summarise

# key -> (the code that builds it, as its notebook does, and the slider the benchmark moves).
# Each is named "explorer <key>" (NAME), so the two races of 06 and 07 live side by side. Their
# "your" rules are the reference maths without its argument checks: plain functions, like a
# student's.
EXPLORERS = {
    "01": ("widgets.learning_rate_explorer_1d(name=NAME)", "lr"),
    "02": ("widgets.learning_rate_explorer_2d(name=NAME)", "lr"),
    "03": ("widgets.batch_size_explorer(name=NAME)", "lr"),
    "04": ("widgets.softmax_explorer(name=NAME)", "z1"),
    "05": ("widgets.backprop_explorer(name=NAME)", "weight_scale"),
    "06": ("widgets.optimizer_race(show=('SGD', 'momentum', 'Nesterov'), your_rules={"
           "'momentum': plain(optim.momentum_step), 'nesterov': plain(optim.nesterov_step)}, "
           "name=NAME)", "lr_sgd"),
    "07": ("widgets.optimizer_race(landscape='Rosenbrock', your_rules={"
           "'rmsprop': plain(optim.rmsprop_step), 'adam': plain(optim.adam_step)}, name=NAME)",
           "lr_adaptive"),
    "08": ("widgets.schedule_explorer(name=NAME)", "lr0"),
    "09": ("widgets.training_explorer(name=NAME)", "lr0"),
    "10": ("widgets.initialization_explorer(name=NAME)", "scale"),
}
TARGET_MEDIAN_MS, TARGET_MAX_MS, TRAINING_TARGET_MEDIAN_MS = 50.0, 150.0, 100.0

SETUP = """\
%matplotlib inline
import base64, hashlib, json
import matplotlib.pyplot as plt
import numpy as np
from course_utils import optim, widgets
from course_utils.explorers.stage import dom_class, moved, png_bytes

E, CHANGES = {}, {}

def plain(rule):
    '''A reference rule as a student writes it: the maths, no argument checks.'''
    maths = optim.unchecked(rule)
    def step(*args, **kwargs):
        return maths(*args, **kwargs)
    step.__name__ = rule.__name__
    return step

def _count_changes(key):
    '''Count the changes the page sends to explorer `key` (not those its refresh makes).'''
    e, CHANGES[key] = E[key], 0
    def seen(change):
        if not e._busy and moved(change["owner"], change["old"], change["new"]):
            CHANGES[key] += 1
    for widget in e.controls.values():
        if type(widget).__name__ != "Play":  # Play drives the step slider in the page
            widget.observe(seen, names="value")

def _probe(key, png=False):
    '''What the kernel shows for explorer `key`: the frames it sent, its last frame (SHA-256
    of the RGBA pixels; with `png`, the PNG in base64), its controls' values, its labels.'''
    e = E[key]
    pixels = np.ascontiguousarray(e.figure.canvas.buffer_rgba())
    print(json.dumps({"frames": e.frames, "changes": CHANGES.get(key, 0),
                      "sha256": hashlib.sha256(pixels.data).hexdigest(),
                      "png": base64.b64encode(png_bytes(pixels)).decode() if png else None,
                      "values": {n: w.value for n, w in e.controls.items()},
                      "labels": {n: getattr(w, "value", "") for n, w in e.labels.items()},
                      "errors": [o.get("text", "") for o in e.output.outputs]}, default=str))
"""


def name_of(key: str) -> str:
    return f"explorer {key}"


def write_notebook(folder: Path, keys=None, inline_figures: bool = True) -> str:
    """A notebook with the set-up cell, one cell per explorer (``keys``, default all) and, if
    ``inline_figures``, a plain matplotlib figure before and after them."""
    import nbformat

    cells = [SETUP]
    if inline_figures:
        cells.append("plt.plot([1, 2, 3]); plt.title('an inline figure'); plt.show()")
    for key in keys or EXPLORERS:
        code, _ = EXPLORERS[key]
        cells.append(f"E[{key!r}] = {code.replace('NAME', repr(name_of(key)))}\n"
                     f"_count_changes({key!r})\nE[{key!r}]")
    if inline_figures:
        cells.append("plt.plot([3, 2, 1]); plt.show()\n"
                     "print(matplotlib.get_backend() if 'matplotlib' in dir() else "
                     "plt.get_backend())")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    path = folder / "explorers.ipynb"
    nbformat.write(nb, path)
    return path.name


# In the page: wrap drawImage on each explorer's canvas context; count and time its paints.
HOOK = """(classes) => {
    window.descent = window.descent || {paints: {}, last: {}, keyAt: null};
    const d = window.descent;
    if (!d.listening) {  // the key press, before any widget handles it
        window.addEventListener("keydown", () => { d.keyAt = performance.now(); }, true);
        d.listening = true;
    }
    for (const [key, cls] of Object.entries(classes)) {
        const canvas = document.querySelector(`.${cls} .jupyter-matplotlib-canvas-div canvas`);
        if (!canvas) return key;  // not on the page yet
        const context = canvas.getContext("2d");
        if (context.descentHooked) continue;
        const draw = context.drawImage;
        d.paints[key] = 0;
        d.times = d.times || {};
        d.times[key] = [];
        context.drawImage = function (...args) {
            const now = performance.now();
            d.paints[key] += 1;
            d.last[key] = now;
            d.times[key].push(now);
            const result = draw.apply(this, args);
            if (d.waiter && d.waiter.key === key && now > d.keyAt) {  // FIRST_PAINT waits
                d.waiter.resolve(now - d.keyAt);
                d.waiter = null;
            }
            return result;
        };
        context.descentHooked = true;
    }
    return null;
}"""


def hook_canvases(page, keys, timeout: float = 120) -> None:
    """Wrap the explorers' canvases once they are on the page."""
    classes = {key: dom_class(name_of(key)) for key in keys}
    deadline = time.monotonic() + timeout
    while (missing := page.evaluate(HOOK, classes)) is not None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"explorer {missing}'s canvas never appeared on the page")
        page.wait_for_timeout(250)


def dom_class(name: str) -> str:
    from course_utils.explorers.stage import dom_class as box_class
    return box_class(name)


def slider_handle(page, key: str, control: str, description: str):
    box = page.locator(f".{dom_class(name_of(key))}")
    return box.locator(f".widget-slider:has(label:text-is({description!r})) .noUi-handle")


def wait_idle(page, key: str, quiet_ms: float = 400, timeout: float = 20) -> None:
    """Until the kernel is idle and the canvas has not been painted for ``quiet_ms``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        idle, since = page.evaluate("""(key) => {
            const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
            const last = window.descent.last[key] || 0;
            return [kernel.status === "idle", performance.now() - last];
        }""", key)
        if idle and since >= quiet_ms:
            return
        page.wait_for_timeout(50)


def time_slider(page, key: str, control: str, description: str, samples: int) -> list[float]:
    """Key press → first paint of the explorer's canvas after it, ``samples`` times (ms): one
    → press per sample, or ← once the handle is at the end of the slider."""
    handle = slider_handle(page, key, control, description)
    handle.scroll_into_view_if_needed()
    handle.focus()
    times, direction = [], "ArrowRight"
    for _ in range(samples):
        wait_idle(page, key)
        now, low, high = (float(handle.get_attribute(f"aria-value{end}"))
                          for end in ("now", "min", "max"))
        if now >= high or now <= low:
            direction = "ArrowLeft" if now >= high else "ArrowRight"
        page.keyboard.press(direction)
        times.append(page.evaluate(FIRST_PAINT, key))
    return times


# The first paint of the explorer's canvas after the last key press, in ms: at once if it has
# happened, else when the wrapped drawImage reports it (nothing polls).
FIRST_PAINT = """(key) => new Promise((resolve, reject) => {
    const d = window.descent;
    const after = d.times[key].find((t) => t > d.keyAt);
    if (after !== undefined) return resolve(after - d.keyAt);
    d.waiter = {key, resolve};
    setTimeout(() => reject(new Error("no paint within 30 s of the key press")), 30000);
})"""


def descriptions(page, key: str) -> dict:
    """The explorer's slider descriptions by control name, read from the kernel."""
    out = kernel_execute(page, f"import json; print(json.dumps({{n: w.description for n, w in "
                               f"E[{key!r}].controls.items()}}))")
    return json.loads(out)


def measure(samples: int = 20, keys=None, log=print) -> dict:
    """``{key: [ms, …]}``: key press → canvas painted, for each explorer's main slider."""
    keys = list(keys or EXPLORERS)
    problems = browser_problems()
    if problems:
        raise RuntimeError("cannot drive Chromium: " + "; ".join(problems)
                           + ". Run `make sysdeps`.")
    with tempfile.TemporaryDirectory(prefix="bench-browser-") as scratch:
        folder = Path(scratch) / "work"
        folder.mkdir()
        notebook = write_notebook(folder, keys, inline_figures=False)
        with JupyterLab(folder, home=Path(scratch) / "home") as lab, chromium() as browser:
            page = lab.open(browser, notebook)
            run_all(page)
            hook_canvases(page, keys)
            page.wait_for_function("""() => window.jupyterapp.shell.currentWidget.sessionContext
                .session.kernel.status === "idle" """, timeout=180_000)
            results = {}
            for key in keys:
                control = EXPLORERS[key][1]
                description = descriptions(page, key)[control]
                slider_handle(page, key, control, description).wait_for()
                time_slider(page, key, control, description, 2)  # warm-up, untimed
                results[key] = time_slider(page, key, control, description, samples)
                log(f"  browser {key}: median {statistics.median(results[key]):.0f} ms, "
                    f"p90 {np.percentile(results[key], 90):.0f} ms, "
                    f"max {max(results[key]):.0f} ms")
            return results


def run(samples: int = 20, log=print) -> dict:
    raw = measure(samples, log=log)
    rows = []
    for key, times in raw.items():
        training = key == "09"
        target = TRAINING_TARGET_MEDIAN_MS if training else TARGET_MEDIAN_MS
        stat, p90, worst = summarise(times, "ms"), float(np.percentile(times, 90)), max(times)
        line = row(f"{key} {EXPLORERS[key][0].split('(')[0].removeprefix('widgets.')}(): "
                   f"{EXPLORERS[key][1]}", stat, target,
                   note=f"p90 {p90:.0f} ms; slowest {worst:.0f} ms"
                        + ("" if training else f" (≤ {TARGET_MAX_MS:.0f})"))
        line.update(p90=p90, met=bool(stat.median <= target
                                      and (training or worst <= TARGET_MAX_MS)))
        rows.append(line)
    return {"config": {"samples_per_explorer": samples, "where": "JupyterLab 4 + headless "
                       "Chromium, key press → explorer canvas painted"}, "rows": rows, "raw": raw}
