"""*mechanism* Fig. 5: the statistics of the filters layer by layer, n, N_c, C_s (DESIGN step 8).

The paper's caption: "Statistical features of filters per layer in VGG-16. (A) Averaged results obtained from
four trained VGG-16 samples. (B) Appearance number of each label in the diagonal clusters of the 512 filters
of layer 13, obtained from a representative sample (left), including the average number (dashed-red horizontal
line) and for layer 7 with 256 filters (right). (C) Output field histogram and its average value (dashed-red
vertical line) of elements belonging to cluster rows of the 512 normalized matrices of layer 13 (e.g. Fig. 4A,
left matrix), excluding elements above-threshold (left). Similarly, for non-cluster rows (right)." Used by
notebooks/mechanism-fig5-cluster-statistics.ipynb; its per-layer table (:func:`layer_statistics`) also serves
the Fig. 3, 4, 7 and 8, threshold and *universal* Fig. 3 pages, and its figure of Fig. 5A draws VGG-6's Fig.
7C.

In order: the computation (:func:`layer_statistics`, :func:`rule_comparison`, :func:`size_fractions`), the
comparison with the paper (:func:`compare_fig5`), the claims (:func:`claims_fig5`, with the tolerances above
it) and the figures (:func:`cluster_statistics`, Fig. 5A; :func:`appearances`, 5B; :func:`histograms`, 5C).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns

from helpers.figures.common import (  # noqa: F401  (the per-layer table: the pages call it as Fig. 5's)
    P,
    claims_label_order,
    claims_noise,
    equal_appearances_claim,
    frame_floor,
    layer10_vs_13_claim,
    layer_statistics,
    one_cluster_claim,
    one_cluster_share,
    orders_claim,
    rule_comparison,
    seed_statistics,
    size_fractions,
)
from helpers.figures.probe_protocol import protocol_precondition
from helpers.figures.steps import skippable
from helpers.figures.style import (
    NAME,
    PAPER,
    PAPER_T6,
    RUN,
    BookFigure,
    describe,
    label_axis,
    new_figure,
    paper_line,
    sorted_taps,
    xy_series,
)
from helpers.method import study as method
from helpers.method.layer import field_magnitudes
from helpers.reference import claims
from helpers.reference import printed as paper_mod


def compare_fig5(stats: pd.DataFrame | None, model: str = "vgg16") -> list[tuple]:
    ref = P[model]
    s = None if stats is None else stats.set_index("layer")
    get = (
        (lambda t, c: None)
        if s is None
        else (lambda t, c: float(s.loc[t, c]) if t in s.index and c in s.columns else None)
    )
    rows = [(f"noise n, layer {t}", v, get(t, "n")) for t, v in ref["noise"].items()]
    rows += [(f"C_s, layer {t}", v, get(t, "C_s")) for t, v in ref["C_s"].items()]
    rows += [(f"N_c, layer {t}", v, get(t, "N_c")) for t, v in ref["N_c"].items()]
    rows += [
        (f"appearances per label, layer {t}", v, get(t, "appearances"))
        for t, v in ref.get("appearances", {}).items()
    ]
    return rows


# the tolerances of Fig. 5's claims, as strict as the paper's sentences ("each filter": claims.EACH of them)
CS_RANGE = (2.5, 3.5)  # "an average size close to 3" (2.88)
LARGE_CLUSTERS = 0.05  # layer 10: clusters "practically vanish above size 3": at most 5% of them
SAME_STATS = 0.1  # "almost identical" distributions of cluster sizes and noise: means within 10%


@skippable
def claims_fig5(
    stats: pd.DataFrame | None,
    study,
    evidence: dict | None = None,
    per_seed: pd.DataFrame | None = None,
    protocols: pd.DataFrame | None = None,
) -> list[claims.Claim] | None:
    """*mechanism* Fig. 5 and its text, from the per-layer table (:func:`layer_statistics`: per-filter
    cluster counts, each label's appearances in ``attrs["label_counts"]``), the per-layer tables of every
    network the page has (``per_seed``, :func:`seed_statistics`: the noise trend is decided over them) and, at
    layer 13, from the study: the mean sub-threshold field of cluster rows, and the layer analysed on
    training-set class means against the test set's. ``evidence`` gives these readings of layer 13 as a dict
    instead of reading them from ``study`` (the unit tests do). ``protocols``: layer 13 under the probe
    protocols the papers leave open (:func:`helpers.figures.probe_protocol.protocol_statistics`); a layer-13
    claim whose outcome turns among them is not testable here."""
    deep = "13"
    if evidence is None and study is not None and deep in study.layers:
        evidence = _layer13_readings(study, deep)
    s = stats.set_index("layer")
    req = [frame_floor(stats)]
    out = claims_noise(stats, per_seed)
    if "13" in s.index:
        out += _layer13_claims(s.loc["13"], req, protocols)
    if "10" in s.index:
        out.append(_layer10_claim(s.loc["10"], req))
    if {"10", "13"} <= set(s.index):
        out.append(layer10_vs_13_claim(stats, per_seed, req))
    out += _appearance_claims(stats.attrs.get("label_counts", {}), req)
    if evidence is not None:
        out += _evidence_claims(evidence, req)
    return claims.on(stats.attrs.get("runs", ()), out)


def _layer13_readings(study, deep: str) -> dict:
    """What :func:`claims_fig5` reads of layer ``deep`` beyond the per-layer table: the mean sub-threshold
    field of cluster rows, and n and C_s of the layer analysed on the training set's class means."""
    la = study.layers[deep]
    train_f, train_y = study.features("train")
    tr = method.analyze(
        {deep: study.probes[deep]}, (train_f, train_y), la.N_l, threshold=la.threshold, rule=la.rule
    )[1][deep]
    mags = field_magnitudes(study.probes[deep].W, study.means[deep], la.clusters, la.threshold)
    return dict(
        tap=deep,
        mean_cluster_rows=la.mean_cluster_rows,
        n=(tr.n, la.n),
        C_s=(tr.C_s, la.C_s),
        magnitudes=mags,
    )


def _sizes(r: pd.Series) -> dict[int, float]:
    return {k: float(r.get(f"size {k}", 0.0)) for k in (1, 2, 3)} | {4: float(r.get("size > 3", 0.0))}


def _each_one(r: pd.Series) -> bool | None:
    share = one_cluster_share(r)
    return None if share is None else share >= claims.EACH


def _about_3(r: pd.Series) -> bool:
    sizes = _sizes(r)
    return CS_RANGE[0] <= r["C_s"] <= CS_RANGE[1] and max(sizes, key=sizes.get) == 3


def _layer13_claims(r: pd.Series, req: list, protocols: pd.DataFrame | None = None) -> list[claims.Claim]:
    """Fig. 5A at layer 13 (row ``r`` of the per-layer table): one cluster per filter, of size about 3; each
    decided only where the probe protocols the papers leave open agree (``protocols``)."""
    sizes = _sizes(r)
    each = req + protocol_precondition(protocols, _each_one, "whether each filter has one cluster")
    return [
        one_cluster_claim("Nc_about_1_layer13__mechanism", "each layer-13 filter has one cluster", r, each),
        claims.paper_claim(
            "Cs_layer13",
            "layer-13 clusters are of size about 3, most often exactly 3",
            _about_3(r),
            f"C_s = {r['C_s']:.2f}; fractions of sizes 1, 2, 3, > 3: "
            + ", ".join(f"{v:.2f}" for v in sizes.values()),
            test=f"{CS_RANGE[0]} <= C_s <= {CS_RANGE[1]} and size 3 the most frequent",
            requires=req + protocol_precondition(protocols, _about_3, "the cluster size"),
        ),
    ]


def _layer10_claim(r10: pd.Series, req: list) -> claims.Claim:
    """Fig. 5A at layer 10 (row ``r10``): fewer clusters the larger they are, practically none above size
    3."""
    frac = [float(r10.get(c, 0.0)) for c in ("size 1", "size 2", "size 3", "size > 3")]
    return claims.paper_claim(
        "Cs_layer10_distribution",
        "the number of layer-10 clusters decreases with their size and practically vanishes above size 3",
        frac[-1] <= LARGE_CLUSTERS and all(b <= a for a, b in zip(frac, frac[1:])),
        "fractions of sizes 1, 2, 3, > 3: " + ", ".join(f"{v:.2f}" for v in frac),
        test=f"fractions non-increasing in the size, at most {LARGE_CLUSTERS:.0%} above 3",
        requires=req,
    )


def _appearance_claims(counts: dict, req: list) -> list[claims.Claim]:
    """Fig. 5B: each label appears about equally often in the clusters of layer 13 and of layer 7 (where the
    page has them; ``counts``: tap -> each label's appearances), by
    :func:`helpers.figures.common.equal_appearances_claim`."""
    keys = {"13": "appearances_equal", "7": "appearances_equal__layer7"}
    return [
        equal_appearances_claim(
            keys[t], f"each label appears about equally often in layer {t}'s clusters", {t: counts[t]}, req
        )
        for t in ("13", "7")
        if t in counts
    ]


def _evidence_claims(ev: dict, req: list) -> list[claims.Claim]:
    """Fig. 5C and the Discussion at layer ``ev["tap"]``, from the readings of :func:`claims_fig5`. The
    sub-threshold fields of cluster rows are negative by construction: with the cross-entropy loss and no
    output bias, the gradient on a filter's outputs sums to 0 over the labels, so each row of its field matrix
    sums to about 0 (exactly at initialization's sum, shrunk by the weight decay), and a cluster row that
    loses its large above-threshold fields keeps a negative remainder: a consistency check, not a finding."""
    deep = ev["tap"]
    tr_n, te_n = ev["n"]
    tr_c, te_c = ev["C_s"]
    mags = ev["magnitudes"]
    return [
        claims.consistency(
            f"the sub-threshold fields of cluster rows are negative on average (layer {deep})",
            ev["mean_cluster_rows"] < 0,
            f"mean {ev['mean_cluster_rows']:.4f}",
            test="mean < 0; forced: each row of a field matrix sums to about 0 under cross-entropy without "
            "output bias, so the row's sub-threshold rest of a cluster row is negative",
            source="subthreshold_negative__mechanism",
        ),
        orders_claim(
            "subthreshold_two_orders",
            f"layer {deep}: each output's field from a label outside the filter's clusters is, on average, "
            "two orders of magnitude below the cluster fields",
            float(max(mags["other_rows"], default=np.nan)),
            mags["cluster"],
            2,
            "mean normalized field of the cluster blocks vs the largest over the outputs of the mean "
            "magnitude of the other rows' sub-threshold fields (Fig. 5C, right)",
            req,
        ),
        claims.paper_claim(
            "train_vs_test_stats__mechanism",
            f"the distribution of cluster sizes and the noise of layer {deep} are almost identical on "
            "training and test inputs",
            _close(tr_n, te_n, SAME_STATS) and _close(tr_c, te_c, SAME_STATS),
            f"n {tr_n:.2f} (train) vs {te_n:.2f} (test); C_s {tr_c:.2f} vs {te_c:.2f}",
            test=f"n and C_s within {SAME_STATS:.0%}",
            requires=req,
        ),
    ]


def _close(a: float, b: float, rel: float = 0.1) -> bool:
    return abs(a - b) <= rel * max(abs(b), 1e-12)


def cluster_statistics(
    stats: pd.DataFrame | None, sizes: pd.DataFrame | None, title: str = "", model: str = "vgg16"
):
    """*mechanism* Fig. 5A (VGG-16) or 7 (VGG-6): n, N_c, C_s per layer beside the paper's, and the fraction
    of clusters of each size, two panels a row."""
    if stats is None:
        return None
    s = stats.assign(layer=stats["layer"].astype(str))
    s = paper_mod.by_depth(s, "layer")
    layers = list(s["layer"])
    fig, axes = new_figure(6.4, 2, 2)
    drawn = _statistic_panels(axes.ravel()[:3], s, layers, model)
    axes[0][0].legend(fontsize=8)
    _size_panel(axes[1][1], sizes, layers)
    name = NAME.get(model, model)
    what = (
        f"{title + ': ' if title else ''}Per layer of {name}, shallow to deep: the mean noise per filter n, "
        "clusters per filter N_c and mean cluster size C_s"
        + (
            f" beside the paper's ({PAPER_T6})"
            if model == "vgg16"
            else " with the paper's values where its text gives them"
            if drawn
            else ""
        )
        + "; and the fraction of each layer's clusters of each size."
    )
    alt = (
        f"Four panels over layers {', '.join(layers)}: n {xy_series(s['n'])}; N_c {xy_series(s['N_c'])}; "
        f"C_s {xy_series(s['C_s'])}"
        + (
            f"; the paper's n {xy_series([paper_line('n').get(t, np.nan) for t in layers], '{:.1f}')}"
            if model == "vgg16"
            else ""
        )
        + "; and grouped bars of the fraction of clusters of size 1, 2, 3 and more per layer."
    )
    return describe(
        fig, what, alt, "*mechanism* Fig. 5A" if model == "vgg16" else "*mechanism* Fig. 7C", bool(drawn)
    )


def _statistic_panels(axes, s: pd.DataFrame, layers: list[str], model: str) -> list[str]:
    """n, N_c and C_s per layer of :func:`cluster_statistics`, one panel each, with the paper's values where
    it gives them for ``model``; returns the statistics drawn with the paper's."""
    x = np.arange(len(s))
    drawn = []
    labels = {"n": "noise per filter n", "N_c": "clusters per filter N_c", "C_s": "mean cluster size C_s"}
    for ax, col in zip(axes, ("n", "N_c", "C_s")):
        ax.plot(x, s[col], **RUN)
        if model == "vgg16":
            ref = paper_line(col)
            ax.plot(x, [ref.get(t, np.nan) for t in layers], **dict(PAPER, label="paper (Table 6, K = 10)"))
            drawn.append(col)
        else:
            ref = paper_line(col, model)
            if ref:
                ax.plot(
                    [layers.index(t) for t in ref if t in layers],
                    [ref[t] for t in ref if t in layers],
                    **dict(PAPER, ls="none", ms=8, label="paper (text)"),
                )
                drawn.append(col)
        ax.set(xticks=x, xticklabels=layers, xlabel="layer", ylabel=col, title=labels[col], ylim=(0, None))
    return drawn


def _size_panel(ax, sizes: pd.DataFrame | None, layers: list[str]) -> None:
    """The fraction of each layer's clusters of each size (:func:`size_fractions`), as grouped bars."""
    if sizes is not None and len(sizes):
        z = sizes.assign(layer=sizes["layer"].astype(str))
        ks = sorted(z["size"].unique())
        w = 0.8 / max(1, len(layers))
        colors = sns.color_palette("viridis", len(layers))
        for i, t in enumerate(layers):
            f = z[z["layer"] == t].set_index("size")["fraction"].reindex(ks).fillna(0)
            pos = np.arange(len(ks)) + (i - (len(layers) - 1) / 2) * w
            ax.bar(pos, f, w, color=colors[i], label=f"layer {t}")
        ax.set(xticks=np.arange(len(ks)), xticklabels=[str(k) for k in ks])
        ax.legend(fontsize=7, ncol=2)
    ax.set(xlabel="cluster size", ylabel="fraction of the layer's clusters", title="cluster sizes")


def appearances(study, taps, names=None) -> BookFigure | None:
    """*mechanism* Fig. 5B: appearances of each label in a layer's clusters, with the expected mean and the
    paper's (its count of 512 filters scaled to this layer's N_f), a layer a row, shallow to deep."""
    if study is None or not taps:
        return None
    taps = sorted_taps(taps)
    names = names if names is not None else getattr(getattr(study, "data", None), "class_names", None)
    fig, axes = new_figure(2.9 * len(taps) + 0.3, len(taps), 1)
    parts = []
    for ax, tap in zip(axes[:, 0], taps):
        la = study.layers[tap]
        app = np.asarray(la.appearances)
        ax.bar(range(len(app)), app, color=sns.color_palette()[1], label="this run")
        mean = la.N_c * la.C_s * la.N_f / la.N_l if la.sizes else 0
        ax.axhline(mean, c="k", ls=":", label=f"N_c C_s N_f / N_l = {mean:.1f}")
        ref = P["vgg16"]["appearances"].get(tap)
        if ref is not None:
            scaled = ref * la.N_f / 512
            ax.axhline(
                scaled,
                c=PAPER["color"],
                ls="--",
                label=f"paper: {ref} of 512 filters = {scaled:.1f} of {la.N_f}",
            )
        label_axis(ax, names, len(app), "x")
        ax.set(ylabel="clusters holding it", title=f"layer {tap}: {la.N_f} filters")
        ax.legend(fontsize=7, loc="lower right")
        parts.append(
            f"layer {tap}: {int(app.min())} to {int(app.max())}, mean {app.mean():.1f}"
            + (f" (the paper: {ref} of 512 filters, {ref * la.N_f / 512:.1f} at this N_f)" if ref else "")
        )
    axes[-1, 0].set_xlabel("label")
    what = (
        "How many of the layer's filters hold each label in one of their clusters, against the mean "
        "N_c C_s N_f / N_l that equal appearances give: " + "; ".join(parts) + "."
    )
    alt = "Bar charts, one bar per label, one chart per layer: " + "; ".join(parts) + "."
    return describe(fig, what, alt, "*mechanism* Fig. 5B", True)


def histograms(study, tap: str) -> BookFigure | None:
    """*mechanism* Fig. 5C: sub-threshold normalized fields of cluster rows (left) and other rows (right)."""
    if study is None:
        return None
    la = study.layers[tap]
    centers = (la.bins[1:] + la.bins[:-1]) / 2
    fig, axes = new_figure(3.3, 1, 2, sharex=True, sharey=True)
    for ax, h, what, mean in (
        (axes[0][0], la.hist_cluster_rows, "rows of cluster labels", la.mean_cluster_rows),
        (axes[0][1], la.hist_other_rows, "other rows", la.mean_other_rows),
    ):
        total = max(1, h.sum())
        ax.bar(centers, h / total, width=la.bins[1] - la.bins[0])
        ax.axvline(mean, c="k", ls="--", label=f"mean {mean:.3f}")
        ax.set(
            xlabel="normalized field (below threshold)", title=f"layer {tap}: {what}", xlim=(-1, la.threshold)
        )
        ax.legend(fontsize=8)
    axes[0][0].set_ylabel("fraction of the elements")
    what = (
        f"Layer {tap}: the normalized fields below the threshold ({la.threshold:g}) of every filter, in the "
        f"rows of labels that are in one of the filter's clusters (mean {la.mean_cluster_rows:.3f}) and in "
        f"the other rows (mean {la.mean_other_rows:.3f}); the paper finds the first negative on average."
    )
    alt = (
        f"Two histograms of sub-threshold normalized fields from -1 to {la.threshold:g} at layer {tap}: "
        f"cluster rows with mean {la.mean_cluster_rows:.3f}, other rows with mean {la.mean_other_rows:.3f}."
    )
    return describe(fig, what, alt, "*mechanism* Fig. 5C")
