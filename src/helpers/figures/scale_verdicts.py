"""How the verdicts move with scale: the width and budget ladders of VGG-16, their power laws (issue 36).

A claim that does not hold at the ``cpu`` profile (VGG-16 at width 0.25, 6 epochs: 128 filters at layer 13
where the paper has 512) may be wrong, or right and out of this machine's reach. The group measured how these
quantities scale: Tevet et al., *Physica A* 635:129513 (2024), doi:10.1016/j.physa.2024.129513, "by
increasing the relative number of filters per layer ... the error rates decay as a power law", and the
"average noise per filter also decays ... as a power law with an increasing number of filters per layer"
(LeNet-3, VGG-5, VGG-16 on CIFAR-100); Meir et al., *Sci. Rep.* 13:5423 (2023), the error against the first
layer's filters. This page reads the record of ``python -m helpers scale run``
(:mod:`helpers.figures.scale_record`) and, per tap of *mechanism* Fig. 2 and statistic (the probe's error,
n, N_c, C_s, SNR_E of *universal* Eq. (4)), fits a power law against the number of filters N_f (the width
ladder, at the ladder's base budget) and against the epochs (the budget ladder, at its base width)
(:mod:`helpers.method.powerlaw`), with the paper's value (*universal* Table 6, K = 10) as the target and the
scale at which the fit would reach it; then places the current build's own networks in the record's spread.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from helpers.figures import scale_record as rec
from helpers.figures.steps import skippable
from helpers.method import powerlaw
from helpers.reference import claims
from helpers.reference import printed as paper

STATISTICS = ("error", "n", "N_c", "C_s", "SNR_E")  # error: 1 - the probe's test accuracy at the tap
AXES = {"width": "N_f", "budget": "epochs"}  # the ladder -> its x
NETWORK = "network"  # the whole network's error, as a tap of its own (x: layer 13's N_f)
DEEPEST = "13"
# A build's statistic counts as inside the record's spread within this relative margin of the record's range
# over seeds: the papers' SGD probe moves n, N_c and C_s by up to 10% between two seeds of the probe alone
# (bench/README.md, probe_solvers.py)
MARGIN = 0.10
PAPER_N_F = {"2": 64, "4": 128, "7": 256, "10": 512, "13": 512, NETWORK: 512}  # VGG-16 at width 1 (Fig. 2)


def load(path=None) -> pd.DataFrame | None:
    """The record at ``path`` (default ``results/scale.json``) as one row per (point, tap), with the error
    (1 - accuracy) and a row per point for the whole network (tap :data:`NETWORK`); ``attrs``: the path, the
    ladder's profile (:func:`ladder_profile`), its points, dates, machines and commits. ``None`` without a
    record."""
    path = path or rec.default_path()
    record = rec.read(path)
    frame = rec.frame(record)
    if frame is None:
        return None
    profile = ladder_profile(frame)
    frame = frame[frame["profile"] == profile].copy()
    frame["error"] = 1 - frame["accuracy"]
    deep = frame[frame["tap"] == DEEPEST]
    net = deep.assign(tap=NETWORK, error=1 - deep["network"], accuracy=deep["network"])
    net[["n", "N_c", "C_s", "SNR_E", "signal", "noise_E"]] = np.nan
    frame = pd.concat([frame, net], ignore_index=True)
    points = [p for p in record["points"] if p["profile"] == profile]
    frame.attrs.update(
        path=str(path),
        profile=profile,
        points=len(points),
        dates=sorted({p["provenance"]["date"] for p in points}),
        machines=sorted({p["provenance"]["machine"] for p in points}),
        devices=sorted({p["provenance"]["device"] for p in points}),
        commits=sorted({(p["provenance"]["commit"] or "")[:10] for p in points}),
        minutes={
            rec.label(p["width"], p["epochs"], p["seed"]): p["provenance"]["point_minutes"] for p in points
        },
        speeds=sorted({p["provenance"]["speed_img_s"] for p in points if p["provenance"]["speed_img_s"]}),
    )
    return frame


def ladder_profile(frame: pd.DataFrame) -> str:
    """The profile whose ladder the page shows: ``cpu`` where the record has it, else the one with most
    points (a generated record at ``smoke``)."""
    counts = frame.drop_duplicates("id")["profile"].value_counts()
    return "cpu" if "cpu" in counts.index else str(counts.index[0])


def bases(frame: pd.DataFrame) -> tuple[int, float]:
    """The ladders' base budget and width: the epochs and the width the most points share (6 and 0.25 for
    the ``cpu`` ladder), the width ladder's points all at that budget, the budget ladder's at that width."""
    points = frame.drop_duplicates("id")
    return int(points["epochs"].mode().iloc[0]), float(points["width"].mode().iloc[0])


def ladder(frame: pd.DataFrame, axis: str) -> pd.DataFrame:
    """The rows of one ladder: ``width`` (every width at the base budget) or ``budget`` (every budget at the
    base width)."""
    epochs0, width0 = bases(frame)
    return frame[frame["epochs"] == epochs0] if axis == "width" else frame[frame["width"] == width0]


def targets(N_l: int = 10) -> pd.DataFrame:
    """The paper's value of each statistic per tap (*universal* Table 6, K = 10, *mechanism*'s VGG-16): error
    = 1 - accuracy, SNR_E = C_s N_c N_l / n (Eq. 4), and the whole network's error (0.94's complement)."""
    ref = paper.per_layer("vgg16", N_l).copy()
    ref["error"] = 1 - ref["accuracy"]
    ref["SNR_E"] = ref["C_s"] * ref["N_c"] * N_l / ref["n"]
    ref.loc[NETWORK] = np.nan
    ref.loc[NETWORK, "error"] = 1 - float(paper.MECHANISM["vgg16"]["accuracy"])
    return ref[list(STATISTICS)]


@skippable
def fits(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """Per ladder, tap and statistic: the power law ``y = A x^b`` (:func:`helpers.method.powerlaw.fit`; x the
    tap's N_f, or the epochs), its exponent ``-b`` with its standard error, the fitted value at the ladder's
    largest point, the paper's value, the direction (:func:`helpers.method.powerlaw.direction`) and, where it
    heads towards the paper's value, where the fit would reach it (in N_f or epochs, and for the width ladder
    as a width multiplier, the paper's being 1)."""
    ref, rows = targets(), []
    for axis, xname in AXES.items():
        t = ladder(frame, axis)
        for tap, g in t.groupby("tap", sort=False):
            for s in STATISTICS:
                if g[s].notna().any():
                    rows.append(_fit_row(axis, tap, s, g, xname, float(ref.loc[tap, s])))
    return pd.DataFrame(rows)


def _fit_row(axis: str, tap: str, s: str, g: pd.DataFrame, xname: str, target: float) -> dict:
    """One row of :func:`fits`."""
    x = (g["N_f"] if tap != NETWORK else g["width"] * PAPER_N_F[NETWORK]) if axis == "width" else g[xname]
    law = powerlaw.fit(x.to_numpy(float), g[s].to_numpy(float))
    d = powerlaw.direction(law, target) if math.isfinite(target) else powerlaw.UNKNOWN
    # where the law reaches the paper's value: ahead of the ladder only when it heads there
    at, lo, hi = powerlaw.reach(law, target) if d == powerlaw.TOWARDS else (math.nan,) * 3
    per_width = float((x / g["width"]).iloc[0]) if axis == "width" else math.nan  # N_f at width 1
    return dict(
        ladder=axis,
        tap=tap,
        statistic=s,
        points=0 if law is None else law.n,
        exponent=math.nan if law is None else law.exponent,
        se=math.nan if law is None else law.se,
        largest=math.nan if law is None else float(law.at(law.x_range[1])),
        paper=target,
        direction=d,
        reach=at,
        reach_low=lo,
        reach_high=hi,
        reach_width=at / per_width if axis == "width" else math.nan,
        wording=powerlaw.wording(d, at, "filters per layer" if axis == "width" else "epochs"),
    )


@skippable
def headline(fit: pd.DataFrame | None) -> pd.DataFrame | None:
    """Tevet et al.'s headline form on this record: the exponent rho of ``error ~ N_f^-rho`` (the network's
    and each tap's probe) and of ``n ~ N_f^-rho`` per tap, with its standard error, on CIFAR-10 (theirs:
    CIFAR-100, LeNet-3, VGG-5, VGG-16)."""
    t = fit[(fit["ladder"] == "width") & fit["statistic"].isin(["error", "n"])]
    return pd.DataFrame(
        {
            "quantity": [
                f"{'error' if s == 'error' else 'noise per filter n'}, {tap_name(tap)}"
                for tap, s in zip(t["tap"], t["statistic"])
            ],
            "rho (y ~ N_f^-rho)": t["exponent"].round(3).to_numpy(),
            "standard error": t["se"].round(3).to_numpy(),
            "networks": t["points"].to_numpy(),
        }
    )


def tap_name(tap: str) -> str:
    """How a tap is named in a table: ``layer 13``, or the whole network."""
    return "the whole network (x: layer 13's N_f)" if tap == NETWORK else f"layer {tap}"


@skippable
def directions(fit: pd.DataFrame | None) -> pd.DataFrame | None:
    """The direction of each statistic with scale, where it differs from the paper: per tap and statistic,
    the width and budget ladders side by side, in the words a failing claim carries."""
    t = fit.assign(where=fit["tap"].map(tap_name))
    wide = t.pivot_table(index=["where", "statistic"], columns="ladder", values="wording", aggfunc="first")
    return wide.reset_index().rename(columns={"width": "with width", "budget": "with budget"})


@skippable
def provenance_note(frame: pd.DataFrame | None) -> str:
    """Where and when the record was measured, and how to rerun it."""
    a = frame.attrs
    minutes = ", ".join(f"{k} {v:.0f} min" for k, v in a["minutes"].items())
    speeds = ", ".join(f"{s:.0f}" for s in a["speeds"])
    return (
        f"The record `{a['path']}`: {a['points']} networks of the `{a['profile']}` ladder, measured "
        f"{' to '.join(sorted({a['dates'][0], a['dates'][-1]}))} on {'; '.join(a['machines'])} (device: "
        f"{'; '.join(a['devices'])}), code at commit {', '.join(a['commits'])}. Minutes per point (training, "
        f"or loading a cached network, and the analysis): {minutes}; the hour's speed, VGG-16 at width 0.25: "
        f"{speeds} images/s. Rerun: `python -m helpers scale run` (`--points w1-e6-s0 ...` on a GPU; "
        "finished points are kept; `helpers plan --profile paper --only scale-verdicts` lists the ladder)."
    )


# --- the current build's own networks beside the record -----------------------------------------------------


@skippable
def build_tables(page) -> pd.DataFrame | None:
    """The page's own networks (the profile's VGG-16, one per seed: at ``cpu`` the book's, shared with Fig.
    2), analysed at Fig. 2's taps as the record's points are, one row per (seed, tap)."""
    frames = []
    for s in range(page.seeds):
        run, t = page.run(seed=s), page.study(seed=s).table()
        frames.append(t.assign(seed=s, network=run.test_acc, run_key=run.key))
    out = pd.concat(frames, ignore_index=True)
    out["error"] = 1 - out["accuracy"]
    out.attrs.update(width=page.config.width, epochs=page.config.epochs, profile=page.profile)
    return out


def build_frame(build: pd.DataFrame | None) -> pd.DataFrame | None:
    """The build's own networks in the record's shape (:func:`load`), for a page without a record: one point
    per seed at the build's width and budget, the whole network's error as tap :data:`NETWORK`."""
    if build is None:
        return None
    a = build.attrs
    t = build.assign(width=a["width"], epochs=a["epochs"], profile=a["profile"], id=build["seed"].astype(str))
    deep = t[t["tap"] == DEEPEST]
    net = deep.assign(tap=NETWORK, error=1 - deep["network"], accuracy=deep["network"])
    net[["n", "N_c", "C_s", "SNR_E"]] = np.nan
    out = pd.concat([t, net], ignore_index=True)
    out.attrs.update(points=int(t["seed"].nunique()), source="this build's own networks (no scale record)")
    return out


@skippable("build")
def overlay(build: pd.DataFrame | None, frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """Each statistic of the build's networks beside the record's points of the same recipe (profile, width,
    epochs): the record's range over its seeds and whether the build falls inside it (within :data:`MARGIN`
    of the range, relative); ``inside`` is ``None`` where the record has no point of this recipe."""
    a = build.attrs
    same = (
        None
        if frame is None
        else frame[
            (frame["profile"] == a["profile"])
            & (frame["width"] == a["width"])
            & (frame["epochs"] == a["epochs"])
        ]
    )
    rows = []
    for tap, g in build.groupby("tap", sort=False):
        r = None if same is None else same[same["tap"] == tap]
        for s in ("accuracy", "n", "N_c", "C_s", "SNR_E"):
            lo, hi = (math.nan, math.nan) if r is None or r.empty else (float(r[s].min()), float(r[s].max()))
            pad = MARGIN * max(abs(lo), abs(hi)) if math.isfinite(lo) else math.nan
            inside = None if not math.isfinite(lo) else bool(g[s].between(lo - pad, hi + pad).all())
            rows.append(
                dict(
                    tap=tap,
                    statistic=s,
                    build=float(g[s].mean()),
                    record_low=lo,
                    record_high=hi,
                    inside=inside,
                )
            )
    out = pd.DataFrame(rows)
    out.attrs.update(a, record_points=0 if same is None else same["id"].nunique())
    return out


def overlay_note(table: pd.DataFrame | None) -> str:
    """A line saying whether the build falls inside the record's spread, and which statistics do not."""
    if table is None:
        return ""
    if table["inside"].isna().all():
        return (
            f"The record has no point at this build's recipe (`{table.attrs['profile']}`, width "
            f"{table.attrs['width']:g}, {table.attrs['epochs']} epochs): nothing to place it against."
        )
    out = table[table["inside"] == False]  # noqa: E712 (None is "no record")
    if out.empty:
        return "This build's networks fall inside the record's spread at every tap and statistic."
    where = ", ".join(f"{s} at layer {t}" for t, s in zip(out["tap"], out["statistic"]))
    return (
        f"**This build falls outside the record's spread** ({where}): the code or the data changed since "
        "the record was measured, or the hour's arithmetic differs; rerun `python -m helpers scale run`."
    )


def compare_scale(build: pd.DataFrame | None) -> list[tuple]:
    """The paper's values at layer 13 and the network's error beside this build's (mean over its seeds;
    ``None`` on a skipped page)."""
    ref = targets()
    deep = None if build is None else build[build["tap"] == DEEPEST]
    rows = [
        (f"{s}, layer {DEEPEST}", float(ref.loc[DEEPEST, s]), None if deep is None else float(deep[s].mean()))
        for s in STATISTICS
    ]
    mine = None if build is None else float(1 - build.drop_duplicates("seed")["network"].mean())
    return rows + [("error of the whole network", float(ref.loc[NETWORK, "error"]), mine)]


def claims_scale(fit: pd.DataFrame | None, table: pd.DataFrame | None = None) -> list[claims.Claim]:
    """This book's additions: at layer 13 and for the whole network's error, each statistic moves towards the
    paper's value as the width grows (a power law over the width ladder whose slope is beyond Student's t
    quantile, :func:`helpers.method.powerlaw.t_quantile`, times its standard error, and points to the paper's
    side); not testable without a record, or where the fit is flat within its uncertainty or has fewer than
    3 widths. And a check: the build's own networks fall inside the record's spread."""
    wanted = [(DEEPEST, s) for s in STATISTICS] + [(NETWORK, "error")]
    rows = (
        {} if fit is None else {(r.tap, r.statistic): r for r in fit[fit["ladder"] == "width"].itertuples()}
    )
    out = [_width_claim(tap, s, rows.get((tap, s))) for tap, s in wanted]
    inside = None if table is None else table["inside"].dropna()
    out.append(
        claims.addition(
            "this build's networks fall inside the scale record's spread",
            bool(inside.all()) if inside is not None and len(inside) else None,
            overlay_note(table) or "no record, or no network of this build",
            test=f"every statistic within the record's range over seeds, +- {MARGIN:.0%} of it",
            requires=[
                claims.at_least(
                    0 if table is None else table.attrs.get("record_points", 0),
                    1,
                    "record points at this recipe",
                )
            ],
        )
    )
    return out


def _width_claim(tap: str, s: str, r) -> claims.Claim:
    """One claim of :func:`claims_scale` from its row of :func:`fits` (``None``: no record)."""
    name = f"{s} at {tap_name(tap)} moves towards the paper's value with the width"
    test = "log-log slope beyond the 95% t quantile times its standard error, towards the paper"
    if r is None:
        no = claims.Precondition(False, "no scale record (python -m helpers scale run writes it)")
        return claims.addition(name, None, "no record", test=test, requires=[no])
    return claims.addition(
        name,
        {powerlaw.TOWARDS: True, powerlaw.AWAY: False}.get(r.direction),
        f"exponent {r.exponent:.3g} +- {r.se:.2g} over {r.points} networks; fitted {r.largest:.3g} at the "
        f"widest, paper {r.paper:.3g}; {r.wording}",
        test=test,
        requires=[
            claims.Precondition(
                r.direction not in (powerlaw.FLAT, powerlaw.UNKNOWN), f"the fit is {r.direction}"
            )
        ],
    )
