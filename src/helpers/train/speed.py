"""How fast this machine trains at this hour: images per second of a network's training step.

The measurement of ``bench/train_speed.py`` (moved here so that a record can carry the hour's speed beside its
numbers, :mod:`helpers.book.scale`): ``n_batches`` mini-batches of augmented CIFAR-shaped synthetic images,
after 3 warm-up batches, with the configuration's optimizer. This machine's speed varies by up to 2.5 times
between hours (bench/README.md), so a time is comparable only with the speed measured beside it.
"""

from __future__ import annotations

import time

import torch

from helpers.train import data, runs
from helpers.train import loop as train


def images_per_second(
    cfg, n_batches: int, channels_last: bool, bf16: bool = False, compile: bool = False, batch_size: int = 100
) -> float:
    """Training images per second of ``cfg``'s network (``n_batches`` timed batches of ``batch_size``)."""
    ds = data.synthetic_cifar(10, n_train=batch_size * (n_batches + 3), n_test=10)
    model = runs.build_model(cfg, 10)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = train.make_optimizer(model, cfg)
    model.train()
    step = torch.compile(model) if compile else model  # compiled on the first (warm-up) batch
    it = data.batches(
        ds.x_train,
        ds.y_train,
        batch_size,
        shuffle=True,
        augmented=True,
        generator=torch.Generator(),
        size=cfg.input_size if cfg.input_size not in (None, 32) else None,
    )
    t0 = None
    for i, (xb, yb) in enumerate(it):
        if i == 3:
            t0 = time.perf_counter()
        if channels_last:
            xb = xb.contiguous(memory_format=torch.channels_last)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = torch.nn.functional.cross_entropy(step(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return batch_size * n_batches / (time.perf_counter() - t0)
