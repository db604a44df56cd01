"""Transfer learning of the ImageNet-pretrained EfficientNet-Lite0 to CIFAR-10: test accuracy against minutes
of training, for the `cpu` profile's stand-in for *universal*'s EfficientNet-B0 ("The training of the expanded
224×224 images of CIFAR-100 on EfficientNet-B0 was performed using transfer learning", Results).

    MECH_DATA=../shared/data .venv/bin/python bench/transfer_recipe.py [--threads 1] [--csv out.csv]
        [--recipes 64:0:20000:1:0.02:0.2 96:3:20000:1:0.02:0.2 ...]

A recipe is ``side:frozen:n_train:epochs:eta_conv:eta_fc``: the input side (CIFAR's 32x32 images resized
bicubically), how many of ``model.features``' first stages keep their ImageNet weights (batch norm included;
``helpers.train.loop.frozen_part``), the training images (a class-balanced subset) and epochs, and the peak
learning rates of the one-cycle schedule for the convolutions and the new bias-free output layer. Each recipe
is one run of the book's own training loop (:func:`helpers.train.loop.train`, SGD with Nesterov momentum 0.9,
L2 1e-4, mini-batches of 100, flips and 4-pixel shifts), tested on ``--n-test`` test images at its side.
Before the recipes, the hour's speed: ``bench/train_speed.py``'s VGG-16 (width 0.25, channels-last) images/s
on the same threads, so that the minutes can be compared with other days. Nothing is cached; the table goes in
bench/README.md.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import time
from pathlib import Path

import torch

from helpers.train import data as data_mod
from helpers.train import loop, profiles, runs
from helpers.train.loop import Hyper, TrainConfig

DEFAULT = [
    "64:0:20000:1:0.02:0.2",
    "64:3:20000:1:0.02:0.2",
    "96:0:20000:1:0.02:0.2",
    "96:3:20000:1:0.02:0.2",
    "64:0:20000:2:0.02:0.2",
    "64:0:20000:1:0.005:0.05",
    "128:3:10000:1:0.02:0.2",
]


def recipe(text: str, n_test: int) -> TrainConfig:
    """The training config of one ``side:frozen:n_train:epochs:eta_conv:eta_fc`` recipe."""
    try:
        side, frozen, n_train, epochs, eta_conv, eta_fc = text.split(":")
        conv, fc = (Hyper(eta=float(e), mu=0.9, alpha=1e-4) for e in (eta_conv, eta_fc))
        return TrainConfig(
            model="efficientnet_lite0",
            pretrained=True,
            input_size=int(side),
            frozen=int(frozen),
            n_train=int(n_train),
            n_test=n_test,
            epochs=int(epochs),
            schedule="onecycle",
            test_every=0,
            conv=conv,
            fc=fc,
        )
    except ValueError as err:
        raise SystemExit(f"bad recipe {text!r} ({err}): expected side:frozen:n_train:epochs:eta_conv:eta_fc")


def hour_speed(batches: int = 8) -> float:
    """VGG-16's training images/s at the `cpu` profile (``bench/train_speed.py``), the hour's speed."""
    spec = importlib.util.spec_from_file_location("train_speed", Path(__file__).with_name("train_speed.py"))
    speed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(speed)
    return speed.images_per_second(profiles.train_config("cpu", "vgg16"), batches, channels_last=True)


def measure(cfg: TrainConfig, full: data_mod.ImageData) -> dict:
    """Train one recipe and test it: accuracies, minutes of training and of the test, images/s."""
    data = data_mod.subset(full, None, cfg.n_train, cfg.n_test)
    model = runs.build_model(cfg, data.num_classes)
    trainable = sum(p.numel() for p in model.parameters()) - sum(
        p.numel() for p in loop.frozen_part(model, cfg).parameters()
    )
    t0 = time.perf_counter()
    metrics = loop.train(model, data, cfg, progress=False)
    seconds = sum(m["seconds"] for m in metrics)  # the epochs' training, without the test
    return dict(
        side=cfg.input_size,
        frozen=cfg.frozen,
        n_train=cfg.n_train,
        epochs=cfg.epochs,
        eta_conv=cfg.conv.eta,
        eta_fc=cfg.fc.eta,
        trainable_params=trainable,
        train_acc=round(metrics[-1]["train_acc"], 4),
        test_acc=round(metrics[-1]["test_acc"], 4),
        train_min=round(seconds / 60, 2),
        test_min=round((time.perf_counter() - t0 - seconds) / 60, 2),
        img_per_s=round(cfg.n_train * cfg.epochs / seconds, 1),
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--recipes", nargs="+", default=DEFAULT)
    ap.add_argument("--n-test", type=int, default=10_000)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    ap.add_argument("--csv", type=Path, default=None, help="append each recipe's row to this CSV as it ends")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cfgs = [recipe(r, args.n_test) for r in args.recipes]  # every recipe checked before anything trains
    full = data_mod.load_cifar("cifar10")
    print(
        f"{time.strftime('%Y-%m-%d %H:%M')}, {torch.get_num_threads()} thread(s), {runs.device_name('cpu')}; "
        f"the hour's speed: VGG-16 (cpu profile) {hour_speed():.0f} img/s; data: {full.provenance}",
        flush=True,
    )
    print("| side | frozen stages | images x epochs | eta conv / fc | test acc | train acc | min | img/s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |", flush=True)
    for cfg in cfgs:
        row = measure(cfg, full)
        print(
            f"| {row['side']} | {row['frozen']} | {row['n_train']:,} x {row['epochs']} | "
            f"{row['eta_conv']:g} / {row['eta_fc']:g} | {row['test_acc']:.3f} | {row['train_acc']:.3f} | "
            f"{row['train_min']:.1f} | {row['img_per_s']:.0f} |",
            flush=True,
        )
        if args.csv:
            new = not args.csv.exists()
            with args.csv.open("a", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=list(row))
                if new:
                    writer.writeheader()
                writer.writerow(row)


if __name__ == "__main__":
    main()
