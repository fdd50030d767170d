"""course_utils.nn: hand-written backprop equals torch autograd (same weights, float64) and
central differences; parameters are live, torch-shaped and counted right."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils import losses
from course_utils.gradcheck import numerical_gradient, relative_error
from course_utils.nn import MLP, Linear, ReLU, Sigmoid, Tanh, count_parameters

TOL = 1e-6
ACTIVATIONS = {"relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh}
SIZES = [(4, 3), (5, 7, 3), (8, 16, 16, 10), (3, 6, 5, 4, 2), (64, 32, 10)]


def torch_twin(model: MLP) -> torch.nn.Sequential:
    """The same network in torch, float64, with our weights copied in."""
    modules = []
    for layer in model.layers:
        if isinstance(layer, Linear):
            twin = torch.nn.Linear(layer.in_features, layer.out_features, dtype=torch.float64)
            with torch.no_grad():
                twin.weight.copy_(torch.from_numpy(layer.W))
                twin.bias.copy_(torch.from_numpy(layer.b))
            modules.append(twin)
        else:
            modules.append(ACTIVATIONS[model.activation]())
    return torch.nn.Sequential(*modules)


def random_batch(model: MLP, seed: int, n: int = 9):
    rng = np.random.default_rng(seed + 1000)
    return rng.normal(size=(n, model.sizes[0])), rng.integers(0, model.sizes[-1], size=n)


def errors_vs_torch(sizes, activation, seed):
    """(max relative error of logits, of parameter gradients, of ∂L/∂X) against torch."""
    model = MLP(sizes, activation=activation, seed=seed)
    X, y = random_batch(model, seed)
    logits = model.forward(X)
    grads = model.backward(losses.cross_entropy_grad(logits, y))
    dX = losses.cross_entropy_grad(logits, y)
    for layer in reversed(model.layers):
        dX = layer.backward(dX)

    twin = torch_twin(model)
    Xt = torch.tensor(X, requires_grad=True)
    torch_logits = twin(Xt)
    F.cross_entropy(torch_logits, torch.from_numpy(y)).backward()
    torch_grads = [p.grad.numpy() for p in twin.parameters()]

    assert [g.shape for g in grads] == [p.shape for p in model.params] == [g.shape for g in torch_grads]
    return (relative_error(logits, torch_logits.detach().numpy()),
            max(relative_error(g, tg) for g, tg in zip(grads, torch_grads)),
            relative_error(dX, Xt.grad.numpy()))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("sizes", SIZES, ids=lambda s: "-".join(map(str, s)))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_mlp_forward_and_gradients_equal_torch_autograd(activation, sizes, seed):
    logits_err, param_err, input_err = errors_vs_torch(sizes, activation, seed)
    assert logits_err <= TOL, "logits differ from torch"
    assert param_err <= TOL, "parameter gradients differ from torch autograd"
    assert input_err <= TOL, "∂L/∂X differs from torch autograd"


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(1, 6), min_size=2, max_size=5), activation=st.sampled_from(sorted(ACTIVATIONS)),
       seed=st.integers(0, 2 ** 32 - 1))
def test_mlp_gradients_equal_torch_for_any_architecture(sizes, activation, seed):
    assert max(errors_vs_torch(tuple(sizes), activation, seed)) <= TOL


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("sizes", [(3, 4, 2), (5, 6, 4, 3)], ids=lambda s: "-".join(map(str, s)))
def test_mlp_gradients_equal_central_differences(activation, sizes):
    model = MLP(sizes, activation=activation, seed=3)
    X, y = random_batch(model, 3, n=6)
    _, grads = model.loss_and_grads(X, y)
    for param, grad in zip(model.params, grads):
        def loss_at(value, param=param):
            saved = param.copy()
            param[...] = value  # the live array: the model computes with it
            try:
                return losses.cross_entropy(model.forward(X), y)
            finally:
                param[...] = saved
        before = param.copy()
        assert relative_error(grad, numerical_gradient(loss_at, param)) <= TOL
        np.testing.assert_array_equal(param, before)


@pytest.mark.parametrize("layer_cls, torch_fn", [(ReLU, torch.relu), (Sigmoid, torch.sigmoid), (Tanh, torch.tanh)])
@pytest.mark.parametrize("seed", range(5))
def test_activation_layers_equal_torch(layer_cls, torch_fn, seed):
    rng = np.random.default_rng(seed)
    s, grad_out = rng.normal(scale=3, size=(5, 4)), rng.normal(size=(5, 4))
    s[0, 0] = 0.0  # ReLU's kink: torch uses σ′(0) = 0
    layer = layer_cls()
    out = layer.forward(s)
    st_ = torch.tensor(s, requires_grad=True)
    torch_out = torch_fn(st_)
    torch_out.backward(torch.tensor(grad_out))
    assert relative_error(out, torch_out.detach().numpy()) <= TOL
    assert relative_error(layer.backward(grad_out), st_.grad.numpy()) <= TOL


@pytest.mark.parametrize("seed", range(5))
def test_linear_layer_equals_torch(seed):
    rng = np.random.default_rng(seed)
    layer = Linear(6, 3, rng)
    x, grad_out = rng.normal(size=(4, 6)), rng.normal(size=(4, 3))
    twin = torch.nn.Linear(6, 3, dtype=torch.float64)
    with torch.no_grad():
        twin.weight.copy_(torch.from_numpy(layer.W))
        twin.bias.copy_(torch.from_numpy(layer.b))
    xt = torch.tensor(x, requires_grad=True)
    out = twin(xt)
    out.backward(torch.tensor(grad_out))
    assert relative_error(layer.forward(x), out.detach().numpy()) <= TOL
    assert relative_error(layer.backward(grad_out), xt.grad.numpy()) <= TOL
    assert relative_error(layer.dW, twin.weight.grad.numpy()) <= TOL
    assert relative_error(layer.db, twin.bias.grad.numpy()) <= TOL


# ---------------------------------------------------------------- parameters

def test_count_parameters_of_the_784_16_16_10_network_is_13002():
    assert count_parameters((784, 16, 16, 10)) == 13002
    model = MLP((784, 16, 16, 10))
    assert sum(p.size for p in model.params) == 13002
    assert sum(p.numel() for p in torch_twin(model).parameters()) == 13002


@pytest.mark.parametrize("sizes", SIZES + [(1, 1)], ids=lambda s: "-".join(map(str, s)))
def test_count_parameters_equals_torch(sizes):
    model = MLP(sizes)
    assert count_parameters(sizes) == sum(p.numel() for p in torch_twin(model).parameters())


def test_params_are_torch_shaped_live_arrays_in_order():
    model = MLP((5, 7, 3), activation="tanh")
    assert [p.shape for p in model.params] == [(7, 5), (7,), (3, 7), (3,)]
    linears = [layer for layer in model.layers if isinstance(layer, Linear)]
    assert [type(layer) for layer in model.layers] == [Linear, Tanh, Linear]  # no activation on logits
    for p, q in zip(model.params, [linears[0].W, linears[0].b, linears[1].W, linears[1].b]):
        assert p is q
    X = np.ones((2, 5))
    before = model.forward(X)
    model.params[-1] += 1.0  # what an optimizer's in-place step does
    np.testing.assert_allclose(model.forward(X), before + 1.0, rtol=1e-14)


def test_in_place_gradient_descent_on_params_lowers_the_loss():
    model = MLP((4, 8, 3), seed=1)
    X = np.random.default_rng(1).normal(size=(30, 4))
    y = np.argmax(X[:, :3], axis=1)  # a learnable rule
    first, _ = model.loss_and_grads(X, y)
    for _ in range(100):
        _, grads = model.loss_and_grads(X, y)
        for p, g in zip(model.params, grads):
            p -= 0.5 * g
    assert model.loss_and_grads(X, y)[0] < 0.5 * first


def test_initialisation_is_seeded_and_uses_torchs_bound():
    a, b, c = MLP((64, 32, 10), seed=0), MLP((64, 32, 10), seed=0), MLP((64, 32, 10), seed=1)
    for p, q in zip(a.params, b.params):
        np.testing.assert_array_equal(p, q)
    assert not np.array_equal(a.params[0], c.params[0])
    for layer in (a.layers[0], a.layers[2]):
        bound = 1 / np.sqrt(layer.in_features)
        for p in layer.params:
            assert np.all(np.abs(p) <= bound)
        assert np.abs(layer.W).max() > 0.9 * bound  # uniform over the whole interval, not a narrower one
    assert all(p.dtype == np.float64 for p in a.params)


def test_backward_is_idempotent_and_returns_fresh_arrays():
    model = MLP((3, 5, 2), activation="sigmoid")
    X, y = random_batch(model, 0)
    dlogits = losses.cross_entropy_grad(model.forward(X), y)
    first = model.backward(dlogits)
    first_copy = [g.copy() for g in first]
    second = model.backward(dlogits)
    for g, h, k in zip(first, second, first_copy):
        np.testing.assert_array_equal(g, h)  # overwritten, not accumulated
        np.testing.assert_array_equal(g, k)
        assert g is not h


def test_loss_and_grads_predict_and_accuracy():
    model = MLP((4, 6, 3), seed=2)
    X, y = random_batch(model, 2)
    loss, grads = model.loss_and_grads(X, y)
    logits = model.forward(X)
    assert loss == losses.cross_entropy(logits, y)
    for g, h in zip(grads, model.backward(losses.cross_entropy_grad(logits, y))):
        np.testing.assert_array_equal(g, h)
    np.testing.assert_array_equal(model.predict(X), np.argmax(logits, axis=1))
    assert model.accuracy(X, np.argmax(logits, axis=1)) == 1.0
    assert model.accuracy(X, (np.argmax(logits, axis=1) + 1) % 3) == 0.0


def test_forward_and_backward_do_not_mutate_the_input():
    model = MLP((3, 4, 2), activation="relu")
    X = np.random.default_rng(0).normal(size=(5, 3))
    before = X.copy()
    model.backward(np.ones_like(model.forward(X)))
    np.testing.assert_array_equal(X, before)


# ---------------------------------------------------------------- bad input names the argument

def _backward_before_forward():
    MLP((2, 2)).backward(np.zeros((1, 2)))


def _wrong_dlogits_shape():
    model = MLP((2, 3))
    model.forward(np.zeros((4, 2)))
    model.backward(np.zeros((4, 2)))


def _wrong_grad_out_shape():
    layer = Tanh()
    layer.forward(np.zeros((4, 2)))
    layer.backward(np.zeros((2, 4)))


@pytest.mark.parametrize("call, error, match", [
    (lambda: MLP((3,)), ValueError, "sizes must list at least"),
    (lambda: MLP((3, 0)), ValueError, r"sizes\[1\] must be >= 1"),
    (lambda: MLP((3, 2.5)), TypeError, r"sizes\[1\] must be an integer"),
    (lambda: MLP("32"), TypeError, "sizes must be a sequence"),
    (lambda: MLP((3, 2), activation="gelu"), ValueError, "activation must be one of"),
    (lambda: MLP((3, 2), activation=None), TypeError, "activation must be one of"),
    (lambda: MLP((3, 2), seed=-1), ValueError, "seed must be >= 0"),
    (lambda: MLP((3, 2)).forward(np.zeros((4, 2))), ValueError, r"X must have shape \(N, 3\)"),
    (lambda: MLP((3, 2)).forward(np.zeros(3)), ValueError, "X must have 2 dimension"),
    (lambda: MLP((3, 2)).forward([[np.nan, 0, 0]]), ValueError, "X contains NaN"),
    (lambda: MLP((3, 2)).accuracy(np.zeros((4, 3)), [0, 1]), ValueError, "labels must have shape"),
    (_backward_before_forward, RuntimeError, "backward was called before"),
    (_wrong_dlogits_shape, ValueError, "dlogits must have the shape"),
    (_wrong_grad_out_shape, ValueError, "grad_out must have the shape"),
    (lambda: Linear(3, 2, rng=0), TypeError, "rng must be a numpy.random.Generator"),
    (lambda: Linear(0, 2, np.random.default_rng()), ValueError, "in_features must be >= 1"),
    (lambda: Linear(3, 2, np.random.default_rng()).forward(np.zeros((1, 2))), ValueError, r"x must have shape \(N, 3\)"),
    (lambda: ReLU().forward("abc"), TypeError, "s must be a number"),
    (lambda: count_parameters([5]), ValueError, "sizes must list"),
])
def test_bad_input_raises_naming_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()
