"""The answer key earns nothing: every exercise with a reference, every delegation route.

Each source notebook runs in this process, cell by cell, with its solutions and hidden tests
(explorer cells skipped). At each test cell of an exercise that has a reference, every answer of
``answer_key_routes.cheats`` replaces the solution in a copy of the namespace:

- with the guard, the test cell must stop with ``AnswerKeyUsed`` (0 points, flagged);
- without the guard, the direct, class and torch routes must pass the same test, which shows
  that each is a working answer and not a broken one that fails anyway;
- the solution itself still passes.
"""
from __future__ import annotations

import ast
import inspect
import re

import matplotlib
import nbformat
import pytest

from answer_key_routes import ATTACKED, cheats
from conftest import NOTEBOOKS
from course_utils import _answer_guard, answer_key, checks

matplotlib.use("Agg")
pytestmark = pytest.mark.slow

MUST_WORK_UNGUARDED = {"direct", "class", "torch"}


class _Unguarded:
    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False


def _python(source: str) -> str:
    return re.sub(r"^\s*[%!].*$", "", source, flags=re.M)


def _exercises_defined(source: str) -> list[str]:
    tree = ast.parse(_python(source))
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name in ATTACKED]


def _run(source: str, namespace: dict, filename: str) -> None:
    exec(compile(_python(source), filename, "exec"), namespace)
    import matplotlib.pyplot as plt
    plt.close("all")


def _signature(function) -> tuple[str, str]:
    params = list(inspect.signature(function).parameters.values())
    return ", ".join(str(p) for p in params), ", ".join(p.name for p in params)


def _attack(exercise, test_source, namespace, index, monkeypatch) -> list[str]:
    problems = []
    params, args = _signature(namespace[exercise])
    for route, answer in cheats(exercise, params, args):
        for guarded in (True, False):
            if not guarded and route not in MUST_WORK_UNGUARDED:
                continue
            scope = dict(namespace)
            _run(answer, scope, f"/tmp/ipykernel_0/answer-{exercise}.py")
            with monkeypatch.context() as patch:
                if not guarded:
                    patch.setattr(checks, "Guard", _Unguarded)
                try:
                    _run(test_source, scope, f"/tmp/ipykernel_0/cell-{index}.py")
                    outcome = None
                except checks.AnswerKeyUsed as exc:
                    outcome = exc
                except Exception as exc:  # noqa: BLE001 - reported below
                    outcome = exc
            if guarded and not isinstance(outcome, checks.AnswerKeyUsed):
                problems.append(f"{exercise} via {route}: not caught ({outcome!r:.300})")
            if not guarded and outcome is not None:
                problems.append(f"{exercise} via {route}: the cheat itself is broken ({outcome!r:.300})")
    return problems


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.stem[:2])
def test_every_route_to_the_answer_key_scores_zero(path, monkeypatch):
    nb = nbformat.read(path, as_version=4)
    namespace: dict = {"__name__": "__main__", "display": lambda *a, **k: None}
    pending: list[str] = []
    problems, attacked = [], []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or "widgets." in cell.source:
            continue
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and pending:
            under_test = [e for e in pending if re.search(rf"\b{e}\(", cell.source)]
            for exercise in under_test:
                problems += _attack(exercise, cell.source, namespace, index, monkeypatch)
                attacked.append(exercise)
        _run(cell.source, namespace, f"/tmp/ipykernel_0/cell-{index}.py")   # the solution passes
        if meta.get("solution"):
            pending = _exercises_defined(cell.source)
    assert not problems, "\n".join(problems)
    expected = [e for e in ATTACKED if e in {n for c in nb.cells if c.cell_type == "code"
                                            for n in _exercises_defined(c.source)}]
    assert sorted(set(attacked)) == sorted(expected)


def test_every_exercise_with_a_reference_has_its_routes():
    """A new exercise named like a reference (or listed in EXTRA) needs a WORKING entry here."""
    defined = {n for path in NOTEBOOKS.glob("*.ipynb")
               for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"
               for n in _exercises_defined_all(c.source)}
    assert sorted(defined & answer_key.exercises()) == sorted(ATTACKED)


def _exercises_defined_all(source: str) -> list[str]:
    tree = ast.parse(_python(source))
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]


def test_the_guard_reports_what_it_saw():
    text = _answer_guard.message([("key", "your code calls optim.adam_step")])
    assert "optim.adam_step" in text and "yourself" in text
    text = _answer_guard.message([("guard", "your code calls sys.setprofile")])
    assert "guard" in text and "sys.setprofile" in text


TEST_CELL = """
w, g, v = np.ones(3), np.full(3, 0.5), np.zeros(3)
with checks.quiet():
    got = momentum_step(w, g, v, 0.1, 0.9)
"""


@pytest.mark.parametrize("answer", [
    "import concurrent.futures as cf\n"
    "def momentum_step(*a):\n"
    "    with cf.ThreadPoolExecutor(1) as pool:\n"
    "        return pool.submit(optim.momentum_step, *a).result()\n",
    "import sys\n"
    "def momentum_step(*a):\n"
    "    hook = sys.getprofile()\n"
    "    sys.setprofile(None)\n"
    "    result = optim.momentum_step(*a)\n"
    "    sys.setprofile(hook)\n"
    "    return result\n",
    "import threading\n"
    "def momentum_step(*a):\n"
    "    threading.setprofile(None)\n"
    "    return optim.momentum_step(*a)\n",
], ids=["thread", "profiler switched off", "threading.setprofile"])
def test_threads_and_switching_the_guard_off_are_caught(answer):
    import numpy as np
    from course_utils import optim

    namespace = {"np": np, "checks": checks, "optim": optim}
    _run(answer, namespace, "/tmp/ipykernel_0/answer.py")
    with pytest.raises(checks.AnswerKeyUsed):
        _run(TEST_CELL, namespace, "/tmp/ipykernel_0/test.py")


def test_a_library_reading_the_stack_for_the_student_is_not_tampering():
    import numpy as np

    answer = ("import traceback\n"   # traceback calls sys._getframe; torch does the same
              "def momentum_step(w, g, v, lr, beta):\n"
              "    traceback.extract_stack()\n"
              "    v = beta * v + g\n"
              "    return w - lr * v, v\n")
    namespace = {"np": np, "checks": checks}
    _run(answer, namespace, "/tmp/ipykernel_0/answer.py")
    _run(TEST_CELL, namespace, "/tmp/ipykernel_0/test.py")
