"""Result first: each built page opens with its verdicts and its first figure (issue 37).

A notebook computes top to bottom (knobs, data, runs, figures, claims), so its verdicts exist only at its end.
When the build puts an executed notebook in place (:func:`helpers.book.execute.finish`), :func:`result_first`
writes a cell right after the page's title: two lines computed from the page's claim records (how many of the
paper's claims hold, do not hold, are not testable here; which do not hold) and the page's first figure,
copied from below. The knobs and provenance table stays complete, folded under the header
(:class:`helpers.book.show.Shown` ``folded``; open when printed). The cell carries no claim, summary or
figure record, so the ledger and the overview count nothing twice; writing it again replaces it.
"""

from __future__ import annotations

import copy
import re

from helpers.book.generated import output_records
from helpers.book.show import META, md_to_html
from helpers.reference import claims as claims_mod

TAG = "result-first"  # the written cell's tag (also ``remove-input``: only its output shows)
_FIGURE = re.compile(r'<figure class="mech-figure" id="figure-(\d+)"[^>]*>.*?(<img [^>]*>).*?</figure>', re.S)


def _records(nb: dict, key: str) -> list:
    """Every ``key`` record the page's outputs carry, with its output, in order."""
    return [(o, v) for o, kind, v in output_records(nb) if kind == key]


def verdict_lines(records: list[dict], profile: str = "") -> list[str]:
    """Two lines from a page's claim records: the paper claims by verdict, then those that do not hold (by
    name) or that every decided one holds; nothing for a page without a decided paper claim."""
    paper = [c for c in records if c.get("kind") == claims_mod.PAPER and c.get("verdict") != "skipped"]
    if not paper:
        return []
    n = claims_mod.counts(paper)[claims_mod.PAPER]
    at = f" at the `{profile}` profile" if profile else ""
    first = (
        f"**Result{at}.** Of the paper's {len(paper)} claim(s) on this page, {n[claims_mod.HOLDS]} hold, "
        f"{n[claims_mod.FAILS]} do not hold and {n[claims_mod.UNTESTABLE]} are not testable here."
    )
    failed = [c["claim"] for c in paper if c["verdict"] == claims_mod.FAILS]
    second = (
        "Does not hold: " + "; ".join(failed) + ". Each with its evidence and reason in the claims table."
        if failed
        else "Every claim decided here holds; the claims table below gives each test and its evidence."
    )
    return [first, second]


def _first_figure(nb: dict) -> str:
    """The page's first (non-interactive) figure as an image with a short caption pointing below, or ''."""
    for o, _ in _records(nb, "figure"):
        found = _FIGURE.search("".join(o.get("data", {}).get("text/html", "")))
        if found:
            number, img = found.groups()
            return (
                f'<figure class="mech-figure result-first" style="margin:1em 0">{img}'
                f'<figcaption style="font-size:0.9em">Figure {number}, with its full caption below.'
                "</figcaption></figure>"
            )
    return ""


def result_first(nb: dict) -> dict:
    """A copy of the executed notebook ``nb`` (its JSON) with the result cell after its first Markdown cell
    (any earlier one removed); unchanged where the page decided no paper claim (a skipped page)."""
    nb = copy.deepcopy(nb)
    nb["cells"] = [c for c in nb["cells"] if TAG not in c.get("metadata", {}).get("tags", [])]
    records = [r for _, group in _records(nb, "claims") for r in group]
    header = next((h for _, h in _records(nb, "header")), {})
    lines = verdict_lines(records, header.get("profile", ""))
    if not lines:
        return nb
    body = "".join(md_to_html(line) for line in lines) + _first_figure(nb)
    cell = dict(
        cell_type="code",
        execution_count=None,
        metadata=dict(tags=[TAG, "remove-input"]),
        source="# Written by the build: this page's verdicts and first figure, from below (result first)",
        outputs=[
            dict(
                output_type="display_data",
                data={"text/html": f'<div class="result-first">{body}</div>', "text/plain": "\n".join(lines)},
                metadata={META: dict(result_first=True)},
            )
        ],
    )
    if any("id" in c for c in nb["cells"]):  # nbformat 4.5 and later: every cell has an id
        cell["id"] = TAG
    at = next((i + 1 for i, c in enumerate(nb["cells"]) if c["cell_type"] == "markdown"), 0)
    nb["cells"].insert(at, cell)
    return nb
