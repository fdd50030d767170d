"""course_utils speaks the notebook's language: English, Português (Brasil), Español.

The catalogs are complete (every message of the source translated in both languages, with the
same placeholders) and current (the template holds exactly the messages of the source); a check
that fails in a Portuguese notebook says why in Portuguese; an English change makes its
translation stale, and a stale translation is not shown.
"""
from __future__ import annotations

import re
import string

import numpy as np
import pytest
from babel.messages.pofile import read_po

from course_utils import checks, i18n

TRANSLATED = ("pt_BR", "es")


@pytest.fixture(autouse=True)
def english_afterwards(monkeypatch):
    """Each test starts and ends with no language chosen and no DESCENT_LANG."""
    monkeypatch.delenv(i18n.ENV, raising=False)
    monkeypatch.setattr(i18n, "_chosen", None)
    yield


def _catalog(lang: str):
    with open(i18n.catalog_path(lang), "rb") as handle:
        return read_po(handle, locale=lang)


def _fields(text: str) -> list[str]:
    return sorted(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)


def _key(message) -> tuple:
    return message.context, message.id if isinstance(message.id, str) else tuple(message.id)


def _forms(message) -> list[tuple[str, str]]:
    """(English, translation) of each form: a plural's forms against its English plural."""
    if isinstance(message.id, str):
        return [(message.id, message.string)]
    return [(message.id[min(i, 1)], form) for i, form in enumerate(message.string)]


def test_default_is_english_and_descent_lang_chooses(monkeypatch):
    assert i18n.language() == "en"
    monkeypatch.setenv(i18n.ENV, "pt_BR")
    assert i18n.language() == "pt_BR"
    monkeypatch.setenv(i18n.ENV, "klingon")     # unknown in the environment: English, no crash
    assert i18n.language() == "en"
    monkeypatch.setenv(i18n.ENV, "")
    assert i18n.language() == "en"


def test_unknown_language_is_a_clear_error():
    with pytest.raises(ValueError, match=r"unknown language 'fr': choose one of en, pt_BR, es"):
        i18n.set_language("fr")
    assert i18n.language() == "en"
    i18n.set_language("pt-br")                  # the spelling a browser or a shell would use
    assert i18n.language() == "pt_BR"


def test_messages_are_looked_up_when_called_not_when_imported():
    message = "the sign is flipped (did you add where you should subtract, or swap ŷ − y?)"
    assert i18n._(message) == message
    i18n.set_language("es")
    assert i18n._(message).startswith("el signo está invertido")
    i18n.set_language("pt_BR")
    assert i18n._(message).startswith("o sinal está trocado")
    i18n.set_language("en")
    assert i18n._(message) == message


def test_a_failing_check_speaks_portuguese_with_the_named_mistake():
    i18n.set_language("pt_BR")
    got, expected = np.array([1.0, 2.0]), np.array([0.5, 1.0])
    mistake = "m não recebeu a correção de viés: divida por (1 - beta1**t)"   # the notebook's words
    with pytest.raises(checks.CheckFailure) as named:
        checks.expect_close(got, expected, "m após o passo 3", mistakes={mistake: got})
    assert str(named.value) == f"{mistake} [m após o passo 3]"
    with pytest.raises(checks.CheckFailure) as factor:
        checks.expect_close(got, expected, "m")
    assert str(factor.value).startswith("todas as entradas diferem pelo mesmo fator 2 (falta um "
                                        "1/2: você esqueceu de tirar a média sobre o lote?)")
    assert "esperado 1 no índice (1,), obtido 2 (erro absoluto máximo 1)" in str(factor.value)
    with pytest.raises(checks.ExerciseNotReady, match="^corrija primeiro Exercício 3 acima"):
        with checks.needs("Exercício 3", "run_gd_1d"):
            raise NotImplementedError


def test_a_failing_check_speaks_spanish():
    i18n.set_language("es")
    with pytest.raises(checks.CheckFailure, match=r"^se obtuvo None: ¿tu función olvidó"):
        checks.expect_close(None, 1.0, "w")
    with pytest.raises(checks.CheckFailure, match=r"^forma \(shape\) incorrecta"):
        checks.expect_close(np.zeros(3), np.zeros(2), "w")


def test_using_is_per_thread_and_restores_the_language():
    import threading

    i18n.set_language("es")
    seen = {}
    with i18n.using("pt_BR"):
        thread = threading.Thread(target=lambda: seen.update(other=i18n.language()))
        thread.start()
        thread.join()
        assert i18n.language() == "pt_BR"
    assert seen["other"] == "es" and i18n.language() == "es"


def test_the_template_holds_exactly_the_messages_of_the_source():
    """A message added or changed without ``python -m course_utils.i18n extract`` fails here."""
    committed = {_key(m) for m in read_po(open(i18n.TEMPLATE, "rb")) if m.id}
    assert {_key(m) for m in i18n.template() if m.id} == committed


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_is_translated_and_current(lang):
    template = {_key(m) for m in read_po(open(i18n.TEMPLATE, "rb")) if m.id}
    catalog = _catalog(lang)
    done = {_key(m) for m in catalog
            if m.id and not m.fuzzy and all(text for _, text in _forms(m))}
    assert template - done == set(), f"untranslated or stale in {lang}"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_translations_keep_the_placeholders_and_markup(lang):
    for m in _catalog(lang):
        for english, text in _forms(m) if m.id else ():
            assert _fields(text) == _fields(english), english
            for token in ("`", "**", "<b>", "<code>", "\n"):
                assert text.count(token) == english.count(token), (token, english)


def test_a_changed_english_message_makes_its_translation_stale_and_unused(tmp_path, monkeypatch):
    old = "the sign is flipped (did you add where you should subtract, or swap ŷ − y?)"
    po = tmp_path / "pt_BR" / "LC_MESSAGES" / "course_utils.po"
    po.parent.mkdir(parents=True)
    po.write_bytes(i18n.catalog_path("pt_BR").read_bytes())
    fresh = i18n.template()
    changed = fresh[old]
    del fresh[old]
    fresh.add(old.replace("did you add", "did you really add"), locations=changed.locations)
    i18n.merge(fresh, po, "pt_BR")
    stale = next(m for m in read_po(open(po, "rb")) if m.id.startswith("the sign is flipped"))
    assert stale.fuzzy and "# |" not in po.read_text()     # no previous-English debris
    assert stale.string.startswith("o sinal está trocado")     # kept for the translator

    monkeypatch.setattr(i18n, "LOCALE", tmp_path)
    monkeypatch.setattr(i18n, "_catalogs", {})
    i18n.set_language("pt_BR")
    assert i18n._(stale.id) == stale.id          # the current English, not the stale Portuguese


def test_no_message_is_an_f_string():
    """An f-string inside _() is formatted before the lookup: never found in a catalog."""
    for path in i18n._source_files():
        assert not re.search(r"\b_\(\s*f[\"']", path.read_text()), path


def test_english_loads_no_catalog(monkeypatch):
    monkeypatch.setattr(i18n, "_catalogs", {})
    i18n._("passed")
    assert i18n._catalogs == {}


def test_a_wrong_argument_is_named_in_the_notebook_language():
    from course_utils import optim

    i18n.set_language("pt_BR")
    with pytest.raises(ValueError, match=r"^lr deve ser > 0, recebido -1.0$"):
        optim.sgd_step(np.zeros(2), np.ones(2), lr=-1)
    i18n.set_language("es")
    with pytest.raises(TypeError, match=r"^lr debe ser un número real, se obtuvo str 'x'$"):
        optim.sgd_step(np.zeros(2), np.ones(2), lr="x")


def test_check_names_each_broken_translation(tmp_path, monkeypatch):
    """``python -m course_utils.i18n check`` (for CI): clean now, one line per problem."""
    assert i18n.check() == []
    for lang in TRANSLATED:
        po = tmp_path / lang / "LC_MESSAGES" / "course_utils.po"
        po.parent.mkdir(parents=True)
        text = i18n.catalog_path(lang).read_text(encoding="utf-8")
        if lang == "pt_BR":
            text = text.replace('msgstr "falhou: {why}"', 'msgstr "falhou: {motivo}"')
        else:
            text = text.replace('msgstr "pasó"', 'msgstr ""')
        po.write_text(text, encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE", tmp_path)
    assert i18n.check() == ["pt_BR: placeholders differ from the English in 'failed: {why}'",
                            "es: untranslated 'passed'"]


def test_a_wrong_label_array_is_explained_in_spanish():
    from course_utils import losses

    i18n.set_language("es")
    with pytest.raises(ValueError, match=r"^labels debe tener una entrada por fila de logits: "
                                         r"logits tiene 2 filas, labels tiene 3 entradas$"):
        losses.cross_entropy(np.zeros((2, 3)), np.array([0, 1, 2]))


def test_a_students_rule_returning_the_wrong_thing_is_told_in_portuguese():
    from course_utils import loop, optim

    def my_momentum(w, g, v, lr, beta):   # forgot to return the velocity
        return w - lr * g

    i18n.set_language("pt_BR")
    rule = loop.as_rule(my_momentum, like=optim.momentum_step)
    with pytest.raises(TypeError, match=r"^my_momentum deve retornar \(w, v\) como "
                                        r"optim.momentum_step, recebido ndarray$"):
        rule(np.zeros(2), np.ones(2), {"lr": 0.1, "beta": 0.9})


def test_no_function_hides_the_translator_behind_a_local_underscore():
    """``_, ax = plt.subplots()`` in a function that also calls ``_("…")`` makes ``_`` local:
    the message then fails with UnboundLocalError instead of reaching the student."""
    import ast

    found = []
    for path in i18n._source_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            inner = [n for n in ast.walk(node) if n is not node and
                     isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda,
                                    ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp))]
            nested = {id(n) for scope in inner for n in ast.walk(scope)}
            own = [n for n in ast.walk(node) if id(n) not in nested]
            binds = any(isinstance(n, ast.Name) and n.id == "_" and isinstance(n.ctx, ast.Store)
                        for n in own) or any(isinstance(n, ast.arg) and n.arg == "_" for n in own)
            calls = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and
                        n.func.id == "_" for n in own)
            if binds and calls:
                found.append(f"{path.name}:{node.lineno}")
    assert found == [], found
