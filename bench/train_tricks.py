"""Training tricks of the fastest CIFAR-10 trainers, each against the `cpu` recipe, side by side in one run.

    MECH_DATA=../shared/data .venv/bin/python bench/train_tricks.py [--epochs 5] [--variants base base@1
    altflip ...]

Every variant trains the `cpu` VGG-16 (width 0.25, the lossy CIFAR-10 of ../shared/data) for the same number
of epochs, from the same initial weights (seed 0; ``base@1``: seed 1, the noise floor of one network), with
the profile's optimizer (SGD, Nesterov momentum 0.9, L2 5e-4, mini-batches of 100) and its schedule compressed
to ``--epochs``: eta 0.08 held for the first 30% of the epochs, then decayed geometrically to eta/36 in the
last one (the 10-epoch profile's 0.08 -> 0.0022). One trick changes per variant:

- ``altflip``: derandomized flips (airbench): each image's flip is drawn once, then alternates epoch by epoch,
so
  that every two epochs see both mirror images;
- ``smooth``: label smoothing 0.2 of the training targets (airbench; the papers use none);
- ``ema``: the test uses an exponential moving average of the weights and batch-norm statistics (decay 0.998 a
  step, a horizon of about one epoch; ``torch.optim.swa_utils``);
- ``onecycle``: a per-step triangular schedule, eta rising linearly from eta/10 to 1.5 eta over the first 20%
of
  the steps, then linearly to 0 (Smith's one-cycle, Page's DAWNBench ResNets);
- ``batch250``: mini-batches of 250 with eta x 2.5 (the linear scaling rule): 14-16% more images/s at width
0.25
  (the ``--sizes`` table of bench/README.md);
- ``all``: every trick above whose accuracy beat ``base`` by more than the seed spread (given with
  ``--all altflip smooth ...``).

Reported per variant: the test accuracy with plain predictions (what the papers and the pages use) and with
flips, the training accuracy of the last epoch, and the seconds of training. A finished variant is cached as
JSON under ``$MECH_CACHE/bench/train_tricks`` (written atomically; keyed by variant and epochs only, so delete
it after a change to the data or the models), and a rerun prints it without training. The training loop is
this script's own, so that a trick needs no change to ``helpers.train.data`` or ``helpers.train.loop`` (whose
source is part of every cached run's key). The one-cycle schedule that paid here is now
``helpers.train.loop``'s ``schedule="onecycle"``, which starts at eta/10 of its peak (this variant: 1/15).
Figures go in bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import math
import time

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from helpers.infra.cache import save_json
from helpers.infra.paths import cache_root
from helpers.train import data, profiles, runs
from helpers.train import loop as train

TRICKS = ("altflip", "smooth", "ema", "onecycle", "batch250")
ETA, END = 0.08, 1 / 36  # the cpu profile: eta 0.08, falling to 0.0022 (x 1/36) in the last epoch
HOLD = 0.3  # the fraction of the epochs at eta before the decay (the profile's 3 of 10)


def step_factor(epoch: int, epochs: int) -> float:
    """The `cpu` profile's schedule at ``epochs`` epochs: 1 for the first 30%, then geometric down to 1/36."""
    hold = max(1, round(HOLD * epochs))
    if epoch <= hold or epochs == hold:
        return 1.0
    return END ** ((epoch - hold) / (epochs - hold))


def onecycle_factor(step: int, steps: int) -> float:
    """Triangular one-cycle: eta/10 -> 1.5 eta over the first 20% of the steps, then linearly to 0."""
    peak = 0.2 * steps
    return 0.1 + (1.5 - 0.1) * step / peak if step < peak else 1.5 * (steps - step) / (steps - peak)


def flips(n: int, epoch: int, g: torch.Generator, drawn: dict) -> torch.Tensor:
    """Derandomized flips: a random bit per image drawn at the first epoch, alternating after it."""
    if "bits" not in drawn:
        drawn["bits"] = torch.rand(n, generator=g) < 0.5
    return drawn["bits"] ^ bool((epoch - 1) % 2)


def translate(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """The translation half of :func:`helpers.train.data.augment` (up to 4 pixels, black padding), copied here
    so that ``helpers.train.data`` (part of every cached run's key) stays untouched."""
    B, C, H, W = x.shape
    pad = data.PAD
    padded = nn.functional.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (B,), generator=g)
    dx = torch.randint(0, 2 * pad + 1, (B,), generator=g)
    rows = (dy[:, None] + torch.arange(H))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(W))[:, None, None, :]
    return padded[torch.arange(B)[:, None, None, None], torch.arange(C)[None, :, None, None], rows, cols]


def run_variant(name: str, tricks: set[str], epochs: int, seed: int, cifar) -> dict:
    """Train the `cpu` VGG-16 with ``tricks`` for ``epochs`` epochs; its accuracies and training seconds."""
    batch = 250 if "batch250" in tricks else 100
    eta = ETA * batch / 100
    cfg = profiles.train_config("cpu", "vgg16", epochs=epochs, seed=seed, eta=eta, batch_size=batch)
    model = runs.build_model(cfg, 10).to(memory_format=torch.channels_last)
    opt = train.make_optimizer(model, cfg)
    ema = (
        AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.998), use_buffers=True)
        if "ema" in tricks
        else None
    )
    g = torch.Generator().manual_seed(seed + 1)
    n = len(cifar.y_train)
    steps, step, drawn, seconds = epochs * -(-n // batch), 0, {}, 0.0
    smoothing = 0.2 if "smooth" in tricks else 0.0
    for epoch in range(1, epochs + 1):
        model.train()
        t0 = time.perf_counter()
        order = torch.randperm(n, generator=g)
        flip = flips(n, epoch, g, drawn) if "altflip" in tricks else torch.rand(n, generator=g) < 0.5
        correct = 0
        for idx in order.split(batch):
            f = onecycle_factor(step, steps) if "onecycle" in tricks else step_factor(epoch, epochs)
            for grp in opt.param_groups:
                grp["lr"] = eta * f
            xb = cifar.x_train[idx]
            xb = torch.where(flip[idx][:, None, None, None], xb.flip(3), xb)
            xb = data.to_float(translate(xb, g)).contiguous(memory_format=torch.channels_last)
            yb = cifar.y_train[idx]
            out = model(xb)
            loss = nn.functional.cross_entropy(out, yb, label_smoothing=smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if ema is not None:
                ema.update_parameters(model)
            correct += (out.argmax(1) == yb).sum().item()
            step += 1
        seconds += time.perf_counter() - t0
        print(
            f"  {name} epoch {epoch}/{epochs}: train acc {correct / n:.4f} ({seconds / 60:.1f} min)",
            flush=True,
        )
    final = ema.module if ema is not None else model
    plain = train.evaluate(final, cifar.x_test, cifar.y_test)[1]
    flipped = train.evaluate(final, cifar.x_test, cifar.y_test, flip=True)[1]
    return dict(
        variant=name,
        tricks=sorted(tricks),
        epochs=epochs,
        seed=seed,
        test_acc=plain,
        test_acc_flip=flipped,
        train_acc=correct / n,
        seconds=seconds,
        finished=time.strftime("%Y-%m-%d %H:%M"),
    )


def parse(variant: str, combined: list[str]) -> tuple[set[str], int]:
    name, _, seed = variant.partition("@")
    if name == "base":
        return set(), int(seed or 0)
    if name == "all":
        return set(combined), int(seed or 0)
    if name not in TRICKS:
        raise SystemExit(
            f"unknown variant {variant!r}: choose base, all or one of {', '.join(TRICKS)} "
            f"(a seed after @, e.g. base@1)"
        )
    return {name}, int(seed or 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--variants", nargs="+", default=["base", "base@1", *TRICKS])
    ap.add_argument("--all", nargs="*", default=[], help="the tricks the 'all' variant combines")
    args = ap.parse_args()
    unknown = sorted(set(args.all) - set(TRICKS))
    if unknown:
        raise SystemExit(f"--all: unknown trick(s) {unknown}: choose among {', '.join(TRICKS)}")
    cifar = data.load_cifar("cifar10")
    out = cache_root() / "bench" / "train_tricks"
    rows = []
    for v in args.variants:
        tricks, seed = parse(v, args.all)
        path = out / f"{v}-{'+'.join(sorted(tricks)) or 'none'}-e{args.epochs}.json"
        if path.exists():
            row = json.loads(path.read_text())
        else:
            print(f"{v}: training ({', '.join(sorted(tricks)) or 'the cpu recipe'})", flush=True)
            row = run_variant(v, tricks, args.epochs, seed, cifar)
            save_json(row, path)
        rows.append(row)
        print(
            f"{v:10} test {row['test_acc']:.4f}  flips {row['test_acc_flip']:.4f}  train "
            f"{row['train_acc']:.4f}  "
            f"{row['seconds'] / 60:.1f} min",
            flush=True,
        )
    base = [r for r in rows if r["variant"].startswith("base")]
    spread = (
        (max(r["test_acc"] for r in base) - min(r["test_acc"] for r in base)) if len(base) > 1 else math.nan
    )
    ref = next((r for r in rows if r["variant"] == "base"), None)
    print(
        "\n| variant | test accuracy (plain) | change vs base | with flips | training accuracy | "
        "training (min) "
        "| time vs base |\n| --- | --- | --- | --- | --- | --- | --- |"
    )
    for r in rows:
        d = "" if ref is None else f"{r['test_acc'] - ref['test_acc']:+.4f}"
        t = "" if ref is None else f"{r['seconds'] / ref['seconds']:.2f}"
        print(
            f"| {r['variant']} | {r['test_acc']:.4f} | {d} | {r['test_acc_flip']:.4f} | {r['train_acc']:.4f} "
            f"| {r['seconds'] / 60:.1f} | {t} |"
        )
    print(f"\nseed spread of base (max - min over {len(base)} seeds): {spread:.4f}")


if __name__ == "__main__":
    main()
