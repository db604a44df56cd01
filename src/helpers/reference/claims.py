"""The claims a page checks, one record each (DESIGN.md, "Claims").

Each record says where the paper says it (paper, place, the sentence quoted from
:data:`helpers.reference.quotes.QUOTES`), its kind, the statistic and the test with its tolerance, the
evidence, and a verdict:

- **holds** / **does not hold**: the test's outcome on this run;
- **not testable here**: a stated precondition, computed on the run, failed (too few labels for
  the claim, a network below its accuracy floor, a confounded comparison), so the run cannot
  decide the claim either way; the reason is shown.

Kinds: a **paper claim** (a sentence of *mechanism* or *universal*), a **consistency check**
(our own arithmetic, true by construction when the code is right: shown, never counted as a
confirmation) and **this book's addition** (a check the papers do not state).

    claims.paper_claim("noise_falls_layer_by_layer__mechanism", "noise falls layer by layer", holds,
                       "L2: 19.6, L4: 18.3, ...", test="n[m+1] < n[m] for each consecutive pair",
                       requires=[claims.accuracy_floor(0.79, 0.94)])
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from helpers.reference.quotes import QUOTES

PAPER, CHECK, ADDITION = "paper claim", "consistency check", "this book's addition"
KINDS = (PAPER, CHECK, ADDITION)
HOLDS, FAILS, UNTESTABLE = "holds", "does not hold", "not testable here"
VERDICTS = (HOLDS, FAILS, UNTESTABLE)
FLOOR = 0.8  # a network below 0.8 of the paper's accuracy for the same experiment cannot test its claims


@dataclass(frozen=True)
class Precondition:
    """What a run must satisfy for a claim to be testable on it; ``reason`` says what failed."""

    ok: bool
    reason: str


@dataclass
class Claim:
    """One claim checked on one run."""

    claim: str
    kind: str
    verdict: str
    test: str
    evidence: str
    source: str = ""  # key of QUOTES
    reason: str = ""  # why it is not testable here
    network: str = (
        ""  # the cache keys of the trained networks the evidence reads, "+"-joined (see :func:`on`)
    )

    @property
    def where(self) -> str:
        if not self.source:
            return ""
        p, w, _ = QUOTES[self.source]
        return f"*{p}*, {w}"

    @property
    def quote(self) -> str:
        return QUOTES[self.source][2] if self.source else ""

    def record(self) -> dict:
        return dict(asdict(self), where=self.where, quote=self.quote)


def _claim(kind: str, source: str, claim: str, holds, evidence: str, test: str, requires=()) -> Claim:
    if source and source not in QUOTES:
        raise KeyError(f"no quoted sentence {source!r} in helpers.reference.quotes.QUOTES")
    failed = [r.reason for r in requires if not r.ok]
    if holds is None and not failed:
        failed = ["the statistic is undefined on this run"]
    if failed:
        return Claim(claim, kind, UNTESTABLE, test, evidence, source, "; ".join(failed))
    return Claim(claim, kind, HOLDS if bool(holds) else FAILS, test, evidence, source)


def paper_claim(source: str, claim: str, holds, evidence: str, *, test: str, requires=()) -> Claim:
    """A sentence of a paper (``source``, a key of :data:`helpers.reference.quotes.QUOTES`), tested on this
    run."""
    return _claim(PAPER, source, claim, holds, evidence, test, requires)


def consistency(claim: str, holds, evidence: str, *, test: str, source: str = "") -> Claim:
    """Our own arithmetic: true by construction when the code is right (shown, never a confirmation)."""
    return _claim(CHECK, source, claim, holds, evidence, test)


def addition(claim: str, holds, evidence: str, *, test: str, source: str = "", requires=()) -> Claim:
    """A check this book adds (the papers do not state it)."""
    return _claim(ADDITION, source, claim, holds, evidence, test, requires)


# --- preconditions, computed on the run ------------------------------------------------------------


def labels_at_least(N_l: int, needed: int, why: str) -> Precondition:
    """The claim needs ``needed`` labels (e.g. CIFAR-100's 100); ``why`` says what depends on it."""
    return Precondition(N_l >= needed, f"needs {needed} labels ({why}); this run has {N_l}")


def accuracy_floor(
    accuracy: float | None, paper_accuracy: float, what: str = "the network", fraction: float = FLOOR
) -> Precondition:
    """The run's network reaches ``fraction`` of the paper's accuracy for the same experiment: below it, the
    network is too far from the trained regime the claim describes."""
    floor = fraction * paper_accuracy
    if accuracy is None:
        return Precondition(False, f"{what}'s accuracy is unknown")
    return Precondition(
        accuracy >= floor,
        f"{what} reaches {accuracy:.3f}, below the floor {floor:.3f} "
        f"({fraction:g} of the paper's {paper_accuracy:g})",
    )


BUDGET = ("width", "epochs", "n_train", "input_size", "pretrained", "schedule")


def same_budget(a, b, names: tuple[str, str], epochs_ratio: float = 1.5) -> Precondition:
    """Two training configs compare as the paper compares them: the same width, training images, input size,
    initialization and learning-rate schedule, epochs within ``epochs_ratio`` of each other; else the
    comparison is confounded."""
    diff = [
        f"{k} {getattr(a, k)} vs {getattr(b, k)}"
        for k in BUDGET
        if k != "epochs" and getattr(a, k, None) != getattr(b, k, None)
    ]
    ea, eb = a.epochs, b.epochs
    if max(ea, eb) > epochs_ratio * min(ea, eb):
        diff.append(f"epochs {ea} vs {eb}")
    return Precondition(
        not diff, f"confounded: {names[0]} and {names[1]} were trained differently (" + ", ".join(diff) + ")"
    )


def beyond_spread(effect: float, spread: float | None, what: str) -> Precondition:
    """A trend measured over several trained networks is claimed only when it exceeds their spread (DESIGN.md,
    "Claims"): ``effect`` (e.g. the rise from the first layer to the last, of the means) against ``spread``
    (e.g. the two layers' standard deviations over seeds, summed); ``None`` (one network: no spread measured)
    passes."""
    if spread is None or spread != spread:
        return Precondition(True, "")
    return Precondition(
        abs(effect) > spread,
        f"{what} ({effect:+.3f}) is within the spread over the trained networks ({spread:.3f})",
    )


def same_under(outcomes: dict, what: str = "the probe's protocol") -> Precondition:
    """A test read from the probe decides its claim only when it has one outcome under every choice the
    papers leave open (``outcomes``: the test's outcome, True/False/None, under each studied choice; their
    L2 convention, the probe's epochs: bench/probe_protocol.py): outcomes that differ leave the claim not
    testable here, and the reason names them."""
    seen = {k: v for k, v in outcomes.items() if v is not None}
    side = {True: "holds", False: "does not"}
    parts = [f"{side[bool(v)]} with {k}" for k, v in seen.items()]
    return Precondition(len({bool(v) for v in seen.values()}) <= 1, f"{what} decides it: " + ", ".join(parts))


def at_least(count: int, needed: int, what: str) -> Precondition:
    return Precondition(count >= needed, f"needs at least {needed} {what}; this run has {count}")


EXPECTED_PER_LABEL = 5  # the chi-square approximation's usual rule: at least 5 expected counts per cell


def enough_slots(counts, what: str = "cluster slots") -> Precondition:
    """:func:`equal_shares` needs :data:`EXPECTED_PER_LABEL` expected counts per label: with fewer, the
    chi-square law is a poor approximation and the test cannot tell unequal appearances from sampling
    noise."""
    c = np.asarray(counts, float)
    total, k = int(c.sum()), len(c)
    return Precondition(
        k >= 2 and total >= EXPECTED_PER_LABEL * k,
        f"too few {what} to test equal appearances: {total} over {k} labels "
        f"({total / max(k, 1):.1f} each, the chi-square test needs {EXPECTED_PER_LABEL})",
    )


# --- tests shared by the figures ----------------------------------------------------------------------

TOL = 0.01  # "no loss of accuracy", "practically the same": within one percentage point
EACH = 0.9  # "each filter", "each one of the filters": at least 90% of the live filters (a tenth left to the
# threshold's and the cluster rule's edge cases; the paper prints N_c = 1, not 1.1, at layer 13)
MAJORITY = 0.5  # "most of the filters": more than half
ALPHA = 0.05  # a dispersion test's level: "holds" means no evidence against the sentence at 5%


def chi2_sf(x: float, df: int) -> float:
    """P(X >= x) for X chi-square with an integer ``df`` degrees of freedom, in closed form (no scipy): for
    even ``df`` the Poisson sum exp(-x/2) sum_{i < df/2} (x/2)^i / i!, for odd ``df`` erfc(sqrt(x/2)) plus
    sum_{1 <= i <= (df-1)/2} exp(-x/2) (x/2)^(i-1/2) / Gamma(i+1/2); terms in logs, so large ``x`` underflows
    to 0 instead of overflowing."""
    if df < 1:
        raise ValueError(f"df must be >= 1, got {df}")
    if x <= 0:
        return 1.0
    h = x / 2
    if df % 2 == 0:
        i = np.arange(df // 2, dtype=float)
        head, a = 0.0, i
    else:
        i = np.arange(1, (df - 1) // 2 + 1, dtype=float)
        head, a = math.erfc(math.sqrt(h)), i - 0.5
    logs = a * math.log(h) - h - np.array([math.lgamma(v + 1) for v in a])
    return float(min(1.0, head + np.exp(logs).sum()))


def equal_shares(counts) -> tuple[float, float]:
    """Pearson's chi-square of label counts against equal shares (each label expected total / N_l times), and
    its p-value with N_l - 1 degrees of freedom: a small p is evidence that the labels do not appear equally
    often. Counts of labels drawn without repeats inside a cluster vary a little less than multinomial ones,
    so the test is conservative for cluster appearances (*mechanism* Fig. 5B)."""
    c = np.asarray(counts, float)
    e = c.sum() / len(c)
    stat = float(((c - e) ** 2).sum() / e) if e > 0 else float("inf")
    return stat, chi2_sf(stat, len(c) - 1) if e > 0 else 0.0


def rises(values, tol: float = TOL, exceptions: int = 0) -> bool | None:
    """Each value at least the one before it, up to ``tol``, with at most ``exceptions`` pairs excepted
    (``None``, undecided, for fewer than two values)."""
    v = list(values)
    return None if len(v) < 2 else sum(b < a - tol for a, b in zip(v, v[1:])) <= exceptions


def falls(values, exceptions: int = 0) -> bool | None:
    """Each value strictly below the one before it (layer by layer), at most ``exceptions`` pairs excepted
    (``None`` for fewer than two values)."""
    v = list(values)
    return None if len(v) < 2 else sum(b >= a for a, b in zip(v, v[1:])) <= exceptions


def falls_over(labels, mean, std=None, exceptions: int = 0) -> tuple[bool | None, list[Precondition]]:
    """:func:`falls` on per-layer means over several trained networks, decided only beyond their spread
    (DESIGN.md, "Claims"): a step whose mean rises by more than the two layers' standard deviations summed is
    against the claim (more than ``exceptions`` such steps: it fails); a step that does not fall by more than
    that spread cannot be told from seed noise, which leaves the claim not testable here (the precondition
    says which steps). ``std`` ``None`` (one network): the plain :func:`falls`, no precondition."""
    m = np.asarray(mean, float)
    if std is None:
        return falls(m, exceptions), []
    if len(m) < 2:
        return None, []
    sd, lab = np.nan_to_num(np.asarray(std, float)), [str(x) for x in labels]
    step, spread = m[1:] - m[:-1], sd[:-1] + sd[1:]
    against = step > spread
    if against.sum() > exceptions:
        return False, []
    within = [
        f"{a}->{b} falls {-d:.3g}, within the spread {w:.3g}"
        for a, b, d, w, x in zip(lab, lab[1:], step, spread, against)
        if not x and d >= -w
    ]
    return True, [Precondition(len(within) + int(against.sum()) <= exceptions, "; ".join(within))]


def rises_over(
    labels, mean, std=None, tol: float = TOL, exceptions: int = 0
) -> tuple[bool | None, list[Precondition]]:
    """:func:`rises` on per-layer means over several trained networks, decided only beyond their spread: a
    step whose mean drops by more than ``tol`` plus the two layers' standard deviations is against the claim
    (more than ``exceptions``: it fails); a drop beyond ``tol`` but within that spread, or a first-to-last
    rise within the first and last layers' spread, leaves it not testable here. ``std`` ``None``: the plain
    :func:`rises`."""
    m = np.asarray(mean, float)
    if std is None:
        return rises(m, tol, exceptions), []
    if len(m) < 2:
        return None, []
    sd, lab = np.nan_to_num(np.asarray(std, float)), [str(x) for x in labels]
    drop, spread = m[:-1] - m[1:], sd[:-1] + sd[1:]
    against = drop > tol + spread
    if against.sum() > exceptions:
        return False, []
    within = [
        f"{a}->{b} falls {d:.3g}, within the spread {w:.3g}"
        for a, b, d, w, x in zip(lab, lab[1:], drop, spread, against)
        if d > tol and not x
    ]
    ok = len(within) + int(against.sum()) <= exceptions
    return True, [
        Precondition(ok, "; ".join(within)),
        beyond_spread(m[-1] - m[0], float(sd[0] + sd[-1]), "the rise from the first layer to the last"),
    ]


def mean_sd(values) -> tuple[float | None, float | None, int]:
    """Mean and sample standard deviation of one quantity over several trained networks (std ``None`` for
    fewer than two), and their count; a NaN (a network where it is unknown) is left out."""
    v = pd.Series(values, dtype=float).dropna()
    if not len(v):
        return None, None, 0
    return float(v.mean()), (float(v.std(ddof=1)) if len(v) > 1 else None), len(v)


def spread_of(*sds: float | None) -> float | None:
    """The spread a comparison of several models' means must beat: their standard deviations over seeds
    summed (``None`` where none was measured: one network each)."""
    known = [x for x in sds if x is not None]
    return float(sum(known)) if known else None


def saturation_index(accuracy, tol: float = TOL) -> int:
    """Index of the first layer (shallow to deep) whose accuracy is within ``tol`` of the best: where the
    accuracy saturates (*universal*: "saturated at m = 10")."""
    a = list(accuracy)
    best = max(a)
    return next(i for i, x in enumerate(a) if x >= best - tol)


def series(labels, values, fmt: str = "{:.3g}") -> str:
    return ", ".join(f"{label}: {fmt.format(v)}" for label, v in zip(labels, values))


# --- display --------------------------------------------------------------------------------------------


def frame(claims: list[Claim]) -> pd.DataFrame:
    """The claims as a table: claim, kind, verdict (with its reason), test, evidence, the paper's sentence."""
    rows = []
    for c in claims:
        verdict = c.verdict + (f" ({c.reason})" if c.reason else "")
        said = f"{c.where}: “{c.quote}”" if c.source else ""
        rows.append(
            dict(claim=c.claim, kind=c.kind, verdict=verdict, test=c.test, evidence=c.evidence, paper=said)
        )
    return pd.DataFrame(rows, columns=["claim", "kind", "verdict", "test", "evidence", "paper"])


def counts(records: list[dict]) -> dict[str, dict[str, int]]:
    """Verdicts counted per kind: ``{kind: {verdict: n}}``."""
    out = {k: {v: 0 for v in VERDICTS} for k in KINDS}
    for r in records:
        if r.get("kind") in out and r.get("verdict") in VERDICTS:
            out[r["kind"]][r["verdict"]] += 1
    return out


# --- one claim on one network, whichever pages show it -------------------------------------------------


def on(network, records: list[Claim] | None) -> list[Claim] | None:
    """``records`` marked as read from ``network`` (a run key or several; a record already marked keeps its
    own): the networks the evidence names, so that the ledger counts a claim tested on the same networks with
    the same evidence once, whichever pages show it (:func:`identity`)."""
    keys = [network] if isinstance(network, str) else list(network or ())
    mark = "+".join(sorted({k for k in keys if k}))
    for r in records or ():
        r.network = r.network or mark
    return records


_CONTEXT = re.compile(r"^K = \d+: ")  # the K-sweep pages' prefix of a layer claim at their largest K


def identity(record: dict) -> tuple:
    """What makes two records of the ledger one claim: the paper's sentence (the quote key), the statement
    (without the K-sweep pages' "K = n: " prefix: the largest K of CIFAR-10's sweep is Table 1's stand-in
    network), the networks the evidence reads, the evidence itself (the same numbers, so the same test; two
    pages testing one sentence on different layers of one network stay two) and the verdict (two pages that
    decide it differently both count). A record that names no network is its own."""
    if not record.get("network"):
        return ("page", record.get("page"), id(record))
    statement = _CONTEXT.sub("", str(record.get("claim", "")))
    return (
        record.get("source"),
        statement,
        record["network"],
        record.get("evidence"),
        record.get("verdict"),
    )


def unique(records: list[dict]) -> list[dict]:
    """``records`` without repeats (:func:`identity`): the first of each claim on each network, in order."""
    seen, out = set(), []
    for r in records:
        k = identity(r)
        if k not in seen:
            seen.add(k)
            out.append(r)
    return out
