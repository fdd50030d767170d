"""Notebook 05: depth, activation and initial weight scale → the gradient at every layer."""
from __future__ import annotations

import ipywidgets as ipw
import numpy as np
from matplotlib.patches import Patch

from course_utils import arguments, data, losses, nn, plotting
from course_utils.explorers.drawing import legend_above, status_text
from course_utils.explorers.stage import Explorer, Panel, log_slider, one_blas_thread
from course_utils.i18n import _

__all__ = ["backprop_explorer", "deep_mlp_pass", "GRADIENT_AXIS"]

GRADIENT_AXIS = (1e-12, 1e8)
SPREAD_AXIS = 1e5
ACTIVATIONS = ["sigmoid", "tanh", "relu"]


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
    return Backprop(depth, activation, weight_scale, width, batch_size, max_depth, seed,
                    name).show()


def deep_mlp_pass(X, labels, depth, activation, weight_scale, width, seed):
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


def segments(xs, bottoms, tops):
    """Vertical segments x: bottom → top, separated by NaN, as one line's data."""
    nans = np.full(len(xs), np.nan)
    return (np.column_stack([xs, xs, nans]).ravel(),
            np.column_stack([bottoms, tops, nans]).ravel())


class Backprop(Panel):
    """The backprop explorer: a bar per layer (unused ones hidden) and percentile lines."""

    primary = "weight_scale"

    def __init__(self, depth, activation, weight_scale, width, batch_size, max_depth, seed,
                 name):
        self.max_depth = arguments.integer(max_depth, "max_depth", minimum=1)
        depth = arguments.integer(depth, "depth", minimum=1)
        if depth > max_depth:
            raise ValueError(f"depth must be <= max_depth = {max_depth}, got {depth}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
        weight_scale = arguments.positive(weight_scale, "weight_scale")
        if not 0.1 <= weight_scale <= 10:
            raise ValueError(f"weight_scale must be in [0.1, 10], got {weight_scale}")
        self.width = arguments.integer(width, "width", minimum=1)
        batch_size = arguments.integer(batch_size, "batch_size", minimum=1)
        self.seed = arguments.integer(seed, "seed", minimum=0)
        digits = data.load_digits()
        self.X, self.y = digits.X_train[:batch_size], digits.y_train[:batch_size]
        super().__init__(name, (9.0, 4.4))
        ax_grad, ax_spread = self.figure.subplots(1, 2, gridspec_kw={"wspace": 0.3})
        self.figure.subplots_adjust(left=0.095, right=0.98, top=0.8, bottom=0.12)
        self.layers = np.arange(1, max_depth + 2)
        self._draw_gradients(ax_grad)
        self._draw_spread(ax_spread)
        self.controls.update(
            depth=ipw.IntSlider(value=depth, min=1, max=max_depth, description=_("hidden layers"),
                                style={"description_width": "initial"}),
            activation=ipw.ToggleButtons(options=ACTIVATIONS, value=activation,
                                         description=_("activation"),
                                         style={"button_width": "auto",
                                                "description_width": "initial"}),
            weight_scale=log_slider(_("initial weight scale g"), weight_scale, 0.1, 10.0))
        self.labels["summary"] = ipw.HTML()
        self.one_thread = one_blas_thread()

    def _draw_gradients(self, ax) -> None:
        low, high = GRADIENT_AXIS
        bars = ax.bar(self.layers, np.ones(len(self.layers)), bottom=low, width=0.65,
                      color=plotting.OKABE_ITO["blue"], edgecolor="black", linewidth=0.6)
        for layer, bar in zip(self.layers, bars):
            self.artists[f"grad_{layer}"] = bar
        ax.set_yscale("log")
        ax.set_ylim(low, high)  # fixed: a slider move redraws only the bars
        ax.set_xlim(0.4, self.max_depth + 1.6)
        ax.set_xticks(self.layers)
        ax.set_xlabel(_("layer l  (1: next to the input; last: the output layer)"))
        ax.set_ylabel(_("‖∂L/∂W⁽ˡ⁾‖  (log scale)"))
        ax.set_title(_("gradient norm per layer"), fontsize=10, pad=28)
        legend_above(ax, ncol=2, handles=[
            Patch(facecolor=plotting.OKABE_ITO[colour], edgecolor="black", linewidth=0.6,
                  label=label) for colour, label in (("blue", _("hidden layer")),
                                                     ("orange", _("output layer")))])
        self.artists["status"] = status_text(ax, y=0.85)
        ax.grid(True, axis="y", alpha=0.3)

    def _draw_spread(self, ax) -> None:
        colours = plotting.OKABE_ITO
        ax.axhspan(-2, 2, color=colours["bluish_green"], alpha=0.15, lw=0,
                   label=_("|s| < 2: sigmoid/tanh not saturated"))
        thin, = ax.plot([], [], color=colours["blue"], lw=1, label="1–99 %")
        thick, = ax.plot([], [], color=colours["blue"], lw=5, alpha=0.7, label="10–90 %")
        median, = ax.plot([], [], "o", color=colours["vermillion"], mec="black", ms=6,
                          label=_("median"))
        self.artists.update(spread_1_99=thin, spread_10_90=thick, median=median)
        ax.set_yscale("symlog", linthresh=1.0)
        ax.set_ylim(-SPREAD_AXIS, SPREAD_AXIS)
        ax.set_xlim(0.4, self.max_depth + 0.6)
        ax.set_xticks(np.arange(1, self.max_depth + 1))
        ax.set_xlabel(_("hidden layer l"))
        ax.set_ylabel(_("pre-activation s⁽ˡ⁾  (symlog scale)"))
        ax.set_title(_("pre-activations over the batch and the units"), fontsize=10, pad=28)
        legend_above(ax, ncol=2, fontsize=7.5)
        ax.grid(True, axis="y", alpha=0.3)

    def refresh(self) -> None:
        n_hidden, g = self.controls["depth"].value, self.controls["weight_scale"].value
        with np.errstate(over="ignore", invalid="ignore"), self.one_thread():
            loss, norms, preacts = deep_mlp_pass(self.X, self.y, n_hidden,
                                                 self.controls["activation"].value, g,
                                                 self.width, self.seed)
        self._draw_bars(norms, n_hidden)
        with np.errstate(invalid="ignore"):
            spread = np.array([np.percentile(s, [1, 10, 50, 90, 99]) for s in preacts])
        hidden = np.arange(1, n_hidden + 1)
        shown = np.where(np.isfinite(spread), spread, np.nan)  # off the axis: drawn clipped
        self.artists["spread_1_99"].set_data(*segments(hidden, shown[:, 0], shown[:, 4]))
        self.artists["spread_10_90"].set_data(*segments(hidden, shown[:, 1], shown[:, 3]))
        self.artists["median"].set_data(hidden, shown[:, 2])
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = norms[0] / norms[-1]
        overflow = not (np.all(np.isfinite(norms)) and np.all(np.isfinite(spread)))
        self.artists["status"].set_text(_("overflow: ∞ or NaN gradients — lower g") if overflow
                                        else "")
        self.labels["summary"].value = _(
            "loss {loss};  ‖∂L/∂W⁽¹⁾‖ = {first}, ‖∂L/∂W⁽{last_layer}⁾‖ = {last}: the first "
            "layer's gradient is <b>{ratio}×</b> the last one's").format(
            loss=f"{loss:.4g}", first=f"{norms[0]:.3g}", last_layer=n_hidden + 1,
            last=f"{norms[-1]:.3g}", ratio=f"{ratio:.3g}")
        self.state.update(loss=loss, grad_norms=norms, percentiles=spread, diverged=overflow)
        self.stage.render()

    def _draw_bars(self, norms, n_hidden) -> None:
        low, high = GRADIENT_AXIS
        colours = plotting.OKABE_ITO
        for layer in self.layers:
            bar = self.artists[f"grad_{layer}"]
            used = layer <= n_hidden + 1
            bar.set_visible(used)
            if used:
                norm = norms[layer - 1]
                bar.set_height(max(norm, low) - low if np.isfinite(norm) else high)
                bar.set_facecolor(colours["orange"] if layer == n_hidden + 1 else colours["blue"])

    def rows(self):
        controls = self.controls
        return [ipw.HBox([controls["depth"], controls["activation"], controls["weight_scale"]]),
                self.labels["summary"]]
