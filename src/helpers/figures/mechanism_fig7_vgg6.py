"""*mechanism* Fig. 7: VGG-6, and its last layer against VGG-16's layer 13.

The paper's caption: "Statistical features of SRs and filters per layer in VGG-6. (A) VGG-6 architecture for
classification of the CIFAR-10 database, ... (B) Maximized SRs and their standard deviations (Stds) for fixed
weights for each of the layers and their trained FC sizes. (C) Averaged results obtained from five trained
VGG-6 samples, indicating decreased averaged layer noise toward the output, where each filter in layer 5
consists of one cluster." Used by notebooks/mechanism-fig7-vgg6.ipynb; :func:`network_accuracy` and
:func:`compare_model` also by the AVGG-16 page (notebooks/mechanism-fig8-avgg16.ipynb).

In order: the networks' accuracies (:func:`network_accuracy`, :func:`network_accuracies`, and
:func:`vgg16_networks`, the VGG-16 set against VGG-6), the comparison with the paper (:func:`compare_model`)
and the claims (:func:`claims_vgg6`). Its figures are Fig. 2's and Fig. 5's
(:func:`helpers.figures.mechanism_fig2_layer_accuracy.plot_layer_accuracy`,
:func:`helpers.figures.mechanism_fig5_cluster_statistics.cluster_statistics`) drawn for VGG-6.
"""

from __future__ import annotations

import pandas as pd

from helpers.figures.common import (
    P,
    compare_claim,
    equal_appearances_claim,
    frame_floor,
    one_cluster_claim,
    over_networks,
    seed_statistics,
    shallow_to_deep,
    trend_evidence,
)
from helpers.figures.mechanism_fig2_layer_accuracy import accuracy_summary, rise_claim
from helpers.figures.mechanism_fig5_cluster_statistics import compare_fig5
from helpers.figures.steps import skippable
from helpers.reference import claims
from helpers.train import profiles


@skippable
def network_accuracy(study) -> float | None:
    """The whole trained network's test accuracy (its own output layer)."""
    return study.run.test_acc


def compare_model(stats: pd.DataFrame | None, model: str, network_acc: float | None) -> list[tuple]:
    """VGG-6 (Fig. 7) / AVGG-16 (Fig. 8) against the numbers of *mechanism*'s text."""
    ref = P[model]
    rows = [("accuracy (whole network)", ref["accuracy"], network_acc)]
    return rows + compare_fig5(stats, model)


def vgg16_networks(page) -> int:
    """How many VGG-16 the Fig. 7 page sets against its VGG-6: as many as Fig. 2 trains at this profile (so
    the two pages share them: 2 at ``cpu``, the paper's 4 at ``paper``), and no more than the page's own
    VGG-6."""
    return min(page.seeds, profiles.seeds(page.profile, "vgg16"))


@skippable
def network_accuracies(page, model: str | None = None, n: int | None = None) -> pd.Series | None:
    """The whole networks' test accuracies (their own output layer) of ``model`` (default: the page's) for
    seeds 0 ... ``n`` - 1 (default: the page's seeds), indexed by seed."""
    n = page.seeds if n is None else n
    return pd.Series(
        {s: page.run(seed=s, model=model).test_acc for s in range(n)}, name="network", dtype=float
    )


@skippable
def vgg16_statistics(page) -> pd.DataFrame | None:
    """Layer 13 of the VGG-16 set against the page's VGG-6 (:func:`vgg16_networks` of them, one per seed,
    those Fig. 2 trains): :func:`helpers.figures.common.seed_statistics`, the spread that the comparisons of
    n and C_s must beat."""
    return seed_statistics(page, "vgg16", vgg16_networks(page), ["13"])


@skippable
def claims_vgg6(
    stats: pd.DataFrame | None,
    vgg16: pd.DataFrame | None = None,
    acc: pd.DataFrame | None = None,
    vgg16_nets: pd.Series | None = None,
    per_seed: pd.DataFrame | None = None,
    vgg16_seeds: pd.DataFrame | None = None,
) -> list[claims.Claim] | None:
    """*mechanism* Fig. 7: VGG-6's layers, and its last layer (5) against VGG-16's layer 13 (``vgg16``: that
    network's per-layer table; its comparisons need the two trained alike). ``acc`` (:func:`layer_accuracy`
    over the page's seeds) tests the accuracy's rise on the mean over the networks, ``per_seed`` (VGG-6's
    per-layer tables over the seeds, :func:`helpers.figures.common.seed_statistics`) the noise's fall, each
    step beyond their spread; ``vgg16_nets`` (:func:`network_accuracies` of several VGG-16) and
    ``vgg16_seeds`` (:func:`vgg16_statistics`) set the two models' means against each other, decided only
    beyond the sum of their standard deviations over seeds."""
    s = shallow_to_deep(stats)
    req = [frame_floor(stats, "vgg6")]
    summ = (
        accuracy_summary(acc)
        if acc is not None
        else pd.DataFrame(dict(layer=s["layer"], mean=s["accuracy"], std=0.0, seeds=1))
    )
    noise = over_networks(stats, "n", per_seed)
    several = int(noise["seeds"].min()) > 1
    layers = [f"L{t}" for t in noise["layer"]]
    falling, spread = claims.falls_over(layers, noise["mean"], noise["std"] if several else None)
    last = s.iloc[-1]
    out = [
        rise_claim(summ, "vgg6_trends", "VGG-6's accuracy rises with the layer", req),
        claims.paper_claim(
            "vgg6_trends",
            "VGG-6's noise falls layer by layer toward the output",
            falling,
            trend_evidence(noise),
            test="n of each layer < n of the layer before it"
            + (", each step beyond the two layers' std over the networks" if several else ""),
            requires=req + spread,
        ),
        one_cluster_claim(
            "vgg6_trends", f"each filter of VGG-6's layer {last['layer']} has one cluster", last, req
        ),
        equal_appearances_claim(
            "appearances_equal__vgg6",
            "each label appears about equally often in the clusters of each VGG-6 layer",
            stats.attrs.get("label_counts", {}),
            req,
        ),
    ]
    if vgg16 is not None and "13" in set(vgg16["layer"]):
        out += _against_vgg16(stats, vgg16, acc, vgg16_nets, req, per_seed, vgg16_seeds)
    return claims.on([*_keys(stats), *(() if per_seed is None else _keys(per_seed))], out)


def _last_layer(stats: pd.DataFrame, per_seed: pd.DataFrame | None, tap: str | None = None) -> pd.DataFrame:
    """One layer's rows (default: the deepest) of each network: ``per_seed``'s where it holds several, else
    the one network of ``stats``."""
    tap = tap or str(shallow_to_deep(stats)["layer"].iloc[-1])
    f = per_seed if per_seed is not None and per_seed["seed"].nunique() > 1 else stats
    return f[f["layer"].astype(str) == tap]


def _against_vgg16(stats, vgg16, acc, vgg16_nets, req: list, per_seed=None, vgg16_seeds=None):
    """The claims of :func:`claims_vgg6` that set VGG-6's last layer and network against VGG-16's layer 13 and
    network: the means over each model's networks, decided beyond their standard deviations summed."""
    both = req + [frame_floor(vgg16, "vgg16")]
    if stats.attrs.get("config") is not None and vgg16.attrs.get("config") is not None:
        both.append(claims.same_budget(stats.attrs["config"], vgg16.attrs["config"], ("VGG-6", "VGG-16")))
    six, sixteen = _last_layer(stats, per_seed), _last_layer(vgg16, vgg16_seeds, "13")
    m6, sd6, k6 = claims.mean_sd(acc.groupby("seed")["network"].first() if acc is not None else None)
    m16, sd16, k16 = claims.mean_sd(vgg16_nets)
    a6 = m6 if k6 > 1 else stats.attrs.get("network")
    a16 = m16 if k16 > 1 else vgg16.attrs.get("network")
    spread = claims.spread_of(sd6, sd16)
    out = [
        compare_claim(
            "vgg6",
            "VGG-6's last layer is noisier than VGG-16's layer 13",
            "n",
            six,
            sixteen,
            +1,
            "the paper: 3.14 vs 1.5",
            both,
        ),
        claims.paper_claim(
            "vgg6",
            "VGG-6 is less accurate than VGG-16",
            None if a6 is None or a16 is None else a6 < a16,
            (
                f"{_shown(a6, sd6, k6, 'VGG-6', spread)} vs {_shown(a16, sd16, k16, 'VGG-16', spread)} (the "
                f"paper: 0.92 vs 0.94)"
            )
            if a6 and a16
            else "",
            test="network accuracy lower, by more than the sum of the two models' std over "
            "seeds where the page trains several",
            requires=both
            + (
                []
                if a6 is None or a16 is None
                else [claims.beyond_spread(a16 - a6, spread, "the accuracy gap")]
            ),
        ),
        compare_claim(
            "vgg6_cluster_size",
            "VGG-6's last-layer clusters are smaller than VGG-16's layer-13 ones",
            "C_s",
            six,
            sixteen,
            -1,
            "the paper: 2.6 vs 2.88",
            both,
        ),
    ]
    return claims.on(
        [k for f in (stats, per_seed, vgg16, vgg16_seeds) if f is not None for k in _keys(f)], out
    )


def _keys(frame: pd.DataFrame) -> tuple:
    """The cache keys of the networks behind a per-layer table (``attrs["runs"]``)."""
    return tuple(frame.attrs.get("runs", ()))


def _shown(a: float, sd: float | None, k: int, name: str, spread: float | None) -> str:
    """A model's network accuracy as evidence: the mean of ``k`` networks with its std, or one network's
    (saying that its spread is not measured when the other model's is)."""
    if sd is not None:
        return f"{a:.3f} (mean of {k} {name}, std {sd:.3f})"
    return f"{a:.3f}" + (f" (one {name}: its spread over seeds not measured)" if spread is not None else "")
