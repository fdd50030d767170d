"""Section 4: reference speed — the numpy MLP and Adam against the same model and optimizer in torch.

The epoch is notebook 09's: an MLP 64-64-10 (ReLU) on the 1,347 training digits, mini-batches of
64 in a shuffled order, Adam (lr 1e-2), float64. Both sides start from the *same* weights (the
numpy MLP's, copied into ``torch.nn.Linear``) and take the same batches, and one verification
epoch proves they end at the same weights before anything is timed — so the two timings are of
the same computation. Each epoch records the batch losses, as the notebook's training loop does.

Both run on one thread (numpy's BLAS through threadpoolctl, ``torch.set_num_threads(1)``): the
numbers then do not depend on what else the machine runs, and a kernel in the grader gets one
core anyway. The optimizer step is Adam on one parameter of 10⁶ float64 values.
"""
from __future__ import annotations

import time

import numpy as np

from bench.stats import row, summarise, timeit

SIZES = (64, 64, 10)
BATCH = 64
LR = 1e-2
ADAM_PARAMS = 10**6
TARGET_EPOCH_RATIO = 2.0
TARGET_ADAM_RATIO = 1.2   # issue 12: numpy Adam within 1.2× of torch.optim.Adam at 10⁶ weights


def _numpy_epoch(model, optimizer, X, y, seed):
    from course_utils import data

    rng = np.random.default_rng(seed)

    def epoch():
        losses = []
        for xb, yb in data.minibatches(X, y, BATCH, rng):
            loss, grads = model.loss_and_grads(xb, yb)
            optimizer.step(grads)
            losses.append(loss)
        return losses
    return epoch


def _torch_model(numpy_model):
    """torch.nn.Sequential with the numpy MLP's layers and its current weights (float64)."""
    import torch

    layers = []
    params = numpy_model.params
    for i, (n_in, n_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        linear = torch.nn.Linear(n_in, n_out, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(params[2 * i]))
            linear.bias.copy_(torch.from_numpy(params[2 * i + 1]))
        layers.append(linear)
        if i < len(SIZES) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def _torch_epoch(model, optimizer, X, y, seed):
    """The canonical torch step — zero_grad, forward, loss, backward, step — over the batches
    of the same shuffled order as ``data.minibatches`` (one permutation per epoch)."""
    import torch

    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    rng = np.random.default_rng(seed)

    def epoch():
        losses = []
        for idx in torch.from_numpy(rng.permutation(len(X))).split(BATCH):
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return losses
    return epoch


def _pair(X, y, seed=0):
    """A numpy MLP + Adam and a torch copy + torch.optim.Adam, with the same weights."""
    import torch

    from course_utils import nn, optim

    model = nn.MLP(SIZES, seed=seed)
    torch_model = _torch_model(model)
    return ((model, optim.Adam(model.params, lr=LR)),
            (torch_model, torch.optim.Adam(torch_model.parameters(), lr=LR)))


def verify_same_computation(X, y) -> float:
    """Largest relative weight difference between the two sides after one epoch each."""
    (model, opt), (torch_model, torch_opt) = _pair(X, y)
    _numpy_epoch(model, opt, X, y, seed=1)()
    _torch_epoch(torch_model, torch_opt, X, y, seed=1)()
    ours = np.concatenate([p.ravel() for p in model.params])
    theirs = np.concatenate([p.detach().numpy().ravel() for p in torch_model.parameters()])
    return float(np.max(np.abs(ours - theirs)) / np.max(np.abs(theirs)))


def run(repeat: int = 7, log=print) -> dict:
    import torch
    from threadpoolctl import threadpool_limits

    from course_utils import data, optim

    previous_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            return _measure(repeat, log, data, optim, torch)
    finally:
        torch.set_num_threads(previous_threads)


def _measure(repeat, log, data, optim, torch) -> dict:
    split = data.load_digits(test_fraction=0.25, seed=0)
    X, y = split.X_train, split.y_train
    gap = verify_same_computation(X, y)
    log(f"  reference: one epoch on each side ends at the same weights (max rel. gap {gap:.1e})")

    (model, opt), (torch_model, torch_opt) = _pair(X, y)
    numpy_epoch, torch_epoch, epoch_ratio = interleaved(
        _numpy_epoch(model, opt, X, y, seed=2), _torch_epoch(torch_model, torch_opt, X, y, seed=2),
        repeat)
    steps = -(-len(X) // BATCH)
    log(f"  reference: epoch numpy {numpy_epoch}, torch {torch_epoch}")

    rng = np.random.default_rng(0)
    w, g = rng.standard_normal(ADAM_PARAMS), rng.standard_normal(ADAM_PARAMS)
    numpy_adam = optim.Adam([w.copy()], lr=1e-3)
    param = torch.nn.Parameter(torch.from_numpy(w.copy()))
    param.grad = torch.from_numpy(g.copy())
    numpy_step, torch_step, adam_ratio = interleaved(
        lambda: numpy_adam.step([g]), torch.optim.Adam([param], lr=1e-3).step, repeat * 3)
    flagged = {label: timeit(torch.optim.Adam([param], lr=1e-3, **flags).step, repeat * 3,
                             unit="ms")
               for label, flags in (("foreach=True", {"foreach": True}),
                                    ("fused=True", {"fused": True}))}
    log(f"  reference: Adam step numpy {numpy_step}, torch {torch_step}")

    pairs = "per interleaved pair of runs"
    rows = [
        row(f"numpy MLP {'-'.join(map(str, SIZES))}, one epoch ({steps} steps of batch {BATCH})",
            numpy_epoch),
        row("same model in torch (zero_grad → forward → loss → backward → step)", torch_epoch),
        row("epoch time ratio numpy / torch", epoch_ratio, TARGET_EPOCH_RATIO, note=pairs),
        row("numpy optim.Adam step, 10⁶ params", numpy_step),
        row("torch.optim.Adam step (default: single-tensor on CPU)", torch_step),
        row("torch.optim.Adam step, foreach=True", flagged["foreach=True"]),
        row("torch.optim.Adam step, fused=True", flagged["fused=True"]),
        row("Adam step ratio numpy / torch (default)", adam_ratio, TARGET_ADAM_RATIO, note=pairs),
    ]
    return {"config": {"repeat": repeat, "sizes": list(SIZES), "batch": BATCH, "lr": LR,
                       "train_samples": len(X), "threads": 1, "adam_params": ADAM_PARAMS},
            "rows": rows, "verification_max_relative_gap": gap}



def interleaved(first, second, repeat: int, warmup: int = 1):
    """Time ``first`` and ``second`` alternately (so load changes hit both alike): their
    summaries in ms and the summary of the per-pair ratios first/second."""
    for _ in range(warmup):
        first(), second()
    a, b = [], []
    for _ in range(repeat):
        for fn, times in ((first, a), (second, b)):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1e3)
    return (summarise(a, "ms"), summarise(b, "ms"),
            summarise([x / y for x, y in zip(a, b)], "×"))
