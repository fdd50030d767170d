"""course_utils.optim equals torch.optim step by step, in float64 (COURSE_DESIGN.md §3, §5).

Every comparison runs a seeded noisy quadratic for STEPS steps, feeds the *same* gradients to our
code and to torch, and compares the parameters after every step (and the optimizer state at
the end). The worst entrywise relative error of each run is printed (``pytest -s``) and
recorded as a junit property ``max_rel_error``.
"""
import inspect

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from course_utils import optim

STEPS = 120
TOL = 1e-6
SHAPES = [(3,), (2, 4), (), (3, 2, 2)]  # several params at once, a 0-d one included


def relative_error(ours, ref) -> float:
    """Largest entrywise |ours − ref| / |ref|; |ref| is floored at 1e-12 so a 0 cannot divide."""
    ours, ref = np.asarray(ours, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    return float(np.max(np.abs(ours - ref) / np.maximum(np.abs(ref), 1e-12), initial=0.0))


class NoisyQuadratic:
    """L = Σᵢ ½ (wᵢ − cᵢ)ᵀ Aᵢ (wᵢ − cᵢ) over several parameter arrays, gradients with noise.

    Aᵢ is a random SPD matrix (eigenvalues in about [0.1, 4]); the noise makes the gradient
    sequence irregular, like mini-batch gradients.
    """

    def __init__(self, shapes, seed):
        self.rng = np.random.default_rng(seed)
        self.shapes = shapes
        self.centres = [self.rng.normal(size=s) for s in shapes]
        self.curvatures = []
        for s in shapes:
            n = int(np.prod(s))
            q = self.rng.normal(size=(n, n))
            self.curvatures.append(q @ q.T / n + 0.1 * np.eye(n))
        self.start = [self.rng.normal(size=s) for s in shapes]

    def grads(self, params):
        return [(a @ (np.reshape(p, -1) - np.reshape(c, -1))).reshape(np.shape(c))
                + 0.1 * self.rng.normal(size=np.shape(c))
                for p, a, c in zip(params, self.curvatures, self.centres)]


class RuleLoop:
    """A training loop over one pure rule: keeps the state the rule hands back, rebinds params."""

    def __init__(self, params, rule, n_state, uses_t=False, **hyper):
        self.params, self.rule, self.uses_t, self.hyper = params, rule, uses_t, hyper
        self.states = [[np.zeros_like(p) for _ in range(n_state)] for p in params]
        self.t = 0

    def step(self, grads):
        self.t += 1
        step_number = (self.t,) if self.uses_t else ()
        for i, g in enumerate(grads):
            out = self.rule(self.params[i], g, *self.states[i], *step_number, **self.hyper)
            out = out if isinstance(out, tuple) else (out,)
            self.params[i], self.states[i] = out[0], list(out[1:])


def compare_with_torch(make_ours, make_torch, *, shapes=SHAPES, seed=0, steps=STEPS, lrs=None,
                       record=None):
    """Run both optimizers on one noisy quadratic; return the worst relative error of the params.

    Gradients are computed at torch's parameters and handed to both, so both see exactly the
    same gradient sequence. ``lrs[k]`` (optional) is set as the lr before step k on both sides.
    """
    problem = NoisyQuadratic(shapes, seed)
    ours = [w.copy() for w in problem.start]
    theirs = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in problem.start]
    opt, ref = make_ours(ours), make_torch(theirs)
    worst = 0.0
    for k in range(steps):
        grads = problem.grads([p.detach().numpy() for p in theirs])
        for p, g in zip(theirs, grads):
            p.grad = torch.tensor(g, dtype=torch.float64)
        if lrs is not None:
            opt.lr = lrs[k]
            for group in ref.param_groups:
                group["lr"] = lrs[k]
        opt.step(grads)
        ref.step()
        params = opt.params
        step_error = max(relative_error(a, b.detach().numpy()) for a, b in zip(params, theirs))
        assert step_error <= TOL, f"step {k + 1}: params differ from torch by {step_error:.3g}"
        worst = max(worst, step_error)
    if isinstance(opt, optim.Optimizer):  # the state is torch's too, under torch's names
        for state, p in zip(opt.state, theirs):
            for key, value in state.items():
                theirs_value = ref.state[p][key]
                theirs_value = theirs_value.detach().numpy() if key != "step" else float(theirs_value)
                err = relative_error(value, theirs_value)
                assert err <= TOL, f"state[{key!r}] differs from torch by {err:.3g}"
    if record is not None:
        record("max_rel_error", worst)
    print(f"max relative error vs torch: {worst:.3e}")
    return worst


# ---------------------------------------------------------------- pure rules vs torch.optim

@pytest.mark.parametrize("lr", [0.01, 0.1])
def test_sgd_step_equals_torch(lr, record_property):
    compare_with_torch(lambda ps: RuleLoop(ps, optim.sgd_step, 0, lr=lr),
                       lambda ps: torch.optim.SGD(ps, lr=lr), seed=1, record=record_property)


@pytest.mark.parametrize("lr, beta", [(0.01, 0.5), (0.05, 0.9), (0.01, 0.99)])
def test_momentum_step_equals_torch(lr, beta, record_property):
    compare_with_torch(lambda ps: RuleLoop(ps, optim.momentum_step, 1, lr=lr, beta=beta),
                       lambda ps: torch.optim.SGD(ps, lr=lr, momentum=beta),
                       seed=2, record=record_property)


@pytest.mark.parametrize("lr, beta", [(0.01, 0.5), (0.05, 0.9), (0.01, 0.99)])
def test_nesterov_step_equals_torch(lr, beta, record_property):
    compare_with_torch(lambda ps: RuleLoop(ps, optim.nesterov_step, 1, lr=lr, beta=beta),
                       lambda ps: torch.optim.SGD(ps, lr=lr, momentum=beta, nesterov=True),
                       seed=3, record=record_property)


@pytest.mark.parametrize("lr, beta", [(0.01, 0.5), (0.05, 0.9), (0.01, 0.99)])
def test_sutskever_momentum_step_equals_torch(lr, beta, record_property):
    """The notes' form v ← βv − ηg, w ← w + v takes torch's path, with v = −η · momentum_buffer."""
    compare_with_torch(lambda ps: RuleLoop(ps, optim.sutskever_momentum_step, 1, lr=lr, beta=beta),
                       lambda ps: torch.optim.SGD(ps, lr=lr, momentum=beta),
                       seed=14, record=record_property)


def test_sutskever_velocity_is_minus_lr_times_torchs_buffer_only_for_a_constant_lr():
    """Step for step against torch.optim.SGD: v = −η·momentum_buffer while η is constant; once a
    schedule lowers η the notes' form keeps the old η in its velocity and the paths part."""
    problem = NoisyQuadratic([(4,)], seed=15)
    lr, beta = 0.05, 0.9
    w, v = problem.start[0], np.zeros(4)
    p = torch.tensor(problem.start[0], requires_grad=True)
    sgd = torch.optim.SGD([p], lr=lr, momentum=beta)
    for k in range(STEPS):
        lr_now = lr if k < STEPS // 2 else lr / 10          # a step schedule halfway
        sgd.param_groups[0]["lr"] = lr_now
        g = problem.grads([p.detach().numpy()])[0]
        p.grad = torch.tensor(g)
        sgd.step()
        w, v = optim.sutskever_momentum_step(w, g, v, lr_now, beta)
        buffer = sgd.state[p]["momentum_buffer"].numpy()
        if k < STEPS // 2:
            assert relative_error(w, p.detach().numpy()) <= 1e-12
            assert relative_error(v, -lr * buffer) <= 1e-9
    assert relative_error(w, p.detach().numpy()) > 1e-3      # the forms differ under a schedule


@pytest.mark.parametrize("lr, eps", [(1e-2, 1e-10), (0.1, 1e-10), (0.5, 1e-3)])
def test_adagrad_step_equals_torch(lr, eps, record_property):
    compare_with_torch(lambda ps: RuleLoop(ps, optim.adagrad_step, 1, lr=lr, eps=eps),
                       lambda ps: torch.optim.Adagrad(ps, lr=lr, eps=eps),
                       seed=16, record=record_property)


def test_adagrad_default_eps_is_torchs(record_property):
    compare_with_torch(lambda ps: RuleLoop(ps, optim.adagrad_step, 1, lr=1e-2),
                       lambda ps: torch.optim.Adagrad(ps, lr=1e-2), seed=17, record=record_property)


def test_adagrad_steps_shrink_like_one_over_sqrt_t():
    """For a constant gradient the sum of squares is t·g², so step t has length lr/√t."""
    w, s, g, lr = np.zeros(3), np.zeros(3), np.array([2.0, -0.01, 30.0]), 0.1
    for t in range(1, 101):
        w_next, s = optim.adagrad_step(w, g, s, lr)
        np.testing.assert_allclose(np.abs(w_next - w), lr / np.sqrt(t), rtol=1e-6)
        w = w_next


@pytest.mark.parametrize("lr, beta", [(0.01, 0.5), (0.05, 0.9), (0.01, 0.99)])
def test_ema_momentum_with_rescaled_lr_equals_torch(lr, beta, record_property):
    """The EMA form with lr η/(1 − β) is torch's momentum with lr η (see the test below)."""
    compare_with_torch(
        lambda ps: RuleLoop(ps, optim.ema_momentum_step, 1, lr=lr / (1 - beta), beta=beta),
        lambda ps: torch.optim.SGD(ps, lr=lr, momentum=beta), seed=4, record=record_property)


@pytest.mark.parametrize("lr, alpha, eps", [(1e-2, 0.99, 1e-8), (1e-3, 0.9, 1e-8),
                                            (3e-2, 0.5, 1e-3)])
def test_rmsprop_step_equals_torch(lr, alpha, eps, record_property):
    compare_with_torch(
        lambda ps: RuleLoop(ps, optim.rmsprop_step, 1, lr=lr, alpha=alpha, eps=eps),
        lambda ps: torch.optim.RMSprop(ps, lr=lr, alpha=alpha, eps=eps),
        seed=5, record=record_property)


ADAM_SETTINGS = [
    dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0),
    dict(lr=1e-2, beta1=0.8, beta2=0.99, eps=1e-8, weight_decay=0.1),
    dict(lr=5e-2, beta1=0.5, beta2=0.9, eps=1e-6, weight_decay=0.01),
    dict(lr=1e-2, beta1=0.0, beta2=0.0, eps=1e-3, weight_decay=0.3),
]


@pytest.mark.parametrize("hyper", ADAM_SETTINGS)
def test_adam_step_equals_torch(hyper, record_property):
    h = dict(hyper)
    compare_with_torch(
        lambda ps: RuleLoop(ps, optim.adam_step, 2, uses_t=True, **h),
        lambda ps: torch.optim.Adam(ps, lr=h["lr"], betas=(h["beta1"], h["beta2"]), eps=h["eps"],
                                    weight_decay=h["weight_decay"]),
        seed=6, record=record_property)


@pytest.mark.parametrize("hyper", ADAM_SETTINGS[1:] + [dict(lr=1e-2, beta1=0.9, beta2=0.999,
                                                          eps=1e-8, weight_decay=1.0)])
def test_adamw_step_equals_torch(hyper, record_property):
    h = dict(hyper)
    compare_with_torch(
        lambda ps: RuleLoop(ps, optim.adamw_step, 2, uses_t=True, **h),
        lambda ps: torch.optim.AdamW(ps, lr=h["lr"], betas=(h["beta1"], h["beta2"]), eps=h["eps"],
                                     weight_decay=h["weight_decay"]),
        seed=7, record=record_property)


def test_rule_defaults_are_torchs(record_property):
    """adam_step / adamw_step / rmsprop_step called without hyperparameters = torch's defaults."""
    compare_with_torch(lambda ps: RuleLoop(ps, optim.adam_step, 2, uses_t=True),
                       lambda ps: torch.optim.Adam(ps), seed=8)
    compare_with_torch(lambda ps: RuleLoop(ps, optim.adamw_step, 2, uses_t=True),
                       lambda ps: torch.optim.AdamW(ps), seed=8)
    compare_with_torch(lambda ps: RuleLoop(ps, optim.rmsprop_step, 1, lr=1e-2),
                       lambda ps: torch.optim.RMSprop(ps, lr=1e-2), seed=8, record=record_property)


# ---------------------------------------------------------------- classes vs torch.optim

CLASS_CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, weight_decay=0.1)),
    ("SGD", dict(lr=0.02, momentum=0.9)),
    ("SGD", dict(lr=0.02, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.05, momentum=0.5, dampening=1.0, weight_decay=0.01)),
    ("SGD", dict(lr=0.02, momentum=0.8, nesterov=True)),
    ("SGD", dict(lr=0.02, momentum=0.9, weight_decay=0.05, nesterov=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=1e-3, alpha=0.9)),
    ("RMSprop", dict(lr=3e-2, alpha=0.5, eps=1e-6, weight_decay=0.1)),
    ("Adam", dict()),
    ("Adam", dict(lr=1e-2, betas=(0.8, 0.99))),
    ("Adam", dict(lr=1e-2, weight_decay=0.1)),
    ("Adam", dict(lr=5e-2, betas=(0.5, 0.9), eps=1e-6, weight_decay=0.01)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=1e-2, weight_decay=0.1)),
    ("AdamW", dict(lr=2e-2, betas=(0.0, 0.5), eps=1e-4, weight_decay=0.5)),
]


@pytest.mark.parametrize("name, hyper", CLASS_CASES, ids=[f"{n}-{h}" for n, h in CLASS_CASES])
def test_class_equals_torch(name, hyper, record_property):
    compare_with_torch(lambda ps: getattr(optim, name)(ps, **hyper),
                       lambda ps: getattr(torch.optim, name)(ps, **hyper),
                       seed=CLASS_CASES.index((name, hyper)), record=record_property)


@pytest.mark.parametrize("name, hyper", [("SGD", dict(lr=0.1, momentum=0.9)),
                                         ("RMSprop", dict()), ("Adam", dict(weight_decay=0.1)),
                                         ("AdamW", dict())])
def test_settable_lr_follows_a_schedule_like_torch(name, hyper, record_property):
    """Setting opt.lr each step = setting param_group['lr']; lr may reach 0 at the end."""
    lrs = np.linspace(0.05, 0.0, STEPS)
    compare_with_torch(lambda ps: getattr(optim, name)(ps, **hyper),
                       lambda ps: getattr(torch.optim, name)(ps, **hyper),
                       seed=11, lrs=lrs, record=record_property)


def test_classes_update_the_callers_arrays_in_place():
    weights, bias = np.ones((2, 3)), np.zeros(2)
    model = {"W": weights, "b": bias}
    opt = optim.Adam([weights, bias], lr=0.1)
    opt.step([np.ones((2, 3)), -np.ones(2)])
    assert model["W"] is weights and opt.params[0] is weights
    np.testing.assert_allclose(model["W"], 0.9)   # Adam's first step moves each entry by ~lr
    np.testing.assert_allclose(model["b"], 0.1)
    assert opt.state[0]["step"] == 1 and set(opt.state[0]) == {"step", "exp_avg", "exp_avg_sq"}


@pytest.mark.parametrize("name, rule", [("Adam", "adam_step"), ("AdamW", "adamw_step")])
def test_adam_classes_equal_their_rule_bit_for_bit_across_blocks(name, rule):
    """The classes work in cache-sized blocks; a parameter longer than one block, one that is
    not contiguous and a small one must all end exactly where the pure rule does."""
    from course_utils.optimizers import BLOCK

    rng = np.random.default_rng(5)
    params = [rng.standard_normal(2 * BLOCK + 7), rng.standard_normal((90, 80)).T,
              rng.standard_normal(3)]
    grads = [[rng.standard_normal(p.shape) for p in params] for _ in range(4)]
    expected = [(p.copy(), np.zeros(p.shape), np.zeros(p.shape)) for p in params]
    opt = getattr(optim, name)(params, lr=0.05, weight_decay=0.1)
    for t, step_grads in enumerate(grads, start=1):
        opt.step(step_grads)
        expected = [getattr(optim, rule)(w, g, m, v, t, lr=0.05, weight_decay=0.1)
                    for (w, m, v), g in zip(expected, step_grads)]
    for got, (want, _, _) in zip(params, expected):
        np.testing.assert_array_equal(got, want)


def test_classes_keep_state_per_parameter_and_print_their_settings():
    a, b = np.zeros(2), np.zeros(3)
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9)
    opt.step([np.ones(2), np.full(3, 2.0)])
    np.testing.assert_array_equal(opt.state[0]["momentum_buffer"], np.ones(2))
    np.testing.assert_array_equal(opt.state[1]["momentum_buffer"], np.full(3, 2.0))
    assert repr(opt) == "SGD(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False)"
    assert repr(optim.AdamW([a])) == "AdamW(lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.01)"


# ---------------------------------------------------------------- the two momentum forms

@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9, 0.99])
def test_ema_form_with_lr_over_one_minus_beta_is_torchs_form(beta):
    """Exact relation: from v = 0, EMA momentum with lr η/(1 − β) and torch's momentum with lr η
    take the same steps, and the EMA velocity is (1 − β) times torch's velocity, at every step:
    v_ema = (1 − β)v and η/(1 − β) · v_ema = η v."""
    problem = NoisyQuadratic([(5,)], seed=12)
    lr = 0.01
    w_torch_form = w_ema_form = problem.start[0]
    v_torch_form = v_ema_form = np.zeros(5)
    for _ in range(STEPS):
        g = problem.grads([w_torch_form])[0]
        w_torch_form, v_torch_form = optim.momentum_step(w_torch_form, g, v_torch_form, lr, beta)
        w_ema_form, v_ema_form = optim.ema_momentum_step(w_ema_form, g, v_ema_form,
                                                         lr / (1 - beta), beta)
        assert relative_error(w_ema_form, w_torch_form) <= 1e-12
        assert relative_error(v_ema_form, (1 - beta) * v_torch_form) <= 1e-12


def test_ema_form_with_the_same_lr_is_not_torchs_form():
    """Guard for the test above: without the rescaling the two forms do differ."""
    w, g, v = np.ones(3), np.full(3, 2.0), np.zeros(3)
    w_torch_form, _ = optim.momentum_step(w, g, v, 0.1, 0.9)
    w_ema_form, _ = optim.ema_momentum_step(w, g, v, 0.1, 0.9)
    assert relative_error(w_ema_form - w, 0.1 * (w_torch_form - w)) <= 1e-12


# ---------------------------------------------------------------- Adam's bias correction

def test_adam_first_step_has_length_lr_only_with_bias_correction():
    """From m = v = 0 the corrected first step is lr·sign(g); uncorrected it is
    lr·(1 − β1)/√(1 − β2) ≈ 3.16·lr with the default betas."""
    g = np.array([3.0, -0.2, 40.0])
    w, zeros, lr = np.zeros(3), np.zeros(3), 1e-3
    # eps ≪ |g| so that it does not blur the ratio
    corrected, _, _ = optim.adam_step(w, g, zeros, zeros, 1, lr, eps=1e-12)
    uncorrected, _, _ = optim.adam_step(w, g, zeros, zeros, 1, lr, eps=1e-12,
                                        bias_correction=False)
    np.testing.assert_allclose(corrected, -lr * np.sign(g), rtol=1e-6)
    np.testing.assert_allclose(uncorrected, -lr * 0.1 / np.sqrt(0.001) * np.sign(g), rtol=1e-6)


def test_adam_bias_correction_fades_with_t():
    """Late in training the correction factors are ≈ 1, so both variants take the same step."""
    rng = np.random.default_rng(13)
    w, g, m, v = rng.normal(size=4), rng.normal(size=4), rng.normal(size=4), rng.random(4)
    late = [optim.adam_step(w, g, m, v, 100_000, 1e-3, bias_correction=flag)[0]
            for flag in (True, False)]
    np.testing.assert_allclose(late[0], late[1], rtol=1e-9)


# ---------------------------------------------------------------- properties (hypothesis)

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
learning_rates = st.floats(1e-4, 1.0)
betas = st.floats(0.0, 0.999)


@st.composite
def arrays_of_one_shape(draw, count):
    shape = draw(shapes)
    return [draw(hnp.arrays(np.float64, shape, elements=finite)) for _ in range(count)]


@settings(max_examples=60, deadline=None)
@given(arrays_of_one_shape(3), learning_rates)
def test_momentum_with_beta_zero_is_sgd(arrays, lr):
    w, g, v = arrays
    plain = optim.sgd_step(w, g, lr)
    for rule in (optim.momentum_step, optim.ema_momentum_step, optim.nesterov_step):
        w_next, v_next = rule(w, g, v, lr, 0.0)
        np.testing.assert_array_equal(w_next, plain, err_msg=rule.__name__)
        np.testing.assert_array_equal(v_next, g, err_msg=rule.__name__)


@settings(max_examples=60, deadline=None)
@given(arrays_of_one_shape(4), st.integers(1, 10_000), learning_rates, betas, betas,
       st.floats(1e-10, 1e-2))
def test_adamw_without_weight_decay_is_adam(arrays, t, lr, beta1, beta2, eps):
    w, g, m, v = arrays
    v = np.abs(v)  # a second moment is never negative
    adam = optim.adam_step(w, g, m, v, t, lr, beta1, beta2, eps, 0.0)
    adamw = optim.adamw_step(w, g, m, v, t, lr, beta1, beta2, eps, 0.0)
    for ours, theirs in zip(adamw, adam):
        np.testing.assert_array_equal(ours, theirs)


def test_adamw_class_without_weight_decay_is_adam():
    a, b = [np.arange(4.0)], [np.arange(4.0)]
    adam, adamw = optim.Adam(a, lr=0.1), optim.AdamW(b, lr=0.1, weight_decay=0.0)
    for k in range(20):
        grads = [np.sin(np.arange(4.0) + k)]
        adam.step(grads)
        adamw.step(grads)
    np.testing.assert_array_equal(a[0], b[0])


def _call_every_rule(w, g, a, b):
    """Every pure rule on the same inputs; a and b serve as state (b ≥ 0 as a second moment)."""
    return {
        "sgd_step": optim.sgd_step(w, g, 0.1),
        "momentum_step": optim.momentum_step(w, g, a, 0.1, 0.9),
        "ema_momentum_step": optim.ema_momentum_step(w, g, a, 0.1, 0.9),
        "nesterov_step": optim.nesterov_step(w, g, a, 0.1, 0.9),
        "sutskever_momentum_step": optim.sutskever_momentum_step(w, g, a, 0.1, 0.9),
        "adagrad_step": optim.adagrad_step(w, g, b, 0.1),
        "rmsprop_step": optim.rmsprop_step(w, g, b, 0.1),
        "adam_step": optim.adam_step(w, g, a, b, 3, weight_decay=0.1),
        "adamw_step": optim.adamw_step(w, g, a, b, 3),
        "adam_step(bias_correction=False)": optim.adam_step(w, g, a, b, 3, bias_correction=False),
    }


@settings(max_examples=60, deadline=None)
@given(arrays_of_one_shape(4))
def test_pure_rules_never_mutate_or_alias_their_inputs(arrays):
    w, g, a, b = arrays
    b = np.abs(b)
    before = [x.copy() for x in (w, g, a, b)]
    for name, out in _call_every_rule(w, g, a, b).items():
        for x, x0, label in zip((w, g, a, b), before, "wgab"):
            np.testing.assert_array_equal(x, x0, err_msg=f"{name} modified its input {label}")
        for returned in (out if isinstance(out, tuple) else (out,)):
            assert not any(np.shares_memory(returned, x) for x in (w, g, a, b)), \
                f"{name} returned an input array (or a view of one) instead of a new array"


def test_pure_rules_accept_plain_numbers_and_lists():
    assert optim.sgd_step(1.0, 2.0, 0.1) == pytest.approx(0.8)
    w, v = optim.momentum_step([1.0, 2.0], [1.0, 1.0], [0.0, 0.0], 0.5, 0.9)
    np.testing.assert_allclose(w, [0.5, 1.5])
    assert w.dtype == np.float64


# ---------------------------------------------------------------- bad inputs name the argument

W, G, Z = np.ones(3), np.ones(3), np.zeros(3)
BAD_RULE_CALLS = [
    ("lr = 0", lambda: optim.sgd_step(W, G, 0.0), ValueError, r"^lr must be > 0"),
    ("lr < 0", lambda: optim.momentum_step(W, G, Z, -0.1, 0.9), ValueError, r"^lr must be > 0"),
    ("lr str", lambda: optim.sgd_step(W, G, "0.1"), TypeError, r"^lr must be a real number"),
    ("NaN g", lambda: optim.sgd_step(W, np.array([1.0, np.nan, 0.0]), 0.1), ValueError,
     r"^g contains NaN"),
    ("inf w", lambda: optim.adam_step(np.array([np.inf, 0, 0]), G, Z, Z, 1), ValueError,
     r"^w contains inf"),
    ("g shape", lambda: optim.sgd_step(W, np.ones(4), 0.1), ValueError,
     r"^g must have the same shape as w"),
    ("v shape", lambda: optim.nesterov_step(W, G, np.zeros((3, 1)), 0.1, 0.9), ValueError,
     r"^v must have the same shape as w"),
    ("s shape", lambda: optim.rmsprop_step(W, G, np.zeros(2), 0.1), ValueError,
     r"^s must have the same shape as w"),
    ("adagrad s shape", lambda: optim.adagrad_step(W, G, np.zeros(2), 0.1), ValueError,
     r"^s must have the same shape as w"),
    ("adagrad eps = 0", lambda: optim.adagrad_step(W, G, Z, 0.1, eps=0.0), ValueError,
     r"^eps must be > 0"),
    ("sutskever lr = 0", lambda: optim.sutskever_momentum_step(W, G, Z, 0.0, 0.9), ValueError,
     r"^lr must be > 0"),
    ("sutskever beta = 1", lambda: optim.sutskever_momentum_step(W, G, Z, 0.1, 1.0), ValueError,
     r"^beta must be in \[0, 1\)"),
    ("m shape", lambda: optim.adamw_step(W, G, np.zeros(2), Z, 1), ValueError,
     r"^m must have the same shape as w"),
    ("beta = 1", lambda: optim.momentum_step(W, G, Z, 0.1, 1.0), ValueError,
     r"^beta must be in \[0, 1\)"),
    ("beta < 0", lambda: optim.ema_momentum_step(W, G, Z, 0.1, -0.1), ValueError,
     r"^beta must be in \[0, 1\)"),
    ("beta1 = 1", lambda: optim.adam_step(W, G, Z, Z, 1, beta1=1.0), ValueError,
     r"^beta1 must be in \[0, 1\)"),
    ("beta2 > 1", lambda: optim.adamw_step(W, G, Z, Z, 1, beta2=1.5), ValueError,
     r"^beta2 must be in \[0, 1\)"),
    ("alpha = 1", lambda: optim.rmsprop_step(W, G, Z, 0.1, alpha=1.0), ValueError,
     r"^alpha must be in \[0, 1\)"),
    ("eps = 0", lambda: optim.adam_step(W, G, Z, Z, 1, eps=0.0), ValueError, r"^eps must be > 0"),
    ("weight_decay < 0", lambda: optim.adamw_step(W, G, Z, Z, 1, weight_decay=-0.01), ValueError,
     r"^weight_decay must be >= 0"),
    ("t = 0", lambda: optim.adam_step(W, G, Z, Z, 0), ValueError, r"^t must be >= 1, got 0"),
    ("t float", lambda: optim.adam_step(W, G, Z, Z, 1.5), TypeError, r"^t must be an integer"),
    ("bias_correction", lambda: optim.adam_step(W, G, Z, Z, 1, bias_correction="no"), TypeError,
     r"^bias_correction must be True or False"),
]


@pytest.mark.parametrize("call, error, message", [c[1:] for c in BAD_RULE_CALLS],
                         ids=[c[0] for c in BAD_RULE_CALLS])
def test_pure_rules_reject_bad_input_naming_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()


def _params():
    return [np.ones((2, 2)), np.zeros(3)]


BAD_CLASS_CALLS = [
    ("lr = 0", lambda: optim.SGD(_params(), lr=0.0), ValueError, r"^lr must be > 0"),
    ("lr < 0", lambda: optim.Adam(_params(), lr=-1e-3), ValueError, r"^lr must be > 0"),
    ("momentum = 1", lambda: optim.SGD(_params(), 0.1, momentum=1.0), ValueError, r"^momentum"),
    ("dampening > 1", lambda: optim.SGD(_params(), 0.1, momentum=0.9, dampening=1.5),
     ValueError, r"^dampening"),
    ("nesterov without momentum", lambda: optim.SGD(_params(), 0.1, nesterov=True), ValueError,
     r"^nesterov=True needs momentum > 0"),
    ("nesterov with dampening", lambda: optim.SGD(_params(), 0.1, momentum=0.9, dampening=0.1,
                                                  nesterov=True), ValueError, r"^nesterov"),
    ("betas[1] = 1", lambda: optim.Adam(_params(), betas=(0.9, 1.0)), ValueError,
     r"^betas\[1\] must be in \[0, 1\)"),
    ("betas[0] < 0", lambda: optim.AdamW(_params(), betas=(-0.1, 0.9)), ValueError,
     r"^betas\[0\] must be in \[0, 1\)"),
    ("betas not a pair", lambda: optim.Adam(_params(), betas=0.9), TypeError, r"^betas must be a pair"),
    ("eps = 0", lambda: optim.RMSprop(_params(), eps=0.0), ValueError, r"^eps must be > 0"),
    ("alpha = 1", lambda: optim.RMSprop(_params(), alpha=1.0), ValueError, r"^alpha"),
    ("weight_decay < 0", lambda: optim.AdamW(_params(), weight_decay=-1.0), ValueError,
     r"^weight_decay must be >= 0"),
    ("params one array", lambda: optim.SGD(np.ones(3), 0.1), TypeError, r"^params must be a list"),
    ("params empty", lambda: optim.Adam([]), ValueError, r"^params is empty"),
    ("params list of lists", lambda: optim.Adam([[1.0, 2.0]]), TypeError, r"^params\[0\] must be"),
    ("params int dtype", lambda: optim.Adam([np.arange(3)]), TypeError, r"^params\[0\] must be"),
    ("params repeated", lambda: optim.Adam([W, W]), ValueError, r"^params\[1\] shares memory"),
    ("params NaN", lambda: optim.Adam([np.array([np.nan])]), ValueError, r"^params\[0\] contains"),
]


@pytest.mark.parametrize("call, error, message", [c[1:] for c in BAD_CLASS_CALLS],
                         ids=[c[0] for c in BAD_CLASS_CALLS])
def test_classes_reject_bad_settings_naming_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()


BAD_GRADS = [
    ("one array", lambda ps: np.ones(3), TypeError, r"^grads must be a list"),
    ("too few", lambda ps: [np.ones((2, 2))], ValueError, r"^grads must hold one array per parameter: 2"),
    ("wrong shape", lambda ps: [np.ones(4), np.ones(3)], ValueError,
     r"^grads\[0\] must have the same shape as params\[0\]"),
    ("NaN", lambda ps: [np.ones((2, 2)), np.array([0.0, np.nan, 1.0])], ValueError,
     r"^grads\[1\] contains NaN"),
    ("strings", lambda ps: [np.ones((2, 2)), "abc"], TypeError, r"^grads\[1\] must be"),
]


@pytest.mark.parametrize("make_grads, error, message", [c[1:] for c in BAD_GRADS],
                         ids=[c[0] for c in BAD_GRADS])
@pytest.mark.parametrize("name", ["SGD", "RMSprop", "Adam", "AdamW"])
def test_step_rejects_bad_grads_and_leaves_params_alone(name, make_grads, error, message):
    params = _params()
    before = [p.copy() for p in params]
    opt = getattr(optim, name)(params, lr=0.1)
    with pytest.raises(error, match=message):
        opt.step(make_grads(params))
    for p, p0 in zip(params, before):  # checked before any update: no half-done step
        np.testing.assert_array_equal(p, p0)
    assert all(state == {} for state in opt.state)


def test_lr_setter_validates_but_allows_zero():
    opt = optim.SGD(_params(), lr=0.1)
    opt.lr = 0.0  # a schedule may end at 0, as torch allows
    with pytest.raises(ValueError, match=r"^lr must be >= 0"):
        opt.lr = -0.1
    with pytest.raises(TypeError, match=r"^lr must be a real number"):
        opt.lr = None



RULES = [optim.sgd_step, optim.momentum_step, optim.ema_momentum_step, optim.nesterov_step,
         optim.sutskever_momentum_step, optim.adagrad_step, optim.rmsprop_step, optim.adam_step,
         optim.adamw_step]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_unchecked_is_the_same_math_without_the_checks(rule):
    rng = np.random.default_rng(0)
    w, g, m, v = (rng.standard_normal(4) for _ in range(4))
    values = {"w": w, "g": g, "m": m, "v": np.abs(v), "s": np.abs(v), "t": 3, "lr": 0.1,
              "beta": 0.9, "alpha": 0.9, "beta1": 0.8, "beta2": 0.99}
    names = [n for n in inspect.signature(rule).parameters if n in values]
    args = [values[n] for n in names]
    math = optim.unchecked(rule)
    assert math is not rule and math.__name__ == rule.__name__
    ours, theirs = math(*args), rule(*args)
    for a, b in zip(ours if isinstance(ours, tuple) else [ours],
                    theirs if isinstance(theirs, tuple) else [theirs]):
        np.testing.assert_array_equal(a, b)
    # No checks: lr = 0 (a schedule may reach it) and NaN go straight through.
    with np.errstate(invalid="ignore"):
        assert np.isnan(optim.unchecked(optim.sgd_step)(np.ones(1), np.full(1, np.nan), 0.0))


def test_unchecked_takes_only_the_rules_of_optim():
    for other in (lambda w, g, lr: w - lr * g, optim.unchecked(optim.sgd_step), "sgd_step",
                  optim.SGD):
        with pytest.raises(TypeError, match="pure rules of course_utils.optim"):
            optim.unchecked(other)
