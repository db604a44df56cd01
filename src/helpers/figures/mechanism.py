"""The figures of *mechanism* (Tzach et al., arXiv:2305.18078) as computations on a :class:`~helpers.book.page.Page`.

One function (or two) per figure; each returns plain pandas / numpy results that
:mod:`helpers.figures.plots` draws, plus ``compare_*`` rows (the paper's value beside this run's,
from :data:`helpers.reference.printed.MECHANISM`) and ``claims_*`` rows ``(claim, holds, evidence)``.
Every function returns ``None`` on a skipped page.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.method import afcc
from helpers.reference import claims
from helpers.method import filters
from helpers.method import study as method
from helpers.train import models
from helpers.reference import printed as paper
from helpers.train import profiles
from helpers.method import snr
from helpers.book.page import skippable
from helpers.reference.claims import TOL, accuracy_floor, falls, rises, series
from helpers.method.filters import LayerAnalysis

P = paper.MECHANISM


def _floor(network: float | None, model: str | None = "vgg16") -> claims.Precondition:
    """The accuracy floor of *mechanism*'s claims: 0.8 of the paper's CIFAR-10 accuracy of ``model``."""
    if model not in P or "accuracy" not in P.get(model, {}):
        return claims.Precondition(False, f"*mechanism* reports no accuracy for {model!r}, so no floor can be set")
    return accuracy_floor(network, P[model]["accuracy"], f"the {model} network")


def _frame_floor(frame: pd.DataFrame, model: str | None = None) -> claims.Precondition:
    """:func:`_floor` of a table whose ``attrs`` carry its network's accuracy and model."""
    return _floor(frame.attrs.get("network"), model or frame.attrs.get("model", "vgg16"))


def shallow_to_deep(stats: pd.DataFrame) -> pd.DataFrame:
    """Rows of a per-layer table ordered from the shallowest layer to the deepest (whatever order they came in)."""
    return models.by_depth(stats, "layer")


# --- Fig. 2: accuracy of the FC layer from each layer -------------------------------------------

@skippable
def layer_accuracy(page) -> pd.DataFrame | None:
    """Test accuracy of the probe at every tap, for ``page.seeds`` trained networks (*mechanism* Fig. 2)."""
    rows = []
    for seed in range(page.seeds):
        s = page.study(seed=seed)
        for tap, p in s.probes.items():
            rows.append(dict(seed=seed, tap=tap, layer=models.tap_depth(tap), accuracy=p.test_acc,
                             network=s.run.test_acc))
    return pd.DataFrame(rows).sort_values(["seed", "layer"], ignore_index=True)


@skippable
def accuracy_summary(acc: pd.DataFrame | None) -> pd.DataFrame | None:
    """Per layer: the mean accuracy over the trained networks, its sample standard deviation (0 for one) and the
    number of networks."""
    g = acc.groupby("layer")["accuracy"]
    return pd.DataFrame(dict(mean=g.mean(), std=g.std(ddof=1).fillna(0.0), seeds=g.size())).reset_index()


def compare_fig2(acc: pd.DataFrame | None) -> list[tuple]:
    ref = paper.table("table6", 10).set_index("tap")["accuracy"]  # universal Table 6, K = 10: mechanism's Fig. 2
    summ = accuracy_summary(acc)
    mean = {} if summ is None else dict(zip(summ["layer"].astype(str), summ["mean"]))
    rows = [(f"accuracy, layer {t}", float(ref[t]), mean.get(t)) for t in ref.index if mean.get(t) is not None
            or summ is None]
    rows.append(("whole network (SR)", P["vgg16"]["accuracy"], None if acc is None else acc["network"].mean()))
    return rows


@skippable
def claims_fig2(acc: pd.DataFrame | None, model: str = "vgg16") -> list[claims.Claim] | None:
    """*mechanism* Fig. 2: the mean FC-layer accuracy rises layer by layer, saturates from layer 10, and the
    deepest layer's FC layer reaches the whole network's accuracy."""
    summ = accuracy_summary(acc)
    m, layers = summ["mean"].to_numpy(), summ["layer"].to_numpy()
    network = float(acc["network"].mean())
    sat = summ[summ["layer"] >= 10]["mean"]
    req = [_floor(network, model)]
    return [rise_claim(summ, "acc_rises__mechanism", "accuracy rises with the layer", req),
            claims.paper_claim("acc_saturates__mechanism", "accuracy saturates from layer 10 on",
                               float(sat.max() - sat.min()) <= TOL if len(sat) >= 2 else None,
                               f"layers >= 10: {', '.join(f'{a:.3f}' for a in sat)}",
                               test="layers >= 10 within 0.01 of each other", requires=req),
            claims.paper_claim("acc_saturates__mechanism",
                               f"the FC layer from layer {layers[-1]} reaches the whole network's accuracy",
                               m[-1] >= network - TOL, f"{m[-1]:.3f} vs network {network:.3f}",
                               test="deepest layer's accuracy >= the network's - 0.01", requires=req)]


def rise_claim(summ: pd.DataFrame, source: str, claim: str, requires) -> claims.Claim:
    """The accuracy rises layer by layer over the networks of :func:`accuracy_summary` (DESIGN, "Claims": trends
    only beyond the spread over seeds). A step falls when its mean drops by more than 0.01 plus the two layers'
    standard deviations (so a fall, too, must exceed the spread); a drop beyond 0.01 but within the spread, or a
    first-to-last rise within it, leaves the claim undecided (not testable here). One network: no spread, the
    plain test (each layer >= the previous - 0.01)."""
    m, sd, n = summ["mean"].to_numpy(), summ["std"].fillna(0.0).to_numpy(), int(summ["seeds"].min())
    ev = series([f"L{l}" for l in summ["layer"]], m, "{:.3f}")
    if n < 2 or len(m) < 2:
        return claims.paper_claim(source, claim, rises(m), ev + ("" if n > 1 else " (one network: no seed spread)"),
                                  test="each layer's accuracy >= the previous layer's - 0.01", requires=requires)
    ev += f" (means of {n} networks; std " + ", ".join(f"{v:.3f}" for v in sd) + ")"
    drop, spread = m[:-1] - m[1:], sd[:-1] + sd[1:]
    falls_beyond = drop > TOL + spread
    within = [f"L{a}->L{b} falls {d:.3f}, within the spread {w:.3f}" for a, b, d, w, f in
              zip(summ["layer"], summ["layer"][1:], drop, spread, falls_beyond) if d > TOL and not f]
    req = list(requires) + ([] if falls_beyond.any() else
                            [claims.Precondition(not within, "; ".join(within)),
                             claims.beyond_spread(m[-1] - m[0], float(sd[0] + sd[-1]),
                                                  "the rise from the first layer to the last")])
    return claims.paper_claim(source, claim, not falls_beyond.any(), ev, requires=req,
                              test="no layer's mean below the previous one's by more than 0.01 + the two layers' "
                                   "std over seeds; the first-to-last rise beyond the seeds' spread")


@skippable
def network_accuracy(study) -> float | None:
    """The whole trained network's test accuracy (its own output layer)."""
    return study.run.test_acc


def compare_accuracy(study, model: str = "vgg16") -> list[tuple]:
    """The FC-layer accuracy of each analysed tap beside *mechanism*'s (= *universal* Table 6, K = 10)."""
    ref = paper.table("table6", 10).set_index("tap")["accuracy"] if model == "vgg16" else pd.Series(dtype=float)
    taps = list(ref.index) if study is None else list(study.probes)
    return [(f"accuracy, layer {t}", float(ref[t]) if t in ref.index else None,
             None if study is None else study.probes[t].test_acc) for t in taps]


# --- Fig. 3: single-filter SR decision matrices -------------------------------------------------

@skippable
def pick_decision_filters(study, deep: str, shallow: str) -> dict | None:
    """Decision matrices of all filters of two taps, and the two filters *mechanism* Fig. 3 shows.

    Rules (printed on the page): at ``deep``, the filter whose predictions go most to one label
    whatever the input (largest mean column of its decision matrix); at ``shallow``, among filters
    that predict at least two labels, the one spreading its predictions over the most labels
    (most columns holding >= 10% of its predictions).
    """
    test_f, test_y = study.features("test")
    N_l = study.data.num_classes
    out = {}
    for tap, rule in ((shallow, "broad decision style: most output labels holding >= 10% of the predictions"),
                      (deep, "one label whatever the input: largest mean column share")):  # drawn shallow, deep
        D, kept = filters.decision_matrices(study.probes[tap].W, test_f[tap], test_y, N_l)
        share = D.mean(1)  # (N_f, N_l): share of all predictions going to each label
        alive = kept.sum(1) > 0
        if tap == deep:
            score = share.max(1).values
        else:
            score = (share >= 0.1).sum(1).float() + 1e-3 * D.diagonal(dim1=1, dim2=2).mean(1)
        score[~alive] = -np.inf
        f = int(score.argmax())
        top = share.max(1).values[alive]
        out[tap] = dict(filter=f, rule=rule, D=D[f].numpy(), top_label=int(share[f].argmax()),
                        top_share=float(share[f].max()), labels_used=int((share[f] >= 0.1).sum()),
                        diag=float(D[f].diagonal().mean()), one_label_fraction=float((top > 0.5).float().mean()),
                        live=int(alive.sum()), network=study.run.test_acc)
    return out


@skippable
def picked_table(picked: dict | None) -> pd.DataFrame | None:
    """The filters Fig. 3 shows and the rule that picked each."""
    return pd.DataFrame([dict(layer=t, filter=p["filter"], rule=p["rule"], top_label=p["top_label"],
                              top_share=p["top_share"], labels_used=p["labels_used"], mean_diagonal=p["diag"])
                         for t, p in picked.items()])


ONE_LABEL_SHARE = 0.9  # "each one of the filters selects a single output label": at least 90% of the live filters


@skippable
def claims_fig3(picked: dict | None, deep: str, shallow: str, model: str = "vgg16") -> list[claims.Claim] | None:
    """*mechanism* Fig. 3B: every layer-13 filter alone selects one output label whatever the input."""
    d, s = picked[deep], picked[shallow]
    return [claims.paper_claim("deep_filter_one_label", f"each layer-{deep} filter selects a single output label, "
                               "independent of the input label", d["one_label_fraction"] >= ONE_LABEL_SHARE,
                               f"{d['one_label_fraction']:.0%} of {d['live']} live filters put > 50% of their "
                               f"predictions on one label",
                               test=f">= {ONE_LABEL_SHARE:.0%} of the live filters send > 50% of their predictions "
                                    "to one label", requires=[_floor(d["network"], model)]),
            claims.consistency(f"the shown layer-{shallow} filter spreads its predictions over more labels than the "
                               f"shown layer-{deep} one", s["labels_used"] > d["labels_used"],
                               f"labels with >= 10% of predictions: {s['labels_used']} vs {d['labels_used']}",
                               test="the two filters are picked as extremes of their layers (rules above): "
                                    "an illustration, not a test")]


# --- Fig. 4: field matrices of representative filters -------------------------------------------

def representative_filter(la: LayerAnalysis) -> int:
    """The live filter closest to its layer's averages: noise near n, cluster count near N_c."""
    nc = np.array([len(c) for c in la.clusters], float)
    score = np.abs(la.noise - la.n) / max(la.n, 1.0) + np.abs(nc - la.N_c)
    score[la.dead] = np.inf
    return int(np.argmin(score))


@skippable
def filter_view(study, tap: str, f: int | None = None) -> dict | None:
    """One filter's field matrix: normalized, clipped, clusters and noise, and the display permutation."""
    la = study.layers[tap]
    f = representative_filter(la) if f is None else int(f)
    W, means = study.probes[tap].W, study.means[tap]
    Mn = filters.normalize(filters.field_matrices(W[:, f:f + 1], means[:, f:f + 1]))[0]
    B = filters.clip(Mn, la.threshold)
    clusters = la.clusters[f]
    return dict(tap=tap, filter=f, M=Mn.numpy(), B=B.numpy(), clusters=clusters,
                noise=int(la.noise[f]), order=filters.display_order(clusters, len(Mn)), threshold=la.threshold,
                names=list(study.data.class_names))


EXPLORER_THRESHOLDS = tuple(round(0.1 * k, 1) for k in range(1, 10))


def threshold_frames(views: list[dict] | None, rule: str = "greedy",
                     thresholds=EXPLORER_THRESHOLDS) -> list[dict] | None:
    """The shown filters' normalized field matrices (:func:`filter_view`) clipped at each threshold, with their
    clusters (``rule``), noise and display order: the frames of the threshold explorer
    (:func:`helpers.figures.plots.threshold_explorer`)."""
    if views is None:
        return None
    find = filters.RULES[rule]
    out = []
    for th in thresholds:
        filters.check_threshold(th)
        clipped = []
        for v in views:
            B = np.asarray(v["M"]) >= th
            clusters = find(B)
            clipped.append(dict(B=B, clusters=clusters, noise=filters.noise_count(B, clusters),
                                order=filters.display_order(clusters, len(B))))
        out.append(dict(threshold=th, views=clipped))
    return out


def clusters_are_blocks(views: list[dict]) -> bool:
    """Every cluster of every shown filter is a block of ones of its clipped matrix (DESIGN step 6)."""
    return all(v["B"][np.ix_(c, c)].all() for v in views for c in v["clusters"])


@skippable('views', 'study')
def claims_fig4(views: list[dict] | None, study) -> list[claims.Claim] | None:
    return [claims.consistency("every shown filter's clusters are blocks of ones of its clipped matrix",
                               clusters_are_blocks(views), "checked element by element",
                               test="true by construction of the cluster rule")] + claims_noise(layer_statistics(study))


@skippable
def claims_noise(stats: pd.DataFrame | None) -> list[claims.Claim] | None:
    """*mechanism*: "the average noise per filter decreases with layers toward the output" (Fig. 5A), layer by layer."""
    s = shallow_to_deep(stats)
    return [claims.paper_claim("noise_falls_layer_by_layer__mechanism", "the noise per filter n falls layer by layer "
                               "toward the output", falls(s["n"]) if len(s) >= 2 else None,
                               series([f"L{t}" for t in s["layer"]], s["n"], "{:.2f}"),
                               test="n of each layer < n of the layer before it",
                               requires=[_frame_floor(stats)])]


# --- Fig. 5: cluster statistics per layer -------------------------------------------------------

@skippable
def layer_statistics(study) -> pd.DataFrame | None:
    """Per layer: n, N_c, C_s, dead filters and the expected label appearances (Eq. 1)."""
    rows = []
    for tap, la in study.layers.items():
        rows.append(dict(layer=tap, N_f=la.N_f, accuracy=study.probes[tap].test_acc, n=la.n, N_c=la.N_c,
                         C_s=la.C_s, dead=int(la.dead.sum()),
                         appearances=la.N_c * la.C_s * la.N_f / la.N_l if la.sizes else 0.0,
                         with_clusters=int(la.clustered.sum()), n_clustered=la.n_clustered,
                         N_c_clustered=la.N_c_clustered,
                         **{f"size {k}": la.size_fraction.get(k, 0.0) for k in (1, 2, 3)},
                         **{"size > 3": sum(v for k, v in la.size_fraction.items() if k > 3)}))
    out = pd.DataFrame(rows)
    run = study.run
    out.attrs.update(network=None if run is None else run.test_acc, model=None if run is None else run.config.model,
                     config=None if run is None else run.config,
                     N_l=None if study.data is None else study.data.num_classes)
    return out


@skippable
def rule_comparison(study) -> pd.DataFrame | None:
    """n, N_c and C_s per layer under each cluster rule (:data:`helpers.method.filters.RULES`) on the same field matrices:
    the papers' greedy rule depends on the order of the labels, the order-independent one does not."""
    rows = []
    for tap, la in study.layers.items():
        for rule in filters.RULES:
            other = la if rule == la.rule else filters.analyze_layer(study.probes[tap].W, study.means[tap],
                                                                     la.threshold, rule)
            rows.append(dict(layer=tap, rule=rule, n=other.n, N_c=other.N_c, C_s=other.C_s))
    return pd.DataFrame(rows)


@skippable
def size_fractions(study) -> pd.DataFrame | None:
    """Fraction of each layer's clusters of each size (*mechanism* Fig. 5A, right)."""
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


NC_TOL = 0.1  # "only one diagonal cluster" per filter: N_c within 0.1 of 1
CS_RANGE = (2.5, 3.5)  # "an average size close to 3" (2.88)
APPEARANCE_TOL = 0.3  # "slightly fluctuates around their average values": every label within 30% of the mean
LARGE_CLUSTERS = 0.05  # layer 10: clusters "practically vanish above size 3": at most 5% of them
SAME_CLUSTERS = 0.9  # "almost identical": at least 90% of the filters with the same clusters, n and C_s within 10%


def fig5_evidence(study, deep: str = "13") -> dict | None:
    """What *mechanism* Fig. 5's claims read beyond the per-layer table, at layer ``deep``: each label's appearances
    in the clusters, the mean sub-threshold field of cluster rows, and the layer analysed on training-set class
    means against the test set's (same clusters, n, C_s)."""
    if study is None or deep not in study.layers:
        return None
    la = study.layers[deep]
    train_f, train_y = study.features("train")
    tr = method.analyze({deep: study.probes[deep]}, (train_f, train_y), la.N_l, threshold=la.threshold,
                        rule=la.rule)[1][deep]
    return dict(tap=deep, appearances=la.appearances.tolist(), mean_cluster_rows=la.mean_cluster_rows,
                same_clusters=float(np.mean([a == b for a, b in zip(la.clusters, tr.clusters)])),
                n=(tr.n, la.n), C_s=(tr.C_s, la.C_s))


@skippable
def claims_fig5(stats: pd.DataFrame | None, study) -> list[claims.Claim] | None:
    """*mechanism* Fig. 5 and its text, from the per-layer table and :func:`fig5_evidence`."""
    return fig5_claims(stats, fig5_evidence(study))


def fig5_claims(stats: pd.DataFrame, ev: dict | None) -> list[claims.Claim]:
    s = stats.set_index("layer")
    req = [_frame_floor(stats)]
    out = claims_noise(stats)
    if "13" in s.index:
        r = s.loc["13"]
        sizes = {k: float(r.get(f"size {k}", 0.0)) for k in (1, 2, 3)} | {4: float(r.get("size > 3", 0.0))}
        out += [claims.paper_claim("Nc_about_1_layer13__mechanism", "each layer-13 filter has one cluster",
                                   abs(r["N_c"] - 1) <= NC_TOL, f"N_c = {r['N_c']:.2f}",
                                   test=f"|N_c - 1| <= {NC_TOL}", requires=req),
                claims.paper_claim("Cs_layer13", "layer-13 clusters are of size about 3, most often exactly 3",
                                   CS_RANGE[0] <= r["C_s"] <= CS_RANGE[1] and max(sizes, key=sizes.get) == 3,
                                   f"C_s = {r['C_s']:.2f}; fractions of sizes 1, 2, 3, > 3: "
                                   + ", ".join(f"{v:.2f}" for v in sizes.values()),
                                   test=f"{CS_RANGE[0]} <= C_s <= {CS_RANGE[1]} and size 3 the most frequent",
                                   requires=req)]
    if "10" in s.index:
        r10 = s.loc["10"]
        frac = [float(r10.get(c, 0.0)) for c in ("size 1", "size 2", "size 3", "size > 3")]
        out.append(claims.paper_claim("Cs_layer10_distribution", "the number of layer-10 clusters decreases with "
                                      "their size and practically vanishes above size 3",
                                      frac[-1] <= LARGE_CLUSTERS and all(b <= a for a, b in zip(frac, frac[1:])),
                                      "fractions of sizes 1, 2, 3, > 3: " + ", ".join(f"{v:.2f}" for v in frac),
                                      test=f"fractions non-increasing in the size, at most {LARGE_CLUSTERS:.0%} "
                                           "above 3",
                                      requires=req))
    if ev is not None:
        app, deep = np.asarray(ev["appearances"], float), ev["tap"]
        dev = float(np.abs(app / app.mean() - 1).max()) if app.mean() > 0 else float("inf")
        N_f = int(s.loc[deep, "N_f"])
        tr_n, te_n = ev["n"]
        tr_c, te_c = ev["C_s"]
        out += [claims.paper_claim("appearances_equal", f"each label appears about equally often in layer {deep}'s "
                                   "clusters", dev <= APPEARANCE_TOL,
                                   f"appearances {int(app.min())}-{int(app.max())}, mean {app.mean():.1f} "
                                   f"({app.mean() / N_f:.3f} per filter; the paper: 150 of 512 = 0.293)",
                                   test=f"every label within {APPEARANCE_TOL:.0%} of the mean", requires=req),
                claims.paper_claim("subthreshold_negative__mechanism", f"the sub-threshold fields of cluster rows are "
                                   f"negative on average (layer {deep})", ev["mean_cluster_rows"] < 0,
                                   f"mean {ev['mean_cluster_rows']:.4f}", test="mean < 0", requires=req),
                claims.paper_claim("train_vs_test_stats__mechanism", f"the clusters and noise of layer {deep} are "
                                   "almost identical on training and test inputs",
                                   ev["same_clusters"] >= SAME_CLUSTERS and _close(tr_n, te_n) and _close(tr_c, te_c),
                                   f"{ev['same_clusters']:.0%} of filters with identical clusters; n {tr_n:.2f} "
                                   f"(train) vs {te_n:.2f} (test); C_s {tr_c:.2f} vs {te_c:.2f}",
                                   test=f">= {SAME_CLUSTERS:.0%} of the filters with identical clusters, n and C_s "
                                        "within 10%", requires=req)]
    return out


def _close(a: float, b: float, rel: float = 0.1) -> bool:
    return abs(a - b) <= rel * max(abs(b), 1e-12)


# --- Fig. 6: signal and noise per input label, measured -----------------------------------------

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
    return [("filters whose clusters contain the input label (layer 13)", P["vgg16"]["appearances"]["13"],
             None if f is None else f["filters"].mean()),
            ("largest summed field of those filters on a wrong label", 33, None if f is None else f["noise_1"].mean()),
            ("SNR (signal / strongest wrong output)", "> 5", None if f is None else f["SNR"].median())]


@skippable
def claims_fig6(sn: pd.DataFrame | None) -> list[claims.Claim] | None:
    """*mechanism* Fig. 6C: SNR > 5 (the paper's estimate for a typical label), and two checks it implies."""
    req = [_frame_floor(sn)]
    right = int((sn["total_right"] > sn["total_wrong"]).sum())
    return [claims.paper_claim("fig6_mechanism", "SNR > 5 for a typical input label (layer 13)",
                               float(sn["SNR"].median()) > 5, f"median SNR {sn['SNR'].median():.2f}, min "
                               f"{sn['SNR'].min():.2f}", test="median over labels of signal / strongest wrong "
                                                             "output > 5", requires=req),
            claims.addition("for every input label the right output gets the largest summed field",
                            right == len(sn), f"{right} of {len(sn)} labels", test="all labels", requires=req),
            claims.addition("SNR > 1 for every label", bool((sn["SNR"] > 1).all()), f"min SNR {sn['SNR'].min():.2f}",
                            test="min over labels > 1", requires=req)]


# --- Figs. 7 and 8: VGG-6 and AVGG-16 -----------------------------------------------------------

def compare_model(stats: pd.DataFrame | None, model: str, network_acc: float | None) -> list[tuple]:
    """VGG-6 (Fig. 7) / AVGG-16 (Fig. 8) against the numbers of *mechanism*'s text."""
    ref = P[model]
    rows = [("accuracy (whole network)", ref["accuracy"], network_acc)]
    return rows + compare_fig5(stats, model)


def vgg16_networks(page) -> int:
    """How many VGG-16 the Fig. 7 page sets against its VGG-6: as many as Fig. 2 trains at this profile (so the two
    pages share them: 2 at ``cpu``, the paper's 4 at ``paper``), and no more than the page's own VGG-6."""
    return min(page.seeds, profiles.seeds(page.profile, "vgg16"))


@skippable
def network_accuracies(page, model: str | None = None, n: int | None = None) -> pd.Series | None:
    """The whole networks' test accuracies (their own output layer) of ``model`` (default: the page's) for seeds
    0 ... ``n`` - 1 (default: the page's seeds), indexed by seed."""
    n = page.seeds if n is None else n
    return pd.Series({s: page.run(seed=s, model=model).test_acc for s in range(n)}, name="network", dtype=float)


def _mean_and_std(nets: pd.Series | None) -> tuple[float | None, float | None, int]:
    """Mean and sample std of several networks' accuracies (std ``None`` for fewer than two), and their count (a
    network whose accuracy is unknown, NaN, is left out)."""
    nets = None if nets is None else nets.dropna()
    if nets is None or not len(nets):
        return None, None, 0
    return float(nets.mean()), (float(nets.std(ddof=1)) if len(nets) > 1 else None), len(nets)


@skippable
def claims_vgg6(stats: pd.DataFrame | None, vgg16: pd.DataFrame | None = None,
                acc: pd.DataFrame | None = None, vgg16_nets: pd.Series | None = None) -> list[claims.Claim] | None:
    """*mechanism* Fig. 7: VGG-6's layers, and its last layer (5) against VGG-16's layer 13 (``vgg16``: that
    network's per-layer table; its comparisons need the two trained alike). ``acc`` (:func:`layer_accuracy` over the
    page's seeds) tests the accuracy's rise on the mean over the networks, beyond their spread; with ``vgg16_nets``
    (:func:`network_accuracies` of several VGG-16), "VGG-6 is less accurate" compares the two models' means, decided
    only beyond the sum of their standard deviations over seeds (as :func:`rise_claim` sums two layers')."""
    s = shallow_to_deep(stats)
    req = [_frame_floor(stats, "vgg6")]
    summ = accuracy_summary(acc) if acc is not None else \
        pd.DataFrame(dict(layer=s["layer"], mean=s["accuracy"], std=0.0, seeds=1))
    out = [rise_claim(summ, "vgg6_trends", "VGG-6's accuracy rises with the layer", req),
           claims.paper_claim("vgg6_trends", "VGG-6's noise falls layer by layer toward the output", falls(s["n"]),
                              series([f"L{t}" for t in s["layer"]], s["n"], "{:.2f}")
                              + (" (the first network's; the others' noise is not measured here)"
                                 if int(summ["seeds"].min()) > 1 else ""),
                              test="n of each layer < n of the layer before it", requires=req)]
    last = s.iloc[-1]
    out.append(claims.paper_claim("vgg6_trends", f"each filter of VGG-6's layer {last['layer']} has one cluster",
                                  abs(last["N_c"] - 1) <= NC_TOL, f"N_c = {last['N_c']:.2f}",
                                  test=f"|N_c - 1| <= {NC_TOL}", requires=req))
    if vgg16 is not None and "13" in set(vgg16["layer"]):
        v = vgg16.set_index("layer").loc["13"]
        both = req + [_frame_floor(vgg16, "vgg16")]
        if "config" in stats.attrs and "config" in vgg16.attrs:
            both.append(claims.same_budget(stats.attrs["config"], vgg16.attrs["config"], ("VGG-6", "VGG-16")))
        m6, sd6, k6 = _mean_and_std(acc.groupby("seed")["network"].first() if acc is not None else None)
        m16, sd16, k16 = _mean_and_std(vgg16_nets)
        a6 = m6 if k6 > 1 else stats.attrs.get("network")
        a16 = m16 if k16 > 1 else vgg16.attrs.get("network")
        spread = None if sd6 is None and sd16 is None else (sd6 or 0.0) + (sd16 or 0.0)

        def shown(a, sd, k, name):
            if sd is not None:
                return f"{a:.3f} (mean of {k} {name}, std {sd:.3f})"
            return f"{a:.3f}" + (f" (one {name}: its spread over seeds not measured)" if spread is not None else "")
        out += [claims.paper_claim("vgg6", "VGG-6's last layer is noisier than VGG-16's layer 13", last["n"] > v["n"],
                                   f"n {last['n']:.2f} vs {v['n']:.2f} (the paper: 3.14 vs 1.5)", test="n greater",
                                   requires=both),
                claims.paper_claim("vgg6", "VGG-6 is less accurate than VGG-16",
                                   None if a6 is None or a16 is None else a6 < a16,
                                   (f"{shown(a6, sd6, k6, 'VGG-6')} vs {shown(a16, sd16, k16, 'VGG-16')} (the "
                                    f"paper: 0.92 vs 0.94)") if a6 and a16 else "",
                                   test="network accuracy lower, by more than the sum of the two models' std over "
                                        "seeds where the page trains several",
                                   requires=both + ([] if a6 is None or a16 is None else
                                                    [claims.beyond_spread(a16 - a6, spread, "the accuracy gap")])),
                claims.paper_claim("vgg6_cluster_size", "VGG-6's last-layer clusters are smaller than VGG-16's "
                                   "layer-13 ones",
                                   last["C_s"] < v["C_s"], f"C_s {last['C_s']:.2f} vs {v['C_s']:.2f} (the paper: "
                                   "2.6 vs 2.88)", test="C_s smaller", requires=both)]
    return out


def size_fractions_by_model(studies: dict) -> dict[str, pd.DataFrame] | None:
    """:func:`size_fractions` of several models' studies (``None`` if any is missing)."""
    if any(s is None for s in studies.values()):
        return None
    return {m: size_fractions(s) for m, s in studies.items()}


@skippable('avgg', 'vgg')
def claims_avgg16(avgg, vgg) -> list[claims.Claim] | None:
    """*mechanism* Fig. 8's comparison at layer 13, from the two studies."""
    return avgg16_claims(layer_statistics(avgg), layer_statistics(vgg))


def avgg16_claims(avgg: pd.DataFrame, vgg: pd.DataFrame) -> list[claims.Claim]:
    """The same from the two per-layer tables (their ``attrs`` carry the networks' accuracies and configs)."""
    a, v = avgg.set_index("layer").loc["13"], vgg.set_index("layer").loc["13"]
    acc_a, acc_v = avgg.attrs.get("network"), vgg.attrs.get("network")
    req = [_floor(acc_a, "avgg16"), _floor(acc_v, "vgg16")]
    if "config" in avgg.attrs and "config" in vgg.attrs:
        req.append(claims.same_budget(avgg.attrs["config"], vgg.attrs["config"], ("AVGG-16", "VGG-16")))
    return [claims.paper_claim("avgg16", "AVGG-16's layer 13 is less noisy than VGG-16's", a["n"] < v["n"],
                               f"n {a['n']:.2f} vs {v['n']:.2f} (the paper: 1.1 vs 1.5)", test="n smaller",
                               requires=req),
            claims.paper_claim("avgg16", "AVGG-16's layer-13 clusters are smaller than VGG-16's", a["C_s"] < v["C_s"],
                               f"C_s {a['C_s']:.2f} vs {v['C_s']:.2f} (the paper: 2.5 vs 2.88)", test="C_s smaller",
                               requires=req),
            claims.paper_claim("avgg16", "AVGG-16 is more accurate than VGG-16",
                               None if acc_a is None or acc_v is None else acc_a > acc_v,
                               f"{acc_a:.3f} vs {acc_v:.3f} (the paper: 0.955 vs 0.94)" if acc_a and acc_v else "",
                               test="network accuracy higher", requires=req)]


# --- Dilution -------------------------------------------------------------------------------------

DILUTION_FRACTIONS = (0.0, 0.1, 0.2, 150 / 512, 0.4, 0.5, 0.6, 0.7, 1 - 120 / 512, 1 - 100 / 512)


@skippable
def dilution(study, tap: str = "13", seeds=(0, 1, 2)) -> pd.DataFrame | None:
    """Test accuracy with k random filters of ``tap`` silenced, k as fractions of N_f (*mechanism* Discussion)."""
    test_f, test_y = study.features("test")
    W = study.probes[tap].W
    N_f = W.shape[1]
    ks = sorted({int(round(fr * N_f)) for fr in DILUTION_FRACTIONS if round(fr * N_f) < N_f})
    out = afcc.dilution_curve(W, test_f[tap], test_y, ks, seeds=seeds)
    out["fraction"] = out["k"] / N_f
    out["model"] = study.run.config.model
    out["network"] = study.run.test_acc
    return out


@skippable
def dilution_models(page, models=("vgg16", "avgg16"), tap: str = "13") -> pd.DataFrame | None:
    """:func:`dilution` of layer ``tap`` for each model (each trained and probed through the run cache)."""
    return pd.concat([dilution(page.study(model=m, taps=[tap]), tap) for m in models], ignore_index=True)


@skippable
def dilution_summary(d: pd.DataFrame | None) -> pd.DataFrame | None:
    """Mean, min and max accuracy over the random draws, per model and k."""
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


SLIGHT = 0.03  # "only slightly affected": at most 3 percentage points


@skippable
def claims_dilution(d: pd.DataFrame | None) -> list[claims.Claim] | None:
    """*mechanism* Discussion: random layer-13 filters silenced, as fractions of N_f (the paper's counts of 512)."""
    out = []
    v = d[d["model"] == "vgg16"]
    if len(v):
        req = [_floor(float(v["network"].iloc[0]) if "network" in v else None, "vgg16")]
        N_f = int(round(v["k"].max() / v["fraction"].max())) if v["fraction"].max() > 0 else 0
        full, cut, few = _acc_at(v, 0.0), _acc_at(v, 150 / 512), _acc_at(v, 1 - 120 / 512)
        out += [claims.paper_claim("dilution", "silencing 29% of VGG-16's layer-13 filters at random (the paper's 150 "
                                   "of 512) does not affect the accuracy", full - cut < TOL,
                                   f"{full:.3f} -> {cut:.3f} ({round(150 / 512 * N_f)} of {N_f} silenced, mean of "
                                   "the random draws)", test="loss < 0.01", requires=req),
                claims.addition("with 23% of the layer-13 filters kept (the paper's 120 of 512) the accuracy is "
                                "only slightly lower", full - few <= SLIGHT, f"{full:.3f} -> {few:.3f}",
                                test=f"loss <= {SLIGHT}, random filters silenced without retraining (the paper "
                                     "diluted layers 11-13 of the network it trained: a related experiment, not its "
                                     "own)", source="few_filters_120", requires=req)]
    a = d[d["model"] == "avgg16"]
    if len(a):
        req = [_floor(float(a["network"].iloc[0]) if "network" in a else None, "avgg16")]
        full, cut = _acc_at(a, 0.0), _acc_at(a, 1 - 100 / 512)
        out.append(claims.paper_claim("dilution__avgg16", "AVGG-16 keeps its accuracy with 20% of its layer-13 "
                                      "filters (the paper's 100 of 512)", full - cut < TOL, f"{full:.3f} -> {cut:.3f}",
                                      test="loss < 0.01, random filters silenced without retraining (the paper does "
                                           "not say how it removed them)", requires=req))
    return out


# --- Threshold robustness -----------------------------------------------------------------------

def check_thresholds(thresholds) -> list[float]:
    """The thresholds of a sweep, each checked (:func:`helpers.method.filters.check_threshold`) before anything trains."""
    if isinstance(thresholds, (int, float)) or not len(thresholds):
        raise ValueError(f"thresholds must be a non-empty list of values in (0, 1), e.g. [0.3, 0.4], got {thresholds!r}")
    return [filters.check_threshold(th) for th in thresholds]


@skippable
def threshold_sweep(page, thresholds=(0.3, 0.4, 0.5, 0.6)) -> pd.DataFrame | None:
    """n, N_c, C_s per layer for each threshold (*mechanism* Supplementary, "Robustness")."""
    rows = []
    for th in thresholds:
        s = page.study(threshold=th)
        for tap, la in s.layers.items():
            rows.append(dict(threshold=th, layer=tap, n=la.n, N_c=la.N_c, C_s=la.C_s))
    out = pd.DataFrame(rows)
    out.attrs.update(network=s.run.test_acc, model=s.run.config.model)
    return out


@skippable
def at_threshold(sw: pd.DataFrame | None, threshold: float) -> pd.DataFrame | None:
    """The rows of a threshold sweep at one threshold."""
    return sw[sw["threshold"] == threshold]


@skippable
def claims_threshold(sw: pd.DataFrame | None) -> list[claims.Claim] | None:
    """*mechanism* Supplementary, "Robustness": over thresholds 0.3-0.6 the noise falls layer by layer, layer 13 has
    the lowest noise and one cluster per filter."""
    req = [_frame_floor(sw)]
    out, by = [], {th: shallow_to_deep(g) for th, g in sw.groupby("threshold")}
    ev = "; ".join(f"{th:g}: " + series([f"L{t}" for t in g["layer"]], g["n"], "{:.2f}") for th, g in by.items())
    out.append(claims.paper_claim("noise_falls_every_threshold", "at every threshold the noise falls layer by layer",
                                  all(falls(g["n"]) for g in by.values()), ev,
                                  test="n of each layer < n of the layer before it, at each threshold", requires=req))
    if all("13" in set(g["layer"]) for g in by.values()):
        low = all(g.set_index("layer")["n"].idxmin() == "13" for g in by.values())
        nc = {th: float(g.set_index("layer").loc["13", "N_c"]) for th, g in by.items()}
        out += [claims.paper_claim("noise_falls_every_threshold", "at every threshold layer 13 has the lowest noise",
                                   low, ev, test="argmin of n over layers is 13, at each threshold", requires=req),
                claims.paper_claim("noise_falls_every_threshold", "at every threshold each layer-13 filter has one "
                                   "cluster", all(abs(v - 1) <= NC_TOL for v in nc.values()),
                                   ", ".join(f"{th:g}: N_c {v:.2f}" for th, v in nc.items()),
                                   test=f"|N_c - 1| <= {NC_TOL} at each threshold", requires=req)]
    per = sw.pivot(index="layer", columns="threshold", values="n")
    out.append(claims.addition("the noise falls as the threshold rises, at every layer",
                               bool((per.diff(axis=1).iloc[:, 1:] <= 1e-9).all().all()),
                               "n per layer, thresholds ascending", test="non-increasing in the threshold"))
    return out

