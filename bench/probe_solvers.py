"""Which probe reaches the papers' solution? Each solver against the papers' SGD, at every tap (issue 20).

    .venv/bin/python bench/probe_solvers.py [--models vgg16 vgg6] [--taps 13 10] [--sgd-epochs 100]

For each model's ``cpu`` run (trained first if missing; ``MECH_DATA`` must point at CIFAR-10) and each tap,
on the same cached features: the papers' SGD (*mechanism* Supplementary, 100 epochs) with two seeds, the
second giving the reference's own spread, then full-batch L-BFGS stopped after 20 iterations (the earlier
default) and run until its largest gradient element falls below 1e-4 (the option), 1e-5 and 1e-6.
Each is compared with SGD seed 0 on what the analysis reads: the training loss, n, N_c, C_s (threshold 0.3,
test-set class means), the fraction of filters whose clusters are identical, and the AFCC mask (the
fraction of kept weights on which the two agree, intersection over union), with the time each took.
Last, the written-out SGD step against ``torch.optim.SGD`` on one tap (same updates, time ratio).
Figures go in bench/README.md.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import torch

from helpers.method import afcc, fields
from helpers.method.layer import analyze_layer
from helpers.train import data, probes, profiles, runs
from helpers.train import taps as taps_mod

VARIANTS = [
    ("sgd", dict(solver="sgd", seed=0)),
    ("sgd seed 1", dict(solver="sgd", seed=1)),
    ("lbfgs 20 it.", dict(solver="lbfgs", max_iter=20)),
    ("lbfgs tol 1e-4", dict(solver="lbfgs", tol=1e-4)),
    ("lbfgs tol 1e-5", dict(solver="lbfgs", tol=1e-5)),
    ("lbfgs tol 1e-6", dict(solver="lbfgs", tol=1e-6)),
]


def compare(ref, la_ref, p, la, F_s: int) -> dict:
    same = np.mean([a == b for a, b in zip(la.clusters, la_ref.clusters)])
    m, m_ref = afcc.afcc_mask(la.clusters, la.N_l, F_s), afcc.afcc_mask(la_ref.clusters, la.N_l, F_s)
    iou = float((m & m_ref).sum() / max(1, (m | m_ref).sum()))

    def rel(a, b):
        return (a - b) / b if b else float("nan")

    return dict(
        loss=p.loss,
        grad_max=p.grad_norm,
        steps=p.steps,
        seconds=p.seconds,
        test_acc=p.test_acc,
        n=la.n,
        N_c=la.N_c,
        C_s=la.C_s,
        d_n=rel(la.n, la_ref.n),
        d_N_c=rel(la.N_c, la_ref.N_c),
        d_C_s=rel(la.C_s, la_ref.C_s),
        same_clusters=same,
        afcc_iou=iou,
        W_norm=float(p.W.norm()),
        W_common=float(p.W.mean(0).norm()),
    )


def study(model: str, taps: list[str] | None, sgd_epochs: int, variants=VARIANTS) -> pd.DataFrame:
    ds = data.load_cifar("cifar10")
    run = runs.get_run(profiles.train_config("cpu", model), ds)
    train_f, train_y = taps_mod.run_features(run, ds, "train")
    test_f, test_y = taps_mod.run_features(run, ds, "test")
    hyper = profiles.probe_hyper(model)
    print(f"\n{run}; probe loss mean CE + alpha/2 |W|^2, alpha = {hyper.alpha:g}", flush=True)
    rows = []
    for tap in taps or [t.name for t in run.model.taps]:
        args = (train_f[tap], train_y, test_f[tap], test_y, 10)
        means = fields.class_means(test_f[tap], test_y, 10)
        F_s = train_f[tap].shape[2]
        ref = la_ref = None
        for name, kw in variants:
            p = probes.train_probe(*args, hyper=hyper, epochs=sgd_epochs, progress=False, **kw)
            la = analyze_layer(p.W, means)
            if ref is None:
                ref, la_ref = p, la
            row = dict(model=model, tap=tap, probe=name, **compare(ref, la_ref, p, la, F_s), stop=p.stop)
            rows.append(row)
            print(
                f"  {tap:>3} {name:<15} loss {p.loss:.4f} |g|max {p.grad_norm:.1e} steps {p.steps:>6} "
                f"{p.seconds:6.1f} s  acc {p.test_acc:.4f}  n {la.n:6.2f} ({row['d_n']:+.0%}) "
                f"N_c {la.N_c:.2f} ({row['d_N_c']:+.0%}) C_s {la.C_s:.2f} ({row['d_C_s']:+.0%})  "
                f"same clusters {row['same_clusters']:.2f}  AFCC IoU {row['afcc_iou']:.2f}  "
                f"|W| {row['W_norm']:.1f} common {row['W_common']:.2f}",
                flush=True,
            )
    return pd.DataFrame(rows)


def sgd_speed(model: str = "vgg16", tap: str = "13", epochs: int = 3) -> None:
    """The written-out SGD step against torch.optim.SGD: same updates, time ratio."""
    ds = data.load_cifar("cifar10")
    run = runs.get_run(profiles.train_config("cpu", model), ds)
    f, y = taps_mod.run_features(run, ds, "train", progress=False)
    X = f[tap].reshape(len(y), -1).float()
    h = profiles.probe_hyper(model)
    p = probes.train_probe(f[tap], y, f[tap][:10], y[:10], 10, solver="sgd", epochs=epochs, progress=False)
    torch.manual_seed(0)
    layer = torch.nn.Linear(X.shape[1], 10, bias=False)
    opt = torch.optim.SGD(layer.parameters(), lr=h.eta, momentum=h.mu, weight_decay=h.alpha, nesterov=True)
    g = torch.Generator().manual_seed(0)
    t0 = time.perf_counter()
    for epoch in range(1, epochs + 1):
        for group in opt.param_groups:
            group["lr"] = h.eta * h.factor(epoch)
        for idx in torch.randperm(len(X), generator=g).split(100):
            opt.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(layer(X[idx]), y[idx]).backward()
            opt.step()
    t = time.perf_counter() - t0
    diff = float((layer.weight.detach() - p.W.reshape(10, -1)).abs().max())
    print(
        f"\nSGD, {model} tap {tap}, {epochs} epochs: written out {p.seconds:.1f} s, "
        f"torch.optim.SGD {t:.1f} s "
        f"(ratio {t / p.seconds:.1f}x); max |W difference| {diff:.1e}"
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["vgg16", "vgg6"])
    ap.add_argument("--taps", nargs="+", default=None, help="default: every tap")
    ap.add_argument("--sgd-epochs", type=int, default=probes.SGD_EPOCHS)
    ap.add_argument(
        "--variants",
        nargs="+",
        default=[v for v, _ in VARIANTS],
        choices=[v for v, _ in VARIANTS],
        metavar="PROBE",
        help="which probes (the first is the reference); default: all",
    )
    ap.add_argument("--csv", default=None, help="also write the table here")
    args = ap.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {time.strftime('%Y-%m-%d %H:%M')}")
    variants = [(v, kw) for v, kw in VARIANTS if v in args.variants]
    out = pd.concat([study(m, args.taps, args.sgd_epochs, variants) for m in args.models], ignore_index=True)
    if args.csv:
        out.to_csv(args.csv, index=False)
    for probe in out.probe.unique()[1:]:
        worst = out[out.probe == probe][["d_n", "d_N_c", "d_C_s"]].abs().max()
        print(
            f"largest |relative difference| from {out.probe.iloc[0]} over the taps, {probe}: "
            + ", ".join(f"{k[2:]} {v:.0%}" for k, v in worst.items())
        )
    sgd_speed()


if __name__ == "__main__":
    main()
