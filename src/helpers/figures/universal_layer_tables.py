"""*universal* Tables 1-3, and the layer table every K-table and "Beyond the papers" page shares.

Table 1's caption: "Accuracy per layer and statistical features of their filters for VGG-16 trained on
CIFAR-100. N_f number of filters of layers terminating with max-pooling, F_s filter sizes, FC_s size of
trained FC layer connected to the output units, n average noise per filter, N_c average number of clusters per
filter, C_s average cluster size"; Tables 2 and 3 the same per stage of EfficientNet-B0 on CIFAR-100 and
ImageNet. Used by notebooks/universal-table1-vgg16-cifar100.ipynb,
notebooks/universal-table2-effnet-cifar100.ipynb and notebooks/universal-table3-effnet-imagenet.ipynb; the
paper's rows, the comparison, the accuracy floors and the layer claims also by Tables 4-6
(:mod:`helpers.figures.universal_k_sweep`), the your-model pages (:mod:`helpers.figures.your_model`), the
*universal* Fig. 3 and 4 pages and the training dynamics.

In order: the paper's tables (:func:`paper_rows`, :func:`reference_rows`), the computation
(:func:`layer_table`, this run's columns beside the paper's), the comparison (:func:`compare_layers`), the
accuracy floors (:func:`paper_accuracy`, :func:`floor_for`, :func:`universal_floor`), the claims
(:func:`claims_layers` with :func:`labels_appear_claim`; :func:`claims_saturation`, VGG-16's saturation at
layer 10 or EfficientNet's semi-plateau, :func:`semi_plateau_claim`) and the notes below a table
(:func:`table_notes`: :func:`helpers.figures.universal_equation_slips.equation_slips`,
:func:`helpers.figures.universal_table3_effnet_imagenet.no_signal_labels`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.figures.steps import skippable
from helpers.figures.universal_equation_slips import equation_slips
from helpers.figures.universal_table3_effnet_imagenet import no_signal_labels
from helpers.reference import claims
from helpers.reference import printed as paper
from helpers.reference.claims import saturation_index, series
from helpers.train import models, profiles

PAPER_K = {"table4": (10, 20, 40, 60, 100), "table5": (10, 20, 40, 60, 100), "table6": (3, 6, 8, 10)}


LAYER_OF_K_FIT = {"vgg16": "10", "efficientnet_b0": "stage 9"}


def as_table(x) -> pd.DataFrame | None:
    """A study's Table-1 format (a DataFrame passes through; ``None`` stays ``None``), with the network's
    cache key in ``attrs["runs"]``."""
    if x is None or isinstance(x, pd.DataFrame):
        return x
    t = x.table()
    t.attrs["runs"] = (getattr(x.run, "key", ""),)
    return t


PAGE_OF = {
    "table1": "universal-table1-vgg16-cifar100",
    "table2": "universal-table2-effnet-cifar100",
    "table4": "universal-table4-vgg16-cifar-k100",
    "table5": "universal-table5-effnet-cifar-k100",
    "table6": "universal-table6-vgg16-cifar-k10",
}  # the page of each table whose siblings share their code


def paper_rows(name: str, K: int) -> pd.DataFrame:
    """A table of *universal* for one K (Tables 4/5 at K = 100 are Tables 1/2)."""
    if K == 100 and name in ("table4", "table5"):
        name = "table1" if name == "table4" else "table2"
    return paper.table(name, None if name in ("table1", "table2", "table3") else K)


def reference_rows(page, name: str, K: int) -> pd.DataFrame:
    """The paper's table for the experiment that ran: VGG-16 on a 10-label stand-in for CIFAR-100 (Tables 1,
    4) is compared with Table 6, the paper's own VGG-16 on CIFAR-10 (K = 10 for Table 1), not with CIFAR-100's
    values, which belong to a different experiment; otherwise :func:`paper_rows`. ``attrs["label"]`` names
    it."""
    if (
        page.model == "vgg16"
        and name in ("table1", "table4")
        and page.full is not None
        and page.full.num_classes <= 10
    ):
        t = paper_rows("table6", 10 if K == 100 else K)
        t.attrs["label"] = f"Table 6 (CIFAR-10, K = {10 if K == 100 else K}), "
        return t
    return paper_rows(name, K)


@skippable
def layer_table(study, name: str, K: int, page=None) -> pd.DataFrame | None:
    """This run's Table-1 columns beside the paper's, tap by tap ("paper" suffix on the paper's; with
    ``page``, the paper's table for the experiment that ran, :func:`reference_rows`), deepest tap first as the
    paper prints it."""
    mine = as_table(study)[["tap", "N_f", "F_s", "FC_s", "accuracy", "n", "N_c", "C_s"]]
    ref = (paper_rows(name, K) if page is None else reference_rows(page, name, K))[
        ["tap", "N_f", "F_s", "FC_s", "accuracy", "n", "N_c", "C_s"]
    ]
    out = models.by_depth(mine.merge(ref, on="tap", how="left", suffixes=("", " paper")), deep_first=True)
    out = out.reset_index(drop=True)
    return out[
        ["tap"]
        + [
            c
            for pair in (
                ("N_f", "N_f paper"),
                ("F_s", "F_s paper"),
                ("FC_s", "FC_s paper"),
                ("accuracy", "accuracy paper"),
                ("n", "n paper"),
                ("N_c", "N_c paper"),
                ("C_s", "C_s paper"),
            )
            for c in pair
        ]
    ]


def compare_layers(
    mine, ref: pd.DataFrame, prefix: str = "", columns=("accuracy", "n", "N_c", "C_s"), taps=None
) -> list[tuple]:
    """``columns`` tap by tap, the paper's table ``ref`` against this run's ``mine`` (a study or its table;
    ``None`` on a skipped page); ``taps`` limits the rows; ``ref.attrs["label"]`` (see :func:`reference_rows`)
    prefixes each quantity."""
    prefix = prefix or ref.attrs.get("label", "")
    ref = ref.set_index("tap")
    if taps is not None:
        ref = ref[ref.index.isin([str(t) for t in taps])]
    mine = as_table(mine)
    m = None if mine is None else mine.set_index("tap")
    return [
        (f"{prefix}{tap}: {col}", float(ref.loc[tap, col]), None if m is None else float(m.loc[tap, col]))
        for tap in ref.index
        if m is None or tap in m.index
        for col in columns
    ]


def paper_accuracy(model: str, N_l: int) -> tuple[float, str]:
    """The paper's accuracy for the experiment nearest the one that ran (``model`` on ``N_l`` labels), and
    which: VGG-16 from Tables 6 (CIFAR-K/10), 4 and 1; EfficientNet-B0 from Tables 5 and 2, and the text's
    0.78 on ImageNet; VGG-6 and AVGG-16 on CIFAR-10 from *mechanism*'s text (on fewer labels, VGG-16's: the
    papers give theirs on 10 only); a network the papers do not train (a torchvision CNN), VGG-16's. It sets
    the accuracy floor below which a run cannot test the claims
    (:func:`helpers.reference.claims.accuracy_floor`). A stand-in (EfficientNet-Lite0) is held to the floor of
    the network it stands in for (:func:`helpers.train.models.paper_network`)."""
    model = models.paper_network(model)
    if model == "efficientnet_b0" and N_l >= 1000:
        return 0.78, "the pretrained EfficientNet-B0 on ImageNet (text)"
    if model in ("vgg6", "avgg16") and N_l == 10:
        return float(paper.MECHANISM[model]["accuracy"]), f"*mechanism*'s {paper.NAME[model]} on CIFAR-10"
    name, Ks = (
        ("table5", PAPER_K["table5"])
        if model == "efficientnet_b0"
        else (("table6", PAPER_K["table6"]) if N_l <= 10 else ("table4", PAPER_K["table4"]))
    )
    K = min(Ks, key=lambda k: abs(k - N_l))
    t = paper_rows(name, K)
    nearest = (
        "" if model in models.MODELS else f"; the papers train no {model}: their VGG-16 is the reference"
    )
    return float(t["accuracy"].max()), f"{name.replace('table', 'Table ')}, K = {K}{nearest}"


def floor_for(
    N_l: int | None, network: float | None, model: str, what: str = "the network"
) -> claims.Precondition:
    """The accuracy floor for the experiment that ran (``model`` on ``N_l`` labels,
    :func:`paper_accuracy`)."""
    if N_l is None:
        return claims.Precondition(False, "the run's label count is unknown")
    ref, which = paper_accuracy(model, int(N_l))
    return claims.accuracy_floor(network, ref, f"{what} ({which}: {ref:g})")


def universal_floor(table: pd.DataFrame, model: str) -> claims.Precondition:
    """:func:`floor_for` from a table's ``attrs``; without the network's own accuracy (ImageNet's pretrained
    network, not evaluated here), the best FC layer's stands in for it."""
    network, what = table.attrs.get("network"), "the network"
    if network is None and "accuracy" in table:
        network, what = float(table["accuracy"].max()), "the best FC layer"
    return floor_for(table.attrs.get("N_l"), network, model, what)


@skippable
def claims_layers(t, model: str = "vgg16", per_seed: pd.DataFrame | None = None) -> list[claims.Claim] | None:
    """*universal* Tables 1-6: accuracy, then noise and SNR_E (Eq. 4) layer by layer up to where the accuracy
    saturates; EfficientNet-B0 "almost always" (one exception allowed). ``t``: a study or its Table-1 frame
    (rows in any order; ``attrs`` carry the network's accuracy and label count); ``per_seed``
    (:func:`seed_tables`): the same network trained with other seeds, over which each trend is decided on the
    means, a step only beyond the networks' spread (:func:`helpers.reference.claims.rises_over`)."""
    t = as_table(t)
    eff = models.paper_network(model) == "efficientnet_b0"  # or its stand-in
    other = model not in models.MODELS  # a torchvision CNN, "stage k" taps
    word, skip = ("stage", 1) if eff else (("stage", 0) if other else ("layer", 0))
    m, sd, k = _over_seeds(t, per_seed)
    sat = saturation_index(m["accuracy"])
    taps, upto = list(m.index), list(m.index[: sat + 1])
    req = [universal_floor(t, model)]
    almost = " (all but one pair: 'almost always')" if eff else ""
    beyond = ", each step beyond the two layers' std over the networks" if sd is not None else ""

    def std(col, rows):
        return None if sd is None else sd.loc[rows, col]

    acc = claims.rises_over(taps, m["accuracy"], std("accuracy", taps), exceptions=skip)
    noise = claims.falls_over(upto, m.loc[upto, "n"], std("n", upto), exceptions=skip)
    snr_ok = m["SNR_E"].notna().all()
    snr = claims.rises_over(upto, m.loc[upto, "SNR_E"], std("SNR_E", upto), tol=0, exceptions=skip)
    means = f" (means of {k} networks)" if k > 1 else ""
    out = [
        claims.paper_claim(
            "effnet_stage_rises" if eff else "acc_rises__universal",
            f"accuracy increases progressively with the {word}",
            acc[0],
            series(taps, m["accuracy"], "{:.3f}") + means,
            test=f"each {word} >= the previous - 0.01{almost}{beyond}",
            requires=req + acc[1],
        ),
        claims.paper_claim(
            "effnet_stage_rises" if eff else "noise_falls_layer_by_layer__universal",
            f"n decreases with the {word} until the accuracy saturates",
            noise[0],
            series(upto, m.loc[upto, "n"], "{:.1f}") + f" (the accuracy saturates at {word} "
            f"{taps[sat].removeprefix('stage ')}){means}",
            test=f"n of each {word} < n of the one before, up to the first {word} within 0.01 of "
            f"the best accuracy{almost}{beyond}",
            requires=req + noise[1],
        ),
        claims.paper_claim(
            "snr_rises__universal",
            f"SNR_E = C_s N_c N_l / n (Eq. 4) increases progressively with the {word}, up to saturation",
            snr[0] if snr_ok else None,
            series(upto, m.loc[upto, "SNR_E"], "{:.2f}") + means,
            test=f"each {word}'s SNR_E >= the previous one's, up to saturation (the paper's Table 1 "
            f"rises to layer 10, then falls){almost}{beyond}",
            requires=req + snr[1],
        ),
    ] + labels_appear_claim(t, model)
    return claims.on(t.attrs.get("runs", ()) + (() if k < 2 else per_seed.attrs.get("runs", ())), out)


@skippable
def claims_saturation(
    t, model: str = "vgg16", per_seed: pd.DataFrame | None = None
) -> list[claims.Claim] | None:
    """Where the accuracy stops rising. *universal* Table 1: VGG-16's accuracy "saturated at m = 10": it rises
    from layer 7 to 10 by more than 0.01 and layer 13 adds at most 0.01, on the means over the networks of
    ``per_seed`` (:func:`seed_tables`) where it holds several; a rise or a gain within their spread leaves it
    not testable here. Table 2: EfficientNet-B0's semi-plateau at stages 4-5 (:func:`semi_plateau_claim`).
    No claim for another model."""
    t = as_table(t)
    if models.paper_network(model) == "efficientnet_b0":
        return semi_plateau_claim(t, model, per_seed)
    if model != "vgg16" or not {"7", "10", "13"} <= set(t["tap"]):
        return []
    m, sd, k = _over_seeds(t, per_seed)
    a7, a10, a13 = (float(m.loc[x, "accuracy"]) for x in ("7", "10", "13"))
    s = {x: 0.0 if sd is None else float(sd.loc[x, "accuracy"]) for x in ("7", "10", "13")}
    rise, gain, within = a10 - a7, a13 - a10, s["10"] + s["13"]
    claim = claims.paper_claim(
        "acc_saturates__universal",
        "the accuracy saturates at layer 10",
        rise > claims.TOL and gain <= claims.TOL,
        f"layer 7: {a7:.3f}, 10: {a10:.3f}, 13: {a13:.3f}" + (f" (means of {k} networks)" if k > 1 else ""),
        test=f"accuracy(10) - accuracy(7) > {claims.TOL} and accuracy(13) - accuracy(10) <= {claims.TOL}"
        + (", each beyond the two layers' std over the networks summed" if sd is not None else ""),
        requires=[
            universal_floor(t, model),
            claims.beyond_spread(
                rise - claims.TOL,
                None if sd is None else s["7"] + s["10"],
                "the rise from layer 7 to 10 beyond 0.01",
            ),
            claims.Precondition(
                not claims.TOL < gain <= claims.TOL + within,
                f"layer 13's gain over layer 10 ({gain:+.3f}) is within the spread over the networks "
                f"({within:.3f})",
            ),
        ],
    )
    return claims.on(t.attrs.get("runs", ()) + (() if k < 2 else per_seed.attrs.get("runs", ())), [claim])


def semi_plateau_claim(
    t: pd.DataFrame, model: str, per_seed: pd.DataFrame | None = None
) -> list[claims.Claim]:
    """*universal*: "The semi-plateau of the accuracies of stages 4 and 5 was common to all examined datasets
    using EfficientNet-B0". Read as: the step from stage 4 to 5 is the flattest of the three around it (3 to
    4, 4 to 5, 5 to 7), as in each of the paper's Tables 2, 3 and 5 (CIFAR-100 +0.001 against +0.076 and
    +0.226; ImageNet +0.051 against +0.071 and +0.302); a smaller step within the networks' spread leaves it
    not testable here. Needs the taps of stages 3, 4, 5 and 7."""
    need = ["stage 3", "stage 4", "stage 5", "stage 7"]
    if not set(need) <= set(t["tap"]):
        return []
    m, sd, k = _over_seeds(t, per_seed)
    a = [float(m.loc[x, "accuracy"]) for x in need]
    g34, g45, g57 = a[1] - a[0], a[2] - a[1], a[3] - a[2]
    s = [0.0 if sd is None else float(sd.loc[x, "accuracy"]) for x in need]
    margin = min(g34, g57) - g45
    claim = claims.paper_claim(
        "effnet_semi_plateau",
        "the accuracy has a semi-plateau at stages 4 and 5",
        margin > 0,
        f"stage 3: {a[0]:.3f}, 4: {a[1]:.3f}, 5: {a[2]:.3f}, 7: {a[3]:.3f}; steps {g34:+.3f}, {g45:+.3f}, "
        f"{g57:+.3f}" + (f" (means of {k} networks)" if k > 1 else ""),
        test="the step from stage 4 to 5 is smaller than the steps from 3 to 4 and from 5 to 7",
        requires=[
            universal_floor(t, model),
            claims.beyond_spread(margin, None if sd is None else max(s), "the flattest step's margin"),
        ],
    )
    return claims.on(t.attrs.get("runs", ()) + (() if k < 2 else per_seed.attrs.get("runs", ())), [claim])


def labels_appear_claim(t: pd.DataFrame, model: str) -> list[claims.Claim]:
    """*universal*: "Each label must appear at least once in the clusters of the layer" (the argument that
    1280 filters cannot classify 100,000 labels): every label appears in at least one cluster of the deepest
    tap (``attrs["label_counts"]``, each label's appearances per tap)."""
    counts = t.attrs.get("label_counts") or {}
    if not counts:
        return []
    tap = models.by_depth(pd.DataFrame(dict(tap=list(counts)))).tap.iloc[-1]
    c = np.asarray(counts[tap])
    missing = np.flatnonzero(c < 1)
    where = f"layer {tap}" if tap.isdigit() else tap
    return [
        claims.paper_claim(
            "labels_each_appear__universal",
            f"each label appears at least once in the clusters of {where}",
            len(missing) == 0,
            f"{where}: fewest appearances {int(c.min())} (label {int(c.argmin())}), most {int(c.max())}, "
            f"over {len(c)} labels" + (f"; in no cluster: labels {missing.tolist()}" if len(missing) else ""),
            test="each label's count of clusters containing it at the deepest tap >= 1",
            requires=[universal_floor(t, model)],
        )
    ]


def _over_seeds(t: pd.DataFrame, per_seed: pd.DataFrame | None):
    """Accuracy, n and SNR_E = C_s N_c N_l / n per tap, shallow to deep: their means over the networks of
    ``per_seed`` (with a ``seed`` column) where it holds several, their standard deviations (``None`` for one
    network: then ``t``'s own values) and the number of networks."""
    N_l = t.attrs.get("N_l")
    several = per_seed is not None and per_seed["seed"].nunique() > 1
    f = per_seed if several else t
    f = f.assign(SNR_E=f["C_s"] * f["N_c"] * (np.nan if N_l is None else N_l) / f["n"])
    g = f.groupby("tap")[["accuracy", "n", "SNR_E"]]
    order = models.by_depth(pd.DataFrame(dict(tap=list(g.groups)))).tap
    if not several:
        return g.mean().loc[order], None, 1
    return g.mean().loc[order], g.std(ddof=1).loc[order], int(per_seed["seed"].nunique())


def shared_seeds(page) -> int:
    """How many networks of the page's model the book trains anyway: VGG-16 on CIFAR-10 (Table 1 or 4 on
    the CIFAR-10 stand-in, Table 6) at the page's defaults is *mechanism* Fig. 2's network, trained for the
    profile's seeds (:func:`helpers.train.profiles.seeds`); any other (CIFAR-100, EfficientNet-B0) one, as a
    second would be new training."""
    fig2 = page.model == "vgg16" and page.dataset == "cifar10" and not page.knobs
    return profiles.seeds(page.profile, "vgg16") if fig2 else 1


@skippable
def seed_tables(page) -> pd.DataFrame | None:
    """The Table-1 frame of the page's network for each of :func:`shared_seeds` seeds, stacked with a
    ``seed`` column (``attrs["runs"]``: their keys): the networks :func:`claims_layers` decides its trends
    over."""
    frames = [as_table(page.study(seed=k)).assign(seed=k) for k in range(shared_seeds(page))]
    out = pd.concat(frames, ignore_index=True)
    out.attrs.update(frames[0].attrs, runs=tuple(k for f in frames for k in f.attrs.get("runs", ())))
    return out


def table_notes(page, study, name: str):
    """What a layer-table page adds below the comparison: for Table 1, where the paper's text and equations
    disagree (computed from its Table 1); for Table 2, the labels this run leaves without signal (Table 3's
    anomaly)."""
    if name == "table1":
        return page.show(equation_slips())
    return page.table(no_signal_labels(study) if study is not None else None)
