"""The verdict rules of issue 34, each on a constructed case that the rule it replaced decided wrongly: the
old rule is written out here (it is gone from the code), shown deciding the case wrongly, and the new one
deciding it right."""

import pytest
import torch

from helpers.reference import claims

HOLDS, FAILS, UNTESTABLE = claims.HOLDS, claims.FAILS, claims.UNTESTABLE


# --- 2. "each label appears about equally often": a dispersion test, not every label within 30% -------------


@pytest.mark.parametrize("df", [1, 2, 3, 9, 10, 99])
def test_chi2_tail_matches_the_incomplete_gamma_function(df):
    for x in (0.5, 3.0, 8.15, 20.0, 150.0):
        a, h = torch.tensor(df / 2, dtype=torch.float64), torch.tensor(x / 2, dtype=torch.float64)
        ref = float(torch.special.gammaincc(a, h))
        assert claims.chi2_sf(x, df) == pytest.approx(ref, rel=1e-9, abs=1e-300)
