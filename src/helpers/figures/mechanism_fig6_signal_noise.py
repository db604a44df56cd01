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
    """*mechanism* Fig. 6 measured label by label on layer ``tap``'s normalized (unit) fields: the paper's
    counts, signal and first type of noise, and this book's strongest-wrong-output SNR (the columns are
    :func:`helpers.method.snr.signal_noise`'s)."""
    la = study.layers[tap]
    out = snr.signal_noise(study.probes[tap].W, study.means[tap], la.clusters)
    out.insert(1, "name", [study.data.class_names[i] for i in out["label"]])
    out.attrs.update(network=study.run.test_acc, model=study.run.config.model, N_f=la.N_f)
    return out


def compare_fig6(sn: pd.DataFrame | None) -> list[tuple]:
    """The paper's Fig. 6C counts in per-filter form (150 of its 512 filters hold a label; 33 of those 150
    hold each other label beside it), and its two SNRs."""
    f = None if sn is None else sn
    N_f = None if f is None else f.attrs.get("N_f")
    ref = P["vgg16"]["appearances"]["13"]
    return [
        (
            "share of the filters whose clusters contain the input label (layer 13)",
            round(ref / 512, 3),
            None if f is None or not N_f else f["filters"].mean() / N_f,
        ),
        (
            "another label beside it, per filter holding the input label",
            round(2 / 9, 3),
            None if f is None else (f["co_labels"] / f["filters"].clip(lower=1)).mean(),
        ),
        (
            "SNR by counts (filters / another label's appearances beside it)",
            round(ref / 33, 2),
            _median(f, "SNR_count"),
        ),
        (
            "SNR by fields (signal / the same filters' largest field on another output)",
            "> 5",
            _median(f, "SNR_first"),
        ),
        ("SNR at the strongest wrong output, all filters (this book's)", None, _median(f, "SNR")),
    ]


def _median(sn: pd.DataFrame | None, column: str) -> float | None:
    return None if sn is None else float(sn[column].median())


@skippable
def claims_fig6(sn: pd.DataFrame | None) -> list[claims.Claim] | None:
    """*mechanism* Fig. 6C on its own quantities (:func:`helpers.method.snr.signal_noise`): the SNR of the
    filters holding the input label, their summed field on it against their strongest summed field on
    another output, is above 5; the first noise averaged over the other outputs below the count of another
    label's appearances ("summed output fields (< 33)"), a consistency check since each filter's fields sum
    to about 0; then this book's decision-level checks at the strongest wrong output of all filters."""
    req = [frame_floor(sn)]
    below = int((sn["noise_first_mean"] < sn["co_labels"]).sum())
    right = int((sn["total_right"] > sn["total_wrong"]).sum())
    snr_first = float(sn["SNR_first"].median())
    return [
        claims.paper_claim(
            "fig6_mechanism",
            "SNR > 5 for a typical input label (layer 13): the filters holding it, their summed field on it "
            "against their largest summed field on another output",
            snr_first > 5,
            f"median SNR {snr_first:.2f} (min {sn['SNR_first'].min():.2f}); by counts "
            f"{sn['SNR_count'].median():.2f} (the paper's 150 / 33 = 4.5)",
            test="median over labels of signal / the largest of the same filters' summed unit fields on "
            "another output > 5",
            requires=req,
        ),
        claims.consistency(
            "the first type of noise averaged over the other outputs is below the count of another label's "
            "appearances beside the input label (the paper's < 33)",
            below == len(sn),
            f"{below} of {len(sn)} labels; median field {sn['noise_first_mean'].median():.2f}, median count "
            f"{sn['co_labels'].median():.2f}",
            test="every label; forced where each filter's fields sum to about 0 over the outputs (Fig. 5C)",
            source="fig6_mechanism",
        ),
        claims.addition(
            "for every input label the right output gets the largest summed field",
            right == len(sn),
            f"{right} of {len(sn)} labels",
            test="all labels",
            requires=req,
        ),
        claims.addition(
            "SNR > 1 for every label at the strongest wrong output, the other filters' field included",
            bool((sn["SNR"] > 1).all()),
            f"min SNR {sn['SNR'].min():.2f}, median {sn['SNR'].median():.2f}",
            test="min over labels > 1",
            requires=req,
        ),
    ]


def plot_signal_noise(sn: pd.DataFrame | None, tap: str = "13") -> BookFigure | None:
    """*mechanism* Fig. 6, measured: per input label, the paper's counts and fields (top: the filters holding
    the label, another label's appearances beside it, their summed fields on the label and on another
    output) with the paper's 150 and 33 scaled to this layer's N_f, and the SNRs (bottom) against its 5."""
    if sn is None:
        return None
    fig, ((a,), (b,)) = new_figure(6.2, 2, 1, sharex=True)
    x, w = np.arange(len(sn)), 0.2
    names = list(sn["name"]) if "name" in sn else None
    bars = [
        ("filters", "filters whose clusters hold the label (count)"),
        ("co_labels", "another label beside it in those clusters (count, mean)"),
        ("signal", "signal: those filters' summed field on the label"),
        ("noise_first", "first noise: their largest summed field on another output"),
    ]
    for k, (column, label) in enumerate(bars):
        a.bar(x + (k - 1.5) * w, sn[column], w, label=label)
    N_f, ref = sn.attrs.get("N_f"), P["vgg16"]["appearances"].get(str(tap))
    if N_f and ref:
        scale = N_f / 512
        a.axhline(ref * scale, c=PAPER["color"], ls="--", label=f"paper: {ref} of 512 = {ref * scale:.1f}")
        a.axhline(33 * scale, c=PAPER["color"], ls=":", label=f"paper: 33 of 512 = {33 * scale:.1f}")
    a.set(ylabel="count or summed unit fields", title=f"layer {tap}: signal and noise per input label")
    a.legend(fontsize=7, ncol=2, loc="best", framealpha=0.9)
    for k, (column, label) in enumerate(
        [
            ("SNR_first", "SNR by fields: signal / first noise"),
            ("SNR_count", "SNR by counts"),
            ("SNR", "at the strongest wrong output, all filters (this book's)"),
        ]
    ):
        b.bar(
            x + (k - 1) * 0.27, sn[column].clip(upper=50), 0.27, color=sns.color_palette()[k + 4], label=label
        )
    b.axhline(5, c=PAPER["color"], ls="--", label="paper: SNR > 5 (by counts 150 / 33 = 4.5)")
    b.set(ylabel="SNR (capped at 50)", title="signal-to-noise ratio")
    label_axis(b, names, len(sn), "x")
    b.set_xlabel("input label")
    b.legend(fontsize=7)
    med = {c: f"{sn[c].median():.2f}" for c in ("SNR_first", "SNR_count", "SNR")}
    what = (
        f"Layer {tap}, per input label: the filters whose clusters hold the label (mean "
        f"{sn['filters'].mean():.1f}) and another label's appearances beside it (mean "
        f"{sn['co_labels'].mean():.1f}), their summed unit fields on the label (signal, mean "
        f"{sn['signal'].mean():.1f}) and their largest on another output (first noise, mean "
        f"{sn['noise_first'].mean():.2f}); below, the SNRs: by fields (median {med['SNR_first']}), by counts "
        f"(median {med['SNR_count']}) and at the strongest wrong output (median {med['SNR']}), against the "
        "paper's SNR > 5."
    )
    alt = (
        f"Grouped bars per input label of the filters holding it ({xy_series(sn['filters'], '{:.0f}')}), "
        "another label's appearances beside it, the signal and the first noise; below, bars of three SNRs "
        f"per label (by fields: {xy_series(sn['SNR_first'], '{:.1f}')}) with a dashed line at the paper's 5."
    )
    return describe(fig, what, alt, "*mechanism* Fig. 6", True)
