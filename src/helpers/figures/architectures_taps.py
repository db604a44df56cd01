"""The architectures page: each model's taps beside the columns the papers tabulate, and their check.

The columns it reproduces are those of *universal* Tables 1-2: "N_f number of filters of layers terminating
with max-pooling, F_s filter sizes, FC_s size of trained FC layer connected to the output units". Used by
notebooks/architectures-taps.ipynb.

In order: the page's knobs checked (:func:`check_knobs`), the tap table of a model at the profile's width
beside the full width and the paper's (:func:`architecture`), and the check that the full-width taps are the
papers' (:func:`tap_claims`, a consistency check).
"""

from __future__ import annotations

import pandas as pd

from helpers.figures.steps import check_choice
from helpers.reference import claims
from helpers.reference import printed as paper
from helpers.train import models, profiles, taps

PAPER_TAP_TABLE = {"vgg16": ("table1", 32), "efficientnet_b0": ("table2", 224)}


def check_knobs(profile: str, model_names) -> None:
    """The architectures page's knobs: a known profile and known models, checked before any model is built."""
    check_choice("profile", profile, profiles.PROFILES)
    unknown = [m for m in model_names if m not in models.MODELS]
    if isinstance(model_names, str) or unknown:
        raise ValueError(f"unknown model(s) {unknown or model_names!r}: choose a list from {models.MODELS}")


def architecture(profile: str, model: str, width: float | None = None) -> pd.DataFrame:
    """A model's taps at the profile's width beside the full-width taps and, where there is one, the paper's
    table (deepest tap first, as the papers print their tables)."""
    cfg = profiles.train_config(profile, model, **({} if width is None else dict(width=width)))
    size = cfg.input_size or (224 if model == "efficientnet_b0" else 32)
    run = taps.tap_table(models.build(model, 10, cfg.width, input_size=size), size)
    full_size = PAPER_TAP_TABLE.get(model, (None, 32))[1]
    full = taps.tap_table(models.build(model, 100), full_size)
    out = run[["tap", "N_f", "F_s", "FC_s"]].rename(
        columns=lambda c: c if c == "tap" else f"{c} (width {cfg.width:g}, {size}x{size})"
    )
    out = out.merge(
        full[["tap", "N_f", "F_s", "FC_s"]].rename(
            columns=lambda c: c if c == "tap" else f"{c} (full, {full_size}x{full_size})"
        ),
        on="tap",
    )
    if model in PAPER_TAP_TABLE:
        ref = paper.table(PAPER_TAP_TABLE[model][0])[["tap", "N_f", "F_s", "FC_s"]]
        out = out.merge(
            ref.rename(columns=lambda c: c if c == "tap" else f"{c} (paper)"), on="tap", how="left"
        )
    return models.by_depth(out, deep_first=True).reset_index(
        drop=True
    )  # deepest first, as Tables 1-2 print it


def tap_claims(tables: dict[str, pd.DataFrame]) -> list[claims.Claim]:
    """Each full-width model whose taps a paper tabulates has exactly those N_f, F_s, FC_s (*universal* Tables
    1-2): a check of our models against the papers' tables, not a claim of the papers."""
    rows = []
    for m, (name, size) in PAPER_TAP_TABLE.items():
        if m in tables:
            t = tables[m]
            same = all(
                (t[f"{c} (full, {size}x{size})"] == t[f"{c} (paper)"]).all() for c in ("N_f", "F_s", "FC_s")
            )
            rows.append(
                claims.consistency(
                    f"{m} at full width has the taps of universal {name.replace('table', 'Table ')}",
                    bool(same),
                    f"{len(t)} taps, N_f/F_s/FC_s compared",
                    test="every tap equal",
                )
            )
    return rows
