"""Where scale takes each paper claim that does not hold: the overview's section on the scale record.

A claim that does not hold at a reduced profile is either wrong, or right and out of reach at this scale. The
scale record (``python -m helpers scale run``, :mod:`helpers.figures.scale_verdicts`) fits each statistic of
each tap of VGG-16 as a power law in the filters per layer (Tevet et al., *Physica A* 635:129513 (2024),
doi:10.1016/j.physa.2024.129513) and in the epochs. Here each failing paper claim is given the direction of
the statistic its sentence names (:func:`statistic_of`: SNR_E, N_c, C_s, the noise n or the accuracy; at the
layer it names, else at layer 13, the whole network's error for an accuracy without a layer), in the words
of :func:`helpers.method.powerlaw.wording`: heading to the paper's value (and at what width), flat, or moving
away. The verdict itself stays one of the three; the direction is read beside it, and is the statistic's, not
a re-test of the sentence (a trend over layers is not a single layer's value).
"""

from __future__ import annotations

import re

import pandas as pd

from helpers.figures import scale_verdicts as sv
from helpers.method import powerlaw
from helpers.reference.claims import FAILS, unique

# the words of a claim's sentence -> the statistic it is about, the first match wins
KEYWORDS = (
    ("snr", "SNR_E"),
    ("n_c", "N_c"),
    ("clusters per filter", "N_c"),
    ("one cluster", "N_c"),
    ("c_s", "C_s"),
    ("size", "C_s"),
    ("noise", "n"),
)
# sentences about another network than the ladder's VGG-16, or about the number of labels K: no direction here
OTHER = re.compile(r"vgg-6|avgg|efficientnet|resnet|mobilenet|\bstages?\b|\bk\b|each label")
# the direction's words for a sentence the ladder cannot speak to
OFF_LADDER = "not on the ladder (another network than its VGG-16, or no statistic of the ladder)"
_LAYER = re.compile(r"\blayer[- ](\d+)\b")
_LAYERS = re.compile(r"\blayers?[- ](\d+(?:\s+and\s+\d+)*)\b")  # "layer 7", "layers 8 and 11"
_N = re.compile(r"(^|[\s(])n([\s,)]|$)")  # the noise per filter written as n


def statistic_of(claim: str) -> tuple[str, str] | None:
    """``(statistic, tap)`` that the sentence ``claim`` names, or ``None`` where it names none of them or is
    about another network, the label count (:data:`OTHER`) or a layer the ladder does not read."""
    text = claim.lower()
    if OTHER.search(text):
        return None
    stat = next((s for word, s in KEYWORDS if word in text), None)
    if stat is None:
        stat = "n" if _N.search(claim) else "error" if "accura" in text else None
    if stat is None:
        return None
    named = {n for g in _LAYERS.findall(text) for n in re.findall(r"\d+", g)}
    if named - set(sv.PAPER_N_F):  # a layer the ladder does not read (e.g. 8 and 11, after a max pooling)
        return None
    layer = _LAYER.search(text)
    tap = layer.group(1) if layer and layer.group(1) in sv.PAPER_N_F else None
    return stat, tap or (sv.NETWORK if stat == "error" else sv.DEEPEST)


def directions(failing: list[dict], fit: pd.DataFrame | None) -> pd.DataFrame:
    """Per failing claim record: the statistic and tap it names, and its direction with the width and with
    the budget (the fits' wording; "scale not measured" without a record or a fit)."""
    rows = [] if fit is None else fit.set_index(["ladder", "tap", "statistic"])
    out = []
    for c in failing:
        found = statistic_of(c.get("claim") or "")
        row = dict(claim=c.get("claim"), statistic=None, tap=None)
        for ladder in sv.AXES:
            key = None if found is None else (ladder, found[1], found[0])
            hit = fit is not None and key is not None and key in rows.index
            row[ladder] = rows.loc[key, "direction"] if hit else powerlaw.UNKNOWN
            row[f"{ladder} words"] = (
                rows.loc[key, "wording"]
                if hit
                else OFF_LADDER
                if found is None
                else powerlaw.wording(powerlaw.UNKNOWN, 0, "")
            )
        if found is not None:
            row.update(statistic=found[0], tap=found[1])
        out.append(row)
    return pd.DataFrame(
        out, columns=["claim", "statistic", "tap", "width", "width words", "budget", "budget words"]
    )


def section(paper_claims: list[tuple[str, str, dict]], path=None) -> list[str]:
    """The overview's lines: each paper claim that does not hold (each on each network once), its statistic
    and its direction with width and budget, and the count of each direction with the width."""
    failing = unique([c for _, _, c in paper_claims if c.get("verdict") == FAILS])
    frame = sv.load(path)
    t = directions(failing, sv.fits(frame))
    where = (
        "no scale record yet (`python -m helpers scale run` writes `results/scale.json`)"
        if frame is None
        else f"the scale record ({frame.attrs['points']} networks of the `{frame.attrs['profile']}` ladder, "
        f"measured {', '.join(frame.attrs['dates'][:1])}; {{doc}}`the scale page <scale-verdicts>`)"
    )
    lines = [
        "## Where scale takes the claims that do not hold",
        "",
        f"From {where}: the direction of the statistic each sentence names, with the width and with the "
        "training budget. The verdicts above stay as they are.",
        "",
        "| claim | statistic | with width | with budget |",
        "| --- | --- | --- | --- |",
    ]
    for r in t.itertuples():
        stat = "–" if pd.isna(r.statistic) else f"{r.statistic} at {sv.tap_name(r.tap)}"
        lines.append(
            f"| {r.claim} | {stat} | {t.loc[r.Index, 'width words']} | {t.loc[r.Index, 'budget words']} |"
        )
    counts = t["width"].value_counts()
    named = (powerlaw.TOWARDS, powerlaw.FLAT, powerlaw.AWAY, powerlaw.UNKNOWN)
    lines += [
        "",
        f"Of the {len(t)} paper claims that do not hold, with the width: "
        + ", ".join(f"{int(counts.get(d, 0))} {d}" for d in named)
        + ".",
        "",
    ]
    return lines
