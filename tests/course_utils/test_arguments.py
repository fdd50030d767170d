"""The shared argument checks name the argument and say what was expected."""
import numpy as np
import pytest

from course_utils import arguments


def test_as_array_converts_and_never_copies_float64():
    a = np.arange(3.0)
    assert arguments.as_array(a, "w") is a
    assert arguments.as_array([1, 2], "w").dtype == np.float64


@pytest.mark.parametrize("bad, err, words", [
    ("abc", TypeError, "w must be a number"),
    (None, TypeError, "w must be a number"),
    ([1.0, np.nan], ValueError, "w contains NaN"),
    ([1.0, np.inf], ValueError, "w contains inf"),
    ([[1.0]], ValueError, r"w must have 1 dimension\(s\), got shape \(1, 1\)"),
])
def test_as_array_rejects(bad, err, words):
    with pytest.raises(err, match=words):
        arguments.as_array(bad, "w", ndim=1)


def test_scalar_checks():
    assert arguments.positive(0.1, "lr") == 0.1
    with pytest.raises(ValueError, match=r"lr must be > 0, got 0.0"):
        arguments.positive(0, "lr")
    with pytest.raises(TypeError, match="lr must be a real number"):
        arguments.positive("0.1", "lr")
    with pytest.raises(TypeError, match="lr must be a real number"):
        arguments.positive(True, "lr")
    with pytest.raises(ValueError, match=r"beta1 must be in \[0, 1\), got 1.0"):
        arguments.in_unit_interval(1.0, "beta1")
    assert arguments.in_unit_interval(1.0, "gamma", include_one=True) == 1.0
    with pytest.raises(ValueError, match="weight_decay must be >= 0"):
        arguments.non_negative(-1e-3, "weight_decay")
    with pytest.raises(ValueError, match="t must be >= 1, got 0"):
        arguments.integer(0, "t", minimum=1)
    with pytest.raises(TypeError, match="t must be an integer"):
        arguments.integer(1.5, "t")
    with pytest.raises(ValueError, match="lr must be finite"):
        arguments.positive(float("nan"), "lr")


def test_same_shape_names_both_arguments():
    with pytest.raises(ValueError, match=r"g must have the same shape as w: w has shape \(2,\), g has shape \(3,\)"):
        arguments.same_shape(np.zeros(2), np.zeros(3), "w", "g")
