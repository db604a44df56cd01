"""One pass gives every tap; cached features; the analysis on a CNN a reader brings (ResNet-18)."""

import pytest
import torch
import torchvision

from helpers.method import fields, snr
from helpers.method.layer import analyze_layer
from helpers.train import models, probes, profiles, runs, taps


def test_one_pass_equals_the_model_and_per_layer_reads(synth10):
    cfg = profiles.train_config("smoke", "vgg16", n_train=None, n_test=None)
    run = runs.get_run(cfg, synth10, progress=False)
    feats, labels = taps.run_features(run, synth10, "test", progress=False)
    assert list(feats) == [t.name for t in run.model.taps]
    assert feats["13"].dtype == torch.float16 and feats["2"].shape == (200, 8, 256)
    assert torch.equal(labels, synth10.y_test)
    # the same numbers as running the layers by hand up to pool 10
    x = synth10.x_test[:5].float() / 255 * 2 - 1
    with torch.no_grad():
        upto10 = run.model.features[: list(dict(run.model.features.named_children())).index("pool10") + 1](x)
    assert torch.allclose(feats["10"][:5].float(), upto10.flatten(2), atol=1e-2, rtol=1e-2)


def test_cached_features_are_reused_and_complete(tmp_path):
    t = [models.Tap("a", "a")]
    calls = []

    def compute():
        calls.append(1)
        return {"a": torch.arange(12.0).view(3, 2, 2).half()}, torch.tensor([0, 1, 0])

    f1, y1 = taps.cached_features("k1", compute, t, "test")
    f2, y2 = taps.cached_features("k1", compute, t, "test")
    assert len(calls) == 1 and torch.equal(f1["a"], f2["a"]) and torch.equal(y1, y2)
    # an interrupted write (no done marker) is recomputed, never read half-written
    (runs.cache_root() / "taps" / "k1" / "test-done.json").unlink()
    taps.cached_features("k1", compute, t, "test")
    assert len(calls) == 2


def test_whole_analysis_on_a_torchvision_resnet18():
    torch.manual_seed(0)
    net = torchvision.models.resnet18(num_classes=10).eval()
    reader_taps = [
        models.Tap("layer2", "layer2"),
        models.Tap("layer3", "layer3", grid=2),
        models.Tap("pool", "avgpool"),
    ]
    g = torch.Generator().manual_seed(0)
    y = torch.arange(120) % 10
    x = torch.rand(120, 3, 32, 32, generator=g) * 2 - 1 + 0.3 * torch.randn(10, 3, 1, 1, generator=g)[y]
    feats, labels = taps.extract(
        net, [(x[i : i + 40], y[i : i + 40]) for i in range(0, 120, 40)], 120, reader_taps, progress=False
    )
    assert feats["layer2"].shape == (120, 128, 16) and feats["layer3"].shape == (120, 256, 4)
    assert feats["pool"].shape == (120, 512, 1)
    table = taps.tap_table(net, 32, reader_taps)
    assert table["FC_s"].tolist() == [128 * 16, 256 * 4, 512]
    for name in feats:
        p = probes.train_probe(
            feats[name][:80], labels[:80], feats[name][80:], labels[80:], 10, max_iter=30, progress=False
        )
        la = analyze_layer(p.W, fields.class_means(feats[name][80:], labels[80:], 10))
        assert la.N_f == feats[name].shape[1] and la.n >= 0 and la.N_c > 0
        assert snr.snr_estimates(la.N_f, 10, la.n, la.N_c, la.C_s)["signal"] > 0


def test_unknown_split(synth10):
    cfg = profiles.train_config("smoke", "vgg6", n_train=None, n_test=None)
    with pytest.raises(ValueError, match="split"):
        taps.run_features(runs.get_run(cfg, synth10, progress=False), synth10, "validation")
