"""The whole network retrained with its output layer's pruned weights held at zero (*universal*, AFCC on
EfficientNet-B0).

*universal*, "Applying filter cluster connections (AFCC)": on EfficientNet-B0's stage 9 "All of these weights
that did not belong to a cluster in a specific filter were set to zero ... After retraining the entire network
with the same parameters, while including the 4900 non-zeroed weights only, the accuracy increased to ~0.873".
The mask is AFCC's (:func:`helpers.method.afcc.afcc_mask`), or a random one for the control.

:func:`retrain_masked` copies a trained network, puts the given weights (the FC layer whose clusters chose the
mask) in its output layer, and trains it as its run was trained: :func:`helpers.train.loop.train` with the
run's config (optimizer, learning rates, schedule over the new epochs, augmentation, the frozen stages held
with their batch-norm statistics), for ``epochs`` epochs. The output layer's weight is reparametrized as
``W * mask`` (:mod:`torch.nn.utils.parametrize`), so the pruned weights are zero in every forward pass and
get no gradient; after training the product is written back, so they are exactly zero.
:func:`cached_retraining` caches its accuracies, keyed by the run, the data, the mask, the starting weights,
the epochs, the seed and this module's code, written atomically under a lock of its own.
"""

from __future__ import annotations

import copy
import hashlib
import json
import sys
from dataclasses import replace

import torch
from torch import nn
from torch.nn.utils import parametrize

from helpers.infra.cache import CorruptCacheError, code_version, key_of, save_json
from helpers.infra.locks import locked
from helpers.infra.paths import cache_root
from helpers.train.loop import TrainConfig, pick_device, train
from helpers.train.models import output_layer


class HeldAtZero(nn.Module):
    """The parametrization ``W -> W * mask``: the weights where ``mask`` is False are zero in the forward pass
    and receive no gradient."""

    def __init__(self, mask: torch.Tensor):
        super().__init__()
        self.register_buffer("mask", mask)

    def forward(self, W: torch.Tensor) -> torch.Tensor:
        return W * self.mask


def retrain_masked(
    model: nn.Module,
    data,
    cfg: TrainConfig,
    mask: torch.Tensor,
    *,
    epochs: int,
    W0: torch.Tensor | None = None,
    seed: int = 0,
    device: str | None = None,
    progress: bool = False,
) -> tuple[nn.Module, list[dict]]:
    """A copy of ``model`` trained on ``data`` by ``cfg`` (the run's recipe) for ``epochs`` epochs with the
    output layer's weights outside ``mask`` (Boolean, as many elements as that weight, e.g. AFCC's (N_l, N_f,
    F_s)) held at zero; the output layer starts from ``W0`` where given (else the model's own). Returns the
    retrained copy (on the CPU, in eval mode) and the loop's per-epoch metrics (the test accuracy after the
    last). ``model`` is left untouched."""
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be an integer >= 1, got {epochs!r}")
    net = copy.deepcopy(model).cpu()
    out = output_layer(net)
    if mask.numel() != out.weight.numel():
        raise ValueError(
            f"the mask has {mask.numel()} elements, the output layer {tuple(out.weight.shape)}: "
            "a mask of the FC layer that feeds the output directly is needed"
        )
    with torch.no_grad():
        if W0 is not None:
            out.weight.copy_(W0.reshape(out.weight.shape))
    parametrize.register_parametrization(
        out, "weight", HeldAtZero(mask.reshape(out.weight.shape).to(out.weight.dtype))
    )
    torch.manual_seed(seed)  # dropout and augmentation; the data order is the run's (cfg.seed)
    metrics = train(
        net, data, replace(cfg, epochs=epochs, test_every=0), device=pick_device(device), progress=progress
    )
    parametrize.remove_parametrizations(out, "weight", leave_parametrized=True)
    if bool((out.weight.detach().reshape(mask.shape)[~mask.bool()] != 0).any()):
        raise AssertionError("a masked output weight left zero during retraining")
    return net.cpu().eval(), metrics


def digest(t: torch.Tensor | None) -> str | None:
    """A short hash of a tensor's shape, type and values (for cache keys)."""
    if t is None:
        return None
    t = t.detach().cpu().contiguous()
    h = hashlib.sha256(f"{tuple(t.shape)}|{t.dtype}".encode())
    h.update(t.numpy().tobytes())
    return h.hexdigest()[:16]


def retraining_path(run, data, mask: torch.Tensor, *, epochs: int, W0=None, seed: int = 0):
    """Where :func:`cached_retraining` keeps its result: keyed by the run, the data, the mask, the starting
    weights, the epochs, the seed and the code of this module."""
    key = key_of(
        dict(
            run=run.key,
            data=data.fingerprint(),
            mask=digest(mask.bool()),
            W0=digest(W0),
            epochs=epochs,
            seed=seed,
            code=code_version(sys.modules[__name__]),
        )
    )
    return cache_root() / "retrained" / f"{key}.json"


def cached_retraining(
    run, data, mask: torch.Tensor, *, epochs: int, W0=None, seed: int = 0, device=None, progress=False
) -> dict:
    """:func:`retrain_masked` of a cached run (its model and config) on ``data``, its result cached
    (:func:`retraining_path`): the test and training accuracy after the last epoch, the training's seconds,
    the epochs, the weights kept and the device."""
    path = retraining_path(run, data, mask, epochs=epochs, W0=W0, seed=seed)
    with locked(path.parent, name=path.stem) as held:
        if path.is_file():
            try:
                return json.loads(path.read_text())
            except ValueError as err:
                raise CorruptCacheError(f"{path} is corrupt ({err}); delete it to retrain") from err
        _, metrics = retrain_masked(
            run.model,
            data,
            run.config,
            mask,
            epochs=epochs,
            W0=W0,
            seed=seed,
            device=device,
            progress=progress,
        )
        out = dict(
            test_acc=metrics[-1]["test_acc"],
            train_acc=metrics[-1]["train_acc"],
            seconds=sum(m["seconds"] for m in metrics),
            epochs=epochs,
            kept=int(mask.bool().sum()),
            device=str(pick_device(device)),
        )
        held.check()
        save_json(out, path)
    return out
