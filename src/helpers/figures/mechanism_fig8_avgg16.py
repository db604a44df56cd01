"""*mechanism* Fig. 8: AVGG-16's cluster sizes against VGG-16's.

The paper's caption: "AVGG-16 architecture and statistical features of filters per layer. ... (B)
Representative distribution of cluster sizes for AVGG-16 (blue), obtained from three trained samples, and for
VGG-16 (gray), obtained from four trained samples. The average cluster size is 2.5 for AVGG-16 and ~2.9 for
VGG-16." Used by notebooks/mechanism-fig8-avgg16.ipynb.

In order: the computation (:func:`size_fractions_by_model`), the claims (:func:`claims_avgg16`) and the figure
(:func:`size_distributions`). The page's comparison with the paper's numbers is VGG-6's
(:func:`helpers.figures.mechanism_fig7_vgg6.compare_model`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns

from helpers.figures.common import (
    P,
    compare_claim,
    layer_statistics,
    mechanism_floor,
    one_cluster_claim,
    size_fractions,
)
from helpers.figures.steps import skippable
from helpers.figures.style import BookFigure, describe, new_figure
from helpers.reference import claims


def size_fractions_by_model(studies: dict) -> dict[str, pd.DataFrame] | None:
    """:func:`size_fractions` of several models' studies (``None`` if any is missing)."""
    if any(s is None for s in studies.values()):
        return None
    return {m: size_fractions(s) for m, s in studies.items()}


@skippable("avgg", "vgg")
def claims_avgg16(avgg, vgg) -> list[claims.Claim] | None:
    """*mechanism* Fig. 8's comparison at layer 13: AVGG-16 against VGG-16, each given as its study or as its
    per-layer table (:func:`layer_statistics`, whose ``attrs`` carry the network's accuracy and config), one
    network of each (the page trains no second AVGG-16, so no spread is measured); and the Discussion's "in
    the last CL, each filter consisted of only one cluster" on AVGG-16's layer 13, filter by filter."""
    avgg, vgg = (x if isinstance(x, pd.DataFrame) else layer_statistics(x) for x in (avgg, vgg))
    a, v = (f[f["layer"].astype(str) == "13"] for f in (avgg, vgg))
    acc_a, acc_v = avgg.attrs.get("network"), vgg.attrs.get("network")
    req = [mechanism_floor(acc_a, "avgg16"), mechanism_floor(acc_v, "vgg16")]
    if avgg.attrs.get("config") is not None and vgg.attrs.get("config") is not None:
        req.append(claims.same_budget(avgg.attrs["config"], vgg.attrs["config"], ("AVGG-16", "VGG-16")))
    out = [
        compare_claim(
            "avgg16",
            "AVGG-16's layer 13 is less noisy than VGG-16's",
            "n",
            a,
            v,
            -1,
            "the paper: 1.1 vs 1.5",
            req,
        ),
        compare_claim(
            "avgg16",
            "AVGG-16's layer-13 clusters are smaller than VGG-16's",
            "C_s",
            a,
            v,
            -1,
            "the paper: 2.5 vs 2.88",
            req,
        ),
        claims.paper_claim(
            "avgg16_accuracy",
            "AVGG-16 is more accurate than VGG-16",
            None if acc_a is None or acc_v is None else acc_a > acc_v,
            f"{acc_a:.3f} vs {acc_v:.3f} (the paper: 0.955 vs 0.94)" if acc_a and acc_v else "",
            test="network accuracy higher",
            requires=req,
        ),
    ]
    if len(a):
        last = one_cluster_claim(
            "one_cluster_last_layer",
            "each filter of AVGG-16's last CL (layer 13) has one cluster",
            a.iloc[0],
            req[:1],
        )
        out += claims.on(avgg.attrs.get("runs", ()), [last])
    return claims.on([*avgg.attrs.get("runs", ()), *vgg.attrs.get("runs", ())], out)


def size_distributions(frames: dict[str, pd.DataFrame] | None, tap: str = "13") -> BookFigure | None:
    """*mechanism* Fig. 8: the cluster-size distribution of one layer in several models, with the paper's mean
    cluster sizes (AVGG-16 2.5, VGG-16 2.88) marked."""
    if frames is None:
        return None
    fig, ((ax,),) = new_figure(3.8)
    models_ = list(frames)
    colors = dict(zip(models_, sns.color_palette()))
    ks = sorted({int(k) for f in frames.values() for k in f[f["layer"].astype(str) == tap]["size"]})
    w = 0.8 / len(models_)
    parts = []
    for i, m in enumerate(models_):
        f = frames[m]
        f = f[f["layer"].astype(str) == tap].set_index("size")["fraction"].reindex(ks).fillna(0)
        pos = np.arange(len(ks)) + (i - (len(models_) - 1) / 2) * w
        ax.bar(pos, f, w, color=colors[m], label=f"{m}, this run")
        mean = float((f.index.to_numpy() * f.to_numpy()).sum())
        ref = P.get(m, {}).get("C_s", {}).get(tap)
        if ref is not None and ks:
            ax.axvline(
                np.interp(ref, ks, np.arange(len(ks))),
                c=colors[m],
                ls="--",
                label=f"{m}, paper: mean size {ref:g}",
            )
        parts.append(f"{m}: mean size {mean:.2f}" + (f" (the paper: {ref:g})" if ref is not None else ""))
    ax.set(
        xticks=np.arange(len(ks)),
        xticklabels=[str(k) for k in ks],
        xlabel="cluster size",
        ylabel="fraction of the clusters",
        title=f"layer {tap}",
    )
    ax.legend(fontsize=8)
    what = (
        f"Layer {tap}: the fraction of clusters of each size in each network, with the paper's mean cluster "
        f"sizes as dashed lines: " + "; ".join(parts) + "."
    )
    alt = f"Grouped bars of cluster-size fractions at layer {tap} per network: " + "; ".join(parts) + "."
    return describe(fig, what, alt, "*mechanism* Fig. 8", True)
