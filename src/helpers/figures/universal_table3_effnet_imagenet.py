"""TODO docstring."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import torch

from helpers.book.page import skippable
from helpers.method import filters
from helpers.method import study as method
from helpers.train import data as data_mod
from helpers.train import models
from helpers.train import taps as taps_mod
from helpers.train.loop import pick_device
from helpers.train.models import scaled


def dry_run_frame(page) -> pd.DataFrame:
    """:func:`dry_run_layer` at stage 9's width for the page's profile (1280 filters at full width)."""
    return pd.DataFrame([dry_run_layer(scaled(1280, page.config.width), 1000)]).assign(
        note="random weights: a check of the code path at ImageNet's 1000 labels, not a result"
    )


def dry_run_layer(N_f: int, N_l: int = 1000, F_s: int = 1, seed: int = 0) -> dict:
    """The ImageNet-scale analysis path on random weights and means (a proof of the code path, not a result)."""
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(N_l, N_f, F_s, generator=g)
    means = torch.rand(N_l, N_f, F_s, generator=g)
    t0 = time.perf_counter()
    la = filters.analyze_layer(W, means)
    return dict(N_f=N_f, N_l=N_l, F_s=F_s, seconds=time.perf_counter() - t0, n=la.n, N_c=la.N_c, C_s=la.C_s)


@skippable
def imagenet_study(page, n_train: int | None = None, batch_size: int = 100):
    """*universal* Table 3's protocol: EfficientNet-B0 (ImageNet weights where the width is 1), the
    validation folder split 40,000 / 10,000 (or 80% / 20% of a smaller folder), an FC layer per stage,
    then the filter analysis. Features are not cached (a GPU machine's job)."""
    cfg = page.config
    size = cfg.input_size or 224
    model = models.build("efficientnet_b0", 1000, cfg.width, input_size=size, pretrained=cfg.width == 1.0)
    folder_size = sum(
        1 for p in Path(page.imagenet).rglob("*") if p.suffix.lower() in (".jpeg", ".jpg", ".png")
    )
    n_train = n_train or min(40_000, int(0.8 * folder_size))
    train, test, names = data_mod.imagenet_split(page.imagenet, n_train, cfg.seed, size)
    taps = [t for t in model.taps if t.name in page.taps]
    dev = pick_device(page.device)
    model = model.to(dev).eval()
    feats = {}
    for split, ds in (("train", train), ("test", test)):
        feats[split] = taps_mod.extract(
            model,
            data_mod.folder_batches(ds, batch_size, device=dev),
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
