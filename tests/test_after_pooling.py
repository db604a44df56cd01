"""The layers right after VGG-16's max poolings (*mechanism*, Discussion: noise "significantly increased in
the layers subsequent to the MP, for example, layers 8 and 11"): the claim on constructed networks, and the
taps read from a network without changing it."""

from types import SimpleNamespace

import pandas as pd
import pytest
import torch

from helpers.figures import after_pooling
from helpers.reference import claims
from helpers.train import models, probes, profiles, taps
from helpers.train.runs import Run

N_BY_LAYER = {"2": 20.0, "4": 12.0, "7": 6.0, "8": 8.0, "10": 3.8, "11": 5.0, "13": 1.5}


def networks(n_by_layer=N_BY_LAYER, jitter: float = 0.1, network: float = 0.94) -> pd.DataFrame:
    """Two networks' per-layer tables (a ``seed`` column), n at ``n_by_layer`` -/+ ``jitter``."""
    frames = [
        pd.DataFrame(dict(layer=list(n_by_layer), n=[v + sign * jitter for v in n_by_layer.values()])).assign(
            seed=k
        )
        for k, sign in enumerate((-1, 1))
    ]
    out = pd.concat(frames, ignore_index=True)
    out.attrs.update(network=network, model="vgg16", runs=("a", "b"))
    return out


def verdict(per_seed):
    (c,) = after_pooling.claims_after_pooling(per_seed)
    return c.verdict, c.reason, c.evidence


def test_noise_after_pooling_claim_decided_beyond_the_spread():
    assert verdict(networks())[0] == claims.HOLDS
    assert "L8: 8.00" in verdict(networks())[2]
    assert verdict(networks(dict(N_BY_LAYER, **{"11": 3.0})))[0] == claims.FAILS  # layer 11 below 10
    within = verdict(networks(dict(N_BY_LAYER, **{"8": 6.1}), jitter=0.5))  # +0.1 within a spread of 1.4
    assert within[0] == claims.UNTESTABLE and "layer 7 to 8" in within[1]
    mixed = verdict(networks(dict(N_BY_LAYER, **{"8": 6.1, "11": 2.0}), jitter=0.5))  # 11 falls 1.8 > 1.4
    assert mixed[0] == claims.FAILS
    assert verdict(networks(network=0.5))[0] == claims.UNTESTABLE  # under the accuracy floor


def test_one_network_decides_without_a_spread():
    one = networks(jitter=0.0)
    one = one[one["seed"] == 0]
    one.attrs.update(network=0.94, model="vgg16", runs=("a",))
    assert verdict(one)[0] == claims.HOLDS


@pytest.mark.parametrize("side", [32, 64])
def test_taps_after_pooling_read_the_same_network(side):
    model = models.build("vgg16", 10, width=0.125, input_size=side)
    run = Run(key="k", path=None, config=None, model=model, info={})
    read = run.at_taps(after_pooling.taps_after_pooling("vgg16"))
    assert read.key == run.key and read.model.taps != run.model.taps
    assert [t.name for t in run.model.taps] == ["2", "4", "7", "10", "13"]  # the run itself is unchanged
    x = torch.randn(2, 3, side, side)
    out = taps.extract_batch(read.model, x)
    assert sorted(out) == ["11", "8"]
    assert out["8"].shape == (2, 64, (side // 8) ** 2) and out["11"].shape == (2, 64, (side // 16) ** 2)
    model.eval()
    with torch.no_grad():  # layer 8's tap is the ReLU of the convolution right after pool 7
        relu8 = model.features[: list(model.features._modules).index("relu8") + 1](x)
    assert torch.equal(out["8"], relu8.flatten(2))
    assert after_pooling.taps_after_pooling("vgg6") == []


def test_a_page_without_the_pooled_layers_reads_no_layer_after_them():
    assert [t.name for t in after_pooling.taps_after_pooling("vgg16", ["2", "4", "7", "13"])] == ["8"]
    assert after_pooling.taps_after_pooling("vgg16", ["2", "13"]) == []
    only_8 = networks({k: v for k, v in N_BY_LAYER.items() if k not in ("10", "11")})
    (c,) = after_pooling.claims_after_pooling(only_8)
    assert "(layers 8)" in c.claim and c.test.startswith("n(8) > n(7)") and "n(11)" not in c.test
    assert after_pooling.claims_after_pooling(None) == []
    assert after_pooling.claims_after_pooling(networks({"2": 20.0, "13": 1.5})) == []


def test_statistics_stacks_both_readings_of_every_network(monkeypatch):
    """The page's taps and the layers after its poolings, per network, shallow to deep, with every network's
    key (pandas' concat drops attrs that differ between frames, so they are gathered before it)."""

    def fake_statistics(study):
        out = pd.DataFrame(dict(layer=study.layers, n=[float(t) for t in study.layers]))
        out.attrs.update(
            network=0.9, model="vgg16", runs=(study.key,), label_counts={t: [] for t in study.layers}
        )
        return out

    monkeypatch.setattr(after_pooling, "layer_statistics", fake_statistics)
    page = SimpleNamespace(
        model="vgg16",
        taps=["2", "4", "7", "10", "13"],
        seeds=2,
        study=lambda seed: SimpleNamespace(layers=["13", "2", "4", "7", "10"], key=f"run{seed}"),
        study_at=lambda taps, seed: SimpleNamespace(layers=[t.name for t in taps], key=f"run{seed}"),
    )
    got = after_pooling.statistics(page)
    assert list(got["layer"]) == ["2", "4", "7", "8", "10", "11", "13"] * 2
    assert list(got["seed"]) == [0] * 7 + [1] * 7
    assert got.attrs["runs"] == ("run0", "run1") and got.attrs["network"] == 0.9
    assert after_pooling.statistics(SimpleNamespace(**dict(vars(page), model="vgg6"))) is None


def test_the_new_taps_are_cached_apart_from_the_networks_own():
    model = models.build("vgg16", 10, width=0.125)
    run = Run(key="k", path=None, config=None, model=model, info={})
    read = run.at_taps(after_pooling.taps_after_pooling("vgg16"))

    def key(r):
        return taps.features_key(r.key, "data", "train", r.model.taps, torch.float16, None)

    def path(tap):
        data = SimpleNamespace(fingerprint=lambda: "data")
        return probes.probe_path(run, data, tap, solver="sgd", hyper=profiles.probe_hyper("vgg16"), seed=0)

    assert key(read) != key(run) and path("8") != path("7")
    with pytest.raises(ValueError, match="names of the model's own taps"):
        run.at_taps([models.Tap("7", "features.relu8")])
