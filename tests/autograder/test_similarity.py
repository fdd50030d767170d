"""Similar answers across the class (``similarity.csv``, the report's section) and the
``copied-from-reference`` flag, end to end through ``grade``.

The class: alice and bob hand in near-identical answers to the fixture's 01 (bob renamed the
variables and rewrote the comments); carol pastes the reference ``optim.adam_step`` into an
Adam exercise; carol and dave hand in the same correct, short answers to 01. Only alice and bob
are paired, carol is flagged, and nobody's score changes. The thresholds are also checked on
the real notebook 07 (no kernel): renamed copies pair, honest answers do not.
"""
from __future__ import annotations

import ast
import csv
import importlib.util
import inspect
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from autograder.cli import main
from autograder.course import load_course, nbgrader_meta, release
from autograder.similarity import (class_pairs, highlight, masked, released_cells,
                                   similarity_section, write_similarity_csv)
from conftest import FIXTURE_COURSE, NOTEBOOKS, REPO
from course_utils import optim

ADD, SQUARE, ADAM = "01_fixture_add", "02_fixture_square", "03_fixture_adam"

ALICE = {
    "add": '''def add(a, b):
    """Return a + b."""
    # Convert both inputs to float arrays so that lists work too
    left = np.asarray(a, dtype=np.float64)
    right = np.asarray(b, dtype=np.float64)
    if left.shape != right.shape and left.size != 1 and right.size != 1:
        raise ValueError(f"shapes differ: {left.shape} vs {right.shape}")
    total = left + right  # broadcasting does the rest
    return float(total) if total.ndim == 0 else total
''',
    "scale": '''def scale(x, k):
    """Return the array x multiplied by k, as a new array."""
    values = np.array(x, dtype=np.float64, copy=True)  # a copy: x stays as it was
    for index in range(values.size):
        values.flat[index] = values.flat[index] * k
    return values
''',
}
BOB = {  # alice's, with other names and other comments
    "add": '''def add(a, b):
    """Return a + b."""
    # make arrays of floats out of the two arguments
    p = np.asarray(a, dtype=np.float64)
    q = np.asarray(b, dtype=np.float64)
    if p.shape != q.shape and p.size != 1 and q.size != 1:
        raise ValueError(f"cannot add shapes {p.shape} and {q.shape}")
    s = p + q  # numpy broadcasts
    return float(s) if s.ndim == 0 else s
''',
    "scale": '''def scale(x, k):
    """Return the array x multiplied by k, as a new array."""
    out = np.array(x, dtype=np.float64, copy=True)  # never modify the input
    for i in range(out.size):
        out.flat[i] = out.flat[i] * k
    return out
''',
}
SHORT = {  # the course's own solutions: correct, and short
    "add": 'def add(a, b):\n    """Return a + b."""\n    return a + b\n',
    "scale": 'def scale(x, k):\n    """Return the array x multiplied by k, as a new array."""\n'
             '    return np.asarray(x, dtype=np.float64) * k\n',
}
ADAM_SIGNATURE = ("def adam_step(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, "
                  "weight_decay=0.0):")
HONEST_ADAM_BODY = """g = g + weight_decay * w
m = beta1 * m + (1 - beta1) * g
v = beta2 * v + (1 - beta2) * g**2
m_hat = m / (1 - beta1**t)
v_hat = v / (1 - beta2**t)
return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v"""
HONEST_ADAM = (f'{ADAM_SIGNATURE}\n    """One Adam step, as torch.optim.Adam: returns (w_new, '
               f'm_new, v_new)."""\n{textwrap.indent(HONEST_ADAM_BODY, "    ")}\n')


def pasted_adam() -> str:
    """optim.adam_step's source, its decorator dropped, its variables renamed."""
    source = textwrap.dedent(inspect.getsource(inspect.unwrap(optim.adam_step)))
    source = "\n".join(line for line in source.splitlines() if not line.startswith("@"))
    for old, new in {"m_hat": "mh", "v_hat": "vh", "bias_correction": "correct"}.items():
        source = re.sub(rf"\b{old}\b", new, source)
    return source + "\n"


def _builder():
    spec = importlib.util.spec_from_file_location("build_fixture",
                                                  FIXTURE_COURSE.parent / "build_fixture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def adam_notebook():
    """A third fixture notebook whose exercise has a reference in course_utils (2 points)."""
    b = _builder()
    return nbformat.v4.new_notebook(cells=[
        b.markdown("# Fixture 03: one Adam step"),
        b.code("import numpy as np\nfrom course_utils import optim\n"
               "from course_utils.checks import expect_close, passed, quiet", "imports",
               locked=True),
        b.code(f'''{ADAM_SIGNATURE}
    """One Adam step, as torch.optim.Adam: returns (w_new, m_new, v_new)."""
    ### BEGIN SOLUTION
    g = g + weight_decay * w
    m_new = beta1 * m + (1 - beta1) * g
    v_new = beta2 * v + (1 - beta2) * g**2
    m_hat, v_hat = m_new / (1 - beta1**t), v_new / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m_new, v_new
    ### END SOLUTION''', "adam_step", solution=True),
        b.code('''
w, g, m, v = np.array([1.0, -2.0]), np.array([0.5, 0.25]), np.array([0.1, 0.0]), np.ones(2)
with quiet():
    got = adam_step(w, g, m, v, 3, lr=0.1, weight_decay=0.01)
want = optim.adam_step(w, g, m, v, 3, lr=0.1, weight_decay=0.01)
for x, y, name in zip(got, want, ("w", "m", "v")):
    expect_close(x, y, name)
passed("adam_step")''', "test_adam", grade=True, locked=True, points=2),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                "language": "python"}, "language_info": {"name": "python"}})


def submit(subs: Path, student: str, released, answers: dict[str, str]) -> None:
    nb = nbformat.from_dict(released)
    for cell in nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    (subs / student).mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, subs / student / f"{released.metadata['descent_id']}.ipynb")


def _grade(subs: Path, out: Path, root: Path) -> int:
    from autograder.sandbox import bwrap_problem

    extra = ["--no-sandbox"] if bwrap_problem() else []   # flags every row, changes no score
    return main(["grade", str(subs), "--out", str(out), "--source", str(root / "source"),
                 "--build", str(root / "build"), "--jobs", "2", "--timeout", "60", *extra])


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    (root / "source").mkdir()
    for name in (ADD, SQUARE):
        shutil.copyfile(FIXTURE_COURSE / f"{name}.ipynb", root / "source" / f"{name}.ipynb")
    nbformat.write(adam_notebook(), root / "source" / f"{ADAM}.ipynb")
    course = load_course(root / "source")
    released = {}
    for path in release(course, root / "build", root / "release"):
        released[path.stem] = nbformat.read(path, as_version=4)
        released[path.stem].metadata["descent_id"] = path.stem
    subs, out = root / "subs", root / "out"
    square = {"square": 'def square(x):\n    """Elementwise x**2 of an array, as float64."""\n'
                        "    return np.asarray(x, dtype=np.float64) ** 2\n"}
    for student, answers in (("alice", ALICE), ("bob", BOB), ("carol", SHORT), ("dave", SHORT)):
        submit(subs, student, released[ADD], answers)
        submit(subs, student, released[SQUARE], square)
    submit(subs, "carol", released[ADAM], {"adam_step": pasted_adam()})
    submit(subs, "dave", released[ADAM], {"adam_step": HONEST_ADAM})
    code = _grade(subs, out, root)
    first = (out / "similarity.csv").read_bytes()
    shutil.rmtree(out / ".results" / "alice")  # as if interrupted before alice was graded
    again = _grade(subs, out, root)
    return {"code": code, "again": again, "out": out, "first": first}


def _csv(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_the_class_report_pairs_alice_and_bob_only(graded):
    assert graded["code"] == 0 and graded["again"] == 0
    pairs = _csv(graded["out"] / "similarity.csv")
    assert [(p["assignment"], p["student_a"], p["student_b"], p["cells"]) for p in pairs] == [
        (ADD, "alice", "bob", "add scale")], pairs
    assert float(pairs[0]["score"]) >= 0.95 and int(pairs[0]["matched"]) >= 100
    report = (graded["out"] / "report.html").read_text()
    section = report[report.index("<h2>Similar answers"):]
    assert "Similar answers (1 pair)" in section and "<mark>" in section
    assert "alice" in section and "bob" in section
    assert "carol" not in section and "dave" not in section    # same short answers: no pair
    assert "raise ValueError(f&quot;cannot add shapes" in section  # bob's side, escaped


@pytest.mark.slow
def test_a_resumed_run_writes_the_same_similarity_csv(graded):
    assert (graded["out"] / "similarity.csv").read_bytes() == graded["first"]


@pytest.mark.slow
def test_the_pasted_reference_is_flagged_and_no_score_changes(graded):
    rows = {(r["student_id"], r["assignment"]): r for r in _csv(graded["out"] / "grades.csv")}
    carol, dave = rows[("carol", ADAM)], rows[("dave", ADAM)]
    assert "copied-from-reference: adam_step (optim.adam_step, similarity 1.00)" in \
        carol["flags"].split(" | "), carol
    assert "copied-from-reference" not in dave["flags"]
    assert (carol["status"], carol["score"]) == (dave["status"], dave["score"]) == ("graded", "2")
    for student in ("alice", "bob", "carol", "dave"):
        assert (rows[(student, ADD)]["status"], rows[(student, ADD)]["score"]) == ("graded", "4")
        assert "copied-from-reference" not in rows[(student, ADD)]["flags"]


# --- the thresholds on the real notebook 07, no kernel ------------------------------------

def _solutions(aid: str) -> dict[str, str]:
    nb = nbformat.read(NOTEBOOKS / f"{aid}.ipynb", as_version=4)
    return {nbgrader_meta(c)["grade_id"]: c.source for c in nb.cells
            if nbgrader_meta(c).get("solution") and c.cell_type == "code"}


def _renamed(source: str) -> str:
    """Every assigned name renamed and every comment rewritten, as a student hiding a copy."""
    stores = {n.id for n in ast.walk(ast.parse(source))
              if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    for name in stores:
        source = re.sub(rf"\b{name}\b", f"{name}_2", source)
    return re.sub(r"#.*", "# mine", source)


def _fill(stub: str, body: str) -> str:
    return stub.replace("# YOUR CODE HERE\n    raise NotImplementedError()",
                        textwrap.indent(body.strip(), "    ").lstrip())


def make_class_07() -> list[SimpleNamespace]:
    """Five students' answers to 07: the solutions, a renamed copy of them, two honest
    versions that type the formulas the natural way, and the blank release."""
    course = load_course(NOTEBOOKS)
    a = course["07_rmsprop_adam"]
    stubs = released_cells(a)
    solution = _solutions(a.id)
    honest = {"rmsprop_step": "s = alpha * s + (1 - alpha) * g**2\n"
                              "return w - lr * g / (np.sqrt(s) + eps), s",
              "adam_step": HONEST_ADAM_BODY,
              "adamw_step": "w = w * (1 - lr * weight_decay)\n"
                            "return adam_step(w, g, m, v, t, lr, beta1, beta2, eps, 0.0)"}
    other = {**honest, "adamw_step": "w = w - lr * weight_decay * w\n"
                                     "m = beta1 * m + (1 - beta1) * g\nv = beta2 * v + "
                                     "(1 - beta2) * g * g\nmh = m / (1 - beta1**t)\n"
                                     "vh = v / (1 - beta2**t)\n"
                                     "return w - lr * mh / (np.sqrt(vh) + eps), m, v"}
    answers = {"sol": solution, "copy": {g: _renamed(s) for g, s in solution.items()},
               "honest": {g: _fill(stubs[g], b) for g, b in honest.items()},
               "other": {g: _fill(stubs[g], b) for g, b in other.items()},
               "blank": dict(stubs)}
    return [SimpleNamespace(student_id=s, assignment=a, answers=ans) for s, ans in answers.items()]


@pytest.fixture(scope="module")
def class_07():
    return make_class_07()


def test_on_07_the_renamed_copy_pairs_and_honest_answers_do_not(class_07):
    pairs = class_pairs(class_07)
    assert [(p.student_a, p.student_b) for p in pairs] == [("copy", "sol")]
    assert pairs[0].score == 1.0
    every_answer = sorted(released_cells(class_07[0].assignment))  # adam_step, adamw_step, …
    assert [c.grade_id for c in pairs[0].cells] == every_answer


def test_similarity_does_not_depend_on_python_hash_seed(class_07, tmp_path):
    """copydetect hashes k-grams with Python's salted ``hash``: a re-run is another process."""
    write_similarity_csv(class_pairs(class_07), tmp_path / "here.csv")
    script = textwrap.dedent(f"""
        import sys; sys.path[:0] = [{str(REPO / 'tests')!r}, {str(REPO / 'tests' / 'autograder')!r}]
        from pathlib import Path
        import test_similarity as t
        t.write_similarity_csv(t.class_pairs(t.make_class_07()), Path(sys.argv[1]))
    """)
    seed = "1" if os.environ.get("PYTHONHASHSEED") != "1" else "2"   # not this process's
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "there.csv")], check=True,
                   cwd=REPO, env={**os.environ, "PYTHONHASHSEED": seed}, timeout=120)
    assert (tmp_path / "there.csv").read_text() == (tmp_path / "here.csv").read_text()
    assert "copy,sol" in (tmp_path / "here.csv").read_text()


def test_masking_blanks_the_release_and_docstrings_and_keeps_positions():
    stub = 'def f(x, y):\n    """Return x + y.\n\n    Two lines."""\n    # YOUR CODE HERE\n'
    answer = 'def f(x, y):\n    """Return x + y.\n\n    Two lines."""\n    total = x + y\n'
    out = masked(answer, stub)
    assert len(out) == len(answer) and out.splitlines()[-1] == "    total = x + y"
    assert out.replace("\n", "").strip() == "total = x + y"
    renamed_given = masked("def g(a, b):\n    return a\n", "def f(x, y):\n    return x\n")
    assert renamed_given.strip() == ""   # given lines count as given even when renamed


def test_the_side_by_side_view_escapes_student_code():
    source = "x = '<script>alert(1)</script>'  # <b>"
    shown = highlight(source, [(0, 12)])
    assert "<script" not in shown and "&lt;/script&gt;" in shown and "&lt;b&gt;" in shown
    assert shown.startswith("<mark>x = &#x27;&lt;scr")
    assert similarity_section([]).startswith("<h2>Similar answers (0 pairs)</h2>")
