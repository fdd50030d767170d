"""Feedback a student can act on, notebooks 06–09: each wrong answer reaches its own diagnosis.

Each case runs a source notebook in this process, cell by cell, the way ``test_answer_key.py``
does: the setup, every solution and every demo cell above the cell under study, with one (or
more) exercises answered wrongly. Test cells above it are skipped (they would stop at the wrong
answer, and nothing below reads them) and so are explorer cells. Then the cell under study runs
— the exercise's test cell, or a demo cell that uses the exercise — and the message the student
reads is checked with ``test_feedback.expect_diagnosis`` (the diagnosis in the first 90
characters, which nbgrader's Validate shows; no course_utils frames; nothing cut):

- a test cell names the mistake, once, instead of a generic error or a neighbouring diagnosis;
- a demo cell that needs an exercise says "fix Exercise N above first" (``checks.needs``), not a
  bare ``AssertionError`` or a plotting helper's internals.

The slow case runs ``nbgrader validate`` on notebook 08 of the release, as a student does.
"""
from __future__ import annotations

import re
import subprocess
import sys

import matplotlib
import nbformat
import pytest

from conftest import NOTEBOOKS, REPO, release_course
from test_feedback import expect_diagnosis

matplotlib.use("Agg")

NB06 = NOTEBOOKS / "06_momentum_nesterov.ipynb"
NB07 = NOTEBOOKS / "07_rmsprop_adam.ipynb"
NB08 = NOTEBOOKS / "08_lr_schedules.ipynb"
NB09 = NOTEBOOKS / "09_putting_it_together.ipynb"

# ---------------------------------------------------------------- wrong answers, as a student writes them

NESTEROV_OLD_V = """
def nesterov_step(w, g, v, lr, beta):
    v_new = beta * v + g
    return w - lr * (g + beta * v), v_new
"""
EMA_1D_ONLY = """
def ema(values, beta):
    out, v = np.zeros(len(values)), 0.0
    for t in range(len(values)):
        v = beta * v + (1 - beta) * values[t]
        out[t] = v
    return out
"""
EMA_FLATTENED = """
def ema(values, beta):
    out, v = [], 0.0
    for g in values:
        v = beta * v + (1 - beta) * np.mean(g)
        out.append(v)
    return np.array(out)
"""
EMA_SWAPPED = """
def ema(values, beta):
    out, v = np.zeros(np.shape(values)), np.zeros(np.shape(values)[1:])
    for t, g in enumerate(values):
        v = (1 - beta) * v + beta * g
        out[t] = v
    return out
"""
EMA_BLANK = """
def ema(values, beta):
    raise NotImplementedError()
"""
SUTSKEVER_TORCH_FORM = """
def sutskever_momentum_step(w, g, v, lr, beta):
    v_new = beta * v + g
    return w - lr * v_new, v_new
"""
ADAGRAD_LAST_SQUARE = """
def adagrad_step(w, g, s, lr, eps=1e-10):
    s_new = g**2
    return w - lr * g / (np.sqrt(s_new) + eps), s_new
"""
ADAM_NO_HATS = """
def adam_step(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    g = g + weight_decay * w
    m_new = beta1 * m + (1 - beta1) * g
    v_new = beta2 * v + (1 - beta2) * g**2
    return w - lr * m_new / (np.sqrt(v_new) + eps), m_new, v_new
"""
RMSPROP_OLD_S = """
def rmsprop_step(w, g, s, lr, alpha=0.99, eps=1e-8):
    s_new = alpha * s + (1 - alpha) * g**2
    return w - lr * g / (np.sqrt(s) + eps), s_new
"""
STEP_LR_NOT_FLOORED = """
def step_lr(t, lr0, step_size, gamma=0.1):
    return lr0 * gamma ** (t / step_size)
"""
INVERSE_SQRT_NUMPY = """
def inverse_sqrt_lr(t, lr0):
    return lr0 / np.sqrt(t)
"""
INVERSE_SQRT_MATH = """
def inverse_sqrt_lr(t, lr0):
    return lr0 / math.sqrt(t)
"""
ACCURACY_COUNT = """
def evaluate_accuracy(model, X, y):
    return float(np.sum(np.argmax(model.forward(X), axis=1) == y))
"""
EPOCH_UNSHUFFLED = """
def train_epoch(model, optimizer, X, y, batch_size, rng, lr_schedule, step):
    batch_losses = []
    for xb, yb in data.minibatches(X, y, batch_size, shuffle=False):
        optimizer.lr = lr_schedule(step)
        logits = model.forward(xb)
        batch_losses.append(losses.cross_entropy(logits, yb))
        optimizer.step(model.backward(losses.cross_entropy_grad(logits, yb)))
        step += 1
    return np.array(batch_losses), step
"""


# ---------------------------------------------------------------- running cells as the kernel would

def _python(source: str) -> str:
    return re.sub(r"^\s*[%!].*$", "", source, flags=re.M)


def _grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _is_test(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


def run_to(path, target, answers: dict[str, str]) -> BaseException | None:
    """Run ``path`` down to the cell ``target`` (a grade_id, or text the cell contains) with the
    solution cells named in ``answers`` replaced; return what the target cell raised (or None)."""
    import matplotlib.pyplot as plt

    nb = nbformat.read(path, as_version=4)
    cells = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    hits = [i for i, c in cells if _grade_id(c) == target or (_grade_id(c) is None and target in c.source)]
    assert len(hits) == 1, f"{path.name}: {len(hits)} cells match {target!r}"
    namespace: dict = {"__name__": "__main__", "display": lambda *a, **k: None}
    for index, cell in cells:
        if index > hits[0]:
            break
        if "widgets." in cell.source or (_is_test(cell) and index != hits[0]):
            continue
        source = answers.get(_grade_id(cell), cell.source)
        try:
            exec(compile(_python(source), f"/tmp/ipykernel_0/cell-{index}.py", "exec"), namespace)
        except Exception as error:  # noqa: BLE001 - a kernel goes on after an error; the target's counts
            if index == hits[0]:
                return error
        finally:
            plt.close("all")
    return None


def diagnosis(path, target, answers, expected: str) -> str:
    """The message of the cell ``target`` with these answers; ``expected`` must lead it."""
    return expect_diagnosis(run_to(path, target, answers), expected)


# ---------------------------------------------------------------- 06

def test_06_nesterov_with_the_old_velocity_is_named_and_the_step_shown_once():
    message = diagnosis(NB06, "test_nesterov_step", {"nesterov_step": NESTEROV_OLD_V},
                        "w moved by lr·(g + β·v) with the OLD v, which is plain momentum's step")
    assert "step 1: w" in message and "update v first" in message
    assert message.count("step 1") == 1


def test_06_an_ema_for_1d_values_only_fails_the_visible_test_with_the_shape_to_fix():
    message = diagnosis(NB06, "test_ema", {"ema": EMA_1D_ONLY},
                        "values may have any shape after the time axis")
    assert "shape (12, 3)" in message and "np.zeros(np.shape(values)[1:])" in message
    assert "setting an array element" in message   # what went wrong, as numpy said it


def test_06_an_ema_that_averages_across_columns_is_caught_by_its_shape():
    message = diagnosis(NB06, "test_ema", {"ema": EMA_FLATTENED}, "return one row per time step")
    assert "shape of ema(values of shape (12, 3))" in message and "(12, 3)" in message


def test_06_the_notes_form_with_torchs_velocity_is_named():
    message = diagnosis(NB06, "test_sutskever_momentum_step", {"sutskever_momentum_step": SUTSKEVER_TORCH_FORM},
                        "v is PyTorch's velocity β v + g")
    assert "β v - lr·g" in message


@pytest.mark.parametrize("answer", [EMA_SWAPPED, EMA_BLANK], ids=["wrong", "blank"])
def test_06_the_ema_demo_asks_for_exercise_1_first(answer):
    diagnosis(NB06, "your recursion (exercise 1) against it", {"ema": answer}, "fix Exercise 1 above first (ema)")


def test_06_the_torch_comparison_asks_for_the_exercise_that_is_wrong():
    diagnosis(NB06, "torch_nesterov = torch_sgd_path(", {"nesterov_step": NESTEROV_OLD_V},
              "fix Exercise 5 above first (nesterov_step)")


# ---------------------------------------------------------------- 07

def test_07_adagrad_without_the_sum_is_named():
    diagnosis(NB07, "test_adagrad_step", {"adagrad_step": ADAGRAD_LAST_SQUARE},
              "s kept only the last g**2; AdaGrad SUMS them")


def test_07_demo_cells_after_a_wrong_adam_ask_for_exercise_3_and_the_plot_still_draws():
    diagnosis(NB07, "first_step_factor = (1 - beta1) / np.sqrt(1 - beta2)", {"adam_step": ADAM_NO_HATS},
              "fix Exercise 3 above first (adam_step)")
    # The step-length plot below it used to fail with "x and y of equal length, got 200 and 0".
    assert run_to(NB07, "step_only_m_raw = 1 - beta1**t", {"adam_step": ADAM_NO_HATS}) is None


def test_07_the_race_asks_for_the_exercise_that_is_wrong():
    diagnosis(NB07, "def race_on(landscape", {"rmsprop_step": RMSPROP_OLD_S}, "fix Exercise 2 above first (rmsprop_step)")


# ---------------------------------------------------------------- 08

def test_08_a_step_decay_that_is_not_floored_reaches_its_hint():
    message = diagnosis(NB08, "test_step_lr", {"step_lr": STEP_LR_NOT_FLOORED}, "the decay is not rounded down")
    assert "t // step_size" in message


@pytest.mark.parametrize("answer", [INVERSE_SQRT_NUMPY, INVERSE_SQRT_MATH], ids=["np.sqrt", "math.sqrt"])
def test_08_dividing_by_sqrt_t_reaches_its_hint_not_a_zero_division(answer):
    message = diagnosis(NB08, "test_inverse_sqrt_lr", {"inverse_sqrt_lr": answer}, "divide by sqrt(t + 1), not sqrt(t)")
    assert "ZeroDivisionError" not in message and "NaN or inf" not in message


def test_08_demo_cells_ask_for_the_schedule_that_is_wrong():
    answers = {"step_lr": STEP_LR_NOT_FLOORED}
    diagnosis(NB08, "ours = np.array([step_lr(", answers, "fix Exercise 1 above first (step_lr)")
    diagnosis(NB08, "losses = {name: noisy_sgd_loss(lrs)", answers, "fix Exercise 1 above first (step_lr)")


# ---------------------------------------------------------------- 09

def test_09_demo_cells_ask_for_exercise_1_first():
    answers = {"evaluate_accuracy": ACCURACY_COUNT}
    diagnosis(NB09, "validation accuracy before training", answers, "fix Exercise 1 above first (evaluate_accuracy)")
    diagnosis(NB09, "ours_accuracy.append(evaluate_accuracy(", answers, "fix Exercise 1 above first (evaluate_accuracy)")


def test_09_the_race_asks_for_exercise_2_and_its_plot_for_the_race():
    answers = {"train_epoch": EPOCH_UNSHUFFLED}
    diagnosis(NB09, "ours_accuracy.append(evaluate_accuracy(", answers, "fix Exercise 2 above first (train_epoch)")
    diagnosis(NB09, "relative_gap = np.abs(ours_losses - torch_losses)", answers, "run the race cell above first")


# ---------------------------------------------------------------- through Validate

@pytest.mark.slow
def test_08_validate_on_the_release_shows_each_diagnosis(tmp_path, jupyter_env):
    release = release_course(tmp_path)
    solutions = {_grade_id(c): c.source for c in nbformat.read(NB08, as_version=4).cells
                 if c.metadata.get("nbgrader", {}).get("solution")}
    wrong = {"step_lr": STEP_LR_NOT_FLOORED, "inverse_sqrt_lr": INVERSE_SQRT_MATH}
    path = release / NB08.name
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:                       # two exercises wrong, the other two right
        if _grade_id(cell) in solutions:
            cell.source = wrong.get(_grade_id(cell), solutions[_grade_id(cell)]).strip()
    nbformat.write(nb, path)
    nbgrader = REPO / ".venv" / "bin" / "nbgrader"
    command = [str(nbgrader)] if nbgrader.exists() else [sys.executable, "-m", "nbgrader"]
    proc = subprocess.run([*command, "validate", path.name], cwd=release, capture_output=True,
                          text=True, timeout=600)
    text = proc.stdout + proc.stderr
    assert "VALIDATION FAILED" in text, text
    assert "the decay is not rounded down: use t // step_size" in text, text
    assert "divide by sqrt(t + 1), not sqrt(t)" in text, text
    assert not re.search(r"^\s*ZeroDivisionError", text, re.M) and text.count("CheckFailure:") == 2, text
    assert "course_utils/checks.py" not in text, text
