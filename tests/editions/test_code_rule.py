"""The rule for a translated code cell (``editions.code``) and for formulas
(``editions.formulas``), case by case: what a translator may change, and what is an edit."""
from __future__ import annotations

import pytest

from editions.code import code_problems
from editions.formulas import formula_problems, formulas

SAME_CODE = [
    ('x = 1  # the weight', 'x = 1  # o peso'),
    ('def f(w):\n    """Return w."""\n    return w', 'def f(w):\n    """Devolve w."""\n    return w'),
    ('ax.set(title="Loss per step", ylabel="value")', 'ax.set(title="Perda por passo", ylabel="valor")'),
    ('print("done")', 'print("pronto")'),
    ('hints = {"the step went uphill": 1}', 'hints = {"o passo subiu": 1}'),
    ('print(f"{n} steps of {lr:.2f}")', 'print(f"com {lr:.2f}, {n} passos")'),
    ('print(f"{name:11s} {\'right\' if ok else \'WRONG\'}")',
     'print(f"{name:11s} {\'certo\' if ok else \'ERRADO\'}")'),
    ('print("%d steps, %.2f" % (n, x))', 'print("%d passos, %.2f" % (n, x))'),
    ('%matplotlib inline\nimport numpy as np', '%matplotlib inline\nimport numpy as np'),
    ('f(a,\n  b)', 'f(a, b)'),
]

EDITED = [
    ('x = 1  # the weight', 'x = 2  # o peso', "code differs"),
    ('d = {"momentum": 1}', 'd = {"momento": 1}', "string differs"),
    ('plot(kind="parabola")', 'plot(kind="parábola")', "string differs"),
    ('print(f"{n} steps")', 'print(f"{m} passos")', "placeholders"),
    ('print(f"{n} steps")', 'print("{n} passos")', "placeholders or prefix"),
    ('print("%d steps" % n)', 'print("%s passos" % n)', "placeholders"),
    ('x = f"{\'a b\' if k == \'key\' else \'c\'}"', 'x = f"{\'a b\' if k == \'chave\' else \'c\'}"',
     "placeholders"),
    ('%matplotlib inline\nx = 1', '%matplotlib widget\nx = 1', "magic lines"),
    ('    ### BEGIN SOLUTION\n    x = 1\n    ### END SOLUTION',
     '    ### INÍCIO SOLUTION\n    x = 1\n    ### END SOLUTION', "nbgrader markers"),
    ('if x:\n    y = 1\nz = 2', 'if x:\n    y = 1\n    z = 2', "code differs"),
    ('x = 1', 'x = (1', "not valid Python"),
]


@pytest.mark.parametrize("english, translation", SAME_CODE)
def test_translating_human_text_keeps_the_same_code(english, translation):
    assert code_problems(english, translation) == []


@pytest.mark.parametrize("english, translation, why", EDITED)
def test_an_edit_of_the_code_is_caught(english, translation, why):
    found = code_problems(english, translation)
    assert len(found) == 1 and why in found[0], found


def test_formulas_are_found_in_order_outside_code_spans():
    text = r"Take $w$ and $$L(w) = \frac{\lambda}{2} w^2$$; `$HOME` costs \$5 or $ 6 $."
    assert formulas(text) == ["w", r"L(w) = \frac{\lambda}{2} w^2"]


@pytest.mark.parametrize("english, translation, ok", [
    (r"If $a < b$ then $c$.", r"Se $c$, então $a < b$.", True),             # moved: fine
    (r"If $a < b$ then $c$.", r"Se $a \le b$ então $c$.", False),
    (r"$0.5$ is half", r"$0,5$ é metade", False),                           # decimal comma
    (r"$x \text{ if } y$", r"$x \text{ se } y$", True),
    (r"$x$ and $x$", r"$x$", False),                                         # one dropped
])
def test_formulas_must_survive_translation(english, translation, ok):
    assert (formula_problems(english, translation) == []) is ok
