"""Answers that take their result from the answer key, one per exercise and delegation route.

``WORKING[exercise]`` is (reference module, reference name, body): a body that really answers the
exercise through the reference, written with ``{ref}`` where the reference is called. Each route
reaches ``{ref}`` another way. ``CLASS_ROUTES`` answer through a class that loops over the rule
(or through torch). ``cheats(exercise, signature)`` yields (route, answer cell source).
"""
from __future__ import annotations

PASS_THROUGH = "    return {ref}({args})"

WORKING: dict[str, tuple[str, str, str]] = {
    "derivative_central": ("gradcheck", "numerical_gradient",
                           "    return float({ref}(lambda x: f(float(x)), np.array(float(w)), h))"),
    "gd_step_1d": ("optim", "sgd_step", "    return float({ref}(w, dL_dw, lr))"),
    "run_gd_1d": ("landscapes", "run_optimizer",
                  "    return {ref}(lambda x: x - lr * grad(x), float(w0), n_steps)"),
    "gd_step": ("optim", "sgd_step", PASS_THROUGH),
    "mse_linear_grads": ("losses", "mse_grad",
                         "    d = {ref}(w * np.asarray(x, dtype=float) + b, y)\n"
                         "    return float(np.sum(d * x)), float(np.sum(d))"),
    "minibatch_indices": ("data", "minibatches",
                          "    idx = np.arange(n_samples)\n"
                          "    return [xb for xb, _ in {ref}(idx, idx, batch_size, rng=rng)]"),
    "softmax": ("losses", "softmax", PASS_THROUGH),
    "cross_entropy": ("losses", "cross_entropy", PASS_THROUGH),
    "softmax_jacobian": ("losses", "softmax_jacobian", PASS_THROUGH),
    "cross_entropy_grad": ("losses", "cross_entropy_grad", PASS_THROUGH),
    "count_parameters": ("nn", "count_parameters", PASS_THROUGH),
    "relu_backward": ("nn", "ReLU", "    layer = {ref}()\n    layer.forward(s)\n"
                      "    return layer.backward(grad_x)"),
    "sigmoid_backward": ("nn", "Sigmoid", "    layer = {ref}()\n    layer.forward(s)\n"
                         "    return layer.backward(grad_x)"),
    "linear_backward": ("nn", "Linear",
                        "    layer = {ref}(W.shape[1], W.shape[0], np.random.default_rng(0))\n"
                        "    layer.W = np.array(W, dtype=float)\n    layer.forward(x)\n"
                        "    dx = layer.backward(delta)\n    return dx, layer.dW, layer.db"),
    "mlp_backward": ("nn", "MLP",
                     "    sizes = [params[0].shape[1]] + [p.shape[0] for p in params[::2]]\n"
                     "    net = {ref}(sizes)\n"
                     "    for mine, given in zip(net.params, params):\n"
                     "        mine[...] = given\n"
                     "    net.forward(inputs[0])\n    return net.backward(dlogits)"),
    "ema": ("optim", "ema_momentum_step",
            "    v, out = np.zeros(np.shape(values)[1:]), []\n"
            "    for g in values:\n"
            "        _, v = {ref}(np.zeros_like(v), g, v, 1.0, beta)\n"
            "        out.append(v)\n"
            "    return np.array(out).reshape(np.shape(values))"),
    "momentum_step": ("optim", "momentum_step", PASS_THROUGH),
    "lookahead_nesterov_step": ("optim", "nesterov_step",
                                "    u = w - lr * beta * v\n"
                                "    u_new, v_new = {ref}(u, grad_fn(u), v, lr, beta)\n"
                                "    return u_new + lr * beta * v_new, v_new"),
    "nesterov_step": ("optim", "nesterov_step", PASS_THROUGH),
    "sutskever_momentum_step": ("optim", "sutskever_momentum_step", PASS_THROUGH),
    "adagrad_step": ("optim", "adagrad_step", PASS_THROUGH),
    "rmsprop_step": ("optim", "rmsprop_step", PASS_THROUGH),
    "adam_step": ("optim", "adam_step", PASS_THROUGH),
    "adamw_step": ("optim", "adamw_step", PASS_THROUGH),
    "step_lr": ("schedules", "step_lr", PASS_THROUGH),
    "inverse_sqrt_lr": ("schedules", "inverse_sqrt_lr", PASS_THROUGH),
    "cosine_lr": ("schedules", "cosine_lr", PASS_THROUGH),
    "warmup_lr": ("schedules", "with_warmup",
                  "    return float({ref}(schedule, warmup_steps, start_factor)(t))"),
    "xavier_uniform": ("init", "xavier_uniform", PASS_THROUGH),
    "kaiming_normal": ("init", "kaiming_normal", PASS_THROUGH),
    "clip_grad_norm": ("clipping", "clip_grad_norm", PASS_THROUGH),
    "overfit_one_batch": ("diagnostics", "overfit_one_batch", PASS_THROUGH),
    "lr_range_test": ("diagnostics", "lr_range_test", PASS_THROUGH),
    "early_stopping": ("diagnostics", "early_stopping", PASS_THROUGH),
    "check_dense_backward": ("sanity", "check_dense_backward", PASS_THROUGH),
    "check_adam_step": ("sanity", "check_adam_step", PASS_THROUGH),
}

_OPT = "np.array(w, dtype=float, copy=True)"
CLASS_ROUTES: dict[str, str] = {
    "gd_step_1d": f"    o = optim.SGD([{_OPT}], lr=lr)\n    o.step([np.asarray(dL_dw, dtype=float)])\n"
                  "    return float(o.params[0])",
    "gd_step": f"    o = optim.SGD([{_OPT}], lr=lr)\n    o.step([np.asarray(grad, dtype=float)])\n"
               "    return o.params[0]",
    "momentum_step": f"    o = optim.SGD([{_OPT}], lr=lr, momentum=max(beta, 1e-300))\n"
                     "    o.state[0]['momentum_buffer'] = np.array(v, dtype=float)\n"
                     "    o.step([g])\n    return o.params[0], o.state[0]['momentum_buffer']",
    "nesterov_step": f"    o = optim.SGD([{_OPT}], lr=lr, momentum=max(beta, 1e-300), nesterov=True)\n"
                     "    o.state[0]['momentum_buffer'] = np.array(v, dtype=float)\n"
                     "    o.step([g])\n    return o.params[0], o.state[0]['momentum_buffer']",
    "sutskever_momentum_step": f"    o = optim.SGD([{_OPT}], lr=lr, momentum=max(beta, 1e-300))\n"
                               "    o.state[0]['momentum_buffer'] = np.array(v, dtype=float) / -lr\n"
                               "    o.step([g])\n    return o.params[0], -lr * o.state[0]['momentum_buffer']",
    "rmsprop_step": f"    o = optim.RMSprop([{_OPT}], lr=lr, alpha=alpha, eps=eps)\n"
                    "    o.state[0]['square_avg'] = np.array(s, dtype=float)\n"
                    "    o.step([g])\n    return o.params[0], o.state[0]['square_avg']",
    "adam_step": f"    o = optim.Adam([{_OPT}], lr=lr, betas=(beta1, beta2), eps=eps, "
                 "weight_decay=weight_decay)\n"
                 "    o.state[0].update(step=t - 1, exp_avg=np.array(m, dtype=float), "
                 "exp_avg_sq=np.array(v, dtype=float))\n"
                 "    o.step([g])\n    st = o.state[0]\n"
                 "    return o.params[0], st['exp_avg'], st['exp_avg_sq']",
    "adamw_step": f"    o = optim.AdamW([{_OPT}], lr=lr, betas=(beta1, beta2), eps=eps, "
                  "weight_decay=weight_decay)\n"
                  "    o.state[0].update(step=t - 1, exp_avg=np.array(m, dtype=float), "
                  "exp_avg_sq=np.array(v, dtype=float))\n"
                  "    o.step([g])\n    st = o.state[0]\n"
                  "    return o.params[0], st['exp_avg'], st['exp_avg_sq']",
    "count_parameters": "    return sum(p.size for p in nn.MLP(sizes).params)",
}

TORCH_ROUTES: dict[str, str] = {
    "clip_grad_norm": "    ps = [torch.tensor(np.asarray(g, dtype=float), requires_grad=True) for g in grads]\n"
                      "    for p, g in zip(ps, grads):\n        p.grad = torch.tensor(np.asarray(g, dtype=float))\n"
                      "    total = torch.nn.utils.clip_grad_norm_(ps, max_norm)\n"
                      "    return [p.grad.numpy() for p in ps], float(total)",
    "linear_softmax_grads":
        "    W_t = torch.tensor(np.asarray(W, dtype=float), requires_grad=True)\n"
        "    b_t = torch.tensor(np.asarray(b, dtype=float), requires_grad=True)\n"
        "    logits = torch.as_tensor(np.asarray(A, dtype=float)) @ W_t.T + b_t\n"
        "    torch.nn.functional.cross_entropy(logits, torch.as_tensor(labels)).backward()\n"
        "    return W_t.grad.numpy(), b_t.grad.numpy()",
    "softmax": "    return torch.softmax(torch.as_tensor(np.asarray(z, dtype=float)), dim=axis).numpy()",
    "relu_backward": "    s_t = torch.tensor(np.asarray(s, dtype=float), requires_grad=True)\n"
                     "    torch.relu(s_t).backward(torch.as_tensor(np.asarray(grad_x, dtype=float)))\n"
                     "    return s_t.grad.numpy()",
    "sutskever_momentum_step":
        "    p = torch.tensor(np.asarray(w, dtype=float), requires_grad=True)\n"
        "    o = torch.optim.SGD([p], lr=lr, momentum=max(beta, 1e-300))\n"
        "    o.state[p]['momentum_buffer'] = torch.tensor(np.asarray(v, dtype=float) / -lr)\n"
        "    p.grad = torch.tensor(np.asarray(g, dtype=float))\n    o.step()\n"
        "    return p.detach().numpy(), -lr * o.state[p]['momentum_buffer'].numpy()",
    "adagrad_step": "    p = torch.tensor(np.asarray(w, dtype=float), requires_grad=True)\n"
                    "    o = torch.optim.Adagrad([p], lr=lr, eps=eps)\n"
                    "    o.state[p]['sum'] = torch.tensor(np.asarray(s, dtype=float))\n"
                    "    p.grad = torch.tensor(np.asarray(g, dtype=float))\n    o.step()\n"
                    "    return p.detach().numpy(), o.state[p]['sum'].numpy()",
    "adam_step": "    p = torch.tensor(np.asarray(w, dtype=float), requires_grad=True)\n"
                 "    o = torch.optim.Adam([p], lr=lr, betas=(beta1, beta2), eps=eps, "
                 "weight_decay=weight_decay)\n"
                 "    o.state[p] = {'step': torch.tensor(float(t - 1)), "
                 "'exp_avg': torch.tensor(np.asarray(m, dtype=float)), "
                 "'exp_avg_sq': torch.tensor(np.asarray(v, dtype=float))}\n"
                 "    p.grad = torch.tensor(np.asarray(g, dtype=float))\n    o.step()\n"
                 "    st = o.state[p]\n"
                 "    return p.detach().numpy(), st['exp_avg'].numpy(), st['exp_avg_sq'].numpy()",
}

IMPORTS = "import numpy as np\nimport torch\nfrom course_utils import nn, optim\n"


def _def(name: str, params: str, body: str) -> str:
    return f"def {name}({params}):\n{body}\n"


def cheats(exercise: str, params: str, args: str):
    """(route, source) for every way this exercise can reach its reference."""
    if exercise in CLASS_EXERCISES:
        yield from _class_routes(exercise)
    if exercise in WORKING:
        yield from _reference_routes(exercise, params, args)
    if exercise in CLASS_ROUTES:
        yield "class", IMPORTS + _def(exercise, params, CLASS_ROUTES[exercise])
    if exercise in TORCH_ROUTES:
        yield "torch", IMPORTS + _def(exercise, params, TORCH_ROUTES[exercise])


def _reference_routes(exercise: str, params: str, args: str):
    module, ref_name, body = WORKING[exercise]
    target = f"_cu_{module}.{ref_name}"
    head = f"{IMPORTS}from course_utils import {module} as _cu_{module}\n"

    def body_with(ref: str) -> str:
        return body.format(ref=ref, args=args)

    yield "direct", head + _def(exercise, params, body_with(target))
    yield "alias", head + f"_ref = {target}\n" + _def(exercise, params, body_with("_ref"))
    yield "wrapper", head + f"def _helper(*a, **k):\n    return {target}(*a, **k)\n" + \
        _def(exercise, params, body_with("_helper"))
    yield "default argument", head + _def(exercise, f"{params}, _f={target}", body_with("_f"))
    yield "lambda", head + f"_lam = lambda *a, **k: {target}(*a, **k)\n" + \
        _def(exercise, params, body_with("_lam"))
    yield "getattr/importlib", head + "import importlib\n" + _def(exercise, params, body_with(
        f'getattr(importlib.import_module("course_utils.{module}"), "{ref_name}")'))
    if ref_name[0].islower():   # a function (a class has no single code object to copy)
        yield "function copy", head + "import inspect, types\n" + \
            f"_orig = inspect.unwrap({target})\n" + \
            "_copy = types.FunctionType(_orig.__code__, _orig.__globals__, 'mine', " \
            "_orig.__defaults__, _orig.__closure__)\n_copy.__kwdefaults__ = _orig.__kwdefaults__\n" + \
            _def(exercise, params, body_with("_copy"))
    if body == PASS_THROUGH:
        yield "name bound to the reference", head + f"{exercise} = {target}\n"
        yield "functools.partial", head + f"import functools\n{exercise} = " \
            f"functools.partial({target})\n"


# Exercises that are classes (05's Value): the student writes the class, so each route binds the
# exercise's name to a class that gets its work done by the reference (or by torch).
CLASS_EXERCISES: dict[str, tuple[str, str]] = {
    "Value": ("autodiff", "Value"),
}

_VALUE_WRAPPER = """class Value:
    def __init__(self, data, _children=(), _op=""):
        self._inner = data if isinstance(data, {ref}) else {ref}(data)
    data = property(lambda self: self._inner.data)
    grad = property(lambda self: self._inner.grad)
    def _of(self, other):
        return other._inner if isinstance(other, Value) else other
    def __add__(self, other): return Value(self._inner + self._of(other))
    def __radd__(self, other): return Value(self._of(other) + self._inner)
    def __mul__(self, other): return Value(self._inner * self._of(other))
    def __rmul__(self, other): return Value(self._of(other) * self._inner)
    def __neg__(self): return Value(-self._inner)
    def __sub__(self, other): return Value(self._inner - self._of(other))
    def __rsub__(self, other): return Value(self._of(other) - self._inner)
    def tanh(self): return Value(self._inner.tanh())
    def relu(self): return Value(self._inner.relu())
    def backward(self): self._inner.backward()
"""

_VALUE_TORCH = """class Value:
    made = []
    def __init__(self, data, _children=(), _op=""):
        if isinstance(data, torch.Tensor):
            self._t = data
        else:
            self._t = torch.tensor(float(data), dtype=torch.float64, requires_grad=True)
        self._t.retain_grad()
        Value.made.append(self)
    data = property(lambda self: float(self._t.detach()))
    grad = property(lambda self: 0.0 if self._t.grad is None else float(self._t.grad))
    def _of(self, other):
        return other._t if isinstance(other, Value) else other
    def __add__(self, other): return Value(self._t + self._of(other))
    def __radd__(self, other): return Value(self._of(other) + self._t)
    def __mul__(self, other): return Value(self._t * self._of(other))
    def __rmul__(self, other): return Value(self._of(other) * self._t)
    def __neg__(self): return Value(-self._t)
    def __sub__(self, other): return Value(self._t - self._of(other))
    def __rsub__(self, other): return Value(self._of(other) - self._t)
    def tanh(self): return Value(torch.tanh(self._t))
    def relu(self): return Value(torch.relu(self._t))
    def backward(self):
        for value in Value.made:
            value._t.grad = None
        self._t.backward(retain_graph=True)
"""

CLASS_TORCH_ROUTES: dict[str, str] = {"Value": _VALUE_TORCH}


def _class_routes(exercise: str):
    module, ref_name = CLASS_EXERCISES[exercise]
    target = f"_cu_{module}.{ref_name}"
    head = f"{IMPORTS}from course_utils import {module} as _cu_{module}\n"
    yield "direct", head + f"{exercise} = {target}\n"
    yield "subclass", head + f"class {exercise}({target}):\n    pass\n"
    yield "getattr/importlib", head + "import importlib\n" + \
        f'{exercise} = getattr(importlib.import_module("course_utils.{module}"), "{ref_name}")\n'
    yield "wrapper", head + _VALUE_WRAPPER.format(ref=target)
    if exercise in CLASS_TORCH_ROUTES:
        yield "torch", IMPORTS + CLASS_TORCH_ROUTES[exercise]


ATTACKED = set(WORKING) | set(CLASS_ROUTES) | set(TORCH_ROUTES) | set(CLASS_EXERCISES)
