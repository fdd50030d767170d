"""explorers.schedule: the lr curves are course_utils.schedules'; the noisy run is plain SGD."""
from __future__ import annotations

import numpy as np
import pytest

from course_utils import landscapes, optim, schedules
from course_utils.explorers.schedule import schedule_explorer
from explorer_testing import assert_no_callback_error, xy


@pytest.mark.parametrize("schedule, warmup", [("cosine", 0), ("step", 12), ("linear", 5),
                                              ("inverse sqrt", 0), ("constant", 20)])
def test_schedule_explorer_matches_the_schedules_module(schedule, warmup):
    explorer = schedule_explorer()
    explorer.controls["schedule"].value = schedule
    explorer.controls["warmup"].value = warmup
    explorer.controls["lr0"].value = 0.1
    assert_no_callback_error(explorer)
    lr0 = explorer.controls["lr0"].value
    main = {
        "cosine": lambda t: schedules.cosine_lr(t, lr0, 200),
        "step": lambda t: schedules.step_lr(t, lr0, 66, 0.2),
        "linear": lambda t: schedules.linear_lr(t, lr0, 200),
        "inverse sqrt": lambda t: schedules.inverse_sqrt_lr(t, lr0),
        "constant": lambda t: lr0 + 0.0 * np.asarray(t),
    }[schedule]
    expected = schedules.lr_curve(schedules.with_warmup(main, warmup) if warmup else main, 200)
    np.testing.assert_allclose(xy(explorer.artists["lr"])[:, 1], expected, rtol=1e-12)
    # The noisy run: same shocks for every schedule, drawn from the explorer's seed.
    bowl = landscapes.quadratic_bowl(10.0)
    shocks = np.random.default_rng(0).standard_normal((200, 2)) * 3.0
    w, values = bowl.start.copy(), [bowl.value(bowl.start)]
    for t in range(200):
        w = optim.sgd_step(w, bowl.grad(w) + shocks[t], expected[t])
        values.append(bowl.value(w))
    np.testing.assert_allclose(xy(explorer.artists["loss"])[:, 1], values, rtol=1e-9)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="schedule"):
        schedule_explorer(schedule="exponential")
