"""Notebook 10: initialization, its scale, depth and activation → the signal's size per layer."""
from __future__ import annotations

import math

import ipywidgets as ipw
import numpy as np

from course_utils import arguments, diagnostics, init, plotting
from course_utils.explorers.drawing import legend_above, status_text
from course_utils.explorers.stage import Explorer, Panel, log_slider, one_blas_thread
from course_utils.i18n import N_, _

__all__ = ["initialization_explorer", "SCHEMES", "SIGNAL_AXIS"]

# name -> (draw W of a shape from a generator, its variance in words); the names are the
# values of ``scheme=`` and of the buttons, shown translated.
SCHEMES = {
    N_("torch default"): (lambda shape, rng: init.kaiming_uniform(shape, rng, gain=math.sqrt(1 / 3)),
                      "U(±1/√n_in): Var(W) = 1/(3 n_in)"),
    "Xavier": (init.xavier_normal, "Var(W) = 2/(n_in + n_out)"),
    "He": (init.kaiming_normal, "Var(W) = 2/n_in"),
}
ACTIVATIONS = ["tanh", "relu", "sigmoid"]
SIGNAL_AXIS = (1e-30, 1e30)


def initialization_explorer(scheme: str = "torch default", activation: str = "tanh",
                            depth: int = 20, scale: float = 1.0, width: int = 64,
                            batch_size: int = 64, max_depth: int = 50, seed: int = 0,
                            name: str = "initialization explorer") -> Explorer:
    """Initialization scheme, extra scale g, depth and activation → the signal at every layer.

    A deep network of ``depth`` layers of ``width`` units, no biases, x⁽ˡ⁾ = σ(x⁽ˡ⁻¹⁾W⁽ˡ⁾ᵀ),
    starts from weights drawn by ``course_utils.init`` ("torch default": nn.Linear's
    U(±1/√n_in); "Xavier": ``xavier_normal``; "He": ``kaiming_normal``), each W multiplied by
    g. A batch of standard normal inputs goes forward, and a standard normal ∂L/∂x⁽ᴸ⁾ goes
    backward (``diagnostics.signal_through_depth``). The weights are drawn once, when the
    explorer is built: a change of g rescales the same weights.

    Left: rms(x⁽ˡ⁾), the size of the activations after layer l (log scale; the input has 1).
    Right: rms(∂L/∂x⁽ˡ⁻¹⁾), the gradient that reaches layer l, and rms(∂L/∂W⁽ˡ⁾), what the
    optimizer gets for W⁽ˡ⁾. Values beyond the axis (10^±30) are drawn on its edge, and the
    picture says so.

    Args:
        scheme: "torch default", "Xavier" or "He"; default "torch default".
        activation: "tanh", "relu" or "sigmoid"; default "tanh".
        depth: initial number of layers, 1 … max_depth; default 20.
        scale: g in [0.25, 4]; default 1.
        width: units per layer; default 64.  batch_size: inputs in the batch; default 64.
        max_depth: the depth slider's maximum; default 50.  seed: the weights' seed; default 0.
        name: figure name.

    Controls: ``scheme``, ``activation``, ``depth``, ``scale``. Artists: ``activations``,
    ``input_gradients``, ``weight_gradients``, ``status``. State: ``forward``, ``backward``,
    ``weight_gradients`` (arrays of length depth).
    """
    return Initialization(scheme, activation, depth, scale, width, batch_size, max_depth, seed,
                          name).show()


class Initialization(Panel):
    """The initialization explorer: one line per signal, over the layers."""

    primary = "scale"

    def __init__(self, scheme, activation, depth, scale, width, batch_size, max_depth, seed, name):
        self.max_depth = arguments.integer(max_depth, "max_depth", minimum=1)
        depth = arguments.integer(depth, "depth", minimum=1)
        if depth > self.max_depth:
            raise ValueError(f"depth must be <= max_depth = {self.max_depth}, got {depth}")
        for value, options, what in ((scheme, SCHEMES, "scheme"), (activation, ACTIVATIONS, "activation")):
            if value not in options:
                raise ValueError(f"{what} must be one of {list(options)}, got {value!r}")
        scale = arguments.positive(scale, "scale")
        if not 0.25 <= scale <= 4:
            raise ValueError(f"scale must be in [0.25, 4], got {scale}")
        width = arguments.integer(width, "width", minimum=1)
        batch_size = arguments.integer(batch_size, "batch_size", minimum=1)
        rng = np.random.default_rng(arguments.integer(seed, "seed", minimum=0))
        self.X = rng.normal(size=(batch_size, width))
        self.grad_output = rng.normal(size=(batch_size, width))
        self.weights = {name: [draw((width, width), rng) for _ in range(self.max_depth)]
                        for name, (draw, _) in SCHEMES.items()}
        super().__init__(name, (9.0, 4.4))
        axes = self.figure.subplots(1, 2, gridspec_kw={"wspace": 0.3})
        self.figure.subplots_adjust(left=0.095, right=0.98, top=0.76, bottom=0.12)
        self._draw_axes(*axes)
        self.controls.update(
            scheme=ipw.ToggleButtons(options=[(_(s), s) for s in SCHEMES], value=scheme,
                                     description=_("init"),
                                     style={"button_width": "auto"}),
            activation=ipw.ToggleButtons(options=ACTIVATIONS, value=activation,
                                         description=_("activation"),
                                         style={"button_width": "auto"}),
            depth=ipw.IntSlider(value=depth, min=1, max=self.max_depth, description=_("layers"),
                                style={"description_width": "initial"}),
            scale=log_slider(_("extra scale g"), scale, 0.25, 4.0))
        self.labels["summary"] = ipw.HTML()
        self.one_thread = one_blas_thread()

    def _draw_axes(self, ax_forward, ax_backward) -> None:
        colours = plotting.OKABE_ITO
        lines = {
            "activations": (ax_forward, dict(color=colours["blue"], ls="-", marker="o"),
                            _("rms(x⁽ˡ⁾), activations")),
            "input_gradients": (ax_backward, dict(color=colours["vermillion"], ls="-", marker="s"),
                                _("rms(∂L/∂x⁽ˡ⁻¹⁾), reaching layer l")),
            "weight_gradients": (ax_backward, dict(color=colours["bluish_green"], ls="--", marker="^"),
                                 _("rms(∂L/∂W⁽ˡ⁾), for the optimizer")),
        }
        for key, (ax, style, label) in lines.items():
            self.artists[key], = ax.plot([], [], ms=4, lw=1.5, label=label, **style)
        titles = (_("forward: the activations"), _("backward: the gradients"))
        for ax, title in zip((ax_forward, ax_backward), titles):
            ax.axhline(1.0, color="0.5", lw=0.8, ls=":", label=_("1: the size at the start"))
            ax.set_yscale("log")
            ax.set_ylim(*SIGNAL_AXIS)  # fixed: a slider move redraws only the lines
            ax.set_yticks(10.0 ** np.arange(-30, 31, 10))
            ax.set_xlim(0, self.max_depth + 1)
            ax.set_xlabel(_("layer l  (1 = nearest the input)"))
            ax.set_title(title, fontsize=10, pad=44)
            ax.grid(True, axis="y", alpha=0.3)
            legend_above(ax, ncol=1, fontsize=7.5)
        ax_forward.set_ylabel(_("root mean square (log scale)"))
        self.artists["status"] = status_text(ax_backward, y=0.12)

    def refresh(self) -> None:
        depth, g = self.controls["depth"].value, self.controls["scale"].value
        weights = [g * W for W in self.weights[self.controls["scheme"].value][:depth]]
        with self.one_thread():
            forward, backward, weight_grads = diagnostics.signal_through_depth(
                self.X, weights, self.controls["activation"].value, self.grad_output)
        layers = np.arange(1, depth + 1)
        low, high = SIGNAL_AXIS
        beyond = False
        for key, values in (("activations", forward), ("input_gradients", backward),
                            ("weight_gradients", weight_grads)):
            shown = np.clip(np.nan_to_num(values, nan=low, posinf=high), low * 1.5, high / 1.5)
            beyond |= bool(np.any(shown != values))
            self.artists[key].set_data(layers, shown)
        self.artists["status"].set_text(_("beyond the axis: drawn on its edge") if beyond else "")
        self.labels["summary"].value = self._summary(forward, backward, depth)
        self.state.update(forward=forward, backward=backward, weight_gradients=weight_grads)
        self.stage.render()

    def _summary(self, forward, backward, depth) -> str:
        scheme = self.controls["scheme"].value
        return _("{scheme}: {variance};  after {depth} layers the activations have rms "
                 "<b>{forward}</b> (the input: 1), the gradient reaching layer 1 has rms "
                 "<b>{backward}</b> (at the output: 1)").format(
            scheme=_(scheme), variance=SCHEMES[scheme][1], depth=depth,
            forward=f"{forward[-1]:.3g}", backward=f"{backward[0]:.3g}")

    def rows(self):
        controls = self.controls
        return [ipw.HBox([controls["scheme"], controls["activation"]]),
                ipw.HBox([controls["depth"], controls["scale"]]),
                self.labels["summary"]]
