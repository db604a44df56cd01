"""Stage 2 of the method: the FC layer from a tap to the N_l outputs (DESIGN step 1).

The layers below the tap are frozen; a bias-free linear layer ``W[j, f, s]`` is trained on the
cached training-set features with cross-entropy + L2 (α) and its test accuracy is the
layer's accuracy (*mechanism* Fig. 2, *universal* Tables 1-6). Two solvers of the same loss:

- ``"sgd"``: the papers' (*mechanism* Supplementary): mini-batches of 100, Nesterov momentum,
  η = 0.1, μ = 0.975, α = 1e-5, η multiplied by 0.6 every 20 epochs;
- ``"lbfgs"`` (default): full-batch L-BFGS (strong Wolfe line search) on the same loss
  ``mean CE + α/2 |W|²``, 20 iterations. ``bench/analysis.py c`` measures both side by side:
  on the ``cpu`` VGG-16 it reaches the test accuracy of 100 epochs of the papers' SGD at every
  tap in 1/15 of the time or less, and its 20 iterations cost 9-64 times less than those 100
  epochs (bench/README.md).

A ``mask`` (AFCC) holds the masked weights at zero throughout training.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn
from tqdm import tqdm

from .train import Hyper

PAPER_SGD = Hyper(0.1, 0.975, 1e-5, 0.6, 20)
SOLVERS = ("lbfgs", "sgd")
DEFAULT_SOLVER = "lbfgs"


@dataclass
class Probe:
    """A trained FC layer from a tap: weights (N_l, N_f, F_s) and its accuracies."""

    W: torch.Tensor
    train_acc: float
    test_acc: float
    solver: str
    seconds: float
    steps: int
    loss: float

    def __repr__(self) -> str:
        return (f"Probe(W={tuple(self.W.shape)}, test_acc={self.test_acc:.4f}, train_acc={self.train_acc:.4f}, "
                f"solver={self.solver}, {self.seconds:.1f} s)")


def _flat(features: torch.Tensor) -> torch.Tensor:
    return features.reshape(len(features), -1)


@torch.no_grad()
def accuracy(W: torch.Tensor, features: torch.Tensor, labels: torch.Tensor, chunk: int = 4096) -> float:
    """Accuracy of the bias-free FC layer ``W`` (N_l, N_f, F_s) on features (N, N_f, F_s)."""
    Wf = W.reshape(W.shape[0], -1).float()
    labels = torch.as_tensor(labels)
    correct = 0
    for s in range(0, len(features), chunk):
        correct += (( _flat(features[s:s + chunk]).float() @ Wf.T).argmax(1) == labels[s:s + chunk]).sum().item()
    return correct / len(labels)


def train_probe(train_features: torch.Tensor, train_labels: torch.Tensor, test_features: torch.Tensor,
                test_labels: torch.Tensor, num_labels: int, *, solver: str = DEFAULT_SOLVER,
                hyper: Hyper = PAPER_SGD, epochs: int = 100, max_iter: int = 20, mask: torch.Tensor | None = None,
                W0: torch.Tensor | None = None, seed: int = 0, progress: bool = True) -> Probe:
    """Train the FC layer (no bias) from a tap's features to ``num_labels`` outputs.

    ``epochs`` applies to ``"sgd"``, ``max_iter`` (function evaluations) to ``"lbfgs"``.
    ``mask`` (N_l, N_f, F_s) Boolean keeps only the True weights (AFCC); ``W0`` starts from
    given weights (else PyTorch's default init from ``seed``).
    """
    if solver not in SOLVERS:
        raise ValueError(f"unknown probe solver {solver!r}: choose one of {SOLVERS}")
    shape = (num_labels, *train_features.shape[1:])
    X = _flat(train_features).float()  # one float32 copy in memory: both solvers sweep it many times
    y = torch.as_tensor(train_labels)
    torch.manual_seed(seed)
    layer = nn.Linear(X.shape[1], num_labels, bias=False)
    if W0 is not None:
        layer.weight.data.copy_(W0.reshape(num_labels, -1))
    m = None if mask is None else mask.reshape(num_labels, -1).float()
    if m is not None:
        layer.weight.data.mul_(m)
    t0 = time.perf_counter()
    if solver == "sgd":
        steps, loss = _sgd(layer, X, y, hyper, epochs, m, seed, progress)
    else:
        steps, loss = _lbfgs(layer, X, y, hyper.alpha, max_iter, m)
    seconds = time.perf_counter() - t0
    W = layer.weight.detach().reshape(shape).clone()
    if mask is not None and bool((W[~mask] != 0).any()):
        raise AssertionError("AFCC: a masked FC weight left zero during retraining")
    return Probe(W, accuracy(W, train_features, y), accuracy(W, test_features, test_labels), solver, seconds,
                 steps, loss)


def _sgd(layer, X, y, h: Hyper, epochs, m, seed, progress):
    opt = torch.optim.SGD(layer.parameters(), lr=h.eta, momentum=h.mu, weight_decay=h.alpha, nesterov=True)
    g = torch.Generator().manual_seed(seed)
    steps, loss = 0, float("nan")
    for epoch in tqdm(range(1, epochs + 1), desc="probe sgd", disable=not progress, leave=False, mininterval=2.0):
        for group in opt.param_groups:
            group["lr"] = h.eta * h.factor(epoch)
        total = 0.0
        for idx in torch.randperm(len(X), generator=g).split(100):
            out = layer(X[idx])
            batch_loss = nn.functional.cross_entropy(out, y[idx])
            opt.zero_grad(set_to_none=True)
            batch_loss.backward()
            if m is not None:
                layer.weight.grad.mul_(m)
            opt.step()
            if m is not None:  # weight decay and momentum never touch a masked weight, but stay exact
                layer.weight.data.mul_(m)
            total += batch_loss.item() * len(idx)
            steps += 1
        loss = total / len(X)
    return steps, loss


def _lbfgs(layer, X, y, alpha, max_iter, m):
    opt = torch.optim.LBFGS(layer.parameters(), lr=1, max_iter=max_iter, history_size=20,
                            line_search_fn="strong_wolfe", tolerance_grad=1e-9, tolerance_change=1e-12)
    evals = 0

    def closure():
        nonlocal evals
        evals += 1
        opt.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(layer(X), y) + 0.5 * alpha * layer.weight.pow(2).sum()
        loss.backward()
        if m is not None:
            layer.weight.grad.mul_(m)
        return loss

    opt.step(closure)
    with torch.no_grad():
        loss = nn.functional.cross_entropy(layer(X), y) + 0.5 * alpha * layer.weight.pow(2).sum()
    return evals, float(loss)


def layer_probes(run, data, *, solver: str = DEFAULT_SOLVER, hyper: Hyper | None = None, epochs: int = 100,
                 max_iter: int = 20, taps: list | None = None, seed: int = 0,
                 progress: bool = True) -> dict[str, Probe]:
    """The FC layer of each of ``taps`` (default: all) of a cached run, trained on its training-set features.

    Each tap's probe is cached on its own, keyed like the runs: the run, the data, the tap, the
    solver and its settings, and this module's source; features are extracted for all of the
    model's taps in one pass (and cached), whichever taps are asked for.
    """
    from . import probes as this, taps as taps_mod
    from .profiles import probe_hyper
    from .runs import cache_root, code_version, key_of, load_torch, locked, save_torch

    hyper = hyper or probe_hyper(run.config.model)
    taps = taps or run.model.taps
    code = code_version(this, taps_mod)

    def path_of(t):
        key = key_of(dict(run=run.key, data=data.fingerprint(), solver=solver, hyper=str(hyper), epochs=epochs,
                          max_iter=max_iter, tap=t.name, seed=seed, code=code))
        return cache_root() / "probes" / f"{key}.pt"

    out = {}
    for t in taps:
        with locked(path_of(t).parent):
            if path_of(t).is_file():
                out[t.name] = Probe(**load_torch(path_of(t), "probe"))
    todo = [t for t in taps if t.name not in out]
    if todo:
        train_f, train_y = taps_mod.run_features(run, data, "train", progress=progress)
        test_f, test_y = taps_mod.run_features(run, data, "test", progress=progress)
        for t in tqdm(todo, desc="probes", disable=not progress, leave=False):
            p = train_probe(train_f[t.name], train_y, test_f[t.name], test_y, data.num_classes, solver=solver,
                            hyper=hyper, epochs=epochs, max_iter=max_iter, seed=seed, progress=progress)
            with locked(path_of(t).parent):
                save_torch(vars(p), path_of(t))
            out[t.name] = p
    return {t.name: out[t.name] for t in taps}
