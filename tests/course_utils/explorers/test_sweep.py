"""Every control of every explorer, over its whole range and in combination with the others.

For each explorer as its notebook builds it, each control is first set to its extremes and its
middle, one after the other; then hypothesis draws sequences of moves of any controls. After
every move:

- no error reached the explorer's output area;
- one move that changes a value sends exactly one frame, one that does not sends none;
- no artist holds ±inf (a blown-up run is drawn as a gap), and a run that blew up says so
  ("diverged …", "overflow …") in the picture or in the text above it;
- every label, title and legend stays readable (``layout_problems``: inside the figure, not on
  another label, legends off the data).

A few tens of seconds in all: the training explorer trains one epoch per move here (its
controls' ranges are those of the notebook's); ``SWEEP_EXAMPLES`` sets how many sequences.
"""
from __future__ import annotations

import inspect
import math
import os
import warnings

import ipywidgets as ipw
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matplotlib.collections import Collection
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from course_utils import optim, widgets
from course_utils.explorers.stage import moved
from explorer_testing import layout_problems

EXAMPLES = int(os.environ.get("SWEEP_EXAMPLES", "6"))

# name -> how the notebooks build it (06 and 07 race the students' rules: here the reference)
plain = optim.unchecked  # a student's rule: the maths, no argument checks
BUILDS = {
    "01 learning_rate_explorer_1d": lambda: widgets.learning_rate_explorer_1d(),
    "02 learning_rate_explorer_2d": lambda: widgets.learning_rate_explorer_2d(),
    "03 batch_size_explorer": lambda: widgets.batch_size_explorer(),
    "04 softmax_explorer": lambda: widgets.softmax_explorer(),
    "05 backprop_explorer": lambda: widgets.backprop_explorer(),
    "06 optimizer_race": lambda: widgets.optimizer_race(
        show=("SGD", "momentum", "Nesterov"),
        your_rules={"momentum": plain(optim.momentum_step),
                    "nesterov": plain(optim.nesterov_step)}),
    "07 optimizer_race": lambda: widgets.optimizer_race(
        landscape="Rosenbrock", your_rules={"rmsprop": plain(optim.rmsprop_step),
                                            "adam": plain(optim.adam_step)}),
    "08 schedule_explorer": lambda: widgets.schedule_explorer(),
    "09 training_explorer": lambda: widgets.training_explorer(epochs=1),
}
# Any explorer added to course_utils.widgets later is swept with its defaults.
for _name in widgets.explorers.__all__:
    _build = getattr(widgets, _name)
    if inspect.isfunction(_build) and inspect.signature(_build).return_annotation in (
            "Explorer", widgets.Explorer) and not any(k.endswith(" " + _name) for k in BUILDS):
        BUILDS[_name] = _build

NOTEBOOK_EXPLORERS = [key for key in BUILDS if key[:2].isdigit()]  # issue 12: 01–09
_built = {}


def explorer_for(key):
    """One explorer per key for the whole module: the sweeps carry on where the last ended."""
    if key not in _built:
        _built[key] = BUILDS[key]()
    return _built[key]


def values(widget) -> st.SearchStrategy:
    """What a student can set the control to: anywhere in its range, the ends included."""
    if isinstance(widget, ipw.FloatLogSlider):
        exponent = st.floats(widget.min, widget.max) | st.sampled_from([widget.min, widget.max])
        return exponent.map(lambda e: float(widget.base ** e))
    if isinstance(widget, ipw.FloatSlider):
        return st.floats(widget.min, widget.max) | st.sampled_from([widget.min, widget.max])
    if isinstance(widget, ipw.IntSlider):
        return st.integers(widget.min, widget.max)
    if isinstance(widget, ipw.Checkbox):
        return st.booleans()
    return st.sampled_from([_option_value(o) for o in widget.options])


def _option_value(option):
    return option[1] if isinstance(option, tuple) else option


def extremes(widget) -> list:
    if isinstance(widget, ipw.FloatLogSlider):
        return [widget.base ** e for e in (widget.min, widget.max, (widget.min + widget.max) / 2)]
    if isinstance(widget, (ipw.FloatSlider, ipw.IntSlider)):
        middle = (widget.min + widget.max) / 2
        return [widget.min, widget.max, int(middle) if isinstance(widget, ipw.IntSlider)
                else middle]
    if isinstance(widget, ipw.Checkbox):
        return [not widget.value, widget.value]
    return [_option_value(o) for o in widget.options]


def movable(explorer) -> dict:
    return {name: w for name, w in explorer.controls.items() if not isinstance(w, ipw.Play)}


def move(explorer, name, value) -> None:
    """Set one control as the page would, then check everything the module's docstring lists."""
    widget = explorer.controls[name]
    before, frames = widget.value, explorer.frames
    widget.value = value
    context = f"after {name} = {value!r}"
    assert not explorer.output.outputs, f"{context}: {explorer.output.outputs[-1]}"
    changed = moved(widget, before, widget.value)
    assert explorer.frames - frames == int(changed), (
        f"{context}: {explorer.frames - frames} frames for {'a' if changed else 'no'} change")
    check_picture(explorer, context)


def check_picture(explorer, context) -> None:
    for key, artist in explorer.artists.items():
        for array in _data(artist):
            assert not np.isinf(array).any(), f"{context}: artist {key} holds ±inf"
    if blew_up(explorer):
        assert says_diverged(explorer), f"{context}: the run blew up without saying so"


def _data(artist) -> list:
    if isinstance(artist, Line2D):
        return [np.asarray(artist.get_xdata(), dtype=float),
                np.asarray(artist.get_ydata(), dtype=float)]
    if isinstance(artist, Rectangle):
        return [np.array([artist.get_height(), artist.get_y()], dtype=float)]
    if isinstance(artist, Collection) and hasattr(artist, "get_offsets"):
        return [np.asarray(artist.get_offsets(), dtype=float)]
    return []


def blew_up(explorer) -> bool:
    state = explorer.state
    return bool(state.get("diverged")) or state.get("regime") == "diverging"


def says_diverged(explorer) -> bool:
    status = explorer.artists.get("status")
    words = ("diverg", "overflow")
    shown = [] if status is None else [status.get_text()]
    shown += [getattr(label, "value", "") for label in explorer.labels.values()]
    return any(word in text.lower() for text in shown for word in words)


@pytest.mark.parametrize("key", list(BUILDS))
def test_every_control_over_its_range(key):
    explorer = explorer_for(key)
    for name, widget in movable(explorer).items():
        for value in extremes(widget):
            move(explorer, name, value)
    check_layout(key, explorer)


@st.composite
def moves(draw, explorer):
    controls = movable(explorer)
    names = draw(st.lists(st.sampled_from(sorted(controls)), min_size=1, max_size=5))
    return [(name, draw(values(controls[name]))) for name in names]


@pytest.mark.parametrize("key", list(BUILDS))
def test_controls_in_combination(key):
    explorer = explorer_for(key)

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(sequence=moves(explorer))
    def sweep(sequence):
        for name, value in sequence:
            move(explorer, name, value)

    sweep()
    check_layout(key, explorer)


def check_layout(key, explorer) -> None:
    """Readable labels and legends off the data: required of the explorers of notebooks
    01–09; an explorer added since is only warned about."""
    problems = layout_problems(explorer)
    if key in NOTEBOOK_EXPLORERS:
        assert not problems, problems
    elif problems:
        warnings.warn(f"{key}: {problems}")


def test_the_1d_badge_and_the_band_under_the_marker_agree():
    explorer = widgets.learning_rate_explorer_1d()
    for loss in map(_option_value, explorer.controls["loss"].options):
        explorer.controls["loss"].value = loss
        for start in np.linspace(explorer.controls["start"].min, explorer.controls["start"].max, 7):
            explorer.controls["start"].value = float(start)
            for eta in (1e-3, 0.0123, 0.13, 0.21, 0.9, 2.5, 10.0):
                explorer.controls["lr"].value = eta
                cell = int(np.argmin(np.abs(np.log10(widgets_lrs(explorer)) - math.log10(eta))))
                assert explorer.state["band_regimes"][cell] == explorer.state["regime"], (
                    loss, start, eta)


def widgets_lrs(explorer):
    slider = explorer.controls["lr"]
    return slider.base ** np.arange(slider.min, slider.max + slider.step / 2, slider.step)
