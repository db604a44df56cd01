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

from dataclasses import asdict, dataclass

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


def at_least(count: int, needed: int, what: str) -> Precondition:
    return Precondition(count >= needed, f"needs at least {needed} {what}; this run has {count}")


# --- tests shared by the figures ----------------------------------------------------------------------

TOL = 0.01  # "no loss of accuracy", "practically the same": within one percentage point


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
