"""Stage 1 of the method: train the whole network (*mechanism* Supplementary, "Optimization").

Cross-entropy, SGD with Nesterov momentum and L2 regularization (PyTorch ``weight_decay``),
mini-batches of 100, learning rate multiplied by q every Δt epochs: (q, Δt). The papers
give the conv layers and the FC layers their own (η, μ, α, schedule), so the optimizer has
two parameter groups, ``conv`` (``model.features``) and ``fc`` (everything else).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import torch
from torch import nn
from tqdm import tqdm

from helpers.train.data import ImageData, batches


@dataclass(frozen=True)
class Hyper:
    """(η, μ, α) and the step decay (q, Δt) of one parameter group.

    From epoch ``switch`` on the factor becomes ``q_late`` (VGG-6, AVGG-16); ``offset``
    shifts the decay epochs (AVGG-16's FC layers decay "10 epochs out of phase").
    """

    eta: float
    mu: float
    alpha: float
    q: float = 0.6
    dt: int = 20
    q_late: float | None = None
    switch: int | None = None
    offset: int = 0

    def factor(self, epoch: int) -> float:
        """Learning-rate multiplier during ``epoch`` (counted from 1): q per boundary passed."""
        f, b = 1.0, self.dt + self.offset
        while b < epoch:
            late = self.q_late is not None and self.switch is not None and b > self.switch
            f *= self.q_late if late else self.q
            b += self.dt
        return f


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a trained network (and so its cache key)."""

    model: str
    dataset: str = "cifar10"
    K: int | None = None
    label_draw: int | None = (
        None  # K labels drawn with this seed (helpers.train.data.drawn_labels); None: 0..K-1
    )
    n_train: int | None = None
    n_test: int | None = None
    width: float = 1.0
    batch_norm: bool = True
    input_size: int | None = None
    pretrained: bool = False
    epochs: int = 200
    batch_size: int = 100
    seed: int = 0
    conv: Hyper = field(default_factory=lambda: Hyper(0.028, 0.975, 1.5e-3))
    fc: Hyper = field(default_factory=lambda: Hyper(0.028, 0.975, 1.5e-3))
    channels_last: bool = True
    blocks: tuple[tuple[int, int], ...] = ()  # EfficientNet-B0 stages cut short: (stage, layers kept)
    # the first this many modules of model.features (an EfficientNet's stages) held at their pretrained
    # weights, batch norm's statistics included: transfer learning of the later stages
    # (bench/transfer_recipe.py)
    frozen: int = 0
    test_every: int = 1  # test after every this many epochs and after the last; 0: after the last only
    # "step": eta x q every dt epochs (the papers'); "linear": eta to 0 over the epochs; "onecycle": per step,
    # eta/10 up to eta over the first 20% of the steps, then down to 0 (bench/train_tricks.py)
    schedule: str = "step"
    label_smoothing: float = 0.0  # of the training loss (the papers': 0); used only by bench/vgg16_target.py
    # also record the flip-averaged test accuracy (:func:`evaluate`); bench/vgg16_target.py
    test_flip: bool = False

    # knobs that do not change the trained weights, so not part of a run's cache key
    NOT_IN_KEY = ("test_every", "test_flip")
    SCHEDULES = ("step", "linear", "onecycle")
    WARMUP = 0.2  # onecycle: the fraction of the steps over which eta rises

    def __post_init__(self):
        object.__setattr__(self, "blocks", tuple(tuple(int(v) for v in b) for b in self.blocks))
        if self.schedule not in self.SCHEDULES:
            raise ValueError(f"unknown schedule {self.schedule!r}: choose one of {', '.join(self.SCHEDULES)}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must lie in [0, 1), got {self.label_smoothing}")
        if not isinstance(self.frozen, int) or self.frozen < 0:
            raise ValueError(f"frozen must be a number of stages >= 0, got {self.frozen!r}")
        if self.frozen and not self.pretrained:
            raise ValueError("frozen stages hold pretrained weights: set pretrained=True, or frozen=0")

    def to_dict(self) -> dict:
        return asdict(self)

    def factor(self, h: Hyper, epoch: int) -> float:
        """Learning-rate multiplier of parameter group ``h`` during ``epoch`` (counted from 1).

        ``step``: the papers' decay, ``h.factor(epoch)``. ``linear``: ``1 - (epoch - 1) / epochs``, from eta
        down to eta / epochs in the last epoch (the budgeted-training schedule; used only by
        ``bench/vgg16_target.py``).
        """
        return h.factor(epoch) if self.schedule == "step" else 1 - (epoch - 1) / self.epochs

    def cycle(self, done: float) -> float:
        """The ``onecycle`` multiplier after ``done`` (0 to 1) of the training's steps: a triangle from 0.1 up
        to 1 at :attr:`WARMUP`, then linearly down to 0 (Smith's one-cycle, as in Page's DAWNBench ResNets and
        airbench; ``bench/train_tricks.py`` measured it against the papers' step decay)."""
        if done < self.WARMUP:
            return 0.1 + 0.9 * done / self.WARMUP
        return max(0.0, (1 - done) / (1 - self.WARMUP))

    def key_dict(self) -> dict:
        """:meth:`to_dict` without the knobs that leave the weights unchanged (the run cache's key)."""
        d = self.to_dict()
        for k in self.NOT_IN_KEY:
            d.pop(k, None)
        return d

    def tests_after(self, epoch: int) -> bool:
        """Whether the test set is evaluated after ``epoch`` (always after the last)."""
        return epoch == self.epochs or (self.test_every > 0 and epoch % self.test_every == 0)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        d = dict(d)
        d["conv"], d["fc"] = Hyper(**d["conv"]), Hyper(**d["fc"])
        return cls(**d)


def pick_device(device: str | None = None) -> torch.device:
    """``device``, else ``$MECH_DEVICE``, else CUDA when present, else the CPU."""
    device = device or os.environ.get("MECH_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def random_states() -> dict:
    """Every random state a run draws from: torch (CPU and every CUDA device), NumPy and Python's
    ``random``."""
    import random

    import numpy as np

    out = dict(rng=torch.get_rng_state(), numpy=np.random.get_state(), python=random.getstate())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        out["cuda"] = torch.cuda.get_rng_state_all()
    return out


def set_random_states(state: dict) -> None:
    """Restore :func:`random_states` (a checkpoint from before they were all saved holds ``rng`` only)."""
    import random

    import numpy as np

    torch.set_rng_state(state["rng"])
    if "numpy" in state:
        np.random.set_state(state["numpy"])
    if "python" in state:
        random.setstate(state["python"])
    if (
        "cuda" in state and torch.cuda.is_available()
    ):  # a job resumed on fewer GPUs than it saved: the first ones
        for i, gpu_state in enumerate(state["cuda"][: torch.cuda.device_count()]):  # (a run trains on cuda:0)
            torch.cuda.set_rng_state(gpu_state, i)


def estimate_seconds(
    model: nn.Module,
    data: ImageData,
    cfg: TrainConfig,
    epochs: int | None = None,
    device: torch.device | str = "cpu",
    steps: int = 2,
) -> float:
    """Projected training time: ``steps`` timed mini-batches (after one warm-up) of a copy of ``model`` times
    the batches of ``epochs`` epochs. The run itself is untouched (its random states included)."""
    import copy

    size = cfg.input_size or data.x_train.shape[-1]
    probe = copy.deepcopy(model).to(device).train()
    opt = torch.optim.SGD(probe.parameters(), lr=1e-3)
    x = torch.zeros(min(cfg.batch_size, len(data.y_train)), 3, size, size, device=device)
    y = torch.zeros(len(x), dtype=torch.long, device=device)
    with torch.random.fork_rng(devices=[]):
        for i in range(steps + 1):
            if i == 1:
                t0 = time.perf_counter()
            loss = nn.functional.cross_entropy(probe(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    per_step = (time.perf_counter() - t0) / steps
    return per_step * -(-len(data.y_train) // cfg.batch_size) * (cfg.epochs if epochs is None else epochs)


def frozen_part(model: nn.Module, cfg: TrainConfig) -> nn.Module:
    """The first ``cfg.frozen`` modules of ``model.features``, held fixed while the rest trains (an empty
    ``nn.Sequential`` when none is); a clear error where the model has fewer."""
    if not cfg.frozen:
        return nn.Sequential()
    features = getattr(model, "features", None)
    if not isinstance(features, nn.Sequential) or cfg.frozen >= len(features):
        n = len(features) if isinstance(features, nn.Sequential) else 0
        raise ValueError(f"frozen={cfg.frozen}: {cfg.model} has {n} stages in model.features; freeze fewer")
    return features[: cfg.frozen]


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.SGD:
    """SGD with Nesterov momentum, one parameter group for the conv layers and one for the rest; the
    parameters of the frozen stages (:func:`frozen_part`) in neither, their gradients off."""
    held = {id(p) for p in frozen_part(model, cfg).parameters()}
    for p in frozen_part(model, cfg).parameters():
        p.requires_grad_(False)
    conv = [p for p in model.features.parameters() if id(p) not in held]
    conv_ids = {id(p) for p in model.features.parameters()}
    rest = [p for p in model.parameters() if id(p) not in conv_ids]
    groups = [
        dict(params=conv, lr=cfg.conv.eta, momentum=cfg.conv.mu, weight_decay=cfg.conv.alpha, name="conv"),
        dict(params=rest, lr=cfg.fc.eta, momentum=cfg.fc.mu, weight_decay=cfg.fc.alpha, name="fc"),
    ]
    return torch.optim.SGD(
        [g for g in groups if g["params"]], lr=cfg.conv.eta, momentum=cfg.conv.mu, nesterov=True
    )


def set_epoch_lr(opt: torch.optim.SGD, cfg: TrainConfig, epoch: int, done: float | None = None) -> None:
    """Each group's learning rate during ``epoch``; for the ``onecycle`` schedule, after ``done`` (0 to 1) of
    all the training's steps (set before every step)."""
    for g in opt.param_groups:
        h = cfg.conv if g["name"] == "conv" else cfg.fc
        g["lr"] = h.eta * (cfg.cycle(done or 0.0) if cfg.schedule == "onecycle" else cfg.factor(h, epoch))


@torch.no_grad()
def evaluate(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    size: int | None = None,
    device: torch.device | str = "cpu",
    batch_size: int = 500,
    flip: bool = False,
) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` on uint8 images ``x``.

    ``flip``: the prediction is the mean of the softmax outputs for each image and its mirror image
    (left-right), the test-time augmentation of airbench; the papers report plain predictions.
    """
    model.eval()
    loss, correct = 0.0, 0
    for xb, yb in batches(x, y, batch_size, size=size, device=device):
        out = model(xb).log_softmax(1)
        if flip:
            out = torch.logaddexp(out, model(xb.flip(-1)).log_softmax(1)) - math.log(2)
        loss += nn.functional.nll_loss(out, yb, reduction="sum").item()
        correct += (out.argmax(1) == yb).sum().item()
    return loss / len(y), correct / len(y)


def _resume(model: nn.Module, opt, gen: torch.Generator, state: dict | None) -> tuple[list[dict], int]:
    """Load a checkpoint's model, optimizer, data order and random states; the metrics so far and the epoch
    to start at (1 without a checkpoint)."""
    if state is None:
        return [], 1
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    gen.set_state(state["generator"])
    set_random_states(state)
    return list(state["metrics"]), state["epoch"] + 1


def _train_epoch(model, opt, data: ImageData, cfg: TrainConfig, epoch: int, gen, size, device, progress):
    """One epoch of SGD on augmented mini-batches (the one-cycle rate set per step); ``(loss, accuracy)`` on
    the training set as it was trained."""
    n_batches = -(-len(data.y_train) // cfg.batch_size)
    total, correct, loss_sum = 0, 0, 0.0
    stream = batches(
        data.x_train,
        data.y_train,
        cfg.batch_size,
        shuffle=True,
        augmented=True,
        generator=gen,
        size=size,
        device=device,
    )
    desc = f"{cfg.model} epoch {epoch}/{cfg.epochs}"
    bar = tqdm(stream, total=n_batches, desc=desc, disable=not progress, leave=False, mininterval=2.0)
    for i, (xb, yb) in enumerate(bar):
        if cfg.schedule == "onecycle":
            set_epoch_lr(opt, cfg, epoch, ((epoch - 1) * n_batches + i) / (cfg.epochs * n_batches))
        if cfg.channels_last:
            xb = xb.contiguous(memory_format=torch.channels_last)
        out = model(xb)
        loss = nn.functional.cross_entropy(out, yb, label_smoothing=cfg.label_smoothing)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        total += len(yb)
        loss_sum += loss.item() * len(yb)
        correct += (out.argmax(1) == yb).sum().item()
        bar.set_postfix(loss=f"{loss_sum / total:.3f}", refresh=False)
    return loss_sum / total, correct / total


def _tested(model, data: ImageData, cfg: TrainConfig, epoch: int, size, device) -> dict:
    """The test loss and accuracy after ``epoch`` where the config tests then (``None`` otherwise), and the
    accuracy on flipped images where it asks for it."""
    if not cfg.tests_after(epoch):
        return dict(test_loss=None, test_acc=None)
    test_loss, test_acc = evaluate(model, data.x_test, data.y_test, size=size, device=device)
    out = dict(test_loss=test_loss, test_acc=test_acc)
    if cfg.test_flip:
        _, out["test_acc_flip"] = evaluate(
            model, data.x_test, data.y_test, size=size, device=device, flip=True
        )
    return out


def train(
    model: nn.Module,
    data: ImageData,
    cfg: TrainConfig,
    *,
    device: torch.device | str = "cpu",
    state: dict | None = None,
    on_epoch: Callable[[dict], None] | None = None,
    progress: bool = True,
) -> list[dict]:
    """Train ``model`` on ``data`` for ``cfg.epochs`` epochs; returns per-epoch metrics.

    ``state`` (from a checkpoint) resumes after its last finished epoch: model, optimizer,
    data order and augmentation continue exactly as an uninterrupted run would.
    ``on_epoch(state)`` receives the state after every epoch (the run cache saves it).
    """
    device = torch.device(device)
    model.to(device)
    if cfg.channels_last:
        model.to(memory_format=torch.channels_last)
    opt = make_optimizer(model, cfg)
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    metrics, start = _resume(model, opt, gen, state)
    size = cfg.input_size if cfg.input_size and cfg.input_size != data.x_train.shape[-1] else None
    for epoch in range(start, cfg.epochs + 1):
        set_epoch_lr(opt, cfg, epoch)
        model.train()
        frozen_part(model, cfg).eval()  # batch norm's statistics held with the weights
        t0 = time.perf_counter()
        train_loss, train_acc = _train_epoch(model, opt, data, cfg, epoch, gen, size, device, progress)
        seconds = time.perf_counter() - t0
        lr_conv = opt.param_groups[0]["lr"]
        m = dict(epoch=epoch, lr_conv=lr_conv, train_loss=train_loss, train_acc=train_acc)
        tested = _tested(model, data, cfg, epoch, size, device)
        m.update(
            test_loss=tested.pop("test_loss"), test_acc=tested.pop("test_acc"), seconds=seconds, **tested
        )
        metrics.append(m)
        if progress:
            test = "" if m["test_acc"] is None else f" test {m['test_acc']:.3f}"
            tqdm.write(
                f"{cfg.model} epoch {epoch}/{cfg.epochs}: loss {train_loss:.3f} "
                f"train {train_acc:.3f}{test} ({seconds:.0f} s)"
            )
        if on_epoch is not None:
            checkpoint = dict(epoch=epoch, model=model.state_dict(), optimizer=opt.state_dict())
            on_epoch(dict(checkpoint, generator=gen.get_state(), metrics=metrics, **random_states()))
    model.eval()
    return metrics
