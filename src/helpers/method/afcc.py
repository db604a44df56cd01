"""Applying filter's cluster connections (*universal* "AFCC") and dilution (*mechanism* Discussion).

AFCC (DESIGN step 10): keep FC weight ``W[j, f, s]`` only where label j is in a cluster of filter f; retrain
the FC layer with the others held at zero (:func:`afcc_row`). *universal*: about 194,000 of the 204,800
weights of VGG-16 layer 10 on CIFAR-100 zeroed, the remaining ~10,800 close to ``N_f F_s C_s N_c`` ~ 10,600,
with the accuracy recovered; on EfficientNet-B0's stage 9 it retrains "the entire network" with the zeros held
(:func:`network_row`).

Dilution (step 11): silence k random filters of a tap (all their FC weights) and measure
the accuracy: *mechanism* reports ~150 of 512 layer-13 filters removed at no cost, the layer "FC to
the output (Fig. 1B)", i.e. its FC layer trained on the filters kept (:func:`dilution_retrained`);
:func:`dilution_curve` silences them without retraining (this book's addition);
:func:`label_silencing` silences the filters whose clusters hold one label, against as many random ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from helpers.train import masked
from helpers.train.probes import accuracy, predictions, train_probe


def afcc_mask(clusters: list[list[list[int]]], N_l: int, F_s: int) -> torch.Tensor:
    """Boolean (N_l, N_f, F_s): True where output label j is in a cluster of filter f."""
    N_f = len(clusters)
    keep = torch.zeros(N_l, N_f, dtype=torch.bool)
    for f, cs in enumerate(clusters):
        for c in cs:
            keep[list(c), f] = True
    return keep[:, :, None].expand(N_l, N_f, F_s).contiguous()


def expected_nonzero(N_f: int, F_s: int, C_s: float, N_c: float) -> float:
    """*universal*'s estimate of the weights AFCC keeps: N_f F_s C_s N_c."""
    return N_f * F_s * C_s * N_c


def random_mask_like(mask: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """A mask keeping as many weights as ``mask``, chosen uniformly at random (the comparison)."""
    g = torch.Generator().manual_seed(seed)
    flat = torch.zeros(mask.numel(), dtype=torch.bool)
    flat[torch.randperm(mask.numel(), generator=g)[: int(mask.sum())]] = True
    return flat.view(mask.shape)


def silence_filters(W: torch.Tensor, filters) -> torch.Tensor:
    """A copy of ``W`` (N_l, N_f, F_s) with every FC weight of ``filters`` set to zero."""
    W = W.clone()
    W[:, torch.as_tensor(filters, dtype=torch.long)] = 0
    return W


def dilution_curve(
    W: torch.Tensor, features: torch.Tensor, labels: torch.Tensor, ks, seeds=(0, 1, 2)
) -> pd.DataFrame:
    """Test accuracy with k random filters silenced (no retraining), for each k and seed."""
    N_f = W.shape[1]
    rows = [
        dict(
            k=k,
            seed=seed,
            kept=N_f - k,
            accuracy=accuracy(silence_filters(W, _dropped(N_f, k, seed)), features, labels),
        )
        for k in ks
        for seed in seeds
    ]
    return pd.DataFrame(rows)


def _dropped(N_f: int, k: int, seed: int) -> torch.Tensor:
    """The ``k`` filters of ``N_f`` that draw ``seed`` silences (the same draw for every caller)."""
    if not 0 <= k < N_f:
        raise ValueError(f"k={k} filters cannot be silenced out of N_f={N_f}: need 0 <= k < N_f")
    return torch.randperm(N_f, generator=torch.Generator().manual_seed(seed))[:k]


def label_srs(W: torch.Tensor, features: torch.Tensor, labels, chunk: int = 4096) -> tuple[np.ndarray, float]:
    """Each label's SR (the fraction of its inputs the bias-free FC layer ``W`` (N_l, N_f, F_s) classifies
    correctly; 0 for a label with no input) and the SR over all inputs."""
    y, N_l = torch.as_tensor(labels).long(), W.shape[0]
    right = predictions(W, features, chunk).cpu() == y
    per = torch.bincount(y[right], minlength=N_l) / torch.bincount(y, minlength=N_l).clamp_min(1)
    return per.double().numpy(), float(right.double().mean())


def label_silencing(
    W: torch.Tensor, clusters: list[list[list[int]]], features: torch.Tensor, labels, seeds=(0, 1, 2)
) -> pd.DataFrame:
    """*mechanism* (Fig. 5B's text): "Silencing a large fraction of filters, which include a specific label,
    impairs equalization among labels and substantially decreases the SRs". Per label i: the filters whose
    clusters include i silenced (all their FC weights, no retraining), against as many random filters silenced
    (each draw of ``seeds``, :func:`dilution_curve`'s draws): label i's SR and the SR over all labels, with
    every filter (``sr_full``, ``acc_full``), with the targeted filters silenced (``sr_targeted``,
    ``acc_targeted``) and with the random ones (their mean, and the draws' lowest and highest SR of label
    i)."""
    N_l, N_f, _ = W.shape
    full, acc_full = label_srs(W, features, labels)
    rows = []
    for i in range(N_l):
        holding = [f for f, cs in enumerate(clusters) if any(i in c for c in cs)]
        k = min(len(holding), N_f - 1)
        sr_t, acc_t = label_srs(silence_filters(W, holding), features, labels)
        drawn = [label_srs(silence_filters(W, _dropped(N_f, k, s)), features, labels) for s in seeds]
        sr_r = np.array([d[0][i] for d in drawn])
        rows.append(
            dict(
                label=i,
                filters=len(holding),
                fraction=len(holding) / N_f,
                sr_full=full[i],
                sr_targeted=sr_t[i],
                sr_random=sr_r.mean(),
                sr_random_min=sr_r.min(),
                sr_random_max=sr_r.max(),
                acc_full=acc_full,
                acc_targeted=acc_t,
                acc_random=float(np.mean([d[1] for d in drawn])),
            )
        )
    return pd.DataFrame(rows)


def distinct_clusters(clusters: list[list[list[int]]], filters=None) -> int:
    """How many different label sets the clusters of ``filters`` (default all) form: *mechanism*'s count
    argument for dilution ("the number of different triplets of labels is 10 * 9 * 8 / 6 = 120, which could
    be occupied almost equally with 350 filters only")."""
    chosen = range(len(clusters)) if filters is None else [int(f) for f in filters]
    return len({tuple(sorted(c)) for f in chosen for c in clusters[f]})


def dilution_retrained(probe, clusters, train, test, ks, seeds=(0, 1, 2), device=None) -> pd.DataFrame:
    """*mechanism* Discussion's dilution as the paper ran it: k random filters removed and the layer's FC
    layer trained on the kept ones (the probe's solver and epochs, from its weights with the removed
    filters' zeroed, held at zero), for each k and draw; with the accuracy before retraining, the kept
    filters and the distinct clusters they hold (:func:`distinct_clusters`)."""
    (train_f, train_y), (test_f, test_y) = train, test
    N_l, N_f, _ = probe.W.shape
    rows = []
    for k in ks:
        for seed in seeds:
            drop = _dropped(N_f, k, seed)
            mask = torch.ones_like(probe.W, dtype=torch.bool)
            mask[:, drop] = False
            kw = dict(solver=probe.solver, seed=seed, progress=False, device=device)
            retrained = train_probe(train_f, train_y, test_f, test_y, N_l, mask=mask, W0=probe.W, **kw)
            kept = sorted(set(range(N_f)) - set(drop.tolist()))
            rows.append(
                dict(
                    k=k,
                    seed=seed,
                    kept=N_f - k,
                    accuracy=retrained.test_acc,
                    accuracy_silenced=accuracy(probe.W * mask, test_f, test_y),
                    distinct_clusters=distinct_clusters(clusters, kept),
                )
            )
    return pd.DataFrame(rows)


def masks(probe, la, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """AFCC's mask of a tap's FC layer (``probe.W``, (N_l, N_f, F_s)) from its clusters (``la``), and a random
    mask keeping as many weights (the control, drawn with ``seed``)."""
    N_l, _, F_s = probe.W.shape
    mask = afcc_mask(la.clusters, N_l, F_s)
    return mask, random_mask_like(mask, seed)


def afcc_row(tap: str, probe, la, train, test, seed: int = 0, device: str | None = None) -> dict:
    """One tap's AFCC (*universal*, "applying filter's cluster connections"): the mask from its clusters, the
    FC layer retrained with the zeros held, and a random mask keeping as many weights (the control); both
    retrainings on ``device`` (default: :func:`~helpers.train.loop.pick_device`)."""
    (train_f, train_y), (test_f, test_y) = train, test
    N_l, N_f, F_s = probe.W.shape
    mask, rand = masks(probe, la, seed)
    kw = dict(solver=probe.solver, seed=seed, progress=False, device=device)
    pruned = train_probe(train_f, train_y, test_f, test_y, N_l, mask=mask, W0=probe.W, **kw)
    random = train_probe(train_f, train_y, test_f, test_y, N_l, mask=rand, W0=probe.W, **kw)
    total, kept = mask.numel(), int(mask.sum())
    return dict(
        tap=tap,
        weights=total,
        zeroed=total - kept,
        kept=kept,
        kept_fraction=kept / total,
        estimate=expected_nonzero(N_f, F_s, la.C_s, la.N_c) if la.sizes else 0.0,
        accuracy_before=probe.test_acc,
        accuracy_pruned_no_retraining=accuracy(probe.W * mask, test_f, test_y),
        accuracy_after=pruned.test_acc,
        accuracy_random=random.test_acc,
    )


def same_clusters(a: list, b: list) -> float:
    """The fraction of filters whose clusters are the same in two analyses of one layer (``a``, ``b``: per
    filter, its clusters as label lists; order ignored): *universal*'s "the same filter clusters were detected
    for both training and test sets"."""
    same = [{frozenset(c) for c in x} == {frozenset(c) for c in y} for x, y in zip(a, b)]
    return sum(same) / len(same) if same else float("nan")


def network_row(
    tap: str, run, data, probe, la, *, epochs: int, seed: int = 0, device=None, progress=False
) -> dict:
    """*universal*'s AFCC on EfficientNet-B0: "After retraining the entire network with the same parameters,
    while including the 4900 non-zeroed weights only". The tap's FC layer (``probe.W``, the layer whose
    clusters ``la`` choose the mask; the tap must feed the output layer directly) is put in the network's
    output layer, its weights outside the clusters zeroed, and the network is retrained by its run's recipe
    for ``epochs`` epochs with them held at zero (:func:`helpers.train.masked.cached_retraining`); beside it
    the same with a random mask keeping as many weights (the control). The accuracy before is the FC layer's,
    as in :func:`afcc_row`."""
    mask, rand = masks(probe, la, seed)
    kw = dict(epochs=epochs, W0=probe.W, seed=seed, device=device, progress=progress)
    pruned = masked.cached_retraining(run, data, mask, **kw)
    random = masked.cached_retraining(run, data, rand, **kw)
    total, kept = mask.numel(), int(mask.sum())
    return dict(
        tap=tap,
        retrained="entire network",
        epochs=epochs,
        weights=total,
        kept=kept,
        kept_fraction=kept / total,
        accuracy_before=probe.test_acc,
        accuracy_after=pruned["test_acc"],
        accuracy_random=random["test_acc"],
        seconds=pruned["seconds"] + random["seconds"],
    )
