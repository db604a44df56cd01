"""The mechanism as it emerges during training: this book's addition (neither paper shows it).

A run keeps its weights after epochs 1, 2, 4, 8, ... (:func:`helpers.runs.snapshot_epochs`). Here the whole
analysis (:func:`helpers.method.study`: the papers' SGD probe at every tap, field matrices, clusters, noise, the SNR
of *universal* Eq. (4)) runs on each of them, so a reader sees whether a claim that fails at reduced scale is moving
toward the paper's value as training grows, or not.

    frame = dynamics.over_training(page)      # epoch x tap: network, accuracy, n, N_c, C_s, signal, noise_E, SNR_E
    dynamics.tests_by_epoch(frame)            # the papers' layer-by-layer tests, epoch by epoch
    dynamics.distances(frame, model)          # each statistic's mean relative distance to the paper's values
    dynamics.claims_dynamics(frame, model)    # does each statistic approach the paper's values as training grows?
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import claims, method, models, paper, runs
from .claims import TOL, falls, rises, series
from .pages import skippable

STATS = ("accuracy", "n", "N_c", "C_s")  # the per-layer statistics the papers print (universal Tables 1-6)


@skippable
def over_training(page, seed: int | None = None) -> pd.DataFrame | None:
    """The page's analysis at every kept epoch of its run (and the last): one row per (epoch, tap), taps shallow to
    deep, with the network's own test accuracy at that epoch. ``attrs``: model, epochs, the final network's accuracy
    and the kept epochs missing from the cache."""
    run = page.run(seed)
    data = page.data_for(run.config)
    frames = []
    for epoch, snap in runs.snapshots(run, data, device=page.device).items():
        chosen = [t for t in snap.model.taps if t.name in page.taps]
        study = method.study(snap, data, threshold=page.threshold, rule=page.rule, solver=page.solver, taps=chosen,
                             device=page.device, progress=False)
        t = models.by_depth(study.table(), "tap")
        t.insert(0, "epoch", epoch)
        t.insert(1, "network", snap.test_acc)
        frames.append(t)
    out = pd.concat(frames, ignore_index=True)
    out.attrs.update(model=run.config.model, epochs=run.config.epochs, network=run.test_acc,
                     missing=runs.missing_snapshots(run), N_l=data.num_classes)
    return out


def reference(model: str) -> pd.DataFrame:
    """The paper's per-layer values of ``model`` on CIFAR-10 (tap x :data:`STATS`; NaN where the paper gives none):
    VGG-16's from *universal* Table 6 at K = 10 (*mechanism* Fig. 2 and 5's network), VGG-6's and AVGG-16's from
    *mechanism* Figs. 7-8; empty for a network the papers do not train."""
    if model == "vgg16":
        return paper.table("table6", 10).set_index("tap")[list(STATS)].astype(float)
    ref = paper.MECHANISM.get(model)
    if not isinstance(ref, dict):
        return pd.DataFrame(columns=list(STATS), dtype=float)
    names = {"n": "noise", "N_c": "N_c", "C_s": "C_s"}
    taps = sorted({t for k in names.values() for t in ref.get(k, {})}, key=models.tap_depth)
    return pd.DataFrame({s: [ref.get(names[s], {}).get(t, np.nan) if s in names else np.nan for t in taps]
                         for s in STATS}, index=pd.Index(taps, name="tap"))


@skippable
def tests_by_epoch(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """At each epoch, the papers' layer-by-layer tests as the claims of the Fig. 2, Fig. 5 and Table pages state them
    (:mod:`helpers.mechanism`, :mod:`helpers.universal`), on this one network: "holds" or "does not hold" before any
    precondition (the accuracy floor is a column of its own)."""
    model = frame.attrs.get("model", "vgg16")
    floor = claims.FLOOR * paper.MECHANISM[model]["accuracy"] if model in models.MODELS and isinstance(
        paper.MECHANISM.get(model), dict) and "accuracy" in paper.MECHANISM[model] else None
    word = {True: claims.HOLDS, False: claims.FAILS, None: "undefined"}
    rows = []
    for epoch, t in frame.groupby("epoch", sort=True):
        network = float(t["network"].iloc[0])
        rows.append({"epoch": epoch, "network": network,
                     "above the accuracy floor": "–" if floor is None else ("yes" if network >= floor else
                                                                            f"no (< {floor:.3f})"),
                     "accuracy rises layer by layer": word[rises(t["accuracy"])],
                     "noise n falls layer by layer": word[falls(t["n"])],
                     "SNR_E rises layer by layer": word[rises(t["SNR_E"], tol=0) if t["SNR_E"].notna().all()
                                                        else None],
                     "deepest layer reaches the network": word[bool(t["accuracy"].iloc[-1] >= network - TOL)]})
    return pd.DataFrame(rows)


@skippable
def distances(frame: pd.DataFrame | None, model: str | None = None) -> pd.DataFrame | None:
    """Per epoch and statistic: the mean over the paper's layers of ``|this run - paper| / paper`` (NaN where the
    paper gives no value for any tap this run has)."""
    ref = reference(model or frame.attrs.get("model", "vgg16"))
    rows = []
    for epoch, t in frame.groupby("epoch", sort=True):
        here = t.set_index("tap")
        row = {"epoch": epoch}
        for s in STATS:
            common = [tap for tap in ref.index if tap in here.index and pd.notna(ref.loc[tap, s])]
            row[s] = (float(np.mean([abs(here.loc[tap, s] - ref.loc[tap, s]) / abs(ref.loc[tap, s])
                                     for tap in common])) if common else np.nan)
        rows.append(row)
    return pd.DataFrame(rows)


MIN_EPOCHS = 3  # a direction needs at least three points in training


@skippable
def claims_dynamics(frame: pd.DataFrame | None, model: str | None = None) -> list[claims.Claim] | None:
    """This book's additions: each per-layer statistic of the papers approaches the paper's values as training
    grows: its mean relative distance to them (:func:`distances`) is smaller at the last epoch than at the first kept
    one, and at the last epoch no larger than at any kept epoch before it (a statistic that came closest mid-way and
    turned away does not approach them)."""
    d = distances(frame, model)
    epochs = list(d["epoch"])
    enough = claims.at_least(len(epochs), MIN_EPOCHS, "kept epochs (snapshots) of the run")
    out = []
    for s in STATS:
        v = d[s].to_numpy(float)
        given = claims.Precondition(bool(np.isfinite(v).all()), f"the paper gives no per-layer {s} for this network")
        approaches = bool(v[-1] < v[0] and v[-1] <= v[:-1].min() + 1e-12) if len(v) >= 2 and np.isfinite(v).all() \
            else None
        out.append(claims.addition(f"{s} approaches the paper's values as training grows", approaches,
                                   "mean |run - paper| / paper by epoch: " + series([f"epoch {e}" for e in epochs], v,
                                                                                    "{:.2f}"),
                                   test="distance at the last epoch < at the first kept epoch, and <= at every "
                                        "kept epoch before it", requires=[enough, given]))
    return out


def compare_last(frame: pd.DataFrame | None, model: str = "vgg16") -> list[tuple]:
    """The paper's per-layer values beside this run's at its last epoch (only the paper's where the page skipped)."""
    ref = reference(model)
    last = None if frame is None else frame[frame["epoch"] == frame["epoch"].max()].set_index("tap")
    return [(f"{s}, layer {tap}", float(ref.loc[tap, s]),
             None if last is None or tap not in last.index else float(last.loc[tap, s]))
            for s in STATS for tap in ref.index if pd.notna(ref.loc[tap, s])]
