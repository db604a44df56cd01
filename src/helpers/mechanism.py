"""The figures of *mechanism* (Tzach et al., arXiv:2305.18078) as computations on a :class:`~helpers.pages.Page`.

One function (or two) per figure; each returns plain pandas / numpy results that
:mod:`helpers.plots` draws, plus ``compare_*`` rows (the paper's value beside this run's,
from :data:`helpers.paper.MECHANISM`) and ``claims_*`` rows ``(claim, holds, evidence)``.
Every function returns ``None`` on a skipped page.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from . import afcc, filters, paper
from .filters import LayerAnalysis

P = paper.MECHANISM
TOL = 0.01  # "no loss of accuracy": within one percentage point


def _tap_number(tap: str) -> int:
    return int(str(tap).split()[-1])


def rises(values, tol: float = TOL) -> bool:
    """Non-decreasing up to ``tol`` (accuracy "rises with the layer" up to saturation)."""
    v = list(values)
    return all(b >= a - tol for a, b in zip(v, v[1:]))


# --- Fig. 2: accuracy of the FC layer from each layer -------------------------------------------

def layer_accuracy(page) -> pd.DataFrame | None:
    """Test accuracy of the probe at every tap, for ``page.seeds`` trained networks (*mechanism* Fig. 2)."""
    if page.skipped:
        return None
    rows = []
    for seed in range(page.seeds):
        s = page.study(seed=seed)
        for tap, p in s.probes.items():
            rows.append(dict(seed=seed, tap=tap, layer=_tap_number(tap), accuracy=p.test_acc,
                             network=s.run.test_acc))
    return pd.DataFrame(rows).sort_values(["seed", "layer"], ignore_index=True)


def accuracy_summary(acc: pd.DataFrame | None) -> pd.DataFrame | None:
    if acc is None:
        return None
    g = acc.groupby("layer")["accuracy"]
    return pd.DataFrame(dict(mean=g.mean(), std=g.std(ddof=0), seeds=g.size())).reset_index()


def compare_fig2(acc: pd.DataFrame | None) -> list[tuple]:
    ref = paper.table("table6", 10).set_index("tap")["accuracy"]  # universal Table 6, K = 10: mechanism's Fig. 2
    summ = accuracy_summary(acc)
    mean = {} if summ is None else dict(zip(summ["layer"].astype(str), summ["mean"]))
    rows = [(f"accuracy, layer {t}", float(ref[t]), mean.get(t)) for t in ref.index if mean.get(t) is not None
            or summ is None]
    rows.append(("whole network (SR)", P["vgg16"]["accuracy"], None if acc is None else acc["network"].mean()))
    return rows


def claims_fig2(acc: pd.DataFrame | None) -> list[tuple] | None:
    summ = accuracy_summary(acc)
    if summ is None:
        return None
    m = summ["mean"].to_numpy()
    last = summ["layer"].max()
    sat = summ[summ["layer"] >= 10]["mean"]
    return [("accuracy rises with the layer (up to saturation, within 0.01)", rises(m),
             ", ".join(f"L{l}: {a:.3f}" for l, a in zip(summ["layer"], m))),
            ("the deepest layer beats the shallowest by a wide margin (> 0.05)", m[-1] - m[0] > 0.05,
             f"{m[-1]:.3f} vs {m[0]:.3f}"),
            ("accuracy saturates from layer 10 on (layers >= 10 within 0.01)",
             len(sat) < 2 or float(sat.max() - sat.min()) <= TOL,
             f"layers >= 10: {', '.join(f'{a:.3f}' for a in sat)}"),
            (f"the FC layer from layer {last} reaches the whole network's accuracy (within 0.01)",
             m[-1] >= acc["network"].mean() - TOL, f"{m[-1]:.3f} vs network {acc['network'].mean():.3f}")]


def network_accuracy(study) -> float | None:
    """The whole trained network's test accuracy (its own output layer)."""
    return None if study is None else study.run.test_acc


def compare_accuracy(study, model: str = "vgg16") -> list[tuple]:
    """The FC-layer accuracy of each analysed tap beside *mechanism*'s (= *universal* Table 6, K = 10)."""
    ref = paper.table("table6", 10).set_index("tap")["accuracy"] if model == "vgg16" else pd.Series(dtype=float)
    taps = list(ref.index) if study is None else list(study.probes)
    return [(f"accuracy, layer {t}", float(ref[t]) if t in ref.index else None,
             None if study is None else study.probes[t].test_acc) for t in taps]


# --- Fig. 3: single-filter SR decision matrices -------------------------------------------------

def pick_decision_filters(study, deep: str, shallow: str) -> dict | None:
    """Decision matrices of all filters of two taps, and the two filters *mechanism* Fig. 3 shows.

    Rules (printed on the page): at ``deep``, the filter whose predictions go most to one label
    whatever the input (largest mean column of its decision matrix); at ``shallow``, among filters
    that predict at least two labels, the one spreading its predictions over the most labels
    (most columns holding >= 10% of its predictions).
    """
    if study is None:
        return None
    test_f, test_y = study.features("test")
    N_l = study.data.num_classes
    out = {}
    for tap, rule in ((deep, "one label whatever the input: largest mean column share"),
                      (shallow, "broad decision style: most output labels holding >= 10% of the predictions")):
        D, kept = filters.decision_matrices(study.probes[tap].W, test_f[tap], test_y, N_l)
        share = D.mean(1)  # (N_f, N_l): share of all predictions going to each label
        alive = kept.sum(1) > 0
        if tap == deep:
            score = share.max(1).values
        else:
            score = (share >= 0.1).sum(1).float() + 1e-3 * D.diagonal(dim1=1, dim2=2).mean(1)
        score[~alive] = -np.inf
        f = int(score.argmax())
        out[tap] = dict(filter=f, rule=rule, D=D[f].numpy(), top_label=int(share[f].argmax()),
                        top_share=float(share[f].max()), labels_used=int((share[f] >= 0.1).sum()),
                        diag=float(D[f].diagonal().mean()))
    return out


def picked_table(picked: dict | None) -> pd.DataFrame | None:
    """The filters Fig. 3 shows and the rule that picked each."""
    if picked is None:
        return None
    return pd.DataFrame([dict(layer=t, filter=p["filter"], rule=p["rule"], top_label=p["top_label"],
                              top_share=p["top_share"], labels_used=p["labels_used"], mean_diagonal=p["diag"])
                         for t, p in picked.items()])


def claims_fig3(picked: dict | None, deep: str, shallow: str) -> list[tuple] | None:
    if picked is None:
        return None
    d, s = picked[deep], picked[shallow]
    return [(f"a layer-{deep} filter picks one label whatever the input (> 50% of its predictions)",
             d["top_share"] > 0.5, f"filter {d['filter']}: {d['top_share']:.2f} of predictions on label "
                                    f"{d['top_label']}"),
            (f"a layer-{shallow} filter has a broader decision style than the layer-{deep} one",
             s["labels_used"] > d["labels_used"],
             f"labels with >= 10% of predictions: {s['labels_used']} vs {d['labels_used']}")]


# --- Fig. 4: field matrices of representative filters -------------------------------------------

def representative_filter(la: LayerAnalysis) -> int:
    """The live filter closest to its layer's averages: noise near n, cluster count near N_c."""
    nc = np.array([len(c) for c in la.clusters], float)
    score = np.abs(la.noise - la.n) / max(la.n, 1.0) + np.abs(nc - la.N_c)
    score[la.dead] = np.inf
    return int(np.argmin(score))


def filter_view(study, tap: str, f: int | None = None) -> dict | None:
    """One filter's field matrix: normalized, clipped, clusters and noise, and the display permutation."""
    if study is None:
        return None
    la = study.layers[tap]
    f = representative_filter(la) if f is None else int(f)
    W, means = study.probes[tap].W, study.means[tap]
    Mn = filters.normalize(filters.field_matrices(W[:, f:f + 1], means[:, f:f + 1]))[0]
    B = filters.clip(Mn, la.threshold)
    clusters = la.clusters[f]
    return dict(tap=tap, filter=f, M=Mn.numpy(), B=B.numpy(), clusters=clusters,
                noise=int(la.noise[f]), order=filters.display_order(clusters, len(Mn)), threshold=la.threshold,
                names=list(study.data.class_names))


def clusters_are_blocks(views: list[dict]) -> bool:
    """Every cluster of every shown filter is a block of ones of its clipped matrix (DESIGN step 6)."""
    return all(v["B"][np.ix_(c, c)].all() for v in views for c in v["clusters"])


def claims_fig4(views: list[dict] | None, study) -> list[tuple] | None:
    if views is None or study is None:
        return None
    taps = [v["tap"] for v in views]
    n = [study.layers[t].n for t in taps]
    return [("every shown filter's clusters are blocks of ones of its clipped matrix", clusters_are_blocks(views),
             "checked element by element"),
            ("noise falls from the shallow layer to the deep one (layer means)", n[-1] <= n[0],
             ", ".join(f"L{t}: n = {x:.2f}" for t, x in zip(taps, n)))]


# --- Fig. 5: cluster statistics per layer -------------------------------------------------------

def layer_statistics(study) -> pd.DataFrame | None:
    """Per layer: n, N_c, C_s, dead filters and the expected label appearances (Eq. 1)."""
    if study is None:
        return None
    rows = []
    for tap, la in study.layers.items():
        rows.append(dict(layer=tap, N_f=la.N_f, accuracy=study.probes[tap].test_acc, n=la.n, N_c=la.N_c,
                         C_s=la.C_s, dead=int(la.dead.sum()),
                         appearances=la.N_c * la.C_s * la.N_f / la.N_l if la.sizes else 0.0))
    return pd.DataFrame(rows)


def size_fractions(study) -> pd.DataFrame | None:
    """Fraction of each layer's clusters of each size (*mechanism* Fig. 5A, right)."""
    if study is None:
        return None
    return pd.DataFrame([dict(layer=t, size=k, fraction=v) for t, la in study.layers.items()
                         for k, v in la.size_fraction.items()])


def compare_fig5(stats: pd.DataFrame | None, model: str = "vgg16") -> list[tuple]:
    ref = P[model]
    s = None if stats is None else stats.set_index("layer")
    get = (lambda t, c: None) if s is None else (lambda t, c: float(s.loc[t, c]) if t in s.index and c in s.columns
                                                 else None)
    rows = [(f"noise n, layer {t}", v, get(t, "n")) for t, v in ref["noise"].items()]
    rows += [(f"C_s, layer {t}", v, get(t, "C_s")) for t, v in ref["C_s"].items()]
    rows += [(f"N_c, layer {t}", v, get(t, "N_c")) for t, v in ref["N_c"].items()]
    rows += [(f"appearances per label, layer {t}", v, get(t, "appearances"))
             for t, v in ref.get("appearances", {}).items()]
    return rows


def claims_fig5(stats: pd.DataFrame | None, study) -> list[tuple] | None:
    if stats is None:
        return None
    s = stats.set_index("layer")
    deep, shallow = s.index[0], s.index[-1]
    la = study.layers[deep]
    app = la.appearances
    return [("noise falls with the layer (deepest below shallowest)", s.loc[deep, "n"] < s.loc[shallow, "n"],
             ", ".join(f"L{t}: {v:.2f}" for t, v in s["n"].items())),
            (f"about one cluster per filter at layer {deep} (N_c within 0.5 of 1)", abs(s.loc[deep, "N_c"] - 1) <= 0.5,
             f"N_c = {s.loc[deep, 'N_c']:.2f}"),
            (f"every label appears about equally often in layer {deep}'s clusters (max/min < 2)",
             app.min() > 0 and app.max() / app.min() < 2, f"appearances {app.min()}-{app.max()}"),
            (f"sub-threshold fields of cluster rows are on average below those of other rows (layer {deep})",
             la.mean_cluster_rows < la.mean_other_rows,
             f"mean {la.mean_cluster_rows:.3f} vs {la.mean_other_rows:.3f}")]


# --- Fig. 6: signal and noise per input label, measured -----------------------------------------

def signal_noise(study, tap: str) -> pd.DataFrame | None:
    """*mechanism* Fig. 6 measured: per input label i, on normalized (unit) fields of every filter,

    - ``filters_i``: filters whose clusters contain i (paper: ~150 of 512 at layer 13),
    - ``signal``: their summed field on output i,
    - ``noise_1``: their largest summed field on another output j (paper: < 33),
    - ``noise_2``: the other filters' summed field on that output,
    - ``SNR`` = signal / (noise_1 + noise_2) on the strongest wrong output (paper: > 5).
    """
    if study is None:
        return None
    la = study.layers[tap]
    Mn = filters.normalize(filters.field_matrices(study.probes[tap].W, study.means[tap]))  # (N_f, N_l, N_l)
    N_l = Mn.shape[1]
    member = torch.zeros(la.N_f, N_l, dtype=torch.bool)
    for f, cs in enumerate(la.clusters):
        for c in cs:
            member[f, c] = True
    m = member.float()
    sig_filters = torch.einsum("fi,fij->ij", m, Mn)  # fields of filters whose clusters contain input label i
    rest = torch.einsum("fi,fij->ij", 1 - m, Mn)
    rows = []
    for i in range(N_l):
        total = sig_filters[i] + rest[i]
        others = [j for j in range(N_l) if j != i]
        j = others[int(total[others].argmax())]
        wrong = float(total[j])
        rows.append(dict(label=i, name=study.data.class_names[i], filters=int(member[:, i].sum()),
                         signal=float(sig_filters[i, i]), noise_1=float(sig_filters[i, j]), noise_2=float(rest[i, j]),
                         total_right=float(total[i]), strongest_wrong=j, total_wrong=wrong,
                         SNR=float(sig_filters[i, i]) / wrong if wrong > 0 else float("inf")))
    return pd.DataFrame(rows)


def compare_fig6(sn: pd.DataFrame | None) -> list[tuple]:
    f = None if sn is None else sn
    return [("filters whose clusters contain the input label (layer 13)", P["vgg16"]["appearances"]["13"],
             None if f is None else f["filters"].mean()),
            ("largest summed field of those filters on a wrong label", 33, None if f is None else f["noise_1"].mean()),
            ("SNR (signal / strongest wrong output)", "> 5", None if f is None else f["SNR"].median())]


def claims_fig6(sn: pd.DataFrame | None) -> list[tuple] | None:
    if sn is None:
        return None
    return [("for every input label the right output gets the largest summed field",
             bool((sn["total_right"] > sn["total_wrong"]).all()),
             f"{int((sn['total_right'] > sn['total_wrong']).sum())} of {len(sn)} labels"),
            ("SNR > 1 for every label", bool((sn["SNR"] > 1).all()), f"min SNR {sn['SNR'].min():.2f}"),
            ("SNR > 5 for most labels (the paper's estimate)", bool((sn["SNR"] > 5).mean() > 0.5),
             f"median SNR {sn['SNR'].median():.2f}")]


# --- Figs. 7 and 8: VGG-6 and AVGG-16 -----------------------------------------------------------

def compare_model(stats: pd.DataFrame | None, model: str, network_acc: float | None) -> list[tuple]:
    """VGG-6 (Fig. 7) / AVGG-16 (Fig. 8) against the numbers of *mechanism*'s text."""
    ref = P[model]
    rows = [("accuracy (whole network)", ref["accuracy"], network_acc)]
    return rows + compare_fig5(stats, model)


def claims_vgg6(stats: pd.DataFrame | None) -> list[tuple] | None:
    if stats is None:
        return None
    s = stats.sort_values("layer", key=lambda c: c.astype(int))
    return [("accuracy rises with the layer (within 0.01)", rises(s["accuracy"]),
             ", ".join(f"L{t}: {a:.3f}" for t, a in zip(s["layer"], s["accuracy"]))),
            ("noise falls from the first layer to the last", s["n"].iloc[-1] < s["n"].iloc[0],
             f"{s['n'].iloc[0]:.2f} -> {s['n'].iloc[-1]:.2f}")]


def size_fractions_by_model(studies: dict) -> dict[str, pd.DataFrame] | None:
    """:func:`size_fractions` of several models' studies (``None`` if any is missing)."""
    if any(s is None for s in studies.values()):
        return None
    return {m: size_fractions(s) for m, s in studies.items()}


def claims_avgg16(avgg, vgg) -> list[tuple] | None:
    """*mechanism* Fig. 8's comparison at layer 13, from the two studies."""
    if avgg is None or vgg is None:
        return None
    a = layer_statistics(avgg).set_index("layer").loc["13"]
    v = layer_statistics(vgg).set_index("layer").loc["13"]
    acc_a, acc_v = avgg.run.test_acc, vgg.run.test_acc
    return [("AVGG-16's layer 13 is less noisy than VGG-16's", a["n"] < v["n"], f"n {a['n']:.2f} vs {v['n']:.2f}"),
            ("AVGG-16's layer-13 clusters are smaller than VGG-16's", a["C_s"] < v["C_s"],
             f"C_s {a['C_s']:.2f} vs {v['C_s']:.2f}"),
            ("AVGG-16 is more accurate than VGG-16", acc_a > acc_v, f"{acc_a:.3f} vs {acc_v:.3f}")]


# --- Dilution -------------------------------------------------------------------------------------

DILUTION_FRACTIONS = (0.0, 0.1, 0.2, 150 / 512, 0.4, 0.5, 0.6, 0.7, 1 - 100 / 512)


def dilution(study, tap: str = "13", seeds=(0, 1, 2)) -> pd.DataFrame | None:
    """Test accuracy with k random filters of ``tap`` silenced, k as fractions of N_f (*mechanism* Discussion)."""
    if study is None:
        return None
    test_f, test_y = study.features("test")
    W = study.probes[tap].W
    N_f = W.shape[1]
    ks = sorted({int(round(fr * N_f)) for fr in DILUTION_FRACTIONS if round(fr * N_f) < N_f})
    out = afcc.dilution_curve(W, test_f[tap], test_y, ks, seeds=seeds)
    out["fraction"] = out["k"] / N_f
    out["model"] = study.run.config.model
    return out


def dilution_models(page, models=("vgg16", "avgg16"), tap: str = "13") -> pd.DataFrame | None:
    """:func:`dilution` of layer ``tap`` for each model (each trained and probed through the run cache)."""
    if page.skipped:
        return None
    return pd.concat([dilution(page.study(model=m, taps=[tap]), tap) for m in models], ignore_index=True)


def dilution_summary(d: pd.DataFrame | None) -> pd.DataFrame | None:
    """Mean, min and max accuracy over the random draws, per model and k."""
    if d is None:
        return None
    return d.groupby(["model", "k", "fraction"])["accuracy"].agg(["mean", "min", "max"]).reset_index()


def _acc_at(d: pd.DataFrame, fraction: float) -> float:
    k = d.loc[(d["fraction"] - fraction).abs().idxmin(), "k"]
    return float(d[d["k"] == k]["accuracy"].mean())


def compare_dilution(d: pd.DataFrame | None) -> list[tuple]:
    get = (lambda m, fr: None) if d is None else (lambda m, fr: _acc_at(d[d["model"] == m], fr)
                                                   if (d["model"] == m).any() else None)
    return [("VGG-16 layer 13, all filters", P["vgg16"]["accuracy"], get("vgg16", 0.0)),
            ("VGG-16 layer 13, 150 of 512 silenced", P["vgg16"]["dilution"]["accuracy"], get("vgg16", 150 / 512)),
            ("AVGG-16 layer 13, all filters", P["avgg16"]["accuracy"], get("avgg16", 0.0)),
            ("AVGG-16 layer 13, 100 of 512 kept", "about the same", get("avgg16", 1 - 100 / 512))]


def claims_dilution(d: pd.DataFrame | None) -> list[tuple] | None:
    if d is None:
        return None
    rows = []
    v = d[d["model"] == "vgg16"]
    if len(v):
        full, cut = _acc_at(v, 0.0), _acc_at(v, 150 / 512)
        rows.append(("silencing 150 of 512 (29%) layer-13 filters of VGG-16 costs < 0.01 accuracy",
                     full - cut < TOL, f"{full:.3f} -> {cut:.3f}"))
    a = d[d["model"] == "avgg16"]
    if len(a):
        full, cut = _acc_at(a, 0.0), _acc_at(a, 1 - 100 / 512)
        rows.append(("AVGG-16 keeps its accuracy with 100 of 512 (20%) layer-13 filters (within 0.01)",
                     full - cut < TOL, f"{full:.3f} -> {cut:.3f}"))
    return rows


# --- Threshold robustness -----------------------------------------------------------------------

def threshold_sweep(page, thresholds=(0.3, 0.4, 0.5, 0.6)) -> pd.DataFrame | None:
    """n, N_c, C_s per layer for each threshold (*mechanism* Supplementary, "Robustness")."""
    if page.skipped:
        return None
    rows = []
    for th in thresholds:
        s = page.study(threshold=th)
        for tap, la in s.layers.items():
            rows.append(dict(threshold=th, layer=tap, n=la.n, N_c=la.N_c, C_s=la.C_s))
    return pd.DataFrame(rows)


def at_threshold(sw: pd.DataFrame | None, threshold: float) -> pd.DataFrame | None:
    """The rows of a threshold sweep at one threshold."""
    return None if sw is None else sw[sw["threshold"] == threshold]


def claims_threshold(sw: pd.DataFrame | None) -> list[tuple] | None:
    if sw is None:
        return None
    rows = []
    for th, g in sw.groupby("threshold"):
        g = g.assign(L=g["layer"].astype(int)).sort_values("L")
        rows.append((f"threshold {th:g}: noise lower at the deepest layer than at the shallowest",
                     g["n"].iloc[-1] < g["n"].iloc[0], f"{g['n'].iloc[0]:.2f} -> {g['n'].iloc[-1]:.2f}"))
    per = sw.pivot(index="layer", columns="threshold", values="n")
    rows.append(("noise falls as the threshold rises, at every layer",
                 bool((per.diff(axis=1).iloc[:, 1:] <= 1e-9).all().all()), "n per layer, thresholds ascending"))
    return rows

