"""*mechanism* Fig. 2: the accuracy of an FC layer trained from each layer of VGG-16.

The paper's caption: "Progressive layer SRs for VGG-16. (A) Maximized SRs and their standard deviations (Stds)
for fixed weights of the first m = 2, 4, 7, 10, and 13 VGG-16 layers and their trained FC layer with N(m)
inputs, after MP, to the output layer (Supplementary Information). (B) SRs and their Stds as a function of the
number of measured layers." Used by notebooks/mechanism-fig2-layer-accuracy.ipynb, and by the VGG-6 page
(notebooks/mechanism-fig7-vgg6.ipynb, Fig. 7B) for its own networks.

In order: the computation (:func:`layer_accuracy` over the page's seeds, :func:`accuracy_summary`), the
comparison with the paper (:func:`compare_fig2`: *universal* Table 6 at K = 10 is the same network), the
claims (:func:`claims_fig2`; :func:`rise_claim`, a rise decided only beyond the spread over seeds) and the
figure (:func:`plot_layer_accuracy`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.figures.common import P, mechanism_floor
from helpers.figures.steps import skippable
from helpers.figures.style import NAME, PAPER, PAPER_T6, RUN, describe, new_figure, paper_line, xy_series
from helpers.reference import claims
from helpers.reference import printed as paper
from helpers.reference.claims import TOL, rises, series
from helpers.train import models


@skippable
def layer_accuracy(page) -> pd.DataFrame | None:
    """Test accuracy of the probe at every tap, for ``page.seeds`` trained networks (*mechanism* Fig. 2),
    with its accuracy on the (unaugmented) training set and the network's own on its last epoch's augmented
    training batches."""
    rows = []
    for seed in range(page.seeds):
        s = page.study(seed=seed)
        for tap, p in s.probes.items():
            rows.append(
                dict(
                    seed=seed,
                    tap=tap,
                    layer=models.tap_depth(tap),
                    accuracy=p.test_acc,
                    train_accuracy=p.train_acc,
                    network=s.run.test_acc,
                    network_train=s.run.info["metrics"][-1].get("train_acc", np.nan),
                )
            )
    return pd.DataFrame(rows).sort_values(["seed", "layer"], ignore_index=True)


@skippable
def accuracy_summary(acc: pd.DataFrame | None) -> pd.DataFrame | None:
    """Per layer: the mean accuracy over the trained networks, its sample standard deviation (0 for one) and
    the number of networks."""
    g = acc.groupby("layer")["accuracy"]
    return pd.DataFrame(dict(mean=g.mean(), std=g.std(ddof=1).fillna(0.0), seeds=g.size())).reset_index()


def compare_fig2(acc: pd.DataFrame | None) -> list[tuple]:
    ref = paper.table("table6", 10).set_index("tap")[
        "accuracy"
    ]  # universal Table 6, K = 10: mechanism's Fig. 2
    summ = accuracy_summary(acc)
    mean = {} if summ is None else dict(zip(summ["layer"].astype(str), summ["mean"]))
    rows = [
        (f"accuracy, layer {t}", float(ref[t]), mean.get(t))
        for t in ref.index
        if mean.get(t) is not None or summ is None
    ]
    rows.append(
        ("whole network (SR)", P["vgg16"]["accuracy"], None if acc is None else acc["network"].mean())
    )
    return rows


@skippable
def claims_fig2(acc: pd.DataFrame | None, model: str = "vgg16") -> list[claims.Claim] | None:
    """*mechanism* Fig. 2: the mean FC-layer accuracy rises layer by layer, saturates from layer 10, and the
    deepest layer's FC layer reaches the whole network's accuracy."""
    summ = accuracy_summary(acc)
    m, layers = summ["mean"].to_numpy(), summ["layer"].to_numpy()
    network = float(acc["network"].mean())
    sat = summ[summ["layer"] >= 10]["mean"]
    req = [mechanism_floor(network, model)]
    return [
        rise_claim(summ, "acc_rises__mechanism", "accuracy rises with the layer", req),
        claims.paper_claim(
            "acc_saturates__mechanism",
            "accuracy saturates from layer 10 on",
            float(sat.max() - sat.min()) <= TOL if len(sat) >= 2 else None,
            f"layers >= 10: {', '.join(f'{a:.3f}' for a in sat)}",
            test="layers >= 10 within 0.01 of each other",
            requires=req,
        ),
        claims.paper_claim(
            "acc_saturates__mechanism",
            f"the FC layer from layer {layers[-1]} reaches the whole network's accuracy",
            m[-1] >= network - TOL,
            f"{m[-1]:.3f} vs network {network:.3f}",
            test="deepest layer's accuracy >= the network's - 0.01",
            requires=req,
        ),
    ]


FITS = 0.99  # a network "fits its training set" at this training accuracy or above


@skippable
def claims_train_sr(acc: pd.DataFrame | None, model: str = "vgg16") -> list[claims.Claim] | None:
    """*mechanism*, Discussion: "layer 7 in VGG-16 achieved an SR of ~0.999 on the training set": the mean
    training accuracy of layer 7's FC layer >= 0.99 (:data:`FITS`). The paper's networks trained 200 epochs,
    to about zero training error; a network that does not fit its own training set (its last epoch's accuracy
    on the augmented training batches below 0.99) cannot show it, and leaves the claim not testable here,
    with that number as the reason. VGG-16 with a layer-7 tap only."""
    if model != "vgg16" or "7" not in set(acc["tap"]):
        return []
    a7 = acc[acc["tap"] == "7"]
    mean, fit = float(a7["train_accuracy"].mean()), float(a7["network_train"].mean())
    over = f" (means of {len(a7)} networks)" if len(a7) > 1 else ""
    claim = claims.paper_claim(
        "train_sr_layer7",
        "layer 7's FC layer reaches an SR of about 0.999 on the training set",
        mean >= FITS,
        f"layer 7 on the training set {mean:.3f} (on the test set {a7['accuracy'].mean():.3f}); the "
        f"network's own training accuracy {fit:.3f}{over}",
        test=f"mean training accuracy of layer 7's FC layer >= {FITS}",
        requires=[
            mechanism_floor(float(acc["network"].mean()), model),
            claims.Precondition(
                mean >= FITS or fit >= FITS,
                f"the network does not fit its training set (its last epoch's training accuracy {fit:.3f} < "
                f"{FITS}; the paper's trained 200 epochs to about zero training error)",
            ),
        ],
    )
    return [claim]


def rise_claim(summ: pd.DataFrame, source: str, claim: str, requires) -> claims.Claim:
    """The accuracy rises layer by layer over the networks of :func:`accuracy_summary` (DESIGN, "Claims":
    trends only beyond the spread over seeds). A step falls when its mean drops by more than 0.01 plus the two
    layers' standard deviations (so a fall, too, must exceed the spread); a drop beyond 0.01 but within the
    spread, or a first-to-last rise within it, leaves the claim undecided (not testable here). One network: no
    spread, the plain test (each layer >= the previous - 0.01)."""
    m, sd, n = summ["mean"].to_numpy(), summ["std"].fillna(0.0).to_numpy(), int(summ["seeds"].min())
    ev = series([f"L{t}" for t in summ["layer"]], m, "{:.3f}")
    if n < 2 or len(m) < 2:
        return claims.paper_claim(
            source,
            claim,
            rises(m),
            ev + ("" if n > 1 else " (one network: no seed spread)"),
            test="each layer's accuracy >= the previous layer's - 0.01",
            requires=requires,
        )
    ev += f" (means of {n} networks; std " + ", ".join(f"{v:.3f}" for v in sd) + ")"
    drop, spread = m[:-1] - m[1:], sd[:-1] + sd[1:]
    falls_beyond = drop > TOL + spread
    within = [
        f"L{a}->L{b} falls {d:.3f}, within the spread {w:.3f}"
        for a, b, d, w, f in zip(summ["layer"], summ["layer"][1:], drop, spread, falls_beyond)
        if d > TOL and not f
    ]
    req = list(requires) + (
        []
        if falls_beyond.any()
        else [
            claims.Precondition(not within, "; ".join(within)),
            claims.beyond_spread(
                m[-1] - m[0], float(sd[0] + sd[-1]), "the rise from the first layer to the last"
            ),
        ]
    )
    return claims.paper_claim(
        source,
        claim,
        not falls_beyond.any(),
        ev,
        requires=req,
        test="no layer's mean below the previous one's by more than 0.01 + the two layers' "
        "std over seeds; the first-to-last rise beyond the seeds' spread",
    )


def plot_layer_accuracy(acc: pd.DataFrame | None, title: str = "", model: str = "vgg16"):
    """*mechanism* Fig. 2 (VGG-16) or 7 (VGG-6): (A) the FC layer's accuracy from each layer, mean and std
    over the networks, beside the paper's; (B) each network's, with the whole network's accuracy."""
    if acc is None:
        return None
    g = acc.groupby("layer")["accuracy"].agg(["mean", "std"]).fillna(0).sort_index()
    layers = [str(x) for x in g.index]
    fig, ((a, b),) = new_figure(3.6, 1, 2)
    ref = _mean_panel(a, g, layers, model)
    net = _networks_panel(b, acc, layers, model)
    a.legend(fontsize=8, loc="lower right")
    b.legend(fontsize=8, loc="lower right")
    name = NAME.get(model, model)
    what = (
        f"{title + ': ' if title else ''}Test accuracy of an FC layer trained from each layer of {name}, "
        f"layers {layers[0]} to {layers[-1]} left to right: (A) the mean over {acc['seed'].nunique()} "
        f"network(s) with its standard deviation"
        + (f", beside the paper's ({PAPER_T6})" if ref else "")
        + f"; (B) each network, with the whole network's accuracy ({net:.3f}"
        + (f"; the paper: {P[model]['accuracy']:g})." if model in P else ").")
    )
    alt = (
        f"Two panels. A: bars of the mean test accuracy per layer {', '.join(layers)}: "
        f"{xy_series(g['mean'], '{:.3f}')}"
        + (
            f"; the paper's, dashed: {xy_series([ref.get(t, np.nan) for t in layers], '{:.2f}')}"
            if ref
            else ""
        )
        + ". B: the accuracy of each network against the number of layers, and a horizontal line at the "
        f"whole network's {net:.3f}."
    )
    return describe(
        fig,
        what,
        alt,
        {"vgg16": "*mechanism* Fig. 2", "vgg6": "*mechanism* Fig. 7B"}.get(model, "*mechanism* Fig. 2"),
        bool(ref) or model in P,
    )


def _mean_panel(a, g: pd.DataFrame, layers: list[str], model: str) -> dict[str, float]:
    """Panel A of :func:`plot_layer_accuracy`: the mean accuracy per layer (``g``: mean and std), with the
    paper's (returned: tap -> accuracy, empty where the paper has none for ``model``)."""
    x = np.arange(len(g))
    a.bar(x, g["mean"], yerr=g["std"], capsize=4, color=RUN["color"], alpha=0.85, label="this run (mean)")
    ref = paper_line("accuracy") if model == "vgg16" else {}
    if ref:
        a.plot(x, [ref.get(t, np.nan) for t in layers], **PAPER)
    a.set(
        xticks=x,
        xticklabels=layers,
        xlabel="layer m (FC layer from layer m to the output)",
        ylabel="test accuracy",
        ylim=(0, 1),
        title="A: per layer",
    )
    return ref


def _networks_panel(b, acc: pd.DataFrame, layers: list[str], model: str) -> float:
    """Panel B of :func:`plot_layer_accuracy`: each network's accuracy per layer, with the whole network's
    (mean over the networks, returned) and the paper's."""
    x = np.arange(len(layers))
    for seed, s in acc.groupby("seed"):
        s = s.sort_values("layer")
        b.plot(
            [layers.index(str(v)) for v in s["layer"]],
            s["accuracy"],
            "o-",
            alpha=0.8,
            label=f"network {seed}",
        )
    net = float(acc["network"].mean())
    b.axhline(net, ls=":", c=RUN["color"], label=f"whole network {net:.3f}")
    if model in P and "accuracy" in P[model]:
        b.axhline(
            P[model]["accuracy"],
            ls="--",
            c=PAPER["color"],
            label=f"paper: whole network {P[model]['accuracy']:g}",
        )
    b.set(
        xticks=x,
        xticklabels=layers,
        xlabel="number of layers m",
        ylabel="test accuracy",
        ylim=(0, 1),
        title="B: each network",
    )
    return net
