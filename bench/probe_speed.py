"""The probe's SGD epoch on augmented copies: the written-out step as it was against as it is now.

    .venv/bin/python bench/probe_speed.py [--epochs 4] [--n 50000]

The probe reads ``copies`` float16 augmented copies of the training features
(:mod:`helpers.train.augmented`). Until 2026-12-04 each epoch widened its whole copy to float32
(``copy.float()``: 50,000 x 4,096 values, 0.8 GB, at VGG-16's layer 2 at width 0.25) and gathered each
mini-batch with ``X[idx]``; now each mini-batch's rows are gathered from the float16 copy with
``index_select`` and widened alone. Both are run here side by side on random features of the ``cpu``
VGG-16's tap shapes (N_f, F_s), same seed: the weights must come out identical (the same arithmetic,
reordered memory traffic only), and the ratio of times is printed per tap. Figures go in
bench/README.md beside the hour's ``bench/train_speed.py``.
"""

from __future__ import annotations

import argparse
import time

import torch

from helpers.train import probes

# the cpu VGG-16's taps (width 0.25): (N_f, F_s) after max pooling to the paper's grid
TAPS = {"2": (16, 256), "4": (32, 64), "7": (64, 16), "10": (128, 4), "13": (128, 1)}


@torch.no_grad()
def sgd_before(W, X, copies, y, h, epochs, seed) -> None:
    """probes._sgd as it was: each epoch's copy widened whole, mini-batches gathered with ``X[idx]``."""
    g = torch.Generator().manual_seed(seed)
    buf = torch.zeros_like(W)
    for epoch in range(1, epochs + 1):
        lr = h.eta * h.factor(epoch)
        Xe = copies[(epoch - 1) % len(copies)].float()
        for idx in torch.randperm(len(X), generator=g).split(probes.BATCH):
            xb, yb = Xe[idx], y[idx]
            p = torch.softmax(xb @ W.T, 1)
            p[torch.arange(len(idx)), yb] -= 1
            grad = (p.T @ xb).div_(len(idx)).add_(W, alpha=h.alpha)
            buf.mul_(h.mu).add_(grad)
            W.add_(grad.add_(buf, alpha=h.mu), alpha=-lr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--n", type=int, default=50_000, help="training images")
    ap.add_argument("--copies", type=int, default=4)
    args = ap.parse_args()
    h = probes.PAPER_SGD
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); {args.n} images, "
        f"{args.copies} copies"
    )
    print("| tap | features | before (s) | now (s) | ratio | identical |")
    print("| --- | --- | --- | --- | --- | --- |")
    for tap, (N_f, F_s) in TAPS.items():
        gen = torch.Generator().manual_seed(0)
        copies = [torch.randn(args.n, N_f * F_s, generator=gen).half() for _ in range(args.copies)]
        y = torch.randint(0, 10, (args.n,), generator=gen)
        X = copies[0].float()
        W0 = torch.randn(10, N_f * F_s, generator=gen) * 0.01
        times, weights = [], []
        for run in (sgd_before, probes._sgd):
            W = W0.clone()
            t0 = time.perf_counter()
            if run is sgd_before:
                run(W, X, copies, y, h, args.epochs, 0)
            else:
                run(W, X, copies, y, h, args.epochs, None, 0, False)
            times.append(time.perf_counter() - t0)
            weights.append(W)
        same = torch.equal(*weights)
        print(
            f"| {tap} | {N_f} x {F_s} | {times[0]:.2f} | {times[1]:.2f} | {times[0] / times[1]:.2f} "
            f"| {same} |"
        )


if __name__ == "__main__":
    main()
