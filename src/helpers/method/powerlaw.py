"""Power laws in scale and the direction a statistic moves: the fits of the scale page (issue 36).

Tevet et al., *Physica A* 635:129513 (2024), doi:10.1016/j.physa.2024.129513, report that the test error and
the average noise per filter (*mechanism*'s n) of LeNet-3, VGG-5 and VGG-16 on CIFAR-100 fall as power laws in
the number of filters per layer, ``y = A N_f^-rho``, with a larger noise exponent for deeper networks; Meir et
al., *Sci. Rep.* 13:5423 (2023), the same for the error against the first layer's filters. Here a power law
``y = A x^b`` is fitted by least squares on ``log y`` against ``log x`` (:func:`fit`), with the slope's
standard error; :func:`reach` is the ``x`` at which the fitted law would reach a target (the paper's value),
and :func:`direction` says whether a statistic moves towards that target as ``x`` (filters per layer, or
epochs of training) grows, stays flat, or moves away, by a tolerance on the slope's uncertainty.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# a slope is "not flat" when it is beyond the two-sided 95% quantile of Student's t at the fit's degrees of
# freedom times its standard error (12.7 at 1 degree of freedom, 4.30 at 2, 2.78 at 4, towards 1.96)
LEVEL = 0.95
TOWARDS, AWAY, FLAT, UNKNOWN = "towards the paper", "away from the paper", "flat", "not measured"


@dataclass(frozen=True)
class PowerLaw:
    """``y = A x^slope`` fitted on ``n`` points (``distinct`` values of x): ``log_A``, the slope and its
    standard error ``se`` (NaN with fewer than 3 distinct x), and the residuals' spread in log y."""

    log_A: float
    slope: float
    se: float
    n: int
    distinct: int
    x_range: tuple[float, float]

    def at(self, x) -> np.ndarray:
        """The fitted law at ``x``."""
        return np.exp(self.log_A + self.slope * np.log(np.asarray(x, dtype=float)))

    @property
    def exponent(self) -> float:
        """Tevet et al.'s exponent rho of ``y ~ x^-rho``: minus the slope."""
        return -self.slope


def fit(x, y) -> PowerLaw | None:
    """Least squares of ``log y`` on ``log x`` over the points where both are positive and finite (``None``
    with fewer than 2 distinct x). The slope's standard error is the usual ``sqrt(s^2 / Sxx)`` with ``s^2``
    the residual variance on ``n - 2`` degrees of freedom (NaN where ``n = 2`` or all x are two values, one
    point each)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    lx, ly = np.log(x[ok]), np.log(y[ok])
    distinct = len(np.unique(lx))
    if distinct < 2:
        return None
    sxx = float(((lx - lx.mean()) ** 2).sum())
    slope = float(((lx - lx.mean()) * (ly - ly.mean())).sum() / sxx)
    log_A = float(ly.mean() - slope * lx.mean())
    dof = len(lx) - 2
    resid = ly - (log_A + slope * lx)
    se = math.sqrt(float((resid**2).sum()) / dof / sxx) if dof > 0 and distinct >= 3 else math.nan
    return PowerLaw(log_A, slope, se, int(len(lx)), distinct, (float(x[ok].min()), float(x[ok].max())))


def reach(law: PowerLaw, target: float) -> tuple[float, float, float]:
    """The ``x`` at which ``law`` reaches ``target``, with the range from the slope +- one standard error
    (the fit's pivot at the mean log x): ``(x, low, high)``; ``inf`` where the law never gets there (slope
    0 or of the wrong sign for that bound)."""
    if not (target > 0) or law is None:
        return (math.nan, math.nan, math.nan)
    lx0 = 0.5 * (math.log(law.x_range[0]) + math.log(law.x_range[1]))
    ly0 = law.log_A + law.slope * lx0

    def solve(b):
        if not math.isfinite(b) or b == 0:
            return math.inf
        lx = lx0 + (math.log(target) - ly0) / b
        return math.exp(lx) if lx < 700 else math.inf

    se = law.se if math.isfinite(law.se) else 0.0
    ends = sorted(solve(law.slope + d) for d in (-se, se))
    return (solve(law.slope), ends[0], ends[1])


def t_quantile(dof: int, level: float = LEVEL) -> float:
    """The two-sided ``level`` quantile of Student's t with ``dof`` degrees of freedom: the ``t`` with
    ``P(|T| <= t) = level``, from the density integrated numerically (no SciPy here)."""
    grid = np.linspace(0.0, 400.0, 400_001)
    log_c = math.lgamma((dof + 1) / 2) - math.lgamma(dof / 2) - 0.5 * math.log(dof * math.pi)
    pdf = np.exp(log_c - (dof + 1) / 2 * np.log1p(grid**2 / dof))
    cdf = np.concatenate([[0.0], np.cumsum((pdf[1:] + pdf[:-1]) / 2 * np.diff(grid))])  # P(0 <= T <= t)
    return float(np.interp(level / 2, cdf, grid))


def direction(law: PowerLaw | None, target: float, *, level: float = LEVEL) -> str:
    """Where scale takes a statistic, judged against the paper's ``target``:

    - :data:`UNKNOWN` with fewer than 3 distinct x (no uncertainty to judge by);
    - :data:`FLAT` when the slope is within :func:`t_quantile` (at the fit's ``n - 2`` degrees of freedom)
      standard errors of 0: no direction at the ``level`` of confidence;
    - :data:`TOWARDS` when the law, at the largest x measured, is on the side of the target it moves to
      (the slope's sign is the sign of ``log target - log y``), else :data:`AWAY`.
    """
    if law is None or law.distinct < 3 or not math.isfinite(law.se):
        return UNKNOWN
    if abs(law.slope) <= t_quantile(law.n - 2, level) * law.se:
        return FLAT
    gap = math.log(target) - float(np.log(law.at(law.x_range[1])))
    return TOWARDS if gap * law.slope > 0 else AWAY


def wording(dir_: str, x_reach: float, unit: str) -> str:
    """The sentence a failing claim carries: "not reproduced at this scale, heading to the paper's value (at
    about X unit)", "does not hold, and more scale makes it worse", "flat with scale", or "not measured"."""
    if dir_ == TOWARDS:
        where = f" (at about {x_reach:.3g} {unit})" if math.isfinite(x_reach) else ""
        return f"not reproduced at this scale, heading to the paper's value{where}"
    if dir_ == AWAY:
        return "does not hold, and more scale makes it worse"
    if dir_ == FLAT:
        return "does not move with scale (flat within the fit's uncertainty)"
    return "scale not measured"
