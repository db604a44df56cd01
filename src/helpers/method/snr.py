"""Signal and noise of a layer (*universal* Eqs. (1)-(4); *mechanism* Fig. 6).

Estimates from the layer statistics (Eqs. 1-4)::

    signal  = C_s N_c N_f / N_l                 (1)  appearances of a label in the layer's clusters
    noise_I = (C_s - 1) / (N_l - 1) * signal     (2)  other labels inside those clusters
    noise_E = n N_f / N_l**2                     (3)  above-threshold elements outside the clusters
    SNR_E   = signal / noise_E = C_s N_c N_l / n (4)

and the same counts taken label by label from the clipped matrices (*universal* Fig. 4A) or
weighted by the raw, un-normalized fields ``M_f[i, j]`` of the above-threshold elements (Fig. 4B:
"the summation of the fields of the above-threshold elements, instead of their Boolean
summations"; its signal, 301, is about 11 times 4A's 26.95): for input label i,
``signal[i]`` = clusters containing i, ``noise_I[i]`` = mean over the other N_l - 1 outputs of
the cluster elements (i, j), ``noise_E[i]`` = noise elements (i, j) summed over j, / N_l. Their
Boolean means over labels equal Eq. (1) and Eq. (3) exactly, and Eq. (2) when all clusters have size C_s.

Note: *universal* quotes noise_E ~ 29 at VGG-16 layer 4, but Eq. (3) with that layer's
N_f = 128 gives ~7.1; 29 is Eq. (3) with N_f = 512. We keep Eq. (3).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from helpers.method import fields
from helpers.method.layer import LayerAnalysis


def cluster_vectors(clusters: list[list[list[int]]], N_l: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Every cluster of a layer as a 0/1 row over the ``N_l`` labels, ``(n_clusters, N_l)``, and the filter
    each belongs to."""
    owner = [f for f, cs in enumerate(clusters) for _ in cs]
    V = torch.zeros(len(owner), N_l)
    rows = [r for r, cs in enumerate(c for f in clusters for c in f) for _ in cs]
    cols = [i for f in clusters for c in f for i in c]
    V[rows, cols] = 1.0
    return V, torch.tensor(owner, dtype=torch.long)


def signal_noise(W: torch.Tensor, means: torch.Tensor, clusters: list[list[list[int]]]) -> pd.DataFrame:
    """*mechanism* Fig. 6 measured, per input label i, on the normalized field matrices of every filter.

    The paper's own quantities (Results, Fig. 6C: "in the 150 filters, each of the nine labels, excluding the
    input label, appears on average 33 times ... These summed output fields (< 33) represent the first type
    of noise ... SNR > 5"):

    - ``filters``: filters whose clusters contain i (the paper's ~150 of 512),
    - ``co_labels``: how often another label appears beside i in those clusters, the mean over the other
      N_l - 1 labels (the paper's 33 = 2 * 150 / 9; Eq. 2's noise_I label by label),
      ``SNR_count`` = filters / co_labels (the paper's 150 / 33),
    - ``signal``: those filters' summed field on output i (the paper's unit fields),
    - ``noise_first``: their summed field on the strongest other output (the first type of noise where it
      matters for the decision), ``SNR_first`` = signal / noise_first (the paper's SNR > 5; infinite where
      the noise is not positive),
    - ``noise_first_mean``: the same fields' mean over the other outputs. It is negative whenever each
      filter's fields sum to about 0 over the outputs (cross-entropy without an output bias, *mechanism*
      Fig. 5C), so "below the count" is forced there, not found.

    This book's addition, the decision as a network makes it: ``noise_1`` (the same filters' field on the
    strongest wrong output j of all filters), ``noise_2`` (the other filters' field there) and ``SNR`` =
    signal / (noise_1 + noise_2).
    """
    Mn = fields.normalized_fields(W, means)  # (N_f, N_l, N_l)
    N_f, N_l = Mn.shape[0], Mn.shape[1]
    V, owner = cluster_vectors(clusters, N_l)
    member = torch.zeros(N_f, N_l).index_add_(0, owner, V)  # clusters of one filter are disjoint: 0/1
    co = V.T @ V  # co[i, j]: clusters holding both i and j; co[i, i]: clusters holding i
    sig_filters = torch.einsum("fi,fij->ij", member, Mn)  # fields of the filters whose clusters contain i
    rest = torch.einsum("fi,fij->ij", 1 - member, Mn)
    total = sig_filters + rest
    off = ~torch.eye(N_l, dtype=torch.bool)
    wrong_j = total.masked_fill(~off, float("-inf")).argmax(1)  # the strongest wrong output
    idx = torch.arange(N_l)
    signal, wrong = sig_filters[idx, idx], total[idx, wrong_j]
    co_labels = (co * off).sum(1) / (N_l - 1)
    noise_first = sig_filters.masked_fill(~off, float("-inf")).amax(1)
    noise_first_mean = (sig_filters * off).sum(1) / (N_l - 1)
    return pd.DataFrame(
        dict(
            label=idx.numpy(),
            filters=member.sum(0).long().numpy(),
            co_labels=co_labels.numpy(),
            SNR_count=_ratio(co.diagonal(), co_labels),
            signal=signal.numpy(),
            noise_first=noise_first.numpy(),
            SNR_first=_ratio(signal, noise_first),
            noise_first_mean=noise_first_mean.numpy(),
            noise_1=sig_filters[idx, wrong_j].numpy(),
            noise_2=rest[idx, wrong_j].numpy(),
            total_right=total[idx, idx].numpy(),
            strongest_wrong=wrong_j.numpy(),
            total_wrong=wrong.numpy(),
            SNR=_ratio(signal, wrong),
        )
    )


def _ratio(signal: torch.Tensor, noise: torch.Tensor):
    """signal / noise where the noise is positive, else infinite."""
    return torch.where(noise > 0, signal / noise, torch.full_like(signal, float("inf"))).numpy()


def snr_estimates(N_f: float, N_l: float, n: float, N_c: float, C_s: float) -> dict[str, float]:
    """*universal* Eqs. (1)-(4) from a layer's N_f, N_l, n, N_c, C_s."""
    if N_l < 2:
        raise ValueError(f"signal and noise need at least 2 labels, got N_l={N_l}")
    signal = C_s * N_c * N_f / N_l
    noise_I = (C_s - 1) / (N_l - 1) * signal
    noise_E = n * N_f / N_l**2
    return dict(
        signal=signal,
        noise_I=noise_I,
        noise_E=noise_E,
        SNR_I=signal / noise_I if noise_I > 0 else float("inf"),
        SNR_E=signal / noise_E if noise_E > 0 else float("inf"),
    )


def per_label(analysis: LayerAnalysis, weighted: bool = False) -> pd.DataFrame:
    """Per-label signal, noise_I, noise_E (*universal* Fig. 4): Boolean (A) or weighted by the raw fields
    (B)."""
    block = analysis.block_fields if weighted else analysis.block_counts.astype(float)
    noise = analysis.noise_fields if weighted else analysis.noise_counts.astype(float)
    N_l = block.shape[0]
    signal = np.diag(block)
    noise_I = (block.sum(1) - signal) / (N_l - 1)
    noise_E = noise.sum(1) / N_l
    return pd.DataFrame(
        dict(
            label=np.arange(N_l),
            signal=signal,
            noise_I=noise_I,
            noise_E=noise_E,
            noise_I_plus_E=noise_I + noise_E,
        )
    )


def label_fields(
    W: torch.Tensor, class_means: torch.Tensor, filters: torch.Tensor | None = None
) -> torch.Tensor:
    """Summed output fields per input label (*mechanism* Fig. 6, measured): ``[i, j]`` = sum over
    ``filters`` (default all) of the mean field on output j of label-i inputs."""
    W = torch.as_tensor(W).float()
    if filters is not None:
        W, class_means = W[:, filters], class_means[:, filters]
    return torch.einsum("jfs,ifs->ij", W, class_means.float())
