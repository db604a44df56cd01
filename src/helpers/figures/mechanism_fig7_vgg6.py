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

from helpers.figures.common import P, frame_floor, shallow_to_deep
from helpers.figures.mechanism_fig2_layer_accuracy import accuracy_summary, rise_claim
from helpers.figures.mechanism_fig5_cluster_statistics import NC_TOL, compare_fig5
from helpers.figures.steps import skippable
from helpers.reference import claims
from helpers.reference.claims import falls, series
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


def _mean_and_std(nets: pd.Series | None) -> tuple[float | None, float | None, int]:
    """Mean and sample std of several networks' accuracies (std ``None`` for fewer than two), and their count
    (a network whose accuracy is unknown, NaN, is left out)."""
    nets = None if nets is None else nets.dropna()
    if nets is None or not len(nets):
        return None, None, 0
    return float(nets.mean()), (float(nets.std(ddof=1)) if len(nets) > 1 else None), len(nets)


@skippable
def claims_vgg6(
    stats: pd.DataFrame | None,
    vgg16: pd.DataFrame | None = None,
    acc: pd.DataFrame | None = None,
    vgg16_nets: pd.Series | None = None,
) -> list[claims.Claim] | None:
    """*mechanism* Fig. 7: VGG-6's layers, and its last layer (5) against VGG-16's layer 13 (``vgg16``: that
    network's per-layer table; its comparisons need the two trained alike). ``acc`` (:func:`layer_accuracy`
    over the page's seeds) tests the accuracy's rise on the mean over the networks, beyond their spread; with
    ``vgg16_nets`` (:func:`network_accuracies` of several VGG-16), "VGG-6 is less accurate" compares the two
    models' means, decided only beyond the sum of their standard deviations over seeds (as :func:`rise_claim`
    sums two layers')."""
    s = shallow_to_deep(stats)
    req = [frame_floor(stats, "vgg6")]
    summ = (
        accuracy_summary(acc)
        if acc is not None
        else pd.DataFrame(dict(layer=s["layer"], mean=s["accuracy"], std=0.0, seeds=1))
    )
    out = [
        rise_claim(summ, "vgg6_trends", "VGG-6's accuracy rises with the layer", req),
        claims.paper_claim(
            "vgg6_trends",
            "VGG-6's noise falls layer by layer toward the output",
            falls(s["n"]),
            series([f"L{t}" for t in s["layer"]], s["n"], "{:.2f}")
            + (
                " (the first network's; the others' noise is not measured here)"
                if int(summ["seeds"].min()) > 1
                else ""
            ),
            test="n of each layer < n of the layer before it",
            requires=req,
        ),
    ]
    last = s.iloc[-1]
    out.append(
        claims.paper_claim(
            "vgg6_trends",
            f"each filter of VGG-6's layer {last['layer']} has one cluster",
            abs(last["N_c"] - 1) <= NC_TOL,
            f"N_c = {last['N_c']:.2f}",
            test=f"|N_c - 1| <= {NC_TOL}",
            requires=req,
        )
    )
    if vgg16 is not None and "13" in set(vgg16["layer"]):
        out += _against_vgg16(stats, last, vgg16, acc, vgg16_nets, req)
    return out


def _against_vgg16(
    stats, last: pd.Series, vgg16: pd.DataFrame, acc, vgg16_nets, req: list
) -> list[claims.Claim]:
    """The claims of :func:`claims_vgg6` that set VGG-6's last layer (``last``, a row of ``stats``) and
    network against VGG-16's layer 13 and network."""
    v = vgg16.set_index("layer").loc["13"]
    both = req + [frame_floor(vgg16, "vgg16")]
    if "config" in stats.attrs and "config" in vgg16.attrs:
        both.append(claims.same_budget(stats.attrs["config"], vgg16.attrs["config"], ("VGG-6", "VGG-16")))
    m6, sd6, k6 = _mean_and_std(acc.groupby("seed")["network"].first() if acc is not None else None)
    m16, sd16, k16 = _mean_and_std(vgg16_nets)
    a6 = m6 if k6 > 1 else stats.attrs.get("network")
    a16 = m16 if k16 > 1 else vgg16.attrs.get("network")
    spread = None if sd6 is None and sd16 is None else (sd6 or 0.0) + (sd16 or 0.0)
    return [
        claims.paper_claim(
            "vgg6",
            "VGG-6's last layer is noisier than VGG-16's layer 13",
            last["n"] > v["n"],
            f"n {last['n']:.2f} vs {v['n']:.2f} (the paper: 3.14 vs 1.5)",
            test="n greater",
            requires=both,
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
        claims.paper_claim(
            "vgg6_cluster_size",
            "VGG-6's last-layer clusters are smaller than VGG-16's layer-13 ones",
            last["C_s"] < v["C_s"],
            f"C_s {last['C_s']:.2f} vs {v['C_s']:.2f} (the paper: 2.6 vs 2.88)",
            test="C_s smaller",
            requires=both,
        ),
    ]


def _shown(a: float, sd: float | None, k: int, name: str, spread: float | None) -> str:
    """A model's network accuracy as evidence: the mean of ``k`` networks with its std, or one network's
    (saying that its spread is not measured when the other model's is)."""
    if sd is not None:
        return f"{a:.3f} (mean of {k} {name}, std {sd:.3f})"
    return f"{a:.3f}" + (f" (one {name}: its spread over seeds not measured)" if spread is not None else "")
