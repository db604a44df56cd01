"""*universal* Table 3: EfficientNet-B0 on ImageNet, read from a folder of the validation images.

The paper's caption: "Accuracy per stage and statistical features of their filters for EfficientNet-B0 trained
on ImageNet. The presented results were obtained at the end of stages consisting of stride-2 only, similar to
Table 2"; its protocol: "we divided the 50,000 images from the validation test into 40,000 images for training
and 10,000 for testing." Used by notebooks/universal-table3-effnet-imagenet.ipynb.

In order: a check of the analysis at ImageNet's scale on random weights (:func:`dry_run_frame`) and the
computation (:func:`imagenet_study`). The table, its comparison with the paper and its claims are the shared
layer table's (:mod:`helpers.figures.universal_layer_tables`).
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import torch

from helpers.figures.steps import skippable
from helpers.method import study as method
from helpers.method.layer import analyze_layer
from helpers.train import imagenet, models
from helpers.train import taps as taps_mod
from helpers.train.loop import pick_device
from helpers.train.models import scaled


def dry_run_frame(page) -> pd.DataFrame:
    """The ImageNet-scale analysis path (:func:`analyze_layer`, 1000 labels) on random weights and means, at
    stage 9's width for the page's profile (1280 filters at full width): a proof of the code path, not a
    result."""
    N_f, N_l, F_s = scaled(1280, page.config.width), 1000, 1
    g = torch.Generator().manual_seed(0)
    W = torch.randn(N_l, N_f, F_s, generator=g)
    means = torch.rand(N_l, N_f, F_s, generator=g)
    t0 = time.perf_counter()
    la = analyze_layer(W, means)
    row = dict(N_f=N_f, N_l=N_l, F_s=F_s, seconds=time.perf_counter() - t0, n=la.n, N_c=la.N_c, C_s=la.C_s)
    return pd.DataFrame([row]).assign(
        note="random weights: a check of the code path at ImageNet's 1000 labels, not a result"
    )


@skippable
def imagenet_study(page, n_train: int | None = None, batch_size: int = 100):
    """*universal* Table 3's protocol: EfficientNet-B0 (ImageNet weights where the width is 1), the
    validation folder split 40,000 / 10,000 (or 80% / 20% of a smaller folder), an FC layer per stage,
    then the filter analysis. Features are not cached (a GPU machine's job)."""
    cfg = page.config
    size = cfg.input_size or 224
    # the profile's network: B0, or its stand-in (cpu: the ImageNet-pretrained EfficientNet-Lite0)
    model = models.build(
        cfg.model, 1000, cfg.width, input_size=size, pretrained=cfg.pretrained or cfg.width == 1.0
    )
    folder_size = sum(
        1 for p in Path(page.imagenet).rglob("*") if p.suffix.lower() in (".jpeg", ".jpg", ".png")
    )
    n_train = n_train or min(40_000, int(0.8 * folder_size))
    train, test, names = imagenet.imagenet_split(page.imagenet, n_train, cfg.seed, size)
    taps = [t for t in model.taps if t.name in page.taps]
    dev = pick_device(page.device)
    model = model.to(dev).eval()
    feats = {}
    for split, ds in (("train", train), ("test", test)):
        feats[split] = taps_mod.extract(
            model,
            imagenet.folder_batches(ds, batch_size, device=dev),
            len(ds),
            taps,
            torch.float16,
            True,
            desc=f"ImageNet {split} taps",
        )
    (tr_f, tr_y), (te_f, te_y) = feats["train"], feats["test"]
    N_l = len(names)
    present = torch.bincount(te_y, minlength=N_l) > 0
    if not present.all():
        raise ValueError(
            f"{int((~present).sum())} labels have no test image: the folder is too small to split"
        )
    trained = method.fit_probes((tr_f, tr_y), (te_f, te_y), N_l, solver=page.solver, device=page.device)
    return method.Study(
        None,
        None,
        trained,
        *method.analyze(trained, (te_f, te_y), N_l, threshold=page.threshold, rule=page.rule),
    )


def no_signal_labels(study=None, table: pd.DataFrame | None = None, N_l: int = 1000) -> pd.DataFrame:
    """Labels that appear in no cluster of a stage (*universal* Table 3: stage 3 has N_f N_c C_s < 1000).

    From a study: counted label by label. From a table (the paper's): the lower bound
    ``N_l - N_f N_c C_s`` on the labels left with no signal when every cluster holds distinct labels.
    """
    rows = []
    if study is not None:
        for tap, la in study.layers.items():
            rows.append(
                dict(
                    tap=tap,
                    N_f=la.N_f,
                    N_l=la.N_l,
                    slots=la.N_f * la.N_c * la.C_s if la.sizes else 0.0,
                    labels_without_signal=int((la.appearances == 0).sum()),
                    source="this run",
                )
            )
    if table is not None:
        for r in table.itertuples():
            slots = r.N_f * r.N_c * r.C_s
            rows.append(
                dict(
                    tap=r.tap,
                    N_f=r.N_f,
                    N_l=N_l,
                    slots=slots,
                    labels_without_signal=max(0, int(round(N_l - slots))),
                    source="paper (bound)",
                )
            )
    return pd.DataFrame(rows)
