"""*universal* Tables 4-6 and Figs. 5-7: the method on K-label subsets, and the test error against K.

Table 4's caption: "Accuracy per layer and statistical features of their filters for VGG-16 trained on K
labels from CIFAR-100"; Tables 5 and 6 the same for EfficientNet-B0 on CIFAR-K/100 and VGG-16 on CIFAR-K/10.
Fig. 5's: "Test error for VGG-16 trained on CIFAR-K/100. Test error, ε = 1 - accuracy, obtained at 10th layer
of VGG-16 trained on K labels from CIFAR-100, namely CIFAR-K/100, and the linear fit approximation (dashed
line)." Used by notebooks/universal-table4-vgg16-cifar-k100.ipynb,
notebooks/universal-table5-effnet-cifar-k100.ipynb and notebooks/universal-table6-vgg16-cifar-k10.ipynb; each
K's table is the shared layer table of :mod:`helpers.figures.universal_layer_tables`.

In order: the comparison with the paper's tables (:func:`compare_sweep`, :func:`sweep_reference`), the K
values (:func:`Ks_for`, :func:`check_Ks`, :func:`default_Ks`), the computation (:func:`k_sweep`,
:func:`error_vs_K`, :func:`paper_fit`), the comparison of the fits (:func:`compare_fit`), the claims
(:func:`claims_K`) and the figure (:func:`plot_error_vs_K`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.figures.steps import skippable
from helpers.figures.style import PAPER, RUN, BookFigure, describe, new_figure, where, xy_series
from helpers.figures.universal_layer_tables import (
    PAPER_K,
    claims_layers,
    compare_layers,
    paper_rows,
    universal_floor,
)
from helpers.method import kfit as subsets
from helpers.reference import claims
from helpers.reference.claims import labels_at_least, series
from helpers.train import models


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


def label_draws(K: int, num_labels: int, draws: int) -> list[int | None]:
    """The label subsets of one K: ``draws`` random draws (:func:`helpers.train.data.drawn_labels`), or the
    one full dataset at K = N."""
    if draws < 1:
        raise ValueError(f"draws must be at least 1 (label subsets per K), got {draws}")
    return [None] if K == num_labels else list(range(draws))


@skippable
def k_sweep(page, Ks, draws: int = 1) -> pd.DataFrame | None:
    """The Table-1 columns of the page's model for every K-label subset, each K the mean over ``draws``
    networks trained on randomly drawn labels with as many optimizer steps as the full run
    (:func:`helpers.train.profiles.k_label_config`), K by K with the deepest tap first, as *universal* prints
    Tables 4-6; ``attrs["per_draw"]``: every network's table (its draw in a ``seed`` column, as the spread
    rule of :func:`claims_layers` reads networks), ``attrs["runs"]``: K -> the networks' keys."""
    frames, keys, N = [], {}, page.full.num_classes
    for K in Ks:
        for d in label_draws(K, N, draws):
            s = page.study(K=K, label_draw=d)
            frames.append(s.table().assign(K=K, seed=d or 0, network=s.run.test_acc))
            keys.setdefault(K, []).append(getattr(s.run, "key", ""))
    per_draw = pd.concat(frames, ignore_index=True)
    numeric = [c for c in per_draw.select_dtypes("number").columns if c not in ("K", "seed")]
    out = per_draw.groupby(["K", "tap"], sort=False)[numeric].mean().reset_index()
    out = models.by_depth(out, deep_first=True).sort_values(
        "K", kind="stable", ignore_index=True
    )  # as printed
    out.attrs.update(N_l=N, model=page.model, runs={K: tuple(v) for K, v in keys.items()}, per_draw=per_draw)
    return out


@skippable(skipped=(None, None))
def error_vs_K(
    sweep: pd.DataFrame | None, tap: str, name: str
) -> tuple[pd.DataFrame, dict] | tuple[None, None]:
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
    """The linear fit of this run's errors beside the paper's (the table :func:`error_vs_K` matched to the
    run)."""
    ref = paper_fit((fit or {}).get("table", name), tap)
    return [
        (f"{k} of the error at {tap} against K", ref[k], None if fit is None else fit[k])
        for k in ("slope", "intercept", "r2", "error_at_K1")
    ]


VARY_LITTLE = (
    2.0  # "only slightly affected by K": largest over smallest below 2 (the paper's Tables 1, 4: 1.4-1.6)
)


R2 = 0.9  # "approximately linear"


K1_SHARE = 0.25  # "almost vanished at K = 1": the line at K = 1 within a quarter of the largest K's error


@skippable
def claims_K(
    sweep: pd.DataFrame | None,
    fit: dict | None,
    tap: str,
    model: str = "vgg16",
    per_seed: pd.DataFrame | None = None,
) -> list[claims.Claim] | None:
    """*universal* Tables 4-6, Figs. 5-7: C_s and N_c vary little with K (the CIFAR-100 sweeps, K = 10-100),
    the error grows about linearly with K and extrapolates to about 0 at K = 1 (Tables 5, 6), and the layer
    claims at every K ("for each K", Tables 4-6): at the full dataset over the networks of ``per_seed``
    (:func:`seed_tables`), at a smaller K over its label draws."""
    at = sweep[sweep["tap"] == tap].sort_values("K")
    top = sweep["K"].max()
    N_full = int(sweep.attrs.get("N_l", top))
    eff = models.paper_network(model) == "efficientnet_b0"  # or its stand-in
    keys = sweep.attrs.get("runs", {})
    req = [universal_floor(_one_K(sweep, top, model), model), claims.at_least(len(at), 3, "values of K")]

    def ratio(c):
        return float(at[c].max() / at[c].min()) if at[c].min() > 0 else float("inf")

    src = "Cs_Nc_vary_little_with_K__effnet" if eff else "Cs_Nc_vary_little_with_K__vgg"
    why = "the paper's sweep, K = 10 to 100; its own CIFAR-10 sweep (Table 6) has N_c doubling"
    out = [
        claims.paper_claim(
            src,
            f"C_s and N_c at {tap} are only slightly affected by K",
            max(ratio("C_s"), ratio("N_c")) < VARY_LITTLE,
            f"C_s {series(at['K'], at['C_s'], '{:.2f}')}; N_c {series(at['K'], at['N_c'], '{:.2f}')}",
            test=f"largest / smallest < {VARY_LITTLE:g} for each",
            requires=req + [labels_at_least(N_full, 100, why)],
        )
    ]
    if fit:
        out += _linear_error_claims(fit, tap, eff, N_full, req, float(1 - at["accuracy"].iloc[-1]))
    claims.on([k for v in keys.values() for k in v], out)
    for K in sorted(sweep["K"].unique()):  # "similar trends" for each K: accuracy and n (Tables 4-6' text)
        draws = sweep.attrs.get("per_draw")
        networks = per_seed if K == N_full else (None if draws is None else draws[draws["K"] == K])
        for c in claims_layers(_one_K(sweep, K, model), model, networks):
            if K == top or c.source != "snr_rises__universal":  # the SNR sentence is the Abstract's, K = N
                c.claim = f"K = {K}: {c.claim}"
                out.append(c)
    return out


def _one_K(sweep: pd.DataFrame, K: int, model: str) -> pd.DataFrame:
    """The sweep's table at ``K`` (the mean over its draws), with the attrs :func:`claims_layers` reads."""
    t = sweep[sweep["K"] == K].copy()
    t.attrs.update(
        N_l=int(K),
        network=float(t["network"].iloc[0]),
        model=model,
        runs=sweep.attrs.get("runs", {}).get(K, ()),
    )
    return t


def _linear_error_claims(
    fit: dict, tap: str, eff: bool, N_full: int, req: list, top_error: float
) -> list[claims.Claim]:
    """The error at ``tap`` against K (:func:`error_vs_K`'s least-squares line ``fit``): about linear, and for
    Tables 5 and 6 (``eff``: EfficientNet-B0; ``N_full`` <= 10: CIFAR-10) about 0 at K = 1, relative to the
    error at the largest K (``top_error``; the paper's errors are themselves about 0.06 at K = 10)."""
    src = (
        "error_linear_K__effnet"
        if eff
        else ("error_linear_K__cifar10" if N_full <= 10 else "error_linear_K__vgg_cifar100")
    )
    out = [
        claims.paper_claim(
            src,
            f"the test error at {tap} increases approximately linearly with K",
            fit["r2"] >= R2 and fit["slope"] > 0,
            f"slope {fit['slope']:.4f}, R² {fit['r2']:.3f}",
            test=f"least-squares line: R² >= {R2}, slope > 0",
            requires=req,
        )
    ]
    if eff or N_full <= 10:  # Tables 5 and 6; for VGG-16 on CIFAR-100 the paper expects a crossover instead
        out.append(
            claims.paper_claim(
                src,
                f"the error at {tap} extrapolates to about 0 at K = 1",
                abs(fit["error_at_K1"]) <= K1_SHARE * top_error,
                f"line at K = 1: {fit['error_at_K1']:.3f}, the error at the largest K {top_error:.3f}",
                test=f"|line at K = 1| <= {K1_SHARE:g} x the error at the largest K",
                requires=req,
            )
        )
    return out


def plot_error_vs_K(errors: pd.DataFrame | None, fit: dict | None, tap: str) -> BookFigure | None:
    """*universal* Figs. 5-7: test error of a layer against K, with the linear fit, beside the paper's errors
    and their fit."""
    if errors is None:
        return None
    fig, ((ax,),) = new_figure(4.0, width=7.0)
    ax.plot(errors["K"], errors["error"], **dict(RUN, ls="none"))
    k = np.linspace(1, errors["K"].max(), 50)
    if fit:
        ax.plot(
            k,
            fit["intercept"] + fit["slope"] * k,
            "-",
            c=RUN["color"],
            alpha=0.6,
            label=f"fit: {fit['slope']:.4f} K + {fit['intercept']:.3f}, R² = {fit['r2']:.2f}",
        )
    has = "paper_error" in errors and errors["paper_error"].notna().sum() >= 1
    pf = None
    if has:
        ok = errors[errors["paper_error"].notna()]
        ax.plot(ok["K"], ok["paper_error"], **dict(PAPER, ls="none", ms=8))
        if len(ok) >= 2:
            pf = np.polyfit(ok["K"].astype(float), ok["paper_error"].astype(float), 1)
            ax.plot(
                k,
                np.polyval(pf, k),
                "--",
                c=PAPER["color"],
                label=f"paper's fit: {pf[0]:.4f} K + {pf[1]:.3f}",
            )
    ax.set(xlabel="K (number of labels)", ylabel=f"test error, {where(tap)}", ylim=(0, None), xlim=(0, None))
    ax.legend(fontsize=8)
    what = (
        f"Test error of the FC layer from {where(tap)} against the number of labels K, with its linear fit"
        + (f" (slope {fit['slope']:.4f}, R² {fit['r2']:.2f})" if fit else "")
        + (
            ", beside the paper's errors" + (f" and their fit (slope {pf[0]:.4f})" if pf is not None else "")
            if has
            else ""
        )
        + "."
    )
    alt = (
        f"Scatter of the test error at {where(tap)} against K = {', '.join(str(v) for v in errors['K'])}: "
        f"{xy_series(errors['error'], '{:.3f}')}"
        + (f"; the paper's: {xy_series(errors['paper_error'], '{:.3f}')}" if has else "")
        + "; with fitted lines."
    )
    return describe(fig, what, alt, "*universal* Figs. 5-7", has)
