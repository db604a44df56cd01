"""The analysis of *universal*/*mechanism*, measured side by side on this machine.

    .venv/bin/python bench/analysis.py a      # vectorized vs naive per-filter pass, a full-width VGG-16 tap
    .venv/bin/python bench/analysis.py b      # ImageNet scale: 1280 filters x 1000 labels (time, peak memory)
    .venv/bin/python bench/analysis.py c      # probes: the papers' SGD vs full-batch L-BFGS on cached features

(a) and (b) use generated weights and activations of the right shapes; (c) uses the cached
``cpu``-profile VGG-16 on CIFAR-10 (trained first if missing; ``MECH_DATA`` must point at CIFAR-10).
Figures go in bench/README.md.
"""
from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import torch

from helpers import filters, snr


def heavy_tailed_tap(N: int, N_f: int, F_s: int, N_l: int, seed: int = 0):
    """ReLU-like activations with a label signal, and heavy-tailed weights: sparse clipped matrices as in the papers."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(N) % N_l
    pref = torch.randn(N_l, N_f, F_s, generator=g)
    feats = torch.relu(torch.randn(N, N_f, F_s, generator=g) + 1.5 * pref[labels])
    W = torch.randn(N_l, N_f, F_s, generator=g) ** 3
    return feats, labels, W


def bench_a(N: int = 10_000, N_f: int = 512, F_s: int = 4, N_l: int = 10, threshold: float = 0.3):
    """Layer 10 of a full-width VGG-16 on CIFAR-10's test set: 512 filters x 2x2, 10,000 inputs."""
    feats, labels, W = heavy_tailed_tap(N, N_f, F_s, N_l)
    head = torch.nn.Linear(N_f * F_s, N_l, bias=False)
    head.weight.data = W.reshape(N_l, -1)

    t0 = time.perf_counter()
    la = filters.analyze_layer(W, filters.class_means(feats, labels, N_l), threshold)
    fast = time.perf_counter() - t0

    t0 = time.perf_counter()
    naive_clusters, naive_noise, naive_M = [], [], []
    for f in range(N_f):  # silence all but filter f, push every input through, average per label
        M = filters.naive_field_matrix(head, feats, labels, f, N_l)
        B = filters.clip(filters.normalize(M[None]), threshold)[0]
        c = filters.greedy_clusters(B)
        naive_clusters.append(c)
        naive_noise.append(filters.noise_count(B, c))
        naive_M.append(M)
    naive = time.perf_counter() - t0

    M_fast = filters.field_matrices(W, filters.class_means(feats, labels, N_l))
    same = la.clusters == naive_clusters and la.noise.tolist() == naive_noise
    err = (M_fast - torch.stack(naive_M)).abs().max().item()
    print(f"(a) VGG-16 layer-10 shape: {N_f} filters x {F_s} positions, {N_l} labels, {N} inputs")
    print(f"    vectorized (class means + all field matrices + clip + clusters + noise): {fast:.3f} s")
    print(f"    naive (one silenced pass over all inputs per filter):                   {naive:.1f} s")
    print(f"    ratio {naive / fast:.0f}x; identical clusters and noise: {same}; max |M diff| {err:.2e}")
    print(f"    layer statistics: n={la.n:.2f} N_c={la.N_c:.2f} C_s={la.C_s:.2f}")


def bench_b(N_f: int = 1280, N_l: int = 1000, threshold: float = 0.3):
    """*universal* Table 3, stage 9: 1280 filters x 1x1, 1000 ImageNet labels."""
    g = torch.Generator().manual_seed(0)
    means = torch.relu(torch.randn(N_l, N_f, 1, generator=g)) ** 3  # mean activation per label and filter
    W = means + 0.3 * torch.randn(N_l, N_f, 1, generator=g)  # trained weights favour the labels a filter sees
    t0 = time.perf_counter()
    la = filters.analyze_layer(W, means, threshold)
    t1 = time.perf_counter()
    a, b = snr.per_label(la), snr.per_label(la, weighted=True)
    e = snr.snr_estimates(la.N_f, la.N_l, la.n, la.N_c, la.C_s)
    t2 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20
    print(f"(b) ImageNet scale: {N_f} filters x {N_l} labels ({N_f} field matrices of {N_l}x{N_l})")
    print(f"    clusters + noise + layer statistics: {t1 - t0:.1f} s; "
          f"per-label SNR (A and B) + Eqs. 1-4: {t2 - t1:.1f} s")
    print(f"    total {t2 - t0:.1f} s, peak resident memory {peak:.2f} GB ({torch.get_num_threads()} threads)")
    print(f"    synthetic statistics: n={la.n:.1f} N_c={la.N_c:.2f} C_s={la.C_s:.2f}; "
          f"signal={e['signal']:.1f} noise_E={e['noise_E']:.2f}; labels with zero signal: {(a.signal == 0).sum()}")


def bench_c(sgd_epochs: int, taps: list[str], lbfgs_iters: int):
    from helpers import data, probes, profiles, runs, taps as taps_mod

    ds = data.load_cifar("cifar10")
    run = runs.get_run(profiles.train_config("cpu", "vgg16"), ds)
    train_f, train_y = taps_mod.run_features(run, ds, "train")
    test_f, test_y = taps_mod.run_features(run, ds, "test")
    print(f"(c) probes on {run} features (float16 cache), 50,000 train / 10,000 test")
    print(f"    {'tap':>4} {'dims':>6} {'SGD acc':>8} {'SGD s':>7} {'L-BFGS acc':>10} {'L-BFGS s':>8} {'ratio':>6}"
          f" {'to SGD acc: iters':>17} {'s':>5} {'ratio':>6} {'fp32 acc':>9}")
    for name in taps:
        args = (train_f[name], train_y, test_f[name], test_y, 10)
        sgd = probes.train_probe(*args, solver="sgd", epochs=sgd_epochs, progress=False)
        lb = probes.train_probe(*args, solver="lbfgs", max_iter=lbfgs_iters, progress=False)
        k, t = _lbfgs_to_reach(args, sgd.test_acc, lbfgs_iters)
        dims = train_f[name].shape[1] * train_f[name].shape[2]
        print(f"    {name:>4} {dims:>6} {sgd.test_acc:8.4f} {sgd.seconds:7.1f} {lb.test_acc:10.4f} {lb.seconds:8.1f}"
              f" {sgd.seconds / lb.seconds:6.1f} {k or 'not reached':>17} {t:5.1f} {sgd.seconds / t:6.1f}",
              end="", flush=True)
        # float16 storage against float32 features of the same network (last column)
        f32 = _float32_features(run, ds, name)
        lb32 = probes.train_probe(f32[0], train_y, f32[1], test_y, 10, solver="lbfgs", max_iter=lbfgs_iters,
                                  progress=False)
        print(f" {lb32.test_acc:9.4f}", flush=True)


def _lbfgs_to_reach(args, target: float, most: int) -> tuple[int | None, float]:
    """The fewest L-BFGS iterations whose probe reaches ``target`` test accuracy, and that run's own time.

    Each k is a separate run from the same start (L-BFGS is deterministic, so it is the k-th iterate),
    timed as a solve of k iterations would be; ``(None, nan)`` if none up to ``most`` reaches it.
    """
    from helpers import probes

    for k in range(1, most + 1):
        p = probes.train_probe(*args, solver="lbfgs", max_iter=k, progress=False)
        if p.test_acc >= target:
            return k, p.seconds
    return None, float("nan")


def _float32_features(run, ds, name):
    from helpers import taps as taps_mod

    tap = [t for t in run.model.taps if t.name == name]
    out = []
    for split in ("train", "test"):
        f, _ = taps_mod.run_features(run, ds, split, taps=tap, dtype=torch.float32, progress=False)
        out.append(f[name])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("which", choices=["a", "b", "c"])
    ap.add_argument("--sgd-epochs", type=int, default=100, help="epochs of the papers' SGD in (c)")
    ap.add_argument("--lbfgs-iters", type=int, default=20)
    ap.add_argument("--taps", nargs="+", default=["13", "10", "7", "4", "2"])
    args = ap.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, numpy {np.__version__}")
    if args.which == "a":
        bench_a()
    elif args.which == "b":
        bench_b()
    else:
        bench_c(args.sgd_epochs, args.taps, args.lbfgs_iters)


if __name__ == "__main__":
    main()
