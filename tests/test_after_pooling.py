"""The layers right after VGG-16's max poolings (*mechanism*, Discussion: noise "significantly increased in the
layers subsequent to the MP, for example, layers 8 and 11"): the claim on constructed networks, and the taps
read from a network without changing it."""

import pandas as pd
import pytest
import torch

from helpers.figures import after_pooling
from helpers.reference import claims
from helpers.train import models, taps
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
