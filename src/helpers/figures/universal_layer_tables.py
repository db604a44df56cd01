"""*universal* Tables 1-3, and the layer table every K-table and "Beyond the papers" page shares.

Table 1's caption: "Accuracy per layer and statistical features of their filters for VGG-16 trained on
CIFAR-100. N_f number of filters of layers terminating with max-pooling, F_s filter sizes, FC_s size of
trained FC layer connected to the output units, n average noise per filter, N_c average number of clusters per
filter, C_s average cluster size"; Tables 2 and 3 the same per stage of EfficientNet-B0 on CIFAR-100 and
ImageNet. Used by notebooks/universal-table1-vgg16-cifar100.ipynb,
notebooks/universal-table2-effnet-cifar100.ipynb and notebooks/universal-table3-effnet-imagenet.ipynb; the
paper's rows, the comparison, the accuracy floors and the layer claims also by Tables 4-6
(:mod:`helpers.figures.universal_k_sweep`), the your-model pages (:mod:`helpers.figures.your_model`), the
*universal* Fig. 3 and 4 pages and the training dynamics.

In order: the paper's tables (:func:`paper_rows`, :func:`reference_rows`), the computation
(:func:`layer_table`, this run's columns beside the paper's), the comparison (:func:`compare_layers`), the
accuracy floors (:func:`paper_accuracy`, :func:`floor_for`, :func:`universal_floor`), the claims
(:func:`claims_layers`) and the notes below a table (:func:`table_notes`, :func:`equation_slips`,
:func:`no_signal_labels`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.figures.steps import skippable
from helpers.method import snr
from helpers.reference import claims
from helpers.reference import printed as paper
from helpers.reference.claims import falls, rises, saturation_index, series
from helpers.train import models

PAPER_K = {"table4": (10, 20, 40, 60, 100), "table5": (10, 20, 40, 60, 100), "table6": (3, 6, 8, 10)}


LAYER_OF_K_FIT = {"vgg16": "10", "efficientnet_b0": "stage 9"}


def as_table(x) -> pd.DataFrame | None:
    """A study's Table-1 format (a DataFrame passes through; ``None`` stays ``None``)."""
    if x is None or isinstance(x, pd.DataFrame):
        return x
    return x.table()


PAGE_OF = {
    "table1": "universal-table1-vgg16-cifar100",
    "table2": "universal-table2-effnet-cifar100",
    "table4": "universal-table4-vgg16-cifar-k100",
    "table5": "universal-table5-effnet-cifar-k100",
    "table6": "universal-table6-vgg16-cifar-k10",
}  # the page of each table whose siblings share their code


def paper_rows(name: str, K: int) -> pd.DataFrame:
    """A table of *universal* for one K (Tables 4/5 at K = 100 are Tables 1/2)."""
    if K == 100 and name in ("table4", "table5"):
        name = "table1" if name == "table4" else "table2"
    return paper.table(name, None if name in ("table1", "table2", "table3") else K)


def reference_rows(page, name: str, K: int) -> pd.DataFrame:
    """The paper's table for the experiment that ran: VGG-16 on a 10-label stand-in for CIFAR-100 (Tables 1,
    4) is compared with Table 6, the paper's own VGG-16 on CIFAR-10 (K = 10 for Table 1), not with CIFAR-100's
    values, which belong to a different experiment; otherwise :func:`paper_rows`. ``attrs["label"]`` names
    it."""
    if (
        page.model == "vgg16"
        and name in ("table1", "table4")
        and page.full is not None
        and page.full.num_classes <= 10
    ):
        t = paper_rows("table6", 10 if K == 100 else K)
        t.attrs["label"] = f"Table 6 (CIFAR-10, K = {10 if K == 100 else K}), "
        return t
    return paper_rows(name, K)


@skippable
def layer_table(study, name: str, K: int, page=None) -> pd.DataFrame | None:
    """This run's Table-1 columns beside the paper's, tap by tap ("paper" suffix on the paper's; with
    ``page``, the paper's table for the experiment that ran, :func:`reference_rows`), deepest tap first as the
    paper prints it."""
    mine = as_table(study)[["tap", "N_f", "F_s", "FC_s", "accuracy", "n", "N_c", "C_s"]]
    ref = (paper_rows(name, K) if page is None else reference_rows(page, name, K))[
        ["tap", "N_f", "F_s", "FC_s", "accuracy", "n", "N_c", "C_s"]
    ]
    out = models.by_depth(mine.merge(ref, on="tap", how="left", suffixes=("", " paper")), deep_first=True)
    out = out.reset_index(drop=True)
    return out[
        ["tap"]
        + [
            c
            for pair in (
                ("N_f", "N_f paper"),
                ("F_s", "F_s paper"),
                ("FC_s", "FC_s paper"),
                ("accuracy", "accuracy paper"),
                ("n", "n paper"),
                ("N_c", "N_c paper"),
                ("C_s", "C_s paper"),
            )
            for c in pair
        ]
    ]


def compare_layers(
    mine, ref: pd.DataFrame, prefix: str = "", columns=("accuracy", "n", "N_c", "C_s"), taps=None
) -> list[tuple]:
    """``columns`` tap by tap, the paper's table ``ref`` against this run's ``mine`` (a study or its table;
    ``None`` on a skipped page); ``taps`` limits the rows; ``ref.attrs["label"]`` (see :func:`reference_rows`)
    prefixes each quantity."""
    prefix = prefix or ref.attrs.get("label", "")
    ref = ref.set_index("tap")
    if taps is not None:
        ref = ref[ref.index.isin([str(t) for t in taps])]
    mine = as_table(mine)
    m = None if mine is None else mine.set_index("tap")
    return [
        (f"{prefix}{tap}: {col}", float(ref.loc[tap, col]), None if m is None else float(m.loc[tap, col]))
        for tap in ref.index
        if m is None or tap in m.index
        for col in columns
    ]


def paper_accuracy(model: str, N_l: int) -> tuple[float, str]:
    """The paper's accuracy for the experiment nearest the one that ran (``model`` on ``N_l`` labels), and
    which: VGG-16 from Tables 6 (CIFAR-K/10), 4 and 1; EfficientNet-B0 from Tables 5 and 2, and the text's
    0.78 on ImageNet; VGG-6 and AVGG-16 on CIFAR-10 from *mechanism*'s text (on fewer labels, VGG-16's: the
    papers give theirs on 10 only); a network the papers do not train (a torchvision CNN), VGG-16's. It sets
    the accuracy floor below which a run cannot test the claims
    (:func:`helpers.reference.claims.accuracy_floor`)."""
    if model == "efficientnet_b0" and N_l >= 1000:
        return 0.78, "the pretrained EfficientNet-B0 on ImageNet (text)"
    if model in ("vgg6", "avgg16") and N_l == 10:
        return float(paper.MECHANISM[model]["accuracy"]), f"*mechanism*'s {paper.NAME[model]} on CIFAR-10"
    name, Ks = (
        ("table5", PAPER_K["table5"])
        if model == "efficientnet_b0"
        else (("table6", PAPER_K["table6"]) if N_l <= 10 else ("table4", PAPER_K["table4"]))
    )
    K = min(Ks, key=lambda k: abs(k - N_l))
    t = paper_rows(name, K)
    nearest = (
        "" if model in models.MODELS else f"; the papers train no {model}: their VGG-16 is the reference"
    )
    return float(t["accuracy"].max()), f"{name.replace('table', 'Table ')}, K = {K}{nearest}"


def floor_for(
    N_l: int | None, network: float | None, model: str, what: str = "the network"
) -> claims.Precondition:
    """The accuracy floor for the experiment that ran (``model`` on ``N_l`` labels,
    :func:`paper_accuracy`)."""
    if N_l is None:
        return claims.Precondition(False, "the run's label count is unknown")
    ref, which = paper_accuracy(model, int(N_l))
    return claims.accuracy_floor(network, ref, f"{what} ({which}: {ref:g})")


def universal_floor(table: pd.DataFrame, model: str) -> claims.Precondition:
    """:func:`floor_for` from a table's ``attrs``; without the network's own accuracy (ImageNet's pretrained
    network, not evaluated here), the best FC layer's stands in for it."""
    network, what = table.attrs.get("network"), "the network"
    if network is None and "accuracy" in table:
        network, what = float(table["accuracy"].max()), "the best FC layer"
    return floor_for(table.attrs.get("N_l"), network, model, what)


@skippable
def claims_layers(t, model: str = "vgg16") -> list[claims.Claim] | None:
    """*universal* Tables 1-6: accuracy, then noise and SNR_E (Eq. 4) layer by layer up to where the accuracy
    saturates; EfficientNet-B0 "almost always" (one exception allowed). ``t``: a study or its Table-1 frame
    (rows in any order; ``attrs`` carry the network's accuracy and label count)."""
    t = as_table(t)
    s = models.by_depth(t).reset_index(drop=True)
    eff = model == "efficientnet_b0"
    other = model not in models.MODELS  # a torchvision CNN, "stage k" taps
    word, skip = ("stage", 1) if eff else (("stage", 0) if other else ("layer", 0))
    src_acc = "effnet_stage_rises" if eff else "acc_rises__universal"
    src_n = "effnet_stage_rises" if eff else "noise_falls_layer_by_layer__universal"
    sat = saturation_index(s["accuracy"])
    upto = s.iloc[: sat + 1]
    N_l = t.attrs.get("N_l")
    snr_e = s["C_s"] * s["N_c"] * (np.nan if N_l is None else N_l) / s["n"]
    req = [universal_floor(t, model)]
    almost = " (all but one pair: 'almost always')" if eff else ""
    n_ok = falls(upto["n"], exceptions=skip)
    return [
        claims.paper_claim(
            src_acc,
            f"accuracy increases progressively with the {word}",
            rises(s["accuracy"], exceptions=skip),
            series(s["tap"], s["accuracy"], "{:.3f}"),
            test=f"each {word} >= the previous - 0.01{almost}",
            requires=req,
        ),
        claims.paper_claim(
            src_n,
            f"n decreases with the {word} until the accuracy saturates",
            n_ok,
            series(upto["tap"], upto["n"], "{:.1f}") + f" (the accuracy saturates at {word} "
            f"{s['tap'][sat].removeprefix('stage ')})",
            test=f"n of each {word} < n of the one before, up to the first {word} within 0.01 of "
            f"the best accuracy{almost}",
            requires=req,
        ),
        claims.paper_claim(
            "snr_rises__universal",
            f"SNR_E = C_s N_c N_l / n (Eq. 4) increases progressively with the {word}, up to saturation",
            (rises(snr_e[: sat + 1], tol=0, exceptions=skip) if snr_e.notna().all() else None),
            series(upto["tap"], snr_e[: sat + 1], "{:.2f}"),
            test=f"each {word}'s SNR_E >= the previous one's, up to saturation (the paper's Table 1 "
            f"rises to layer 10, then falls){almost}",
            requires=req,
        ),
    ]


def table_notes(page, study, name: str):
    """What a layer-table page adds below the comparison: for Table 1, where the paper's text and equations
    disagree (computed from its Table 1); for Table 2, the labels this run leaves without signal (Table 3's
    anomaly)."""
    if name == "table1":
        return page.show(equation_slips())
    return page.table(no_signal_labels(study) if study is not None else None)


def equation_slips() -> pd.DataFrame:
    """Where *universal*'s text and its equations disagree (computed, not quoted)."""
    t1 = paper.table("table1").set_index("tap")
    r = t1.loc["4"]
    eq3 = snr.snr_estimates(r.N_f, 100, r.n, r.N_c, r.C_s)["noise_E"]
    eq3_512 = snr.snr_estimates(512, 100, r.n, r.N_c, r.C_s)["noise_E"]
    return pd.DataFrame(
        [
            dict(
                where="noise_E at VGG-16 layer 4 (CIFAR-100)",
                text="≈ 29",
                equation=f"Eq. (3) with N_f = {int(r.N_f)}: {eq3:.1f}",
                explanation=f"29 is Eq. (3) with N_f = 512 ({eq3_512:.1f}); layer 4 has N_f = 128",
            )
        ]
    )


def no_signal_labels(study=None, table: pd.DataFrame | None = None, N_l: int = 1000) -> pd.DataFrame:
    """Labels that appear in no cluster of a stage (*universal* Table 3: stage 3 has N_f N_c C_s < 1000).

    From a study: counted label by label. From a table (the paper's): the lower bound
    ``N_l - N_f N_c C_s`` on the labels left with no signal when every cluster holds distinct labels.
    """
    rows = []
    if study is not None:
        for tap, la in study.layers.items():
            rows.append(
                dict(
                    tap=tap,
                    N_f=la.N_f,
                    N_l=la.N_l,
                    slots=la.N_f * la.N_c * la.C_s if la.sizes else 0.0,
                    labels_without_signal=int((la.appearances == 0).sum()),
                    source="this run",
                )
            )
    if table is not None:
        for r in table.itertuples():
            slots = r.N_f * r.N_c * r.C_s
            rows.append(
                dict(
                    tap=r.tap,
                    N_f=r.N_f,
                    N_l=N_l,
                    slots=slots,
                    labels_without_signal=max(0, int(round(N_l - slots))),
                    source="paper (bound)",
                )
            )
    return pd.DataFrame(rows)
