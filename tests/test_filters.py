"""Clusters, noise and field matrices against the papers' worked examples and naive implementations."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.method import afcc, fields
from helpers.method.layer import analyze_layer


def fig4b_matrix():
    """*mechanism* Fig. 4B: clusters (0,4,9), (1,2,5), (7), (8) and six noise elements."""
    B = np.zeros((10, 10), bool)
    for c in ([0, 4, 9], [1, 2, 5], [7], [8]):
        B[np.ix_(c, c)] = True
    for i, j in [(3, 0), (3, 1), (6, 2), (6, 5), (0, 7), (9, 8)]:  # one-way links: no cluster can absorb them
        B[i, j] = True
    return B


def test_mechanism_fig4b_worked_example():
    B = fig4b_matrix()
    clusters = fields.greedy_clusters(B)
    assert clusters == [[0, 4, 9], [1, 2, 5], [7], [8]]
    assert fields.display_order(clusters, 10) == [0, 4, 9, 1, 2, 5, 7, 8, 3, 6]
    assert fields.noise_count(B, clusters) == 6
    assert fields.greedy_clusters(torch.from_numpy(B)) == clusters  # numpy or torch
    assert fields.order_independent_clusters(B) == clusters


def test_greedy_rule_depends_on_label_order_and_the_variant_does_not():
    # *mechanism* SI: "a filter with two clusters of sizes 3x3 and 1x1 retrieved by iterating from 0 to 9
    # can yield in certain very rare scenarios, two clusters of size 2x2". Triangle {1,2,3} plus 0 linked to
    # 3.
    B = np.eye(4, dtype=bool)
    for i, j in [(1, 2), (1, 3), (2, 3), (0, 3)]:
        B[i, j] = B[j, i] = True
    assert fields.greedy_clusters(B) == [[0, 3], [1, 2]]
    assert fields.greedy_clusters(B, order=[3, 2, 1, 0]) == [[1, 2, 3], [0]]
    assert fields.noise_count(B, [[0, 3], [1, 2]]) == 4 and fields.noise_count(B, [[1, 2, 3], [0]]) == 2
    for perm in ([0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]):
        P = np.asarray(perm)
        relabelled = B[np.ix_(P, P)]  # label k of the new matrix is label perm[k] of the old one
        got = fields.order_independent_clusters(relabelled)
        assert sorted(sorted(int(P[i]) for i in c) for c in got) == [[0], [1, 2, 3]]


def test_shapes_and_errors():
    with pytest.raises(ValueError, match="square"):
        fields.greedy_clusters(np.ones((2, 3), bool))
    with pytest.raises(ValueError, match="threshold"):
        fields.clip(torch.zeros(1, 2, 2), 1.5)
    with pytest.raises(ValueError, match="N_f, F_s"):
        fields.field_matrices(torch.zeros(10, 4, 1), torch.zeros(10, 5, 1))


bool_matrices = st.integers(1, 8).flatmap(
    lambda n: st.lists(st.booleans(), min_size=n * n, max_size=n * n).map(lambda v: np.array(v).reshape(n, n))
)


@settings(max_examples=300, deadline=None)
@given(bool_matrices)
def test_cluster_properties(B):
    n = len(B)
    for rule in (fields.greedy_clusters, fields.order_independent_clusters):
        clusters = rule(B)
        members = [i for c in clusters for i in c]
        assert sorted(members) == sorted(
            np.flatnonzero(np.diag(B)).tolist()
        )  # each diagonal one in one cluster
        for c in clusters:
            assert B[np.ix_(c, c)].all()  # a cluster is a block of ones
        ones_in_blocks = sum(len(c) ** 2 for c in clusters)
        assert ones_in_blocks + fields.noise_count(B, clusters) == B.sum()
        order = fields.display_order(clusters, n)
        assert sorted(order) == list(range(n))
    # the order-independent variant never leaves more noise than the greedy rule
    assert fields.noise_count(B, fields.order_independent_clusters(B)) <= fields.noise_count(
        B, fields.greedy_clusters(B)
    )


@settings(max_examples=150, deadline=None)
@given(bool_matrices, st.randoms(use_true_random=False))
def test_order_independent_statistics_ignore_relabelling(B, rnd):
    perm = list(range(len(B)))
    rnd.shuffle(perm)
    P = np.asarray(perm)
    a, b = fields.order_independent_clusters(B), fields.order_independent_clusters(B[np.ix_(P, P)])
    assert sorted(map(len, a)) == sorted(map(len, b))
    assert fields.noise_count(B, a) == fields.noise_count(B[np.ix_(P, P)], b)


def random_tap(N=600, N_f=12, F_s=4, N_l=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(N) % N_l
    feats = torch.relu(
        torch.randn(N, N_f, F_s, generator=g) + 0.5 * torch.randn(N_l, N_f, F_s, generator=g)[labels]
    )
    feats[:40, 3] = 0  # some inputs give filter 3 nothing at all
    W = torch.randn(N_l, N_f, F_s, generator=g)
    return feats, labels, W


def test_field_matrices_equal_the_naive_silenced_pass():
    feats, labels, W = random_tap()
    head = torch.nn.Linear(12 * 4, 5, bias=False)
    head.weight.data = W.reshape(5, -1)
    M = fields.field_matrices(W, fields.class_means(feats, labels, 5))
    for f in range(12):
        naive = fields.naive_field_matrix(head, feats, labels, f, 5)
        assert torch.allclose(M[f], naive, atol=1e-5, rtol=1e-5)


def test_decision_matrices_equal_a_loop_over_inputs():
    feats, labels, W = random_tap(N=200)
    D, kept = fields.decision_matrices(W, feats, labels, 5, chunk=64)
    for f in (0, 3, 7):
        counts = torch.zeros(5, 5)
        for x, y in zip(feats, labels):
            h = (W[:, f] * x[f]).sum(-1)
            if (h != 0).any():
                counts[y, h.argmax()] += 1
        assert torch.equal(kept[f], counts.sum(1).long())
        assert torch.allclose(D[f], counts / counts.sum(1, keepdim=True).clamp_min(1))
    silent = (feats[:, 3] == 0).all(-1)  # all-zero activations (the first 40 and ReLU's own) give zero fields
    assert silent[:40].all() and kept[3].sum() == 200 - silent.sum()


def test_normalize_and_clip():
    M = torch.tensor([[[2.0, 1.0], [-1.0, 0.5]], [[-1.0, -2.0], [-3.0, -1.0]]])
    Mn = fields.normalize(M)
    assert torch.equal(Mn[0], torch.tensor([[1.0, 0.5], [-0.5, 0.25]])) and not Mn[1].any()
    assert fields.clip(Mn, 0.3).tolist() == [
        [[True, True], [False, False]],
        [[False, False], [False, False]],
    ]


def test_analyze_layer_agrees_with_filter_by_filter():
    feats, labels, W = random_tap(N_f=40, seed=3)
    means = fields.class_means(feats, labels, 5)
    for chunk in (7, 64):
        la = analyze_layer(W, means, threshold=0.3, chunk=chunk)
        B = fields.clip(fields.normalize(fields.field_matrices(W, means)), 0.3)
        clusters = [fields.greedy_clusters(b) for b in B]
        assert la.clusters == clusters
        assert la.noise.tolist() == [fields.noise_count(b, c) for b, c in zip(B, clusters)]
        assert la.N_c == pytest.approx(np.mean([len(c) for c in clusters]))
        sizes = [len(x) for c in clusters for x in c]
        assert la.C_s == pytest.approx(np.mean(sizes))
        assert sum(la.size_fraction.values()) == pytest.approx(1)
        assert la.appearances.tolist() == [sum(i in x for c in clusters for x in c) for i in range(5)]
        assert la.appearances.sum() == pytest.approx(len(clusters) * la.N_c * la.C_s)
        total_sub = (~B).sum() - (~B[la.dead]).sum()
        assert la.hist_cluster_rows.sum() + la.hist_other_rows.sum() == total_sub
    with pytest.raises(ValueError, match="rule"):
        analyze_layer(W, means, rule="random")


def test_rule_comparison_runs_each_rule_on_the_same_field_matrices():
    """The cluster-statistics page's table: the study's own rule as analysed, the other rule recomputed on the
    same W and class means (and the order-independent rule gives the same clusters whatever the label
    order)."""
    from types import SimpleNamespace

    from helpers.figures import mechanism_fig5_cluster_statistics as fig5

    g = torch.Generator().manual_seed(3)
    W, means = torch.randn(6, 40, 1, generator=g), torch.rand(6, 40, 1, generator=g)
    la = analyze_layer(W, means, 0.3, "greedy")
    study = SimpleNamespace(layers={"7": la}, probes={"7": SimpleNamespace(W=W)}, means={"7": means})
    table = fig5.rule_comparison(study).set_index("rule")
    assert table.loc["greedy", "n"] == la.n
    other = analyze_layer(W, means, 0.3, "order_independent")
    assert (table.loc["order_independent", "n"], table.loc["order_independent", "C_s"]) == (
        other.n,
        other.C_s,
    )
    perm = torch.randperm(6, generator=g)
    permuted = analyze_layer(W[perm], means[perm], 0.3, "order_independent")
    assert permuted.n == other.n and permuted.C_s == other.C_s
    back = analyze_layer(W, means, 0.3, "greedy_reversed")
    assert table.loc["greedy", "changed"] == 0
    assert table.loc["greedy_reversed", "changed"] == 1 - afcc.same_clusters(la.clusters, back.clusters)


def layer_of(matrices: np.ndarray, threshold: float = 0.3):
    """analyze_layer on filters whose field matrices are exactly ``matrices`` (N_f, N_l, N_l): with F_s = N_l
    and one-hot class means, M[f, i, j] = W[j, f, i]."""
    M = torch.as_tensor(matrices, dtype=torch.float32)
    N_f, N_l, _ = M.shape
    W = M.permute(2, 0, 1).contiguous()  # W[j, f, i] = M[f, i, j]
    means = torch.eye(N_l)[:, None, :].expand(N_l, N_f, N_l).contiguous()  # class_means[i, f, s] = δ(i, s)
    return analyze_layer(W, means, threshold)


def test_matrix_types_of_constructed_filters():
    """*mechanism*'s three matrix types: a near-full column (layers 2, 4), one cluster (13), several clusters
    with noise (10); a dead filter has none. Fields built element by element."""
    N = 10
    column = np.zeros((N, N))
    column[:, 0] = 1.0
    column[:2, 0] = 0.1  # 8 of 10 rows above threshold: still "almost all"
    one = np.zeros((N, N))
    one[np.ix_([1, 5, 8], [1, 5, 8])] = 1.0
    several = np.zeros((N, N))
    several[np.ix_([0, 1, 2], [0, 1, 2])] = 1.0
    several[np.ix_([3, 4], [3, 4])] = 0.9
    several[7, 2] = 0.5  # a noise element
    short = column.copy()
    short[:3, 0] = 0.1  # 7 of 10: not a full column
    dead = -np.ones((N, N))
    la = layer_of(np.stack([column, one, several, dead, short]))
    assert la.matrix_types.tolist()[:4] == ["column", "one cluster", "several clusters", "none"]
    assert la.matrix_types[4] != "column" and la.full_columns.tolist() == [1, 0, 0, 0, 0]


def test_matrix_types_claim_reads_each_layer_share_of_the_papers_type():
    from types import SimpleNamespace

    from helpers.figures import mechanism_fig4_field_matrices as fig4
    from helpers.reference import claims

    N = 10
    one = np.zeros((N, N))
    one[np.ix_([1, 5, 8], [1, 5, 8])] = 1.0
    several = np.zeros((N, N))
    several[np.ix_([0, 1, 2], [0, 1, 2])] = 1.0
    several[np.ix_([3, 4], [3, 4])] = 1.0
    run = SimpleNamespace(test_acc=0.94, config=SimpleNamespace(model="vgg16"))

    def study(m13):
        return SimpleNamespace(run=run, layers={"13": layer_of(m13), "10": layer_of(np.stack([several] * 3))})

    got = fig4.matrix_types_claim(study(np.stack([one, one, several])))  # 67% one cluster at layer 13
    assert [c.verdict for c in got] == [claims.HOLDS] and "layer 13: 67% one cluster" in got[0].evidence
    got = fig4.matrix_types_claim(study(np.stack([one, several, several])))
    assert [c.verdict for c in got] == [claims.FAILS]
    run.test_acc = 0.3
    assert [c.verdict for c in fig4.matrix_types_claim(study(np.stack([one] * 3)))] == [claims.UNTESTABLE]
