"""Section 3: widget responsiveness — slider change → figure redrawn, for every explorer.

Measured where a student's slider moves are handled: inside a real Jupyter kernel (started by
nbclient, as in JupyterLab), where every explorer gets its live ipympl canvas and each redraw is
sent over the widget comm. ``measure_update_latency`` (``course_utils.explorers.latency``, as
the notebooks see it: ``course_utils.widgets``) moves the explorer's main slider ``updates`` times
per run and times each change until the new pixels are encoded and sent; the browser's own
painting is not included (``bench/browser.py`` measures that). The moves of all runs are pooled:
median, p90 and the slowest, against the issue's targets for every explorer (median ≤ 30 ms,
p90 ≤ 50 ms, no move over 150 ms, the first included). The explorers are every public function of ``course_utils.widgets``
that returns an ``Explorer``, each built with its defaults. This is the only widget benchmark:
the library keeps no hook of its own.
"""
from __future__ import annotations

import json
import tempfile

import nbformat
from nbclient import NotebookClient

import numpy as np

from bench.stats import row, summarise

TARGET_MS = 30.0  # median, every explorer
TARGET_P90_MS = 50.0
TARGET_MAX_MS = 150.0
MARKER = "BENCH-WIDGETS-JSON:"

# Runs in the kernel. Timing each build shows what opening the widget costs, too.
KERNEL_CODE = """
import inspect, json, time
from course_utils import optim, widgets

def plain(rule):  # a student's rule: the maths, no argument checks
    return optim.unchecked(rule)

def explorers():
    for name in widgets.__all__:
        fn = getattr(widgets, name)
        if inspect.isfunction(fn) and str(inspect.signature(fn).return_annotation) in (
                "Explorer", str(widgets.Explorer)):
            yield name, fn, None
    # The races as notebooks 06 and 07 build them, with the students' rules racing too.
    yield "optimizer_race (06)", lambda: widgets.optimizer_race(
        show=("SGD", "momentum", "Nesterov"), your_rules={
            "momentum": plain(optim.momentum_step), "nesterov": plain(optim.nesterov_step)},
        name="race 06"), "lr_sgd"
    yield "optimizer_race (07)", lambda: widgets.optimizer_race(
        landscape="Rosenbrock", your_rules={
            "rmsprop": plain(optim.rmsprop_step), "adam": plain(optim.adam_step)},
        name="race 07"), "lr_adaptive"

report = {}
for name, build, control in explorers():
    began = time.perf_counter()
    explorer = build()
    built = time.perf_counter() - began
    runs = [widgets.measure_update_latency(explorer, n=UPDATES, control=control)
            for _ in range(RUNS)]
    explorer.close()
    report[name] = {"build_s": built, "runs": runs, "control": control or explorer.primary}
print(MARKER + json.dumps(report))
"""


def measure_in_kernel(updates: int, runs: int, timeout: int = 600) -> dict:
    """``{explorer: {"build_s", "runs": [measure_update_latency(...) per run]}}``."""
    code = (KERNEL_CODE.replace("UPDATES", str(int(updates))).replace("RUNS", str(int(runs)))
            .replace("MARKER", repr(MARKER)))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    with tempfile.TemporaryDirectory(prefix="bench-widgets-") as cwd:
        NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": cwd}}).execute()
    text = ""
    for out in nb.cells[0].outputs:
        if out.output_type == "error":
            raise RuntimeError(f"widget measurement failed in the kernel: {out.ename}: "
                               f"{out.evalue}")
        if out.output_type == "stream":
            text += out.text
    for line in text.splitlines():
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER):])
    raise RuntimeError(f"the kernel printed no widget report: {text[-500:]!r}")


def run(updates: int = 50, runs: int = 3, log=print) -> dict:
    report = measure_in_kernel(updates, runs)
    rows = []
    for name, result in report.items():
        times = [t for r in result["runs"] for t in r["times_ms"]]
        modes = sorted({r["mode"] for r in result["runs"]})
        p90, worst = float(np.percentile(times, 90)), max(times)
        stat = summarise(times, "ms")
        note = (f"p90 {p90:.0f} ms (≤ {TARGET_P90_MS:.0f}), slowest {worst:.0f} ms "
                f"(≤ {TARGET_MAX_MS:.0f}); built in {result['build_s']:.2f} s")
        if modes != ["ipympl"]:
            note += f"; mode {'/'.join(modes)} (not the live ipympl canvas)"
        what = name if "(" in name else f"{name}()"
        line = row(what, stat, TARGET_MS, note=f"moves {result['control']}; {note}")
        line.update(p90=p90, met=bool(stat.median <= TARGET_MS and p90 <= TARGET_P90_MS
                                      and worst <= TARGET_MAX_MS))
        rows.append(line)
        log(f"  widgets {name}: median {stat.median:.1f} ms, p90 {p90:.1f} ms, "
            f"max {worst:.1f} ms (n={stat.n}); built in {result['build_s']:.2f} s")
    return {"config": {"updates_per_run": updates, "runs": runs, "where": "Jupyter kernel "
                       "(nbclient), ipympl canvas"}, "rows": rows, "raw": report}
