"""What a training costs: the FLOPs of one training image (``torch.utils.flop_counter`` on the meta device,
3x the forward pass) and the speed a device trains at, measured now (:func:`measured_tflops`), read from the
runs already trained on a GPU in the cache (:func:`cached_gpu_tflops`), or assumed (:data:`ASSUMED_TFLOPS`).
The plan (:mod:`helpers.book.plan`) turns them into GPU-hours.
"""

from __future__ import annotations

import json
import statistics
import time

import torch

from helpers.infra.paths import cache_root
from helpers.train import models, runs
from helpers.train.loop import TrainConfig

# The training speed assumed when nothing was measured: 20 TFLOP/s of useful work, about 10,000 img/s for
# the paper's VGG-16 (1.9 GFLOP an image, forward and backward) on a current data-centre GPU with TF32
# convolutions at mini-batches of 100. An assumption, printed as one; --measure or the first GPU runs in the
# cache replace it.
ASSUMED_TFLOPS = 20.0

_FLOPS: dict = {}


def forward_flops(cfg: TrainConfig, num_classes: int) -> float:
    """FLOPs of one image's forward pass (``torch.utils.flop_counter`` on the meta device: no memory, no
    compute)."""
    from torch.utils.flop_counter import FlopCounterMode

    arch = (cfg.model, cfg.width, cfg.input_size, cfg.blocks, cfg.batch_norm, num_classes)
    if arch not in _FLOPS:
        with torch.device("meta"):
            net = models.build(
                cfg.model,
                num_classes,
                cfg.width,
                batch_norm=cfg.batch_norm,
                input_size=cfg.input_size,
                load_weights=False,
                blocks=cfg.blocks,
            ).eval()
            side = cfg.input_size or 32
            with FlopCounterMode(display=False) as counter:
                net(torch.zeros(2, 3, side, side))
        _FLOPS[arch] = counter.get_total_flops() / 2
    return _FLOPS[arch]


def train_flops(cfg: TrainConfig, num_classes: int) -> float:
    """FLOPs of one training image: 3x the forward pass (backward = two passes' worth; torch's counter
    overcounts the backward of grouped convolutions, so it is not counted directly)."""
    return 3 * forward_flops(cfg, num_classes)


def measured_tflops(cfg: TrainConfig, num_classes: int, device: torch.device, steps: int = 5) -> float:
    """Training TFLOP/s of ``cfg``'s network on ``device``: ``steps`` timed mini-batches after two warm-up
    ones (synchronized on a GPU), at the config's batch size, input size and memory layout."""
    net = (
        models.build(
            cfg.model,
            num_classes,
            cfg.width,
            batch_norm=cfg.batch_norm,
            input_size=cfg.input_size,
            load_weights=False,
            blocks=cfg.blocks,
        )
        .to(device)
        .train()
    )
    fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format
    net = net.to(memory_format=fmt)
    opt = torch.optim.SGD(net.parameters(), lr=1e-3, momentum=0.9, nesterov=True)
    side = cfg.input_size or 32
    x = torch.randn(cfg.batch_size, 3, side, side, device=device).contiguous(memory_format=fmt)
    y = torch.randint(0, num_classes, (cfg.batch_size,), device=device)
    with torch.random.fork_rng(devices=[]):
        for i in range(steps + 2):
            if i == 2:
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                t0 = time.perf_counter()
            loss = torch.nn.functional.cross_entropy(net(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
    seconds_per_image = (time.perf_counter() - t0) / steps / cfg.batch_size
    return train_flops(cfg, num_classes) / seconds_per_image / 1e12


def cached_gpu_tflops() -> dict[str, float]:
    """Median TFLOP/s per model of the finished runs in the cache that trained on CUDA (from their
    run.json)."""
    found: dict[str, list[float]] = {}
    for info_path in (cache_root() / "runs").glob("*/run.json"):
        try:
            info = json.loads(info_path.read_text())
            if not str(info.get("device", "")).startswith("cuda"):
                continue
            cfg = TrainConfig.from_dict(info["config"])
            seconds = sum(m["seconds"] for m in info["metrics"])  # training only, as the FLOPs count it
            flops = train_flops(cfg, cfg.K or (100 if cfg.dataset == "cifar100" else 10))
            done = len(info["metrics"])
            found.setdefault(cfg.model, []).append(flops * info["data"]["n_train"] * done / seconds / 1e12)
        except (OSError, ValueError, KeyError, TypeError, ZeroDivisionError):
            continue
    return {m: statistics.median(v) for m, v in found.items()}


def speed_of(
    planned: list,
    *,
    measure: bool = False,
    tflops: float | None = None,
    device: str | None = None,
) -> dict:
    """TFLOP/s per model: ``tflops`` if given; else measured now on ``device`` (``measure``); else from the
    runs in the cache that trained on a GPU (their FLOPs over their wall time); else
    :data:`ASSUMED_TFLOPS`."""
    if tflops is not None:
        return dict(source=f"given: {tflops:g} TFLOP/s", tflops={}, default_tflops=tflops)
    if measure:
        dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        rates = {}
        for r in planned:
            if r.config.model not in rates:
                rates[r.config.model] = measured_tflops(r.config, r.num_classes, dev)
        return dict(
            source=f"measured now on {runs.device_name(dev)} ({dev.type}), a few mini-batches per model",
            tflops=rates,
            default_tflops=statistics.median(rates.values()) if rates else ASSUMED_TFLOPS,
        )
    rates = cached_gpu_tflops()
    if rates:
        return dict(
            source="measured: the runs trained on a GPU in the cache (FLOPs over wall time)",
            tflops=rates,
            default_tflops=statistics.median(rates.values()),
        )
    return dict(
        source=f"ASSUMED {ASSUMED_TFLOPS:g} TFLOP/s (nothing measured: no GPU run in the cache; --measure on "
        "the GPU machine measures it)",
        tflops={},
        default_tflops=ASSUMED_TFLOPS,
    )
