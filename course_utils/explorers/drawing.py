"""What several explorers draw: gaps for blown-up runs, log-scale gaps, contours, regime bands."""
from __future__ import annotations

import math

import numpy as np

from course_utils import plotting
from course_utils.i18n import _
from course_utils.regimes import REGIMES, regime_name

__all__ = ["FAR", "REGIME_COLOURS", "for_drawing", "gap", "contours", "badge", "regime_strip",
           "legend_above", "legend_beside", "status_text"]

# Points this far out are off every view window: drawn as gaps, so Agg never strokes 1e200.
FAR = 1e6
REGIME_COLOURS = {regime: plotting.OKABE_ITO[colour] for regime, colour in zip(
    REGIMES, ("blue", "bluish_green", "orange", "vermillion"))}


def for_drawing(points: np.ndarray) -> np.ndarray:
    """inf and far-away points become NaN: matplotlib draws them as gaps."""
    points = np.array(points, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        points[~np.isfinite(points) | (np.abs(points) > FAR)] = np.nan
    return points


def gap(values: np.ndarray, floor: float = 1e-16) -> np.ndarray:
    """Loss above the minimum for a log axis: floored, with NaN where the run blew up."""
    values = for_drawing(values)
    with np.errstate(invalid="ignore"):
        return np.where(np.isnan(values), np.nan, np.maximum(values, floor))


def contours(ax, landscape, n_levels=20):
    """Contour lines, log-spaced above the minimum (``plotting.log_levels``), on a 160² grid."""
    W1, W2, F = landscape.grid(160)
    return ax.contour(W1, W2, F, levels=plotting.log_levels(landscape, F, n_levels),
                      cmap="viridis", linewidths=0.7, alpha=0.9)


def legend_above(ax, ncol: int, handles=None, fontsize: float = 8):
    """The legend in rows just above the axes, under its title (give the title ``pad``):
    outside the data, so no line ever runs through it."""
    return ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=ncol,
                     fontsize=fontsize, frameon=False, borderaxespad=0.2, handlelength=2.0,
                     columnspacing=1.2, handletextpad=0.5)


def legend_beside(ax, handles=None, fontsize: float = 8):
    """The legend in a column just right of the axes, top-aligned: outside the data."""
    return ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                     fontsize=fontsize, frameon=False, borderaxespad=0.0, handlelength=2.0,
                     handletextpad=0.5)


def status_text(ax, y: float = 0.5):
    """An empty text in the middle of ``ax``, on a white box, for "diverged — lower η": a run
    that blew up says so in the picture, not only in the line that stops."""
    return ax.text(0.5, y, "", transform=ax.transAxes, ha="center", va="center", fontsize=10,
                   color=plotting.OKABE_ITO["vermillion"], fontweight="bold",
                   bbox=dict(facecolor="white", edgecolor=plotting.OKABE_ITO["vermillion"],
                             boxstyle="round,pad=0.4"))


def badge(regime: str, detail: str) -> str:
    """HTML: the regime's name on its colour, then ``detail``."""
    colour = REGIME_COLOURS[regime]
    return (f"<span class='descent-regime' style='background:{colour};color:white;padding:2px 8px;"
            f"border-radius:4px;font-weight:bold'>{regime_name(regime)}</span>&nbsp; {detail}")


def regime_strip(ax, edges, lr_range, note, curvature="λ"):
    """The η axis with the regime bands of a quadratic: drawn once, a marker moves on it.

    ``edges`` are ``regimes.regime_edges``; returns the marker (a vertical line at η).
    """
    low, high = lr_range
    bounds = [low, *edges, high]
    for regime, left, right in zip(REGIMES, bounds[:-1], bounds[1:]):
        left, right = max(left, low), min(right, high)
        if right <= left:
            continue
        ax.axvspan(left, right, color=REGIME_COLOURS[regime], alpha=0.25, lw=0)
        ax.text(math.sqrt(left * right), 0.5, regime_name(regime), ha="center", va="center",
                fontsize=8, transform=ax.get_xaxis_transform())
    for x, text, side in zip(edges[1:], (f"1/{curvature}", f"2/{curvature}"), ("right", "left")):
        if low < x < high:  # 2/λ is always twice 1/λ: labels lean apart, not on each other
            ax.axvline(x, color="0.3", lw=0.8, ls=":")
            ax.text(x, 1.02, f" {text} = {x:.3g} ", ha=side, va="bottom", fontsize=8,
                    transform=ax.get_xaxis_transform())
    ax.set_xscale("log")
    ax.set_xlim(low, high)
    ax.set_yticks([])
    ax.set_xlabel(_("learning rate η (log scale) — {note}").format(note=note))
    return ax.axvline(low, color="black", lw=2.5)
