"""TODO docstring."""

from __future__ import annotations

from helpers.book.page import skippable
from helpers.figures.mechanism_fig4_field_matrices import clusters_are_blocks
from helpers.figures.universal_layer_tables import floor_for
from helpers.reference import claims
from helpers.reference.claims import labels_at_least


@skippable
def claims_fig3(view: dict | None, study) -> list[claims.Claim] | None:
    """The shown filter's clusters are blocks of ones (a check); the layer's clusters are small against the labels
    (*universal*: "the average cluster size is small at 2 out of 100 labels")."""
    la = study.layers[view["tap"]]
    return [
        claims.consistency(
            "the filter's clusters are blocks of ones of its clipped matrix",
            clusters_are_blocks([view]),
            "checked element by element",
            test="true by construction of the cluster rule",
        ),
        fig3_claim(
            la.C_s if la.sizes else None,
            la.N_l,
            study.run.test_acc if study.run else None,
            f"this filter's sizes {[len(c) for c in view['clusters']]}",
            view["tap"],
        ),
    ]


def fig3_claim(
    C_s: float | None, N_l: int, network: float | None, note: str = "", tap: str = "10"
) -> claims.Claim:
    """*universal*: at the saturating layer "the average cluster size is small at 2 out of 100 labels"."""
    return claims.paper_claim(
        "noise_falls_layer_by_layer__universal",
        f"layer {tap}'s clusters are small, about 2 out of 100 labels",
        None if C_s is None else C_s <= 3,
        f"C_s {C_s if C_s is None else round(C_s, 2)} of {N_l} labels; {note}",
        test="C_s <= 3",
        requires=[
            floor_for(N_l, network, "vgg16"),
            labels_at_least(N_l, 100, "with 10 labels a cluster of 2 is a fifth of them"),
        ],
    )
