"""The analysis of *universal*/*mechanism*, measured side by side on this machine.

    .venv/bin/python bench/analysis.py a      # vectorized vs naive per-filter pass, a full-width VGG-16 tap
    .venv/bin/python bench/analysis.py b      # ImageNet scale: 1280 filters x 1000 labels (time, peak memory)

Both use generated weights and activations of the right shapes. The probe solvers are measured by
``bench/probe_solvers.py``. Figures go in bench/README.md.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import torch

from helpers.method import fields, snr
from helpers.method.layer import analyze_layer


def heavy_tailed_tap(N: int, N_f: int, F_s: int, N_l: int, seed: int = 0):
    """ReLU-like activations with a label signal, and heavy-tailed weights: sparse clipped matrices as in the
    papers."""
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
    la = analyze_layer(W, fields.class_means(feats, labels, N_l), threshold)
    fast = time.perf_counter() - t0

    t0 = time.perf_counter()
    naive_clusters, naive_noise, naive_M = [], [], []
    for f in range(N_f):  # silence all but filter f, push every input through, average per label
        M = fields.naive_field_matrix(head, feats, labels, f, N_l)
        B = fields.clip(fields.normalize(M[None]), threshold)[0]
        c = fields.greedy_clusters(B)
        naive_clusters.append(c)
        naive_noise.append(fields.noise_count(B, c))
        naive_M.append(M)
    naive = time.perf_counter() - t0

    M_fast = fields.field_matrices(W, fields.class_means(feats, labels, N_l))
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
    la = analyze_layer(W, means, threshold)
    t1 = time.perf_counter()
    a, _b = snr.per_label(la), snr.per_label(la, weighted=True)
    e = snr.snr_estimates(la.N_f, la.N_l, la.n, la.N_c, la.C_s)
    t2 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"(b) ImageNet scale: {N_f} filters x {N_l} labels ({N_f} field matrices of {N_l}x{N_l})")
    print(
        f"    clusters + noise + layer statistics: {t1 - t0:.1f} s; "
        f"per-label SNR (A and B) + Eqs. 1-4: {t2 - t1:.1f} s"
    )
    print(
        f"    total {t2 - t0:.1f} s, peak resident memory {peak:.2f} GB ({torch.get_num_threads()} threads)"
    )
    print(
        f"    synthetic statistics: n={la.n:.1f} N_c={la.N_c:.2f} C_s={la.C_s:.2f}; "
        f"signal={e['signal']:.1f} noise_E={e['noise_E']:.2f}; labels with zero signal: "
        f"{(a.signal == 0).sum()}"
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("which", choices=["a", "b"])
    args = ap.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, numpy {np.__version__}")
    if args.which == "a":
        bench_a()
    else:
        bench_b()


if __name__ == "__main__":
    main()
