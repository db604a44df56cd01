"""*universal* Fig. 4: signal and noise label by label, Boolean (A) and weighted by the fields (B) (Eqs. 1-4).

The paper's caption: "Comparison of SNRs obtained from above-threshold Boolean filters and their fields. (A)
The signal per label (blue), noise_I per label (red), and noise_I + noise_E per label (orange) (Eqs. (1–4))
that were obtained from the above-threshold clipped Boolean fields of the 512 filters of the 10th layer of
VGG-16 trained on CIFAR-100. The average signal (dashed blue horizontal line), noise_I (red), and noise_I +
noise_E (orange) are 26.95, 0.46 and 1.3, respectively, which are similar to the estimated values obtained
from Eqs. (1–3). (B) Similar to (A), using the fields of the above-threshold elements of the filters. ..."
Used by notebooks/universal-fig4-label-snr.ipynb.

In order: the computation (:func:`label_snr`, from :func:`helpers.method.snr.per_label`), the comparison with
the paper (:func:`compare_fig4`), the claims (:func:`claims_fig4`) and the figure (:func:`plot_label_snr`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns

from helpers.figures.steps import skippable
from helpers.figures.style import BookFigure, describe, label_axis, new_figure
from helpers.figures.universal_layer_tables import universal_floor
from helpers.method import snr
from helpers.reference import claims
from helpers.reference import printed as paper
from helpers.reference import printed as paper_mod


@skippable(skipped=(None, None, None))
def label_snr(study, tap: str) -> tuple[pd.DataFrame, pd.DataFrame, dict] | tuple[None, None, None]:
    """Per-label signal, noise_I, noise_I + noise_E: Boolean (A) and field-weighted (B), and Eqs. (1)-(3)."""
    la = study.layers[tap]
    est = snr.snr_estimates(la.N_f, la.N_l, la.n, la.N_c, la.C_s) if la.sizes else None
    A, B = snr.per_label(la), snr.per_label(la, weighted=True)
    for d in (A, B):
        d.attrs.update(
            network=study.run.test_acc if study.run else None,
            N_l=la.N_l,
            model=study.run.config.model if study.run else "vgg16",
        )
    return A, B, est


def compare_fig4(A, B, est) -> list[tuple]:
    ref = paper.FIG4

    def mean(d, c):
        return None if d is None else float(d[c].mean())

    rows = []
    for key, d in (("boolean", A), ("fields", B)):
        rows += [
            (f"{key}: mean signal", ref[key]["signal"], mean(d, "signal")),
            (f"{key}: mean noise_I", ref[key]["noise_I"], mean(d, "noise_I")),
            (f"{key}: mean noise_I + noise_E", ref[key]["noise_I_plus_E"], mean(d, "noise_I_plus_E")),
        ]
    if est is not None or A is None:
        rows += [
            ("Eq. (1) signal = C_s N_c N_f / N_l", None, None if est is None else est["signal"]),
            ("Eq. (2) noise_I", None, None if est is None else est["noise_I"]),
            ("Eq. (3) noise_E = n N_f / N_l²", None, None if est is None else est["noise_E"]),
        ]
    return rows


MUCH_GREATER = 5.0  # "much greater than unity"


@skippable
def claims_fig4(A, B, est) -> list[claims.Claim] | None:
    """*universal* Fig. 4: per label, SNR_I and SNR_E of the field-weighted counts (B) much greater than 1;
    the Boolean means equal Eqs. (1) and (3) (checks of our arithmetic)."""
    model = A.attrs.get("model", "vgg16")
    snr_i = (B["signal"] / B["noise_I"]).replace(np.nan, np.inf)
    snr_e = (B["signal"] / B["noise_E"]).replace(np.nan, np.inf)
    worst = float(np.minimum(snr_i, snr_e).min())
    ratio = A["signal"].mean() and B["signal"].mean() / A["signal"].mean()

    def same(a, b):
        return est is not None and abs(a - b) <= 1e-6 * max(1.0, abs(b))

    N_l = int(A.attrs.get("N_l") or len(A))
    cap = "" if est is None else f" = {est['SNR_I']:.1f} on this run"
    labels = claims.labels_at_least(
        N_l,
        100,
        f"the mean SNR_I is (N_l - 1) / (C_s - 1) by Eqs. (1)-(2){cap}, about 5 for 10 labels and C_s 2.8: "
        f"the label count, not the network, puts it at the test's own {MUCH_GREATER:g}",
    )
    return [
        claims.paper_claim(
            "fig4_signal_noise__text",
            "with the fields of the above-threshold elements, SNR_I "
            "and SNR_E are much greater than 1 for each label",
            worst > MUCH_GREATER,
            f"smallest over labels of min(SNR_I, SNR_E): {worst:.2f}; B's signal is {ratio:.1f} "
            f"times A's (the paper: 301 / 26.95 = {301 / 26.95:.1f})",
            test=f"min over labels of signal / noise_I and signal / noise_E (B) > {MUCH_GREATER:g}",
            requires=[universal_floor(A, model), labels],
        ),
        claims.consistency(
            "mean Boolean signal equals Eq. (1)",
            None if est is None else same(A["signal"].mean(), est["signal"]),
            f"{A['signal'].mean():.3f} vs {est['signal']:.3f}" if est else "no clusters",
            test="equal by construction (relative 1e-6)",
        ),
        claims.consistency(
            "mean Boolean noise_E equals Eq. (3)",
            None if est is None else same(A["noise_E"].mean(), est["noise_E"]),
            f"{A['noise_E'].mean():.3f} vs {est['noise_E']:.3f}" if est else "no clusters",
            test="equal by construction (relative 1e-6)",
        ),
    ]


def plot_label_snr(A: pd.DataFrame | None, B: pd.DataFrame | None, tap: str, names=None) -> BookFigure | None:
    """*universal* Fig. 4: per label signal, noise_I and noise_I + noise_E from Boolean (A) and field (B)
    matrices, with the paper's means (VGG-16 layer 10 on CIFAR-100) as dashed lines."""
    if A is None:
        return None
    fig, axes = new_figure(6.6, 2, 1, sharex=True)
    ref = paper_mod.FIG4
    cols = [("signal", "signal"), ("noise_I", "noise_I"), ("noise_I_plus_E", "noise_I + noise_E")]
    parts = []
    for ax, d, key, what in (
        (axes[0][0], A, "boolean", "A: from the Boolean matrices"),
        (axes[1][0], B, "fields", "B: weighted by the above-threshold fields"),
    ):
        for c, (col, label) in zip(sns.color_palette(), cols):
            ax.plot(d["label"], d[col], "o", ms=4, c=c, label=f"{label} (mean {d[col].mean():.3g})")
            ax.axhline(ref[key][col], c=c, ls="--", lw=1, label=f"paper's mean {ref[key][col]:g}")
        ax.set(ylabel="per label", title=f"layer {tap}, {what}", yscale="log")
        ax.legend(fontsize=7, ncol=3, loc="best", framealpha=0.9)
        parts.append(
            f"{what[0]}: mean signal {d['signal'].mean():.3g} (the paper: {ref[key]['signal']:g}), "
            f"noise_I {d['noise_I'].mean():.3g} ({ref[key]['noise_I']:g})"
        )
    label_axis(axes[1][0], names, len(A), "x")
    axes[1][0].set_xlabel("label")
    what = (
        f"Layer {tap}, label by label: the signal, noise_I and noise_I + noise_E counted on the Boolean "
        "(clipped) matrices (A) and weighted by the raw fields of the above-threshold elements (B), on a log "
        "scale, with the paper's means for VGG-16 layer 10 on CIFAR-100 as dashed lines: "
        + "; ".join(parts)
        + "."
    )
    alt = (
        "Two scatter plots on a log scale, one point per label for signal, noise_I and noise_I + noise_E, "
        "with dashed lines at the paper's means. " + "; ".join(parts) + "."
    )
    return describe(fig, what, alt, "*universal* Fig. 4", True)
