"""Training images/s of each model at the ``cpu`` profile, with the options tried side by side.

    .venv/bin/python bench/train_speed.py [--batches 15] [--models vgg16 vgg6 avgg16 efficientnet_b0]

Each variant trains ``--batches`` mini-batches of 100 augmented CIFAR-shaped images (after 3
warm-up batches) with the profile's optimizer; the ratio column compares each variant with
the default (contiguous NCHW, float32) of the same model. Figures go in bench/README.md.
"""
from __future__ import annotations

import argparse
import time

import torch

from helpers import data, profiles, runs, train


def images_per_second(cfg, n_batches: int, channels_last: bool, bf16: bool) -> float:
    ds = data.synthetic_cifar(10, n_train=100 * (n_batches + 3), n_test=10)
    model = runs.build_model(cfg, 10)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = train.make_optimizer(model, cfg)
    model.train()
    it = data.batches(ds.x_train, ds.y_train, 100, shuffle=True, augmented=True, generator=torch.Generator(),
                      size=cfg.input_size if cfg.input_size not in (None, 32) else None)
    t0 = None
    for i, (xb, yb) in enumerate(it):
        if i == 3:
            t0 = time.perf_counter()
        if channels_last:
            xb = xb.contiguous(memory_format=torch.channels_last)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = torch.nn.functional.cross_entropy(model(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return 100 * n_batches / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", type=int, default=15)
    ap.add_argument("--models", nargs="+", default=list(profiles.CPU))
    args = ap.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{'model':16} {'variant':22} {'img/s':>8} {'ratio':>6} {'epoch of 50k (min)':>19}")
    for name in args.models:
        cfg = profiles.train_config("cpu", name)
        base = None
        for label, cl, bf16 in [("NCHW fp32 (default)", False, False), ("channels_last fp32", True, False),
                                ("NCHW bf16 autocast", False, True)]:
            ips = images_per_second(cfg, args.batches, cl, bf16)
            base = base or ips
            print(f"{name:16} {label:22} {ips:8.0f} {ips / base:6.2f} {50000 / ips / 60:19.2f}", flush=True)


if __name__ == "__main__":
    main()
