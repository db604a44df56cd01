"""The "Beyond the papers" pages: the method on a torchvision CNN the papers did not train.

The sentence it extends: *universal*'s "First, the accuracy and SNR progressively increase with the layers",
here tested on another network, each claim this book's addition, with the papers' VGG-16 on CIFAR-10
(*universal* Table 6, K = 10) as the reference at the layer reading a map of the same size. Used by
notebooks/your-model-resnet18.ipynb and notebooks/your-model-mobilenet-v3-small.ipynb.

In order: the computation (:func:`your_model_taps`, :func:`reference_by_grid`), the comparison with the
reference (:func:`compare_your_model`), the claims (:func:`claims_your_model`: the layer claims of
:mod:`helpers.figures.universal_layer_tables` and the AFCC claims of :mod:`helpers.figures.universal_afcc`)
and the figure (:func:`layer_profile`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from helpers.figures.steps import skippable
from helpers.figures.style import PAPER, RUN, describe, new_figure, xy_series
from helpers.figures.universal_afcc import claims_afcc
from helpers.figures.universal_layer_tables import as_table, claims_layers, paper_rows
from helpers.reference import claims
from helpers.reference import printed as paper_mod
from helpers.train import models
from helpers.train import taps as taps_mod

YOUR_MODEL_REFERENCE = ("table6", 10)  # the papers' VGG-16 on CIFAR-10, tap by tap (Table 6, K = 10)


@skippable
def your_model_taps(study) -> pd.DataFrame | None:
    """The taps of the page's network (:func:`helpers.train.models.stage_taps`): the graph node each reads,
    N_f, F_s, FC_s."""
    run = study.run
    t = taps_mod.tap_table(run.model, run.config.input_size or 32)
    return t[t["tap"].isin(list(study.probes))].reset_index(drop=True)


@skippable
def reference_by_grid(table: pd.DataFrame) -> pd.DataFrame:
    """The papers' VGG-16 on CIFAR-10 (Table 6, K = 10) beside another network's taps, matched by the size of
    the map each tap reads (F_s: 16x16 ... 1x1 at 32x32 inputs); ``attrs["label"]`` names the reference."""
    ref = paper_rows(*YOUR_MODEL_REFERENCE)[["tap", "F_s", "accuracy", "n", "N_c", "C_s"]]
    out = table[["tap", "F_s"]].merge(ref.rename(columns={"tap": "VGG-16 layer"}), on="F_s", how="left")
    out.attrs["label"] = (
        "the papers' VGG-16 on CIFAR-10 (Table 6, K = 10), at the layer with the same map size"
    )
    return out


def compare_your_model(study) -> list[tuple]:
    """Per tap of the page's network: accuracy, n, N_c, C_s beside the papers' VGG-16 at the layer reading a
    map of the same size (:func:`reference_by_grid`): another network, so a reference, not a target."""
    if study is None:  # a skipped page: the reference alone
        ref = models.by_depth(paper_rows(*YOUR_MODEL_REFERENCE))
        return [
            (f"VGG-16 layer {r.tap}: {col}", float(getattr(r, col)), None)
            for r in ref.itertuples()
            for col in ("accuracy", "n", "N_c", "C_s")
        ]
    t = models.by_depth(as_table(study))
    ref = reference_by_grid(t).set_index("tap")
    rows = []
    for r in t.itertuples():
        layer = ref.loc[r.tap, "VGG-16 layer"]
        for col in ("accuracy", "n", "N_c", "C_s"):
            paper_v = None if pd.isna(layer) else float(ref.loc[r.tap, col])
            where = "" if pd.isna(layer) else f" (VGG-16 layer {layer})"
            rows.append((f"{r.tap}{where}: {col}", paper_v, float(getattr(r, col))))
    return rows


@skippable("table")
def claims_your_model(table, afcc_result: pd.DataFrame | None = None) -> list[claims.Claim] | None:
    """*universal*'s layer claims (accuracy and SNR_E rise, n falls, up to saturation: :func:`claims_layers`)
    and its AFCC claims (:func:`claims_afcc`) tested on a network the papers did not train: each becomes this
    book's addition, quoting the sentence it extends, with the papers' VGG-16 setting the accuracy floor."""
    t = as_table(table)
    model = t.attrs.get("model") or "the network"
    out = [replace(c, kind=claims.ADDITION, claim=f"{model}: {c.claim}") for c in claims_layers(t, model)]
    if afcc_result is not None:
        out += [
            replace(
                c, kind=claims.ADDITION if c.kind == claims.PAPER else c.kind, claim=f"{model}: {c.claim}"
            )
            for c in claims_afcc(afcc_result)
        ]
    return out


def layer_profile(table: pd.DataFrame | None, reference: pd.DataFrame | None = None, title: str = ""):
    """Accuracy, n, N_c, C_s and SNR_E (*universal* Eq. 4) tap by tap, shallow to deep (a study's
    :meth:`~helpers.method.study.Study.table`), with ``reference`` (rows matched to the taps, e.g.
    :func:`reference_by_grid`) drawn beside as "paper"."""
    if table is None:
        return None
    t = paper_mod.by_depth(table).reset_index(drop=True)
    N_l = table.attrs.get("N_l", np.nan)
    t = t.assign(SNR_E=t["C_s"] * t["N_c"] * N_l / t["n"])
    fig, axes = new_figure(5.8, 2, 3)
    x = np.arange(len(t))
    cols = ("accuracy", "n", "N_c", "C_s", "SNR_E")
    for ax, col in zip(axes.ravel(), cols):
        ax.plot(x, t[col], **RUN)
        if reference is not None:
            r = reference.set_index("tap").reindex(t["tap"])
            ref = r["C_s"] * r["N_c"] * N_l / r["n"] if col == "SNR_E" else r[col]
            ax.plot(x, ref.to_numpy(float), **dict(PAPER, label="paper (VGG-16, same map size)"))
        ax.set(xticks=x, title=col)
        ax.set_xticklabels(t["tap"], rotation=30, fontsize=8)
    axes[0][0].set(ylim=(0, 1))
    axes[1][2].axis("off")
    handles, labels = axes[0][0].get_legend_handles_labels()
    axes[1][2].legend(handles, labels, loc="center", fontsize=9, title="tap, shallow to deep")
    model = table.attrs.get("model") or "the network"
    what = (
        f"{title + ': ' if title else ''}{model}, tap by tap from shallow to deep: the FC layer's accuracy, "
        "the noise per filter n, clusters per filter N_c, mean cluster size C_s and SNR_E = C_s N_c N_l / n "
        "(*universal* Eq. 4)"
        + (
            ", beside the papers' VGG-16 on CIFAR-10 at the layer reading a map of the same size"
            if reference is not None
            else ""
        )
        + "."
    )
    alt = (
        f"Five line charts over the taps {', '.join(t['tap'])}: accuracy "
        f"{xy_series(t['accuracy'], '{:.3f}')}; n {xy_series(t['n'])}; N_c {xy_series(t['N_c'])}; C_s "
        f"{xy_series(t['C_s'])}; SNR_E {xy_series(t['SNR_E'])}"
        + ("; with the paper's VGG-16 values dashed." if reference is not None else ".")
    )
    return describe(
        fig,
        what,
        alt,
        "*universal* Tables 1-6 (their columns, drawn; no figure of the papers)",
        reference is not None,
    )
