"""The explorers in Portuguese and Spanish: labels, badges, regime names and messages follow the
notebook's language when the explorer is built; option values and state stay English keys; and
the longer words still fit (the same readability check as the English sweep)."""
from __future__ import annotations

import warnings

import pytest

from course_utils import i18n, regimes, widgets
from explorer_testing import assert_no_callback_error, layout_problems
from test_sweep import BUILDS, NOTEBOOK_EXPLORERS


@pytest.fixture(autouse=True)
def english_afterwards(monkeypatch):
    monkeypatch.delenv(i18n.ENV, raising=False)
    monkeypatch.setattr(i18n, "_chosen", None)
    yield


def _texts(explorer) -> str:
    """Every word the explorer shows: control descriptions and options, HTML labels, titles,
    axis labels, legends and texts of its figure."""
    words = []
    for control in explorer.controls.values():
        words.append(getattr(control, "description", ""))
        words += [str(o[0]) for o in getattr(control, "options", ()) if isinstance(o, tuple)]
    words += [label.value for label in explorer.labels.values()]
    for ax in explorer.figure.axes:
        words += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        words += [t.get_text() for t in ax.texts]
        legend = ax.get_legend()
        words += [t.get_text() for t in legend.get_texts()] if legend else []
    return "\n".join(words)


@pytest.mark.parametrize("lang, words, english", [
    ("pt_BR", ["taxa de aprendizado η", "perda por passo", "poço duplo (não convexo)", "início w₀",
               "converge se e só se"], ["learning rate", "loss per step", "double well"]),
    ("es", ["tasa de aprendizaje η", "pérdida por paso", "doble pozo (no convexo)", "inicio w₀",
            "converge si y solo si"], ["learning rate", "loss per step", "double well"]),
])
def test_the_1d_explorer_speaks_the_language_it_was_built_in(lang, words, english):
    i18n.set_language(lang)
    explorer = widgets.learning_rate_explorer_1d(lr=0.3)
    shown = _texts(explorer)
    for word in words:
        assert word in shown, word
    for word in english:
        assert word not in shown, word
    assert explorer.controls["loss"].value == "parabola  L = ½λw²"     # the key stays English
    assert explorer.state["regime"] == "good"
    assert f">{regimes.regime_name('good')}</span>" in explorer.labels["regime"].value
    explorer.controls["loss"].value = "double well (non-convex)"       # switching still works
    assert_no_callback_error(explorer)


def test_regime_names_and_a_rebuilt_explorer_follow_set_language():
    english = widgets.learning_rate_explorer_2d(lr=5.0)
    assert ">diverging</span>" in english.labels["regime"].value
    i18n.set_language("pt_BR")
    assert [regimes.regime_name(r) for r in regimes.REGIMES] == [
        "pequena demais", "boa", "oscilando", "divergindo"]
    portuguese = widgets.learning_rate_explorer_2d(lr=5.0)
    assert ">divergindo</span>" in portuguese.labels["regime"].value
    i18n.set_language("es")
    portuguese.controls["lr"].value = 0.01            # a built explorer keeps its labels, but
    assert ">demasiado pequeña</span>" in portuguese.labels["regime"].value   # badges are new


def test_a_students_rule_that_raises_is_reported_in_spanish():
    i18n.set_language("es")

    def my_adam(w, g, m, v, t, lr, beta1, beta2, eps):  # as released: still blank
        raise NotImplementedError()

    explorer = widgets.optimizer_race(your_rules={"adam": my_adam}, steps=5)
    messages = "".join(o["text"] for o in explorer.output.outputs)
    assert "tu Adam lanzó NotImplementedError: (sin mensaje: ¿ya está escrito?)" in messages
    assert explorer.controls["show_your Adam"].description == "tu Adam"
    assert explorer.controls["landscape"].value == "ill-conditioned bowl"
    assert ("tazón mal condicionado", "ill-conditioned bowl") in explorer.controls["landscape"].options


def test_a_schedule_named_step_is_not_a_step_of_descent():
    i18n.set_language("pt_BR")
    explorer = widgets.schedule_explorer(schedule="step")
    assert ("degraus", "step") in explorer.controls["schedule"].options
    assert "passo t" in _texts(explorer)                                 # the axis: a GD step


@pytest.mark.parametrize("lang", ["pt_BR", "es"])
@pytest.mark.parametrize("key", list(BUILDS))
def test_every_explorer_builds_translated_and_readable(key, lang):
    """Readable as the English sweep requires it: of the notebook explorers 01–09, and of any
    explorer added since (notebook 10's) only warned about."""
    i18n.set_language(lang)
    explorer = BUILDS[key]()
    assert_no_callback_error(explorer)
    shown = _texts(explorer)
    for english in ("learning rate", "loss per", "step k", "epoch", "hidden layer", "start w",
                    "layer l", "root mean square"):
        assert english not in shown, (english, shown)
    problems = layout_problems(explorer)
    if key in NOTEBOOK_EXPLORERS:
        assert not problems, problems
    elif problems:
        warnings.warn(f"{key} in {lang}: {problems}")
    assert explorer.state, "the explorer computed nothing"
