"""*mechanism*'s robustness to the threshold (Supplementary; no figure in the paper).

The sentences it reproduces: "Alternating the threshold between the values of [0.3, 0.6] for VGG-16 did not
change the behavior of the quantifiable features. For all thresholds within this range, layer 13 yielded the
lowest noise level ~1.5 and each filter in layer 13 is still comprised of a single cluster per filter." Used
by notebooks/mechanism-threshold-robustness.ipynb.

In order: the computation (:func:`check_thresholds`, :func:`threshold_sweep`: n, N_c, C_s per layer at each
threshold, :func:`at_threshold`), the claims (:func:`claims_threshold`) and the figure
(:func:`plot_threshold_sweep`). The page's comparison with the paper's numbers at 0.3 is Fig. 5's
(:func:`helpers.figures.mechanism_fig5_cluster_statistics.compare_fig5`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns

from helpers.figures.common import frame_floor, shallow_to_deep
from helpers.figures.steps import skippable
from helpers.figures.style import (
    PAPER,
    PAPER_T6,
    BookFigure,
    describe,
    new_figure,
    paper_line,
    sorted_taps,
    xy_series,
)
from helpers.method import fields
from helpers.reference import claims
from helpers.reference.claims import falls, series


def check_thresholds(thresholds) -> list[float]:
    """The thresholds of a sweep, each checked (:func:`helpers.method.fields.check_threshold`) before anything
    trains."""
    if isinstance(thresholds, (int, float)) or not len(thresholds):
        raise ValueError(
            f"thresholds must be a non-empty list of values in (0, 1), e.g. [0.3, 0.4], got {thresholds!r}"
        )
    return [fields.check_threshold(th) for th in thresholds]


@skippable
def threshold_sweep(page, thresholds=(0.3, 0.4, 0.5, 0.6)) -> pd.DataFrame | None:
    """n, N_c, C_s per layer for each threshold (*mechanism* Supplementary, "Robustness")."""
    rows = []
    for th in thresholds:
        s = page.study(threshold=th)
        for tap, la in s.layers.items():
            one = np.array([len(c) == 1 for c in la.clusters]) & ~la.dead
            rows.append(
                dict(
                    threshold=th,
                    layer=tap,
                    n=la.n,
                    N_c=la.N_c,
                    C_s=la.C_s,
                    live=int((~la.dead).sum()),
                    one_cluster=int(one.sum()),
                )
            )
    out = pd.DataFrame(rows)
    out.attrs.update(network=s.run.test_acc, model=s.run.config.model, runs=(getattr(s.run, "key", ""),))
    return out


@skippable
def at_threshold(sw: pd.DataFrame | None, threshold: float) -> pd.DataFrame | None:
    """The rows of a threshold sweep at one threshold."""
    return sw[sw["threshold"] == threshold]


@skippable
def claims_threshold(sw: pd.DataFrame | None) -> list[claims.Claim] | None:
    """*mechanism* Supplementary, "Robustness": over thresholds 0.3-0.6 the noise falls layer by layer, layer
    13 has the lowest noise and one cluster per filter."""
    req = [frame_floor(sw)]
    out, by = [], {th: shallow_to_deep(g) for th, g in sw.groupby("threshold")}
    ev = "; ".join(
        f"{th:g}: " + series([f"L{t}" for t in g["layer"]], g["n"], "{:.2f}") for th, g in by.items()
    )
    out.append(
        claims.paper_claim(
            "noise_falls_every_threshold",
            "at every threshold the noise falls layer by layer",
            all(falls(g["n"]) for g in by.values()),
            ev,
            test="n of each layer < n of the layer before it, at each threshold",
            requires=req,
        )
    )
    if all("13" in set(g["layer"]) for g in by.values()):
        low = all(g.set_index("layer")["n"].idxmin() == "13" for g in by.values())
        out += [
            claims.paper_claim(
                "noise_falls_every_threshold",
                "at every threshold layer 13 has the lowest noise",
                low,
                ev,
                test="argmin of n over layers is 13, at each threshold",
                requires=req,
            ),
            _one_cluster_every_threshold({th: g.set_index("layer").loc["13"] for th, g in by.items()}, req),
        ]
    per = sw.pivot(index="layer", columns="threshold", values="n")
    out.append(
        claims.addition(
            "the noise falls as the threshold rises, at every layer",
            bool((per.diff(axis=1).iloc[:, 1:] <= 1e-9).all().all()),
            "n per layer, thresholds ascending",
            test="non-increasing in the threshold",
        )
    )
    return claims.on(sw.attrs.get("runs", ()), out)


def _one_cluster_every_threshold(rows: dict, req: list) -> claims.Claim:
    """*mechanism*: "each filter in layer 13 is still comprised of a single cluster per filter" at every
    threshold (``rows``: threshold -> layer 13's row of the sweep): filter by filter, at least
    :data:`helpers.reference.claims.EACH` of the live filters with exactly one cluster at each threshold (the
    mean N_c can be 1 by cancellation), the rule of :func:`helpers.figures.common.one_cluster_claim`."""
    share = {th: float(r["one_cluster"]) / float(r["live"]) if r["live"] else 0.0 for th, r in rows.items()}
    return claims.paper_claim(
        "noise_falls_every_threshold",
        "at every threshold each layer-13 filter has one cluster",
        all(v >= claims.EACH for v in share.values()),
        ", ".join(
            f"{th:g}: {v:.0%} of the live filters, N_c {rows[th]['N_c']:.2f}" for th, v in share.items()
        ),
        test=f">= {claims.EACH:.0%} of the live filters with exactly one cluster, at each threshold (each "
        "filter, not the mean N_c)",
        requires=req,
    )


def plot_threshold_sweep(sw: pd.DataFrame | None, model: str = "vgg16") -> BookFigure | None:
    """n, N_c, C_s per layer (shallow to deep) for each threshold, with the paper's values at 0.3."""
    if sw is None:
        return None
    s = sw.assign(layer=sw["layer"].astype(str))
    layers = sorted_taps(s["layer"])
    ths = sorted(s["threshold"].unique())
    x = np.arange(len(layers))
    fig, axes = new_figure(3.6, 1, 3)
    colors = sns.color_palette("viridis", len(ths))
    for ax, col in zip(axes[0], ("n", "N_c", "C_s")):
        for c, th in zip(colors, ths):
            g = s[s["threshold"] == th].set_index("layer").reindex(layers)
            ax.plot(x, g[col], "o-", c=c, label=f"threshold {th:g}")
        if model == "vgg16":
            ref = paper_line(col)
            ax.plot(x, [ref.get(t, np.nan) for t in layers], **dict(PAPER, label="paper at 0.3 (Table 6)"))
        ax.set(xticks=x, xticklabels=layers, xlabel="layer", title=col, ylim=(0, None))
    axes[0][0].legend(fontsize=7)
    n_at = {th: s[s["threshold"] == th].set_index("layer").reindex(layers)["n"] for th in ths}
    what = (
        "The mean noise per filter n, clusters per filter N_c and mean cluster size C_s per layer, shallow "
        f"to deep, at each threshold ({', '.join(f'{t:g}' for t in ths)})"
        + (f", beside the paper's at 0.3 ({PAPER_T6})" if model == "vgg16" else "")
        + "."
    )
    alt = (
        "Three line charts over layers "
        + ", ".join(layers)
        + ", one line per threshold: n "
        + "; ".join(f"at {th:g}: {xy_series(v)}" for th, v in n_at.items())
        + "."
    )
    return describe(
        fig, what, alt, "*mechanism* Supplementary (robustness to the threshold)", model == "vgg16"
    )
