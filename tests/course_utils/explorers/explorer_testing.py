"""Helpers shared by the explorer tests: what a figure shows, and a reference descent."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from course_utils import optim

REPO = Path(__file__).resolve().parents[3]
RTOL = 1e-10  # same float64 arithmetic on both sides; only the operation order may differ


def xy(line) -> np.ndarray:
    """The (n, 2) points a Line2D shows."""
    x, y = line.get_data()
    return np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])


def assert_no_callback_error(explorer):
    assert not explorer.output.outputs, f"callback failed: {explorer.output.outputs}"


def gd_reference(grad, w0, lr, steps):
    """Gradient descent with the checked public rule, one step at a time; NaN once it blew up."""
    w = np.asarray(w0, dtype=float)
    path = np.full((steps + 1,) + w.shape, np.nan)
    path[0] = w
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, steps + 1):
            g = grad(w)
            if not np.all(np.isfinite(g)):
                break
            w = optim.sgd_step(w, g, lr)
            path[k] = w
    return path


def layout_problems(explorer) -> list[str]:
    """What a student could not read in the explorer's figure as drawn now: a label, tick label,
    title or legend outside the figure, two of them on top of each other (from different axes
    or roles), or a legend over an axes' data area (where lines would run through it)."""
    figure = explorer.figure
    figure.canvas.draw()  # the layout as the page's first frame has it
    renderer = figure.canvas.get_renderer()
    page = figure.bbox
    boxes = []  # (who, bbox)
    legends = []
    for i, ax in enumerate(figure.axes):
        for role, texts in (("title", [ax.title, ax._left_title, ax._right_title]),
                            ("xlabel", [ax.xaxis.label]), ("ylabel", [ax.yaxis.label]),
                            ("xticks", _drawn_ticks(ax.xaxis)), ("yticks", _drawn_ticks(ax.yaxis))):
            for text in texts:
                if text.get_visible() and text.get_text().strip() and text not in \
                        explorer.artists.values():
                    boxes.append((f"axes {i} {role} {text.get_text()!r}",
                                  text.get_window_extent(renderer)))
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            legends.append((f"axes {i} legend", legend.get_window_extent(renderer)))
    problems = []
    for who, box in boxes + legends:
        if (box.x0 < page.x0 - 1 or box.x1 > page.x1 + 1 or box.y0 < page.y0 - 1
                or box.y1 > page.y1 + 1):
            problems.append(f"{who} is cut off by the figure's edge")
    for who, box in legends:
        for j, ax in enumerate(figure.axes):
            if box.overlaps(ax.get_window_extent(renderer)) and \
                    _area(box, ax.get_window_extent(renderer)) > 4:
                problems.append(f"{who} lies over the data of axes {j}")
    for n, (who, box) in enumerate(boxes):
        for other, other_box in boxes[n + 1:]:
            same_axis = who.split("'")[0] == other.split("'")[0]
            if not same_axis and _area(box, other_box) > 4:
                problems.append(f"{who} overlaps {other}")
    return problems


def _drawn_ticks(axis) -> list:
    """The tick labels drawn: those whose tick lies within the view (the others are not)."""
    scale = axis.get_transform()  # log, symlog or linear: compare where the ticks are drawn
    low, high = sorted(scale.transform(np.asarray(axis.get_view_interval(), dtype=float)))
    ticks = scale.transform(np.asarray(axis.get_ticklocs(), dtype=float))
    slack = 1e-9 * (high - low)
    return [label for tick, label in zip(ticks, axis.get_ticklabels())
            if low - slack <= tick <= high + slack]


def _area(a, b) -> float:
    """Overlap area of two display bboxes, in pixels²."""
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(width, 0) * max(height, 0)
