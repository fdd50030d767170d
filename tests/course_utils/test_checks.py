"""Student-facing checks: they pass what is right, and their failures name the mistake."""
import linecache

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
    message = fails_with(lambda: checks.expect_close(e, e + 1, "m", mistakes={"no bias correction": e}),
                         "no bias correction")
    assert message.startswith("no bias correction"), "the diagnosis comes first"


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


def test_the_diagnosis_leads_the_message():
    """Validate shows about 80 characters of a failure: the diagnosis must be in them."""
    long_name = "trajectory for L(w) = 2w^2 from w0 = 3.5, lr = 0.1, with a name this long on purpose"
    e = np.array([1.0, 2.0, 3.0])
    message = fails_with(lambda: checks.expect_close(-e, e, long_name), "sign is flipped")
    assert message.index("sign is flipped") < 10
    message = fails_with(lambda: checks.expect_close(e + 1, e, long_name, hint="use the current w"))
    assert message.startswith("use the current w")
    message = fails_with(lambda: checks.expect_equal(3, 4, long_name, hint="round up"))
    assert message.startswith("round up")
    message = fails_with(lambda: checks.expect_close(None, e, long_name))
    assert message.startswith("got None")


def test_a_specific_mistake_wins_over_nan_inf_and_shape():
    """A mistake that produces NaN or inf (softmax without the row max) is named as such."""
    z = np.array([[1000.0, 999.0], [-1000.0, -1001.0]])
    with np.errstate(all="ignore"):
        naive = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    message = fails_with(lambda: checks.expect_close(naive, [[0.73, 0.27], [0.73, 0.27]], "softmax",
                                                     mistakes={"subtract each row's maximum": naive}))
    assert message.startswith("subtract each row's maximum")
    message = fails_with(lambda: checks.expect_scalar(np.inf, 2000.0, "loss",
                                                      mistakes={"log of softmax": np.inf, "other": np.nan}))
    assert message.startswith("log of softmax")
    message = fails_with(lambda: checks.expect_close([np.nan], [1.0], "p", hint="subtract the max"))
    assert message.startswith("subtract the max") and "NaN or inf" in message
    message = fails_with(lambda: checks.expect_close(np.ones((2, 3)), np.ones(3), "g",
                                                     mistakes={"you kept the batch axis": np.ones((2, 3))}))
    assert message.startswith("you kept the batch axis")


def test_arrays_are_insisted_on_where_promised():
    assert checks.expect_array(np.zeros(3), "path", shape=(3,)) is not None
    message = fails_with(lambda: checks.expect_array([0.0, 1.0], "path"), "returned a list, not a numpy array")
    assert message.startswith("returned a list")
    fails_with(lambda: checks.expect_array(np.zeros(2), "path", shape=(3,)), "expected shape (3,)")


def test_two_values_may_come_as_a_tuple_a_list_or_an_array():
    for two in ((1.0, 2.0), [1.0, 2.0], np.array([1.0, 2.0])):
        assert checks.expect_sequence(two, 2, "grads") == (1.0, 2.0)
    message = fails_with(lambda: checks.expect_sequence(3.0, 2, "grads", items="(dL_dw, dL_db)"))
    assert message.startswith("return 2 values (dL_dw, dL_db)")
    fails_with(lambda: checks.expect_sequence((1, 2, 3), 2, "grads"), "got 3")


def test_every_bad_entry_is_reported_at_once():
    message = fails_with(lambda: checks.expect_each_below({"W1": 0.3, "b1": 1e-9, "W2": 0.2, "b2": float("nan")},
                                                          1e-6, "gradient check"))
    assert message.startswith("3 of 4 above 1e-06: W1, W2, b2")
    checks.expect_each_below({"W1": 1e-9}, 1e-6, "gradient check")


def test_a_demo_cell_says_which_exercise_to_fix():
    def blank():
        raise NotImplementedError

    with pytest.raises(checks.ExerciseNotReady) as info:
        with checks.needs("Exercise 3", "run_gd_1d"):
            blank()
    assert str(info.value).startswith("fix Exercise 3 above first (run_gd_1d)")
    assert "not written yet" in str(info.value)
    with pytest.raises(checks.ExerciseNotReady, match="fix Exercise 2 above first.*its result is off: p:"):
        with checks.needs("Exercise 2"):
            checks.expect_close([1.0], [2.0], "p")
    with pytest.raises(checks.ExerciseNotReady, match="it raised TypeError: bad operand"):
        with checks.needs("Exercise 2"):
            raise TypeError("bad operand")
    with checks.needs("Exercise 2"):
        pass


def test_a_failure_renders_without_course_internals():
    """What IPython shows for a failed check: the cell's line and the wrapped diagnosis only."""
    namespace = {"checks": checks, "np": np}
    source = "x = [-1.0, -2.0]\nchecks.expect_close(x, [1.0, 2.0], 'your step', mistakes={'the step went uphill': x})\n"
    cell = "/tmp/ipykernel_0/cell-7.py"
    linecache.cache[cell] = (len(source), None, source.splitlines(True), cell)   # as IPython does
    with pytest.raises(checks.CheckFailure) as info:
        exec(compile(source, cell, "exec"), namespace)
    shown = "\n".join(info.value._render_traceback_())
    assert "course_utils/checks.py" not in shown and "_answer_guard" not in shown, shown
    assert "checks.expect_close(x, [1.0, 2.0]" in shown, shown
    assert "CheckFailure: the step went uphill [your step]" in shown
    assert len(shown.splitlines()[-1]) <= checks.WRAP
