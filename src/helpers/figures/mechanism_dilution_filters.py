"""*mechanism*'s dilution (Discussion; no figure in the paper): random layer-13 filters silenced.

The sentence it reproduces: "randomly removing ~150 filters out of 512 of the trained VGG-16 layer 13, which
was FC to the output (Fig. 1B), did not affect the SRs, which remained at ~0.94", and for AVGG-16 "the SRs
remained practically the same, with 100 filters instead of 512". Used by
notebooks/mechanism-dilution-filters.ipynb.

In order: the computation (:func:`dilution`: the FC layer's test accuracy with k random filters silenced, k as
fractions of N_f; :func:`dilution_models`, :func:`dilution_summary`), the comparison with the paper
(:func:`compare_dilution`), the claims (:func:`claims_dilution`) and the figure (:func:`plot_dilution`).
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


@skippable
def dilution(study, tap: str = "13", seeds=(0, 1, 2)) -> pd.DataFrame | None:
    """Test accuracy with k random filters of ``tap`` silenced, k as fractions of N_f (*mechanism*
    Discussion)."""
    test_f, test_y = study.features("test")
    W = study.probes[tap].W
    N_f = W.shape[1]
    ks = sorted({int(round(fr * N_f)) for fr in DILUTION_FRACTIONS if round(fr * N_f) < N_f})
    out = afcc.dilution_curve(W, test_f[tap], test_y, ks, seeds=seeds)
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
    """Mean, min and max accuracy over the random draws, per model and k."""
    return d.groupby(["model", "k", "fraction"])["accuracy"].agg(["mean", "min", "max"]).reset_index()


def _acc_at(d: pd.DataFrame, fraction: float) -> float:
    k = d.loc[(d["fraction"] - fraction).abs().idxmin(), "k"]
    return float(d[d["k"] == k]["accuracy"].mean())


def compare_dilution(d: pd.DataFrame | None) -> list[tuple]:
    get = (
        (lambda m, fr: None)
        if d is None
        else (lambda m, fr: _acc_at(d[d["model"] == m], fr) if (d["model"] == m).any() else None)
    )
    return [
        ("VGG-16 layer 13, all filters", P["vgg16"]["accuracy"], get("vgg16", 0.0)),
        ("VGG-16 layer 13, 150 of 512 silenced", P["vgg16"]["dilution"]["accuracy"], get("vgg16", 150 / 512)),
        ("AVGG-16 layer 13, all filters", P["avgg16"]["accuracy"], get("avgg16", 0.0)),
        ("AVGG-16 layer 13, 100 of 512 kept", "about the same", get("avgg16", 1 - 100 / 512)),
    ]


SLIGHT = 0.03  # "only slightly affected": at most 3 percentage points


@skippable
def claims_dilution(d: pd.DataFrame | None) -> list[claims.Claim] | None:
    """*mechanism* Discussion: random layer-13 filters silenced, as fractions of N_f (the paper's counts of
    512)."""
    out = []
    v = d[d["model"] == "vgg16"]
    if len(v):
        req = [mechanism_floor(float(v["network"].iloc[0]) if "network" in v else None, "vgg16")]
        N_f = int(round(v["k"].max() / v["fraction"].max())) if v["fraction"].max() > 0 else 0
        full, cut, few = _acc_at(v, 0.0), _acc_at(v, 150 / 512), _acc_at(v, 1 - 120 / 512)
        out += [
            claims.paper_claim(
                "dilution",
                "silencing 29% of VGG-16's layer-13 filters at random (the paper's 150 "
                "of 512) does not affect the accuracy",
                full - cut < TOL,
                f"{full:.3f} -> {cut:.3f} ({round(150 / 512 * N_f)} of {N_f} silenced, mean of "
                "the random draws)",
                test="loss < 0.01",
                requires=req,
            ),
            claims.addition(
                "with 23% of the layer-13 filters kept (the paper's 120 of 512) the accuracy is "
                "only slightly lower",
                full - few <= SLIGHT,
                f"{full:.3f} -> {few:.3f}",
                test=f"loss <= {SLIGHT}, random filters silenced without retraining (the paper "
                "diluted layers 11-13 of the network it trained: a related experiment, not its own)",
                source="few_filters_120",
                requires=req,
            ),
        ]
    a = d[d["model"] == "avgg16"]
    if len(a):
        req = [mechanism_floor(float(a["network"].iloc[0]) if "network" in a else None, "avgg16")]
        full, cut = _acc_at(a, 0.0), _acc_at(a, 1 - 100 / 512)
        out.append(
            claims.paper_claim(
                "dilution__avgg16",
                "AVGG-16 keeps its accuracy with 20% of its layer-13 filters (the paper's 100 of 512)",
                full - cut < TOL,
                f"{full:.3f} -> {cut:.3f}",
                test="loss < 0.01, random filters silenced without retraining (the paper does "
                "not say how it removed them)",
                requires=req,
            )
        )
    return out


def plot_dilution(d: pd.DataFrame | None) -> BookFigure | None:
    """Accuracy against the fraction of layer-13 filters silenced (mean and spread over random draws), with
    the paper's points (VGG-16: 0.94 with 150 of 512 silenced; AVGG-16: about its 0.955 with 100 of 512
    kept)."""
    if d is None:
        return None
    fig, ((ax,),) = new_figure(4.2)
    colors = dict(zip(sorted(d["model"].unique()), sns.color_palette()))
    for m, g in d.groupby("model"):
        s = g.groupby("fraction")["accuracy"].agg(["mean", "min", "max"]).reset_index()
        ax.plot(s["fraction"], s["mean"], "o-", c=colors[m], label=f"{m}, this run (mean of the draws)")
        ax.fill_between(s["fraction"], s["min"], s["max"], color=colors[m], alpha=0.2)
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
        xlabel="fraction of the layer-13 filters silenced (dotted: 150 of 512; 100 of 512 kept)",
        ylabel="test accuracy",
        ylim=(0, 1),
    )
    ax.legend(fontsize=8, loc="lower left")
    means = {m: g.groupby("fraction")["accuracy"].mean() for m, g in d.groupby("model")}
    what = (
        "Test accuracy of the FC layer from layer 13 with a fraction of its filters silenced at random "
        "(line: mean of the draws; band: their range), beside the paper's: VGG-16 keeps 0.94 with 150 of "
        "512 filters silenced, AVGG-16 about its 0.955 with only 100 of 512 kept (hollow squares). "
        + "; ".join(
            f"{m}: {v.iloc[0]:.3f} with all filters, {v.iloc[-1]:.3f} with {v.index[-1]:.0%} silenced"
            for m, v in means.items()
        )
        + "."
    )
    alt = (
        "Line chart of test accuracy against the fraction of layer-13 filters silenced, one line per model "
        "with a shaded range, and hollow squares at the paper's accuracies. "
        + "; ".join(f"{m}: {v.iloc[0]:.3f} falling to {v.iloc[-1]:.3f}" for m, v in means.items())
        + "."
    )
    return describe(fig, what, alt, "*mechanism* Discussion (dilution; no figure in the paper)", True)
