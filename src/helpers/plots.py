"""The figures of both papers, drawn with matplotlib/seaborn from the results of
:mod:`helpers.mechanism` and :mod:`helpers.universal`. Each function draws one figure (shown
by the notebook's inline backend) and does nothing when given ``None`` (a skipped page).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import ListedColormap

sns.set_theme(style="whitegrid", context="notebook")
# clipped matrices: 0 below threshold (dark), 1 above (white); permuted: cluster blocks white, noise yellow
CLIPPED = ListedColormap(["#1f1f3a", "#ffffff"])
PERMUTED = ListedColormap(["#1f1f3a", "#ffffff", "#f2c200"])


def _done(fig, title: str | None = None):
    if title:
        fig.suptitle(title)
    fig.tight_layout()


def layer_accuracy(acc: pd.DataFrame | None, title: str = "VGG-16: accuracy of the FC layer from each layer"):
    """*mechanism* Fig. 2: (A) mean and std over networks per layer; (B) against the number of layers."""
    if acc is None:
        return
    g = acc.groupby("layer")["accuracy"].agg(["mean", "std"]).fillna(0).reset_index()
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.8))
    a.bar(g["layer"].astype(str), g["mean"], yerr=g["std"], capsize=4, color=sns.color_palette()[0])
    a.set(xlabel="layer m (FC layer from layer m to the output)", ylabel="test accuracy", ylim=(0, 1), title="A")
    for seed, s in acc.groupby("seed"):
        b.plot(s["layer"], s["accuracy"], "o-", alpha=0.8, label=f"network {seed}")
    b.axhline(acc["network"].mean(), ls="--", c="grey", label="whole network")
    b.set(xlabel="number of layers", ylabel="test accuracy", xticks=sorted(acc["layer"].unique()), title="B")
    b.legend(fontsize=8)
    _done(fig, title)


def decision_matrices(picked: dict | None, names=None):
    """*mechanism* Fig. 3: the decision matrices of the picked filters."""
    if picked is None:
        return
    fig, axes = plt.subplots(1, len(picked), figsize=(5 * len(picked), 4.3))
    for ax, (tap, p) in zip(np.atleast_1d(axes), picked.items()):
        sns.heatmap(p["D"], ax=ax, vmin=0, vmax=1, cmap="viridis", square=True, cbar_kws=dict(shrink=0.8),
                    xticklabels=names or "auto", yticklabels=names or "auto")
        ax.set(xlabel="predicted label (argmax of the filter's fields)", ylabel="input label",
               title=f"layer {tap}, filter {p['filter']}")
    _done(fig, "Single-filter decision matrices (rows: fraction of each input label's predictions)")


def field_matrix(view: dict | None, corner: int | None = None):
    """*mechanism* Fig. 4 / *universal* Fig. 3: normalized, clipped and permuted field matrix of one filter.

    In the permuted matrix the cluster blocks are white and the noise (ones outside every block) yellow.
    ``corner`` adds a magnified view of the permuted matrix's first ``corner`` labels.
    """
    if view is None:
        return
    M, B, order, n = view["M"], view["B"], view["order"], len(view["M"])
    cid = np.full(n, -1)
    for k, c in enumerate(view["clusters"]):
        cid[c] = k
    block = (cid[:, None] == cid[None, :]) & (cid[:, None] >= 0)
    P = np.where(block, 1, np.where(B, 2, 0))[np.ix_(order, order)]
    panels = 4 if corner else 3
    fig, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 4))
    small = n <= 20
    im = axes[0].imshow(M, cmap="RdBu_r", vmin=-1, vmax=1)
    fig.colorbar(im, ax=axes[0], shrink=0.8)
    axes[0].set_title("normalized")
    axes[1].imshow(B, cmap=CLIPPED, vmin=0, vmax=1)
    axes[1].set_title(f"clipped at {view['threshold']:g}")
    axes[2].imshow(P, cmap=PERMUTED, vmin=0, vmax=2)
    axes[2].set_title(f"permuted: {len(view['clusters'])} cluster(s), noise {view['noise']}")
    for ax in axes[:3]:
        ax.set(xlabel="output label", ylabel="input label")
        ax.grid(False)
        if small:
            ax.set_xticks(range(n))
            ax.set_yticks(range(n))
    for ax in axes[2:3]:
        if small:
            ax.set_xticklabels(order, fontsize=7)
            ax.set_yticklabels(order, fontsize=7)
    if corner:
        c = min(corner, n)
        axes[3].imshow(P[:c, :c], cmap=PERMUTED, vmin=0, vmax=2)
        axes[3].set(title=f"magnified: first {c} labels", xticks=range(c), yticks=range(c))
        axes[3].set_xticklabels(order[:c], fontsize=6, rotation=90)
        axes[3].set_yticklabels(order[:c], fontsize=6)
        axes[3].grid(False)
    _done(fig, f"layer {view['tap']}, filter {view['filter']}")


def cluster_statistics(stats: pd.DataFrame | None, sizes: pd.DataFrame | None, title: str = ""):
    """*mechanism* Fig. 5A: n, N_c, C_s per layer, and the fraction of clusters of each size."""
    if stats is None:
        return
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.5))
    for ax, col in zip(axes, ("n", "N_c", "C_s")):
        ax.plot(stats["layer"].astype(str), stats[col], "o-")
        ax.set(xlabel="layer", ylabel=col, title=col)
    sns.barplot(sizes, x="size", y="fraction", hue="layer", ax=axes[3])
    axes[3].set(xlabel="cluster size", ylabel="fraction of clusters", title="cluster sizes")
    _done(fig, title)


def appearances(study, taps) -> None:
    """*mechanism* Fig. 5B: appearances of each label in a layer's clusters, with the expected mean."""
    if study is None:
        return
    fig, axes = plt.subplots(1, len(taps), figsize=(5.5 * len(taps), 3.5))
    for ax, tap in zip(np.atleast_1d(axes), taps):
        la = study.layers[tap]
        app = la.appearances
        ax.bar(range(len(app)), app, color=sns.color_palette()[1])
        mean = la.N_c * la.C_s * la.N_f / la.N_l if la.sizes else 0
        ax.axhline(mean, c="k", ls="--", label=f"N_c C_s N_f / N_l = {mean:.1f}")
        ax.set(xlabel="label", ylabel="clusters containing the label", title=f"layer {tap}")
        ax.legend(fontsize=8)
    _done(fig)


def histograms(study, tap: str) -> None:
    """*mechanism* Fig. 5C: sub-threshold normalized fields of cluster rows (left) and other rows (right)."""
    if study is None:
        return
    la = study.layers[tap]
    centers = (la.bins[1:] + la.bins[:-1]) / 2
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.3), sharex=True)
    for ax, h, what, mean in ((axes[0], la.hist_cluster_rows, "rows of cluster labels", la.mean_cluster_rows),
                              (axes[1], la.hist_other_rows, "other rows", la.mean_other_rows)):
        total = max(1, h.sum())
        ax.bar(centers, h / total, width=la.bins[1] - la.bins[0])
        ax.axvline(mean, c="k", ls="--", label=f"mean {mean:.3f}")
        ax.set(xlabel="normalized field (below threshold)", ylabel="fraction", title=f"layer {tap}: {what}",
               xlim=(-1, la.threshold))
        ax.legend(fontsize=8)
    _done(fig)


def signal_noise(sn: pd.DataFrame | None, tap: str = "13"):
    """*mechanism* Fig. 6, measured: per input label, signal against the two noises, and the SNR."""
    if sn is None:
        return
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 3.6))
    x = np.arange(len(sn))
    a.bar(x - 0.27, sn["signal"], 0.27, label="signal (filters with the label in a cluster)")
    a.bar(x, sn["noise_1"], 0.27, label="noise 1: same filters, strongest wrong output")
    a.bar(x + 0.27, sn["noise_2"], 0.27, label="noise 2: the other filters, same output")
    a.set(xlabel="input label", ylabel="summed unit fields", title=f"layer {tap}", xticks=x)
    a.legend(fontsize=7)
    b.bar(x, sn["SNR"].clip(upper=50), color=sns.color_palette()[2])
    b.axhline(5, c="k", ls="--", label="paper: SNR > 5")
    b.set(xlabel="input label", ylabel="SNR", title="signal / strongest wrong output", xticks=x)
    b.legend(fontsize=8)
    _done(fig)


def dilution(d: pd.DataFrame | None):
    """Accuracy against the fraction of layer-13 filters silenced (mean and spread over random draws)."""
    if d is None:
        return
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    sns.lineplot(d, x="fraction", y="accuracy", hue="model", marker="o", errorbar=("pi", 100), ax=ax)
    ax.axvline(150 / 512, c="grey", ls=":", label="150 of 512")
    ax.axvline(1 - 100 / 512, c="grey", ls="--", label="100 of 512 kept")
    ax.set(xlabel="fraction of layer-13 filters silenced", ylabel="test accuracy")
    ax.legend(fontsize=8)
    _done(fig)


def threshold_sweep(sw: pd.DataFrame | None):
    """n, N_c, C_s per layer for each threshold."""
    if sw is None:
        return
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.5))
    for ax, col in zip(axes, ("n", "N_c", "C_s")):
        sns.lineplot(sw.assign(layer=sw["layer"].astype(str)), x="layer", y=col, hue="threshold", marker="o", ax=ax,
                     palette="viridis")
        ax.set(title=col)
    _done(fig)


def size_distributions(frames: dict[str, pd.DataFrame] | None, tap: str = "13"):
    """*mechanism* Fig. 8: the cluster-size distribution of one layer in several models."""
    if frames is None:
        return
    d = pd.concat([f.assign(model=m) for m, f in frames.items()])
    fig, ax = plt.subplots(figsize=(6, 3.5))
    sns.barplot(d[d["layer"] == tap], x="size", y="fraction", hue="model", ax=ax)
    ax.set(xlabel="cluster size", ylabel="fraction of clusters", title=f"layer {tap}")
    _done(fig)


def error_vs_K(errors: pd.DataFrame | None, fit: dict | None, tap: str):
    """*universal* Figs. 5-7: test error of a layer against K, with the linear fit."""
    if errors is None:
        return
    fig, ax = plt.subplots(figsize=(6, 3.8))
    ax.plot(errors["K"], errors["error"], "o", label="this run")
    if "paper_error" in errors:
        ax.plot(errors["K"], errors["paper_error"], "s", mfc="none", label="paper")
    if fit:
        k = np.linspace(1, errors["K"].max(), 50)
        ax.plot(k, fit["intercept"] + fit["slope"] * k, "--",
                label=f"fit: {fit['slope']:.4f} K + {fit['intercept']:.3f}, R² = {fit['r2']:.3f}")
    ax.set(xlabel="K (number of labels)", ylabel=f"test error, {tap}", ylim=(0, None))
    ax.legend(fontsize=8)
    _done(fig)


def label_snr(A: pd.DataFrame | None, B: pd.DataFrame | None, tap: str):
    """*universal* Fig. 4: per label signal, noise_I and noise_I + noise_E from Boolean (A) and field (B) matrices."""
    if A is None:
        return
    fig, axes = plt.subplots(1, 2, figsize=(13, 3.8))
    for ax, d, what in ((axes[0], A, "A: Boolean"), (axes[1], B, "B: above-threshold fields")):
        ax.plot(d["label"], d["signal"], ".", label=f"signal (mean {d['signal'].mean():.3g})")
        ax.plot(d["label"], d["noise_I"], ".", label=f"noise_I (mean {d['noise_I'].mean():.3g})")
        ax.plot(d["label"], d["noise_I_plus_E"], ".",
                label=f"noise_I + noise_E (mean {d['noise_I_plus_E'].mean():.3g})")
        ax.set(xlabel="label", ylabel="per label", title=f"layer {tap}, {what}", yscale="log")
        ax.legend(fontsize=8)
    _done(fig)


def accuracy_bars(frame: pd.DataFrame | None, x: str, y: str = "accuracy", hue: str | None = None, title: str = ""):
    """A bar chart of accuracies (AFCC before/after, shortened models)."""
    if frame is None:
        return
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    sns.barplot(frame, x=x, y=y, hue=hue, ax=ax)
    ax.set(ylim=(0, 1), title=title)
    ax.tick_params(axis="x", labelrotation=15)
    _done(fig)
