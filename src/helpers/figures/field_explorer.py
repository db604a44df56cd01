"""A field-matrix explorer that computes in the page (issue 37): every filter of the page's layers, any
threshold, no kernel.

The page exports, per tap, the normalized field matrices of its network (*mechanism* Fig. 4, left: N_f x N_l
x N_l, rounded to :data:`DECIMALS`) with the label names and the paper's n, N_c and C_s (its Fig. 5A, at
threshold 0.3). ``field_explorer.js`` (plain JavaScript, inlined in the page: no CDN, no request) lets a
reader pick a layer, a filter and a threshold, and shows the matrix with its clusters (white blocks, by the
papers' greedy rule, as :func:`helpers.method.fields.greedy_clusters`) and noise (yellow), and the layer's n,
N_c, C_s and SNR_E = C_s N_c N_l / n recomputed over every filter, beside the paper's values. The browser test
checks the JavaScript's clusters against Python's on every filter of two layers at three thresholds.
"""

from __future__ import annotations

import html
import json
import uuid
from pathlib import Path

import torch

from helpers.figures.common import P
from helpers.figures.steps import skippable
from helpers.figures.style import label_names
from helpers.method import fields

DECIMALS = 4  # the exported matrices' precision; the JavaScript and Python's check cluster the same numbers
SCRIPT = Path(__file__).with_name("field_explorer.js")
PAPER_KEYS = (("n", "noise"), ("N_c", "N_c"), ("C_s", "C_s"))  # the explorer's name, the paper table's


def normalized_matrices(study, tap: str) -> torch.Tensor:
    """(N_f, N_l, N_l) normalized field matrices of ``tap`` (DESIGN steps 4-5), rounded to
    :data:`DECIMALS`."""
    M = fields.normalized_fields(study.probes[tap].W, study.means[tap])
    return torch.round(M, decimals=DECIMALS)


def explorer_data(study, taps: list[str], threshold: float, model: str = "vgg16") -> dict:
    """What the page exports: per tap its matrices and the paper's statistics (``None`` where the paper has
    none), the label names, the starting threshold."""
    ref = P.get(model, {})
    N_l = study.probes[taps[0]].W.shape[0]
    names = label_names(getattr(study.data, "class_names", None), N_l) or [str(i) for i in range(N_l)]
    return dict(
        threshold=threshold,
        labels=names,
        taps=[
            dict(
                tap=t,
                matrices=normalized_matrices(study, t).tolist(),
                paper={
                    k: ref.get(key, {}).get(t) for k, key in (("n", "noise"), ("N_c", "N_c"), ("C_s", "C_s"))
                },
            )
            for t in taps
        ],
    )


class FieldExplorer:
    """The explorer as HTML: its data as JSON and the script that draws it (``field_explorer.js``)."""

    def __init__(self, data: dict):
        self.data = data

    def _repr_mimebundle_(self, include=None, exclude=None):
        uid = "field-explorer-" + uuid.uuid4().hex[:8]
        data = json.dumps(self.data, separators=(",", ":")).replace("</", "<\\/")
        taps = ", ".join(t["tap"] for t in self.data["taps"])
        markup = (
            f'<div class="mech-field-explorer" id="{uid}" data-explorer="{uid}">'
            f'<script type="application/json" id="{uid}-data">{data}</script>'
            f"<noscript>The explorer needs JavaScript.</noscript></div>"
            f"<script>{SCRIPT.read_text()}\nwindow.mechFieldExplorer.mount({json.dumps(uid)});</script>"
        )
        text = f"A field-matrix explorer over layers {taps} (needs a browser with JavaScript)."
        return {"text/html": markup, "text/plain": html.escape(text)}, {}


@skippable
def field_explorer(study, taps: list[str], threshold: float, model: str = "vgg16") -> FieldExplorer | None:
    """:class:`FieldExplorer` of ``study``'s ``taps`` starting at ``threshold``."""
    return FieldExplorer(explorer_data(study, taps, threshold, model))
