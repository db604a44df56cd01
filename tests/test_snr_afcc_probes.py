"""SNR equations, per-label SNR, AFCC, dilution and the probe solvers."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from helpers.figures import universal_afcc as afcc_pages
from helpers.method import afcc, fields, snr
from helpers.method.layer import analyze_layer
from helpers.reference import printed as paper
from helpers.train import probes, profiles


def test_universal_eqs_on_table1_layer10():
    row = paper.table("table1").set_index("tap").loc["10"]
    e = snr.snr_estimates(row.N_f, 100, row.n, row.N_c, row.C_s)
    assert e["signal"] == pytest.approx(26.6, abs=0.05)
    assert e["noise_I"] == pytest.approx(0.27, abs=0.005)
    assert e["noise_E"] == pytest.approx(0.83, abs=0.01)
    assert e["SNR_E"] == pytest.approx(row.C_s * row.N_c * 100 / row.n)


def test_universal_layer4_noise_e_slip():
    # the text says noise_E ~ 29 at layer 4 "where the signal is only 18": Eq. (3) with N_f = 512, not 128
    row = paper.table("table1").set_index("tap").loc["4"]
    assert snr.snr_estimates(128, 100, row.n, row.N_c, row.C_s)["noise_E"] == pytest.approx(7.07, abs=0.01)
    assert snr.snr_estimates(512, 100, row.n, row.N_c, row.C_s)["noise_E"] == pytest.approx(28.3, abs=0.1)
    assert snr.snr_estimates(128, 100, row.n, row.N_c, row.C_s)["signal"] == pytest.approx(18.3, abs=0.05)


def layer(N_f=60, N_l=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(N_l, N_f, 2, generator=g)
    means = torch.relu(torch.randn(N_l, N_f, 2, generator=g))
    return W, means, analyze_layer(W, means)


def test_per_label_means_match_the_equations():
    W, means, la = layer()
    e = snr.snr_estimates(la.N_f, la.N_l, la.n, la.N_c, la.C_s)
    pl = snr.per_label(la)
    assert pl["signal"].mean() == pytest.approx(e["signal"])
    assert pl["noise_E"].mean() == pytest.approx(e["noise_E"])
    assert pl["signal"].tolist() == la.appearances.tolist()
    # Eq. (2) is exact when every cluster has the same size: force singletons with a threshold of ~1
    la1 = analyze_layer(W, means, threshold=0.999)
    assert set(la1.sizes) == {1}
    assert snr.per_label(la1)["noise_I"].abs().max() == 0


def test_fig4b_sums_the_raw_fields_of_the_above_threshold_elements():
    """*universal* Fig. 4B, recomputed filter by filter from each raw field matrix with a naive loop: the
    signal, noise_I and noise_E of each label weight each above-threshold element by its un-normalized
    field."""
    W, means, la = layer()
    W = W * torch.linspace(0.5, 20, W.shape[1])[None, :, None]  # peaks that vary a lot among the filters
    la = analyze_layer(W, means)
    N_l = la.N_l
    signal, noise_I, noise_E = np.zeros(N_l), np.zeros(N_l), np.zeros(N_l)
    for f in range(W.shape[1]):
        M = (W[:, f] @ means[:, f].T).T.double().numpy()  # M[i, j] = sum_s W[j, f, s] mean_a[i, f, s]
        if M.max() <= 0:
            continue
        B = M / M.max() >= 0.3
        clusters = fields.greedy_clusters(B)
        in_block = np.zeros_like(B)
        for c in clusters:
            for i in c:
                signal[i] += M[i, i]
                noise_I[i] += sum(M[i, j] for j in c if j != i) / (N_l - 1)
                for j in c:
                    in_block[i, j] = True
        for i in range(N_l):
            noise_E[i] += sum(M[i, j] for j in range(N_l) if B[i, j] and not in_block[i, j]) / N_l
    got = snr.per_label(la, weighted=True)
    np.testing.assert_allclose(got["signal"], signal, rtol=1e-4)
    np.testing.assert_allclose(got["noise_I"], noise_I, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(got["noise_E"], noise_E, rtol=1e-4, atol=1e-6)
    assert got["signal"].mean() > 2 * snr.per_label(la)["signal"].mean()  # raw fields, not normalized (<= 1)


def test_afcc_mask_counts_and_random_mask():
    W, means, la = layer()
    mask = afcc.afcc_mask(la.clusters, la.N_l, 2)
    assert mask.shape == (8, 60, 2)
    assert int(mask.sum()) == 2 * sum(len({i for c in cs for i in c}) for cs in la.clusters)
    assert int(mask.sum()) == pytest.approx(afcc.expected_nonzero(60, 2, la.C_s, la.N_c))
    rnd = afcc.random_mask_like(mask, seed=1)
    assert int(rnd.sum()) == int(mask.sum()) and not torch.equal(rnd, mask)


def test_afcc_retrains_on_the_device_given(monkeypatch):
    """afcc_row hands its device to both retrainings; universal passes the study's (afcc_experiment, also
    behind stage8_afcc). A stand-in train_probe records the device it is given and trains on the CPU."""
    xtr, ytr, xte, yte = separable()
    p = probes.train_probe(xtr, ytr, xte, yte, 4, epochs=5, progress=False)
    la = analyze_layer(p.W, torch.stack([xtr[ytr == j].mean(0) for j in range(4)]))
    asked, real = [], afcc.train_probe
    monkeypatch.setattr(
        afcc,
        "train_probe",
        lambda *a, device=None, **kw: asked.append(device) or real(*a, **dict(kw, epochs=2), device="cpu"),
    )
    row = afcc.afcc_row("t", p, la, (xtr, ytr), (xte, yte), device="cuda:3")
    assert asked == ["cuda:3", "cuda:3"] and row["kept"] > 0
    rows = []
    monkeypatch.setattr(afcc, "afcc_row", lambda *a, device=None, **kw: rows.append(device) or {})
    study = SimpleNamespace(
        device="cuda:5",
        probes={"t": p},
        layers={"t": la},
        run=SimpleNamespace(test_acc=0.9),
        features=lambda split: ({"t": xtr}, ytr),
    )
    afcc_pages.afcc_experiment(study, ["t"], clusters_from="test")
    stages = SimpleNamespace(  # stage_study: the page's network at every stage and stage 8, on its device
        device="cuda:6",
        probes={afcc_pages.STAGE8: p},
        layers={afcc_pages.STAGE8: la},
        run=SimpleNamespace(test_acc=0.8, config=SimpleNamespace(model="efficientnet_b0")),
        features=lambda split: ({afcc_pages.STAGE8: xtr}, ytr),
    )
    afcc_pages.stage8_afcc(stages, clusters_from="test")
    assert rows == ["cuda:5", "cuda:6"]


def separable(N=800, N_f=20, F_s=3, N_l=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(N) % N_l
    centers = torch.randn(N_l, N_f, F_s, generator=g)
    x = torch.relu(centers[y] + 0.8 * torch.randn(N, N_f, F_s, generator=g))
    return x[: N // 2], y[: N // 2], x[N // 2 :], y[N // 2 :]


@pytest.mark.parametrize("solver", probes.SOLVERS)
def test_probe_solvers_learn_and_masks_hold(solver):
    xtr, ytr, xte, yte = separable()
    p = probes.train_probe(xtr, ytr, xte, yte, 4, solver=solver, epochs=20, progress=False)
    assert p.test_acc > 0.9 and p.W.shape == (4, 20, 3)
    assert p.test_acc == probes.accuracy(p.W, xte, yte)
    mask = torch.rand(4, 20, 3, generator=torch.Generator().manual_seed(0)) < 0.3
    pm = probes.train_probe(
        xtr, ytr, xte, yte, 4, solver=solver, epochs=20, mask=mask, W0=p.W, progress=False
    )
    assert (pm.W[~mask] == 0).all() and (pm.W[mask] != 0).any()  # AFCC zeros still zero after retraining
    with pytest.raises(ValueError, match="solver"):
        probes.train_probe(xtr, ytr, xte, yte, 4, solver="adam")


def test_float16_features_give_the_same_probe_accuracy():
    xtr, ytr, xte, yte = separable()
    p32 = probes.train_probe(xtr, ytr, xte, yte, 4, progress=False)
    p16 = probes.train_probe(xtr.half(), ytr, xte.half(), yte, 4, progress=False)
    assert abs(p32.test_acc - p16.test_acc) <= 0.01


def test_dilution():
    xtr, ytr, xte, yte = separable()
    p = probes.train_probe(xtr, ytr, xte, yte, 4, progress=False)
    curve = afcc.dilution_curve(p.W, xte, yte, ks=[0, 5, 19], seeds=[0, 1])
    assert (curve[curve.k == 0].accuracy == p.test_acc).all()
    assert curve[curve.k == 19].accuracy.mean() < p.test_acc
    with pytest.raises(ValueError, match="N_f=20"):
        afcc.dilution_curve(p.W, xte, yte, ks=[20])
    assert (afcc.silence_filters(p.W, [2, 5])[:, [2, 5]] == 0).all()


def test_dilution_retrains_the_fc_layer_on_the_kept_filters_only():
    """*mechanism* Discussion's dilution: the retrained FC layer keeps the removed filters' weights at zero,
    recovers accuracy that silencing alone loses, and counts the distinct clusters the kept filters hold."""
    xtr, ytr, xte, yte = separable()
    p = probes.train_probe(xtr, ytr, xte, yte, 4, progress=False)
    clusters = [[[f % 4]] if f % 2 else [[f % 4, (f + 1) % 4]] for f in range(20)]
    got = afcc.dilution_retrained(p, clusters, (xtr, ytr), (xte, yte), ks=[15], seeds=[0, 1])
    drop = afcc._dropped(20, 15, 0)
    assert afcc.distinct_clusters(clusters) == 4 and afcc.distinct_clusters(clusters, [1, 3]) == 2
    kept = sorted(set(range(20)) - set(drop.tolist()))
    assert got.distinct_clusters[0] == afcc.distinct_clusters(clusters, kept)
    assert (got.kept == 5).all() and (got.accuracy >= got.accuracy_silenced).all()
    silenced = afcc.dilution_curve(p.W, xte, yte, ks=[15], seeds=[0, 1])
    assert got.accuracy_silenced.tolist() == silenced.accuracy.tolist()  # the same draws


def test_sgd_is_the_torch_nesterov_sgd_update():
    """The written-out SGD step equals torch.optim.SGD(nesterov=True, weight_decay=α) step for step, mask or
    not."""
    xtr, ytr, xte, yte = separable(N=600)
    h = probes.Hyper(0.1, 0.975, 1e-3, 0.6, 1)  # decays every epoch: the schedule is exercised too
    mask = torch.rand(4, 20, 3, generator=torch.Generator().manual_seed(1)) < 0.5
    for m in (None, mask):
        got = probes.train_probe(
            xtr, ytr, xte, yte, 4, solver="sgd", hyper=h, epochs=3, mask=m, seed=3, progress=False
        )
        torch.manual_seed(3)
        layer = torch.nn.Linear(60, 4, bias=False)
        mf = None if m is None else m.reshape(4, -1).float()
        if mf is not None:
            layer.weight.data.mul_(mf)
        opt = torch.optim.SGD(
            layer.parameters(), lr=h.eta, momentum=h.mu, weight_decay=h.alpha, nesterov=True
        )
        g, X = torch.Generator().manual_seed(3), xtr.reshape(len(xtr), -1)
        for epoch in range(1, 4):
            for group in opt.param_groups:
                group["lr"] = h.eta * h.factor(epoch)
            for idx in torch.randperm(len(X), generator=g).split(100):
                opt.zero_grad()
                torch.nn.functional.cross_entropy(layer(X[idx]), ytr[idx]).backward()
                if mf is not None:
                    layer.weight.grad.mul_(mf)
                opt.step()
        assert torch.allclose(got.W.reshape(4, -1), layer.weight.detach(), atol=1e-5, rtol=1e-4)
        assert got.steps == 3 * 3 and got.stop == "3 epochs"
    assert probes.DEFAULT_SOLVER == "sgd" and probes.PAPER_SGD == profiles.probe_hyper(
        "vgg16"
    )  # the papers' recipe


def newton_minimum(X, y, N_l, alpha, iters=40):
    """The probe's loss minimised by Newton's method in float64 (exact Hessian): a reference to machine
    precision."""
    X = X.reshape(len(X), -1).double()
    D = X.shape[1]

    def f(w):
        return torch.nn.functional.cross_entropy(X @ w.view(N_l, D).T, y) + 0.5 * alpha * w.pow(2).sum()

    w = torch.zeros(N_l * D, dtype=torch.float64)
    for _ in range(iters):
        g = torch.autograd.functional.jacobian(f, w)
        H = torch.autograd.functional.hessian(f, w)
        step, t = torch.linalg.solve(H, g), 1.0
        while f(w - t * step) > f(w) and t > 1e-8:
            t /= 2
        w = w - t * step
    g = torch.autograd.functional.jacobian(f, w)
    return w.view(N_l, D), float(g.abs().max())


def test_lbfgs_probe_reaches_the_loss_minimum_and_its_statistics():
    """On overlapping classes (a finite minimum), L-BFGS stops with max |grad| <= tol, at the Newton minimum,
    with the same clusters, n, N_c and C_s; the earlier default (20 iterations) did not get there."""
    g = torch.Generator().manual_seed(0)
    N, N_f, F_s, N_l = 2000, 12, 2, 5
    y = torch.arange(N) % N_l
    x = torch.relu(torch.randn(N_l, N_f, F_s, generator=g)[y] + 1.5 * torch.randn(N, N_f, F_s, generator=g))
    alpha = probes.PAPER_SGD.alpha
    W_star, g_star = newton_minimum(x, y, N_l, alpha)
    assert g_star < 1e-10
    p = probes.train_probe(x, y, x, y, N_l, solver="lbfgs", progress=False)
    assert p.stop.startswith("converged") and p.grad_norm <= probes.LBFGS_TOL
    W = p.W.reshape(N_l, -1).double()
    assert (W - W_star).norm() / W_star.norm() < 1e-2
    means = fields.class_means(x, y, N_l)
    ref = analyze_layer(W_star.float().view(N_l, N_f, F_s), means)
    got = analyze_layer(p.W, means)
    assert got.clusters == ref.clusters and (got.noise == ref.noise).all()
    assert (got.n, got.N_c, got.C_s) == (ref.n, ref.N_c, ref.C_s)
    early = probes.train_probe(x, y, x, y, N_l, solver="lbfgs", max_iter=20, progress=False)
    assert early.grad_norm > probes.LBFGS_TOL and early.stop.startswith("max_iter")
    assert (early.W.reshape(N_l, -1).double() - W_star).norm() / W_star.norm() > 1e-2


def test_fig6_signal_noise_equals_a_label_by_label_loop():
    """snr.signal_noise (vectorized) against the per-label loop it replaced (*mechanism* Fig. 6)."""
    g = torch.Generator().manual_seed(5)
    W, means = torch.randn(6, 30, 2, generator=g), torch.rand(6, 30, 2, generator=g)
    la = analyze_layer(W, means)
    got = snr.signal_noise(W, means, la.clusters)
    Mn = fields.normalize(fields.field_matrices(W, means))
    for i in range(6):
        inside = [f for f in range(30) if any(i in c for c in la.clusters[f])]
        outside = [f for f in range(30) if f not in inside]
        sig, rest = Mn[inside, i].sum(0), Mn[outside, i].sum(0)
        total = sig + rest
        j = max((k for k in range(6) if k != i), key=lambda k: float(total[k]))
        row = got.iloc[i]
        assert row.filters == len(inside) and row.strongest_wrong == j
        assert row.signal == pytest.approx(float(sig[i]), abs=1e-5)
        assert row.noise_1 == pytest.approx(float(sig[j]), abs=1e-5) and row.noise_2 == pytest.approx(
            float(rest[j]), abs=1e-5
        )
        wrong = float(total[j])
        assert row.SNR == (pytest.approx(float(sig[i]) / wrong, rel=1e-4) if wrong > 0 else float("inf"))
        beside = [sum(i in c and k in c for cs in la.clusters for c in cs) for k in range(6) if k != i]
        assert row.co_labels == pytest.approx(sum(beside) / 5)
        first = max(float(sig[k]) for k in range(6) if k != i)
        assert row.noise_first == pytest.approx(first, abs=1e-5)
        assert row.SNR_first == (
            pytest.approx(float(sig[i]) / first, rel=1e-4) if first > 0 else float("inf")
        )
        mean = sum(float(sig[k]) for k in range(6) if k != i) / 5
        assert row.noise_first_mean == pytest.approx(mean, abs=1e-5)


def test_fig6_counts_reproduce_the_papers_150_and_33():
    """*mechanism* Fig. 6C's arithmetic: clusters of size 3, each label in A of them, put each other label
    beside it 2A / 9 times (the paper's 33 = 2 * 150 / 9), so the SNR by counts is 9 / 2. Here every one of
    the 120 label triplets is one filter's cluster, four times: A = 36 * 4 = 144 and 32 beside."""
    from itertools import combinations

    clusters = [[list(t)] for t in combinations(range(10), 3)] * 4
    W = torch.zeros(10, len(clusters), 1)
    means = torch.rand(10, len(clusters), 1, generator=torch.Generator().manual_seed(0))
    got = snr.signal_noise(W, means, clusters)
    assert (got["filters"] == 144).all() and got["co_labels"].tolist() == pytest.approx([32.0] * 10)
    assert got["SNR_count"].tolist() == pytest.approx([4.5] * 10)
