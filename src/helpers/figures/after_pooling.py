"""The noise of the layers right after VGG-16's max poolings, layers 8 and 11 (*mechanism*, Discussion).

The paper: "Statistical features were presented only for layers terminating with MP operators, layers 2, 4, 7,
10, and 13 of VGG-16 (Fig. 2). For the other layers, the statistical features indicated that the noise was not
monotonic and was typically significantly increased in the layers subsequent to the MP, for example, layers 8
and 11." It prints no number for them. The Fig. 5 page's taps are the max poolings; here the convolution right
after the max pooling of layers 7 and 10 is read too (after its batch norm and ReLU:
:func:`taps_after_pooling`), its FC layer trained as at every tap (:meth:`helpers.train.runs.Run.at_taps`: the
same network, probes cached per tap), on every network of the page. The claim (:func:`claims_after_pooling`)
is decided on n(8) against n(7) and n(11) against n(10), means over the networks, each rise beyond their
spread (DESIGN.md, "Claims").
Used by notebooks/mechanism-fig5-cluster-statistics.ipynb.
"""

from __future__ import annotations

import pandas as pd

from helpers.figures.common import frame_floor, layer_statistics, over_networks, trend_evidence
from helpers.figures.steps import skippable
from helpers.figures.style import NAME, BookFigure, describe, new_figure, xy_series
from helpers.reference import claims
from helpers.reference import printed as paper_mod
from helpers.train.models import Tap

# per model: a layer right after a max pooling -> the pooled layer before it
AFTER_POOLING = {"vgg16": {"8": "7", "11": "10"}}


def taps_after_pooling(model: str, taps=None) -> list[Tap]:
    """The taps of ``model``'s layers right after a max pooling (:data:`AFTER_POOLING`; none for another
    model) whose pooled layer is among ``taps`` (default: all): the output of the layer's ReLU, all its
    positions."""
    after = AFTER_POOLING.get(model, {})
    return [Tap(t, f"features.relu{t}") for t, b in after.items() if taps is None or b in map(str, taps)]


@skippable
def statistics(page) -> pd.DataFrame | None:
    """Per layer and network (a ``seed`` column): :func:`~helpers.figures.common.layer_statistics` at the
    page's taps and at the layers after its max poolings whose pooled layer is among them
    (:meth:`helpers.book.page.Page.study_at`), shallow to deep; ``None`` for a model without them. ``attrs``:
    the first network's, and ``runs``, every network's key."""
    taps = taps_after_pooling(page.model, page.taps)
    if not taps:
        return None
    frames, runs, attrs = [], [], {}
    for k in range(page.seeds):
        both = [layer_statistics(page.study(seed=k)), layer_statistics(page.study_at(taps, seed=k))]
        runs += [r for f in both for r in f.attrs.get("runs", ())]
        attrs = attrs or dict(both[0].attrs)  # concat keeps attrs only where all frames agree
        frames.append(paper_mod.by_depth(pd.concat(both, ignore_index=True), "layer").assign(seed=k))
    out = pd.concat(frames, ignore_index=True)
    out.attrs.update(attrs, runs=tuple(dict.fromkeys(runs)))
    return out


def _pooled(layer: str, model: str) -> str:
    after = AFTER_POOLING.get(model, {})
    return "after one" if layer in after else "ends with one" if layer in after.values() else ""


@skippable
def summary(per_seed: pd.DataFrame | None) -> pd.DataFrame | None:
    """Means over the networks per layer, shallow to deep: accuracy, n (with its std), N_c, C_s, and where the
    layer stands to a max pooling."""
    model = per_seed.attrs.get("model", "vgg16")
    cols = {c: over_networks(per_seed, c, per_seed) for c in ("accuracy", "n", "N_c", "C_s")}
    out = cols["n"][["layer"]].copy()
    out["max pooling"] = [_pooled(t, model) for t in out["layer"]]
    for c, s in cols.items():
        out[c] = s["mean"].to_numpy()
    out["n std"], out["networks"] = cols["n"]["std"].to_numpy(), cols["n"]["seeds"].to_numpy()
    return out


def claims_after_pooling(per_seed: pd.DataFrame | None) -> list[claims.Claim]:
    """*mechanism*: the noise "was typically significantly increased in the layers subsequent to the MP, for
    example, layers 8 and 11": n of each layer after a max pooling above n of the pooled layer before it, on
    the means over the page's networks. As the other trends (:func:`helpers.reference.claims.rises_over`): a
    fall beyond the two layers' std summed is against it (does not hold); a rise within that spread cannot be
    told from seed noise (not testable here). No such layer (another model, or its pooled layer not among the
    page's taps): no claim."""
    if per_seed is None:
        return []
    model = per_seed.attrs.get("model", "vgg16")
    summ = over_networks(per_seed, "n", per_seed)
    m, sd = summ.set_index("layer")["mean"], summ.set_index("layer")["std"]
    pairs = [(b, a) for a, b in AFTER_POOLING.get(model, {}).items() if a in m and b in m]
    if not pairs:
        return []
    several = int(summ["seeds"].min()) > 1
    # the two layers' std summed (0 for one network: no spread measured)
    spread = {p: claims.spread_of(*[None if v != v else float(v) for v in sd[list(p)]]) or 0.0 for p in pairs}
    against = [p for p in pairs if m[p[0]] - m[p[1]] > spread[p]]
    within = [
        claims.beyond_spread(m[a] - m[b], spread[(b, a)], f"the step in n from layer {b} to {a}")
        for b, a in pairs
    ]
    named = " and ".join(a for _, a in pairs)
    return claims.on(
        per_seed.attrs.get("runs"),
        [
            claims.paper_claim(
                "noise_after_pooling",
                f"the noise n rises in the layers right after a max pooling (layers {named})",
                not against and all(m[a] > m[b] for b, a in pairs),
                trend_evidence(summ),
                test=" and ".join(f"n({a}) > n({b})" for b, a in pairs)
                + (", each rise beyond the two layers' std over the networks summed" if several else ""),
                requires=[frame_floor(per_seed)] + ([] if against else within),
            )
        ],
    )


@skippable
def noise_profile(per_seed: pd.DataFrame | None) -> BookFigure | None:
    """n per layer, shallow to deep, the layers after a max pooling among them: a line per network and their
    mean, the layers after a max pooling marked."""
    model = per_seed.attrs.get("model", "vgg16")
    summ = over_networks(per_seed, "n", per_seed)
    layers = list(summ["layer"])
    fig, axes = new_figure(3.2)
    ax = axes[0, 0]
    for k, g in per_seed.groupby("seed"):
        g = g.assign(layer=g["layer"].astype(str)).set_index("layer").reindex(layers)
        ax.plot(range(len(layers)), g["n"], c="0.6", lw=1, marker=".", label=f"network {k}")
    ax.plot(range(len(layers)), summ["mean"], c="k", lw=2, marker="o", label="mean")
    after = [i for i, t in enumerate(layers) if t in AFTER_POOLING.get(model, {})]
    for i in after:
        ax.axvspan(i - 0.4, i + 0.4, color="C1", alpha=0.15, lw=0)
    ax.set_xticks(
        range(len(layers)), [f"{t}" + (" (after MP)" if i in after else "") for i, t in enumerate(layers)]
    )
    ax.set(xlabel="layer", ylabel="noise per filter n", title=f"{NAME.get(model, model)}: n layer by layer")
    ax.legend(fontsize=8)
    what = (
        "The mean noise per filter n at every layer that ends with a max pooling and at the layers right "
        "after one (shaded), a grey line per trained network, black their mean: the paper's Fig. 5A shows "
        "only the first kind; its text says the second have more noise than the pooled layer before them."
    )
    alt = f"A line chart over layers {', '.join(layers)}: mean n {xy_series(summ['mean'])}."
    return describe(fig, what, alt, "*mechanism* Discussion (no figure)")
