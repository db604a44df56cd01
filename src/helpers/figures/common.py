"""TODO docstring."""

from __future__ import annotations

import pandas as pd

from helpers.reference import claims
from helpers.reference import printed as paper
from helpers.reference.claims import accuracy_floor
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
    """:func:`_floor` of a table whose ``attrs`` carry its network's accuracy and model."""
    return mechanism_floor(frame.attrs.get("network"), model or frame.attrs.get("model", "vgg16"))


def shallow_to_deep(stats: pd.DataFrame) -> pd.DataFrame:
    """Rows of a per-layer table ordered from the shallowest layer to the deepest (whatever order they came in)."""
    return models.by_depth(stats, "layer")
