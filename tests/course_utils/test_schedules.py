"""course_utils.schedules equals torch.optim.lr_scheduler, step by step, in float64."""
import math

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as torch_sched

from course_utils.schedules import (
    cosine_lr,
    inverse_sqrt_lr,
    linear_lr,
    lr_curve,
    step_lr,
    with_warmup,
)

N_STEPS = 250
RTOL = 1e-6


def torch_lrs(make_scheduler, lr0: float, n_steps: int = N_STEPS) -> np.ndarray:
    """lr read from the optimizer after t = 0, 1, …, n_steps−1 calls of scheduler.step()."""
    param = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=lr0)
    scheduler = make_scheduler(optimizer)
    lrs = []
    for _ in range(n_steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()  # before scheduler.step(), as torch asks
        scheduler.step()
    return np.array(lrs, dtype=np.float64)


def assert_matches_torch(ours: np.ndarray, theirs: np.ndarray, lr0: float) -> float:
    # Near lr = 0 (end of a cosine or linear decay) a relative error is meaningless: torch's
    # recursive update leaves ~1e-17 where the closed form gives 0, hence the tiny atol.
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=1e-12 * lr0)
    mask = np.abs(theirs) > 1e-9 * lr0
    return float(np.max(np.abs(ours[mask] - theirs[mask]) / np.abs(theirs[mask])))


STEP_CASES = [(0.1, 1, 0.5), (0.1, 30, 0.1), (1.0, 7, 0.9), (3e-4, 50, 1.0)]


@pytest.mark.parametrize("lr0, step_size, gamma", STEP_CASES)
def test_step_lr_equals_torch(lr0, step_size, gamma):
    steps = np.arange(N_STEPS)
    theirs = torch_lrs(lambda opt: torch_sched.StepLR(opt, step_size=step_size, gamma=gamma), lr0)
    assert_matches_torch(step_lr(steps, lr0, step_size, gamma), theirs, lr0)


# total_steps < N_STEPS: torch keeps stepping past T_max, and the cosine comes back up.
COSINE_CASES = [(0.1, 100, 0.0), (0.5, 37, 0.01), (1.0, 1, 0.0), (2e-3, 400, 1e-4), (0.1, 3, 0.05)]


@pytest.mark.parametrize("lr0, total_steps, lr_min", COSINE_CASES)
def test_cosine_lr_equals_torch_including_past_total_steps(lr0, total_steps, lr_min):
    steps = np.arange(N_STEPS)
    theirs = torch_lrs(
        lambda opt: torch_sched.CosineAnnealingLR(opt, T_max=total_steps, eta_min=lr_min), lr0)
    assert_matches_torch(cosine_lr(steps, lr0, total_steps, lr_min), theirs, lr0)


def test_cosine_lr_is_periodic_and_hits_lr_min():
    assert cosine_lr(50, 0.1, 50, 0.01) == pytest.approx(0.01)
    assert cosine_lr(100, 0.1, 50, 0.01) == pytest.approx(0.1)
    assert cosine_lr(25, 0.1, 50, 0.0) == pytest.approx(0.05)


LINEAR_CASES = [(0.1, 100, 1.0, 0.0), (0.5, 10, 0.25, 1.0), (1.0, 1, 1.0, 0.0),
                (3e-3, 60, 0.8, 0.1), (0.2, 400, 0.5, 0.5)]


@pytest.mark.parametrize("lr0, total_steps, start_factor, end_factor", LINEAR_CASES)
def test_linear_lr_equals_torch(lr0, total_steps, start_factor, end_factor):
    steps = np.arange(N_STEPS)
    theirs = torch_lrs(lambda opt: torch_sched.LinearLR(
        opt, start_factor=start_factor, end_factor=end_factor, total_iters=total_steps), lr0)
    assert_matches_torch(linear_lr(steps, lr0, total_steps, start_factor, end_factor), theirs, lr0)


@pytest.mark.parametrize("lr0", [0.1, 1.0, 7e-4])
def test_inverse_sqrt_lr_equals_torch_lambda_lr(lr0):
    steps = np.arange(N_STEPS)
    theirs = torch_lrs(lambda opt: torch_sched.LambdaLR(opt, lambda t: 1 / math.sqrt(t + 1)), lr0)
    assert_matches_torch(inverse_sqrt_lr(steps, lr0), theirs, lr0)


# Main schedules whose value at t = 0 is lr0: here with_warmup equals torch's SequentialLR.
SEQUENTIAL_CASES = {
    "step": (lambda t: step_lr(t, 0.3, 20, 0.5),
             lambda opt: torch_sched.StepLR(opt, step_size=20, gamma=0.5)),
    "cosine": (lambda t: cosine_lr(t, 0.3, 150, 0.003),
               lambda opt: torch_sched.CosineAnnealingLR(opt, T_max=150, eta_min=0.003)),
    "linear": (lambda t: linear_lr(t, 0.3, 120),
               lambda opt: torch_sched.LinearLR(opt, start_factor=1.0, end_factor=0.0, total_iters=120)),
    "inverse_sqrt": (lambda t: inverse_sqrt_lr(t, 0.3),
                     lambda opt: torch_sched.LambdaLR(opt, lambda t: 1 / math.sqrt(t + 1))),
}


@pytest.mark.parametrize("name", list(SEQUENTIAL_CASES))
@pytest.mark.parametrize("warmup_steps, start_factor", [(10, 0.1), (1, 0.5), (37, 0.01)])
def test_with_warmup_equals_torch_sequential_lr(name, warmup_steps, start_factor):
    ours_main, make_main = SEQUENTIAL_CASES[name]
    theirs = torch_lrs(lambda opt: torch_sched.SequentialLR(
        opt,
        [torch_sched.LinearLR(opt, start_factor=start_factor, end_factor=1.0, total_iters=warmup_steps),
         make_main(opt)],
        milestones=[warmup_steps]), 0.3)
    ours = with_warmup(ours_main, warmup_steps, start_factor)(np.arange(N_STEPS))
    assert_matches_torch(ours, theirs, 0.3)


@pytest.mark.parametrize("warmup_steps, start_factor", [(10, 0.1), (25, 0.5)])
def test_with_warmup_equals_torch_lambda_lr_for_any_schedule(warmup_steps, start_factor):
    lr0 = 0.2
    main = lambda t: linear_lr(t, lr0, 80, start_factor=0.5, end_factor=0.1)  # f(0) = lr0/2

    def factor(t):  # the documented LambdaLR form, written out independently
        if t < warmup_steps:
            return 0.5 * (start_factor + (1 - start_factor) * t / warmup_steps)
        s = t - warmup_steps
        return 0.5 + (0.1 - 0.5) * min(s, 80) / 80

    theirs = torch_lrs(lambda opt: torch_sched.LambdaLR(opt, factor), lr0)
    assert_matches_torch(with_warmup(main, warmup_steps, start_factor)(np.arange(N_STEPS)), theirs, lr0)


@pytest.mark.parametrize("name", list(SEQUENTIAL_CASES))
def test_warmup_from_zero_equals_torch_lambda_lr(name):
    """start_factor=0 (warmup from 0, as large models do): LinearLR rejects it, LambdaLR does it."""
    ours_main, _ = SEQUENTIAL_CASES[name]
    warmup_steps, lr0 = 40, 0.3
    ours = with_warmup(ours_main, warmup_steps, 0.0)(np.arange(N_STEPS))
    factor = [float(ours_main(0)) / lr0 * t / warmup_steps if t < warmup_steps
              else float(ours_main(t - warmup_steps)) / lr0 for t in range(N_STEPS + 1)]
    theirs = torch_lrs(lambda opt: torch_sched.LambdaLR(opt, lambda t: factor[t]), lr0)
    assert ours[0] == 0.0
    assert_matches_torch(ours, theirs, lr0)


def test_warmup_starts_at_start_factor_and_reaches_the_main_schedule():
    sched = with_warmup(lambda t: cosine_lr(t, 1.0, 100), warmup_steps=4, start_factor=0.2)
    assert [sched(t) for t in range(5)] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert sched(104) == pytest.approx(0.0, abs=1e-15)


def test_scalar_and_vector_calls_agree_and_types():
    steps = np.arange(40)
    for f in (lambda t: step_lr(t, 0.1, 7), lambda t: cosine_lr(t, 0.1, 30, 0.01),
              lambda t: linear_lr(t, 0.1, 25, 0.5, 0.2), lambda t: inverse_sqrt_lr(t, 0.1),
              with_warmup(lambda t: step_lr(t, 0.1, 7), 5)):
        vec = f(steps)
        assert isinstance(vec, np.ndarray) and vec.dtype == np.float64 and vec.shape == (40,)
        scalars = [f(int(t)) for t in steps]
        assert all(type(s) is float for s in scalars)
        np.testing.assert_allclose(vec, scalars, rtol=1e-14)
        assert type(f(np.int64(3))) is float


def test_lr_curve_handles_vectorised_and_scalar_only_schedules():
    curve = lr_curve(lambda t: cosine_lr(t, 0.1, 50), 60)
    assert curve.shape == (60,) and curve.dtype == np.float64
    np.testing.assert_array_equal(curve, cosine_lr(np.arange(60), 0.1, 50))

    def scalar_only(t):  # a student's version: `if` on t and math.sqrt fail on arrays
        return 0.1 if t < 3 else 0.1 / math.sqrt(t)

    np.testing.assert_allclose(lr_curve(scalar_only, 5), [0.1, 0.1, 0.1, 0.1 / math.sqrt(3), 0.05])


@pytest.mark.parametrize("call, error, name", [
    (lambda: step_lr(-1, 0.1, 10), ValueError, "t"),
    (lambda: step_lr(1.5, 0.1, 10), TypeError, "t"),
    (lambda: step_lr(np.array([0.0, 1.0]), 0.1, 10), TypeError, "t"),
    (lambda: step_lr(np.array([0, -2]), 0.1, 10), ValueError, "t"),
    (lambda: step_lr(True, 0.1, 10), TypeError, "t"),
    (lambda: step_lr(1, 0.0, 10), ValueError, "lr0"),
    (lambda: step_lr(1, -0.1, 10), ValueError, "lr0"),
    (lambda: step_lr(1, float("nan"), 10), ValueError, "lr0"),
    (lambda: step_lr(1, 0.1, 0), ValueError, "step_size"),
    (lambda: step_lr(1, 0.1, 2.0), TypeError, "step_size"),
    (lambda: step_lr(1, 0.1, 10, gamma=0.0), ValueError, "gamma"),
    (lambda: step_lr(1, 0.1, 10, gamma=1.5), ValueError, "gamma"),
    (lambda: cosine_lr(1, 0.1, 0), ValueError, "total_steps"),
    (lambda: cosine_lr(1, 0.1, 10, lr_min=-1e-3), ValueError, "lr_min"),
    (lambda: cosine_lr(1, 0.1, 10, lr_min=0.2), ValueError, "lr_min"),
    (lambda: linear_lr(1, 0.1, 10, start_factor=0.0), ValueError, "start_factor"),
    (lambda: linear_lr(1, 0.1, 10, start_factor=1.1), ValueError, "start_factor"),
    (lambda: linear_lr(1, 0.1, 10, end_factor=-0.1), ValueError, "end_factor"),
    (lambda: linear_lr(1, 0.1, 10, end_factor=2.0), ValueError, "end_factor"),
    (lambda: inverse_sqrt_lr("3", 0.1), TypeError, "t"),
    (lambda: with_warmup(0.1, 5), TypeError, "schedule"),
    (lambda: with_warmup(lambda t: 0.1, 0), ValueError, "warmup_steps"),
    (lambda: with_warmup(lambda t: 0.1, 5, start_factor=-0.1), ValueError, "start_factor"),
    (lambda: with_warmup(lambda t: 0.1, 5, start_factor=1.5), ValueError, "start_factor"),
    (lambda: with_warmup(lambda t: 0.1, 5)(-3), ValueError, "t"),
    (lambda: lr_curve(lambda t: 0.1, 0), ValueError, "n_steps"),
    (lambda: lr_curve("cosine", 10), TypeError, "schedule"),
])
def test_bad_arguments_raise_errors_that_name_them(call, error, name):
    with pytest.raises(error, match=rf"\b{name}\b"):
        call()
