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
        out[tap] = dict(
            filter=f,
            rule=rule,
            D=D[f].numpy(),
            top_label=int(share[f].argmax()),
            top_share=float(share[f].max()),
            labels_used=int((share[f] >= 0.1).sum()),
            diag=float(D[f].diagonal().mean()),
            one_label_fraction=float((top > 0.5).float().mean()),
            live=int(alive.sum()),
            network=study.run.test_acc,
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


ONE_LABEL_SHARE = (
    0.9  # "each one of the filters selects a single output label": at least 90% of the live filters
)


@skippable
def claims_fig3(
    picked: dict | None, deep: str, shallow: str, model: str = "vgg16"
) -> list[claims.Claim] | None:
    """*mechanism* Fig. 3B: every layer-13 filter alone selects one output label whatever the input."""
    d, s = picked[deep], picked[shallow]
    return [
        claims.paper_claim(
            "deep_filter_one_label",
            f"each layer-{deep} filter selects a single output label, independent of the input label",
            d["one_label_fraction"] >= ONE_LABEL_SHARE,
            f"{d['one_label_fraction']:.0%} of {d['live']} live filters put > 50% of their "
            f"predictions on one label",
            test=f">= {ONE_LABEL_SHARE:.0%} of the live filters send > 50% of their predictions to one label",
            requires=[mechanism_floor(d["network"], model)],
        ),
        claims.consistency(
            f"the shown layer-{shallow} filter spreads its predictions over more labels than the "
            f"shown layer-{deep} one",
            s["labels_used"] > d["labels_used"],
            f"labels with >= 10% of predictions: {s['labels_used']} vs {d['labels_used']}",
            test="the two filters are picked as extremes of their layers (rules above): "
            "an illustration, not a test",
        ),
    ]


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
