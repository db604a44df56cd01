"""The results overview, ``book/generated/overview.md``: the claims ledger (the paper's claims by verdict,
then this book's additions and its consistency checks) and every number the pages compared with the papers,
each page's per-layer numbers drawn beside the paper's. Written by the build from the metadata the executed
pages tagged (:func:`helpers.book.generated.page_metadata`), so that nothing in it is typed by hand; no torch
here (the build imports it).
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns

from helpers.book import scale_ledger
from helpers.book.generated import generated_dir, page_metadata
from helpers.book.ledger import KINDS, VERDICTS, cell, ledgers, verdicts_by_page
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
from helpers.reference.claims import unique

_LAYER_ROW = re.compile(
    r"^(?:(?P<pre>.*?), )?(?:K=(?P<K>\d+), )?(?:VGG-16 layer )?(?P<tap>(?:stage )?\d+)"
    r"(?: \([^)]*\))?: (?P<stat>accuracy|n|N_c|C_s)$"
)


_MECH_ROW = re.compile(r"^(?P<stat>accuracy|noise n|C_s|N_c), layer (?P<tap>\d+)$")


_FIT_ROW = re.compile(r"^slope of the error at (?P<tap>.+) against K$")


STATS = ("accuracy", "n", "N_c", "C_s")


def layer_rows(rows: list[dict]) -> pd.DataFrame:
    """The per-layer rows of a page's comparison (``quantity``, ``paper``, ``run``, as :meth:`Page.compare`
    records them) parsed into ``K, tap, stat, paper, run``; the other rows are left out."""
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
    """One page's paper values beside this run's (results overview): accuracy, n, N_c and C_s per layer,
    shallow to deep, one colour per K; and, where the page fits the error against K, that error. ``None`` when
    the page has no per-layer rows."""
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
    parts = [
        _error_panel(ax, f, fit_tap)
        if stat == "error"
        else _stat_panel(ax, f[f["stat"] == stat], stat, Ks, colors)
        for ax, stat in zip(flat, panels)
    ]
    _legend(flat, len(panels), len(Ks))
    what = (
        f"{title}: the paper's values (dashed, hollow squares) beside this run's (solid), "
        + ", ".join(stats)
        + " per tap, shallow to deep"
        + (f", one colour per K ({', '.join(str(k) for k in Ks)})" if len(Ks) > 1 else "")
        + (f", and the test error at {where(fit_tap)} against K" if "error" in panels else "")
        + (" (this run skipped: the paper's values only)" if f["run"].notna().sum() == 0 else "")
        + "."
    )
    alt = f"Line charts, one per quantity, of {title}: " + "; ".join(parts) + "."
    return describe(fig, what, alt, name, True)


def _error_panel(ax, f: pd.DataFrame, fit_tap: str) -> str:
    """The test error at ``fit_tap`` against K, this run's and the paper's; its sentence of the alt text."""
    acc = f[(f["stat"] == "accuracy") & (f["tap"] == fit_tap)].dropna(subset=["K"]).sort_values("K")
    ax.plot(acc["K"], 1 - acc["run"], **dict(RUN, label="this run"))
    ax.plot(acc["K"], 1 - acc["paper"], **PAPER)
    ax.legend(fontsize=7)
    ax.set(xlabel="K (labels)", title=f"test error at {where(fit_tap)} against K", ylim=(0, None))
    return (
        f"error at {where(fit_tap)} for K = {', '.join(str(int(k)) for k in acc['K'])}: this run "
        f"{xy_series(1 - acc['run'], '{:.3f}')}, the paper {xy_series(1 - acc['paper'], '{:.3f}')}"
    )


def _stat_panel(ax, g: pd.DataFrame, stat: str, Ks: list, colors: dict) -> str:
    """``stat`` per tap, shallow to deep, this run's and the paper's for each K (one colour each); the
    sentence of the alt text for the last K."""
    taps = sorted_taps(g["tap"])
    x = np.arange(len(taps))
    part = ""
    for K in Ks:
        gk = (g if K is None else g[g["K"] == K]).groupby("tap")[["paper", "run"]].mean().reindex(taps)
        lab = "" if K is None else f"K = {K}, "
        paper_color = colors[K] if len(Ks) > 1 else PAPER["color"]
        ax.plot(x, gk["run"], **dict(RUN, color=colors[K], label=f"{lab}this run"))
        ax.plot(x, gk["paper"], **dict(PAPER, color=paper_color, label=f"{lab}paper"))
        if K == Ks[-1]:
            part = (
                f"{stat} at taps {', '.join(taps)}{' (K = ' + str(K) + ')' if K else ''}: this run "
                f"{xy_series(gk['run'], '{:.3g}')}, the paper {xy_series(gk['paper'], '{:.3g}')}"
            )
    ax.set(xticks=x, xticklabels=taps, title=stat, xlabel="tap, shallow to deep")
    values = g[["paper", "run"]].to_numpy(float)
    if stat == "n" and np.nanmax(values) > 50 * max(1e-9, np.nanmin(values)):
        ax.set(yscale="log", title="n (log scale)")  # Table 3's n runs from 1,000 to 50,000
    else:
        ax.set(ylim=(0, 1) if stat == "accuracy" else (0, None))
    return part


def _legend(flat, n_panels: int, n_Ks: int) -> None:
    """The first panel's legend, in the empty panel when there is one, else in the first."""
    handles, labels = flat[0].get_legend_handles_labels()
    spare = flat[n_panels] if len(flat) > n_panels else None
    if spare is not None:  # the legend in the empty panel
        spare.legend(handles, labels, loc="center", fontsize=8, ncol=2 if n_Ks > 2 else 1)
    else:
        flat[0].legend(handles, labels, fontsize=7, ncol=2 if n_Ks > 2 else 1)


# --- overview.md --------------------------------------------------------------------------------------------


def _one_line(text) -> str:
    """``text`` on one line, without the ``$`` of TeX (a figure's alt text and caption)."""
    return " ".join(str(text).replace("$", "").split())


def figure_markdown(name: str, title: str, rows: list[dict]) -> list[str]:
    """A page's per-layer numbers drawn, the paper's beside this run's (:func:`overview_figure`), as a MyST
    figure of ``overview.md`` (its PNG in ``overview-figures/``); no lines when the page has none to draw."""
    return _png_figure(overview_figure(name, title, rows), name)


def _verdict_figure(claims: list[tuple[str, str, dict]]) -> list[str]:
    """The paper claims' verdicts by page (:func:`helpers.book.ledger.verdicts_by_page`), as a MyST figure."""
    return _png_figure(verdicts_by_page(claims), "verdicts-by-page")


def _png_figure(fig: BookFigure | None, stem: str) -> list[str]:
    """``fig`` saved as ``overview-figures/<stem>.png`` and its MyST figure's lines (none without a
    figure)."""
    if fig is None:
        return []
    folder = generated_dir() / "overview-figures"
    folder.mkdir(exist_ok=True)
    (folder / f"{stem}.png").write_bytes(fig.png())
    return [
        f"```{{figure}} overview-figures/{stem}.png",
        f":alt: {_one_line(fig.alt)}",
        f":name: overview-{stem}",
        f":width: {round(fig.get_figwidth() * 96)}px",
        "",
        _one_line(fig.what),
        "```",
        "",
    ]


def write_overview(profile: str, statuses: dict[str, str]) -> Path:
    """``overview.md``: the claims ledger (paper claims by verdict first, then our consistency checks and
    additions) and every number the pages compared with the papers."""
    out = generated_dir() / "overview.md"
    pages, unreadable = _read_pages(statuses)
    claims = [(name, m["title"], c) for name, m in pages for c in m.get("claims", [])]
    skipped = sorted({name for name, _, c in claims if c.get("verdict") == "skipped"})
    by_kind = {k: [x for x in claims if x[2].get("kind") == k] for k in KINDS}
    lines = _head(profile, len(pages), skipped, by_kind) + _verdict_figure(claims) + ledgers(by_kind)
    if unreadable:
        lines[4:4] = [
            "```{warning}",
            "Pages left out, unreadable: " + "; ".join(map(cell, unreadable)),
            "```",
            "",
        ]
    stale = [(name, m["stale"]) for name, m in pages if m.get("stale")]
    if stale:
        lines[4:4] = [
            "```{warning}",
            f"{len(stale)} page(s) are stale: their notebook failed in the last build and "
            "they show the results of the build before (see each page's banner): "
            + ", ".join(f"{{doc}}`{n} <{n}>` ({cell(s['failed'])})" for n, s in stale)
            + ".",
            "```",
            "",
        ]
    if skipped:
        lines += ["## Skipped pages", ""] + [f"- {{doc}}`{n} <{n}>`: data missing" for n in skipped] + [""]
    lines += scale_ledger.section(by_kind[KINDS[0]])  # where scale takes the failing claims (issue 36)
    lines += _numbers(pages)
    tmp = out.with_suffix(".md.tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, out)
    return out


def _read_pages(statuses: dict[str, str]) -> tuple[list[tuple[str, dict]], list[str]]:
    """The metadata of each executed page of ``statuses`` (by name), and why each unreadable one is."""
    pages, unreadable = [], []
    for name in sorted(statuses):
        nb = generated_dir() / f"{name}.ipynb"
        if nb.is_file():
            try:
                pages.append((name, page_metadata(nb)))
            except ValueError as err:
                unreadable.append(str(err))
    return pages, unreadable


def head_counts(by_kind: dict) -> tuple[dict, int]:
    """The headline's counts of verdicts by kind, each claim on each network once
    (:func:`helpers.reference.claims.unique`: Tables 1, 4 and 6 and Figs. 3-5 read the same VGG-16), and how
    many paper-claim records of the pages that leaves out as repeats."""
    once = {k: unique([c for _, _, c in by_kind[k]]) for k in KINDS}
    count = {k: {v: sum(c["verdict"] == v for c in once[k]) for v in VERDICTS} for k in KINDS}
    return count, len(by_kind[KINDS[0]]) - len(once[KINDS[0]])


def _head(profile: str, n_pages: int, skipped: list[str], by_kind: dict) -> list[str]:
    """The overview's title and its counts of verdicts, by kind of claim, each claim on each network once."""
    count, repeats = head_counts(by_kind)
    paper_counts = count[KINDS[0]]
    return [
        "# Results overview and claims ledger",
        "",
        f"Generated by the build from the executed pages (profile `{profile}`, "
        f"{time.strftime('%Y-%m-%d %H:%M')}); nothing here is typed in. Each row links to its page, which "
        "shows the profile, the knobs and the data.",
        "",
        f"**Paper claims: {paper_counts['holds']} hold, {paper_counts['does not hold']} do not hold, "
        f"{paper_counts['not testable here']} are not testable here**, over {n_pages} pages"
        + (f" ({len(skipped)} skipped: data missing)" if skipped else "")
        + ", each claim on each network counted once"
        + (
            f" ({repeats} repeated record(s) left out of the count: pages that test the same sentence on the "
            "same network with the same evidence, e.g. Tables 1, 4 and 6 on one VGG-16; each page still "
            "lists its own below)"
            if repeats
            else ""
        )
        + ". "
        "A claim is *not testable here* when a precondition computed on the run fails (too few labels for "
        "it, a network below 0.8 of the paper's accuracy for the experiment, a confounded comparison): the "
        "run cannot decide it either way. At a reduced profile a claim that does not hold is a statement "
        "about this scale, not about the paper: each page says how its run differs from the paper's "
        "experiment.",
        "",
        f"Beside them, not counted as confirmations: {sum(count['consistency check'].values())} consistency "
        f"checks of our own arithmetic ({count['consistency check']['holds']} hold) and "
        f"{sum(count[KINDS[2]].values())} checks this book adds ({count[KINDS[2]]['holds']} hold).",
        "",
        "## Paper claims",
        "",
    ]


def _numbers(pages: list[tuple[str, dict]]) -> list[str]:
    """Every reproduced number beside the paper's, page by page, with the page's figure of them."""
    lines = ["## Every reproduced number beside the paper's", ""]
    for name, m in pages:
        rows = m.get("results", [])
        if not rows:
            continue
        label = (m.get("header") or [{}])[0].get("label", "")
        lines += [f"### {m['title']}", "", f"{{doc}}`Open the page <{name}>`. {label}", ""]
        lines += figure_markdown(name, m["title"], rows)
        lines += ["| quantity | paper | this run |", "| --- | --- | --- |"]
        lines += [f"| {cell(r['quantity'])} | {cell(r['paper'])} | {cell(r['run'])} |" for r in rows]
        lines.append("")
    return lines
