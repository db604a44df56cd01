"""What the *mechanism* pages share: the accuracy floor of the paper's claims and a few helpers.

*mechanism*'s claims describe trained networks, so a run is tested only when its network reaches 0.8 of the
paper's CIFAR-10 accuracy for the same model (:func:`mechanism_floor`; :func:`frame_floor` reads the network's
accuracy and model from a per-layer table's ``attrs``); below it a claim is "not testable here". Beside the
floor: :func:`shallow_to_deep`, the order every per-layer claim reads its table in, and :func:`claims_noise`,
the claim of Fig. 5A that the noise per filter "decreases with layers toward the output", checked by the Fig.
4 (notebooks/mechanism-fig4-field-matrices.ipynb) and Fig. 5
(notebooks/mechanism-fig5-cluster-statistics.ipynb) pages and, epoch by epoch, by
:mod:`helpers.figures.training_dynamics`. No notebook imports this module: the figure modules do.
"""

from __future__ import annotations

import pandas as pd

from helpers.figures.steps import skippable
from helpers.reference import claims
from helpers.reference import printed as paper
from helpers.reference.claims import accuracy_floor, falls, series
from helpers.train import models

P = paper.MECHANISM


def mechanism_floor(network: float | None, model: str | None = "vgg16") -> claims.Precondition:
    """The accuracy floor of *mechanism*'s claims: 0.8 of the paper's CIFAR-10 accuracy of ``model``."""
    if model not in P or "accuracy" not in P.get(model, {}):
        return claims.Precondition(
            False, f"*mechanism* reports no accuracy for {model!r}, so no floor can be set"
        )
    return accuracy_floor(network, P[model]["accuracy"], f"the {model} network")


def frame_floor(frame: pd.DataFrame, model: str | None = None) -> claims.Precondition:
    """:func:`mechanism_floor` of a table whose ``attrs`` carry its network's accuracy and model."""
    return mechanism_floor(frame.attrs.get("network"), model or frame.attrs.get("model", "vgg16"))


def shallow_to_deep(stats: pd.DataFrame) -> pd.DataFrame:
    """Rows of a per-layer table ordered from the shallowest layer to the deepest (whatever order they came
    in)."""
    return models.by_depth(stats, "layer")


@skippable
def claims_noise(stats: pd.DataFrame | None) -> list[claims.Claim] | None:
    """*mechanism*: "the average noise per filter decreases with layers toward the output" (Fig. 5A), layer by
    layer."""
    s = shallow_to_deep(stats)
    return [
        claims.paper_claim(
            "noise_falls_layer_by_layer__mechanism",
            "the noise per filter n falls layer by layer toward the output",
            falls(s["n"]) if len(s) >= 2 else None,
            series([f"L{t}" for t in s["layer"]], s["n"], "{:.2f}"),
            test="n of each layer < n of the layer before it",
            requires=[frame_floor(stats)],
        )
    ]
