"""Notebooks 06 and 07: SGD, momentum, Nesterov, RMSprop and Adam race on a 2-D landscape."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import ipywidgets as ipw
import numpy as np

from course_utils import arguments, landscapes, loop, optim, plotting
from course_utils.explorers.drawing import (contours, for_drawing, gap, legend_above,
                                            status_text)
from course_utils.explorers.stage import (Explorer, Panel, click_to_start, log_slider, set_range,
                                          set_value, slider)
from course_utils.i18n import N_, _

__all__ = ["optimizer_race", "RACERS", "KINDS", "race_path"]

# label -> (the reference rule, the η slider it uses). What else a racer needs (β, α, β1, β2,
# ε) is what its rule's signature names: ``loop.as_rule(rule).hyperparameters``.
RACERS = {
    "SGD": (optim.sgd_step, "lr_sgd"),
    "momentum": (optim.momentum_step, "lr_sgd"),
    "Nesterov": (optim.nesterov_step, "lr_sgd"),
    "RMSprop": (optim.rmsprop_step, "lr_adaptive"),
    "Adam": (optim.adam_step, "lr_adaptive"),
}
# your_rules key -> the racer it races against: "adam" -> "Adam", …
KINDS = {rule.__name__.removesuffix("_step"): label for label, (rule, _) in RACERS.items()}
EPS = 1e-8

# name -> (landscape, η for SGD/momentum/Nesterov, η for RMSprop/Adam, start): tuned so
# that at the defaults every racer moves and the race tells the landscape's story.
# The names are the values of ``landscape=`` and of the drop-down, shown translated.
RACE_LANDSCAPES = {
    N_("ill-conditioned bowl"): (lambda: landscapes.quadratic_bowl(condition_number=20.0), 0.04, 0.3,
                             (-8.0, 3.0)),
    "Rosenbrock": (lambda: landscapes.rosenbrock(), 1e-3, 0.1, (-1.2, 1.0)),
    N_("saddle"): (lambda: landscapes.saddle(), 0.05, 0.05, (1.8, 0.05)),
}
HYPER_SLIDERS = ("beta", "alpha", "beta1", "beta2")
_MOMENTUM = N_("momentum")   # the one racer whose name is a word, not a proper name


def racer_name(label: str) -> str:
    """A racer's name as the student reads it; ``label`` ("Adam", "your Adam") stays the key."""
    if label.startswith("your "):
        return _("your {rule}").format(rule=racer_name(label.removeprefix("your ")))
    return _(label) if label == _MOMENTUM else label


@dataclass(frozen=True)
class Racer:
    """One line of the race: its rule (``next_w, state = rule(w, dw, state)``), its η slider,
    and whether it is a reference rule (whose errors are bugs) or a student's."""

    rule: Callable
    lr_control: str
    reference: bool


def race_path(racer: Racer, landscape, start, steps: int, state: dict) -> np.ndarray:
    """The racer's path w_0 … w_steps from ``start`` on ``landscape``, through the one loop."""
    return loop.descend(racer.rule, start, lambda w, _: (None, landscape.grad_f(w)), steps,
                        state).path


def optimizer_race(landscape: str = "ill-conditioned bowl", steps: int = 200,
                   your_rules: dict[str, Callable] | None = None, beta: float = 0.9,
                   alpha: float = 0.99, beta1: float = 0.9, beta2: float = 0.999,
                   arrows: bool = False, show=None, name: str = "optimizer race") -> Explorer:
    """SGD, momentum, Nesterov, RMSprop and Adam race on a 2-D landscape, step by step.

    Every path is precomputed with the reference rules of ``course_utils.optim`` from the same
    start; the Play button (or the step slider) then shows the first k steps of each. Moving a
    slider recomputes all paths; clicking the contours moves the start point.

    Hyper-parameters: η_SGD for SGD, momentum and Nesterov (v ← βv + g; w ← w − ηv), η_adaptive
    for RMSprop and Adam (whose steps are ≈ η whatever the gradient's scale, so they need a
    different η); β for momentum/Nesterov; α for RMSprop; β1, β2 for Adam.

    Args:
        landscape: "ill-conditioned bowl" (κ = 20), "Rosenbrock" or "saddle".
        steps: N updates per racer, integer >= 1; default 200.
        your_rules: your own rules to race against the reference, keyed by the reference rule
            they implement: "sgd", "momentum", "nesterov", "rmsprop" or "adam", e.g.
            ``{"adam": adam_step}``; each must take the arguments of that reference rule (in
            ``course_utils.optim``, positionally) and return what it returns. It races as
            "your Adam"; if it raises, the message appears below the figure and the others
            still race.
        beta, alpha, beta1, beta2: initial β (momentum), α (RMSprop), β1, β2 (Adam); defaults
            0.9, 0.99, 0.9, 0.999 (torch's).
        show: the racers shown at first (the others can be ticked on), e.g.
            ``("SGD", "momentum", "Nesterov")`` for notebook 06; default all.
        arrows: at the current step show the direction of −∇f (thin, grey) and of the step the
            optimizer took (thick, its colour); default False.
        name: figure name.

    Controls: ``landscape``, ``lr_sgd``, ``lr_adaptive``, ``beta``, ``alpha``, ``beta1``, ``beta2``,
    ``x0``, ``y0``, ``step``, ``play``, ``arrows``, ``show_<label>`` per racer.
    Artists: ``path_<label>``, ``head_<label>``, ``loss_<label>``, ``grad_<label>``,
    ``move_<label>``, ``step_line``. State: ``paths`` (label → (N + 1, 2)), ``losses``.
    """
    panel = Race(landscape, steps, your_rules, dict(beta=beta, alpha=alpha, beta1=beta1,
                                                    beta2=beta2), arrows, show, name)
    explorer = panel.show()
    click_to_start(explorer, panel.ax_map, "x0", "y0")
    return explorer


def _racers(your_rules) -> dict[str, Racer]:
    racers = {label: Racer(loop.as_rule(rule), lr_control, True)
              for label, (rule, lr_control) in RACERS.items()}
    for kind, rule in (your_rules or {}).items():
        if kind not in KINDS:
            raise ValueError(f"your_rules keys must be one of {list(KINDS)} (the reference "
                             f"rule yours implements), got {kind!r}")
        if not callable(rule):
            raise TypeError(f"your_rules[{kind!r}] must be a function like optim.{kind}_step, "
                            f"got {type(rule).__name__}")
        reference, lr_control = RACERS[KINDS[kind]]
        racers[f"your {KINDS[kind]}"] = Racer(loop.as_rule(rule, like=reference), lr_control,
                                              False)
    return racers


class Race(Panel):
    """The optimizer race: paths precomputed per racer (and cached), then shown up to step k."""

    primary = "lr_sgd"

    def __init__(self, landscape, steps, your_rules, hyper, arrows, show, name):
        if landscape not in RACE_LANDSCAPES:
            raise ValueError(f"landscape must be one of {list(RACE_LANDSCAPES)}, got {landscape!r}")
        self.steps = arguments.integer(steps, "steps", minimum=1)
        hyper = {h: arguments.in_unit_interval(hyper[h], h) for h in ("beta", "beta1", "beta2",
                                                                  "alpha")}
        self.racers = _racers(your_rules)
        shown = set(self.racers) if show is None else set(show)
        if not shown <= set(self.racers):
            raise ValueError(f"show must name racers among {list(self.racers)}, got "
                             f"{sorted(shown - set(self.racers))}")
        super().__init__(name, (9.0, 4.8))
        self._draw_axes()
        self._make_controls(landscape, hyper, arrows, shown)
        self.state.update(scene=None, paths={}, losses={}, cache={})

    def _draw_axes(self) -> None:
        self.ax_map, self.ax_loss = self.figure.subplots(
            1, 2, gridspec_kw={"width_ratios": [1.15, 1], "wspace": 0.27})
        self.figure.subplots_adjust(left=0.08, right=0.98, top=0.8, bottom=0.11)
        for i, (label, racer) in enumerate(self.racers.items()):
            self._draw_racer(label, plotting.style(i), racer.reference)
        ax_map, ax_loss = self.ax_map, self.ax_loss
        self.start_point, = ax_map.plot([], [], "s", color="black", ms=7,
                                        label=_("start (click to move)"))
        self.minimum_point, = ax_map.plot([], [], "*", color="black", ms=11, label=_("minimum"))
        self.artists.update(start_point=self.start_point,
                            step_line=ax_loss.axvline(self.steps, color="0.3", lw=1, ls=":"),
                            status=status_text(ax_map, y=0.92))
        self.artists["status"].set_fontsize(8.5)
        ax_map.set_xlabel("w₁")
        ax_map.set_ylabel("w₂")
        ax_loss.set_xlim(0, self.steps)
        ax_loss.set_xlabel(_("step k"))
        ax_loss.grid(True, alpha=0.3)
        legend_above(ax_loss, ncol=3, fontsize=7.5)

    def _draw_racer(self, label, look, reference) -> None:
        """A racer's path, head, loss curve and two arrows (colour, dashes and marker: apart
        in grey print too)."""
        line = dict(color=look["color"], ls=look["linestyle"], lw=1.5 if reference else 2.4)
        self.artists[f"path_{label}"], = self.ax_map.plot([], [], label=racer_name(label), **line)
        self.artists[f"head_{label}"], = self.ax_map.plot(
            [], [], marker=look["marker"], color=look["color"], ms=8, mec="black", mew=0.6,
            ls="none")
        self.artists[f"loss_{label}"], = self.ax_loss.plot([], [], label=racer_name(label), **line)
        arrow = dict(angles="xy", scale_units="xy", scale=1)
        self.artists[f"grad_{label}"] = self.ax_map.quiver([0], [0], [0], [0], color="0.25",
                                                           width=0.004, zorder=4, **arrow)
        self.artists[f"move_{label}"] = self.ax_map.quiver(
            [0], [0], [0], [0], color=look["color"], width=0.009, ec="black", lw=0.5, zorder=5,
            **arrow)

    def _make_controls(self, landscape, hyper, arrows, shown) -> None:
        make, lr_sgd, lr_adaptive, (x0, y0) = RACE_LANDSCAPES[landscape]
        first = make()
        span = max(np.ptp(first.xlim), np.ptp(first.ylim)) / 2 + 1
        steps = self.steps
        self.controls.update(
            landscape=ipw.Dropdown(options=[(_(name), name) for name in RACE_LANDSCAPES],
                                   value=landscape, description=_("landscape")),
            lr_sgd=log_slider(_("η SGD / momentum / Nesterov"), lr_sgd, 1e-4, 1.0),
            lr_adaptive=log_slider("η RMSprop / Adam", lr_adaptive, 1e-3, 2.0),
            beta=slider(_("β (momentum)"), hyper["beta"], 0.0, 0.99, 0.01),
            beta1=slider("β1 (Adam)", hyper["beta1"], 0.0, 0.99, 0.01),
            beta2=slider("β2 (Adam)", hyper["beta2"], 0.5, 0.9999, 0.0001, readout_format=".4f"),
            alpha=slider("α (RMSprop)", hyper["alpha"], 0.5, 0.999, 0.001),
            x0=slider(_("start w₁"), x0, -span, span, 0.05),
            y0=slider(_("start w₂"), y0, -span, span, 0.05),
            step=ipw.IntSlider(value=steps, min=0, max=steps, description=_("step k"),
                               style={"description_width": "initial"},
                               layout=ipw.Layout(width="300px")),
            play=ipw.Play(value=steps, min=0, max=steps, interval=60, description=_("play"),
                          tooltip=_("play the race step by step (pause, stop, loop)")),
            arrows=ipw.Checkbox(value=bool(arrows), indent=False,
                                description=_("arrows: −∇f (grey), step direction"),
                                layout=ipw.Layout(width="auto")))
        ipw.jslink((self.controls["play"], "value"), (self.controls["step"], "value"))
        for label in self.racers:
            self.controls[f"show_{label}"] = ipw.Checkbox(value=label in shown,
                                                          description=racer_name(label),
                                                          indent=False,
                                                          layout=ipw.Layout(width="auto"))

    def draw_landscape(self, surface) -> None:
        """Only when the landscape changes: contours, window, the loss axis' scale."""
        ax_map, ax_loss = self.ax_map, self.ax_loss
        if self.state.get("contours") is not None:
            self.state["contours"].remove()
        self.state["contours"] = contours(ax_map, surface)
        ax_map.set_xlim(*surface.xlim)
        ax_map.set_ylim(*surface.ylim)
        ax_map.set_title(f"{_(self.controls['landscape'].value)}:  {surface.formula}", fontsize=10,
                         pad=18)
        has_minimum = surface.minimizers.shape[0] > 0
        legend_above(ax_map, ncol=2, fontsize=7.5,
                     handles=[self.start_point, self.minimum_point][: 2 if has_minimum else 1])
        highest = float(np.max(np.abs(surface.grid(40)[2])))
        # Fixed limits per landscape: a slider move redraws only the lines, never the axes.
        if has_minimum:
            self.minimum_point.set_data(surface.minimizers[:, 0], surface.minimizers[:, 1])
            ax_loss.set_yscale("log")
            ax_loss.set_ylim(1e-10, 10 ** math.ceil(math.log10(highest) + 1))
            ax_loss.set_ylabel(_("f(w_k) − f(w*)  (log scale)"))
        else:
            self.minimum_point.set_data([], [])
            ax_loss.set_yscale("symlog", linthresh=1e-2)
            ax_loss.set_ylim(-100 * highest, 10 * highest)
            ax_loss.set_ylabel(_("f(w_k)  (symlog: unbounded below)"))
        rows = math.ceil(len(self.racers) / 3)
        ax_loss.set_title(_("loss per step"), fontsize=10, pad=6 + 12 * rows)
        self.state.update(scene=self.controls["landscape"].value, landscape=surface,
                          has_minimum=has_minimum)

    def _first_state(self, racer: Racer) -> dict:
        """The racer's rule state at step 0: its η and the hyper-parameters it names."""
        given = {h: self.controls[h].value for h in HYPER_SLIDERS}
        given.update(lr=self.controls[racer.lr_control].value, eps=EPS)
        return {h: given[h] for h in racer.rule.hyperparameters if h in given}

    def compute(self) -> None:
        """Rerun each racer whose start, landscape or hyper-parameters moved (η_SGD leaves
        Adam be); a student's rule that raises is reported and races no further."""
        surface, state = self.state["landscape"], self.state
        start = np.array([self.controls["x0"].value, self.controls["y0"].value])
        paths, values = {}, {}
        for label, racer in self.racers.items():
            first = self._first_state(racer)
            key = (state["scene"], tuple(start), tuple(first.items()))
            cached = state["cache"].get(label)
            if cached is not None and cached[0] == key:
                paths[label], values[label] = cached[1], cached[2]
                continue
            path, failed = self._run(label, racer, surface, start, first)
            with np.errstate(over="ignore", invalid="ignore"):
                loss = surface.f(path)
            if state["has_minimum"]:
                loss = loss - surface.value(surface.minimizers[0])
            paths[label], values[label] = path, loss
            shown = gap(loss) if state["has_minimum"] else for_drawing(loss)
            self.artists[f"loss_{label}"].set_data(np.arange(self.steps + 1), shown)
            if not failed:
                state["cache"][label] = (key, path, loss)
        state.update(paths=paths, losses=values, start=start)
        self.start_point.set_data([start[0]], [start[1]])

    def _run(self, label, racer, surface, start, first) -> tuple[np.ndarray, bool]:
        try:
            return race_path(racer, surface, start, self.steps, first), False
        except Exception as error:  # noqa: BLE001 - a student's rule: report, keep racing
            if racer.reference:
                raise
            detail = str(error) or _("(no message: is it written yet?)")
            self.output.append_stderr(_("{racer} raised {kind}: {message} — the others still "
                                        "race").format(racer=racer_name(label),
                                                       kind=type(error).__name__,
                                                       message=detail) + "\n")
            path = np.full((self.steps + 1, 2), np.nan)
            path[0] = start
            return path, True

    def show_step(self) -> None:
        """Every racer's path up to step k, its head at w_k and (ticked) the two arrows."""
        k = self.controls["step"].value
        length = 0.08 * np.ptp(self.ax_map.get_xlim())
        for label in self.racers:
            visible = self.controls[f"show_{label}"].value
            path = for_drawing(self.state["paths"][label])
            head = path[min(k, self.steps)]
            self.artists[f"path_{label}"].set_data(path[: k + 1, 0], path[: k + 1, 1])
            self.artists[f"head_{label}"].set_data([head[0]], [head[1]])
            for prefix in ("path", "head", "loss"):
                self.artists[f"{prefix}_{label}"].set_visible(visible)
            arrows_on = bool(visible and self.controls["arrows"].value
                             and np.all(np.isfinite(head)))
            if arrows_on:
                self._point_arrows(label, path, head, k, length)
            self.artists[f"grad_{label}"].set_visible(arrows_on)
            self.artists[f"move_{label}"].set_visible(arrows_on)
        self.artists["step_line"].set_xdata([k, k])
        blown = [label for label in self.racers if self.controls[f"show_{label}"].value
                 and np.isnan(for_drawing(self.state["paths"][label])).any()]
        self.state["diverged"] = blown
        self.artists["status"].set_text(_("diverged: {racers} — lower η").format(
            racers=", ".join(map(racer_name, blown))) if blown else "")

    def _point_arrows(self, label, path, head, k, length) -> None:
        # Directions only, both drawn at one length: where the gradient points versus where
        # the optimizer actually went (momentum and scaling turn the step).
        downhill = -self.state["landscape"].grad(head)
        move = np.nan_to_num(path[k + 1] - head) if k < self.steps else np.zeros(2)
        downhill, move = (length * u / max(np.linalg.norm(u), 1e-300) for u in (downhill, move))
        for name, arrow in (("grad", downhill), ("move", move)):
            self.artists[f"{name}_{label}"].set_offsets([head])
            self.artists[f"{name}_{label}"].set_UVC([arrow[0]], [arrow[1]])

    def refresh(self) -> None:
        new_scene = self.state["scene"] != self.controls["landscape"].value
        if new_scene:
            self._switch_landscape()
        key = tuple(self.controls[n].value for n in
                    ("landscape", "lr_sgd", "lr_adaptive", *HYPER_SLIDERS, "x0", "y0"))
        if self.state.get("key") != key:  # playback and show/hide reuse the precomputed paths
            self.compute()
            self.state["key"] = key
        self.show_step()
        self.stage.render(full=new_scene)

    def _switch_landscape(self) -> None:
        controls = self.controls
        _make, lr_sgd, lr_adaptive, start = RACE_LANDSCAPES[controls["landscape"].value]
        surface = _make()
        first_build = self.state["scene"] is None
        self.draw_landscape(surface)
        if not first_build:
            # A new landscape starts from its own start point and suggested rates; each
            # slider's range and value reach the page in one message (no stale echo).
            set_value(controls["lr_sgd"], lr_sgd)
            set_value(controls["lr_adaptive"], lr_adaptive)
            span = max(np.ptp(surface.xlim), np.ptp(surface.ylim)) / 2 + 1
            for name, value in zip(("x0", "y0"), start):
                set_range(controls[name], -span, span, value=value)

    def rows(self):
        controls = self.controls
        return [ipw.HBox([controls["landscape"], controls["x0"], controls["y0"]]),
                ipw.HBox([controls["lr_sgd"], controls["lr_adaptive"]]),
                ipw.HBox([controls[n] for n in ("beta", "alpha", "beta1", "beta2")]),
                ipw.HBox([ipw.Label(_("show:"))] + [controls[f"show_{label}"]
                                                 for label in self.racers]),
                ipw.HBox([ipw.Label(_("play the race step by step:")), controls["play"],
                          controls["step"], controls["arrows"]])]
