"""The mechanism as it emerges during training: this book's addition (neither paper shows it).

A run keeps its weights after epochs 1, 2, 4, 8, ... (:func:`helpers.train.runs.snapshot_epochs`). Here the
whole analysis (:func:`helpers.method.study`: the papers' SGD probe at every tap, field matrices, clusters,
noise, the SNR of *universal* Eq. (4)) runs on each of them, so a reader sees whether a claim that fails at
reduced scale is moving toward the paper's value as training grows, or not. Used by
notebooks/training-dynamics.ipynb, a "Beyond the papers" page::

    frame = dynamics.over_training(page)    # epoch x tap: network, accuracy, n, N_c, C_s, signal, SNR_E, ...
    dynamics.tests_by_epoch(frame)          # the book's layer-by-layer claims, epoch by epoch, floor lifted
    dynamics.distances(frame, model)        # each statistic's mean relative distance to the paper's values
    dynamics.claims_dynamics(frame, model)  # does each statistic approach the paper's as training grows?

In order: the computation (:func:`over_training`, :func:`analysis_frame`, :func:`paper_values`), the claims
epoch by epoch (:func:`tests_by_epoch`), the distances to the paper and the claims on them (:func:`distances`,
:func:`claims_dynamics`, :func:`shorter_runs`), the comparison with the paper (:func:`compare_last`,
:func:`missing_note`) and the figure (:func:`plot_training_dynamics`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import seaborn as sns

from helpers.figures import common
from helpers.figures import universal_layer_tables as layer_tables
from helpers.figures.steps import skippable
from helpers.figures.style import NAME, BookFigure, describe, new_figure, sorted_taps, xy_series
from helpers.method import study as method
from helpers.reference import claims
from helpers.reference import printed as paper
from helpers.reference.claims import TOL, series
from helpers.train import models, runs

STATS = paper.PER_LAYER_STATS


@skippable
def over_training(page, seed: int | None = None) -> pd.DataFrame | None:
    """The page's analysis at every kept epoch of its run (and the last): one row per (epoch, tap), taps
    shallow to deep, with the network's own test accuracy at that epoch. ``attrs``: model, epochs, the final
    network's accuracy and the kept epochs missing from the cache."""
    run = page.run(seed)
    data = page.data_for(run.config)
    out = analysis_frame(
        runs.snapshots(run, data, device=page.device),
        data,
        page.taps,
        threshold=page.threshold,
        rule=page.rule,
        solver=page.solver,
        device=page.device,
    )
    out.attrs.update(
        model=run.config.model,
        epochs=run.config.epochs,
        schedule=run.config.schedule,
        network=run.test_acc,
        missing=runs.missing_snapshots(run),
        path=str(run.path),
        N_l=data.num_classes,
    )
    return out


def analysis_frame(by_epoch: dict, data, taps, **study) -> pd.DataFrame:
    """:func:`helpers.method.study`'s table of each run of ``by_epoch`` (epoch -> run) at the taps named
    ``taps``, stacked: one row per (epoch, tap), taps shallow to deep, with that run's own test accuracy
    (``network``). ``study``: the knobs of :func:`helpers.method.study` (threshold, rule, solver, device)."""
    frames = []
    for epoch, run in by_epoch.items():
        chosen = [t for t in run.model.taps if t.name in taps]
        t = models.by_depth(method.study(run, data, taps=chosen, progress=False, **study).table(), "tap")
        t.insert(0, "epoch", epoch)
        t.insert(1, "network", run.test_acc)
        frames.append(t)
    return pd.concat(frames, ignore_index=True)


@skippable
def paper_values(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """:func:`helpers.reference.printed.per_layer` for the network and label count the frame's run has."""
    return paper.per_layer(frame.attrs.get("model", "vgg16"), frame.attrs.get("N_l", 10))


def _outcomes(t: pd.DataFrame, model: str, N_l: int) -> dict[str, str]:
    """The verdicts of the book's own layer-by-layer claims on one epoch's table, their accuracy floor lifted
    (the floor is a column of its own): Fig. 5's noise test (:func:`helpers.figures.common.claims_noise`) and
    the Table pages' three (:func:`helpers.figures.universal_layer_tables.claims_layers`), by the claims' own
    names."""
    table = t.copy()
    table.attrs.update(network=math.inf, model=model, N_l=N_l)
    found = common.claims_noise(table.rename(columns={"tap": "layer"})) + layer_tables.claims_layers(
        table, model
    )
    return {c.claim: c.verdict for c in found}


@skippable
def tests_by_epoch(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """At each epoch, the layer-by-layer claims of the Fig. 5 and Table pages on this one network, by the same
    functions (:func:`_outcomes`), and Fig. 2's "the deepest layer reaches the whole network's accuracy":
    their verdicts before the accuracy floor, whose own verdict is the first column (the floor of the
    experiment that ran, :func:`helpers.figures.universal_layer_tables.floor_for`)."""
    model, N_l = frame.attrs.get("model", "vgg16"), frame.attrs.get("N_l", 10)
    level = (
        claims.FLOOR * layer_tables.paper_accuracy(model, int(N_l))[0]
    )  # the floor floor_for tests against
    rows = []
    for epoch, t in frame.groupby("epoch", sort=True):
        t = models.by_depth(t, "tap").reset_index(drop=True)
        network = float(t["network"].iloc[0])
        floor = layer_tables.floor_for(N_l, network, model)
        rows.append(
            {
                "epoch": epoch,
                "network": network,
                "accuracy floor": f"{'above' if floor.ok else 'below'} {level:.3f}",
                **_outcomes(t, model, N_l),
                "the deepest layer reaches the whole network's accuracy": claims.HOLDS
                if t["accuracy"].iloc[-1] >= network - TOL
                else claims.FAILS,
            }
        )
    return pd.DataFrame(rows)


@skippable
def distances(frame: pd.DataFrame | None, model: str | None = None) -> pd.DataFrame | None:
    """Per epoch and statistic: the mean over the paper's layers of ``|this run - paper| / paper`` (NaN where
    the paper gives no value for any tap this run has)."""
    ref = paper.per_layer(model or frame.attrs.get("model", "vgg16"), frame.attrs.get("N_l", 10))
    rows = []
    for epoch, t in frame.groupby("epoch", sort=True):
        here = t.set_index("tap")
        row = {"epoch": epoch}
        for s in STATS:
            common = [tap for tap in ref.index if tap in here.index and pd.notna(ref.loc[tap, s])]
            row[s] = (
                float(
                    np.mean(
                        [abs(here.loc[tap, s] - ref.loc[tap, s]) / abs(ref.loc[tap, s]) for tap in common]
                    )
                )
                if common
                else np.nan
            )
        rows.append(row)
    return pd.DataFrame(rows)


MIN_EPOCHS = 3  # a direction needs at least three points in training
# the smallest change of a mean relative distance read as a direction (2% of the paper's values): one network,
# so no spread over seeds is measured; a smaller change is neither an approach nor a turn
MARGIN = 0.02


@skippable
def claims_dynamics(frame: pd.DataFrame | None, model: str | None = None) -> list[claims.Claim] | None:
    """This book's additions: each per-layer statistic of the papers approaches the paper's values as training
    grows (decided only on a step-schedule run, :func:`shorter_runs`): its mean relative distance to them
    (:func:`distances`) is smaller at the last epoch than at the first kept one by more than :data:`MARGIN`,
    and at the last epoch no larger than at any kept epoch before it, up to :data:`MARGIN` (a statistic that
    came closest mid-way and turned away does not approach them)."""
    d = distances(frame, model)
    epochs = list(d["epoch"])
    enough = claims.at_least(len(epochs), MIN_EPOCHS, "kept epochs (snapshots) of the run")
    shorter = shorter_runs(frame.attrs.get("schedule", "step"))
    out = []
    for s in STATS:
        v = d[s].to_numpy(float)
        given = claims.Precondition(
            bool(np.isfinite(v).all()), f"the paper gives no per-layer {s} for this network"
        )
        approaches = (
            bool(v[0] - v[-1] > MARGIN and v[-1] <= v[:-1].min() + MARGIN)
            if len(v) >= 2 and np.isfinite(v).all()
            else None
        )
        out.append(
            claims.addition(
                f"{s} approaches the paper's values as training grows",
                approaches,
                "mean |run - paper| / paper by epoch: " + series([f"epoch {e}" for e in epochs], v, "{:.2f}"),
                test=f"distance at the last epoch below the first kept epoch's by more than "
                f"{MARGIN}, and at most {MARGIN} above every kept epoch's before it",
                requires=[enough, given, shorter],
            )
        )
    return out


def shorter_runs(schedule: str) -> claims.Precondition:
    """A kept epoch stands for a shorter run only under the step schedule, whose learning rate depends on the
    epoch alone. Under one-cycle (or linear decay) it depends on the share of the run done: the first epochs
    are the warm-up and the peak, only the last is annealed, so a distance that falls toward the end mixes
    training with annealing, and the direction "as training grows" cannot be read from one run's snapshots."""
    return claims.Precondition(
        schedule == "step",
        f"the run's {schedule} learning rate makes each kept epoch a state mid-schedule (the first ones in "
        "the warm-up and at the peak, only the last annealed), not a shorter run; bench/budget_study.py "
        "compares completed runs of each budget",
    )


def compare_last(frame: pd.DataFrame | None, model: str = "vgg16", N_l: int = 10) -> list[tuple]:
    """The paper's per-layer values beside this run's at its last epoch (only the paper's where the page
    skipped)."""
    ref = paper.per_layer(model, N_l if frame is None else frame.attrs.get("N_l", N_l))
    last = None if frame is None else frame[frame["epoch"] == frame["epoch"].max()].set_index("tap")
    return [
        (
            f"{s}, layer {tap}",
            float(ref.loc[tap, s]),
            None if last is None or tap not in last.index else float(last.loc[tap, s]),
        )
        for s in STATS
        for tap in ref.index
        if pd.notna(ref.loc[tap, s])
    ]


def missing_note(frame: pd.DataFrame | None) -> str:
    """A line for the analysis table when the run was cached before snapshots were kept: which epochs are
    missing and how to retrain the run with them."""
    if frame is None or not frame.attrs.get("missing"):
        return ""
    return (
        "The run was cached before its weights were kept during training: epochs "
        f"{', '.join(map(str, frame.attrs['missing']))} are missing, so only the others are analysed. Delete "
        f"its folder `{frame.attrs.get('path')}` to retrain it with them (the pages that share it retrain it "
        "too)."
    )


def plot_training_dynamics(
    frame: pd.DataFrame | None, reference: pd.DataFrame | None = None, distance: pd.DataFrame | None = None
) -> BookFigure | None:
    """The analysis at each kept epoch (:func:`over_training`): accuracy (with the network's own), n, N_c, C_s
    and SNR_E against the epoch, one line per tap from shallow (light) to deep (dark); the paper's per-layer
    values (``reference``, tap x statistic) as dashed lines in the tap's colour; and each statistic's mean
    relative distance to the paper (``distance``, :func:`distances`)."""
    if frame is None:
        return None
    taps = sorted_taps(frame["tap"])
    epochs = sorted(frame["epoch"].unique())
    colors = dict(zip(taps, sns.color_palette("viridis_r", len(taps))))
    N_l = frame.attrs.get("N_l")
    fig, axes = new_figure(6.2, 2, 3)
    _statistic_panels(axes, frame, reference, taps, epochs, colors)
    _distance_panel(axes[1][2], distance, epochs)
    handles, labels = axes[0][0].get_legend_handles_labels()
    if reference is not None and len(reference):
        handles.append(axes[0][0].plot([], [], color="0.3", ls="--", lw=1)[0])
        labels.append("paper (dashed, the tap's colour)")
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 4), fontsize=8)
    model = NAME.get(frame.attrs.get("model"), frame.attrs.get("model") or "the network")
    last = frame[frame["epoch"] == epochs[-1]].set_index("tap").reindex(taps)
    first = frame[frame["epoch"] == epochs[0]].set_index("tap").reindex(taps)
    what = (
        f"{model} at epoch{'s' if len(epochs) > 1 else ''} {', '.join(map(str, epochs))} of its training: "
        "the FC layer's accuracy from each tap (and the whole network's), the noise per filter n, clusters "
        "per filter N_c, mean cluster size C_s and SNR_E = C_s N_c N_l / n (*universal* Eq. "
        f"4{'' if N_l is None else f', N_l = {N_l}'}), one line per tap"
        + (", the paper's values dashed" if reference is not None and len(reference) else "")
        + (
            ", and each statistic's mean relative distance to the paper's values"
            if distance is not None
            else ""
        )
        + "."
    )
    alt = (
        f"Line charts over epochs {', '.join(map(str, epochs))} for taps {', '.join(taps)}. At epoch "
        f"{epochs[0]}: accuracy {xy_series(first['accuracy'], '{:.3f}')}, n {xy_series(first['n'])}; at "
        f"epoch {epochs[-1]}: accuracy {xy_series(last['accuracy'], '{:.3f}')}, n {xy_series(last['n'])}, "
        f"N_c {xy_series(last['N_c'])}, C_s {xy_series(last['C_s'])}, SNR_E {xy_series(last['SNR_E'])}."
    )
    return describe(
        fig,
        what,
        alt,
        "none (this book's addition: neither paper shows the mechanism during training)",
        False,
    )


def _statistic_panels(
    axes, frame: pd.DataFrame, reference, taps: list[str], epochs: list, colors: dict
) -> None:
    """The first five panels of :func:`plot_training_dynamics`: accuracy, n, N_c, C_s, SNR_E against the
    epoch, a line per tap, the paper's value of each tap dashed in its colour."""
    for ax, col in zip(axes.ravel(), ("accuracy", "n", "N_c", "C_s", "SNR_E")):
        for tap in taps:
            t = frame[frame["tap"].astype(str) == tap].sort_values("epoch")
            ax.plot(t["epoch"], t[col], marker="o", ms=4, color=colors[tap], label=f"tap {tap}")
            if (
                reference is not None
                and tap in reference.index
                and col in reference.columns
                and pd.notna(reference.loc[tap, col])
            ):
                ax.axhline(float(reference.loc[tap, col]), color=colors[tap], ls="--", lw=1)
        if col == "accuracy":
            net = frame.groupby("epoch")["network"].first()
            ax.plot(net.index, net.to_numpy(), color="k", marker="s", ms=4, label="whole network")
            ax.set(ylim=(0, 1))
        ax.set(xscale="log", xticks=epochs, xticklabels=[str(e) for e in epochs], xlabel="epoch", title=col)
        ax.minorticks_off()


def _distance_panel(ax, distance: pd.DataFrame | None, epochs: list) -> None:
    """The last panel of :func:`plot_training_dynamics`: each statistic's mean relative distance to the
    paper's values against the epoch (blank without ``distance``)."""
    if distance is not None and len(distance):
        for col, mk in zip(("accuracy", "n", "N_c", "C_s"), "osD^"):
            if distance[col].notna().any():
                ax.plot(distance["epoch"], distance[col], marker=mk, ms=4, label=col)
        ax.set(
            xscale="log",
            xticks=epochs,
            xticklabels=[str(e) for e in epochs],
            xlabel="epoch",
            ylim=(0, None),
            title="mean |run - paper| / paper",
        )
        ax.minorticks_off()
        ax.legend(fontsize=7)
    else:
        ax.axis("off")
