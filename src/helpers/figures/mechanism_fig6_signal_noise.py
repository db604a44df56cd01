"""*mechanism* Fig. 6: the signal and noise of layer 13's filters, measured label by label.

The paper's caption (panel C, the one measured here): "Scheme of signal-to-noise-ratio (SNR), where label 1 is
presented for the 150 filters of layer 13, whose clusters include label 1, and their output fields are similar
to those in A (left). The summed 150 filter output field results in a signal with label 1 and noise on the
other labels, where SNR > 5 (right)." Used by notebooks/mechanism-fig6-signal-noise.ipynb.

In order: the computation (:func:`signal_noise`, from :func:`helpers.method.snr.signal_noise`), the comparison
with the paper (:func:`compare_fig6`), the claims (:func:`claims_fig6`) and the figure
(:func:`plot_signal_noise`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns

from helpers.figures.common import P, frame_floor
from helpers.figures.steps import skippable
from helpers.figures.style import PAPER, BookFigure, describe, label_axis, new_figure, xy_series
from helpers.method import snr
from helpers.reference import claims


@skippable
def signal_noise(study, tap: str) -> pd.DataFrame | None:
    """*mechanism* Fig. 6 measured: per input label i, on normalized (unit) fields of every filter,

    - ``filters_i``: filters whose clusters contain i (paper: ~150 of 512 at layer 13),
    - ``signal``: their summed field on output i,
    - ``noise_1``: their largest summed field on another output j (paper: < 33),
    - ``noise_2``: the other filters' summed field on that output,
    - ``SNR`` = signal / (noise_1 + noise_2) on the strongest wrong output (paper: > 5).
    """
    la = study.layers[tap]
    out = snr.signal_noise(study.probes[tap].W, study.means[tap], la.clusters)
    out.insert(1, "name", [study.data.class_names[i] for i in out["label"]])
    out.attrs.update(network=study.run.test_acc, model=study.run.config.model, N_f=la.N_f)
    return out


def compare_fig6(sn: pd.DataFrame | None) -> list[tuple]:
    f = None if sn is None else sn
    return [
        (
            "filters whose clusters contain the input label (layer 13)",
            P["vgg16"]["appearances"]["13"],
            None if f is None else f["filters"].mean(),
        ),
        (
            "largest summed field of those filters on a wrong label",
            33,
            None if f is None else f["noise_1"].mean(),
        ),
        ("SNR (signal / strongest wrong output)", "> 5", None if f is None else f["SNR"].median()),
    ]


@skippable
def claims_fig6(sn: pd.DataFrame | None) -> list[claims.Claim] | None:
    """*mechanism* Fig. 6C: SNR > 5 (the paper's estimate for a typical label), and two checks it implies."""
    req = [frame_floor(sn)]
    right = int((sn["total_right"] > sn["total_wrong"]).sum())
    return [
        claims.paper_claim(
            "fig6_mechanism",
            "SNR > 5 for a typical input label (layer 13)",
            float(sn["SNR"].median()) > 5,
            f"median SNR {sn['SNR'].median():.2f}, min {sn['SNR'].min():.2f}",
            test="median over labels of signal / strongest wrong output > 5",
            requires=req,
        ),
        claims.addition(
            "for every input label the right output gets the largest summed field",
            right == len(sn),
            f"{right} of {len(sn)} labels",
            test="all labels",
            requires=req,
        ),
        claims.addition(
            "SNR > 1 for every label",
            bool((sn["SNR"] > 1).all()),
            f"min SNR {sn['SNR'].min():.2f}",
            test="min over labels > 1",
            requires=req,
        ),
    ]


def plot_signal_noise(sn: pd.DataFrame | None, tap: str = "13") -> BookFigure | None:
    """*mechanism* Fig. 6, measured: per input label, signal against the two noises (top) and the SNR
    (bottom), with the paper's counts (of 512 filters, scaled to this layer's N_f) and its SNR > 5."""
    if sn is None:
        return None
    fig, ((a,), (b,)) = new_figure(6.2, 2, 1, sharex=True)
    x = np.arange(len(sn))
    names = list(sn["name"]) if "name" in sn else None
    a.bar(x - 0.27, sn["signal"], 0.27, label="signal: filters with the label in a cluster")
    a.bar(x, sn["noise_1"], 0.27, label="noise 1: the same filters, strongest wrong output")
    a.bar(x + 0.27, sn["noise_2"], 0.27, label="noise 2: the other filters, same output")
    N_f = sn.attrs.get("N_f")
    ref = P["vgg16"]["appearances"].get(str(tap))
    if N_f and ref:
        a.axhline(
            ref * N_f / 512,
            c=PAPER["color"],
            ls="--",
            label=f"paper: signal filters {ref} of 512 = {ref * N_f / 512:.1f} of {N_f}",
        )
        a.axhline(
            33 * N_f / 512,
            c=PAPER["color"],
            ls=":",
            label=f"paper: noise 1 < 33 of 512 = {33 * N_f / 512:.1f}",
        )
    a.set(ylabel="summed unit fields", title=f"layer {tap}: signal and noise per input label")
    a.legend(fontsize=7, ncol=2, loc="best", framealpha=0.9)
    snr = sn["SNR"].clip(upper=50)
    b.bar(x, snr, color=sns.color_palette()[2], label="SNR = signal / strongest wrong output (capped at 50)")
    b.axhline(5, c=PAPER["color"], ls="--", label="paper: SNR > 5")
    b.set(ylabel="SNR", title="signal-to-noise ratio")
    label_axis(b, names, len(sn), "x")
    b.set_xlabel("input label")
    b.legend(fontsize=8)
    what = (
        f"Layer {tap}, per input label: the summed unit fields on the right output of the filters whose "
        f"clusters hold the label (signal, mean {sn['signal'].mean():.1f}), their largest summed field on a "
        f"wrong output (noise 1, mean {sn['noise_1'].mean():.1f}) and the other filters' field there (noise "
        f"2); below, the SNR (median {sn['SNR'].median():.2f}) against the paper's SNR > 5."
    )
    alt = (
        f"Grouped bars per input label of signal ({xy_series(sn['signal'], '{:.1f}')}), noise 1 and noise 2, "
        f"and below them bars of the SNR per label ({xy_series(sn['SNR'], '{:.1f}')}) with a dashed line at "
        "the paper's 5."
    )
    return describe(fig, what, alt, "*mechanism* Fig. 6", True)
