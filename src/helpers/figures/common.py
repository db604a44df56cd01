"""What the *mechanism* pages share: the accuracy floor of the paper's claims and a few helpers.

*mechanism*'s claims describe trained networks, so a run is tested only when its network reaches 0.8 of the
paper's CIFAR-10 accuracy for the same model (:func:`mechanism_floor`; :func:`frame_floor` reads the network's
accuracy and model from a per-layer table's ``attrs``); below it a claim is "not testable here". Beside the
floor: :func:`shallow_to_deep`, the order every per-layer claim reads its table in, and :func:`claims_noise`,
the claim of Fig. 5A that the noise per filter "decreases with layers toward the output", checked by the Fig.
4 (notebooks/mechanism-fig4-field-matrices.ipynb) and Fig. 5
(notebooks/mechanism-fig5-cluster-statistics.ipynb) pages and, epoch by epoch, by
:mod:`helpers.figures.training_dynamics`. Fig. 5's page also reads its claims of layer 10 against 13
(:func:`layer10_vs_13_claim`), of fields orders of magnitude apart (:func:`orders_claim`, also *universal*
Fig. 3's) and of the cluster rule's label order (:func:`rule_comparison`, :func:`claims_label_order`) from
here. No notebook imports this module: the figure modules do.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.figures.steps import skippable
from helpers.method import afcc, fields
from helpers.method.layer import analyze_layer
from helpers.reference import claims
from helpers.reference import printed as paper
from helpers.reference.claims import TOL, accuracy_floor, series
from helpers.train import models

P = paper.MECHANISM


def mechanism_floor(network: float | None, model: str | None = "vgg16") -> claims.Precondition:
    """The accuracy floor of *mechanism*'s claims: 0.8 of the paper's CIFAR-10 accuracy of ``model``."""
    if model not in P or "accuracy" not in P.get(model, {}):
        return claims.Precondition(
            False, f"*mechanism* reports no accuracy for {model!r}, so no floor can be set"
        )
    return accuracy_floor(network, P[model]["accuracy"], f"the {model} network")


def frame_floor(frame: pd.DataFrame, model: str | None = None) -> claims.Precondition:
    """:func:`mechanism_floor` of a table whose ``attrs`` carry its network's accuracy and model."""
    return mechanism_floor(frame.attrs.get("network"), model or frame.attrs.get("model", "vgg16"))


def shallow_to_deep(stats: pd.DataFrame) -> pd.DataFrame:
    """Rows of a per-layer table ordered from the shallowest layer to the deepest (whatever order they came
    in)."""
    return models.by_depth(stats, "layer")


def over_networks(stats: pd.DataFrame, column: str, per_seed: pd.DataFrame | None = None) -> pd.DataFrame:
    """``column`` per layer, shallow to deep, over the trained networks: ``layer``, ``mean``, ``std`` (sample;
    NaN for one network) and ``seeds``, from ``per_seed`` (the per-layer tables of several networks with a
    ``seed`` column, :func:`helpers.figures.mechanism_fig5_cluster_statistics.seed_statistics`) or, with
    fewer than two networks there, from the one network of ``stats``."""
    if per_seed is None or per_seed["seed"].nunique() < 2:
        s = shallow_to_deep(stats)
        return pd.DataFrame(
            dict(layer=s["layer"].astype(str), mean=s[column].astype(float), std=np.nan, seeds=1)
        ).reset_index(drop=True)
    g = per_seed.assign(layer=per_seed["layer"].astype(str)).groupby("layer")[column]
    out = pd.DataFrame(dict(mean=g.mean(), std=g.std(ddof=1), seeds=g.size())).reset_index()
    return shallow_to_deep(out).reset_index(drop=True)


def trend_evidence(summ: pd.DataFrame, fmt: str = "{:.2f}") -> str:
    """The means of :func:`over_networks`, layer by layer, with their spread where there are several
    networks."""
    ev = series([f"L{t}" for t in summ["layer"]], summ["mean"], fmt)
    k = int(summ["seeds"].min())
    return ev + (
        f" (means of {k} networks; std " + ", ".join(f"{v:.2f}" for v in summ["std"]) + ")" if k > 1 else ""
    )


@skippable
def claims_noise(
    stats: pd.DataFrame | None, per_seed: pd.DataFrame | None = None
) -> list[claims.Claim] | None:
    """*mechanism*: "the average noise per filter decreases with layers toward the output" (Fig. 5A), layer by
    layer; over the networks of ``per_seed`` where it holds several, each step only beyond their spread
    (:func:`helpers.reference.claims.falls_over`)."""
    summ = over_networks(stats, "n", per_seed)
    several = int(summ["seeds"].min()) > 1
    layers = [f"L{t}" for t in summ["layer"]]
    holds, spread = claims.falls_over(layers, summ["mean"], summ["std"] if several else None)
    return claims.on(
        _runs(stats, per_seed),
        [
            claims.paper_claim(
                "noise_falls_layer_by_layer__mechanism",
                "the noise per filter n falls layer by layer toward the output",
                holds if len(summ) >= 2 else None,
                trend_evidence(summ),
                test="n of each layer < n of the layer before it"
                + (", each step beyond the two layers' std over the networks" if several else ""),
                requires=[frame_floor(stats)] + spread,
            )
        ],
    )


def layer10_vs_13_claim(stats: pd.DataFrame, per_seed: pd.DataFrame | None, requires) -> claims.Claim:
    """*mechanism* (Discussion): "Although the noise of layer 10 is higher than layer 13's, it yields similar
    SRs which can be attributed to its smaller average cluster size (Fig. 5A)". The attribution is not a
    measurement; the three facts it rests on are, on the means over the networks of ``per_seed`` (else the
    one of ``stats``): n higher at layer 10 and C_s smaller, each beyond the two layers' std over the
    networks summed (within it: not testable here), and accuracies within 0.01 of each other or within that
    spread."""
    rows = {c: over_networks(stats, c, per_seed).set_index("layer") for c in ("n", "C_s", "accuracy")}
    m = {c: (float(r.loc["10", "mean"]), float(r.loc["13", "mean"])) for c, r in rows.items()}
    sd = {
        c: claims.spread_of(*[None if v != v else float(v) for v in r.loc[["10", "13"], "std"]])
        for c, r in rows.items()
    }
    (n10, n13), (c10, c13), (a10, a13) = m["n"], m["C_s"], m["accuracy"]
    known = all(v == v for pair in m.values() for v in pair)
    similar = abs(a10 - a13) <= max(TOL, sd["accuracy"] or 0.0)
    k = int(rows["n"]["seeds"].min())
    return claims.paper_claim(
        "layer10_vs_13",
        "layer 10 has more noise than layer 13 but smaller clusters, and similar accuracy",
        (n10 > n13 and c10 < c13 and similar) if known else None,
        f"layer 10 vs 13: n {n10:.2f} vs {n13:.2f}, C_s {c10:.2f} vs {c13:.2f}, accuracy {a10:.3f} vs "
        f"{a13:.3f}" + (f" (means of {k} networks)" if k > 1 else ""),
        test=f"n(10) > n(13), C_s(10) < C_s(13), |accuracy(10) - accuracy(13)| <= {TOL}"
        + (" or within the two layers' std summed; n and C_s beyond it" if k > 1 else ""),
        requires=list(requires)
        + [
            claims.beyond_spread(n10 - n13, sd["n"], "the gap in n between layers 10 and 13"),
            claims.beyond_spread(c13 - c10, sd["C_s"], "the gap in C_s between layers 13 and 10"),
        ],
    )


def _runs(stats: pd.DataFrame, per_seed: pd.DataFrame | None = None) -> list[str]:
    """The cache keys of the networks behind a per-layer table and its per-seed tables (``attrs["runs"]``)."""
    return list(stats.attrs.get("runs", ())) + list(
        () if per_seed is None else per_seed.attrs.get("runs", ())
    )


def compare_claim(
    source: str, claim: str, column: str, a: pd.DataFrame, b: pd.DataFrame, sign: int, paper: str, requires
) -> claims.Claim:
    """Model A's ``column`` above (``sign`` +1) or below (-1) model B's, each the mean over its networks (the
    rows of ``a`` and ``b``: one layer, one row per trained network), decided only beyond their standard
    deviations summed where either has several (:func:`helpers.reference.claims.beyond_spread`)."""
    ma, sa, ka = claims.mean_sd(a[column])
    mb, sb, kb = claims.mean_sd(b[column])
    spread = claims.spread_of(sa, sb)

    def shown(m, sd, k):
        return f"{m:.2f}" + (f" (mean of {k}, std {sd:.2f})" if sd is not None else "")

    return claims.paper_claim(
        source,
        claim,
        None if ma is None or mb is None else sign * (ma - mb) > 0,
        "" if ma is None or mb is None else f"{column} {shown(ma, sa, ka)} vs {shown(mb, sb, kb)} ({paper})",
        test=f"{column} {'greater' if sign > 0 else 'smaller'}"
        + (", by more than the two models' std over their networks summed" if spread is not None else ""),
        requires=list(requires)
        + (
            []
            if ma is None or mb is None
            else [claims.beyond_spread(ma - mb, spread, f"the gap in {column}")]
        ),
    )


def one_cluster_share(r: pd.Series) -> float | None:
    """The fraction of a layer's live filters (row ``r`` of a per-layer table) with exactly one cluster."""
    live, one = r.get("live"), r.get("one_cluster")
    return None if live is None or live != live or live == 0 else float(one) / float(live)


def one_cluster_claim(source: str, claim: str, r: pd.Series, requires: list) -> claims.Claim:
    """*mechanism*'s "each filter ... consists of only one (diagonal) cluster" on one layer's row ``r`` of a
    per-layer table: filter by filter, at least :data:`helpers.reference.claims.EACH` of the live filters (a
    dead filter, no positive field, selects nothing) with exactly one cluster. The mean N_c alone can be 1 by
    cancellation (filters with none against filters with two), which "each filter" excludes."""
    live, one = r.get("live"), r.get("one_cluster")
    share = one_cluster_share(r)
    return claims.paper_claim(
        source,
        claim,
        None if share is None else share >= claims.EACH,
        ""
        if share is None
        else f"{int(one)} of {int(live)} live filters ({share:.0%}) have exactly one cluster; "
        f"N_c = {r['N_c']:.2f} over all filters",
        test=f">= {claims.EACH:.0%} of the live filters with exactly one cluster (each filter, not the "
        "mean N_c)",
        requires=requires,
    )


def equal_appearances_claim(source: str, claim: str, counts: dict, requires: list) -> claims.Claim:
    """*mechanism*'s "the number of occurrence of each label ... slightly fluctuates around their average"
    on the label counts of one or more layers (``counts``: tap -> each label's appearances in the layer's
    clusters): Pearson's chi-square against equal shares (:func:`helpers.reference.claims.equal_shares`) holds
    when p >= 0.05, Bonferroni-divided over the layers tested, i.e. no evidence of unequal appearances beyond
    sampling noise; a layer with fewer than 5 expected appearances per label is not tested, and with none left
    the claim is not testable here."""
    enough = {t: claims.enough_slots(c) for t, c in counts.items()}
    tested = {t: claims.equal_shares(c) for t, c in counts.items() if enough[t].ok}
    alpha = claims.ALPHA / max(1, len(tested))
    ev = "; ".join(
        f"layer {t}: {int(min(c))}-{int(max(c))}, mean {np.mean(c):.1f}"
        + (
            f", chi-square {tested[t][0]:.1f} on {len(c) - 1} df, p = {tested[t][1]:.2g}"
            if t in tested
            else ""
        )
        for t, c in counts.items()
    )
    return claims.paper_claim(
        source,
        claim,
        all(p >= alpha for _, p in tested.values()) if tested else None,
        ev,
        test=f"chi-square of the label counts against equal shares: p >= {claims.ALPHA:g}"
        + (f" / {len(tested)} layers (Bonferroni)" if len(tested) > 1 else "")
        + " (no evidence of unequal appearances beyond sampling noise)",
        requires=requires + ([] if tested else [next(iter(enough.values()))] if enough else []),
    )


def orders_claim(source: str, claim: str, small: float, large: float, orders: int, what: str, requires):
    """A sentence that fields are ``orders`` orders of magnitude smaller than others (*mechanism* Fig. 5C's
    text: "two orders"; *universal* after Eq. 4: "several", taken as two): holds when log10(``large`` /
    ``small``) is at least ``orders`` - 0.5, i.e. rounds to ``orders`` or more; ``what`` says which fields
    are compared. Undefined (not testable here) where either is unknown or ``large`` is not positive."""
    known = small == small and large == large and large > 0
    ratio = (np.inf if small <= 0 else large / small) if known else None
    return claims.paper_claim(
        source,
        claim,
        None if ratio is None else np.log10(ratio) >= orders - 0.5,
        ""
        if ratio is None
        else f"{what}: {large:.3g} vs {small:.2g}, a ratio of {ratio:.3g} (10^{np.log10(ratio):.2f})",
        test=f"log10 of the ratio >= {orders - 0.5:g} ({orders} orders of magnitude, to the nearest)",
        requires=requires,
    )


# --- the per-layer table of the mechanism pages (Fig. 5A; also Figs. 3, 4, 7, 8, the threshold page) ---


@skippable
def layer_statistics(study) -> pd.DataFrame | None:
    """Per layer: n, N_c, C_s, dead filters and the expected label appearances (Eq. 1)."""
    rows = []
    for tap, la in study.layers.items():
        per_filter = np.array([len(c) for c in la.clusters])
        rows.append(
            dict(
                layer=tap,
                N_f=la.N_f,
                accuracy=study.probes[tap].test_acc,
                n=la.n,
                N_c=la.N_c,
                C_s=la.C_s,
                dead=int(la.dead.sum()),
                live=int((~la.dead).sum()),
                one_cluster=int(((per_filter == 1) & ~la.dead).sum()),
                appearances=la.N_c * la.C_s * la.N_f / la.N_l if la.sizes else 0.0,
                with_clusters=int(la.clustered.sum()),
                n_clustered=la.n_clustered,
                N_c_clustered=la.N_c_clustered,
                **{f"size {k}": la.size_fraction.get(k, 0.0) for k in (1, 2, 3)},
                **{"size > 3": sum(v for k, v in la.size_fraction.items() if k > 3)},
            )
        )
    out = pd.DataFrame(rows)
    run = study.run
    out.attrs.update(
        network=None if run is None else run.test_acc,
        model=None if run is None else run.config.model,
        config=None if run is None else run.config,
        N_l=None if study.data is None else study.data.num_classes,
        runs=(getattr(run, "key", ""),),
        label_counts={tap: la.appearances.tolist() for tap, la in study.layers.items()},
    )
    return out


@skippable
def seed_statistics(page, model: str | None = None, n: int | None = None, taps=None) -> pd.DataFrame | None:
    """:func:`layer_statistics` of ``n`` trained networks of ``model`` (default: the page's seeds and model;
    ``taps``: the page's) stacked with a ``seed`` column: the networks a trend is decided over, beyond their
    spread (*mechanism* Fig. 5A averages four). ``attrs["runs"]``: their keys."""
    n = page.seeds if n is None else n
    frames = [layer_statistics(page.study(seed=k, model=model, taps=taps)).assign(seed=k) for k in range(n)]
    out = pd.concat(frames, ignore_index=True)
    out.attrs.update(frames[0].attrs, runs=tuple(k for f in frames for k in f.attrs["runs"]))
    return out


@skippable
def size_fractions(study) -> pd.DataFrame | None:
    """Fraction of each layer's clusters of each size (*mechanism* Fig. 5A, right)."""
    return pd.DataFrame(
        [
            dict(layer=t, size=k, fraction=v)
            for t, la in study.layers.items()
            for k, v in la.size_fraction.items()
        ]
    )


@skippable
def rule_comparison(study) -> pd.DataFrame | None:
    """n, N_c and C_s per layer under each cluster rule (:data:`helpers.method.fields.RULES`) on the same
    field matrices, and the fraction of filters whose clusters differ from the greedy rule's in label order
    (``changed``): the papers' greedy rule depends on the order of the labels (reversed: ``greedy_reversed``),
    the order-independent one does not."""
    rows = []
    for tap, la in study.layers.items():
        W, means = study.probes[tap].W, study.means[tap]
        by = {r: la if r == la.rule else analyze_layer(W, means, la.threshold, r) for r in fields.RULES}
        for rule, other in by.items():
            changed = 1 - afcc.same_clusters(by["greedy"].clusters, other.clusters)
            rows.append(dict(layer=tap, rule=rule, n=other.n, N_c=other.N_c, C_s=other.C_s, changed=changed))
    out = pd.DataFrame(rows)
    run = getattr(study, "run", None)
    out.attrs.update(
        network=getattr(run, "test_acc", None),
        model=getattr(getattr(run, "config", None), "model", "vgg16"),
        runs=(getattr(run, "key", ""),),
    )
    return out


NEGLIGIBLE = 0.02  # "a negligible number of filters", "remain the same": at most 2% (of them; relative)
STATS = ["n", "N_c", "C_s"]


@skippable
def claims_label_order(rules: pd.DataFrame | None) -> list[claims.Claim] | None:
    """*mechanism* Supplementary: the greedy rule walked in reversed label order changes the clusters of a
    negligible number of filters and leaves the averaged results the same: on every layer of ``rules``
    (:func:`rule_comparison`), at most :data:`NEGLIGIBLE` of the filters changed and n, N_c, C_s each within
    that fraction of the label order's."""
    r = rules.set_index(["rule", "layer"])
    layers = list(shallow_to_deep(rules[rules["rule"] == "greedy"])["layer"])
    a, b = r.loc["greedy"].loc[layers], r.loc["greedy_reversed"].loc[layers]
    diff = (b[STATS] - a[STATS]).abs()
    rel = (diff / a[STATS].abs()).where(diff > 0, 0.0).max(axis=1)  # 0 where equal (or both undefined)
    ok = (b["changed"] <= NEGLIGIBLE) & (rel <= NEGLIGIBLE)
    claim = claims.paper_claim(
        "greedy_reversed_order",
        "walking the labels in reversed order changes the clusters of a negligible number of filters and "
        "leaves n, N_c and C_s the same",
        bool(ok.all()) if len(ok) else None,
        "; ".join(
            f"L{t}: {b.loc[t, 'changed']:.1%} of the filters changed, n, N_c, C_s within {rel[t]:.1%}"
            for t in layers
        ),
        test=f"on every layer, <= {NEGLIGIBLE:.0%} of the filters with other clusters, and n, N_c, C_s each "
        f"within {NEGLIGIBLE:.0%} of the label order's",
        requires=[frame_floor(rules)],
    )
    return claims.on(rules.attrs.get("runs", ()), [claim])
