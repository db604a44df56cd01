"""SNR equations, per-label SNR, AFCC, dilution and the probe solvers."""
import numpy as np
import pytest
import torch

from helpers import afcc, filters, paper, probes, snr


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
    return W, means, filters.analyze_layer(W, means)


def test_per_label_means_match_the_equations():
    W, means, la = layer()
    e = snr.snr_estimates(la.N_f, la.N_l, la.n, la.N_c, la.C_s)
    pl = snr.per_label(la)
    assert pl["signal"].mean() == pytest.approx(e["signal"])
    assert pl["noise_E"].mean() == pytest.approx(e["noise_E"])
    assert pl["signal"].tolist() == la.appearances.tolist()
    # Eq. (2) is exact when every cluster has the same size: force singletons with a threshold of ~1
    la1 = filters.analyze_layer(W, means, threshold=0.999)
    assert set(la1.sizes) == {1}
    assert snr.per_label(la1)["noise_I"].abs().max() == 0
    weighted = snr.per_label(la, weighted=True)
    assert (weighted["signal"] <= pl["signal"] + 1e-9).all()  # normalized fields are at most 1


def test_afcc_mask_counts_and_random_mask():
    W, means, la = layer()
    mask = afcc.afcc_mask(la.clusters, la.N_l, 2)
    assert mask.shape == (8, 60, 2)
    assert int(mask.sum()) == 2 * sum(len({i for c in cs for i in c}) for cs in la.clusters)
    assert int(mask.sum()) == pytest.approx(afcc.expected_nonzero(60, 2, la.C_s, la.N_c))
    rnd = afcc.random_mask_like(mask, seed=1)
    assert int(rnd.sum()) == int(mask.sum()) and not torch.equal(rnd, mask)


def separable(N=800, N_f=20, F_s=3, N_l=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(N) % N_l
    centers = torch.randn(N_l, N_f, F_s, generator=g)
    x = torch.relu(centers[y] + 0.8 * torch.randn(N, N_f, F_s, generator=g))
    return x[: N // 2], y[: N // 2], x[N // 2:], y[N // 2:]


@pytest.mark.parametrize("solver", probes.SOLVERS)
def test_probe_solvers_learn_and_masks_hold(solver):
    xtr, ytr, xte, yte = separable()
    p = probes.train_probe(xtr, ytr, xte, yte, 4, solver=solver, epochs=20, progress=False)
    assert p.test_acc > 0.9 and p.W.shape == (4, 20, 3)
    assert p.test_acc == probes.accuracy(p.W, xte, yte)
    mask = torch.rand(4, 20, 3, generator=torch.Generator().manual_seed(0)) < 0.3
    pm = probes.train_probe(xtr, ytr, xte, yte, 4, solver=solver, epochs=20, mask=mask, W0=p.W, progress=False)
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
