"""course_utils.regimes: the regime of a quadratic from theory, and of a path from the path."""
from __future__ import annotations

import numpy as np
import pytest

from course_utils import landscapes, regimes
from course_utils.landscapes import gradient_descent
from course_utils.regimes import classify_regime


@pytest.mark.parametrize("lr, expected", [(0.01, "too small"), (0.5, "good"), (1.0, "good"),
                                          (1.5, "oscillating"), (1.99, "oscillating"),
                                          (2.5, "diverging")])
def test_quadratic_regime_known_cases(lr, expected):
    assert regimes.quadratic_regime(lr, max_curvature=1.0, steps=30) == expected


@pytest.mark.parametrize("lr, expected", [(0.01, "too small"), (0.08, "good"),
                                          (0.15, "oscillating"), (0.25, "diverging")])
def test_quadratic_regime_ill_conditioned_bowl(lr, expected):
    # κ = 10: zig-zag above 1/λ_max = 0.1, divergence above 2/λ_max = 0.2, and the flat
    # direction (λ_min = 1) needs η ≳ 0.056 to shrink tenfold in 40 steps.
    assert regimes.quadratic_regime(lr, 10.0, 1.0, steps=40) == expected


LAM, STEPS = 2.0, 30
# η from 1e-3 to 10, minus those within 2 % of a regime boundary (a float coin toss there).
EDGES = np.array(regimes.regime_edges(LAM, LAM, STEPS, 0.1))
SWEEP = [lr for lr in np.geomspace(1e-3, 10, 61) if np.min(np.abs(np.log(lr / EDGES))) > 0.02]


@pytest.mark.parametrize("lr", SWEEP)
def test_empirical_regime_matches_theory_on_a_parabola(lr):
    """classify_regime reads the regime off the path; on ½λw² theory says what it must be."""
    lam, steps = LAM, STEPS
    parabola = landscapes.parabola(curvature=lam)
    path = landscapes.gradient_descent(parabola, 3.0, lr, steps)
    assert regimes.classify_regime(path, parabola) == regimes.quadratic_regime(lr, lam, steps=steps)


def test_classify_regime_on_the_double_well_and_the_bowl():
    well = landscapes.double_well()
    assert classify_regime(gradient_descent(well, 0.3, 0.05, 30), well) == "good"
    assert classify_regime(gradient_descent(well, 0.3, 0.002, 30), well) == "too small"
    assert classify_regime(gradient_descent(well, 0.3, 1.5, 30), well) == "diverging"
    bowl = landscapes.quadratic_bowl(10.0)
    for lr, regime in [(0.19, "oscillating"), (0.21, "diverging"), (0.002, "too small")]:
        assert classify_regime(gradient_descent(bowl, bowl.start, lr, 40), bowl) == regime


def test_regime_edges_are_where_the_theory_changes_its_answer():
    low, zigzag, diverge = regimes.regime_edges(10.0, 1.0, steps=40, tolerance=0.1)
    assert (zigzag, diverge) == (0.1, 0.2)
    assert (1 - low) ** 40 == pytest.approx(0.1)  # the flat direction shrinks tenfold in 40
    for lr, expected in [(low * 0.99, "too small"), (low * 1.01, "good"),
                         (zigzag * 1.01, "oscillating"), (diverge * 1.01, "diverging")]:
        assert regimes.quadratic_regime(lr, 10.0, 1.0, steps=40) == expected
    assert regimes.regime_edges(2.0) == regimes.regime_edges(2.0, 2.0, 30, 0.1)


def test_regime_arguments_are_checked():
    with pytest.raises(ValueError, match="lr"):
        regimes.quadratic_regime(-0.1, 1.0)
    with pytest.raises(ValueError, match="min_curvature"):
        regimes.quadratic_regime(0.1, 1.0, 2.0)
    with pytest.raises(TypeError, match="landscape"):
        regimes.classify_regime(np.zeros(3), "parabola")
    with pytest.raises(ValueError, match="path"):
        regimes.classify_regime(np.zeros(1), landscapes.parabola())
    with pytest.raises(ValueError, match="tolerance"):
        regimes.regime_edges(1.0, tolerance=1.0)
