"""Student-facing checks: they pass what is right, and their failures name the mistake."""
import numpy as np
import pytest

from course_utils import checks


def fails_with(fn, *words):
    with pytest.raises(checks.CheckFailure) as info:
        fn()
    for w in words:
        assert w in str(info.value), f"{w!r} not in {str(info.value)!r}"
    return str(info.value)


def test_close_values_pass_and_wrong_ones_fail_with_location():
    checks.expect_close([1.0, 2.0], [1.0, 2.0 + 1e-12], "w")
    fails_with(lambda: checks.expect_close([1.0, 2.5, 3.0], [1.0, 2.0, 3.0], "w"),
               "w: expected 2 at index (1,), got 2.5")


def test_classic_mistakes_are_named():
    e = np.array([0.5, -1.0, 2.0])
    fails_with(lambda: checks.expect_close(-e, e, "grad"), "sign is flipped")
    fails_with(lambda: checks.expect_close(4 * e, e, "grad"), "same factor 4", "1/4")
    fails_with(lambda: checks.expect_close(e, e + 1, "m", mistakes={"no bias correction": e}),
               "m: no bias correction")


def test_shape_none_tuple_and_nan_are_explained():
    fails_with(lambda: checks.expect_close(np.zeros((1, 3)), np.zeros(3), "p"), "expected shape (3,)")
    fails_with(lambda: checks.expect_close(None, np.zeros(3), "p"), "forget to `return`")
    fails_with(lambda: checks.expect_close((1, 2), 1.0, "p"), "tuple of 2 values")
    fails_with(lambda: checks.expect_close([np.nan], [1.0], "p"), "NaN or inf")
    fails_with(lambda: checks.expect_scalar(np.ones(3), 1.0, "loss"), "single number")


def test_mutation_is_detected():
    w = np.ones(3)
    before = checks.snapshot(w)
    w -= 1
    fails_with(lambda: checks.expect_unchanged(before, [w], ["w"]), "w was modified in place")


def test_expect_raises():
    checks.expect_raises(lambda: 1 / 0, ZeroDivisionError, "div")
    fails_with(lambda: checks.expect_raises(lambda: None, ValueError, "lr=0"), "nothing was")


def test_monkeypatched_numpy_cannot_fool_the_checks(monkeypatch):
    monkeypatch.setattr(np, "allclose", lambda *a, **k: True)
    monkeypatch.setattr(np, "abs", lambda x: 0 * x)
    fails_with(lambda: checks.expect_close([3.0], [1.0], "w"), "expected 1")
    fails_with(checks.verify_integrity, "numpy.allclose was reassigned")


def test_replaced_check_function_is_detected(monkeypatch):
    monkeypatch.setattr(checks, "expect_close", lambda *a, **k: None)
    fails_with(checks.verify_integrity, "checks.expect_close was reassigned")


def test_quiet_keeps_stderr_clean(capsys):
    import sys
    import warnings

    with checks.quiet():
        warnings.warn("noisy")
        np.exp(np.array([1000.0]))
        print("oops", file=sys.stderr)
    captured = capsys.readouterr()
    assert captured.err == "" and "oops" in captured.out
