"""How the probe's protocol moves the deep layers' statistics: augmentation, the L2 convention, the epochs
(issue 34, "Where the quantity is not the papers'").

    .venv/bin/python bench/probe_protocol.py [--seeds 0 1] [--taps 7 10 13] [--copies 4] \
        [--epochs 20 50 100 200]

For each seed's ``cpu`` VGG-16 (cached; ``MECH_DATA`` must point at CIFAR-10; it is not trained here) and each
tap, the papers' SGD probe (*mechanism* Supplementary: mini-batches of 100, η 0.1, μ 0.975, (0.6, 20)) under:

- the L2 reading (:func:`helpers.train.probes.weight_decay`): ``mean`` (α = 1e-5 as PyTorch's weight decay on
  the mean loss), ``sum`` (α added once to the loss summed over the mini-batch: weight decay α / 100) and
  ``wd 1e-3`` (the value of the group's later code, Shutshutnunte/AFCC, on the mean loss);
- its training inputs: the cached features of the unaugmented images (``plain``), or those of ``--copies``
  augmented copies (flips, translations up to 4 pixels) through the frozen layers, epoch e on copy
  (e - 1) mod copies (``aug K``; also with the first 2 copies, ``aug 2``, to see what the count changes);
- the epochs: one run of the largest budget, its weights kept after each smaller one (the step decay does not
  depend on the total, so a 200-epoch run after epoch 20 is the 20-epoch run).

Each probe is scored on what the pages read: test accuracy, n, N_c, C_s, SNR_E (*universal* Eq. 4; threshold
0.3, test-set class means) and the profile-weight alignment (:func:`helpers.method.fields.profile_alignment`:
median correlation between each filter's label profile and its probe weights, and the fraction of filters
whose argmaxes agree), with the seconds each run of the largest budget took. The probes train on one thread
(on 2 shared cores, two threads were much slower for these small steps). Figures go in
bench/README.md.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numpy as np
import pandas as pd
import torch

from helpers.method import fields, snr
from helpers.method.layer import analyze_layer
from helpers.train import augmented, data, probes, profiles, runs
from helpers.train import taps as taps_mod

L2 = {"mean": ("mean", None), "sum": ("sum", None), "wd 1e-3": ("mean", 1e-3)}
STATS = ["acc", "n", "N_c", "C_s", "SNR_E", "align", "argmax"]


def score(W: torch.Tensor, test_f, test_y, means) -> dict:
    """What the pages read from one probe's weights."""
    la = analyze_layer(W, means)
    r, same = fields.profile_alignment(W, means)
    N_l, N_f, _ = W.shape
    return dict(
        acc=probes.accuracy(W, test_f, test_y),
        n=la.n,
        N_c=la.N_c,
        C_s=la.C_s,
        SNR_E=snr.snr_estimates(N_f, N_l, la.n, la.N_c, la.C_s)["SNR_E"],
        align=float(np.nanmedian(r.numpy())),
        argmax=float(same.float().mean()),
    )


def one_probe(args, hyper, budgets, test_f, test_y, means, copies) -> tuple[list[dict], float]:
    """One SGD run of the largest budget, scored after each budget."""
    kept = {}
    shape = (10, *args[0].shape[1:])
    p = probes.train_probe(
        *args,
        10,
        hyper=hyper,
        epochs=max(budgets),
        progress=False,
        train_copies=copies,
        on_epoch=lambda e, W: kept.__setitem__(e, W.detach().cpu().clone()) if e in budgets else None,
    )
    return [
        dict(epochs=e, **score(kept[e].reshape(shape), test_f, test_y, means)) for e in budgets
    ], p.seconds


def network(seed: int, taps: list[str], n_copies: int, budgets: list[int]) -> pd.DataFrame:
    ds = data.load_cifar("cifar10")
    run = runs.get_run(profiles.train_config("cpu", "vgg16", seed=seed), ds, train_if_missing=False)
    train_f, train_y = taps_mod.run_features(run, ds, "train", progress=False)
    test_f, test_y = taps_mod.run_features(run, ds, "test", progress=False)
    chosen = [t for t in run.model.taps if t.name in taps]
    t0 = time.perf_counter()
    copies = augmented.run_copies(run, ds, n_copies, chosen, progress=False)
    print(
        f"\n{run}: {n_copies} augmented copies of taps {taps} in {time.perf_counter() - t0:.0f} s", flush=True
    )
    inputs = (
        {"plain": 0, "aug 2": 2, f"aug {n_copies}": n_copies}
        if n_copies > 2
        else {"plain": 0, "aug": n_copies}
    )
    base = profiles.probe_hyper("vgg16")
    rows = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    for tap in taps:
        means = fields.class_means(test_f[tap], test_y, 10)
        for l2, (convention, value) in L2.items():
            hyper = replace(base, alpha=value or probes.weight_decay(base.alpha, convention))
            for name, k in inputs.items():
                args = (train_f[tap], train_y, test_f[tap], test_y)
                scored, sec = one_probe(
                    args, hyper, budgets, test_f[tap], test_y, means, [c[tap] for c in copies[:k]]
                )
                for r in scored:
                    rows.append(
                        dict(seed=seed, tap=tap, l2=l2, wd=hyper.alpha, inputs=name, seconds=sec, **r)
                    )
                    print(
                        f"  seed {seed} tap {tap:>2} {l2:<8} {name:<6} {r['epochs']:>3} ep  "
                        f"acc {r['acc']:.4f}  n {r['n']:5.2f}  N_c {r['N_c']:.2f}  C_s {r['C_s']:.2f}  "
                        f"SNR_E {r['SNR_E']:5.2f}  "
                        f"align {r['align']:.2f}  argmax {r['argmax']:.2f}  ({sec:.0f} s a run)",
                        flush=True,
                    )
    torch.set_num_threads(threads)
    return pd.DataFrame(rows)


def summary(out: pd.DataFrame) -> pd.DataFrame:
    """Mean over the seeds, with the spread (max - min) of each statistic over the seeds."""
    keys = ["tap", "l2", "inputs", "epochs"]
    g = out.groupby(keys, sort=False)[STATS]
    table = g.mean().round(3)
    spread = (g.max() - g.min()).round(3).add_prefix("±")
    return table.join(spread[["±n", "±C_s", "±align"]]).reset_index()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    ap.add_argument("--taps", nargs="+", default=["7", "10", "13"])
    ap.add_argument("--copies", type=int, default=4)
    ap.add_argument("--epochs", nargs="+", type=int, default=[20, 50, 100, 200])
    ap.add_argument("--csv", default=None, help="also write every row here")
    args = ap.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {time.strftime('%Y-%m-%d %H:%M')}")
    t0 = time.perf_counter()
    out = pd.concat([network(s, args.taps, args.copies, sorted(args.epochs)) for s in args.seeds])
    if args.csv:
        out.to_csv(args.csv, index=False)
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        print(
            f"\nmean over seeds {args.seeds} (± : max - min over them)\n{summary(out).to_string(index=False)}"
        )
    secs = out.drop_duplicates(["seed", "tap", "l2", "inputs"]).groupby("tap").seconds.mean().round(1)
    print(f"\nseconds a {max(args.epochs)}-epoch probe, by tap: {secs.to_dict()}")
    print(f"whole study {(time.perf_counter() - t0) / 60:.1f} min; {time.strftime('%Y-%m-%d %H:%M')}")


if __name__ == "__main__":
    main()
