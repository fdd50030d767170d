"""course_utils.diagnostics against torch: the same runs, step by step, in float64."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course_utils import diagnostics, init, nn, optim


def torch_twin(model: nn.MLP) -> torch.nn.Sequential:
    """The same MLP in torch, with a copy of the same weights."""
    layers = []
    for i, (n_in, n_out) in enumerate(zip(model.sizes[:-1], model.sizes[1:])):
        act = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}[model.activation]
        layers += ([act()] if i else []) + [torch.nn.Linear(n_in, n_out, dtype=torch.float64)]
    twin = torch.nn.Sequential(*layers)
    with torch.no_grad():
        for p, q in zip(twin.parameters(), model.params):
            p.copy_(torch.from_numpy(q))
    return twin


def torch_step(twin, optimizer, X, y) -> float:
    optimizer.zero_grad()
    loss = torch.nn.functional.cross_entropy(twin(torch.from_numpy(X)), torch.from_numpy(y))
    loss.backward()
    optimizer.step()
    return loss.item()


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("kind", ["adam", "sgd"])
def test_overfit_one_batch_equals_torch(seed, kind):
    rng = np.random.default_rng(seed)
    sizes = (5, int(rng.integers(3, 12)), 4)
    X, y = rng.normal(size=(9, 5)), rng.integers(0, 4, size=9)
    model = nn.MLP(sizes, activation=("relu", "tanh")[seed % 2], seed=seed)
    twin = torch_twin(model)
    if kind == "adam":
        mine, theirs = optim.Adam(model.params, lr=0.02), torch.optim.Adam(twin.parameters(), lr=0.02)
    else:
        mine = optim.SGD(model.params, lr=0.1, momentum=0.9)
        theirs = torch.optim.SGD(twin.parameters(), lr=0.1, momentum=0.9)
    losses = diagnostics.overfit_one_batch(model, mine, X, y, 100)
    expected = [torch_step(twin, theirs, X, y) for _ in range(100)]
    np.testing.assert_allclose(losses, expected, rtol=1e-6)
    assert losses[-1] < losses[0]
    for p, q in zip(model.params, twin.parameters()):
        np.testing.assert_allclose(p, q.detach().numpy(), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_lr_range_test_equals_torch_with_the_rate_set_every_step(seed):
    rng = np.random.default_rng(seed)
    n, lr_min, lr_max = 40, 1e-4, 30.0
    batches = [(rng.normal(size=(8, 6)), rng.integers(0, 3, size=8)) for _ in range(n)]
    model = nn.MLP((6, 10, 3), seed=seed)
    twin = torch_twin(model)
    lrs, losses = diagnostics.lr_range_test(model, optim.SGD(model.params, lr=1.0, momentum=0.9), batches,
                                            lr_min, lr_max)
    theirs = torch.optim.SGD(twin.parameters(), lr=1.0, momentum=0.9)
    expected_lrs, expected_losses = [], []
    for k, (X, y) in enumerate(batches):
        lr = lr_min * (lr_max / lr_min) ** (k / (n - 1))
        theirs.param_groups[0]["lr"] = lr
        with torch.no_grad():
            loss = torch.nn.functional.cross_entropy(twin(torch.from_numpy(X)), torch.from_numpy(y)).item()
        expected_lrs.append(lr)
        expected_losses.append(loss)
        if not math.isfinite(loss) or loss > 4.0 * min(expected_losses):
            break
        torch_step(twin, theirs, X, y)
    assert len(lrs) == len(expected_lrs) < n          # the sweep blew up before its end
    np.testing.assert_allclose(lrs, expected_lrs, rtol=1e-12)
    np.testing.assert_allclose(losses, expected_losses, rtol=1e-6)
    assert lrs[0] == lr_min and np.allclose(np.diff(np.log(lrs)), np.log(lr_max / lr_min) / (n - 1))


def test_lr_range_test_runs_to_lr_max_when_nothing_blows_up():
    rng = np.random.default_rng(0)
    batches = [(rng.normal(size=(4, 3)), rng.integers(0, 2, size=4)) for _ in range(5)]
    model = nn.MLP((3, 4, 2), seed=0)
    lrs, losses = diagnostics.lr_range_test(model, optim.SGD(model.params, lr=1.0), batches, 1e-6, 1e-4)
    np.testing.assert_allclose(lrs, [1e-6, 10 ** -5.5, 1e-5, 10 ** -4.5, 1e-4], rtol=1e-12)
    assert losses.shape == (5,)


def early_stopping_by_hand(losses, patience, min_delta):
    """An independent reading of the rule: the first epoch that ends `patience` non-improving epochs."""
    best = [np.inf]
    for loss in losses:
        best.append(loss if loss < best[-1] - min_delta else best[-1])
    improved = [losses[e] < best[e] - min_delta for e in range(len(losses))]
    for epoch in range(len(losses)):
        if epoch + 1 >= patience and not any(improved[epoch - patience + 1:epoch + 1]):
            last = max(e for e in range(epoch + 1) if improved[e]) if any(improved[:epoch + 1]) else 0
            return last, epoch
    return (max(e for e in range(len(losses)) if improved[e]) if any(improved) else 0), None


def test_early_stopping_examples():
    assert diagnostics.early_stopping([1.0, 0.8, 0.7, 0.72, 0.69, 0.71, 0.75, 0.73, 0.5, 0.9], 3) == (4, 7)
    assert diagnostics.early_stopping([0.5, 0.4, 0.3], 2) == (2, None)
    assert diagnostics.early_stopping([2.0, 2.0, 2.0], 2) == (0, 2)              # a tie is no improvement
    assert diagnostics.early_stopping([1.0, 0.999, 0.998, 0.9], 2, min_delta=0.01) == (0, 2)
    assert diagnostics.early_stopping([1.0, np.nan, np.inf, 0.5], 3) == (3, None)   # NaN never improves


def test_early_stopping_agrees_with_an_independent_reading():
    for seed in range(300):
        rng = np.random.default_rng(seed)
        losses = np.exp(np.cumsum(rng.normal(-0.02, 0.1, size=int(rng.integers(1, 50)))))
        for patience in (1, 2, 5):
            for min_delta in (0.0, 0.02):
                assert diagnostics.early_stopping(losses, patience, min_delta) == \
                    early_stopping_by_hand(list(losses), patience, min_delta), (seed, patience, min_delta)


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "linear"])
def test_signal_through_depth_equals_torch_autograd(activation):
    for seed in range(5):
        rng = np.random.default_rng(seed)
        widths = [int(w) for w in rng.integers(2, 9, size=5)]
        X, G = rng.normal(size=(7, widths[0])), rng.normal(size=(7, widths[-1]))
        weights = [init.xavier_normal((n_out, n_in), rng, gain=1.5) for n_in, n_out in zip(widths[:-1], widths[1:])]
        forward, backward, weight_grads = diagnostics.signal_through_depth(X, weights, activation, G)
        sigma = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid, "linear": lambda s: s}[activation]
        x = torch.tensor(X, requires_grad=True)
        Ws = [torch.tensor(W, requires_grad=True) for W in weights]
        inputs, h = [], x
        for W in Ws:
            inputs.append(h)
            h.retain_grad()
            h = sigma(h @ W.T)
            inputs[-1].retain_grad()
        outputs = [*inputs[1:], h]
        (h * torch.from_numpy(G)).sum().backward()
        rms = lambda t: float(t.detach().pow(2).mean().sqrt())  # noqa: E731
        np.testing.assert_allclose(forward, [rms(o) for o in outputs], rtol=1e-12)
        np.testing.assert_allclose(backward, [rms(i.grad) for i in inputs], rtol=1e-10)
        np.testing.assert_allclose(weight_grads, [rms(W.grad) for W in Ws], rtol=1e-10)


def test_the_signal_vanishes_or_keeps_its_size_as_the_variance_rules_predict():
    rng = np.random.default_rng(0)
    X, G = rng.normal(size=(128, 64)), rng.normal(size=(128, 64))
    default = [init.kaiming_uniform((64, 64), rng, gain=math.sqrt(1 / 3)) for _ in range(20)]
    he = [init.kaiming_normal((64, 64), rng) for _ in range(20)]
    forward, backward, _ = diagnostics.signal_through_depth(X, default, "relu", G)
    assert forward[-1] < 1e-6 and backward[0] < 1e-6                     # a factor ~0.41 per layer
    forward, backward, _ = diagnostics.signal_through_depth(X, he, "relu", G)
    assert 0.1 < forward[-1] < 10 and 0.1 < backward[0] < 10


@pytest.mark.parametrize("call, error, words", [
    (lambda: diagnostics.overfit_one_batch(object(), object(), np.ones((2, 3)), np.zeros(2, int), 3),
     TypeError, "model must have forward and backward"),
    (lambda: diagnostics.overfit_one_batch(nn.MLP((3, 2)), optim.SGD(nn.MLP((3, 2)).params, lr=0.1),
                                           np.ones((2, 3)), np.zeros(2, int), 0), ValueError, "steps must be >= 1"),
    (lambda: diagnostics.lr_range_test(nn.MLP((3, 2)), optim.SGD(nn.MLP((3, 2)).params, lr=0.1),
                                       [(np.ones((2, 3)), np.zeros(2, int))], 1e-3, 1.0), ValueError, "at least 2"),
    (lambda: diagnostics.lr_range_test(nn.MLP((3, 2)), optim.SGD(nn.MLP((3, 2)).params, lr=0.1),
                                       iter([]), 1e-3, 1.0), TypeError, "batches must be a list"),
    (lambda: diagnostics.lr_range_test(nn.MLP((3, 2)), optim.SGD(nn.MLP((3, 2)).params, lr=0.1),
                                       [(np.ones((2, 3)), np.zeros(2, int))] * 2, 1.0, 0.1), ValueError,
     "lr_max must be > lr_min"),
    (lambda: diagnostics.lr_range_test(nn.MLP((3, 2)), optim.SGD(nn.MLP((3, 2)).params, lr=0.1),
                                       [(np.ones((2, 3)), np.zeros(2, int))] * 2, 0.1, 1.0, 1.0), ValueError,
     "divergence_factor must be > 1"),
    (lambda: diagnostics.early_stopping([], 2), ValueError, "at least one"),
    (lambda: diagnostics.early_stopping([[1.0]], 2), ValueError, "val_losses must have 1 dimension"),
    (lambda: diagnostics.early_stopping([1.0], 0), ValueError, "patience must be >= 1"),
    (lambda: diagnostics.early_stopping([1.0], 2, -0.1), ValueError, "min_delta must be >= 0"),
    (lambda: diagnostics.signal_through_depth(np.ones((2, 3)), [np.ones((3, 3))], "gelu", np.ones((2, 3))),
     ValueError, "activation must be one of"),
    (lambda: diagnostics.signal_through_depth(np.ones((2, 3)), [np.ones((4, 2))], "tanh", np.ones((2, 4))),
     ValueError, r"weights\[0\] must have shape \(n_out, 3\)"),
    (lambda: diagnostics.signal_through_depth(np.ones((2, 3)), [np.ones((4, 3))], "tanh", np.ones((2, 3))),
     ValueError, "grad_output must have the shape"),
])
def test_bad_arguments_are_named(call, error, words):
    with pytest.raises(error, match=words):
        call()
