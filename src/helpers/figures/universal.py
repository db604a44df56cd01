"""The tables and figures of *universal* (Meir et al., Sci. Rep. 14:5881, 2024) as computations on a
:class:`~helpers.book.page.Page`: layer tables (Tables 1-6), per-label signal and noise (Fig. 4),
error against K with its linear fit (Figs. 5-7), AFCC, and EfficientNet-B0's shortened stages.
Each function returns ``None`` on a skipped page.
"""
from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from helpers.method import afcc
from helpers.reference import claims
from helpers.train import data as data_mod
from helpers.method import filters
from helpers.method import study as method
from helpers.train import models
from helpers.book import page as pages_mod
from helpers.reference import printed as paper
from helpers.method import snr
from helpers.method import kfit as subsets
from helpers.train import taps as taps_mod
from helpers.train.models import Tap, scaled
from helpers.train.loop import pick_device
from helpers.reference.claims import TOL, falls, labels_at_least, rises, saturation_index, series
from helpers.figures.mechanism import clusters_are_blocks
from helpers.book.page import skippable

PAPER_K = {"table4": (10, 20, 40, 60, 100), "table5": (10, 20, 40, 60, 100), "table6": (3, 6, 8, 10)}
LAYER_OF_K_FIT = {"vgg16": "10", "efficientnet_b0": "stage 9"}


def as_table(x) -> pd.DataFrame | None:
    """A study's Table-1 format (a DataFrame passes through; ``None`` stays ``None``)."""
    if x is None or isinstance(x, pd.DataFrame):
        return x
    return x.table()


PAGE_OF = {"table1": "universal-table1-vgg16-cifar100", "table2": "universal-table2-effnet-cifar100",
           "table4": "universal-table4-vgg16-cifar-k100", "table5": "universal-table5-effnet-cifar-k100",
           "table6": "universal-table6-vgg16-cifar-k10"}  # the page of each table whose siblings share their code


def paper_rows(name: str, K: int) -> pd.DataFrame:
    """A table of *universal* for one K (Tables 4/5 at K = 100 are Tables 1/2)."""
    if K == 100 and name in ("table4", "table5"):
        name = "table1" if name == "table4" else "table2"
    return paper.table(name, None if name in ("table1", "table2", "table3") else K)


def reference_rows(page, name: str, K: int) -> pd.DataFrame:
    """The paper's table for the experiment that ran: VGG-16 on a 10-label stand-in for CIFAR-100 (Tables 1, 4)
    is compared with Table 6, the paper's own VGG-16 on CIFAR-10 (K = 10 for Table 1), not with CIFAR-100's
    values, which belong to a different experiment; otherwise :func:`paper_rows`. ``attrs["label"]`` names it."""
    if page.model == "vgg16" and name in ("table1", "table4") and page.full is not None \
            and page.full.num_classes <= 10:
        t = paper_rows("table6", 10 if K == 100 else K)
        t.attrs["label"] = f"Table 6 (CIFAR-10, K = {10 if K == 100 else K}), "
        return t
    return paper_rows(name, K)


@skippable
def layer_table(study, name: str, K: int, page=None) -> pd.DataFrame | None:
    """This run's Table-1 columns beside the paper's, tap by tap ("paper" suffix on the paper's; with ``page``,
    the paper's table for the experiment that ran, :func:`reference_rows`), deepest tap first as the paper prints
    it."""
    mine = as_table(study)[["tap", "N_f", "F_s", "FC_s", "accuracy", "n", "N_c", "C_s"]]
    ref = (paper_rows(name, K) if page is None else reference_rows(page, name, K))[
        ["tap", "N_f", "F_s", "FC_s", "accuracy", "n", "N_c", "C_s"]]
    out = models.by_depth(mine.merge(ref, on="tap", how="left", suffixes=("", " paper")), deep_first=True)
    out = out.reset_index(drop=True)
    return out[["tap"] + [c for pair in (("N_f", "N_f paper"), ("F_s", "F_s paper"), ("FC_s", "FC_s paper"),
                                         ("accuracy", "accuracy paper"), ("n", "n paper"), ("N_c", "N_c paper"),
                                         ("C_s", "C_s paper")) for c in pair]]


def compare_layers(mine, ref: pd.DataFrame, prefix: str = "", columns=("accuracy", "n", "N_c", "C_s"),
                   taps=None) -> list[tuple]:
    """``columns`` tap by tap, the paper's table ``ref`` against this run's ``mine`` (a study or its table;
    ``None`` on a skipped page); ``taps`` limits the rows; ``ref.attrs["label"]`` (see :func:`reference_rows`)
    prefixes each quantity."""
    prefix = prefix or ref.attrs.get("label", "")
    ref = ref.set_index("tap")
    if taps is not None:
        ref = ref[ref.index.isin([str(t) for t in taps])]
    mine = as_table(mine)
    m = None if mine is None else mine.set_index("tap")
    return [(f"{prefix}{tap}: {col}", float(ref.loc[tap, col]), None if m is None else float(m.loc[tap, col]))
            for tap in ref.index if m is None or tap in m.index for col in columns]


def compare_sweep(sweep: pd.DataFrame | None, name: str, Ks) -> list[tuple]:
    """:func:`compare_layers` for every K of a sweep that the paper has."""
    rows = []
    ref_name = sweep_reference(name, sweep)
    label = "Table 6 (CIFAR-10), " if ref_name != name else ""
    for K in Ks:
        try:
            ref = paper_rows(ref_name, K)
        except KeyError:
            continue
        rows += compare_layers(None if sweep is None else sweep[sweep["K"] == K], ref, f"{label}K={K}, ")
    return rows


def sweep_reference(name: str, sweep: pd.DataFrame | None) -> str:
    """The paper's table to put beside a K sweep: VGG-16's Table 4 run on a 10-label stand-in is compared with
    Table 6, the paper's own CIFAR-K/10 sweep (Table 5, EfficientNet-B0, has no CIFAR-10 counterpart)."""
    if name == "table4" and sweep is not None and sweep.attrs.get("N_l", 100) <= 10:
        return "table6"
    return name


def Ks_for(page, name: str, Ks=None) -> list[int]:
    """The K values of a sweep page: the knob, else :func:`default_Ks`; checked."""
    N = page.full.num_classes if page.full is not None else (10 if page.dataset == "cifar10" else 100)
    return check_Ks(default_Ks(name, N) if Ks is None else Ks, N)


def paper_accuracy(model: str, N_l: int) -> tuple[float, str]:
    """The paper's accuracy for the experiment nearest the one that ran (``model`` on ``N_l`` labels), and which:
    VGG-16 from Tables 6 (CIFAR-K/10), 4 and 1; EfficientNet-B0 from Tables 5 and 2, and the text's 0.78 on ImageNet;
    VGG-6 and AVGG-16 on CIFAR-10 from *mechanism*'s text (on fewer labels, VGG-16's: the papers give theirs on 10
    only); a network the papers do not train (a torchvision CNN),
    VGG-16's. It sets the accuracy floor below which a run cannot test the claims
    (:func:`helpers.reference.claims.accuracy_floor`)."""
    if model == "efficientnet_b0" and N_l >= 1000:
        return 0.78, "the pretrained EfficientNet-B0 on ImageNet (text)"
    if model in ("vgg6", "avgg16") and N_l == 10:
        return float(paper.MECHANISM[model]["accuracy"]), f"*mechanism*'s {paper.NAME[model]} on CIFAR-10"
    name, Ks = ("table5", PAPER_K["table5"]) if model == "efficientnet_b0" else \
        (("table6", PAPER_K["table6"]) if N_l <= 10 else ("table4", PAPER_K["table4"]))
    K = min(Ks, key=lambda k: abs(k - N_l))
    t = paper_rows(name, K)
    nearest = "" if model in models.MODELS else f"; the papers train no {model}: their VGG-16 is the reference"
    return float(t["accuracy"].max()), f"{name.replace('table', 'Table ')}, K = {K}{nearest}"


def _floor_for(N_l: int | None, network: float | None, model: str, what: str = "the network") -> claims.Precondition:
    """The accuracy floor for the experiment that ran (``model`` on ``N_l`` labels, :func:`paper_accuracy`)."""
    if N_l is None:
        return claims.Precondition(False, "the run's label count is unknown")
    ref, which = paper_accuracy(model, int(N_l))
    return claims.accuracy_floor(network, ref, f"{what} ({which}: {ref:g})")


def _floor(table: pd.DataFrame, model: str) -> claims.Precondition:
    """:func:`_floor_for` from a table's ``attrs``; without the network's own accuracy (ImageNet's pretrained
    network, not evaluated here), the best FC layer's stands in for it."""
    network, what = table.attrs.get("network"), "the network"
    if network is None and "accuracy" in table:
        network, what = float(table["accuracy"].max()), "the best FC layer"
    return _floor_for(table.attrs.get("N_l"), network, model, what)


@skippable
def claims_layers(t, model: str = "vgg16") -> list[claims.Claim] | None:
    """*universal* Tables 1-6: accuracy, then noise and SNR_E (Eq. 4) layer by layer up to where the accuracy
    saturates; EfficientNet-B0 "almost always" (one exception allowed)."""
    return layers_claims(as_table(t), model)


def layers_claims(t: pd.DataFrame, model: str = "vgg16") -> list[claims.Claim]:
    """:func:`claims_layers` on a Table-1 frame (rows in any order; ``attrs`` carry the network's accuracy and label
    count)."""
    s = models.by_depth(t).reset_index(drop=True)
    eff, other = model == "efficientnet_b0", model not in models.MODELS  # other: a torchvision CNN, "stage k" taps
    word, skip = ("stage", 1) if eff else (("stage", 0) if other else ("layer", 0))
    src_acc = "effnet_stage_rises" if eff else "acc_rises__universal"
    src_n = "effnet_stage_rises" if eff else "noise_falls_layer_by_layer__universal"
    sat = saturation_index(s["accuracy"])
    upto = s.iloc[:sat + 1]
    N_l = t.attrs.get("N_l")
    snr_e = s["C_s"] * s["N_c"] * (np.nan if N_l is None else N_l) / s["n"]
    req = [_floor(t, model)]
    almost = " (all but one pair: 'almost always')" if eff else ""
    n_ok = falls(upto["n"], exceptions=skip)
    return [claims.paper_claim(src_acc, f"accuracy increases progressively with the {word}",
                               rises(s["accuracy"], exceptions=skip), series(s["tap"], s["accuracy"], "{:.3f}"),
                               test=f"each {word} >= the previous - 0.01{almost}", requires=req),
            claims.paper_claim(src_n, f"n decreases with the {word} until the accuracy saturates", n_ok,
                               series(upto["tap"], upto["n"], "{:.1f}") + f" (the accuracy saturates at {word} "
                               f"{s['tap'][sat].removeprefix('stage ')})",
                               test=f"n of each {word} < n of the one before, up to the first {word} within 0.01 of "
                                    f"the best accuracy{almost}", requires=req),
            claims.paper_claim("snr_rises__universal", f"SNR_E = C_s N_c N_l / n (Eq. 4) increases progressively with "
                               f"the {word}, up to saturation", (rises(snr_e[:sat + 1], tol=0, exceptions=skip)
                                                                 if snr_e.notna().all() else None),
                               series(upto["tap"], snr_e[:sat + 1], "{:.2f}"),
                               test=f"each {word}'s SNR_E >= the previous one's, up to saturation (the paper's Table 1 "
                                    f"rises to layer 10, then falls){almost}", requires=req)]


# --- K-label subsets: Tables 4-6, Figs. 5-7 -------------------------------------------------------

def check_Ks(Ks, num_labels: int) -> list[int]:
    Ks = sorted({int(k) for k in Ks})
    bad = [k for k in Ks if not 2 <= k <= num_labels]
    if bad or not Ks:
        raise ValueError(f"K values {bad or Ks} are out of range: each K needs 2 <= K <= {num_labels} labels")
    return Ks


def default_Ks(name: str, num_labels: int) -> list[int]:
    """The paper's K values; on a dataset with fewer labels (CIFAR-10 standing in for CIFAR-100), VGG-16's
    sweep (Table 4) becomes Table 6's K = 3, 6, 8, 10, which the paper ran on CIFAR-10, and EfficientNet-B0's
    (Table 5), which the paper ran on CIFAR-100 only, keeps Table 5's fractions of the labels (0.1 to 1):
    K = 2, 4, 6, 10 (K = 1 has nothing to learn). Their smaller subsets also train in less time (the largest K
    is the full run)."""
    Ks = [k for k in PAPER_K[name] if k <= num_labels]
    if len(Ks) >= 3:
        return Ks
    if name == "table5":
        return sorted({round(k * num_labels / 100) for k in PAPER_K[name]} - {0, 1})
    return list(PAPER_K["table6"])


@skippable
def k_sweep(page, Ks) -> pd.DataFrame | None:
    """The Table-1 columns of the page's model for every K-label subset (one trained network per K), K by K with the
    deepest tap first, as *universal* prints Tables 4-6."""
    frames = []
    for K in Ks:
        s = page.study(K=K)
        frames.append(s.table().assign(K=K, network=s.run.test_acc))
    out = pd.concat(frames, ignore_index=True)
    out = models.by_depth(out, deep_first=True).sort_values("K", kind="stable", ignore_index=True)  # as printed
    out.attrs.update(N_l=page.full.num_classes, model=page.model)
    return out


@skippable(skipped=(None, None))
def error_vs_K(sweep: pd.DataFrame | None, tap: str, name: str) -> tuple[pd.DataFrame, dict] | tuple[None, None]:
    name = sweep_reference(name, sweep)
    e = sweep[sweep["tap"] == tap][["K", "accuracy"]].assign(error=lambda d: 1 - d["accuracy"])
    paper_err = []
    for K in e["K"]:
        try:
            ref = paper_rows(name, int(K)).set_index("tap")
            paper_err.append(1 - float(ref.loc[tap, "accuracy"]) if tap in ref.index else np.nan)
        except KeyError:
            paper_err.append(np.nan)
    e = e.assign(paper_error=paper_err).reset_index(drop=True)
    return e, dict(subsets.linear_fit(e["K"], e["error"]), table=name) if len(e) >= 2 else None


def paper_fit(name: str, tap: str) -> dict:
    """The linear fit of the paper's own errors (Tables 4-6) at ``tap``."""
    Ks = PAPER_K[name]
    err = [1 - float(paper_rows(name, K).set_index("tap").loc[tap, "accuracy"]) for K in Ks]
    return subsets.linear_fit(Ks, err)


def compare_fit(fit: dict | None, name: str, tap: str) -> list[tuple]:
    """The linear fit of this run's errors beside the paper's (the table :func:`error_vs_K` matched to the run)."""
    ref = paper_fit((fit or {}).get("table", name), tap)
    return [(f"{k} of the error at {tap} against K", ref[k], None if fit is None else fit[k])
            for k in ("slope", "intercept", "r2", "error_at_K1")]


VARY_LITTLE = 2.0  # "only slightly affected by K": largest over smallest below 2 (the paper's Tables 1, 4: 1.4-1.6)
R2 = 0.9  # "approximately linear"
K1_ERROR = 0.05  # "approaches zero" at K = 1


@skippable
def claims_K(sweep: pd.DataFrame | None, fit: dict | None, tap: str, model: str = "vgg16") -> list[claims.Claim] | None:
    """*universal* Tables 4-6, Figs. 5-7: C_s and N_c vary little with K (the CIFAR-100 sweeps, K = 10-100), the
    error grows about linearly with K and extrapolates to about 0 at K = 1 (Tables 5, 6), and the layer claims at
    the largest K."""
    at = sweep[sweep["tap"] == tap].sort_values("K")
    top = sweep["K"].max()
    N_full = int(sweep.attrs.get("N_l", top))
    eff = model == "efficientnet_b0"
    last = sweep[sweep["K"] == top].copy()
    last.attrs.update(N_l=int(top), network=float(last["network"].iloc[0]), model=model)
    req = [_floor(last, model), claims.at_least(len(at), 3, "values of K")]
    ratio = lambda c: float(at[c].max() / at[c].min()) if at[c].min() > 0 else float("inf")
    src = "Cs_Nc_vary_little_with_K__effnet" if eff else "Cs_Nc_vary_little_with_K__vgg"
    out = [claims.paper_claim(src, f"C_s and N_c at {tap} are only slightly affected by K",
                              max(ratio("C_s"), ratio("N_c")) < VARY_LITTLE,
                              f"C_s {series(at['K'], at['C_s'], '{:.2f}')}; N_c {series(at['K'], at['N_c'], '{:.2f}')}",
                              test=f"largest / smallest < {VARY_LITTLE:g} for each",
                              requires=req + [labels_at_least(N_full, 100, "the paper's sweep, K = 10 to 100; its "
                                                                           "own CIFAR-10 sweep (Table 6) has N_c "
                                                                           "doubling")])]
    if fit:
        src = "error_linear_K__effnet" if eff else ("error_linear_K__cifar10" if N_full <= 10 else
                                                    "error_linear_K__vgg_cifar100")
        out.append(claims.paper_claim(src, f"the test error at {tap} increases approximately linearly with K",
                                      fit["r2"] >= R2 and fit["slope"] > 0,
                                      f"slope {fit['slope']:.4f}, R² {fit['r2']:.3f}",
                                      test=f"least-squares line: R² >= {R2}, slope > 0", requires=req))
        if eff or N_full <= 10:  # Tables 5 and 6; for VGG-16 on CIFAR-100 the paper expects a crossover instead
            out.append(claims.paper_claim(src, f"the error at {tap} extrapolates to about 0 at K = 1",
                                          abs(fit["error_at_K1"]) <= K1_ERROR,
                                          f"line at K = 1: {fit['error_at_K1']:.3f}",
                                          test=f"|line at K = 1| <= {K1_ERROR}", requires=req))
    for c in layers_claims(last, model):
        c.claim = f"K = {top}: {c.claim}"
        out.append(c)
    return out


# --- Fig. 4: per-label signal and noise -----------------------------------------------------------

@skippable(skipped=(None, None, None))
def label_snr(study, tap: str) -> tuple[pd.DataFrame, pd.DataFrame, dict] | tuple[None, None, None]:
    """Per-label signal, noise_I, noise_I + noise_E: Boolean (A) and field-weighted (B), and Eqs. (1)-(3)."""
    la = study.layers[tap]
    est = snr.snr_estimates(la.N_f, la.N_l, la.n, la.N_c, la.C_s) if la.sizes else None
    A, B = snr.per_label(la), snr.per_label(la, weighted=True)
    for d in (A, B):
        d.attrs.update(network=study.run.test_acc if study.run else None, N_l=la.N_l,
                       model=study.run.config.model if study.run else "vgg16")
    return A, B, est


def compare_fig4(A, B, est) -> list[tuple]:
    ref = paper.FIG4
    mean = lambda d, c: None if d is None else float(d[c].mean())
    rows = []
    for key, d in (("boolean", A), ("fields", B)):
        rows += [(f"{key}: mean signal", ref[key]["signal"], mean(d, "signal")),
                 (f"{key}: mean noise_I", ref[key]["noise_I"], mean(d, "noise_I")),
                 (f"{key}: mean noise_I + noise_E", ref[key]["noise_I_plus_E"], mean(d, "noise_I_plus_E"))]
    if est is not None or A is None:
        rows += [("Eq. (1) signal = C_s N_c N_f / N_l", None, None if est is None else est["signal"]),
                 ("Eq. (2) noise_I", None, None if est is None else est["noise_I"]),
                 ("Eq. (3) noise_E = n N_f / N_l²", None, None if est is None else est["noise_E"])]
    return rows


@skippable
def claims_fig3(view: dict | None, study) -> list[claims.Claim] | None:
    """The shown filter's clusters are blocks of ones (a check); the layer's clusters are small against the labels
    (*universal*: "the average cluster size is small at 2 out of 100 labels")."""
    la = study.layers[view["tap"]]
    return [claims.consistency("the filter's clusters are blocks of ones of its clipped matrix",
                               clusters_are_blocks([view]), "checked element by element",
                               test="true by construction of the cluster rule"),
            fig3_claim(la.C_s if la.sizes else None, la.N_l, study.run.test_acc if study.run else None,
                       f"this filter's sizes {[len(c) for c in view['clusters']]}", view["tap"])]


def fig3_claim(C_s: float | None, N_l: int, network: float | None, note: str = "", tap: str = "10") -> claims.Claim:
    """*universal*: at the saturating layer "the average cluster size is small at 2 out of 100 labels"."""
    return claims.paper_claim("noise_falls_layer_by_layer__universal", f"layer {tap}'s clusters are small, about 2 "
                              "out of 100 labels", None if C_s is None else C_s <= 3,
                              f"C_s {C_s if C_s is None else round(C_s, 2)} of {N_l} labels; {note}",
                              test="C_s <= 3", requires=[_floor_for(N_l, network, "vgg16"),
                                                         labels_at_least(N_l, 100, "with 10 labels a cluster of 2 is "
                                                                                   "a fifth of them")])


MUCH_GREATER = 5.0  # "much greater than unity"


@skippable
def claims_fig4(A, B, est) -> list[claims.Claim] | None:
    """*universal* Fig. 4: per label, SNR_I and SNR_E of the field-weighted counts (B) much greater than 1; the
    Boolean means equal Eqs. (1) and (3) (checks of our arithmetic)."""
    model = A.attrs.get("model", "vgg16")
    snr_i = (B["signal"] / B["noise_I"]).replace(np.nan, np.inf)
    snr_e = (B["signal"] / B["noise_E"]).replace(np.nan, np.inf)
    worst = float(np.minimum(snr_i, snr_e).min())
    ratio = A["signal"].mean() and B["signal"].mean() / A["signal"].mean()
    same = lambda a, b: est is not None and abs(a - b) <= 1e-6 * max(1.0, abs(b))
    return [claims.paper_claim("fig4_signal_noise__text", "with the fields of the above-threshold elements, SNR_I "
                               "and SNR_E are much greater than 1 for each label", worst > MUCH_GREATER,
                               f"smallest over labels of min(SNR_I, SNR_E): {worst:.2f}; B's signal is {ratio:.1f} "
                               f"times A's (the paper: 301 / 26.95 = {301 / 26.95:.1f})",
                               test=f"min over labels of signal / noise_I and signal / noise_E (B) > {MUCH_GREATER:g}",
                               requires=[_floor(A, model)]),
            claims.consistency("mean Boolean signal equals Eq. (1)",
                               None if est is None else same(A["signal"].mean(), est["signal"]),
                               f"{A['signal'].mean():.3f} vs {est['signal']:.3f}" if est else "no clusters",
                               test="equal by construction (relative 1e-6)"),
            claims.consistency("mean Boolean noise_E equals Eq. (3)",
                               None if est is None else same(A["noise_E"].mean(), est["noise_E"]),
                               f"{A['noise_E'].mean():.3f} vs {est['noise_E']:.3f}" if est else "no clusters",
                               test="equal by construction (relative 1e-6)")]


def table_notes(page, study, name: str):
    """What a layer-table page adds below the comparison: for Table 1, where the paper's text and equations
    disagree (computed from its Table 1); for Table 2, the labels this run leaves without signal (Table 3's anomaly)."""
    if name == "table1":
        return pages_mod.Shown(equation_slips())
    return page.table(no_signal_labels(study) if study is not None else None)


def equation_slips() -> pd.DataFrame:
    """Where *universal*'s text and its equations disagree (computed, not quoted)."""
    t1 = paper.table("table1").set_index("tap")
    r = t1.loc["4"]
    eq3 = snr.snr_estimates(r.N_f, 100, r.n, r.N_c, r.C_s)["noise_E"]
    eq3_512 = snr.snr_estimates(512, 100, r.n, r.N_c, r.C_s)["noise_E"]
    return pd.DataFrame([dict(where="noise_E at VGG-16 layer 4 (CIFAR-100)", text="≈ 29",
                              equation=f"Eq. (3) with N_f = {int(r.N_f)}: {eq3:.1f}",
                              explanation=f"29 is Eq. (3) with N_f = 512 ({eq3_512:.1f}); layer 4 has N_f = 128")])


# --- AFCC -------------------------------------------------------------------------------------------

AFCC_CLUSTERS = ("train", "test")


def check_afcc_clusters(clusters_from: str) -> str:
    if clusters_from not in AFCC_CLUSTERS:
        raise ValueError(f"afcc_clusters={clusters_from!r}: choose 'train' (clusters from training-set class means, "
                         f"the default: the test set only scores) or 'test' (the papers' literal reading)")
    return clusters_from


def afcc_experiment(study, taps, seed: int = 0, clusters_from: str = "train") -> pd.DataFrame | None:
    """AFCC on each of ``taps``: weights kept by clusters vs the estimate ``N_f F_s C_s N_c``, accuracy
    before, after retraining with the zeros held, and with the same number of weights kept at random.

    The clusters that choose the mask come from the training set's class means (``clusters_from="train"``),
    so the test set only scores; ``"test"`` reads them from the test set, as the papers' figures do
    (*universal*: "the same filter clusters were detected for both training and test sets")."""
    check_afcc_clusters(clusters_from)
    if study is None:
        return None
    train_f, train_y = study.features("train")
    test_f, test_y = study.features("test")
    rows = []
    for tap in taps:
        p, la = study.probes[tap], study.layers[tap]
        if clusters_from == "train":
            la = method.analyze({tap: p}, (train_f, train_y), la.N_l, threshold=la.threshold,
                                rule=la.rule)[1][tap]  # the mask's clusters from the training set
        rows.append(dict(afcc.afcc_row(tap, p, la, (train_f[tap], train_y), (test_f[tap], test_y), seed,
                                       device=study.device),
                         clusters_from=clusters_from, N_l=la.N_l, network=study.run.test_acc,
                         model=getattr(getattr(study.run, "config", None), "model", None)))
    return pd.DataFrame(rows)


STAGE8 = "stage 8"


def stage8_afcc(page, seed: int = 0, clusters_from: str = "train") -> pd.DataFrame | None:
    """*universal* Results: EfficientNet-B0 with stage 9 removed, stage 8 (320 filters) connected to the
    output through AFCC. Stage 8 is ``features[7]`` read at a 1x1 grid; its FC layer, clusters and AFCC
    are computed as for any tap (the layers below stay as trained), the mask's clusters from
    ``clusters_from`` as in :func:`afcc_experiment`."""
    check_afcc_clusters(clusters_from)
    if page.skipped:
        return None
    run = page.run(seed=seed)
    data = page.data_for(run.config)
    tap = Tap(STAGE8, "features.7", 1)
    (tr_f, tr_y), (te_f, te_y) = (taps_mod.run_features(run, data, split, taps=[tap], device=page.device)
                                  for split in ("train", "test"))
    probe = method.fit_probes((tr_f, tr_y), (te_f, te_y), data.num_classes, solver=page.solver, seed=seed,
                              device=page.device)[STAGE8]
    inputs = (tr_f, tr_y) if clusters_from == "train" else (te_f, te_y)
    la = method.analyze({STAGE8: probe}, inputs, data.num_classes, threshold=page.threshold, rule=page.rule)[1][STAGE8]
    row = afcc.afcc_row(STAGE8, probe, la, (tr_f[STAGE8], tr_y), (te_f[STAGE8], te_y), seed,
                         device=page.device)
    return pd.DataFrame([dict(row, N_f=la.N_f, n=la.n, N_c=la.N_c, C_s=la.C_s, clusters_from=clusters_from,
                              N_l=la.N_l, network=run.test_acc, model=run.config.model)])


# *universal* Results: the stages cut short, as (stage, MBConv layers kept) for models.shorten.
SHORTENED_BLOCKS = {"stages 3 and 4 cut to one layer": ((3, 1), (4, 1)), "stage 5 cut from 3 to 2 layers": ((5, 2),)}


@skippable
def shortened(page, seed: int = 0) -> pd.DataFrame | None:
    """*universal* Results: EfficientNet-B0 with stages 3 and 4 cut to one layer, and with stage 5 cut
    from 3 to 2 layers, each trained as the full model is (the page's profile); test accuracy, MBConv
    layers and parameters beside the full model's."""
    rows = []
    for name, blocks in {"full model": (), **SHORTENED_BLOCKS}.items():
        run = page.run(seed=seed, blocks=blocks)  # blocks=() is the full model's own run (same cache key)
        rows.append(dict(model=name, mbconv_layers=sum(len(s) for s in run.model.features[1:-1]),
                         parameters=sum(p.numel() for p in run.model.parameters()), accuracy=run.test_acc))
    out = pd.DataFrame(rows)
    out.attrs.update(N_l=page.data_for(run.config).num_classes)
    return out


def compare_shortened(short: pd.DataFrame | None, cut: pd.DataFrame | None = None) -> list[tuple]:
    """The shortened models and the stage-8 shortcut against the paper's accuracies (*universal* Results)."""
    key = "stage 9 removed, stage 8 (320 filters) through AFCC"
    acc = None if cut is None else cut.set_index("model")["accuracy"]
    return ([(name + ": accuracy", paper.SHORTENED[name], None if acc is None else float(acc[name]))
             for name in SHORTENED_BLOCKS]
            + [(key + ": accuracy", paper.SHORTENED[key],
                None if short is None else float(short["accuracy_after"][0]))])


@skippable
def claims_shortened(cut: pd.DataFrame | None) -> list[claims.Claim] | None:
    """*universal*: cutting stages 3-5 short costs practically no accuracy (0.864 and 0.862 against 0.867)."""
    acc = cut.set_index("model")["accuracy"]
    floor = _floor_for(cut.attrs.get("N_l"), float(acc["full model"]), "efficientnet_b0")
    return [claims.paper_claim("shortened_effnet", f"{name}: the accuracy approaches the full model's",
                               acc[name] >= acc["full model"] - TOL, f"{acc[name]:.3f} vs {acc['full model']:.3f}",
                               test=f"within {TOL} of the full model", requires=[floor])
            for name in SHORTENED_BLOCKS]


def compare_afcc(res: pd.DataFrame | None, key) -> list[tuple]:
    ref = paper.AFCC[key]
    r = None if res is None else res.set_index("tap").loc[key[2]]
    get = lambda c: None if r is None else float(r[c])
    rows = [("FC weights", ref["weights"], get("weights")), ("weights kept", ref["kept"], get("kept")),
            ("kept fraction", ref["kept"] / ref["weights"], get("kept_fraction"))]
    if "estimate" in ref:
        rows.append(("estimate N_f F_s C_s N_c", ref["estimate"], get("estimate")))
    return rows + [("accuracy before", ref["accuracy_before"], get("accuracy_before")),
                   ("accuracy after AFCC + retraining", ref["accuracy_after"], get("accuracy_after"))]


def afcc_long(*results) -> pd.DataFrame | None:
    """AFCC results in long form for a bar chart: accuracy before, after, and with random pruning, per tap."""
    if any(r is None for r in results):
        return None
    names = dict(accuracy_before="before", accuracy_after="AFCC, retrained", accuracy_random="random, retrained")
    return (pd.concat(results).melt(id_vars="tap", value_vars=list(names), var_name="FC layer", value_name="accuracy")
            .replace({"FC layer": names}))


def claims_afcc(*results: pd.DataFrame | None, reduction: float = 0.9) -> list[claims.Claim] | None:
    """Per tap (*universal*, "AFCC"): about 95% of the FC weights zeroed with no loss of accuracy after retraining;
    for stage 8 of EfficientNet-B0, the full model's accuracy reached. Beside them: AFCC against random pruning of
    the same count (this book's addition) and the kept weights against N_f F_s C_s N_c (equal by construction)."""
    if not results or any(r is None for r in results):
        return None
    res = pd.concat(results)
    out = []
    for r in res.itertuples():
        model = r.model if isinstance(getattr(r, "model", None), str) else \
            ("efficientnet_b0" if str(r.tap).startswith("stage") else "vgg16")  # rows written before the column
        req = [_floor_for(int(r.N_l), float(r.network), model)]
        src = "afcc_zeroes__effnet" if model == "efficientnet_b0" else "afcc_zeroes__vgg"
        out += [claims.paper_claim(src, f"{r.tap}: AFCC zeroes about 95% of the FC weights",
                                   1 - r.kept_fraction >= reduction,
                                   f"{r.zeroed} of {r.weights} zeroed ({1 - r.kept_fraction:.1%}); the clusters keep "
                                   f"C_s N_c / N_l = {r.estimate / r.weights:.2f} of them",
                                   test=f">= {reduction:.0%} zeroed",
                                   requires=req + [labels_at_least(int(r.N_l), 100, "the clusters keep C_s N_c / N_l "
                                                                                    "of the weights")]),
                claims.paper_claim(src, f"{r.tap}: no loss of accuracy after AFCC and retraining",
                                   r.accuracy_after >= r.accuracy_before - TOL,
                                   f"{r.accuracy_before:.3f} -> {r.accuracy_after:.3f} (clusters from the "
                                   f"{r.clusters_from} set)", test=f"after >= before - {TOL}", requires=req)]
        if r.tap == STAGE8 and model == "efficientnet_b0":
            out.append(claims.paper_claim("stage8_afcc", "stage 9 removed, stage 8 through AFCC reaches the full "
                                          "model's accuracy", r.accuracy_after >= r.network - TOL,
                                          f"{r.accuracy_after:.3f} vs the full network {r.network:.3f}",
                                          test=f"stage-8 AFCC accuracy >= the network's - {TOL}", requires=req))
        out += [claims.addition(f"{r.tap}: AFCC beats random pruning of the same count",
                                r.accuracy_after > r.accuracy_random,
                                f"{r.accuracy_after:.3f} vs random {r.accuracy_random:.3f}",
                                test="retrained accuracy higher", requires=req),
                claims.consistency(f"{r.tap}: weights kept = N_f F_s C_s N_c", abs(r.kept - r.estimate) <= 1e-6 *
                                   r.estimate if r.estimate > 0 else None, f"{r.kept} vs {r.estimate:.0f}",
                                   test="equal by construction (a filter's clusters are disjoint); the paper's "
                                        "10,800 vs 10,600 is its rounding", source=src)]
    return out


# --- Your model: the mechanism on any torchvision CNN (*universal*'s question beyond VGG and EfficientNet) -------

YOUR_MODEL_REFERENCE = ("table6", 10)  # the papers' VGG-16 on CIFAR-10, tap by tap (Table 6, K = 10)


@skippable
def your_model_taps(study) -> pd.DataFrame | None:
    """The taps of the page's network (:func:`helpers.train.models.stage_taps`): the graph node each reads, N_f, F_s, FC_s."""
    run = study.run
    t = taps_mod.tap_table(run.model, run.config.input_size or 32)
    return t[t["tap"].isin(list(study.probes))].reset_index(drop=True)


@skippable
def reference_by_grid(table: pd.DataFrame) -> pd.DataFrame:
    """The papers' VGG-16 on CIFAR-10 (Table 6, K = 10) beside another network's taps, matched by the size of the
    map each tap reads (F_s: 16x16 ... 1x1 at 32x32 inputs); ``attrs["label"]`` names the reference."""
    ref = paper_rows(*YOUR_MODEL_REFERENCE)[["tap", "F_s", "accuracy", "n", "N_c", "C_s"]]
    out = table[["tap", "F_s"]].merge(ref.rename(columns={"tap": "VGG-16 layer"}), on="F_s", how="left")
    out.attrs["label"] = "the papers' VGG-16 on CIFAR-10 (Table 6, K = 10), at the layer with the same map size"
    return out


def compare_your_model(study) -> list[tuple]:
    """Per tap of the page's network: accuracy, n, N_c, C_s beside the papers' VGG-16 at the layer reading a map of
    the same size (:func:`reference_by_grid`): another network, so a reference, not a target."""
    if study is None:  # a skipped page: the reference alone
        ref = models.by_depth(paper_rows(*YOUR_MODEL_REFERENCE))
        return [(f"VGG-16 layer {r.tap}: {col}", float(getattr(r, col)), None) for r in ref.itertuples()
                for col in ("accuracy", "n", "N_c", "C_s")]
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


@skippable('table')
def claims_your_model(table, afcc_result: pd.DataFrame | None = None) -> list[claims.Claim] | None:
    """*universal*'s layer claims (accuracy and SNR_E rise, n falls, up to saturation: :func:`layers_claims`) and its
    AFCC claims (:func:`claims_afcc`) tested on a network the papers did not train: each becomes this book's
    addition, quoting the sentence it extends, with the papers' VGG-16 setting the accuracy floor."""
    t = as_table(table)
    model = t.attrs.get("model") or "the network"
    out = [replace(c, kind=claims.ADDITION, claim=f"{model}: {c.claim}") for c in layers_claims(t, model)]
    if afcc_result is not None:
        out += [replace(c, kind=claims.ADDITION if c.kind == claims.PAPER else c.kind, claim=f"{model}: {c.claim}")
                for c in claims_afcc(afcc_result)]
    return out


# --- Table 3's anomaly: labels with no signal --------------------------------------------------------

def no_signal_labels(study=None, table: pd.DataFrame | None = None, N_l: int = 1000) -> pd.DataFrame:
    """Labels that appear in no cluster of a stage (*universal* Table 3: stage 3 has N_f N_c C_s < 1000).

    From a study: counted label by label. From a table (the paper's): the lower bound
    ``N_l - N_f N_c C_s`` on the labels left with no signal when every cluster holds distinct labels.
    """
    rows = []
    if study is not None:
        for tap, la in study.layers.items():
            rows.append(dict(tap=tap, N_f=la.N_f, N_l=la.N_l, slots=la.N_f * la.N_c * la.C_s if la.sizes else 0.0,
                             labels_without_signal=int((la.appearances == 0).sum()), source="this run"))
    if table is not None:
        for r in table.itertuples():
            slots = r.N_f * r.N_c * r.C_s
            rows.append(dict(tap=r.tap, N_f=r.N_f, N_l=N_l, slots=slots,
                             labels_without_signal=max(0, int(round(N_l - slots))), source="paper (bound)"))
    return pd.DataFrame(rows)


def dry_run_frame(page) -> pd.DataFrame:
    """:func:`dry_run_layer` at stage 9's width for the page's profile (1280 filters at full width)."""
    return pd.DataFrame([dry_run_layer(scaled(1280, page.config.width), 1000)]).assign(
        note="random weights: a check of the code path at ImageNet's 1000 labels, not a result")


def dry_run_layer(N_f: int, N_l: int = 1000, F_s: int = 1, seed: int = 0) -> dict:
    """The ImageNet-scale analysis path on random weights and means (a proof of the code path, not a result)."""
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(N_l, N_f, F_s, generator=g)
    means = torch.rand(N_l, N_f, F_s, generator=g)
    t0 = time.perf_counter()
    la = filters.analyze_layer(W, means)
    return dict(N_f=N_f, N_l=N_l, F_s=F_s, seconds=time.perf_counter() - t0, n=la.n, N_c=la.N_c, C_s=la.C_s)


# --- ImageNet (Table 3) ------------------------------------------------------------------------------

@skippable
def imagenet_study(page, n_train: int | None = None, batch_size: int = 100):
    """*universal* Table 3's protocol: EfficientNet-B0 (ImageNet weights where the width is 1), the
    validation folder split 40,000 / 10,000 (or 80% / 20% of a smaller folder), an FC layer per stage,
    then the filter analysis. Features are not cached (a GPU machine's job)."""
    cfg = page.config
    size = cfg.input_size or 224
    model = models.build("efficientnet_b0", 1000, cfg.width, input_size=size, pretrained=cfg.width == 1.0)
    folder_size = sum(1 for p in Path(page.imagenet).rglob("*") if p.suffix.lower() in (".jpeg", ".jpg", ".png"))
    n_train = n_train or min(40_000, int(0.8 * folder_size))
    train, test, names = data_mod.imagenet_split(page.imagenet, n_train, cfg.seed, size)
    taps = [t for t in model.taps if t.name in page.taps]
    dev = pick_device(page.device)
    model = model.to(dev).eval()
    feats = {}
    for split, ds in (("train", train), ("test", test)):
        feats[split] = taps_mod.extract(model, data_mod.folder_batches(ds, batch_size, device=dev), len(ds), taps,
                                        torch.float16, True, desc=f"ImageNet {split} taps")
    (tr_f, tr_y), (te_f, te_y) = feats["train"], feats["test"]
    N_l = len(names)
    present = torch.bincount(te_y, minlength=N_l) > 0
    if not present.all():
        raise ValueError(f"{int((~present).sum())} labels have no test image: the folder is too small to split")
    trained = method.fit_probes((tr_f, tr_y), (te_f, te_y), N_l, solver=page.solver, device=page.device)
    return method.Study(None, None, trained, *method.analyze(trained, (te_f, te_y), N_l, threshold=page.threshold,
                                                             rule=page.rule))
