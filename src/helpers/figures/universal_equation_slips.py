"""Where *universal*'s text and its equations disagree, computed from its printed tables (never typed).

Shown on the Table 1 page (below the comparison, :func:`helpers.figures.universal_layer_tables.table_notes`)
and on the Fig. 4 page (notebooks/universal-fig4-label-snr.ipynb), beside Eqs. 1-4.
"""

from __future__ import annotations

import pandas as pd

from helpers.method import snr
from helpers.reference import printed as paper


def equation_slips() -> pd.DataFrame:
    """Where *universal*'s text and its equations disagree, each computed from the printed tables (Eqs. 1 and
    3 on Table 1's VGG-16 and Table 2's EfficientNet-B0), never typed: noise_E at VGG-16's layer 4, and the
    EfficientNet-B0 sentence (:data:`helpers.reference.quotes.QUOTES` ``effnet_signal_noise``): its signal of
    "approximately 64" and its noise_E "doubled" against VGG-16's layer 10."""
    t1, t2 = paper.table("table1").set_index("tap"), paper.table("table2").set_index("tap")

    def eqs(r, N_f=None):
        return snr.snr_estimates(r.N_f if N_f is None else N_f, 100, r.n, r.N_c, r.C_s)

    r4, vgg, eff = t1.loc["4"], t1.loc["10"], t2.loc["stage 9"]
    e4, v, e = eqs(r4), eqs(vgg), eqs(eff)
    return pd.DataFrame(
        [
            dict(
                where="noise_E at VGG-16 layer 4 (CIFAR-100)",
                text="≈ 29",
                equation=f"Eq. (3) with N_f = {int(r4.N_f)}: {e4['noise_E']:.1f}",
                explanation=f"29 is Eq. (3) with N_f = 512 ({eqs(r4, 512)['noise_E']:.1f}); layer 4 has "
                f"N_f = {int(r4.N_f)}",
            ),
            dict(
                where="signal of EfficientNet-B0's stage 9 (CIFAR-100)",
                text="approximately 64",
                equation=f"Eq. (1), C_s N_c N_f / N_l = {eff.C_s:g} · {eff.N_c:g} · {int(eff.N_f)} / 100 = "
                f"{e['signal']:.1f}",
                explanation=f"Table 2's stage 9 gives {e['signal']:.0f}, not 64 (VGG-16's layer 10: "
                f"{v['signal']:.1f}, the text's 27)",
            ),
            dict(
                where="noise_E of EfficientNet-B0's stage 9 against VGG-16's layer 10 (CIFAR-100)",
                text="doubled",
                equation=f"Eq. (3), n N_f / N_l²: {e['noise_E']:.2f} / {v['noise_E']:.2f} = "
                f"{e['noise_E'] / v['noise_E']:.1f}",
                explanation=f"Tables 1 and 2 give a factor {e['noise_E'] / v['noise_E']:.1f}, not 2",
            ),
        ]
    )
