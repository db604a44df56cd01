"""TODO docstring."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import seaborn as sns

from helpers.figures.style import (
    PAPER,
    RUN,
    WIDTH,
    BookFigure,
    describe,
    new_figure,
    sorted_taps,
    where,
    xy_series,
)

_LAYER_ROW = re.compile(
    r"^(?:(?P<pre>.*?), )?(?:K=(?P<K>\d+), )?(?:VGG-16 layer )?(?P<tap>(?:stage )?\d+)"
    r"(?: \([^)]*\))?: (?P<stat>accuracy|n|N_c|C_s)$"
)


_MECH_ROW = re.compile(r"^(?P<stat>accuracy|noise n|C_s|N_c), layer (?P<tap>\d+)$")


_FIT_ROW = re.compile(r"^slope of the error at (?P<tap>.+) against K$")


STATS = ("accuracy", "n", "N_c", "C_s")


def layer_rows(rows: list[dict]) -> pd.DataFrame:
    """The per-layer rows of a page's comparison (``quantity``, ``paper``, ``run``, as :meth:`Page.compare` records
    them) parsed into ``K, tap, stat, paper, run``; the other rows are left out."""
    out = []
    for r in rows:
        q = str(r.get("quantity", ""))
        m = _LAYER_ROW.match(q)
        if m:
            K = m["K"] or (re.search(r"\bK ?= ?(\d+)", m["pre"] or "") or [None, None])[1]
            out.append(
                dict(
                    K=int(K) if K else None,
                    tap=m["tap"],
                    stat=m["stat"],
                    paper=r.get("paper"),
                    run=r.get("run"),
                )
            )
            continue
        m = _MECH_ROW.match(q)
        if m:
            out.append(
                dict(
                    K=None,
                    tap=m["tap"],
                    stat={"noise n": "n"}.get(m["stat"], m["stat"]),
                    paper=r.get("paper"),
                    run=r.get("run"),
                )
            )
    f = pd.DataFrame(out, columns=["K", "tap", "stat", "paper", "run"])
    for c in ("paper", "run"):
        f[c] = pd.to_numeric(f[c], errors="coerce")
    return f


def overview_figure(name: str, title: str, rows: list[dict]) -> BookFigure | None:
    """One page's paper values beside this run's (results overview): accuracy, n, N_c and C_s per layer, shallow to
    deep, one colour per K; and, where the page fits the error against K, that error. ``None`` when the page has no
    per-layer rows."""
    f = layer_rows(rows)
    if len(f) < 2 or f["paper"].notna().sum() == 0:
        return None
    fit_tap = next((m["tap"] for r in rows if (m := _FIT_ROW.match(str(r.get("quantity", ""))))), None)
    stats = [s for s in STATS if (f["stat"] == s).any()]
    Ks = sorted({k for k in f["K"] if k == k and k is not None}) or [None]
    Ks = [None if k is None else int(k) for k in Ks]
    panels = stats + (["error"] if fit_tap and len(Ks) >= 2 else [])
    ncols = 2 if len(panels) > 1 else 1
    nrows = (len(panels) + ncols - 1) // ncols
    fig, axes = new_figure(2.7 * nrows + 0.4, nrows, ncols, width=WIDTH if ncols == 2 else 5.5)
    flat = axes.ravel()
    for ax in flat[len(panels) :]:
        ax.axis("off")
    colors = dict(zip(Ks, sns.color_palette("viridis", len(Ks)) if len(Ks) > 1 else [RUN["color"]]))
    paper_color = (lambda K: colors[K]) if len(Ks) > 1 else (lambda K: PAPER["color"])
    skipped = f["run"].notna().sum() == 0
    parts = []
    for ax, stat in zip(flat, panels):
        if stat == "error":
            acc = f[(f["stat"] == "accuracy") & (f["tap"] == fit_tap)].dropna(subset=["K"]).sort_values("K")
            ax.plot(acc["K"], 1 - acc["run"], **dict(RUN, label="this run"))
            ax.plot(acc["K"], 1 - acc["paper"], **PAPER)
            ax.legend(fontsize=7)
            ax.set(xlabel="K (labels)", title=f"test error at {where(fit_tap)} against K", ylim=(0, None))
            parts.append(
                f"error at {where(fit_tap)} for K = {', '.join(str(int(k)) for k in acc['K'])}: this run "
                f"{xy_series(1 - acc['run'], '{:.3f}')}, the paper {xy_series(1 - acc['paper'], '{:.3f}')}"
            )
            continue
        g = f[f["stat"] == stat]
        taps = sorted_taps(g["tap"])
        x = np.arange(len(taps))
        for K in Ks:
            gk = (g if K is None else g[g["K"] == K]).groupby("tap")[["paper", "run"]].mean().reindex(taps)
            lab = "" if K is None else f"K = {K}, "
            ax.plot(x, gk["run"], **dict(RUN, color=colors[K], label=f"{lab}this run"))
            ax.plot(x, gk["paper"], **dict(PAPER, color=paper_color(K), label=f"{lab}paper"))
            if K == Ks[-1]:
                parts.append(
                    f"{stat} at taps {', '.join(taps)}{' (K = ' + str(K) + ')' if K else ''}: this run "
                    f"{xy_series(gk['run'], '{:.3g}')}, the paper {xy_series(gk['paper'], '{:.3g}')}"
                )
        ax.set(xticks=x, xticklabels=taps, title=stat, xlabel="tap, shallow to deep")
        values = g[["paper", "run"]].to_numpy(float)
        if stat == "n" and np.nanmax(values) > 50 * max(1e-9, np.nanmin(values)):
            ax.set(yscale="log", title="n (log scale)")  # Table 3's n runs from 1,000 to 50,000
        else:
            ax.set(ylim=(0, 1) if stat == "accuracy" else (0, None))
    handles, labels = flat[0].get_legend_handles_labels()
    spare = flat[len(panels)] if len(flat) > len(panels) else None
    if spare is not None:  # the legend in the empty panel
        spare.legend(handles, labels, loc="center", fontsize=8, ncol=2 if len(Ks) > 2 else 1)
    else:
        flat[0].legend(handles, labels, fontsize=7, ncol=2 if len(Ks) > 2 else 1)
    what = (
        f"{title}: the paper's values (dashed, hollow squares) beside this run's (solid), "
        + ", ".join(stats)
        + " per tap, shallow to deep"
        + (f", one colour per K ({', '.join(str(k) for k in Ks)})" if len(Ks) > 1 else "")
        + (f", and the test error at {where(fit_tap)} against K" if "error" in panels else "")
        + (" (this run skipped: the paper's values only)" if skipped else "")
        + "."
    )
    alt = f"Line charts, one per quantity, of {title}: " + "; ".join(parts) + "."
    return describe(fig, what, alt, name, True)
