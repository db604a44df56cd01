"""AFCC with the entire network retrained (*universal* on EfficientNet-B0): the pruned output weights stay
exactly zero, the kept ones and the trainable stages train, the frozen stages do not move, the random control
keeps as many weights, and the result is cached by run, mask, starting weights, epochs and seed."""

from types import SimpleNamespace

import pytest
import torch

from helpers.method import afcc
from helpers.train import data, masked, models, profiles
from helpers.train.loop import Hyper, TrainConfig

N_L = 4
HYPER = Hyper(eta=0.05, mu=0.9, alpha=5e-4)


@pytest.fixture
def tiny():
    """A small EfficientNet-Lite0 (untrained, width 0.125, 32x32) on generated data, with a config as the cpu
    profile's stand-in has it: the stem and stages 2-5 frozen (the weights are not loaded, so pretrained only
    allows frozen here)."""
    torch.manual_seed(0)
    model = models.build("efficientnet_lite0", N_L, 0.125, input_size=32).eval()
    cfg = TrainConfig(
        model="efficientnet_lite0",
        dataset="synthetic",
        width=0.125,
        input_size=32,
        pretrained=True,
        frozen=5,
        epochs=3,
        batch_size=20,
        schedule="onecycle",
        conv=HYPER,
        fc=HYPER,
    )
    return model, cfg, data.synthetic_cifar(N_L, n_train=120, n_test=40, seed=1)


def state(model) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_retraining_holds_the_pruned_weights_at_zero_and_the_frozen_stages_fixed(tiny):
    model, cfg, ds = tiny
    out = models.output_layer(model)
    g = torch.Generator().manual_seed(0)
    mask = (torch.rand(out.weight.shape, generator=g) < 0.2).reshape(N_L, -1, 1)  # AFCC's (N_l, N_f, F_s)
    W0 = torch.randn(out.weight.shape, generator=g)
    before = state(model)
    net, metrics = masked.retrain_masked(model, ds, cfg, mask, epochs=1, W0=W0, seed=0)
    after = state(net)
    W, keep = after["classifier.out.weight"], mask.reshape(out.weight.shape)
    assert torch.equal(W[~keep], torch.zeros(int((~keep).sum())))  # exactly zero, every one
    assert bool((W[keep] != W0[keep]).all())  # every kept weight trained
    frozen = [k for k in before if k.startswith(tuple(f"features.{i}." for i in range(cfg.frozen)))]
    assert frozen and any("running_mean" in k for k in frozen)
    assert all(torch.equal(before[k], after[k]) for k in frozen)  # weights and batch-norm statistics
    trained = [k for k in before if k.startswith("features.8.") and k.endswith("weight")]
    assert trained and all(not torch.equal(before[k], after[k]) for k in trained)  # the later stages train
    assert all(torch.equal(before[k], v) for k, v in state(model).items())  # the run's model untouched
    assert len(metrics) == 1 and 0.0 <= metrics[-1]["test_acc"] <= 1.0  # epochs=1 of the run's 3
    with pytest.raises(ValueError, match="elements"):
        masked.retrain_masked(model, ds, cfg, mask[:, :10], epochs=1)
    with pytest.raises(ValueError, match="epochs"):
        masked.retrain_masked(model, ds, cfg, mask, epochs=0)


def test_network_row_retrains_afcc_and_a_random_mask_of_as_many_weights_once(tiny, monkeypatch):
    model, cfg, ds = tiny
    N_f = models.output_layer(model).in_features
    clusters = [[[f % N_L]] if f % 3 else [[f % N_L, (f + 1) % N_L]] for f in range(N_f)]
    probe = SimpleNamespace(W=torch.randn(N_L, N_f, 1), test_acc=0.5)
    run = SimpleNamespace(key="tiny-run", model=model, config=cfg, test_acc=0.5)
    seen, real = [], masked.retrain_masked
    monkeypatch.setattr(masked, "retrain_masked", lambda *a, **kw: seen.append(a[3]) or real(*a, **kw))
    row = afcc.network_row("stage 9", run, ds, probe, SimpleNamespace(clusters=clusters), epochs=1)
    mask = afcc.afcc_mask(clusters, N_L, 1)
    assert len(seen) == 2 and torch.equal(seen[0], mask) and not torch.equal(seen[1], mask)
    assert int(seen[1].sum()) == int(mask.sum()) == row["kept"]  # the control keeps as many weights
    assert row["retrained"] == "entire network" and row["accuracy_before"] == 0.5 and row["epochs"] == 1
    again = afcc.network_row("stage 9", run, ds, probe, SimpleNamespace(clusters=clusters), epochs=1)
    assert len(seen) == 2 and again == row  # both read from the cache
    paths = {
        masked.retraining_path(run, ds, m, epochs=e, W0=probe.W) for m in (mask, seen[1]) for e in (1, 2)
    }
    assert len(paths) == 4 and sum(p.is_file() for p in paths) == 2  # keyed by the mask and the epochs


def test_the_profiles_epochs_of_the_whole_network_retraining():
    assert [profiles.afcc_network_epochs(p) for p in ("smoke", "cpu", "paper")] == [1, 1, 5]
    assert profiles.afcc_network_epochs("cpu", 3) == 3
    with pytest.raises(ValueError, match="network_epochs"):
        profiles.afcc_network_epochs("cpu", 0)
