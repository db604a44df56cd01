"""Step 8 of the method (DESIGN.md "The method, exactly"): every filter of one tap at once.

:func:`analyze_layer` takes a tap's probe weights and per-label mean activations through the field matrices,
their normalization and clipping, the clusters and the noise of every filter (steps 4-7,
:mod:`helpers.method.fields`), and gathers the layer's statistics in a :class:`LayerAnalysis`: n, N_c, C_s,
the cluster-size distribution and each label's appearances (*mechanism* Fig. 5A-B), the sub-threshold field
histograms of cluster rows and other rows (Fig. 5C), and the Boolean and field-weighted counts of cluster
blocks and noise that *universal*'s per-label SNR reads (Fig. 4A-B).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import torch

from helpers.method.fields import (
    RULES,
    THRESHOLD,
    block_mask,
    check_threshold,
    cluster_ids,
    field_matrices,
    normalize,
    normalized_fields,
)

HIST_BINS = np.linspace(-1.0, 1.0, 201)  # values below -1 are counted in the lowest bin
FULL_COLUMN = 0.8  # a column of "almost all ... elements above-threshold": this fraction of the rows or more


@dataclass
class LayerAnalysis:
    """Clusters and noise of every filter of one tap, and the statistics of *mechanism* Fig. 5."""

    threshold: float
    rule: str
    clusters: list[list[list[int]]]  # per filter, its clusters
    noise: np.ndarray  # (N_f,) noise elements per filter
    dead: np.ndarray  # (N_f,) filters whose field matrix has no positive element
    block_counts: np.ndarray  # (N_l, N_l): filters with (i, j) inside one of their cluster blocks
    noise_counts: np.ndarray  # (N_l, N_l): filters with (i, j) a noise element
    block_fields: np.ndarray  # same, summed raw (un-normalized) fields M_f[i, j] (*universal* Fig. 4B)
    noise_fields: np.ndarray
    hist_cluster_rows: np.ndarray  # sub-threshold normalized fields of cluster rows (Fig. 5C left)
    hist_other_rows: np.ndarray  # ... and of the other rows (Fig. 5C right)
    sum_cluster_rows: float = 0.0
    sum_other_rows: float = 0.0
    bins: np.ndarray = field(default_factory=lambda: HIST_BINS.copy())
    full_columns: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # (N_f,): matrix_types

    @property
    def matrix_types(self) -> np.ndarray:
        """(N_f,) each filter's matrix type (*mechanism*, "Single-filter performance": "Three major matrix
        types exist"): ``column``, a column (output) above threshold in at least :data:`FULL_COLUMN` of the
        rows, the type of layers 2 and 4; else ``one cluster`` (layer 13's) or ``several clusters`` (layer
        10's, with noise); ``none`` for a filter with no cluster and no such column (a dead one included)."""
        n = np.array([len(c) for c in self.clusters])
        kind = np.where(n == 1, "one cluster", np.where(n > 1, "several clusters", "none"))
        return np.where(self.full_columns > 0, "column", kind)

    @property
    def N_f(self) -> int:
        return len(self.clusters)

    @property
    def N_l(self) -> int:
        return self.block_counts.shape[1]

    @property
    def n(self) -> float:
        """Mean noise per filter, over all filters (DESIGN step 8)."""
        return float(self.noise.mean())

    @property
    def N_c(self) -> float:
        """Mean number of clusters per filter, over all filters."""
        return float(np.mean([len(c) for c in self.clusters]))

    @property
    def clustered(self) -> np.ndarray:
        """(N_f,) filters with at least one cluster."""
        return np.array([len(c) > 0 for c in self.clusters], bool)

    @property
    def n_clustered(self) -> float:
        """Mean noise per filter over the filters with at least one cluster: the second convention of the
        group's published analysis code (Shutshutnunte/AFCC, ``Compute_Matrices_Clusters.py``), which leaves a
        filter with no cluster out of the mean (nan where no filter has one)."""
        k = self.clustered
        return float(self.noise[k].mean()) if k.any() else float("nan")

    @property
    def N_c_clustered(self) -> float:
        """Mean clusters per filter over the filters with at least one cluster (the same code's second
        convention)."""
        k = self.clustered
        return float(np.mean([len(c) for c, ok in zip(self.clusters, k) if ok])) if k.any() else float("nan")

    @property
    def sizes(self) -> list[int]:
        return [len(c) for cs in self.clusters for c in cs]

    @property
    def C_s(self) -> float:
        """Mean cluster size over all clusters of the layer (nan where there are none)."""
        s = self.sizes
        return float(np.mean(s)) if s else float("nan")

    @property
    def size_fraction(self) -> dict[int, float]:
        """Fraction of the layer's clusters of each size (*mechanism* Fig. 5A, right)."""
        c = Counter(self.sizes)
        total = sum(c.values())
        return {k: v / total for k, v in sorted(c.items())}

    @property
    def appearances(self) -> np.ndarray:
        """Number of the layer's clusters that contain each label (*mechanism* Fig. 5B)."""
        return np.diag(self.block_counts).copy()

    @property
    def mean_cluster_rows(self) -> float:
        return self.sum_cluster_rows / max(1, self.hist_cluster_rows.sum())

    @property
    def mean_other_rows(self) -> float:
        return self.sum_other_rows / max(1, self.hist_other_rows.sum())

    def summary(self) -> dict:
        return dict(
            N_f=self.N_f,
            n=self.n,
            N_c=self.N_c,
            C_s=self.C_s,
            dead_filters=int(self.dead.sum()),
            clustered_filters=int(self.clustered.sum()),
            n_clustered=self.n_clustered,
            N_c_clustered=self.N_c_clustered,
        )


def _bin_counts(v: torch.Tensor) -> np.ndarray:
    """Counts of ``v`` in the bins of :data:`HIST_BINS`; values above 1, inf and NaN are left out.

    ``torch.histc`` counts in float32, exact up to 2**24 per bin, so it is fed 2**24 values at a time.
    """
    flat = v.reshape(-1)
    out = np.zeros(len(HIST_BINS) - 1, np.int64)
    for s in range(0, flat.numel(), 2**24):
        out += torch.histc(flat[s : s + 2**24], bins=len(out), min=-1.0, max=1.0).long().numpy()
    return out


def analyze_layer(
    W: torch.Tensor,
    class_means: torch.Tensor,
    threshold: float = THRESHOLD,
    rule: str = "greedy",
    chunk: int | None = None,
) -> LayerAnalysis:
    """Field matrices -> normalized -> clipped -> clusters and noise, for every filter of a tap.

    ``W`` (N_l, N_f, F_s), ``class_means`` (N_l, N_f, F_s); filters are processed ``chunk``
    at a time (default: about 2**26 matrix elements, 256 MB of float32) so that ImageNet-sized
    layers (1280 filters x 1000 labels) fit in memory and small ones go in one step. Dense
    work is one pass per step (fields, maximum, clip, sums, one histogram); the cluster blocks
    are few and small, so their counts and fields are read from the cluster lists, and noise
    is "ones of B minus block elements" (every block element is a one, by definition). The summed
    fields of the blocks and of the noise (*universal* Fig. 4B) are the raw fields ``M_f[i, j]``,
    before the per-filter normalization: the point of Fig. 4B is to undo it.
    """
    threshold = check_threshold(threshold)
    if rule not in RULES:
        raise ValueError(f"unknown cluster rule {rule!r}: choose one of {sorted(RULES)}")
    N_l, N_f, _ = W.shape
    if class_means.shape[0] != N_l:
        raise ValueError(
            f"clusters need a square field matrix: {class_means.shape[0]} input labels, {N_l} outputs"
        )
    find = RULES[rule]
    chunk = chunk or max(1, 2**26 // (N_l * N_l))
    sums = _LayerSums(N_l)
    for s in range(0, N_f, chunk):
        sums.add(W[:, s : s + chunk], class_means[:, s : s + chunk], threshold, find)
    return sums.analysis(threshold, rule)


def field_magnitudes(
    W: torch.Tensor, class_means: torch.Tensor, clusters: list[list[list[int]]], threshold: float = THRESHOLD
) -> dict:
    """How large the normalized fields of a tap's live filters are, by kind of element (*mechanism* Fig. 5C,
    *universal* "several orders of magnitude smaller"): ``cluster``, the mean field of the cluster blocks'
    elements; ``above``, of every above-threshold element; ``other_rows``, per output j the mean magnitude
    of the sub-threshold fields in the rows of labels in none of the filter's clusters (Fig. 5C, right;
    magnitudes, as a signed mean cancels); ``sub_median``, the median magnitude of every sub-threshold field,
    and ``sub_negative``, the fraction of them below 0. ``clusters``: per filter, as
    :attr:`LayerAnalysis.clusters`."""
    Mn = normalized_fields(W, class_means)
    B = Mn >= check_threshold(threshold)
    live = B.flatten(1).any(1)
    cid = torch.from_numpy(np.stack([cluster_ids(c, Mn.shape[1]) for c in clusters]))
    block, sub = block_mask(cid) & live[:, None, None], ~B & live[:, None, None]
    other = sub & (cid < 0)[:, :, None]
    per_output = (Mn.abs() * other).sum((0, 1)) / other.sum((0, 1)).clamp_min(1)
    return dict(
        cluster=float(Mn[block].mean()) if block.any() else float("nan"),
        above=float(Mn[B & live[:, None, None]].mean()) if live.any() else float("nan"),
        other_rows=per_output[other.sum((0, 1)) > 0].double().numpy(),
        sub_median=float(Mn[sub].abs().median()) if sub.any() else float("nan"),
        sub_negative=float((Mn[sub] < 0).double().mean()) if sub.any() else float("nan"),
    )


class _LayerSums:
    """What :func:`analyze_layer` gathers over the chunks of a layer's filters, and the :class:`LayerAnalysis`
    they make."""

    def __init__(self, N_l: int):
        nbins = len(HIST_BINS) - 1
        self.N_l = N_l
        self.clusters, self.noise, self.dead, self.full_columns = [], [], [], []
        self.block_counts, self.ones_counts = np.zeros((N_l, N_l), np.int64), np.zeros((N_l, N_l), np.int64)
        self.block_fields, self.ones_fields = np.zeros((N_l, N_l)), np.zeros((N_l, N_l))
        self.hist_all, self.hist_rows = np.zeros(nbins, np.int64), np.zeros(nbins, np.int64)
        self.sum_all = self.sum_rows = 0.0

    def add(self, W: torch.Tensor, class_means: torch.Tensor, threshold: float, find) -> None:
        """One chunk of filters: their clipped field matrices, clusters (by ``find``), noise and sums."""
        Mn = field_matrices(W, class_means)
        peak = Mn.amax(dim=(1, 2)).clamp_min(0.0)  # raw field = normalized field x peak (0 for a dead filter)
        Mn = normalize(Mn, inplace=True)
        B = Mn >= threshold
        dead = ~B.flatten(1).any(1)  # a live matrix has its maximum, 1, above any threshold < 1
        clusters = [find(b) for b in B.numpy()]
        ones = torch.count_nonzero(B, dim=(1, 2))
        in_blocks = torch.tensor([sum(len(c) ** 2 for c in cs) for cs in clusters])
        self.clusters += clusters
        self.noise.append((ones - in_blocks).numpy())
        self.dead.append(dead.numpy())
        rows_above = B.sum(1)  # (filters, outputs): rows i above threshold in column j
        self.full_columns.append((rows_above >= math.ceil(FULL_COLUMN * self.N_l)).sum(1).numpy())
        self.ones_counts += torch.count_nonzero(B, dim=0).numpy()
        above = torch.where(B, Mn, 0.0)
        self.ones_fields += (above.double() * peak.double()[:, None, None]).sum(0).numpy()
        # numpy views: the blocks are small, and small reads are cheaper in numpy
        rows = self._add_blocks(clusters, Mn.numpy(), peak.double().numpy())
        self._add_histograms(Mn, B, dead, above, rows, threshold)

    def _add_blocks(self, clusters, Mn_np: np.ndarray, peak_np: np.ndarray) -> list[np.ndarray]:
        """The cluster blocks' counts and raw fields; returns each filter's rows of its cluster labels."""
        rows = []
        for k, cs in enumerate(clusters):
            for c in cs:
                ix = np.ix_(c, c)
                self.block_counts[ix] += 1
                self.block_fields[ix] += Mn_np[k][ix] * peak_np[k]
            labels = [i for c in cs for i in c]
            if labels:
                rows.append(Mn_np[k, labels])
        return rows

    def _add_histograms(self, Mn, B, dead, above, rows: list[np.ndarray], threshold: float) -> None:
        """Sub-threshold fields (*mechanism* Fig. 5C) of live filters, all rows and the rows of cluster
        labels: above-threshold elements become inf (left out); values below -1 count in the lowest bin; a
        dead filter's all-zero matrix is taken back out of the bin of 0."""
        hist = _bin_counts(torch.where(B, torch.inf, Mn.clamp(min=-1.0)))
        hist[(len(HIST_BINS) - 1) // 2] -= int(dead.sum()) * self.N_l * self.N_l
        self.hist_all += hist
        self.sum_all += float(Mn.sum()) - float(above.sum())
        if rows:
            r = torch.from_numpy(np.concatenate(rows))
            r = r[r < threshold]
            self.hist_rows += _bin_counts(r.clamp(min=-1.0))
            self.sum_rows += float(r.sum(dtype=torch.float64))

    def analysis(self, threshold: float, rule: str) -> LayerAnalysis:
        return LayerAnalysis(
            threshold=threshold,
            rule=rule,
            clusters=self.clusters,
            noise=np.concatenate(self.noise) if self.noise else np.zeros(0, np.int64),
            dead=np.concatenate(self.dead) if self.dead else np.zeros(0, bool),
            block_counts=self.block_counts,
            noise_counts=self.ones_counts - self.block_counts,
            block_fields=self.block_fields,
            noise_fields=self.ones_fields - self.block_fields,
            hist_cluster_rows=self.hist_rows,
            hist_other_rows=self.hist_all - self.hist_rows,
            sum_cluster_rows=self.sum_rows,
            sum_other_rows=self.sum_all - self.sum_rows,
            full_columns=np.concatenate(self.full_columns) if self.full_columns else np.zeros(0, np.int64),
        )
