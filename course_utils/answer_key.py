"""Which reference answers which exercise: the table the answer-key guard and the grader read.

``course_utils`` is the course's answer key, and every student notebook can import it. An
exercise may not get its result from its own reference; ``checks.quiet()`` enforces that at run
time and the grader compares answer sources with the references' sources.

The rule is by name, so that a new exercise is covered without new code:

- an exercise named like a public function or class of a reference module (``softmax``,
  ``momentum_step``, ``step_lr`` …) is answered by that function or class;
- ``EXTRA`` adds what else would hand an exercise its result: a reference under another name
  (``ema`` → ``optim.ema_momentum_step``), the optimizer class that loops over a rule, or
  torch's own version. Torch entries count only once torch is imported (nothing here imports it).

What an exercise is *meant* to use stays allowed: a reference that is not listed for the
exercise under test (09's ``train_epoch`` steps the optimizer object it is handed) and anything
the test itself passes in.
"""
from __future__ import annotations

import importlib
import inspect
import sys
import types

REFERENCE_MODULES = ("losses", "optim", "schedules", "nn", "gradcheck", "data", "autodiff",
                     "init", "clipping", "diagnostics", "sanity")

_AUTOGRAD = ("torch.autograd.grad", "torch.autograd.backward", "torch.Tensor.backward",
             "torch.autograd.functional.jacobian")
_TORCH_SGD = ("optim.SGD", "torch.optim.SGD")
_INIT = ("init.xavier_uniform", "init.xavier_normal", "init.kaiming_uniform", "init.kaiming_normal",
         "torch.nn.init.xavier_uniform_", "torch.nn.init.xavier_normal_",
         "torch.nn.init.kaiming_uniform_", "torch.nn.init.kaiming_normal_")

EXTRA: dict[str, tuple[str, ...]] = {
    # 01 and 02: one weight, many weights
    "derivative_central": ("gradcheck.numerical_gradient", "gradcheck.check_gradient"),
    "gd_step_1d": ("optim.sgd_step", *_TORCH_SGD),
    "run_gd_1d": ("landscapes.run_optimizer", "landscapes.gradient_descent"),
    "gd_step": ("optim.sgd_step", *_TORCH_SGD),
    "mse_linear_grads": ("losses.mse_grad", *_AUTOGRAD),
    # 03: mini-batches
    "minibatch_indices": ("data.minibatches",),
    # 04: softmax and cross-entropy
    "softmax": ("losses.log_softmax", "torch.softmax", "torch.nn.functional.softmax",
                "torch.nn.Softmax"),
    "cross_entropy": ("losses.log_softmax", "losses.softmax", "torch.nn.functional.cross_entropy",
                      "torch.nn.functional.log_softmax", "torch.nn.CrossEntropyLoss"),
    "softmax_jacobian": _AUTOGRAD,
    "cross_entropy_grad": _AUTOGRAD,
    "linear_softmax_grads": _AUTOGRAD,   # it is meant to use losses.cross_entropy_grad
    # 05: backpropagation
    "linear_backward": ("nn.Linear", *_AUTOGRAD),
    "relu_backward": ("nn.ReLU", *_AUTOGRAD),
    "sigmoid_backward": ("nn.Sigmoid", *_AUTOGRAD),
    "mlp_backward": ("nn.MLP", "nn.Linear", "nn.ReLU", "nn.Sigmoid", "nn.Tanh", *_AUTOGRAD),
    "count_parameters": ("nn.MLP",),
    "Value": _AUTOGRAD,                  # the scalar engine may not hand its graph to torch
    # 06: momentum
    "ema": ("optim.ema_momentum_step",),
    "momentum_step": _TORCH_SGD,
    "lookahead_nesterov_step": ("optim.nesterov_step", *_TORCH_SGD),
    "nesterov_step": _TORCH_SGD,
    "sutskever_momentum_step": ("optim.momentum_step", *_TORCH_SGD),
    # 07: adaptive rates
    "adagrad_step": ("torch.optim.Adagrad",),
    "rmsprop_step": ("optim.RMSprop", "torch.optim.RMSprop"),
    "adam_step": ("optim.Adam", "optim.AdamW", "optim.adamw_step", "torch.optim.Adam",
                  "torch.optim.AdamW"),
    "adamw_step": ("optim.AdamW", "optim.Adam", "optim.adam_step", "torch.optim.Adam",
                   "torch.optim.AdamW"),
    # 08: schedules
    "step_lr": ("torch.optim.lr_scheduler.StepLR",),
    "cosine_lr": ("torch.optim.lr_scheduler.CosineAnnealingLR",),
    "warmup_lr": ("schedules.with_warmup", "torch.optim.lr_scheduler.LinearLR",
                  "torch.optim.lr_scheduler.SequentialLR"),
    # 10: training that goes wrong (an initializer may not borrow another one with a new gain)
    "xavier_uniform": _INIT,
    "kaiming_normal": _INIT,
    "clip_grad_norm": ("clipping.total_norm", "torch.nn.utils.clip_grad_norm_",
                       "torch.nn.utils.clip_grad_norm", "torch.nn.utils.get_total_norm",
                       "torch.nn.utils.clip_grads_with_norm_"),
    "overfit_one_batch": ("diagnostics.lr_range_test",),
    "lr_range_test": ("diagnostics.overfit_one_batch",),
}


def _public_names(module_name: str) -> list[str]:
    module = importlib.import_module(f"course_utils.{module_name}")
    names = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
    return [n for n in names if _defined_in(getattr(module, n, None), module.__name__)]


def _defined_in(obj, module_name: str) -> bool:
    return (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == module_name


def _same_name() -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    for module_name in REFERENCE_MODULES:
        for name in _public_names(module_name):
            table[name] = (*table.get(name, ()), f"{module_name}.{name}")
    return table


SAME_NAME = _same_name()


def exercises() -> set[str]:
    """Every exercise name that has a reference."""
    return set(SAME_NAME) | set(EXTRA)


def references(exercise: str) -> tuple[str, ...]:
    """Dotted names of what answers ``exercise`` (``optim.adam_step``, ``torch.optim.Adam`` …)."""
    return (*SAME_NAME.get(exercise, ()), *EXTRA.get(exercise, ()))


def resolve(dotted: str):
    """The object a dotted reference names, or None (torch not imported, name unknown).

    ``optim.adam_step`` means ``course_utils.optim.adam_step``; a name whose top package is not
    already imported resolves to None, so that asking never imports torch.
    """
    top, *rest = dotted.split(".")
    if top in (*REFERENCE_MODULES, "landscapes"):
        top = f"course_utils.{top}"
    elif top not in sys.modules:
        return None
    try:
        obj = sys.modules.get(top) or importlib.import_module(top)
        for part in rest:
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        return None
    return obj


def code_objects(obj) -> set[types.CodeType]:
    """The code that runs when ``obj`` computes: a function's (unwrapped) code and the functions
    nested in it, or every method of a class."""
    codes: set[types.CodeType] = set()
    if inspect.isclass(obj):
        for member in vars(obj).values():
            member = getattr(member, "__func__", member)           # staticmethod, classmethod
            member = getattr(member, "fget", member)               # property
            if inspect.isfunction(member):
                codes |= code_objects(member)
        return codes
    if inspect.isfunction(obj):  # the math itself, not a shared argument-checking wrapper
        _with_nested(inspect.unwrap(obj).__code__, codes)
    return codes


def _with_nested(code: types.CodeType, into: set[types.CodeType]) -> None:
    into.add(code)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _with_nested(const, into)


def reference_sources(exercise: str) -> dict[str, str]:
    """Source text of the course's own functions that answer ``exercise`` (not torch's)."""
    sources = {}
    for dotted in references(exercise):
        if dotted.startswith("torch."):
            continue
        obj = resolve(dotted)
        obj = inspect.unwrap(obj) if inspect.isfunction(obj) else obj
        try:
            sources[dotted] = inspect.getsource(obj)
        except (TypeError, OSError):
            continue
    return sources
