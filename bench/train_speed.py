"""Training images/s of each model at the ``cpu`` profile, with the options tried side by side.

    .venv/bin/python bench/train_speed.py [--batches 15] [--models vgg16 vgg6 avgg16 efficientnet_b0]
    .venv/bin/python bench/train_speed.py --sizes [--model vgg16] [--widths 0.25 0.375 0.5] [--batch-sizes 100
    250 500]
        [--input-sizes 32 64]

The first form trains ``--batches`` mini-batches of 100 augmented CIFAR-shaped images (after 3
warm-up batches) with the profile's optimizer for each variant (memory layout, bf16 autocast,
``torch.compile``); the ratio column compares each variant with the default (contiguous NCHW,
float32) of the same model. The second form sizes one model (channels-last, VGG-16 unless
``--model``): widths against mini-batch sizes, the ratio against the first of each. Figures go in
bench/README.md.
"""

from __future__ import annotations

import argparse

import torch

from helpers.train import profiles
from helpers.train.speed import images_per_second


def variants(args):
    print(f"{'model':16} {'variant':24} {'img/s':>8} {'ratio':>6} {'epoch of 50k (min)':>19}")
    for name in args.models:
        cfg = profiles.train_config("cpu", name)
        base = None
        for label, cl, bf16, comp in [
            ("NCHW fp32 (default)", False, False, False),
            ("channels_last fp32", True, False, False),
            ("channels_last + compile", True, False, True),
            ("NCHW bf16 autocast", False, True, False),
        ]:
            ips = images_per_second(cfg, args.batches, cl, bf16, comp)
            base = base or ips
            print(f"{name:16} {label:24} {ips:8.0f} {ips / base:6.2f} {50000 / ips / 60:19.2f}", flush=True)


def sizes(args):
    print(f"{'width':>6} {'input':>6} {'batch':>6} {'img/s':>8} {'ratio':>6} {'epoch of 50k (min)':>19}")
    base = None
    for w in args.widths:
        for side in args.input_sizes or [None]:
            cfg = profiles.train_config("cpu", args.model, width=w, **({"input_size": side} if side else {}))
            for bs in args.batch_sizes:
                ips = images_per_second(cfg, args.batches, True, batch_size=bs)
                base = base or ips
                print(
                    f"{w:6g} {cfg.input_size or 32:6d} {bs:6d} {ips:8.0f} {ips / base:6.2f} "
                    f"{50000 / ips / 60:19.2f}",
                    flush=True,
                )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", type=int, default=15)
    ap.add_argument("--models", nargs="+", default=[m for m in profiles.CPU if m != profiles.OTHER])
    ap.add_argument("--sizes", action="store_true", help="one model's widths against mini-batch sizes")
    ap.add_argument("--model", default="vgg16", help="the model --sizes measures")
    ap.add_argument("--widths", nargs="+", type=float, default=[0.25, 0.375, 0.5])
    ap.add_argument("--batch-sizes", nargs="+", type=int, default=[100, 250, 500])
    ap.add_argument(
        "--input-sizes",
        nargs="+",
        type=int,
        default=None,
        help="input sides to size (bicubic up-scaling); default: the profile's",
    )
    args = ap.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    (sizes if args.sizes else variants)(args)


if __name__ == "__main__":
    main()
