"""*mechanism* Fig. 3: single-filter decision matrices (DESIGN step 3).

The paper's caption: "Single filter SR. (A) Example where the first m = 10 CLs of VGG-16 are concatenated with
a trained FC layer consisting of 2048 inputs, 4 for each of the 512 filters. All weights of the FC layer are
silenced (light gray) except for the emerging weights from the selected filter (brown). (B) Representative
filter in layer 13 where the mutual input-output label probability indicates the selection of a single output
label independent of the input label (left). Similarly, a filter in layer 4 selecting mainly two output labels
(right). Test inputs with zero fields on all outputs are excluded (Supplementary Information)." Used by
notebooks/mechanism-fig3-decision-matrices.ipynb.

In order: the comparison with the paper (:func:`compare_accuracy`, the FC layers' accuracy), the computation
(:func:`pick_decision_filters`: every filter's decision matrix and the two filters shown,
:func:`picked_table`), the claims (:func:`claims_fig3`) and the figure (:func:`decision_matrices`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.figures.common import mechanism_floor
from helpers.figures.steps import skippable
from helpers.figures.style import describe, label_axis, label_names, new_figure, sorted_taps
from helpers.method import fields
from helpers.reference import claims
from helpers.reference import printed as paper
from helpers.train import models


def compare_accuracy(study, model: str = "vgg16") -> list[tuple]:
    """The FC-layer accuracy of each analysed tap beside *mechanism*'s (= *universal* Table 6, K = 10)."""
    ref = (
        paper.table("table6", 10).set_index("tap")["accuracy"] if model == "vgg16" else pd.Series(dtype=float)
    )
    taps = list(ref.index) if study is None else list(study.probes)
    return [
        (
            f"accuracy, layer {t}",
            float(ref[t]) if t in ref.index else None,
            None if study is None else study.probes[t].test_acc,
        )
        for t in taps
    ]


@skippable
def pick_decision_filters(study, deep: str, shallow: str) -> dict | None:
    """Decision matrices of all filters of two taps, and the two filters *mechanism* Fig. 3 shows.

    Rules (printed on the page): at ``deep``, the filter whose predictions go most to one label
    whatever the input (largest mean column of its decision matrix); at ``shallow``, among filters
    that predict at least two labels, the one spreading its predictions over the most labels
    (most columns holding >= 10% of its predictions).
    """
    test_f, test_y = study.features("test")
    N_l = study.data.num_classes
    out = {}
    for tap, rule in (
        (shallow, "broad decision style: most output labels holding >= 10% of the predictions"),
        (deep, "one label whatever the input: largest mean column share"),
    ):  # drawn shallow, deep
        D, kept = fields.decision_matrices(study.probes[tap].W, test_f[tap], test_y, N_l)
        share = D.mean(1)  # (N_f, N_l): share of all predictions going to each label
        alive = kept.sum(1) > 0
        if tap == deep:
            score = share.max(1).values
        else:
            score = (share >= 0.1).sum(1).float() + 1e-3 * D.diagonal(dim1=1, dim2=2).mean(1)
        score[~alive] = -np.inf
        f = int(score.argmax())
        top = share.max(1).values[alive]
        few = share.topk(min(FEW, N_l), dim=1).values.sum(1)[alive]
        out[tap] = dict(
            filter=f,
            rule=rule,
            D=D[f].numpy(),
            top_label=int(share[f].argmax()),
            top_share=float(share[f].max()),
            labels_used=int((share[f] >= 0.1).sum()),
            diag=float(D[f].diagonal().mean()),
            one_label_fraction=float((top > 0.5).float().mean()),
            few_label_fraction=float((few > 0.5).float().mean()),
            live=int(alive.sum()),
            F_s=int(study.probes[tap].W.shape[2]),
            network=study.run.test_acc,
            run=getattr(study.run, "key", ""),
        )
    return out


@skippable
def picked_table(picked: dict | None) -> pd.DataFrame | None:
    """The filters Fig. 3 shows and the rule that picked each."""
    return pd.DataFrame(
        [
            dict(
                layer=t,
                filter=p["filter"],
                rule=p["rule"],
                top_label=p["top_label"],
                top_share=p["top_share"],
                labels_used=p["labels_used"],
                mean_diagonal=p["diag"],
            )
            for t, p in picked.items()
        ]
    )


ONE_LABEL_SHARE = claims.EACH  # "each one of the filters selects a single output label"
FEW = 3  # "one or a few output labels": a filter's three most-predicted labels


@skippable
def claims_fig3(
    picked: dict | None, deep: str, shallow: str, model: str = "vgg16"
) -> list[claims.Claim] | None:
    """*mechanism* Fig. 3B: every layer-13 filter alone selects one output label whatever the input (forced
    where the tap is 1x1, :func:`_one_label`), and "a similar preference also characterizes most of the
    filters in the lower layers": at the page's lower tap, most live filters send more than half of their
    predictions to at most :data:`FEW` labels, whatever the input (a filter that follows the input spreads
    them over all labels, about 1 / N_l each)."""
    d, s = picked[deep], picked[shallow]
    req = [mechanism_floor(d["network"], model)]
    out = [_one_label(d, deep, req)]
    below = claims.Precondition(
        models.tap_depth(shallow) < models.tap_depth(deep), f"layer {shallow} is not below layer {deep}"
    )
    if "few_label_fraction" in s:
        out.append(
            claims.paper_claim(
                "lower_filters_prefer",
                f"most layer-{shallow} filters select one or a few output labels, independent of the input "
                "label",
                s["few_label_fraction"] > claims.MAJORITY,
                f"{s['few_label_fraction']:.0%} of {s['live']} live filters put > 50% of their "
                f"predictions on their {FEW} most-predicted labels",
                test=f"more than {claims.MAJORITY:.0%} of the live filters send > 50% of their "
                f"predictions to at most {FEW} labels",
                requires=req + [below],
            )
        )
    out.append(
        claims.consistency(
            f"the shown layer-{shallow} filter spreads its predictions over more labels than the "
            f"shown layer-{deep} one",
            s["labels_used"] > d["labels_used"],
            f"labels with >= 10% of predictions: {s['labels_used']} vs {d['labels_used']}",
            test="the two filters are picked as extremes of their layers (rules above): "
            "an illustration, not a test",
        )
    )
    return claims.on([d.get("run", ""), s.get("run", "")], out)


def _one_label(d: dict, deep: str, req: list) -> claims.Claim:
    """*mechanism*: "in layer 13 each one of the filters selects a single output label", on the deep tap's
    filters ``d``.
    Where the tap is 1x1 (F_s = 1: VGG-16's layer 13 after ReLU and max pooling) it is forced: filter f's
    fields are W[:, f] x_f with x_f >= 0, so every input that reaches the outputs at all is sent to
    argmax_j W[j, f], the same label whatever the input; the record is then a consistency check, true by the
    architecture, not a finding."""
    holds = d["one_label_fraction"] >= ONE_LABEL_SHARE
    claim = f"each layer-{deep} filter selects a single output label, independent of the input label"
    evidence = (
        f"{d['one_label_fraction']:.0%} of {d['live']} live filters put > 50% of their predictions on one "
        "label"
    )
    test = f">= {ONE_LABEL_SHARE:.0%} of the live filters send > 50% of their predictions to one label"
    if d.get("F_s") == 1:
        return claims.consistency(
            claim,
            holds,
            evidence + " (F_s = 1: each filter's field matrix has rank one)",
            test=test + "; forced by the 1x1 tap, so a check of the code",
            source="deep_filter_one_label",
        )
    return claims.paper_claim("deep_filter_one_label", claim, holds, evidence, test=test, requires=req)


def decision_matrices(picked: dict | None, names=None):
    """*mechanism* Fig. 3: the decision matrices of the picked filters, shallow (left) to deep (right)."""
    if picked is None:
        return None
    taps = sorted_taps(picked)
    fig, axes = new_figure(4.4, 1, len(taps))
    parts = []
    for ax, tap in zip(axes[0], taps):
        p = picked[tap]
        D = np.asarray(p["D"])
        n = len(D)
        im = ax.imshow(D, vmin=0, vmax=1, cmap="viridis")
        ax.grid(False)
        label_axis(ax, names, n, "x")
        label_axis(ax, names, n, "y")
        top = (label_names(names, n) or [str(i) for i in range(n)])[p["top_label"]]
        ax.set(
            xlabel="predicted label (the filter's largest field)",
            ylabel="input label",
            title=f"layer {tap}, filter {p['filter']}",
        )
        parts.append(
            f"layer {tap}, filter {p['filter']}: {p['labels_used']} output label(s) with at least 10% of "
            f"its predictions, {p['top_share']:.0%} of them on {top}"
        )
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8, label="fraction of the input label's images")
    what = (
        "Decision matrices of single filters: row i holds the fraction of label-i test images each output "
        "label gets from the filter's fields alone (all other FC weights silenced); " + "; ".join(parts) + "."
    )
    alt = "Heat maps, input label down, predicted label across, one per filter: " + "; ".join(parts) + "."
    return describe(fig, what, alt, "*mechanism* Fig. 3")
