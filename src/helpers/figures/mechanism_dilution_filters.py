"""*mechanism*'s dilution (Discussion; no figure in the paper): random layer-13 filters removed.

The sentence it reproduces: "randomly removing ~150 filters out of 512 of the trained VGG-16 layer 13, which
was FC to the output (Fig. 1B), did not affect the SRs, which remained at ~0.94", and for AVGG-16 "the SRs
remained practically the same, with 100 filters instead of 512"; and, from Fig. 5B's text, "Silencing a large
fraction of filters, which include a specific label, impairs equalization among labels and substantially
decreases the SRs". Used by notebooks/mechanism-dilution-filters.ipynb.

In order: the computation (:func:`dilution`: the FC layer's test accuracy with k random filters removed, k as
fractions of N_f, the FC layer retrained on the kept filters as the paper's was, and silenced without
retraining; :func:`dilution_models`, :func:`dilution_summary`), the comparison with the paper
(:func:`compare_dilution`), the claims (:func:`claims_dilution`), the filters of one label silenced
(:func:`targeted_silencing`, :func:`claims_targeted`) and the figure (:func:`plot_dilution`).
"""

from __future__ import annotations

import pandas as pd
import seaborn as sns

from helpers.figures.common import P, mechanism_floor
from helpers.figures.steps import skippable
from helpers.figures.style import PAPER, BookFigure, describe, new_figure
from helpers.method import afcc
from helpers.reference import claims
from helpers.reference.claims import TOL

DILUTION_FRACTIONS = (0.0, 0.1, 0.2, 150 / 512, 0.4, 0.5, 0.6, 0.7, 1 - 120 / 512, 1 - 100 / 512)
RETRAINED_FRACTIONS = (150 / 512, 1 - 120 / 512, 1 - 100 / 512)  # the paper's points
RETRAINED_DRAWS = (
    0,
    1,
)  # each retraining is a probe's (seconds to a minute): two draws, where silencing has three


def _ks(fractions, N_f: int) -> list[int]:
    return sorted({int(round(fr * N_f)) for fr in fractions if 0 < round(fr * N_f) < N_f})


@skippable
def dilution(study, tap: str = "13", seeds=(0, 1, 2)) -> pd.DataFrame | None:
    """Test accuracy with k random filters of ``tap`` removed, k as fractions of N_f (*mechanism*
    Discussion): the FC layer retrained on the kept filters at :data:`RETRAINED_FRACTIONS` (``retrained``,
    as the paper did: its layer "was FC to the output"), and silenced without retraining at every fraction
    of :data:`DILUTION_FRACTIONS` (this book's curve); per row the distinct clusters the kept filters hold."""
    (train_f, train_y), (test_f, test_y) = study.features("train"), study.features("test")
    probe, clusters = study.probes[tap], study.layers[tap].clusters
    N_f = probe.W.shape[1]
    everything = dict(
        k=0, kept=N_f, accuracy=probe.test_acc, distinct_clusters=afcc.distinct_clusters(clusters)
    )
    silenced = afcc.dilution_curve(probe.W, test_f[tap], test_y, [0, *_ks(DILUTION_FRACTIONS, N_f)], seeds)
    retrained = afcc.dilution_retrained(
        probe,
        clusters,
        (train_f[tap], train_y),
        (test_f[tap], test_y),
        _ks(RETRAINED_FRACTIONS, N_f),
        RETRAINED_DRAWS,
    )
    out = pd.concat(
        [
            silenced.assign(retrained=False),
            pd.DataFrame([everything]).assign(retrained=True, seed=0),
            retrained.assign(retrained=True),
        ],
        ignore_index=True,
    )
    out["fraction"] = out["k"] / N_f
    out["model"] = study.run.config.model
    out["network"] = study.run.test_acc
    return out


@skippable
def dilution_models(page, models=("vgg16", "avgg16"), tap: str = "13") -> pd.DataFrame | None:
    """:func:`dilution` of layer ``tap`` for each model (each trained and probed through the run cache)."""
    return pd.concat([dilution(page.study(model=m, taps=[tap]), tap) for m in models], ignore_index=True)


@skippable
def dilution_summary(d: pd.DataFrame | None) -> pd.DataFrame | None:
    """Mean, min and max accuracy over the random draws, per model, k and whether the FC layer was
    retrained."""
    keys = ["model", "retrained", "k", "fraction"]
    return d.groupby(keys)["accuracy"].agg(["mean", "min", "max"]).reset_index()


def _at(d: pd.DataFrame, fraction: float, column: str = "accuracy", retrained: bool = True) -> float:
    """The mean of ``column`` over the draws at the k nearest ``fraction``, retrained or not."""
    d = d[d["retrained"] == retrained]
    k = d.loc[(d["fraction"] - fraction).abs().idxmin(), "k"]
    return float(d[d["k"] == k][column].mean())


def compare_dilution(d: pd.DataFrame | None) -> list[tuple]:
    def get(m, fr, retrained=True):
        if d is None or not (d["model"] == m).any():
            return None
        return _at(d[d["model"] == m], fr, retrained=retrained)

    return [
        ("VGG-16 layer 13, all filters", P["vgg16"]["accuracy"], get("vgg16", 0.0)),
        (
            "VGG-16 layer 13, 150 of 512 removed, FC retrained",
            P["vgg16"]["dilution"]["accuracy"],
            get("vgg16", 150 / 512),
        ),
        ("the same, silenced without retraining (this book's)", None, get("vgg16", 150 / 512, False)),
        ("AVGG-16 layer 13, all filters", P["avgg16"]["accuracy"], get("avgg16", 0.0)),
        ("AVGG-16 layer 13, 100 of 512 kept, FC retrained", "about the same", get("avgg16", 1 - 100 / 512)),
    ]


SLIGHT = 0.03  # "only slightly affected": at most 3 percentage points
PAPER_FILTERS_PER_CLUSTER = 350 / 120  # *mechanism*: 350 filters could occupy the 120 label triplets


def _coverage(d: pd.DataFrame, fraction: float) -> str:
    """The kept filters against the distinct clusters they hold, beside the paper's count argument."""
    kept, held, every = (
        _at(d, fraction, "kept"),
        _at(d, fraction, "distinct_clusters"),
        _at(d, 0.0, "distinct_clusters"),
    )
    return (
        f"the {kept:.0f} kept filters hold {held:.1f} of the layer's {every:.0f} distinct clusters, "
        f"{kept / max(held, 1):.1f} filters per cluster held (the paper's count: ~350 filters for 120 label "
        f"triplets, {PAPER_FILTERS_PER_CLUSTER:.1f})"
    )


@skippable
def claims_dilution(d: pd.DataFrame | None) -> list[claims.Claim] | None:
    """*mechanism* Discussion: random layer-13 filters removed, as fractions of N_f (the paper's counts of
    512), the FC layer retrained on the kept ones as the paper's layer "FC to the output" was."""
    out = []
    v = d[d["model"] == "vgg16"]
    if len(v):
        req = [mechanism_floor(float(v["network"].iloc[0]), "vgg16")]
        N_f = int(v["kept"].max())
        full, cut, few = _at(v, 0.0), _at(v, 150 / 512), _at(v, 1 - 120 / 512)
        out += [
            claims.paper_claim(
                "dilution",
                "removing 29% of VGG-16's layer-13 filters at random (the paper's 150 of 512) does "
                "not affect "
                "the accuracy of the FC layer trained on the rest",
                full - cut < TOL,
                f"{full:.3f} -> {cut:.3f} ({round(150 / 512 * N_f)} of {N_f} removed, mean of the random "
                f"draws; {_at(v, 150 / 512, retrained=False):.3f} silenced without retraining); "
                + _coverage(v, 150 / 512),
                test="loss < 0.01, the FC layer retrained on the kept filters",
                requires=req,
            ),
            claims.addition(
                "with 23% of the layer-13 filters kept (the paper's 120 of 512) the accuracy is "
                "only slightly "
                "lower",
                full - few <= SLIGHT,
                f"{full:.3f} -> {few:.3f}; " + _coverage(v, 1 - 120 / 512),
                test=f"loss <= {SLIGHT}, the FC layer retrained on the kept filters (the paper diluted "
                "layers "
                "11-13 of the network it trained: a related experiment, not its own)",
                source="few_filters_120",
                requires=req,
            ),
        ]
    a = d[d["model"] == "avgg16"]
    if len(a):
        req = [mechanism_floor(float(a["network"].iloc[0]), "avgg16")]
        full, cut = _at(a, 0.0), _at(a, 1 - 100 / 512)
        out.append(
            claims.paper_claim(
                "dilution__avgg16",
                "AVGG-16 keeps its accuracy with 20% of its layer-13 filters (the paper's 100 of 512)",
                full - cut < TOL,
                f"{full:.3f} -> {cut:.3f}; " + _coverage(a, 1 - 100 / 512),
                test="loss < 0.01, the FC layer retrained on the kept filters (the paper does not say how it "
                "removed them)",
                requires=req,
            )
        )
    return out


@skippable
def targeted_silencing(
    page, model: str | None = None, tap: str = "13", seeds=(0, 1, 2)
) -> pd.DataFrame | None:
    """Per label of layer ``tap`` of ``model`` (default: the page's), the filters whose clusters hold it
    silenced against as many random filters (:func:`helpers.method.afcc.label_silencing`, on the study the
    dilution made: no retraining), the label's SR and the SR over all labels."""
    study = page.study(model=model or page.model, taps=[tap])
    test_f, test_y = study.features("test")
    out = afcc.label_silencing(study.probes[tap].W, study.layers[tap].clusters, test_f[tap], test_y, seeds)
    out.attrs.update(
        network=study.run.test_acc,
        model=study.run.config.model,
        tap=tap,
        runs=(getattr(study.run, "key", ""),),
        draws=len(seeds),
    )
    return out


@skippable
def claims_targeted(s: pd.DataFrame | None) -> list[claims.Claim] | None:
    """*mechanism* (Fig. 5B's text): "Silencing a large fraction of filters, which include a specific label,
    impairs equalization among labels and substantially decreases the SRs", label by label (``s``:
    :func:`targeted_silencing`): label i's SR with its filters silenced below the lowest of the random draws
    by more than "only slightly" (:data:`SLIGHT`), for :data:`helpers.reference.claims.EACH` of the labels
    that some filter's clusters hold."""
    tap, held = s.attrs.get("tap", "13"), s[s["filters"] > 0]
    beyond = held["sr_random_min"] - held["sr_targeted"] > SLIGHT
    evidence = (
        f"{int(beyond.sum())} of {len(held)} labels beyond; filters holding a label: "
        f"{int(held['filters'].min())}-{int(held['filters'].max())} "
        f"({held['fraction'].min():.0%}-{held['fraction'].max():.0%} of the layer); the label's SR "
        f"{held['sr_full'].mean():.3f} -> {held['sr_targeted'].mean():.3f} targeted vs "
        f"{held['sr_random'].mean():.3f} random (means over the labels); all labels' SR "
        f"{held['acc_full'].mean():.3f} -> {held['acc_targeted'].mean():.3f} targeted vs "
        f"{held['acc_random'].mean():.3f} random"
        if len(held)
        else "no label is in any cluster"
    )
    claim = claims.paper_claim(
        "silencing_label",
        f"silencing the layer-{tap} filters whose clusters hold a label decreases its SR substantially, "
        "beyond silencing as many random filters",
        beyond.mean() >= claims.EACH if len(held) else None,
        evidence,
        test=f"label by label: its SR with its filters silenced < the lowest of {s.attrs.get('draws', 3)} "
        f"random draws of as many filters - {SLIGHT}, for >= {claims.EACH:.0%} of the labels (no "
        "retraining; the label's appearances fall to 0 by construction)",
        requires=[mechanism_floor(s.attrs.get("network"), s.attrs.get("model", "vgg16"))],
    )
    return claims.on(s.attrs.get("runs", ()), [claim])


def plot_dilution(d: pd.DataFrame | None) -> BookFigure | None:
    """Accuracy against the fraction of layer-13 filters removed (mean and range over random draws): the FC
    layer retrained on the kept filters (solid, as the paper did) and silenced without retraining (dashed),
    with the paper's points (VGG-16: 0.94 with 150 of 512 removed; AVGG-16: about its 0.955 with 100 of 512
    kept)."""
    if d is None:
        return None
    fig, ((ax,),) = new_figure(4.2)
    colors = dict(zip(sorted(d["model"].unique()), sns.color_palette()))
    for (m, retrained), g in d.groupby(["model", "retrained"]):
        s = g.groupby("fraction")["accuracy"].agg(["mean", "min", "max"]).reset_index()
        how = "FC retrained" if retrained else "silenced, not retrained"
        ax.plot(s["fraction"], s["mean"], "o-" if retrained else "x--", c=colors[m], label=f"{m}, {how}")
        ax.fill_between(s["fraction"], s["min"], s["max"], color=colors[m], alpha=0.2 if retrained else 0.08)
    pts = [
        ("vgg16", 0.0, P["vgg16"]["accuracy"]),
        ("vgg16", 150 / 512, P["vgg16"]["dilution"]["accuracy"]),
        ("avgg16", 0.0, P["avgg16"]["accuracy"]),
        ("avgg16", 1 - 100 / 512, P["avgg16"]["accuracy"]),
    ]
    for m in colors:
        p = [(f, a) for mm, f, a in pts if mm == m]
        ax.plot(*zip(*p), **dict(PAPER, color=colors[m], ls="none", ms=9, label=f"{m}, paper"))
    ax.axvline(150 / 512, c="grey", ls=":", lw=1)
    ax.axvline(1 - 100 / 512, c="grey", ls=":", lw=1)
    ax.set(
        xlabel="fraction of the layer-13 filters removed (dotted: 150 of 512; 100 of 512 kept)",
        ylabel="test accuracy",
        ylim=(0, 1),
    )
    ax.legend(fontsize=7, loc="lower left")
    kept = d[d["retrained"]]
    means = {m: g.groupby("fraction")["accuracy"].mean() for m, g in kept.groupby("model")}
    what = (
        "Test accuracy of the FC layer from layer 13 with a fraction of its filters removed at random (line: "
        "mean of the draws; band: their range), the FC layer retrained on the kept filters (solid) or the "
        "removed ones only silenced (dashed), beside the paper's: VGG-16 keeps 0.94 with 150 of 512 filters "
        "removed, AVGG-16 about its 0.955 with only 100 of 512 kept (hollow squares). Retrained: "
        + "; ".join(
            f"{m}: {v.iloc[0]:.3f} with all filters, {v.iloc[-1]:.3f} with {v.index[-1]:.0%} removed"
            for m, v in means.items()
        )
        + "."
    )
    alt = (
        "Line chart of test accuracy against the fraction of layer-13 filters removed, per model a solid "
        "line (retrained) and a dashed one (not retrained) with shaded ranges, and hollow squares at the "
        "paper's accuracies. Retrained: "
        + "; ".join(f"{m}: {v.iloc[0]:.3f} falling to {v.iloc[-1]:.3f}" for m, v in means.items())
        + "."
    )
    return describe(fig, what, alt, "*mechanism* Discussion (dilution; no figure in the paper)", True)
