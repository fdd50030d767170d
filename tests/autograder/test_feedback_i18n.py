"""Feedback pages in the student's language, with formulas as MathML and no script.

A page is written in the language of the edition handed in (``write_feedback(language=...)``):
its own words come from the course_utils catalog, a failed check's message is the one the
student's kernel produced in that language. LaTeX in markdown and in messages becomes MathML;
a ``$`` in code, in a traceback or in a price stays as it is.
"""
from __future__ import annotations

import json
import re

import nbformat
import numpy as np
import pytest

from autograder.course import load_course
from autograder.feedback import exporter, write_feedback
from autograder.feedback_math import markdown_math, text_math, to_mathml
from autograder.record import GradeRow, TestResult
from conftest import FIXTURE_COURSE
from course_utils import checks, i18n

ADD = "01_fixture_add"
# A named mistake as a translated notebook's test cell words it, LaTeX included.
MISTAKE = {"pt_BR": r"m não recebeu a correção de viés: divida por $1 - \beta_1^t$",
           "es": r"m no recibió la corrección de sesgo: divide entre $1 - \beta_1^t$",
           "en": r"m was not bias-corrected: divide by $1 - \beta_1^t$"}
PROSE = {"pt_BR": "A atualização da descida do gradiente é",
         "es": "La actualización del descenso de gradiente es",
         "en": "The gradient-descent update is"}


@pytest.fixture(scope="module")
def course():
    return load_course(FIXTURE_COURSE)


def check_message(lang: str) -> str:
    """What the student's kernel reports for a named mistake, in ``lang``."""
    got = np.array([1.0, 2.0])
    with i18n.using(lang), pytest.raises(checks.CheckFailure) as failure:
        checks.expect_close(got, got / 2, "m", mistakes={MISTAKE[lang]: got})
    return f"CheckFailure: {failure.value}"


def graded_row(course, lang: str) -> GradeRow:
    """The fixture notebook with maths in its markdown, a $ in its code and in a traceback."""
    nb = nbformat.from_dict(json.loads(json.dumps(course[ADD].notebook)))
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(
        f"{PROSE[lang]} $w_{{t+1}} = w_t - \\eta \\nabla L(w_t)$; "
        "US$ 5 or $5, or $10 with a tip. `cost = $x$`\n\n"
        "$$\\hat m_t = \\frac{m_t}{1 - \\beta_1^t}$$\n\nBroken: $\\frac{1}{$."))
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id == "add":
            cell.source = 'def add(a, b):\n    price = "$a$ costs $5"\n    return 0'
        if grade_id == "test_add_hidden":
            cell.outputs = [nbformat.v4.new_output("error", ename="CheckFailure",
                                                   evalue="wrong by $3 at $x$", traceback=[])]
    return GradeRow("alice", ADD, 4.0, "graded", "", 2.0, notebook=nb, tests=[
        TestResult("test_add_hidden", 2.0, False, check_message(lang)),
        TestResult("test_add_visible", 2.0, True, "")])


def page(course, tmp_path, lang: str) -> str:
    path = tmp_path / f"{lang}.html"
    write_feedback(course[ADD], graded_row(course, lang), path, exporter(), language=lang)
    return path.read_text()


@pytest.mark.parametrize("lang, words", [
    ("pt_BR", ["Devolutiva: 01_fixture_add", "**Nota: 2 / 4**", "passou", "falhou:",
               "pontos da correção automática", "m não recebeu a correção de viés"]),
    ("es", ["Retroalimentación: 01_fixture_add", "**Nota: 2 / 4**", "pasó", "falló:",
            "puntos de la calificación automática", "m no recibió la corrección de sesgo"]),
    ("en", ["Feedback: 01_fixture_add", "**Score: 2 / 4**", "passed", "failed:",
            "autograded points", "m was not bias-corrected"]),
])
def test_the_page_speaks_the_submission_language(course, tmp_path, lang, words):
    text = page(course, tmp_path, lang).replace("<strong>", "**").replace("</strong>", "**")
    for word in words:
        assert word in text, word
    assert f'<html lang="{lang.replace("_", "-")}">' in text


def test_formulas_become_mathml_and_the_page_has_no_script(course, tmp_path):
    text = page(course, tmp_path, "pt_BR")
    assert "<script" not in text and "mathjax.js" not in text.lower()
    # the message's formula, the inline and the display formula of the markdown
    assert text.count('<math display="inline"') >= 2 and '<math display="block"' in text
    assert "<mfrac>" in text and "β" in text and "η" in text
    assert "<code>$\\frac{1}{$</code>" in text                 # unreadable: kept as code


def test_dollars_in_code_tracebacks_and_prices_stay_dollars(course, tmp_path):
    text = page(course, tmp_path, "es")
    assert "$5, or $10 with a tip" in text
    assert "<code>cost = $x$</code>" in text
    assert "wrong by $3 at $x$" in text                         # an error output: never maths
    assert "$a$ costs $5" in text.replace("&quot;", '"').replace("<span class=\"s2\">", "")


@pytest.mark.parametrize("source, shown", [
    ("It costs $5 and $10.", "It costs $5 and $10."),
    ("Between $ 3 and 4 $ dollars.", "Between $ 3 and 4 $ dollars."),
    ("Escaped \\$x\\$ stays.", "Escaped $x$ stays."),
    ("```\nx = $a$\n```", "x = $a$"),
    ("Text.\n\n    y = $b$  # indented code", "y = $b$  # indented code"),
    ("A `$c$` span, $5 and $6.", "A <code>$c$</code> span, $5 and $6."),
    ("$$ unclosed", "$$ unclosed"),
])
def test_what_is_not_maths_is_shown_as_written(source, shown):
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    converted = markdown_math(source)
    assert "<math" not in converted and "<code>" not in converted
    assert shown in markdown2html_mistune(converted)


def test_maths_in_prose_beside_code():
    out = markdown_math("Compute $x^2$:\n\n```python\nprint('$y$')\n```\nthen $$z$$.")
    assert out.count("<math") == 2 and "print('$y$')" in out
    assert "<msup>" in out and 'display="block"' in out


def test_mathml_hides_markdown_syntax_and_escaped_prose():
    mathml = to_mathml(r"a_* | b")
    assert all(c not in mathml for c in "*|_\\$"), mathml
    assert text_math("<b>x</b> is $x$").startswith("&lt;b&gt;x&lt;/b&gt; is <math")
    assert to_mathml(r"\nosuchcommand{x}") == "<code>$\\nosuchcommand{x}$</code>"
    assert "<mo>arg</mo>" in to_mathml(r"\arg\max_k z_{nk}")      # notebook 09's accuracy


def test_an_unknown_page_language_is_refused(course, tmp_path):
    with pytest.raises(ValueError, match="choose one of en, pt_BR, es"):
        write_feedback(course[ADD], graded_row(course, "en"), tmp_path / "x.html", language="fr")


def test_every_formula_of_the_course_becomes_mathml():
    """The English notebooks' markdown: each $…$ and $$…$$ converts (none left as code) and
    no dollar is left for a renderer to pair."""
    from conftest import NOTEBOOKS

    converted, left = 0, []
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                out = markdown_math(cell.source)
                converted += out.count("<math")
                left += [f"{path.stem}: {code[:60]}" for code in
                         re.findall(r"<code>(\$.*?)</code>", out, flags=re.S)]
    assert converted > 1000 and left == []


def test_a_page_with_no_notebook_says_what_to_do_in_the_language(course, tmp_path):
    row = GradeRow("zoe", ADD, 4.0, "error", "unreadable notebook: not JSON", 0.0)
    path = tmp_path / "zoe.html"
    write_feedback(course[ADD], row, path, language="es")
    text = path.read_text()
    assert "<html lang='es'>" in text and "Retroalimentación: 01_fixture_add" in text
    assert "Sin calificar — error:" in text and "<b>Qué hacer:</b> vuelve a entregar" in text
