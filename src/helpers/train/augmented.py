"""The probe's training inputs with the papers' augmentation (DESIGN step 1).

*mechanism* (Supplementary, "Data preprocessing"): "In all simulations, data augmentation was used, derived
from the original images, by random horizontally flipping and translating up to four pixels in each
direction"; and for the FC layer from layer m: "the output of the training set for the m-th layer was used
as a preprocessed dataset to train the FC layer". Read together, the preprocessed training set is one of
augmented images. The group's published code for a later paper (Shutshutnunte/AFCC, ``Train_Network.py``)
does the same: it trains the FC layer from a frozen layer with the augmentation applied to every mini-batch.

Augmenting on the fly would push the 50,000 training images through the frozen layers at every probe epoch
(a hundred forward passes of the training set a network, about an hour on 2 CPU cores). Here ``copies``
augmented copies of the training set go through the frozen layers once, are held in memory as float16, and
probe epoch ``e`` reads copy ``(e - 1) mod copies`` (:func:`helpers.train.probes.train_probe`): the SGD costs
what it costs on unaugmented features, and each image is seen under ``copies`` draws of the augmentation.
``bench/probe_protocol.py`` measures what the number of copies changes. Copy ``c`` is drawn from a generator
of its own (``seed``, ``c``), so the first copies are the same whatever their number. Nothing here is cached
on disk (the last network's are kept in memory): the probes trained on them are
(:func:`helpers.train.probes.layer_probes`).
"""

from __future__ import annotations

import torch
from torch import nn

from helpers.train import data as data_mod
from helpers.train import taps as taps_mod
from helpers.train.loop import pick_device
from helpers.train.models import Tap

COPIES = 4  # augmented copies of the training set a probe reads (bench/probe_protocol.py)
_LAST: dict = {}  # the last network's copies, kept for the probes of other protocols on it (one entry)


def copy_generator(seed: int, copy: int) -> torch.Generator:
    """The generator of augmented copy ``copy``: its own stream, independent of how many copies are drawn."""
    return torch.Generator().manual_seed(1_000_003 * int(seed) + int(copy))


@torch.no_grad()
def augmented_copy(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    copy: int,
    taps: list[Tap] | None = None,
    *,
    seed: int = 0,
    size: int | None = None,
    batch_size: int = 500,
    device: str | torch.device | None = None,
    progress: bool = True,
) -> dict[str, torch.Tensor]:
    """Tap features ``{name: (N, N_f, F_s)}`` (float16, CPU) of one augmented copy of the uint8 images ``x``:
    each image flipped at random and translated by up to 4 pixels (:func:`helpers.train.data.augment`), then
    scaled to [-1, 1] (and resized to ``size``) and passed through the frozen ``model`` in eval mode, in
    channels-last memory order (the same outputs, faster on the CPU). Inputs keep their order, so ``y``
    labels every copy."""
    dev = pick_device(device)
    was = next(model.parameters()).device
    model = model.to(dev, memory_format=torch.channels_last)
    try:
        batches = (
            (xb.contiguous(memory_format=torch.channels_last), yb)
            for xb, yb in data_mod.batches(
                x, y, batch_size, augmented=True, generator=copy_generator(seed, copy), size=size, device=dev
            )
        )
        feats, _ = taps_mod.extract(model, batches, len(y), taps, progress=progress, desc=f"augmented {copy}")
    finally:
        model.to(was, memory_format=torch.contiguous_format)
    return feats


def run_copies(
    run,
    data,
    copies: int = COPIES,
    taps: list[Tap] | None = None,
    *,
    seed: int = 0,
    device: str | None = None,
    progress: bool = True,
) -> list[dict[str, torch.Tensor]]:
    """``copies`` augmented copies of ``data``'s training set through a :class:`~helpers.train.runs.Run`'s
    frozen layers: a list of ``{tap: (N, N_f, F_s)}``, labelled by ``data.y_train`` (DESIGN step 1). The last
    network's copies are kept in memory (one network's at a time): a page that trains its probes under
    several protocols (:mod:`helpers.figures.probe_protocol`) extracts them once."""
    if copies < 1:
        raise ValueError(f"copies must be at least 1, got {copies}")
    x = data.x_train
    size = run.config.input_size if run.config.input_size and run.config.input_size != x.shape[-1] else None
    taps = taps or run.model.taps
    key = (run.key, data.fingerprint(), copies, seed)
    kept = _LAST.get(key)
    if kept is not None and all(t.name in kept[0] for t in taps):  # the same network's copies, asked again
        return [{t.name: c[t.name] for t in taps} for c in kept]
    _LAST.clear()
    out = [
        augmented_copy(
            run.model, x, data.y_train, c, taps, seed=seed, size=size, device=device, progress=progress
        )
        for c in range(copies)
    ]
    _LAST[key] = out
    return out
