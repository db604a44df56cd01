"""The whole method on a smoke-trained VGG-16 (generated data): cached probes and the Table-1 format."""

import pytest
import torch

from helpers.method import snr
from helpers.method import study as method
from helpers.method.layer import analyze_layer
from helpers.train import probes, profiles, runs


def test_study_table_and_cached_probes(synth10, monkeypatch):
    run = runs.get_run(
        profiles.train_config("smoke", "vgg16", n_train=None, n_test=None), synth10, progress=False
    )
    s = method.study(run, synth10, max_iter=40, progress=False)
    t = s.table()
    assert t["tap"].tolist() == ["2", "4", "7", "10", "13"]  # shallow to deep, the code's order everywhere
    assert (t["FC_s"] == t["N_f"] * t["F_s"]).all() and t["accuracy"].between(0, 1).all()
    row = t.set_index("tap").loc["10"]
    la = s.layers["10"]
    assert row.n == la.n and row.signal == pytest.approx(
        snr.snr_estimates(la.N_f, 10, la.n, la.N_c, la.C_s)["signal"]
    )
    assert la.clusters == analyze_layer(s.probes["10"].W, s.means["10"]).clusters

    def no_training(*a, **k):
        raise AssertionError("probe retrained although cached")

    monkeypatch.setattr(probes, "train_probe", no_training)
    again = probes.layer_probes(run, synth10, max_iter=40, progress=False)
    assert all(torch.equal(again[k].W, s.probes[k].W) for k in again)
    with pytest.raises(ValueError, match="threshold"):
        method.study(run, synth10, threshold=0, max_iter=40, progress=False)


def test_analyze_is_the_class_means_then_the_layer_analysis_and_fit_probes_trains_each_tap():
    """The one stage-3 entry point (pages, ImageNet, stage 8): per-label means of the given inputs, then
    :func:`analyze_layer`, checked against a naive per-label mean."""
    g = torch.Generator().manual_seed(0)
    y = torch.arange(60) % 4
    feats = {
        "a": torch.randn(60, 8, 2, generator=g) + y[:, None, None],
        "b": torch.randn(60, 5, 1, generator=g),
    }
    trained = method.fit_probes((feats, y), (feats, y), 4, solver="lbfgs", max_iter=30)
    assert set(trained) == {"a", "b"} and trained["a"].W.shape == (4, 8, 2)
    means, layers = method.analyze(trained, (feats, y), 4, threshold=0.4, rule="order_independent")
    naive = torch.stack([feats["a"][y == i].mean(0) for i in range(4)])
    assert torch.allclose(means["a"], naive)
    expected = analyze_layer(trained["a"].W, naive, 0.4, "order_independent")
    assert layers["a"].clusters == expected.clusters and layers["a"].n == expected.n
    with pytest.raises(ValueError, match="threshold"):
        method.analyze(trained, (feats, y), 4, threshold=1.2)
