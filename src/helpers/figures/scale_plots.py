"""The scale page's figures: each statistic against the number of filters per layer and against the epochs
of training, log-log, with the power laws of :mod:`helpers.method.powerlaw` and the paper's values.

Tevet et al., *Physica A* 635:129513 (2024), doi:10.1016/j.physa.2024.129513, plot the error and the average
noise per filter against the filters per layer on log-log axes (CIFAR-100); the width figure is that form on
this book's CIFAR-10 ladder (:mod:`helpers.figures.scale_verdicts`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns

from helpers.figures import scale_verdicts as sv
from helpers.figures.style import BookFigure, describe, new_figure, sorted_taps
from helpers.method import powerlaw

LABELS = {"error": "error (1 - accuracy)", "n": "noise per filter n", "N_c": "N_c", "C_s": "C_s"}


def plot_scale(
    frame: pd.DataFrame | None, axis: str = "width", build: pd.DataFrame | None = None
) -> BookFigure:
    """One panel per statistic (:data:`helpers.figures.scale_verdicts.STATISTICS`) against N_f (``axis =
    "width"``) or the epochs (``"budget"``), log-log: the record's networks as points, a line per tap from
    shallow (light) to deep (dark) with its fitted power law, the whole network's error in black, the paper's
    value of each tap as a star at its width (width ladder) or a dashed line, and the build's own networks
    as open circles. Without a record, the width figure shows the build's networks alone (``None`` for the
    budget figure, or on a skipped page)."""
    if frame is None:
        frame = sv.build_frame(build) if axis == "width" else None
        if frame is None:
            return None
    t = sv.ladder(frame, axis)
    taps = sorted_taps(t["tap"][t["tap"] != sv.NETWORK]) + [sv.NETWORK]
    colors = dict(zip(taps, list(sns.color_palette("viridis_r", len(taps) - 1)) + ["k"]))
    fig, axes = new_figure(6.2, 2, 3)
    ref = sv.targets()
    for ax, s in zip(axes.ravel(), sv.STATISTICS):
        for tap in taps:
            _series(ax, t[t["tap"] == tap], s, axis, tap, colors[tap], ref.loc[tap, s])
            if build is not None and tap in set(build["tap"]) and axis == "width":
                b = build[build["tap"] == tap]
                ax.scatter(b["N_f"], b[s], facecolors="none", edgecolors=colors[tap], s=60, zorder=3)
        ax.set(
            xscale="log", yscale="log", title=LABELS.get(s, s), xlabel="N_f" if axis == "width" else "epochs"
        )
    axes[1][2].axis("off")
    handles = [axes[0][0].plot([], [], color=colors[x], marker="o")[0] for x in taps]
    names = [f"layer {x}" if x != sv.NETWORK else "whole network" for x in taps]
    fig.legend(handles, names, loc="outside lower center", ncol=len(taps), fontsize=8)
    return describe(fig, _what(frame, axis), _alt(t, axis), "none (Tevet et al. 2024's form, on CIFAR-10)")


def _series(ax, g: pd.DataFrame, s: str, axis: str, tap: str, color, target: float) -> None:
    """One tap's points, fitted law and paper value in one panel."""
    x = g["width"] * sv.PAPER_N_F[sv.NETWORK] if tap == sv.NETWORK and axis == "width" else g[sv.AXES[axis]]
    y = g[s]
    if not y.notna().any():
        return
    ax.plot(x, y, "o", ms=4, color=color)
    law = powerlaw.fit(x.to_numpy(float), y.to_numpy(float))
    if law is not None:
        grid = np.geomspace(law.x_range[0], law.x_range[1], 20)
        ax.plot(grid, law.at(grid), "-", lw=1, color=color)
    if np.isfinite(target) and target > 0:
        if axis == "width":
            ax.plot([sv.PAPER_N_F[tap]], [target], "*", ms=9, color=color, mec="k", mew=0.4)
        else:
            ax.axhline(target, color=color, ls="--", lw=0.8)


def _what(frame: pd.DataFrame, axis: str) -> str:
    epochs0, width0 = sv.bases(frame)
    over = (
        f"the number of filters N_f at {epochs0} epochs" if axis == "width" else f"epochs at width {width0:g}"
    )
    return (
        f"VGG-16 on CIFAR-10, {frame.attrs.get('source', 'the record' + chr(39) + 's networks')} "
        f"({frame.attrs['points']} in all): the probe's error, n, "
        f"N_c, C_s and SNR_E (*universal* Eq. 4) at each tap of *mechanism* Fig. 2 against {over}, log-log, "
        "with least-squares power laws (lines), the whole network's error in black, the paper's values "
        + ("as stars at the paper's N_f (width 1)" if axis == "width" else "dashed")
        + (", and this build's own networks as open circles." if axis == "width" else ".")
    )


def _alt(t: pd.DataFrame, axis: str) -> str:
    deep = t[t["tap"] == sv.DEEPEST].sort_values(sv.AXES[axis])
    xs = ", ".join(f"{v:g}" for v in deep[sv.AXES[axis]])
    return (
        f"Five log-log panels. At layer 13, over {sv.AXES[axis]} {xs}: n "
        + ", ".join(f"{v:.2f}" for v in deep["n"])
        + "; error "
        + ", ".join(f"{v:.3f}" for v in deep["error"])
        + "."
    )
