"""The claims ledger of the results overview, readable at a glance: one line a claim (page, claim, verdict and
its key numbers), the test, the full evidence and the paper's sentence on demand (a dropdown under each
table), and a figure of the paper claims' verdicts by page. No torch here (the build imports it).
"""

from __future__ import annotations

import numpy as np

from helpers.figures.style import BookFigure, describe, new_figure

KINDS = (
    "paper claim",
    "consistency check",
    "this book's addition",
)  # = helpers.reference.claims.KINDS (no torch import here)
VERDICTS = ("holds", "does not hold", "not testable here")
VERDICT_COLORS = {"holds": "#4c9a2a", "does not hold": "#c0392b", "not testable here": "#9e9e9e"}
KEY_NUMBERS = 90  # characters of the evidence shown on a claim's line; the rest is in its dropdown


def cell(v) -> str:
    """A value as the text of one Markdown table cell."""
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.4g}"
    # "$" would start MyST math: the quotes hold the papers' TeX fragments, which are shown as typed
    return str(v).replace("|", "\\|").replace("\n", " ").replace("$", "\\$")


def short(title: str) -> str:
    """A page title fit for a link text (no markdown emphasis, no role-breaking characters)."""
    return title.replace("*", "").replace("`", "").replace("<", "").replace(">", "")


def page_label(title: str) -> str:
    """The page's figure or table, the part of its title before a colon or comma ("mechanism Fig. 2")."""
    return short(title).split(":")[0].split(",")[0].strip()


def key_numbers(evidence, limit: int = KEY_NUMBERS) -> str:
    """The first clause of a claim's evidence, at most ``limit`` characters, cut at a word."""
    text = " ".join(str(evidence or "–").split())
    first = text.split("; ")[0]
    if len(first) <= limit:
        return first + (" …" if first != text else "")
    return first[:limit].rsplit(" ", 1)[0] + " …"


def _verdict(c: dict) -> str:
    return f"**{c['verdict']}**" + (f" ({cell(c['reason'])})" if c.get("reason") else "")


def ledger(rows: list[tuple[str, str, dict]], quote: bool, first: int = 1) -> list[str]:
    """One table line a claim (its number, page, claim, verdict with its reason, key numbers), then a dropdown
    with each claim's test, full evidence and, for paper claims (``quote``), the paper's sentence."""
    lines = ["| # | page | claim | verdict | key numbers |", "| --- | --- | --- | --- | --- |"]
    details = []
    for i, (name, title, c) in enumerate(rows, first):
        page = f"{{doc}}`{page_label(title)} <{name}>`"
        lines.append(
            f"| {i} | {page} | {cell(c.get('claim'))} | {_verdict(c)} | "
            f"{cell(key_numbers(c.get('evidence')))} |"
        )
        said = (
            f" *The paper:* {cell(c.get('where'))}: “{cell(c.get('quote'))}”"
            if quote and c.get("quote")
            else ""
        )
        details.append(
            f"{i}. **{cell(c.get('claim'))}** ({page}). *Test:* {cell(c.get('test'))}. "
            f"*Evidence:* {cell(c.get('evidence'))}.{said}"
        )
    if not details:
        return ["None.", ""]
    return (
        lines
        + ["", ":::{dropdown} The test, the evidence and the paper's sentence of each line above", ""]
        + [d + "\n" for d in details]
        + [":::", ""]
    )


def ledgers(by_kind: dict) -> list[str]:
    """The ledger's sections: the paper's claims by verdict, this book's additions, the consistency checks."""
    lines, n = [], 1
    for verdict in VERDICTS:
        rows = [x for x in by_kind[KINDS[0]] if x[2]["verdict"] == verdict]
        if rows:
            lines += [f"### {verdict.capitalize()} ({len(rows)})", ""] + ledger(rows, quote=True, first=n)
            n += len(rows)
    lines += ["## This book's additions", ""] + ledger(by_kind[KINDS[2]], quote=False)
    lines += ["## Consistency checks (our own arithmetic: shown, never counted)", ""]
    return lines + ledger(by_kind[KINDS[1]], quote=False)


def verdicts_by_page(claims: list[tuple[str, str, dict]]) -> BookFigure | None:
    """Horizontal stacked bars: per page, its paper claims that hold, do not hold and are not testable here
    (each page's own records, as its ledger lines count them)."""
    papers = [(name, title, c) for name, title, c in claims if c.get("kind") == KINDS[0]]
    pages = sorted({(name, page_label(title)) for name, title, _ in papers})
    if not pages:
        return None
    counts = np.array(
        [[sum(n == name and c["verdict"] == v for n, _, c in papers) for v in VERDICTS] for name, _ in pages]
    )
    fig, ((ax,),) = new_figure(0.32 * len(pages) + 1.2)
    y, left = np.arange(len(pages)), np.zeros(len(pages))
    for k, v in enumerate(VERDICTS):
        ax.barh(y, counts[:, k], left=left, color=VERDICT_COLORS[v], label=v)
        left += counts[:, k]
    ax.set_yticks(y, [label for _, label in pages], fontsize=8)
    ax.invert_yaxis()
    ax.set(xlabel="paper claims on the page")
    ax.legend(fontsize=8, ncol=3, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    total = counts.sum(0)
    what = (
        "The paper claims of each page by verdict, as the page's own ledger lines count them (a "
        "claim tested on "
        "two pages counts on both): " + ", ".join(f"{t} {v}" for t, v in zip(total, VERDICTS)) + "."
    )
    alt = "Stacked horizontal bars, one per page, of its paper claims: " + "; ".join(
        f"{label}: " + ", ".join(f"{c} {v}" for c, v in zip(row, VERDICTS) if c)
        for (_, label), row in zip(pages, counts)
    )
    return describe(fig, what, alt, "overview", False)
