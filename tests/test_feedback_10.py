"""Feedback a student can act on, notebook 10: each classic wrong answer reaches its own diagnosis.

As in ``test_feedback.py``: notebook 10 runs in this process, cell by cell, up to the cell under
study; a wrong answer replaces the solution; the message must name the mistake in its first 90
characters (what nbgrader's Validate shows), with no course_utils frames. Correct answers
written another way pass. The break-it lab's tests say which implementation a check misjudged.
"""
from __future__ import annotations

import pytest

from test_feedback import attempt, expect_diagnosis

NB = "10"


def answer(name: str, params: str, body: str) -> str:
    return f"def {name}({params}):\n" + "\n".join("    " + line for line in body.strip("\n").splitlines()) + "\n"


XAVIER = "shape, rng, gain=1.0"
KAIMING = "shape, rng, gain=np.sqrt(2.0)"
CLIP = "grads, max_norm"
OVERFIT = "model, optimizer, X, y, steps"
RANGE = "model, optimizer, batches, lr_min, lr_max, divergence_factor=4.0"
STOP = "val_losses, patience, min_delta=0.0"

RANGE_BODY = """
n, lrs, out = len(batches), [], []
for k, (xb, yb) in enumerate(batches):
    lr = {rate}
    optimizer.lr = lr
    logits = model.forward(xb)
    loss = losses.cross_entropy(logits, yb)
    lrs.append(lr)
    out.append(loss)
    if {stop}:
        break
    optimizer.step(model.backward(losses.cross_entropy_grad(logits, yb)))
return np.array(lrs), np.array(out)
"""
GEOMETRIC = "lr_min * (lr_max / lr_min) ** (k / (n - 1))"
STOPS = "not np.isfinite(loss) or loss > divergence_factor * min(out)"

STOP_BODY = """
best, best_epoch, waited = np.inf, 0, 0
for epoch, loss in enumerate(val_losses):
    if {improves}:
        best, best_epoch, waited = loss, epoch, 0
    else:
        waited += 1
        if waited {compare} patience:
            return best_epoch, epoch
return best_epoch, None
"""


def stopping(improves="loss < best - min_delta", compare=">="):
    return answer("early_stopping", STOP, STOP_BODY.format(improves=improves, compare=compare))


WRONG = [
    ("test_xavier_uniform", answer("xavier_uniform", XAVIER, """
a = gain * np.sqrt(2.0 / (shape[0] + shape[1]))
return rng.uniform(-a, a, size=shape)"""), "that bound is the standard deviation"),
    ("test_xavier_uniform", answer("xavier_uniform", XAVIER, """
a = gain * np.sqrt(6.0 / shape[1])
return rng.uniform(-a, a, size=shape)"""), "the bound uses fan_in only (He's rule)"),
    ("test_kaiming_normal", answer("kaiming_normal", KAIMING, """
return rng.normal(0.0, gain / np.sqrt(shape[0]), size=shape)"""), "std uses fan_out = shape[0]"),
    ("test_kaiming_normal", answer("kaiming_normal", KAIMING, """
return rng.normal(0.0, gain ** 2 / shape[1], size=shape)"""), "that is the variance gain**2 / fan_in"),
    ("test_clip_grad_norm", answer("clip_grad_norm", CLIP, """
norms = [np.sqrt(np.sum(g ** 2)) for g in grads]
total = float(np.sqrt(sum(n ** 2 for n in norms)))
return [g * min(1.0, max_norm / (n + 1e-6)) for g, n in zip(grads, norms)], total"""),
     "each array was clipped by its own norm"),
    ("test_clip_grad_norm", answer("clip_grad_norm", CLIP, """
total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))
return [g * max_norm / (total + 1e-6) for g in grads], total"""), "the gradient was scaled up to length c"),
    ("test_clip_grad_norm", answer("clip_grad_norm", CLIP, """
total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))
for g in grads:
    g *= min(1.0, max_norm / (total + 1e-6))
return grads, total"""), "grads[0] was modified in place"),
    ("test_overfit_one_batch", answer("overfit_one_batch", OVERFIT, """
out = []
for _ in range(steps):
    optimizer.step(model.backward(losses.cross_entropy_grad(model.forward(X), y)))
    out.append(losses.cross_entropy(model.forward(X), y))
return np.array(out)"""), "every loss is recorded AFTER its update"),
    ("test_overfit_one_batch", answer("overfit_one_batch", OVERFIT, """
out = []
for _ in range(steps):
    logits = model.forward(X)
    out.append(losses.cross_entropy(logits, y))
    optimizer.step(model.backward(losses.cross_entropy_grad(logits, y)))
return out"""), "returned a list, not a numpy array"),
    ("test_lr_range_test", answer("lr_range_test", RANGE, RANGE_BODY.format(
        rate="np.linspace(lr_min, lr_max, n)[k]", stop=STOPS)), "the rates are spaced linearly"),
    ("test_lr_range_test", answer("lr_range_test", RANGE, RANGE_BODY.format(
        rate=GEOMETRIC.replace("n - 1", "n"), stop=STOPS)), "the exponent is k / n"),
    ("test_lr_range_test", answer("lr_range_test", RANGE, RANGE_BODY.format(
        rate=GEOMETRIC, stop="False")), "the test did not stop"),
    ("test_early_stopping", stopping(compare=">"), "the stop came one epoch late"),
    ("test_early_stopping", stopping(improves="loss <= best - min_delta"), "a tie is no improvement"),
    ("test_early_stopping", stopping(improves="loss < best"), "an improvement must beat the best by more than min_delta"),
]


@pytest.mark.parametrize("cell, wrong, diagnosis", WRONG, ids=[f"{c}-{d[:24]}" for c, _, d in WRONG])
def test_a_classic_mistake_gets_its_own_diagnosis(cell, wrong, diagnosis):
    exc, _ = attempt(NB, cell, wrong)
    expect_diagnosis(exc, diagnosis)


RIGHT_ANOTHER_WAY = [
    ("test_xavier_uniform", answer("xavier_uniform", XAVIER, """
a = gain * np.sqrt(6.0 / (shape[0] + shape[1]))
return a * (2 * rng.random(shape) - 1)""")),
    ("test_kaiming_normal", answer("kaiming_normal", KAIMING, """
return gain / np.sqrt(shape[1]) * rng.standard_normal(shape)""")),
    ("test_clip_grad_norm", answer("clip_grad_norm", CLIP, """
flat = np.concatenate([np.ravel(g) for g in grads])
total = float(np.linalg.norm(flat))
scale = min(1.0, max_norm / (total + 1e-6))
return tuple(g * scale for g in grads), total""")),
    ("test_early_stopping", answer("early_stopping", STOP, """
best, best_epoch, since = float("inf"), 0, 0
for epoch, loss in enumerate(val_losses):
    if loss < best - min_delta:
        best, best_epoch, since = loss, epoch, 0
        continue
    since += 1
    if since == patience:
        return [best_epoch, epoch]
return [best_epoch, None]""")),
]


@pytest.mark.parametrize("cell, right", RIGHT_ANOTHER_WAY, ids=[c for c, _ in RIGHT_ANOTHER_WAY])
def test_a_right_answer_written_another_way_passes(cell, right):
    exc, out = attempt(NB, cell, right)
    assert exc is None and "✓" in out, exc


TOO_FEW_EXAMPLES = answer("check_dense_backward", "backward", """
rng = np.random.default_rng(0)
x, W, b, grad_a = rng.normal(size=(1, 3)), rng.normal(size=(4, 3)), rng.normal(size=4), rng.normal(size=(1, 4))
loss = lambda x, W, b: np.sum(grad_a * np.tanh(x @ W.T + b))
expected = [gradcheck.numerical_gradient(lambda v: loss(v, W, b), x),
            gradcheck.numerical_gradient(lambda v: loss(x, v, b), W),
            gradcheck.numerical_gradient(lambda v: loss(x, W, v), b)]
got = backward(x, W, b, grad_a)
return all(gradcheck.relative_error(g, e) < 1e-6 for g, e in zip(got, expected))""")

ONE_ADAM_STEP = answer("check_adam_step", "adam_step", """
rng = np.random.default_rng(0)
for lr, beta1, beta2, eps in [(1e-3, 0.9, 0.999, 1e-8), (0.05, 0.7, 0.9, 0.1)]:
    w, g = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    mine = adam_step(w, g, np.zeros_like(w), np.zeros_like(w), 1, lr, beta1, beta2, eps)
    reference = optim.adam_step(w, g, np.zeros_like(w), np.zeros_like(w), 1, lr, beta1, beta2, eps)
    if not all(gradcheck.relative_error(a, b) < 1e-9 for a, b in zip(mine, reference)):
        return False
return True""")


@pytest.mark.parametrize("cell, check, diagnosis", [
    ("test_check_dense_backward", answer("check_dense_backward", "backward", "return True"),
     "your check said True for backward_b (tanh' forgotten)"),
    ("test_check_dense_backward", answer("check_dense_backward", "backward", "return False"),
     "your check said False for the correct backward pass"),
    ("test_check_dense_backward", answer("check_dense_backward", "backward", """
x, W, b, g = np.ones((2, 3)), np.ones((4, 3)), np.ones(4), np.ones((2, 4))
return all(np.allclose(p, q) for p, q in zip(backward(x, W, b, g), backward(x, W, b, g)))"""),
     "your check said True for backward_b"),
    ("test_check_dense_backward", TOO_FEW_EXAMPLES, "your check said True for backward_c (db averaged)"),
    ("test_check_adam_step", answer("check_adam_step", "adam_step", "return True"),
     "your check said True for adam_a (no bias correction)"),
    ("test_check_adam_step", ONE_ADAM_STEP, "your check said True for an Adam step whose bias correction always"),
], ids=["always True", "always False", "compares with itself", "one example", "Adam: always True",
        "Adam: one step from zeros"])
def test_the_lab_says_which_implementation_a_check_misjudged(cell, check, diagnosis):
    exc, _ = attempt(NB, cell, check)
    expect_diagnosis(exc, diagnosis)


def test_a_demo_cell_says_which_exercise_to_fix():
    blank = answer("xavier_uniform", XAVIER, "raise NotImplementedError()")
    exc, _ = attempt(NB, 'checks.needs("Exercises 1 and 2", "xavier_uniform", "kaiming_normal"):\n    for yours', blank)
    expect_diagnosis(exc, "fix Exercises 1 and 2 above first (xavier_uniform, kaiming_normal)")
    wrong = stopping(compare=">")
    exc, _ = attempt(NB, 'checks.needs("Exercise 6", "early_stopping")', wrong)
    expect_diagnosis(exc, "fix Exercise 6 above first (early_stopping)")
