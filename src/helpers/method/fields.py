"""Steps 2-7 of the method (DESIGN.md "The method, exactly"): what one filter does, on tensors.

With all FC weights silenced but filter f's, the field on output j is
``h[j](x; f) = sum_s W[j, f, s] a[f, s](x)`` (step 2). From it:

- the single-filter SR decision matrix (*mechanism* Fig. 3; step 3),
- the field matrix ``M_f[i, j]`` = mean over label-i inputs of ``h[j](x; f)`` (*mechanism*
  Fig. 4, *universal* Fig. 3; step 4). As h is linear in a, ``M_f = W_f . mean_a`` per label:
  every filter at once from the per-label mean activations, no forward pass per filter
  (:func:`naive_field_matrix` is the forward pass, kept as the reference the tests compare with),
- normalization by the maximal element and clipping at a threshold (step 5),
- clusters (step 6): the papers' greedy rule (*mechanism* Supplementary, Fig. 4) and an
  order-independent variant, named in :data:`RULES`,
- the noise of one filter (step 7) and the permutation that shows its clusters as diagonal blocks.

A whole layer's clusters, noise and statistics (step 8) are :func:`helpers.method.layer.analyze_layer`.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import torch

THRESHOLD = 0.3  # *mechanism* Fig. 4 (robust over 0.3-0.6, Supplementary)


def check_threshold(threshold: float) -> float:
    if not 0.0 < float(threshold) < 1.0:
        raise ValueError(
            f"threshold must lie strictly between 0 and 1 (the papers use 0.3-0.6), got {threshold!r}"
        )
    return float(threshold)


# --- fields -------------------------------------------------------------------------------------


def class_means(
    features: torch.Tensor, labels: torch.Tensor, num_labels: int, chunk: int = 4096
) -> torch.Tensor:
    """Per-label mean activations ``(num_labels, N_f, F_s)`` of features ``(N, N_f, F_s)`` (any float dtype).

    Sums as one-hot matrix products, chunk by chunk (float16 memory-mapped caches welcome).
    """
    labels = torch.as_tensor(labels)
    counts = torch.bincount(labels, minlength=num_labels)[:num_labels]
    if (counts == 0).any():
        raise ValueError(
            f"labels {(counts == 0).nonzero().flatten().tolist()} have no inputs: cannot average"
        )
    sums = torch.zeros(num_labels, features[0].numel(), dtype=torch.float64)
    for s in range(0, len(features), chunk):
        onehot = torch.nn.functional.one_hot(labels[s : s + chunk], num_labels).T.float()
        sums += (onehot @ features[s : s + chunk].reshape(len(onehot.T), -1).float()).double()
    return (sums / counts[:, None]).float().view(num_labels, *features.shape[1:])


def field_matrices(W: torch.Tensor, class_means: torch.Tensor) -> torch.Tensor:
    """``M[f, i, j]`` = mean field on output j of label-i inputs through filter f alone.

    ``W``: (N_l, N_f, F_s) probe weights; ``class_means``: (N_labels_in, N_f, F_s).
    Returns (N_f, N_labels_in, N_l).
    """
    W, class_means = torch.as_tensor(W), torch.as_tensor(class_means)
    if W.dim() != 3 or class_means.dim() != 3 or W.shape[1:] != class_means.shape[1:]:
        raise ValueError(
            f"W must be (N_l, N_f, F_s) and class_means (N_labels, N_f, F_s) with the same N_f, F_s; "
            f"got {tuple(W.shape)} and {tuple(class_means.shape)}"
        )
    return torch.einsum("jfs,ifs->fij", W.float(), class_means.float())


def normalize(M: torch.Tensor, inplace: bool = False) -> torch.Tensor:
    """Each filter's matrix divided by its maximal element (*mechanism* Fig. 4, left).

    A matrix whose maximum is not positive has no above-threshold element: it becomes all zeros.
    ``inplace=True`` overwrites ``M`` (a float tensor) instead of allocating a copy.
    """
    M = torch.as_tensor(M)
    M = M if M.is_floating_point() else M.float()
    if not inplace:
        M = M.clone()
    peak = M.amax(dim=(-2, -1), keepdim=True)
    M.div_(peak.clamp_min(torch.finfo(M.dtype).tiny))
    return M.masked_fill_(peak <= 0, 0.0)


def normalized_fields(W: torch.Tensor, class_means: torch.Tensor) -> torch.Tensor:
    """Each filter's field matrix (:func:`field_matrices`) divided by its maximal element (:func:`normalize`):
    the matrices *mechanism* Fig. 4 (left) shows and the threshold clips, (N_f, N_labels_in, N_l)."""
    return normalize(field_matrices(W, class_means), inplace=True)


def clip(M_norm: torch.Tensor, threshold: float = THRESHOLD) -> torch.Tensor:
    """Boolean clipped matrix: 1 where the normalized element is >= threshold (Fig. 4, middle)."""
    return torch.as_tensor(M_norm) >= check_threshold(threshold)


def profile_alignment(W: torch.Tensor, class_means: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Does each filter's probe weights favour the labels that make it fire? Per filter f, over the labels:
    its label profile ``p_f[i] = sum_s mean_a[i, f, s]`` (which labels make it fire) against the outputs its
    weights favour, ``w_f[j] = sum_s W[j, f, s] abar[f, s]`` (the field of its activation averaged over
    the labels: the column mean of its field matrix, *mechanism* Fig. 4). At a 1x1 tap, ``w_f[j]`` is
    ``W[j, f]`` times a positive number. A cluster of labels that fire the filter and get its field
    (*mechanism* Fig. 4A: "1 cluster of size 3 x 3 comprised of labels (1,5,8)") needs the two aligned.

    Returns ``(r, same)``: the Pearson correlation of ``p_f`` and ``w_f`` (nan where either is constant,
    e.g. a dead filter) and whether their argmaxes agree, each (N_f,). Needs as many input labels as
    outputs."""
    W, class_means = torch.as_tensor(W).float(), torch.as_tensor(class_means).float()
    if W.shape[0] != class_means.shape[0]:
        raise ValueError(f"{W.shape[0]} outputs but {class_means.shape[0]} labels: no profile to align")
    p = class_means.sum(2).T  # (N_f, N_l)
    w = torch.einsum("jfs,fs->fj", W, class_means.mean(0))  # (N_f, N_l)
    pc, wc = p - p.mean(1, keepdim=True), w - w.mean(1, keepdim=True)
    den = pc.norm(dim=1) * wc.norm(dim=1)
    r = torch.where(den > 0, (pc * wc).sum(1) / den.clamp_min(torch.finfo(den.dtype).tiny), float("nan"))
    return r, p.argmax(1) == w.argmax(1)


def filter_fields(W: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
    """``h[x, f, j]``: the field of every filter alone on every output, for a batch (N, N_f, F_s) -> (N, N_f,
    N_l)."""
    return torch.einsum("nfs,jfs->nfj", features.float(), W.float())


def decision_matrices(
    W: torch.Tensor, features: torch.Tensor, labels: torch.Tensor, num_labels: int, chunk: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Single-filter SR decision matrices (*mechanism* Fig. 3), all filters at once.

    Element [f, i, j]: fraction of label-i inputs that filter f alone classifies as j
    (argmax of its fields); inputs whose fields through f are all zero are dropped and
    each row is normalized over the rest. Returns ``(D, kept)`` with ``kept[f, i]`` the
    number of label-i inputs that filter f did not drop. Inputs go ``chunk`` at a time (default:
    about 2**24 fields, 64 MB, whatever the layer's size).
    """
    N_l, N_f, _ = W.shape
    chunk = chunk or max(1, 2**24 // (N_f * N_l))
    labels = torch.as_tensor(labels)
    counts = torch.zeros(N_f * num_labels * N_l, dtype=torch.int64)
    f_idx = torch.arange(N_f)
    for s in range(0, len(features), chunk):
        h = filter_fields(W, features[s : s + chunk])  # (c, N_f, N_l)
        alive = (h != 0).any(-1)  # (c, N_f)
        pred = h.argmax(-1)
        y = labels[s : s + chunk, None].expand_as(pred)
        flat = (f_idx[None, :] * num_labels + y) * N_l + pred
        counts += torch.bincount(flat[alive], minlength=counts.numel())
    counts = counts.view(N_f, num_labels, N_l).double()
    kept = counts.sum(-1)
    return (counts / kept.clamp_min(1)[..., None]).float(), kept.long()


def naive_field_matrix(model_head, features: torch.Tensor, labels: torch.Tensor, f: int, num_labels: int):
    """Reference implementation: silence every FC weight but filter f's and push every input through.

    ``model_head`` is an ``nn.Linear`` (N_l, N_f * F_s) without bias; returns the (N_labels, N_l)
    field matrix of filter f as the mean over label-i inputs of the output fields.
    """
    N, N_f, F_s = features.shape
    W = model_head.weight.detach().view(-1, N_f, F_s)
    silenced = torch.zeros_like(W)
    silenced[:, f] = W[:, f]
    out = features.float().flatten(1) @ silenced.flatten(1).T  # (N, N_l)
    labels = torch.as_tensor(labels)
    return torch.stack([out[labels == i].mean(0) for i in range(num_labels)])


# --- clusters -----------------------------------------------------------------------------------


def _as_bool_numpy(B) -> np.ndarray:
    if isinstance(B, torch.Tensor):
        B = B.detach().cpu().numpy()
    B = np.asarray(B)
    B = B if B.dtype == bool else B.astype(bool)
    if B.ndim != 2 or B.shape[0] != B.shape[1]:
        raise ValueError(f"a clipped matrix must be square (labels x labels), got shape {B.shape}")
    return B


def greedy_clusters(B, order=None) -> list[list[int]]:
    """Clusters of one clipped matrix by the papers' greedy rule (*mechanism* Supplementary, Fig. 4).

    Walk the diagonal in label order (or ``order``); the first unassigned i with B[i, i] = 1
    opens a cluster; each later unassigned j with B[j, j] = 1 joins if B[j, m] = B[m, j] = 1
    for every member m; repeat until every diagonal one is in a cluster. Returns the clusters
    in the order they were opened, each a sorted list of labels.
    """
    B = _as_bool_numpy(B)
    diag = np.diag(B)
    unassigned = np.flatnonzero(diag).tolist() if order is None else [int(i) for i in order if diag[int(i)]]
    clusters = []
    while unassigned:
        members, rest = [unassigned[0]], []
        for j in unassigned[1:]:
            if B[j, members].all() and B[members, j].all():
                members.append(j)
            else:
                rest.append(j)
        clusters.append(sorted(members))
        unassigned = rest
    return clusters


def order_independent_clusters(B, max_component: int = 16) -> list[list[int]]:
    """Clusters that do not depend on the order of the labels (a variant beside the papers' rule).

    Labels with B[i, i] = 1 are linked where B[i, j] = B[j, i] = 1. Each connected component
    is split into blocks (cliques) so as to cover the most ones (sum of squared sizes), then
    to use the fewest blocks; a component that is itself a block is one cluster. This is the
    partition with the least noise, and it changes only where two partitions tie exactly.
    Components larger than ``max_component`` (never seen in practice) fall back to the
    greedy rule with labels ordered by degree.
    """
    B = _as_bool_numpy(B)
    diag = np.flatnonzero(np.diag(B))
    link = B & B.T
    seen, clusters = set(), []
    for start in diag:
        if start in seen:
            continue
        comp, stack = [], [start]
        seen.add(start)
        while stack:
            i = stack.pop()
            comp.append(i)
            for j in diag[link[i, diag]]:
                if j not in seen:
                    seen.add(j)
                    stack.append(j)
        comp = sorted(int(c) for c in comp)
        if len(comp) > max_component:
            sub = link[np.ix_(comp, comp)]
            order = [comp[k] for k in np.lexsort((comp, -sub.sum(1)))]
            clusters += greedy_clusters(B, order=order)
        else:
            clusters += _best_clique_partition(comp, link)
    return sorted(clusters, key=lambda c: (c[0], len(c)))


def _best_clique_partition(comp: list[int], link: np.ndarray) -> list[list[int]]:
    """Partition ``comp`` into cliques maximizing (sum of squared sizes, -number of cliques)."""
    if all(link[i, j] for i, j in combinations(comp, 2)):
        return [comp]
    best: tuple = (-1, 0, None)

    def cliques_with(first, rest):  # all cliques containing ``first`` drawn from ``rest``
        out = [[first]]
        for j in rest:
            out += [c + [j] for c in out if all(link[j, m] for m in c)]
        return out

    def search(remaining, chosen, score):
        nonlocal best
        if not remaining:
            key = (score, -len(chosen))
            if key > best[:2]:
                best = (score, -len(chosen), [sorted(c) for c in chosen])
            return
        if score + len(remaining) ** 2 < best[0]:  # cannot reach the best even as one block
            return
        first, rest = remaining[0], remaining[1:]
        for c in sorted(cliques_with(first, rest), key=len, reverse=True):
            search([r for r in rest if r not in c], chosen + [c], score + len(c) ** 2)

    search(comp, [], 0)
    return best[2]


def reversed_greedy_clusters(B) -> list[list[int]]:
    """The papers' greedy rule walking the diagonal in reversed label order (*mechanism* Supplementary: "the
    overall obtained averaged results remain the same when performing the cluster creation while iterating
    in a reversed order")."""
    return greedy_clusters(B, order=range(len(_as_bool_numpy(B)) - 1, -1, -1))


RULES = {
    "greedy": greedy_clusters,
    "order_independent": order_independent_clusters,
    "greedy_reversed": reversed_greedy_clusters,
}
RULE_NAMES = {
    "greedy": "the papers' greedy rule",
    "order_independent": "order-independent (this book's variant, not the papers')",
    "greedy_reversed": "the papers' greedy rule in reversed label order (their Supplementary's check)",
}


def cluster_ids(clusters: list[list[int]], n: int) -> np.ndarray:
    """Label -> index of its cluster, -1 for labels in none."""
    cid = np.full(n, -1, dtype=np.int64)
    for k, c in enumerate(clusters):
        cid[list(c)] = k
    return cid


def block_mask(cid) -> torch.Tensor:
    """(..., n, n) Boolean mask of the cluster blocks from cluster ids (..., n)."""
    cid = torch.as_tensor(cid)
    return (cid[..., :, None] == cid[..., None, :]) & (cid[..., :, None] >= 0)


def noise_count(B, clusters: list[list[int]]) -> int:
    """Noise of one filter (step 7): ones of B outside every cluster block (the yellow elements)."""
    B = torch.as_tensor(_as_bool_numpy(B))
    return int((B & ~block_mask(cluster_ids(clusters, len(B)))).sum())


def display_order(clusters: list[list[int]], n: int) -> list[int]:
    """Label permutation showing clusters as diagonal blocks: clusters in order, then the other labels."""
    first = [i for c in clusters for i in c]
    return first + [i for i in range(n) if i not in set(first)]
