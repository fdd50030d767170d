"""Feedback a student can act on: a plausible wrong answer gets the right diagnosis, in view.

Each source notebook runs in this process, cell by cell, up to the cell under test (explorer cells
skipped), as in ``test_answer_key``. Then a wrong answer replaces the solution and the test cell
(or a demo cell that uses the exercise) runs. The message must name the mistake, and name it in
its first 90 characters: nbgrader's Validate shows about that much of a line. What the student
sees is what IPython shows, ``_render_traceback_``: the cell's line and the message wrapped below
80 characters, with no frames of course_utils. The slow tests check the same through a real
kernel and through ``nbgrader validate`` on the release, with the course's nbgrader_config.py.
"""
from __future__ import annotations

import contextlib
import functools
import io
import linecache
import re
import subprocess
import sys

import matplotlib
import nbformat
import pytest

from conftest import NOTEBOOKS, REPO, release_course
from course_utils import checks

matplotlib.use("Agg")

VALIDATE_WIDTH = 90   # nbgrader's default Validator.width: each line is cut at width - 3


def _python(source: str) -> str:
    return re.sub(r"^\s*[%!].*$", "", source, flags=re.M)


def _run(source: str, namespace: dict, filename: str) -> None:
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(_python(source), filename, "exec"), namespace)
    import matplotlib.pyplot as plt
    plt.close("all")


@functools.lru_cache(maxsize=None)
def _notebook(stem: str):
    """The source notebook and, for every cell index, a copy of the namespace before that cell."""
    path = next(NOTEBOOKS.glob(f"{stem}*.ipynb"))
    nb = nbformat.read(path, as_version=4)
    namespace: dict = {"__name__": "__main__", "display": lambda *a, **k: None}
    before = {}
    with contextlib.redirect_stdout(io.StringIO()):
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or "widgets." in cell.source:
                continue
            before[index] = dict(namespace)
            _run(cell.source, namespace, f"/tmp/ipykernel_0/cell-{index}.py")
    return nb, before


def _cell(nb, marker: str) -> int:
    """The code cell whose grade_id is ``marker``, else the one cell whose source contains it."""
    hits = [i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == marker] or \
        [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and marker in c.source]
    assert len(hits) == 1, f"{marker!r} names {len(hits)} cells"
    return hits[0]


def attempt(stem: str, cell: str, answer: str = "") -> tuple[BaseException | None, str]:
    """Run ``answer`` (a student's cell) and then ``cell``: (what it raised or None, its stdout)."""
    nb, before = _notebook(stem)
    index = _cell(nb, cell)
    namespace = dict(before[index])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        if answer:
            _run(answer, namespace, "/tmp/ipykernel_0/answer.py")
        try:
            _run(nb.cells[index].source, namespace, f"/tmp/ipykernel_0/cell-{index}.py")
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            return exc, out.getvalue()
    return None, out.getvalue()


def shown(exc: BaseException) -> list[str]:
    """The lines IPython shows for ``exc`` (a check's own rendering), as Validate cuts them."""
    lines = "\n".join(exc._render_traceback_()).splitlines()
    return [("    " + line)[:VALIDATE_WIDTH - 3] for line in lines]


def expect_diagnosis(exc: BaseException | None, diagnosis: str, *, not_said: str | None = None) -> str:
    assert exc is not None, "the wrong answer passed"
    assert isinstance(exc, checks.CheckFailure), f"not a check's message: {exc!r}"
    message = str(exc)
    assert diagnosis in message[:VALIDATE_WIDTH], f"{diagnosis!r} is not in the first 90 characters of {message!r}"
    if not_said:
        assert not_said not in message, f"{not_said!r} should not be said: {message!r}"
    lines = shown(exc)
    assert not any("course_utils/checks.py" in line or "_answer_guard.py" in line for line in lines), lines
    start = next(k for k, line in enumerate(lines) if line.lstrip().startswith(type(exc).__name__ + ":"))
    in_view = " ".join(line.strip() for line in lines[start:])
    assert in_view == f"{type(exc).__name__}: {' '.join(message.split())}", "Validate cut the message:\n" + \
        "\n".join(lines[start:])
    return message


# ---- 01 -------------------------------------------------------------------------------------------

ABS_ERROR = """
def first_order_error(loss, grad, w, lr):
    slope = grad(w)
    return abs(loss(w - lr * slope) - (loss(w) - lr * slope**2))
"""

LIST_TRAJECTORY = """
def run_gd_1d(grad, w0, lr, n_steps):
    w = float(w0)
    path = [w]
    for _ in range(n_steps):
        w = w - lr * grad(w)
        path.append(w)
    return path
"""


def test_01_abs_is_not_called_a_flipped_sign():
    exc, _ = attempt("01", "test_first_order_error", ABS_ERROR)
    expect_diagnosis(exc, "abs() drops the sign", not_said="sign is flipped")


def test_01_a_list_is_not_the_promised_array():
    exc, _ = attempt("01", "test_run_gd_1d", LIST_TRAJECTORY)
    expect_diagnosis(exc, "returned a list, not a numpy array")


def test_01_a_demo_cell_says_which_exercise_to_fix():
    blank = "def derivative_central(f, w, h=1e-5):\n    raise NotImplementedError()\n"
    exc, _ = attempt("01", 'checks.needs("Exercise 1", "derivative_central")', blank)
    expect_diagnosis(exc, "fix Exercise 1 above first (derivative_central)")
    assert isinstance(exc, checks.ExerciseNotReady)
    wrong = "def run_gd_1d(grad, w0, lr, n_steps):\n    return np.full(n_steps + 1, float(w0))\n"
    exc, _ = attempt("01", 'checks.needs("Exercise 3", "run_gd_1d")', wrong)
    expect_diagnosis(exc, "fix Exercise 3 above first (run_gd_1d)")


# ---- 02 -------------------------------------------------------------------------------------------

def test_02_a_correct_array_of_two_gradients_passes():
    answer = ("def mse_linear_grads(x, y, w, b):\n    r = w * x + b - y\n"
              "    return np.array([2 * np.mean(r * x), 2 * np.mean(r)])\n")
    exc, out = attempt("02", "test_mse_linear_grads", answer)
    assert exc is None and "✓" in out, exc


def test_02_one_number_where_two_are_due_is_said_plainly():
    answer = "def mse_linear_grads(x, y, w, b):\n    return float(2 * np.mean((w * x + b - y) * x))\n"
    exc, _ = attempt("02", "test_mse_linear_grads", answer)
    expect_diagnosis(exc, "return 2 values (dL_dw, dL_db)")


def test_02_mentions_no_slides():
    nb, _ = _notebook("02")
    assert not any(re.search(r"\bslides?\b", c.source, flags=re.I) for c in nb.cells)


# ---- 03 -------------------------------------------------------------------------------------------

def test_03_a_list_of_the_two_gradients_passes():
    answer = ("def batch_gradient(X, y, w, b):\n    r = X @ w + b - y\n"
              "    return [2 / len(y) * X.T @ r, 2 / len(y) * float(np.sum(r))]\n")
    exc, out = attempt("03", "test_batch_gradient", answer)
    assert exc is None and "✓" in out, exc


# ---- 04 -------------------------------------------------------------------------------------------

def test_04_softmax_without_the_row_max_is_named_not_nan():
    answer = "def softmax(z, axis=-1):\n    e = np.exp(z)\n    return e / np.sum(e, axis=axis, keepdims=True)\n"
    exc, _ = attempt("04", "test_softmax", answer)
    expect_diagnosis(exc, "exp(1000) overflows", not_said="got NaN or inf")


def test_04_log_of_softmax_is_named():
    answer = ("def cross_entropy(logits, labels):\n"
              "    p = np.exp(logits - logits.max(axis=1, keepdims=True))\n"
              "    p = p / p.sum(axis=1, keepdims=True)\n"
              "    return float(-np.mean(np.log(p[np.arange(len(labels)), labels])))\n")
    exc, _ = attempt("04", "test_cross_entropy", answer)
    expect_diagnosis(exc, "np.log(softmax(z)) takes log(0)", not_said="got NaN or inf")


# ---- 05 -------------------------------------------------------------------------------------------

SKIPS_LAYER_0 = """
def mlp_backward(dlogits, params, inputs, preacts):
    grads = [None] * len(params)
    delta = dlogits
    for i in range(len(params) // 2 - 1, 0, -1):
        grads[2 * i] = delta.T @ inputs[i]
        grads[2 * i + 1] = delta.sum(axis=0)
        delta = (delta @ params[2 * i]) * (preacts[i - 1] > 0)
    return grads
"""

APPENDS_WITHOUT_LAYER_0 = """
def mlp_backward(dlogits, params, inputs, preacts):
    grads = []
    delta = dlogits
    for i in range(len(params) // 2 - 1, 0, -1):
        grads = [delta.T @ inputs[i], delta.sum(axis=0)] + grads
        delta = (delta @ params[2 * i]) * (preacts[i - 1] > 0)
    return grads
"""

NO_RELU_MASK = """
def mlp_backward(dlogits, params, inputs, preacts):
    grads = [None] * len(params)
    delta = dlogits
    for i in reversed(range(len(params) // 2)):
        grads[2 * i] = delta.T @ inputs[i]
        grads[2 * i + 1] = delta.sum(axis=0)
        if i > 0:
            delta = delta @ params[2 * i]
    return grads
"""


def test_05_a_loop_that_skips_layer_0_is_named():
    exc, _ = attempt("05", "test_mlp_backward", SKIPS_LAYER_0)
    expect_diagnosis(exc, "the loop never reached the first layer", not_said="forget to `return`")
    exc, _ = attempt("05", "test_mlp_backward", APPENDS_WITHOUT_LAYER_0)
    expect_diagnosis(exc, "did the loop stop before the first layer")


def test_05_the_gradient_check_reports_all_six_arrays_then_fails():
    exc, out = attempt("05", "check_params = [p.copy()", NO_RELU_MASK)
    for name in ("W1", "b1", "W2", "b2", "W3", "b3"):
        assert f"{name}: shape" in out, out
    message = expect_diagnosis(exc, "fix Exercise 4 above first (mlp_backward)")
    assert "4 of 6 above 1e-06: W1, b1, W2, b2" in message, message


def _value_with(*edits: tuple[str, str]) -> str:
    nb, _ = _notebook("05")
    source = nb.cells[_cell(nb, "Value")].source
    source = re.sub(r"^[ \t]*### (BEGIN|END) SOLUTION\n", "", source, flags=re.M)
    for old, new in edits:
        assert old in source, old
        source = source.replace(old, new)
    return source


@pytest.mark.parametrize("edits, diagnosis", [
    ((("self.grad += out.grad", "self.grad = out.grad"), ("other.grad += out.grad", "other.grad = out.grad"),
      ("self.grad += other.data * out.grad", "self.grad = other.data * out.grad"),
      ("other.grad += self.data * out.grad", "other.grad = self.data * out.grad")),
     "gradients overwritten instead of accumulated"),
    ((("self.grad += other.data * out.grad", "self.grad += self.data * out.grad"),
      ("other.grad += self.data * out.grad", "other.grad += other.data * out.grad")),
     "in __mul__ each input gets the OTHER input's data"),
    ((("self.grad += (1.0 - out.data ** 2) * out.grad", "self.grad += (1.0 - self.data ** 2) * out.grad"),),
     "tanh'(a) = 1 - tanh(a)**2"),
    ((("        for node in order:\n            node.grad = 0.0\n", ""),), "calling backward() twice changed the gradients"),
    ((("        order, visited = [], set()", "        self.grad = 1.0\n        queue = [self]\n"
       "        while queue:\n            node = queue.pop(0)\n            node._backward()\n"
       "            queue.extend(node._prev)\n        return\n        order, visited = [], set()"),),
     "wrong topological order"),
    ((("        self.grad = 1.0\n        for node in reversed(order):",
       "        for node in reversed(order):"),), "all gradients are 0"),
], ids=["overwritten", "mul swapped", "tanh of the input", "no reset", "breadth-first order", "no seed 1.0"])
def test_05_value_mistakes_are_named(edits, diagnosis):
    exc, _ = attempt("05", "test_Value", _value_with(*edits))
    expect_diagnosis(exc, diagnosis)


def test_05_the_reference_value_and_the_solution_pass():
    exc, out = attempt("05", "test_Value", _value_with())
    assert exc is None and "✓" in out, exc


# ---- through a kernel, and through nbgrader's Validate on the release ----------------------------

@pytest.mark.slow
def test_a_kernel_shows_the_cell_line_and_the_diagnosis_only(tmp_path, jupyter_env):
    from autograder import nbtools

    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell("from course_utils import checks"),
                nbformat.v4.new_code_cell("def step(w):\n    return w + 0.1\n\n"
                                          "checks.expect_close(step(1.0), 0.9, 'one step from w = 1',\n"
                                          "                    mistakes={'the step went uphill': 1.1})"),
                nbformat.v4.new_code_cell("with checks.needs('Exercise 2', 'step'):\n    step(None)")]
    out = nbtools.execute(nb, tmp_path)
    for cell, diagnosis in ((out.cells[1], "CheckFailure: the step went uphill [one step from w = 1]"),
                            (out.cells[2], "ExerciseNotReady: fix Exercise 2 above first (step)")):
        error = next(o for o in cell.outputs if o.output_type == "error")
        text = "\n".join(error.traceback)
        assert diagnosis in text, text
        assert "course_utils" not in text and "site-packages" not in text, text
        assert re.search(r"Cell In\[\d+\], line \d+", text), text
    assert "----> 4 checks.expect_close(step(1.0), 0.9" in "\n".join(out.cells[1].outputs[0].traceback)
    assert "----> 2 return w + 0.1" in "\n".join(out.cells[2].outputs[0].traceback)


@pytest.mark.slow
def test_validate_on_the_release_shows_the_diagnosis_with_the_course_config(tmp_path, jupyter_env):
    release = release_course(tmp_path)
    assert (release / "nbgrader_config.py").read_text() == (NOTEBOOKS / "nbgrader_config.py").read_text()
    path = release / "01_gradient_descent_1d.ipynb"
    solutions = {c.metadata["nbgrader"]["grade_id"]: c.source for c in _notebook("01")[0].cells
                 if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")}
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:                     # the other exercises right, Exercise 4 with abs()
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in solutions:
            cell.source = ABS_ERROR.strip() if grade_id == "first_order_error" else solutions[grade_id]
    nbformat.write(nb, path)
    nbgrader = REPO / ".venv" / "bin" / "nbgrader"
    command = [str(nbgrader)] if nbgrader.exists() else [sys.executable, "-m", "nbgrader"]
    proc = subprocess.run([*command, "validate", path.name], cwd=release, capture_output=True, text=True,
                          timeout=600)
    text = proc.stdout + proc.stderr
    assert "No nbgrader_config.py file found" not in text, text
    assert "VALIDATION FAILED" in text, text
    assert "abs() drops the sign: return actual - predicted" in text, text
    assert text.count("CheckFailure:") == 1 and "CheckFailure: the sign is flipped" not in text, text
    assert "course_utils/checks.py" not in text, text
