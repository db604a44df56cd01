"""Stage 2 of the method: the FC layer from a tap to the N_l outputs (DESIGN step 1).

The layers below the tap are frozen; a bias-free linear layer ``W[j, f, s]`` is trained on the
training-set features with the loss ``mean CE + α/2 |W|²`` (α = 1e-5, *mechanism*
Supplementary) and its test accuracy is the layer's accuracy (*mechanism* Fig. 2, *universal*
Tables 1-6). The training features are those of augmented images, as the papers' text says ("In all
simulations, data augmentation was used"): ``copies`` augmented copies of the training set through the frozen
layers (:mod:`helpers.train.augmented`), epoch e reading copy (e - 1) mod ``copies``; ``copies=0`` reads the
cached features of the unaugmented images (the earlier default).

The L2 convention (:func:`weight_decay`). The papers give "α (regularization L2)" with mini-batches of 100
and "We used Pytorch for all the programming processes"; α is applied here as PyTorch's ``weight_decay`` on
the mean loss of the mini-batch (``"mean"``, the default). Added once to a loss *summed* over the mini-batch
(``"sum"``), the same α weighs 100 times less against the data: ``weight_decay`` α / 100, not 100 α (tested).
The papers' own numbers point to the mean: their learning rates (the probe's η = 0.1, the networks' 0.028,
both with μ = 0.975) are rates for a mean loss, 100 times too large for a summed one, and in a PyTorch
trainer of the mean loss α is ``weight_decay``, of which the networks' 1.5e-3 and the FC layers' 1.2e-3 and
1.35e-3 are ordinary values. The group's code for a later paper (Shutshutnunte/AFCC) trains its FC layers
with ``torch.optim.SGD(weight_decay=1e-3)`` on the mean loss: the same convention, another value, another
paper (indicative only). ``bench/probe_protocol.py`` measures n, N_c, C_s, SNR_E and the profile-weight
alignment under both readings and under that value, with and without augmentation, at 20-200 epochs
(bench/README.md, with the argument for the default).

Everything after this step (field matrices, n, N_c, C_s, SNR, AFCC) reads ``W`` itself, so the probe must
be the papers' solution, not only reach the papers' accuracy. Two solvers of the same loss:

- ``"sgd"`` (the default, every profile): the papers' recipe (*mechanism* Supplementary):
  mini-batches of 100, Nesterov momentum, η = 0.1, μ = 0.975, η × 0.6 every 20 epochs (AVGG-16:
  η = 0.02, μ = 0.995, α = 1e-8; :func:`helpers.train.profiles.probe_hyper`), 100 epochs
  (the papers do not give the count). The step is written out (the softmax gradient in closed
  form), the same update as ``torch.optim.SGD`` (tested) at 2-3.5 times its speed: 100 epochs
  over 50,000 training features take 6-100 s a tap of the ``cpu`` networks here.
- ``"lbfgs"``: full-batch L-BFGS (strong Wolfe line search) run to the loss's minimum: it stops
  when the largest gradient element falls below ``tol`` (:data:`LBFGS_TOL`), or when the loss stops
  changing in float32, or after ``max_iter`` iterations.

``bench/probe_solvers.py`` compares them at every tap of the ``cpu`` VGG-16 and VGG-6 (bench/README.md):
the minimum's n, N_c, C_s lie within about 10% of the papers' SGD, which at the wide taps stops far
above the minimum (layer 2: training loss 1.14 against 0.44) and is there faster than L-BFGS. The
earlier default, L-BFGS stopped after 20 iterations, had the same test accuracy but 20-40% less
noise and up to 50% larger clusters.

Every probe records how it stopped (:attr:`Probe.stop`, steps, final loss, largest gradient element)
and the device it was trained on, and the pages show it. Both solvers run on ``device`` (default: the
run's, :func:`helpers.train.loop.pick_device`: CUDA when present): the features are copied there once as
float32, the mini-batch order still comes from a CPU generator (the same order on any device), and the
weights come back to the CPU. A ``mask`` (AFCC) holds the masked weights at zero throughout training.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, replace
from typing import Callable, Sequence

import torch
from torch import nn
from tqdm import tqdm

from helpers.infra.cache import code_version, key_of, load_torch, save_torch
from helpers.infra.locks import locked
from helpers.infra.paths import cache_root
from helpers.train import augmented
from helpers.train import taps as taps_mod
from helpers.train.loop import Hyper, pick_device
from helpers.train.profiles import probe_hyper

PAPER_SGD = Hyper(0.1, 0.975, 1e-5, 0.6, 20)
SOLVERS = ("sgd", "lbfgs")
DEFAULT_SOLVER = "sgd"
SGD_EPOCHS = 100
# L-BFGS stops when the largest gradient element is below LBFGS_TOL. In float32, 1e-4 is reached at every tap
# of the cpu networks but VGG-6's first; 1e-5 mostly is not (the loss stops changing first).
# bench/probe_solvers.py
LBFGS_TOL = 1e-4
LBFGS_MAX_ITER = 2000
BATCH = 100  # the papers' mini-batch
L2_CONVENTIONS = ("mean", "sum")
DEFAULT_L2 = "mean"


def weight_decay(alpha: float, convention: str = DEFAULT_L2, batch: int = BATCH) -> float:
    """The PyTorch ``weight_decay`` (on the mean loss over a mini-batch) that gives the papers' "α
    (regularization L2)" under ``convention`` (*mechanism* Supplementary, "Hyper-parameters").

    ``"mean"``: α/2 |W|² added to the mean cross-entropy of the mini-batch: ``weight_decay`` α. ``"sum"``: α/2
    |W|² added once to the cross-entropy *summed* over the ``batch`` inputs: the gradient is ``batch`` times
    (mean gradient + α / ``batch`` W), the same direction as ``weight_decay`` α / ``batch`` with a learning
    rate ``batch`` times larger (tested step for step)."""
    if convention not in L2_CONVENTIONS:
        raise ValueError(f"unknown L2 convention {convention!r}: choose one of {L2_CONVENTIONS}")
    return float(alpha) if convention == "mean" else float(alpha) / batch


@dataclass
class Probe:
    """A trained FC layer from a tap: weights (N_l, N_f, F_s), its accuracies and how its solver stopped."""

    W: torch.Tensor
    train_acc: float
    test_acc: float
    solver: str
    seconds: float
    steps: int
    loss: float
    grad_norm: float = float("nan")  # largest |element| of the loss's gradient at W (masked weights left out)
    stop: str = ""  # why the solver stopped
    device: str = "cpu"  # where it was trained (probes cached before this field: the CPU)

    def __repr__(self) -> str:
        return (
            f"Probe(W={tuple(self.W.shape)}, test_acc={self.test_acc:.4f}, "
            f"train_acc={self.train_acc:.4f}, solver={self.solver}, {self.steps} steps, "
            f"loss={self.loss:.4f}, |grad|max={self.grad_norm:.1e}, "
            f"stop={self.stop!r}, {self.seconds:.1f} s on {self.device})"
        )

    def record(self) -> dict:
        """How the probe was trained and stopped, for a page's table."""
        return dict(
            solver=self.solver,
            steps=self.steps,
            loss=self.loss,
            grad_max=self.grad_norm,
            stop=self.stop,
            seconds=self.seconds,
            device=self.device,
            train_acc=self.train_acc,
            test_acc=self.test_acc,
        )


def _flat(features: torch.Tensor) -> torch.Tensor:
    return features.reshape(len(features), -1)


@torch.no_grad()
def predictions(W: torch.Tensor, features: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
    """The label the bias-free FC layer ``W`` (N_l, N_f, F_s) predicts for each of the features (N, N_f, F_s),
    computed ``chunk`` inputs at a time on ``W``'s device."""
    Wf = W.reshape(W.shape[0], -1).float()
    return torch.cat(
        [
            (_flat(features[s : s + chunk]).to(W.device).float() @ Wf.T).argmax(1)
            for s in range(0, len(features), chunk)
        ]
    )


def accuracy(W: torch.Tensor, features: torch.Tensor, labels: torch.Tensor, chunk: int = 4096) -> float:
    """Accuracy of the bias-free FC layer ``W`` (N_l, N_f, F_s) on features (N, N_f, F_s), on ``W``'s
    device."""
    labels = torch.as_tensor(labels).to(W.device)
    return (predictions(W, features, chunk) == labels).sum().item() / len(labels)


def loss_and_grad(
    W: torch.Tensor, X: torch.Tensor, y: torch.Tensor, alpha: float, mask: torch.Tensor | None = None
) -> tuple[float, torch.Tensor]:
    """The probe's loss ``mean CE + α/2 |W|²`` at ``W`` (N_l, D) on flat features ``X`` (N, D), and its
    gradient (zero at masked weights)."""
    W = W.detach().requires_grad_(True)
    loss = nn.functional.cross_entropy(X @ W.T, y) + 0.5 * alpha * W.pow(2).sum()
    (grad,) = torch.autograd.grad(loss, W)
    return float(loss.detach()), grad if mask is None else grad * mask


def train_probe(
    train_features: torch.Tensor,
    train_labels: torch.Tensor,
    test_features: torch.Tensor,
    test_labels: torch.Tensor,
    num_labels: int,
    *,
    solver: str = DEFAULT_SOLVER,
    hyper: Hyper = PAPER_SGD,
    epochs: int = SGD_EPOCHS,
    max_iter: int = LBFGS_MAX_ITER,
    tol: float = LBFGS_TOL,
    mask: torch.Tensor | None = None,
    W0: torch.Tensor | None = None,
    seed: int = 0,
    progress: bool = True,
    device: str | torch.device | None = None,
    train_copies: Sequence[torch.Tensor] = (),
    on_epoch: Callable[[int, torch.Tensor], None] | None = None,
) -> Probe:
    """Train the FC layer (no bias) from a tap's features to ``num_labels`` outputs, on ``device`` (default:
    :func:`~helpers.train.loop.pick_device`); the returned weights are on the CPU. ``epochs`` applies to
    ``"sgd"``; ``max_iter`` and ``tol`` (largest gradient element) to ``"lbfgs"``. ``mask`` (N_l, N_f, F_s)
    Boolean keeps only the True weights (AFCC); ``W0`` starts from given weights (else PyTorch's default init
    from ``seed``). ``train_copies``: features of augmented copies of the training inputs, in the order of
    ``train_labels`` (:mod:`helpers.train.augmented`): the SGD's epoch e reads copy (e - 1) mod their number,
    L-BFGS all of them at once; the reported loss and training accuracy stay those of ``train_features``.
    ``on_epoch(epoch, W)`` is called after each SGD epoch with the flat weights (a budget study keeps
    them)."""
    if solver not in SOLVERS:
        raise ValueError(f"unknown probe solver {solver!r}: choose one of {SOLVERS}")
    dev = pick_device(device)
    shape = (num_labels, *train_features.shape[1:])
    # one float32 copy on the device: both solvers sweep it many times
    X = _flat(train_features).to(dev).float()
    y = torch.as_tensor(train_labels).to(dev)
    torch.manual_seed(seed)
    W = nn.Linear(X.shape[1], num_labels, bias=False).weight.detach().clone().to(dev)  # drawn on the CPU
    if W0 is not None:
        W.copy_(W0.reshape(num_labels, -1))
    m = None if mask is None else mask.reshape(num_labels, -1).to(dev).float()
    if m is not None:
        W.mul_(m)
    t0 = time.perf_counter()
    if solver == "lbfgs" and W0 is None and m is None:
        W -= W.mean(0)  # the minimum has no common part: CE ignores it and α pulls it to zero (see _lbfgs)
    copies = [_flat(c) for c in train_copies]
    if solver == "sgd":
        steps, evals = _sgd(W, X, copies, y, hyper, epochs, m, seed, progress, on_epoch), 0
    else:
        steps, evals = _lbfgs(W, *_stacked(X, y, copies), hyper.alpha, max_iter, tol, m)
    seconds = time.perf_counter() - t0
    loss, grad = loss_and_grad(W, X, y, hyper.alpha, m)
    gmax = float(grad.abs().max())
    stop = f"{epochs} epochs" if solver == "sgd" else _lbfgs_stop(gmax, tol, steps, evals, max_iter)
    W = W.reshape(shape)
    if mask is not None and bool((W[~mask.to(dev)] != 0).any()):
        raise AssertionError("AFCC: a masked FC weight left zero during retraining")
    train_acc, test_acc = accuracy(W, train_features, train_labels), accuracy(W, test_features, test_labels)
    return Probe(W.cpu(), train_acc, test_acc, solver, seconds, steps, loss, gmax, stop, str(dev))


def _stacked(X: torch.Tensor, y: torch.Tensor, copies: list) -> tuple[torch.Tensor, torch.Tensor]:
    """The training set L-BFGS minimises the loss on: every augmented copy at once, else ``X``."""
    if not copies:
        return X, y
    return torch.cat([c.to(X.device).float() for c in copies]), y.repeat(len(copies))


def _lbfgs_stop(gmax: float, tol: float, steps: int, evals: int, max_iter: int) -> str:
    """Why L-BFGS stopped, in words."""
    if gmax <= tol:
        return f"converged: max |grad| {gmax:.1e} <= {tol:g}"
    if steps >= max_iter or evals >= 2 * max_iter:
        return f"max_iter {max_iter} reached: max |grad| {gmax:.1e} > {tol:g}"
    return f"loss stopped changing in float32: max |grad| {gmax:.1e} > {tol:g}"


@torch.no_grad()
def _sgd(W, X, copies, y, h: Hyper, epochs, m, seed, progress, on_epoch=None) -> int:
    """The papers' SGD on ``W`` in place: mini-batches of 100, Nesterov momentum, L2 ``α``, η × q every Δt
    epochs; epoch e on ``copies[(e - 1) % len(copies)]`` (flat, any device and dtype) where there are copies,
    else on ``X``.

    Written out (gradient of the softmax cross-entropy in closed form) so that a step costs two small
    matrix products; the same update as ``torch.optim.SGD(nesterov=True, weight_decay=α)`` (tested), about
    2-3.5 times as fast (bench/probe_solvers.py).
    """
    g = torch.Generator().manual_seed(seed)
    buf = torch.zeros_like(W)
    steps = 0
    for epoch in tqdm(
        range(1, epochs + 1), desc="probe sgd", disable=not progress, leave=False, mininterval=2.0
    ):
        lr = h.eta * h.factor(epoch)
        Xe = copies[(epoch - 1) % len(copies)].to(X.device) if copies else X
        for idx in torch.randperm(len(X), generator=g).to(X.device).split(BATCH):
            # the batch's rows only (a float16 copy is never widened whole); index_select gathers them about
            # twice as fast as Xe[idx] on the CPU (bench/probe_speed.py)
            xb, yb = Xe.index_select(0, idx).float(), y.index_select(0, idx)
            p = torch.softmax(xb @ W.T, 1)
            p[torch.arange(len(idx), device=X.device), yb] -= 1
            grad = (p.T @ xb).div_(len(idx)).add_(W, alpha=h.alpha)
            if m is not None:
                grad.mul_(m)
            buf.mul_(h.mu).add_(grad)
            W.add_(grad.add_(buf, alpha=h.mu), alpha=-lr)
            steps += 1
        if on_epoch is not None:
            on_epoch(epoch, W)
    return steps


def _lbfgs(W, X, y, alpha, max_iter, tol, m) -> tuple[int, int]:
    """Full-batch L-BFGS on ``W`` in place until the largest gradient element is below ``tol``.

    The cross-entropy does not change when the same vector is added to every output's weights, so the
    part of ``W`` common to all outputs (``W.mean(0)``) is set by ``α`` alone, along a direction of
    curvature ``α`` = 1e-5 that no practical gradient tolerance resolves. Its optimum is zero, and
    without a mask the gradient keeps it at zero, so :func:`train_probe` starts from an initialization
    with that part removed: L-BFGS then reaches the loss's unique minimum (tested against Newton's method).
    """
    param = nn.Parameter(W)  # shares W's storage
    opt = torch.optim.LBFGS(
        [param],
        lr=1,
        max_iter=max_iter,
        max_eval=2 * max_iter,
        history_size=20,
        line_search_fn="strong_wolfe",
        tolerance_grad=tol,
        tolerance_change=1e-12,
    )

    def closure():
        opt.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(X @ param.T, y) + 0.5 * alpha * param.pow(2).sum()
        loss.backward()
        if m is not None:
            param.grad.mul_(m)
        return loss

    opt.step(closure)
    state = opt.state[param]
    return int(state.get("n_iter", 0)), int(state.get("func_evals", 0))


def probe_path(run, data, tap: str, *, solver: str, hyper: Hyper, seed: int, **settings):
    """Where the probe of ``tap`` of a cached run is cached: keyed by the run, the data, the tap, the solver
    and its settings, and the source of this module, of the taps and of the augmented copies."""
    code = code_version(sys.modules[__name__], taps_mod, augmented)
    key = key_of(
        dict(
            run=run.key,
            data=data.fingerprint(),
            solver=solver,
            hyper=str(hyper),
            tap=tap,
            seed=seed,
            code=code,
            **settings,
        )
    )
    return cache_root() / "probes" / f"{key}.pt"


def layer_probes(
    run,
    data,
    *,
    solver: str = DEFAULT_SOLVER,
    hyper: Hyper | None = None,
    epochs: int = SGD_EPOCHS,
    max_iter: int = LBFGS_MAX_ITER,
    tol: float = LBFGS_TOL,
    taps: list | None = None,
    seed: int = 0,
    progress: bool = True,
    device: str | None = None,
    copies: int = augmented.COPIES,
    l2: str = DEFAULT_L2,
) -> dict[str, Probe]:
    """The FC layer of each of ``taps`` (default: all) of a cached run, trained on the features of ``copies``
    augmented copies of its training set (none: its cached unaugmented features), with the papers' α read
    under the L2 convention ``l2`` (:func:`weight_decay`; it applies to ``hyper`` too).

    Each tap's probe is cached on its own (:func:`probe_path`) under a lock of its own, held while it is read
    or trained (another process wanting it waits and reads it); once a probe needs training, features are
    extracted for all of the model's taps in one pass (cached), augmented copies for the asked taps.
    """
    hyper = hyper or probe_hyper(run.config.model)
    hyper = replace(hyper, alpha=weight_decay(hyper.alpha, l2))
    taps = taps or run.model.taps
    settings = dict(epochs=epochs) if solver == "sgd" else dict(max_iter=max_iter, tol=tol)
    settings.update(copies=copies, l2=l2)
    features = {}

    def fit(t) -> Probe:
        for split in ("train", "test"):
            if split not in features:
                features[split] = taps_mod.run_features(run, data, split, progress=progress, device=device)
        if copies and "copies" not in features:
            features["copies"] = augmented.run_copies(
                run, data, copies, taps, seed=seed, device=device, progress=progress
            )
        (train_f, train_y), (test_f, test_y) = features["train"], features["test"]
        kw = dict(solver=solver, hyper=hyper, epochs=epochs, max_iter=max_iter, tol=tol, seed=seed)
        return train_probe(
            *(train_f[t.name], train_y, test_f[t.name], test_y, data.num_classes),
            **kw,
            progress=progress,
            device=device,
            train_copies=[c[t.name] for c in features.get("copies", [])],
        )

    out = {}
    for t in tqdm(taps, desc="probes", disable=not progress, leave=False):
        path = probe_path(run, data, t.name, solver=solver, hyper=hyper, seed=seed, **settings)
        with locked(path.parent, name=path.stem) as held:
            if path.is_file():
                out[t.name] = Probe(**load_torch(path, "probe"))
                continue
            out[t.name] = fit(t)
            held.check()
            save_torch(vars(out[t.name]), path)
    return out
