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
