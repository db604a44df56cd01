"""The probe's protocol where the papers are silent: how far the deep layer's statistics move (issue 34).

*mechanism* (Supplementary) gives the FC layer's η, μ, α, decay and mini-batch, and "In all simulations, data
augmentation was used"; it gives no epoch count, and its "α (regularization L2)" leaves the loss it is added
to unstated (:func:`helpers.train.probes.weight_decay`). The book's probe (100 epochs, α as PyTorch's weight
decay on the mean loss, augmented features: bench/README.md says why) is one choice among these;
:data:`PROTOCOLS` are the others a page shows. The statistics at a deep tap under each
(:func:`protocol_statistics`), and a claim read from them decided only where every protocol gives it the same
outcome (:func:`protocol_precondition`, :func:`helpers.reference.claims.same_under`).
``bench/probe_protocol.py`` studies more choices (the group's later weight decay 1e-3, unaugmented features,
20 epochs) on both seeds at layers 7, 10 and 13.
"""

from __future__ import annotations

from typing import Callable

import pandas as pd

from helpers.figures.common import layer_statistics
from helpers.figures.steps import skippable
from helpers.method import fields
from helpers.method import study as method
from helpers.reference import claims

DEFAULT = "100 epochs, α as weight decay on the mean loss (the book's)"
PROTOCOLS = {
    DEFAULT: {},
    "50 epochs": dict(epochs=50),
    "200 epochs": dict(epochs=200),
    "α on the loss summed over the mini-batch (weight decay α / 100)": dict(l2="sum"),
}
SHOWN = ["accuracy", "n", "N_c", "C_s", "SNR_E", "alignment"]


@skippable
def protocol_statistics(study, tap: str = "13", protocols: dict | None = None) -> pd.DataFrame | None:
    """The per-layer row (:func:`helpers.figures.common.layer_statistics`) of ``tap`` with its probe trained
    under each of ``protocols`` (default :data:`PROTOCOLS`; cached probes), on the study's network, threshold
    and cluster rule, with SNR_E (*universal* Eq. 4) and the median profile-weight alignment
    (:func:`helpers.method.fields.profile_alignment`). ``attrs["spread"]``: each statistic's max - min."""
    if tap not in study.layers:
        return None
    la = study.layers[tap]
    chosen = [t for t in study.run.model.taps if t.name == tap]
    rows = []
    for name, kw in (protocols or PROTOCOLS).items():
        s = study if not kw else _variant(study, chosen, la, kw)
        row = layer_statistics(s).set_index("layer").loc[tap]
        r, _ = fields.profile_alignment(s.probes[tap].W, s.means[tap])
        N_l = la.N_l
        rows.append(
            dict(
                protocol=name,
                **row.to_dict(),
                SNR_E=row.C_s * row.N_c * N_l / row.n if row.n else float("nan"),
                alignment=float(r.nanmedian()),
            )
        )
    out = with_spread(pd.DataFrame(rows))
    out.attrs.update(tap=tap)
    return out


def with_spread(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``attrs["spread"]``: each shown statistic's max - min over the protocols."""
    frame.attrs.update(spread={c: float(frame[c].max() - frame[c].min()) for c in SHOWN})
    return frame


def _variant(study, chosen, la, kw):
    return method.study(
        study.run,
        study.data,
        threshold=la.threshold,
        rule=la.rule,
        taps=chosen,
        progress=False,
        device=study.device,
        solver=study.probes[chosen[0].name].solver,
        **kw,
    )


def protocol_table(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """What a page shows: the statistics under each protocol, and their spread in the last row."""
    if frame is None:
        return None
    shown = frame[["protocol", *SHOWN]].copy()
    spread = {"protocol": "spread (max - min)", **frame.attrs["spread"]}
    return pd.concat([shown, pd.DataFrame([spread])], ignore_index=True)


def protocol_precondition(
    frame: pd.DataFrame | None, test: Callable[[pd.Series], bool | None], what: str
) -> list[claims.Precondition]:
    """``test`` (a claim's test on one per-layer row) under every protocol of ``frame``: a claim whose
    outcome turns with the protocol is not testable here (:func:`helpers.reference.claims.same_under`);
    none (no frame) adds nothing."""
    if frame is None:
        return []
    outcomes = {r.protocol: test(r) for _, r in frame.iterrows()}
    return [claims.same_under(outcomes, f"the probe's protocol, which the papers leave open, decides {what}")]
