"""Step 12 of the method (DESIGN; *universal* Tables 4-6, Figs. 5-7): the test error of a layer against the
number of labels K of nested K-label subsets (``data.subset`` draws them), and its least-squares line.

*universal*: the error "increases approximately linearly with K" and, for CIFAR-K/10, extrapolates to about 0
at K = 1; :func:`linear_fit` gives the slope, intercept, R² and that extrapolation.
"""

from __future__ import annotations

import numpy as np


def linear_fit(K, error) -> dict:
    """Least-squares line error = slope K + intercept, its R², and the extrapolation to K = 1."""
    K, error = np.asarray(K, float), np.asarray(error, float)
    if K.shape != error.shape or K.ndim != 1 or len(K) < 2:
        raise ValueError(
            f"linear_fit needs two 1-D sequences of the same length >= 2, got {K.shape} and {error.shape}"
        )
    if np.ptp(K) == 0:
        raise ValueError(f"linear_fit needs at least two different K, got {K.tolist()}")
    slope, intercept = np.polyfit(K, error, 1)
    pred = intercept + slope * K
    ss = ((error - error.mean()) ** 2).sum()
    r2 = 1 - ((error - pred) ** 2).sum() / ss if ss > 0 else 1.0
    return dict(
        slope=float(slope), intercept=float(intercept), r2=float(r2), error_at_K1=float(intercept + slope)
    )
