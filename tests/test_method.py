"""The whole method on a smoke-trained VGG-16 (generated data): cached probes and the Table-1 format."""
import pytest
import torch

from helpers import filters, method, probes, profiles, runs, snr


def test_study_table_and_cached_probes(synth10, monkeypatch):
    run = runs.get_run(profiles.train_config("smoke", "vgg16", n_train=None, n_test=None), synth10, progress=False)
    s = method.study(run, synth10, max_iter=40, progress=False)
    t = s.table()
    assert t["tap"].tolist() == ["13", "10", "7", "4", "2"]
    assert (t["FC_s"] == t["N_f"] * t["F_s"]).all() and t["accuracy"].between(0, 1).all()
    row = t.set_index("tap").loc["10"]
    la = s.layers["10"]
    assert row.n == la.n and row.signal == pytest.approx(snr.snr_estimates(la.N_f, 10, la.n, la.N_c, la.C_s)["signal"])
    assert la.clusters == filters.analyze_layer(s.probes["10"].W, s.means["10"]).clusters

    def no_training(*a, **k):
        raise AssertionError("probe retrained although cached")

    monkeypatch.setattr(probes, "train_probe", no_training)
    again = probes.layer_probes(run, synth10, max_iter=40, progress=False)
    assert all(torch.equal(again[k].W, s.probes[k].W) for k in again)
    with pytest.raises(ValueError, match="threshold"):
        method.study(run, synth10, threshold=0, max_iter=40, progress=False)
