"""The AFCC pages: *universal*'s "Applying filter cluster connections (AFCC)", with the FC layer retrained.

The sentences it reproduces (no figure in the paper): on VGG-16's layer 10 on CIFAR-100, "All these weights
which did not belong to a cluster in a specific filter were set to zero, resulting in approximately 194,000
zeroed weights out of 204,800 (a 95% reduction). ... After only a few training epochs, while maintaining the
~194,000 zeroed weights as zero, the similar accuracy, ~0.752, was recovered"; the same on EfficientNet-B0's
stage 9 and on the model with stage 9 removed and stage 8 connected through AFCC. Used by
notebooks/universal-afcc-vgg16.ipynb and notebooks/universal-effnet-afcc.ipynb; :func:`claims_afcc` also by
the "Beyond the papers" pages (:mod:`helpers.figures.your_model`). The EfficientNet page's own parts (its
stage 9 with the entire network retrained, as the paper did there, and the stages cut short) are in
:mod:`helpers.figures.universal_effnet_afcc`.

In order: the computation (:func:`afcc_experiment`, :func:`stage8_afcc`), the comparison with the paper and
the claims of AFCC (:func:`compare_afcc`, :func:`claims_afcc`), and the figures (:func:`afcc_long`,
:func:`accuracy_bars`, :func:`afcc_bars`).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import seaborn as sns

from helpers.figures.steps import skippable
from helpers.figures.style import PAPER, BookFigure, describe, new_figure, sorted_taps
from helpers.figures.universal_layer_tables import floor_for
from helpers.method import afcc
from helpers.method import study as method
from helpers.reference import claims
from helpers.reference import printed as paper
from helpers.reference.claims import TOL, labels_at_least
from helpers.train import models
from helpers.train.models import Tap

AFCC_CLUSTERS = ("train", "test")


def check_afcc_clusters(clusters_from: str) -> str:
    if clusters_from not in AFCC_CLUSTERS:
        raise ValueError(
            f"afcc_clusters={clusters_from!r}: choose 'train' (clusters from training-set class means, "
            f"the default: the test set only scores) or 'test' (the papers' literal reading)"
        )
    return clusters_from


def afcc_experiment(
    study, taps, seed: int = 0, clusters_from: str = "train", statistics: bool = False
) -> pd.DataFrame | None:
    """AFCC on each of ``taps``: weights kept by clusters vs the estimate ``N_f F_s C_s N_c``, accuracy
    before, after retraining with the zeros held, and with the same number of weights kept at random; with
    ``statistics``, the N_f, n, N_c and C_s of the analysis whose clusters chose the mask.

    The clusters that choose the mask come from the training set's class means (``clusters_from="train"``),
    so the test set only scores; ``"test"`` reads them from the test set, as the papers' figures do
    (*universal*: "the same filter clusters were detected for both training and test sets")."""
    check_afcc_clusters(clusters_from)
    if study is None:
        return None
    train_f, train_y = study.features("train")
    test_f, test_y = study.features("test")
    rows = []
    for tap in taps:
        p = study.probes[tap]
        la, same = mask_clusters(study, tap, clusters_from)
        rows.append(
            dict(
                afcc.afcc_row(
                    tap, p, la, (train_f[tap], train_y), (test_f[tap], test_y), seed, device=study.device
                ),
                same_clusters=same,
                clusters_from=clusters_from,
                N_l=la.N_l,
                network=study.run.test_acc,
                model=getattr(getattr(study.run, "config", None), "model", None),
                **(dict(N_f=la.N_f, n=la.n, N_c=la.N_c, C_s=la.C_s) if statistics else {}),
            )
        )
    return pd.DataFrame(rows)


def mask_clusters(study, tap: str, clusters_from: str = "train"):
    """The filter analysis whose clusters choose ``tap``'s AFCC mask, and the fraction of filters with the
    same clusters on the training and test sets: from the training set's class means (``"train"``; the
    study's analysis is the test set's), else the study's own (``"test"``; the fraction NaN: one analysis
    ran)."""
    la = study.layers[tap]
    if check_afcc_clusters(clusters_from) == "test":
        return la, np.nan
    _, tr = method.analyze(
        {tap: study.probes[tap]}, study.features("train"), la.N_l, threshold=la.threshold, rule=la.rule
    )
    return tr[tap], afcc.same_clusters(tr[tap].clusters, la.clusters)


STAGE8 = "stage 8"


@skippable
def stage_study(page, seed: int = 0):
    """The page's EfficientNet read at each of its stage taps and at stage 8 (``features[7]`` at a 1x1 grid;
    :meth:`helpers.book.page.Page.study_at`): the FC layers of all trained in one pass over the augmented
    copies of the training set, so that stage 8's is trained as every other tap's (the papers' augmentation)
    and the Table 2 page finds its stages' FC layers in the cache rather than passing the copies through
    the network again."""
    taps = [*page.run(seed).model.taps, Tap(STAGE8, "features.7", 1)]
    return page.study_at(sorted(taps, key=lambda t: paper.tap_depth(t.name)), seed=seed)


@skippable
def stage8_afcc(stages, clusters_from: str = "train") -> pd.DataFrame | None:
    """*universal* Results: EfficientNet-B0 with stage 9 removed, stage 8 (320 filters) connected to the
    output through AFCC, on :func:`stage_study`: its FC layer, clusters and AFCC as for any tap
    (:func:`afcc_experiment`; the layers below stay as trained), with the filter statistics of the clusters
    that chose the mask."""
    return afcc_experiment(stages, [STAGE8], clusters_from=clusters_from, statistics=True)


COMPARE_AFTER = "accuracy after AFCC + retraining"


def compare_afcc(res: pd.DataFrame | None, key) -> list[tuple]:
    ref = paper.AFCC[key]
    r = None if res is None else res.set_index("tap").loc[key[2]]

    def get(c):
        return None if r is None else float(r[c])

    rows = [
        ("FC weights", ref["weights"], get("weights")),
        ("weights kept", ref["kept"], get("kept")),
        ("kept fraction", ref["kept"] / ref["weights"], get("kept_fraction")),
    ]
    if "estimate" in ref:
        rows.append(("estimate N_f F_s C_s N_c", ref["estimate"], get("estimate")))
    return rows + [
        ("accuracy before", ref["accuracy_before"], get("accuracy_before")),
        (COMPARE_AFTER, ref["accuracy_after"], get("accuracy_after")),
    ]


def afcc_long(*results) -> pd.DataFrame | None:
    """AFCC results in long form for a bar chart: accuracy before, after, and with random pruning, per tap."""
    if any(r is None for r in results):
        return None
    names = dict(
        accuracy_before="before", accuracy_after="AFCC, retrained", accuracy_random="random, retrained"
    )
    return (
        pd.concat(results)
        .melt(id_vars="tap", value_vars=list(names), var_name="FC layer", value_name="accuracy")
        .replace({"FC layer": names})
    )


def claims_afcc(
    *results: pd.DataFrame | None, reduction: float = 0.9, whole: pd.DataFrame | None = None
) -> list[claims.Claim] | None:
    """Per tap (*universal*, "AFCC"): about 95% of the FC weights zeroed with no loss of accuracy after
    retraining; for stage 8 of EfficientNet-B0, the full model's accuracy reached. Beside them: AFCC against
    random pruning of the same count (this book's addition) and the kept weights against N_f F_s C_s N_c
    (equal by construction). A tap of ``whole`` (where the paper retrained the entire network:
    :func:`helpers.figures.universal_effnet_afcc.claims_network_afcc` decides it there) has its FC layer's
    retraining as this book's addition."""
    if not results or any(r is None for r in results):
        return None
    res, entire = pd.concat(results), set() if whole is None else set(whole["tap"])
    out = []
    for r in res.itertuples():
        model = models.paper_network(
            r.model
            if isinstance(getattr(r, "model", None), str)
            else ("efficientnet_b0" if str(r.tap).startswith("stage") else "vgg16")
        )  # rows written before the column; a stand-in (EfficientNet-Lite0) is tested as B0
        req = [floor_for(int(r.N_l), float(r.network), model)]
        src = "afcc_zeroes__effnet" if model == "efficientnet_b0" else "afcc_zeroes__vgg"
        out += [
            claims.paper_claim(
                src,
                f"{r.tap}: AFCC zeroes about 95% of the FC weights",
                1 - r.kept_fraction >= reduction,
                f"{r.zeroed} of {r.weights} zeroed ({1 - r.kept_fraction:.1%}); the clusters keep "
                f"C_s N_c / N_l = {r.estimate / r.weights:.2f} of them",
                test=f">= {reduction:.0%} zeroed",
                requires=req
                + [labels_at_least(int(r.N_l), 100, "the clusters keep C_s N_c / N_l of the weights")],
            ),
            no_loss(r, req, src) if r.tap not in entire else _fc_only(r, req),
        ]
        if r.tap == STAGE8 and model == "efficientnet_b0":
            out.append(
                claims.paper_claim(
                    "stage8_afcc",
                    "stage 9 removed, stage 8 through AFCC reaches the full model's accuracy",
                    r.accuracy_after >= r.network - TOL,
                    f"{r.accuracy_after:.3f} vs the full network {r.network:.3f}",
                    test=f"stage-8 AFCC accuracy >= the network's - {TOL}",
                    requires=req,
                )
            )
        out += _same_clusters_claim(r, req) + _afcc_checks(r, req, src)
    return out


AFTER = "no loss of accuracy after AFCC and retraining"
NETWORK_QUOTE = "afcc_retrained__effnet"  # EfficientNet-B0: "After retraining the entire network ..."


def no_loss(r, req: list, src: str, retrained: str = "", how: str = "", paper: bool = True) -> claims.Claim:
    """The paper's "no loss of accuracy after AFCC and retraining" (quote ``src``) on a tap's row ``r``;
    ``retrained`` names what was retrained, ``how`` adds to the evidence; ``paper=False``: this book's
    addition."""
    holds = r.accuracy_after >= r.accuracy_before - TOL
    kw = dict(test=f"after >= before - {TOL}", requires=req)
    how = f"clusters from the {r.clusters_from} set" + (f"; {how}" if how else "")
    ev = f"{r.accuracy_before:.3f} -> {r.accuracy_after:.3f} ({how})"
    claim = f"{r.tap}: {AFTER}" + (f" {retrained}" if retrained else "")
    if paper:
        return claims.paper_claim(src, claim, holds, ev, **kw)
    return claims.addition(claim, holds, ev, source=src, **kw)


def _fc_only(r, req: list) -> claims.Claim:
    """:func:`no_loss` of the FC layer retrained alone where the paper retrains the entire network (its claim
    decided there): this book's addition."""
    how = "the paper retrains the entire network: its claim is decided on that retraining"
    return no_loss(r, req, NETWORK_QUOTE, "the FC layer only", how, paper=False)


def beats_random(r, req: list, retrained: str = "", how: str = "") -> claims.Claim:
    """AFCC against random pruning of as many weights, each retrained alike (this book's addition), on a tap's
    row ``r``; ``retrained`` names what was retrained where it is not the FC layer, ``how`` adds to the
    evidence."""
    return claims.addition(
        f"{r.tap}: AFCC beats random pruning of the same count"
        + (f", {retrained} retrained" if retrained else ""),
        r.accuracy_after > r.accuracy_random,
        f"{r.accuracy_after:.3f} vs random {r.accuracy_random:.3f}" + (f" ({how})" if how else ""),
        test="retrained accuracy higher",
        requires=req,
    )


def _same_clusters_claim(r, req: list) -> list[claims.Claim]:
    """*universal*: "the same filter clusters were detected for both training and test sets", on a tap's row
    ``r`` whose mask came from the training set (else none: one analysis ran): at least
    :data:`helpers.reference.claims.EACH` of the filters with the same clusters."""
    same = getattr(r, "same_clusters", float("nan"))
    claim = f"{r.tap}: the same filter clusters are detected on the training and test sets"
    ev, test = f"{same:.0%} of the filters with identical clusters", f">= {claims.EACH:.0%} of the filters"
    src = "train_vs_test_stats__universal"
    return (
        []
        if same != same
        else [claims.paper_claim(src, claim, same >= claims.EACH, ev, test=test, requires=req)]
    )


def _afcc_checks(r, req: list, src: str) -> list[claims.Claim]:
    """Beside the paper's AFCC claims on one tap's row ``r``: AFCC against random pruning of as many weights
    (this book's addition), and the kept weights against N_f F_s C_s N_c (a consistency check)."""
    return [
        beats_random(r, req),
        claims.consistency(
            f"{r.tap}: weights kept = N_f F_s C_s N_c",
            abs(r.kept - r.estimate) <= 1e-6 * r.estimate if r.estimate > 0 else None,
            f"{r.kept} vs {r.estimate:.0f}",
            test="equal by construction (a filter's clusters are disjoint); the paper's "
            "10,800 vs 10,600 is its rounding",
            source=src,
        ),
    ]


def accuracy_bars(
    frame: pd.DataFrame | None,
    x: str,
    y: str = "accuracy",
    hue: str | None = None,
    title: str = "",
    paper: dict | None = None,
    reproduces: str = "",
) -> BookFigure | None:
    """A bar chart of accuracies (AFCC before/after, shortened models); ``paper`` maps ``(x, hue)`` (or ``x``)
    to the paper's accuracy, drawn as a hollow square on its bar. Taps run shallow to deep."""
    if frame is None:
        return None
    f = frame.copy()
    f[x] = f[x].astype(str)
    xs = list(dict.fromkeys(f[x]))
    if all(re.fullmatch(r"(stage |layer )?\d+", v) for v in xs):
        xs = sorted_taps(xs)
    hues = list(dict.fromkeys(f[hue])) if hue else [None]
    fig, ((ax,),) = new_figure(3.8, width=7.5)
    w = 0.8 / len(hues)
    parts, marked = [], False
    for i, h in enumerate(hues):
        g = f if h is None else f[f[hue] == h]
        vals = g.groupby(x)[y].mean().reindex(xs)
        pos = np.arange(len(xs)) + (i - (len(hues) - 1) / 2) * w
        ax.bar(pos, vals, w, label=h if h is not None else None, color=sns.color_palette()[i])
        for p, xv, v in zip(pos, xs, vals):
            ax.text(p, v + 0.01, f"{v:.3f}", ha="center", va="bottom", fontsize=7)
            ref = (paper or {}).get((xv, h) if h is not None else xv)
            if ref is not None:
                ax.plot([p], [ref], **dict(PAPER, ls="none", ms=9, label=None if marked else "paper"))
                marked = True
        parts.append(
            (f"{h}: " if h is not None else "") + ", ".join(f"{xv} {v:.3f}" for xv, v in zip(xs, vals))
        )
    ax.set(xticks=np.arange(len(xs)), xticklabels=xs, ylim=(0, 1.08), ylabel=y, xlabel=x, title=title)
    ax.tick_params(axis="x", labelrotation=10)
    if hue or marked:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    what = (
        f"{title + ': ' if title else ''}{y.capitalize()} per {x}"
        + (f" and {hue}" if hue else "")
        + ": "
        + "; ".join(parts)
        + (" (hollow squares: the paper's)" if marked else "")
        + "."
    )
    alt = f"Bar chart of {y} per {x}" + (f", grouped by {hue}" if hue else "") + ": " + "; ".join(parts) + "."
    return describe(
        fig, what, alt, reproduces or "*universal*, AFCC (numbers in its text, no figure)", marked
    )


def afcc_bars(frame: pd.DataFrame | None, model: str = "vgg16", after: bool = True) -> BookFigure | None:
    """:func:`accuracy_bars` of AFCC results in long form (:func:`afcc_long`), with
    the paper's accuracies before and after AFCC (*universal*, "AFCC": VGG-16 layer 10, EfficientNet-B0 stage
    9); ``after=False`` leaves the paper's after out (EfficientNet-B0's is the entire network retrained)."""
    ref = {}
    for (m, _, tap), r in paper.AFCC.items():
        if m == model:
            ref[(tap, "before")] = r["accuracy_before"]
            ref[(tap, "AFCC, retrained")] = r["accuracy_after"] if after else None
    if models.paper_network(model) == "efficientnet_b0":
        ref[("stage 8", "AFCC, retrained")] = paper.SHORTENED[
            "stage 9 removed, stage 8 (320 filters) through AFCC"
        ]
    return accuracy_bars(
        frame,
        x="tap",
        hue="FC layer",
        paper=ref,
        reproduces="*universal*, AFCC (numbers in its text, no figure)",
    )
