"""The EfficientNet-B0 AFCC page's own parts (notebooks/universal-effnet-afcc.ipynb): AFCC on stage 9 with the
entire network retrained, and the stages cut short.

*universal*, "Applying filter cluster connections (AFCC)": "A similar effect was observed for EfficientNet-B0
trained on CIFAR-100, with an accuracy of 0.867 (Table 2). ... All of these weights that did not belong to a
cluster in a specific filter were set to zero, resulting in 4900 non-zero weights only (a ~96% reduction).
After retraining the entire network with the same parameters, while including the 4900 non-zeroed weights
only, the accuracy increased to ~0.873"; and its last paragraph: "reducing the number of layers constituting
stages 3 and 4 to one and training this modified EfficientNet-B0 on CIFAR-100 using transfer learning,
resulted in an accuracy ~0.864 ... reducing the number of layers in stage 5 from 3 to 2, resulted in an
accuracy of at least 0.862".

Where VGG-16's AFCC (*universal*: "After only a few training epochs, while maintaining the ~194,000 zeroed
weights as zero") retrains the FC layer, the paper retrains EfficientNet-B0's entire network with the mask
held: :func:`network_afcc` does so by the run's own recipe (:func:`helpers.method.afcc.network_row`; at
``cpu`` the stand-in's stages 1-5 stay frozen, as in its run) for the page's ``network_epochs``, and the
paper's claim is decided on it (:func:`claims_network_afcc`); the FC layer retrained alone
(:func:`helpers.figures.universal_afcc.afcc_experiment`) stays beside it as this book's addition. The AFCC
shared with VGG-16's page is in :mod:`helpers.figures.universal_afcc`.
"""

from __future__ import annotations

import pandas as pd

from helpers.figures import universal_afcc as afcc_pages
from helpers.figures.steps import skippable
from helpers.figures.style import BookFigure
from helpers.figures.universal_layer_tables import floor_for
from helpers.method import afcc
from helpers.reference import claims
from helpers.reference import printed as paper
from helpers.reference.claims import TOL
from helpers.train import models, profiles

PAPER_KEY = ("efficientnet_b0", "cifar100", "stage 9")
ENTIRE = "the entire network"


@skippable("page", "study")
def network_afcc(
    page, study, tap: str = "stage 9", epochs: int | None = None, seed: int = 0, clusters_from: str = "train"
) -> pd.DataFrame | None:
    """*universal*'s AFCC on EfficientNet-B0's ``tap``: the mask from its clusters (from ``clusters_from``,
    as in :func:`~helpers.figures.universal_afcc.afcc_experiment`), the entire network retrained with the
    pruned FC weights held at zero for ``epochs`` epochs (None: the profile's,
    :func:`helpers.train.profiles.afcc_network_epochs`), and the same with a random mask of as many
    weights."""
    epochs = profiles.afcc_network_epochs(page.profile, epochs)
    la, _ = afcc_pages.mask_clusters(study, tap, clusters_from)
    row = afcc.network_row(
        tap, study.run, study.data, study.probes[tap], la, epochs=epochs, seed=seed, device=study.device
    )
    return pd.DataFrame(
        [
            dict(
                row,
                clusters_from=clusters_from,
                N_l=la.N_l,
                network=study.run.test_acc,
                model=study.run.config.model,
            )
        ]
    )


def compare_network_afcc(res: pd.DataFrame | None, whole: pd.DataFrame | None) -> list[tuple]:
    """Stage 9's AFCC against the paper's numbers, its accuracy after AFCC from the entire network retrained
    (the paper's experiment), the FC layer retrained alone beside it (this book's)."""
    rows = [r for r in afcc_pages.compare_afcc(res, PAPER_KEY) if r[0] != afcc_pages.COMPARE_AFTER]

    def get(frame, column):
        return None if frame is None else float(frame.set_index("tap").loc[PAPER_KEY[2], column])

    return rows + [
        (
            f"{afcc_pages.COMPARE_AFTER} ({ENTIRE})",
            paper.AFCC[PAPER_KEY]["accuracy_after"],
            get(whole, "accuracy_after"),
        ),
        (f"the same, a random mask ({ENTIRE}; this book's)", None, get(whole, "accuracy_random")),
        (f"{afcc_pages.COMPARE_AFTER} (the FC layer only; this book's)", None, get(res, "accuracy_after")),
    ]


@skippable
def claims_network_afcc(whole: pd.DataFrame | None) -> list[claims.Claim] | None:
    """*universal*: no loss of accuracy after AFCC with the entire network retrained ("the accuracy
    increased to ~0.873" from 0.867), per tap of ``whole`` (:func:`network_afcc`); beside it AFCC against a
    random mask of as many weights, the network retrained alike (this book's addition)."""
    out = []
    for r in whole.itertuples():
        req = [floor_for(int(r.N_l), float(r.network), models.paper_network(r.model))]
        how = f"{r.epochs} epoch(s) of the run's recipe"
        out += [
            afcc_pages.no_loss(r, req, afcc_pages.NETWORK_QUOTE, ENTIRE, how),
            afcc_pages.beats_random(r, req, ENTIRE, how),
        ]
    return out


def network_bars(res: pd.DataFrame | None, whole: pd.DataFrame | None) -> BookFigure | None:
    """Stage 9's accuracy before AFCC and after it, retrained as the FC layer alone or as the entire network,
    with AFCC's mask or a random one of as many weights; the paper's before and after (its entire network)."""
    if res is None or whole is None:
        return None
    fc, net = (f.set_index("tap").loc[PAPER_KEY[2]] for f in (res, whole))
    frame = pd.DataFrame(
        dict(
            retraining=["before", "FC layer, AFCC", "FC layer, random", "network, AFCC", "network, random"],
            accuracy=[
                fc.accuracy_before,
                fc.accuracy_after,
                fc.accuracy_random,
                net.accuracy_after,
                net.accuracy_random,
            ],
        )
    )
    ref = paper.AFCC[PAPER_KEY]
    return afcc_pages.accuracy_bars(
        frame,
        x="retraining",
        paper={"before": ref["accuracy_before"], "network, AFCC": ref["accuracy_after"]},
        title=f"{PAPER_KEY[2]}: AFCC with the FC layer or {ENTIRE} retrained",
    )


# *universal* Results: the stages cut short, as (stage, MBConv layers kept) for models.shorten.
SHORTENED_BLOCKS = {
    "stages 3 and 4 cut to one layer": ((3, 1), (4, 1)),
    "stage 5 cut from 3 to 2 layers": ((5, 2),),
}


@skippable
def shortened(page, seed: int = 0) -> pd.DataFrame | None:
    """*universal* Results: EfficientNet-B0 with stages 3 and 4 cut to one layer, and with stage 5 cut
    from 3 to 2 layers, each trained as the full model is (the page's profile); test accuracy, MBConv
    layers and parameters beside the full model's."""
    rows = []
    for name, blocks in {"full model": (), **SHORTENED_BLOCKS}.items():
        run = page.run(seed=seed, blocks=blocks)  # blocks=() is the full model's own run (same cache key)
        rows.append(
            dict(
                model=name,
                mbconv_layers=sum(len(s) for s in run.model.features[1:-1]),
                parameters=sum(p.numel() for p in run.model.parameters()),
                accuracy=run.test_acc,
            )
        )
    out = pd.DataFrame(rows)
    out.attrs.update(N_l=page.data_for(run.config).num_classes)
    return out


def compare_shortened(short: pd.DataFrame | None, cut: pd.DataFrame | None = None) -> list[tuple]:
    """The shortened models and the stage-8 shortcut against the paper's accuracies (*universal* Results)."""
    key = "stage 9 removed, stage 8 (320 filters) through AFCC"
    acc = None if cut is None else cut.set_index("model")["accuracy"]
    return [
        (name + ": accuracy", paper.SHORTENED[name], None if acc is None else float(acc[name]))
        for name in SHORTENED_BLOCKS
    ] + [
        (
            key + ": accuracy",
            paper.SHORTENED[key],
            None if short is None else float(short["accuracy_after"][0]),
        )
    ]


@skippable
def claims_shortened(cut: pd.DataFrame | None) -> list[claims.Claim] | None:
    """*universal*: cutting stages 3-5 short costs practically no accuracy (0.864 and 0.862 against 0.867)."""
    acc = cut.set_index("model")["accuracy"]
    floor = floor_for(cut.attrs.get("N_l"), float(acc["full model"]), "efficientnet_b0")
    return [
        claims.paper_claim(
            "shortened_effnet",
            f"{name}: the accuracy approaches the full model's",
            acc[name] >= acc["full model"] - TOL,
            f"{acc[name]:.3f} vs {acc['full model']:.3f}",
            test=f"within {TOL} of the full model",
            requires=[floor],
        )
        for name in SHORTENED_BLOCKS
    ]


def shortened_bars(cut: pd.DataFrame | None) -> BookFigure | None:
    """EfficientNet-B0's shortened models beside the full one, with the paper's accuracies (*universal*,
    Results)."""
    ref = dict(paper.SHORTENED)
    ref["full model"] = float(paper.table("table2").set_index("tap").loc["stage 9", "accuracy"])
    return afcc_pages.accuracy_bars(
        cut,
        x="model",
        y="accuracy",
        paper=ref,
        reproduces="*universal*, Results (shortened stages; numbers in its text, no figure)",
    )
