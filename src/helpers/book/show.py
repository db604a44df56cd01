"""How a page shows what it computed: tables and Markdown tagged with metadata the build reads back
(:class:`Shown`), numbered and captioned figures (:class:`FigureShown`), the claims table and the summary
written from it, so that no number in the overview or the claims ledger is typed by hand."""

from __future__ import annotations

import base64
import html
import json
import math
import uuid
from dataclasses import dataclass, field

import pandas as pd
from markdown_it import MarkdownIt

from helpers.reference import claims as claims_mod

META = "mechanism_book"


@dataclass
class Shown:
    """A table (or Markdown) shown in the notebook, tagged with metadata the build reads back."""

    frame: pd.DataFrame | None = None
    markdown: str = ""
    meta: dict = field(default_factory=dict)
    more: list[tuple[str, pd.DataFrame]] = field(default_factory=list)  # further (caption, table) pairs
    folded: str = ""  # the tables folded under this summary line (a <details>; the book opens it to print)

    def _repr_mimebundle_(self, include=None, exclude=None):
        parts_html, parts_text = [], []
        if self.markdown:
            parts_text.append(self.markdown)
        if self.frame is not None:
            parts_html.append(self.frame.to_html(index=False, float_format=_fmt, na_rep="–", escape=True))
            parts_text.append(self.frame.to_string(index=False))
        for caption, extra in self.more:
            parts_html.append(md_to_html(caption) + extra.to_html(index=False, float_format=_fmt, na_rep="–"))
            parts_text += [caption, extra.to_string(index=False)]
        bundle = {"text/plain": "\n\n".join(parts_text)}
        if self.markdown and self.frame is None:
            bundle["text/markdown"] = self.markdown
        else:
            tables = "".join(parts_html)
            if self.folded:
                summary = f"<summary>{html.escape(self.folded)}</summary>"
                tables = f'<details class="mech-folded">{summary}{tables}</details>'
            bundle["text/html"] = md_to_html(self.markdown) + tables
        return bundle, {META: self.meta}


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def _fmt(v: float) -> str:
    if v != v:
        return "–"
    a = abs(v)
    return f"{v:.0f}" if a >= 1000 else f"{v:.3g}" if a >= 1 else f"{v:.3f}" if a >= 0.01 else f"{v:.2g}"


def md_to_html(text: str) -> str:
    """Markdown (code, emphasis, links) as HTML; raw HTML in ``text`` is escaped, not passed through."""
    return MarkdownIt("commonmark", {"html": False}).render(text) if text.strip() else ""


def _json(v):
    """A JSON-able scalar (NaN and inf as None)."""
    if v is None:
        return None
    if isinstance(v, (bool, str)):
        return v
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return f if math.isfinite(f) else None


def meaning(records: list[dict]) -> str:
    """One sentence, computed from a page's claim records, on what its result means for the paper's claims."""
    paper = [c for c in records if c.get("kind") == claims_mod.PAPER and c.get("verdict") != "skipped"]
    if not paper:
        return ""
    n = claims_mod.counts(paper)[claims_mod.PAPER]
    held, failed, open_ = n[claims_mod.HOLDS], n[claims_mod.FAILS], n[claims_mod.UNTESTABLE]
    if held == len(paper):
        return (
            f"**What this result means.** This run reproduces all {held} of the paper's claims on this page."
        )
    parts = [f"reproduces {held} of the paper's {len(paper)} claims on this page"]
    if failed:
        parts.append(f"{failed} do not hold at this scale (a finding, with its evidence below)")
    if open_:
        parts.append(f"{open_} cannot be decided here (each says why)")
    return "**What this result means.** This run " + "; ".join(parts) + "."


def summary(claims_shown: Shown, timing: str = "", label: str = "") -> Shown:
    """The page's summary, written from its claims (:func:`claims_table`) so that no sentence can disagree
    with the verdicts above it: the paper claims with their verdicts and evidence, the count of our own
    checks."""
    records = claims_shown.meta.get("claims", [])
    page = records[0]["page"] if records else ""
    paper = [c for c in records if c.get("kind") == claims_mod.PAPER]
    own = [c for c in records if c.get("kind") in (claims_mod.CHECK, claims_mod.ADDITION)]
    if not records or records[0].get("verdict") == "skipped":
        text = "**This run:** no verdicts, the data is missing (see the top of the page)."
    else:
        n = claims_mod.counts(records)[claims_mod.PAPER]
        text = (
            (
                f"**This run's verdicts.** Of the paper's {len(paper)} claim(s) checked on this page, "
                f"{n[claims_mod.HOLDS]} hold, {n[claims_mod.FAILS]} do not hold and "
                f"{n[claims_mod.UNTESTABLE]} are "
                "not testable here:\n\n"
            )
            if paper
            else "**This run's verdicts.** This page checks no claim of the paper."
        )
        text += "".join(
            f"- {c['claim']}: **{c['verdict']}**"
            + (f" ({c['reason']})" if c.get("reason") else "")
            + (f"; {c['evidence']}" if c.get("evidence") else "")
            + ".\n"
            for c in paper
        )
        if own:
            held = sum(c["verdict"] == claims_mod.HOLDS for c in own)
            text += (
                f"\nBeside them, {len(own)} check(s) of our own (consistency checks and this "
                f"book's additions, "
                f"never counted as confirmations): {held} hold."
            )
            text += "".join(
                f"\n- {c['verdict']} ({c['kind']}): {c['claim']}."
                for c in own
                if c["verdict"] != claims_mod.HOLDS
            )
    if records and records[0].get("verdict") != "skipped" and meaning(records):
        text = f"{meaning(records)}\n\n{text}"
    if label:
        text = f"{label}\n\n{text}"
    if timing:
        text += f"\n\n{timing}"
    verdicts = [dict(claim=c.get("claim"), kind=c.get("kind"), verdict=c.get("verdict")) for c in records]
    return Shown(None, text.strip(), dict(summary=dict(page=page, verdicts=verdicts)))


def claims_table(page: str, rows: list[claims_mod.Claim], label: str = "") -> Shown:
    """Claims (:class:`helpers.reference.claims.Claim`) as a table with their kinds and verdicts, tagged for
    the claims ledger."""
    meta = [dict(c.record(), page=page, label=label) for c in rows]
    n = claims_mod.counts(meta)[claims_mod.PAPER]
    text = (
        f"Paper claims: {n[claims_mod.HOLDS]} hold, {n[claims_mod.FAILS]} do not hold, "
        f"{n[claims_mod.UNTESTABLE]} "
        f"not testable here. {label}"
    )
    return Shown(claims_mod.frame(rows), text.strip(), dict(claims=meta))


def show_figure(
    fig,
    page=None,
    caption: str | None = None,
    alt: str | None = None,
    paper: str | None = None,
) -> "FigureShown":
    """One figure of a figure module as a numbered, captioned :class:`FigureShown` of ``page`` (without a
    page: captioned, unnumbered)."""
    number = page.next_figure_number() if page is not None else None
    ref = paper or getattr(fig, "paper", "")
    what = caption or getattr(fig, "what", "")
    text = f"**Figure {number}.** {what}" if number else what
    if ref:
        text += f" Paper: {ref}" + (
            '; its values are drawn beside this run\'s (grey, dashed, hollow squares, marked "paper").'
            if getattr(fig, "with_paper", False)
            else "."
        )
    text += " " + (page.figure_context() if page is not None else "Drawn outside a page of the book.")
    record = dict(
        page=page.name if page is not None else None,
        number=number,
        caption=text,
        paper=ref,
        alt=alt or getattr(fig, "alt", ""),
        profile=page.profile if page is not None else None,
        kind="explorer" if hasattr(fig, "frames") else "figure",
    )
    return FigureShown([dict(record, fig=fig)])


class FigureShown:
    """Figures shown as HTML ``<figure>`` elements: the image with its alt text, the caption (Markdown
    rendered) under it, numbered; an explorer (:class:`helpers.figures.plots.Explorer`) adds its slider.
    Tagged with metadata (``figure``: number, caption, alt, paper, per figure) the build and the tests read
    back."""

    def __init__(self, items: list):
        self.items = [i for x in items for i in (x.items if isinstance(x, FigureShown) else [x])]

    def _repr_mimebundle_(self, include=None, exclude=None):
        parts = [_figure_html(i) for i in self.items]
        text = "\n\n".join(i["caption"] for i in self.items)
        meta = [{k: v for k, v in i.items() if k != "fig"} for i in self.items]
        return {"text/html": "\n".join(parts), "text/plain": text}, {META: dict(figure=meta)}


def _caption_html(text: str) -> str:
    out = md_to_html(text).strip()
    return out[3:-4] if out.startswith("<p>") and out.endswith("</p>") and out.count("<p>") == 1 else out


def _img(src: str, alt: str, width_px: int, extra: str = "") -> str:
    return (
        f'<img src="{src}" alt="{html.escape(alt, quote=True)}" width="{width_px}" '
        f'style="max-width:100%;height:auto" {extra}>'
    )


FIGURE_STYLE = "margin:1.5em 0"


CAPTION_STYLE = "text-align:left;font-size:0.9em;margin-top:0.4em"


def _figure_html(item: dict) -> str:
    fig, number = item["fig"], item["number"]
    caption = f'<figcaption style="{CAPTION_STYLE}">{_caption_html(item["caption"])}</figcaption>'
    if not hasattr(fig, "frames"):
        src = "data:image/png;base64," + base64.b64encode(fig.png()).decode()
        width = int(round(fig.get_figwidth() * 96))
        return (
            f'<figure class="mech-figure" id="figure-{number}" style="{FIGURE_STYLE}">'
            f"{_img(src, item['alt'], width)}{caption}</figure>"
        )
    uid = "explorer-" + uuid.uuid4().hex[:8]
    frames = [
        dict(
            src="data:image/png;base64," + base64.b64encode(f["png"]).decode(),
            alt=f["alt"],
            text=f["text"],
            value=f"{f['threshold']:.1f}",
        )
        for f in fig.frames
    ]
    first = frames[fig.start]
    width = int(round(fig.width * 96))
    script = (
        "(function () {"
        f"var frames = {json.dumps(frames)};"
        f"var s = document.getElementById('{uid}-slider'), img = document.getElementById('{uid}-img'),"
        f" out = document.getElementById('{uid}-value'), txt = document.getElementById('{uid}-text');"
        "function show() { var f = frames[parseInt(s.value, 10)]; img.src = f.src; img.alt = f.alt;"
        " out.textContent = f.value; txt.textContent = f.text; s.setAttribute('aria-valuetext', f.value); }"
        "s.addEventListener('input', show);"
        "})();"
    )
    return (
        f'<figure class="mech-figure mech-explorer" id="figure-{number}" style="{FIGURE_STYLE}">'
        f'<div style="display:flex;align-items:center;gap:1em;margin-bottom:0.5em">'
        f'<label for="{uid}-slider"><strong>{html.escape(fig.label)}</strong> '
        f'<output id="{uid}-value" for="{uid}-slider">{first["value"]}</output></label>'
        f'<input type="range" class="mech-explorer-slider" id="{uid}-slider" min="0" max="{len(frames) - 1}" '
        f'step="1" value="{fig.start}" aria-valuetext="{first["value"]}" style="flex:1;max-width:30em">'
        f'<span style="font-size:0.85em">{frames[0]["value"]} to {frames[-1]["value"]}</span></div>'
        f"{_img(first['src'], first['alt'], width, f'id={chr(34)}{uid}-img{chr(34)}')}"
        f'<p id="{uid}-text" aria-live="polite" style="font-size:0.9em;margin:0.3em 0">'
        f"{html.escape(first['text'])}</p>{caption}<script>{script}</script></figure>"
    )
