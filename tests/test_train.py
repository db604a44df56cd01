import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

import pytest
import torch
from conftest import ROOT

from helpers.train import data, profiles, runs
from helpers.train import loop as train
from helpers.train.loop import Hyper, TrainConfig


def smoke(model="vgg16", **kw):
    return profiles.train_config("smoke", model, n_train=None, n_test=None, **kw)


def same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_step_decay_schedules():
    assert [Hyper(1, 0.9, 0, 0.6, 20).factor(e) for e in (1, 20, 21, 41)] == pytest.approx([1, 1, 0.6, 0.36])
    vgg6 = profiles.PAPER["vgg6"]["fc"]  # (0.65, 20) up to epoch 140, then (0.5, 20)
    assert vgg6.factor(141) == pytest.approx(0.65**7) and vgg6.factor(161) == pytest.approx(0.65**7 * 0.5)
    avgg_fc = profiles.PAPER["avgg16"]["fc"]  # 10 epochs out of phase: first decay after epoch 30
    assert avgg_fc.factor(30) == 1 and avgg_fc.factor(31) == pytest.approx(0.65)


def test_paper_profile_is_the_papers():
    cfg = profiles.train_config("paper", "vgg16")
    assert (cfg.epochs, cfg.batch_size, cfg.width) == (200, 100, 1.0)
    assert (cfg.conv.eta, cfg.conv.mu, cfg.conv.alpha, cfg.conv.q, cfg.conv.dt) == (
        0.028,
        0.975,
        1.5e-3,
        0.6,
        20,
    )
    assert profiles.train_config("paper", "avgg16").epochs == 280
    assert profiles.train_config("cpu", "vgg16", epochs=3, eta=0.01).conv.eta == 0.01
    with pytest.raises(ValueError, match="unknown knob"):
        profiles.train_config("cpu", "vgg16", epoch=3)
    with pytest.raises(ValueError, match="unknown profile"):
        profiles.train_config("gpu", "vgg16")
    with pytest.raises(ValueError, match="unknown model"):
        profiles.train_config("cpu", "resnet")


def test_smoke_training_lowers_loss_and_beats_chance(synth10):
    cfg = smoke(epochs=2)
    model = runs.build_model(cfg, 10)
    loss0, _ = train.evaluate(model, synth10.x_train, synth10.y_train)
    metrics = train.train(model, synth10, cfg, progress=False)
    loss1, acc = train.evaluate(model, synth10.x_train, synth10.y_train)
    assert loss1 < loss0
    assert metrics[-1]["train_loss"] < metrics[0]["train_loss"]
    assert metrics[-1]["test_acc"] > 0.3  # chance is 0.1


def test_same_seed_same_weights_and_cache_hit(synth10, monkeypatch, tmp_path):
    cfg = smoke(epochs=1)
    a = runs.get_run(cfg, synth10, progress=False)
    monkeypatch.setenv("MECH_CACHE", str(tmp_path / "other"))
    b = runs.get_run(cfg, synth10, progress=False)
    assert a.key == b.key and same_weights(a.model, b.model)
    c = runs.get_run(replace(cfg, seed=1), synth10, progress=False)
    assert not same_weights(a.model, c.model)

    def no_training(*args, **kwargs):
        raise AssertionError("retrained although cached")

    monkeypatch.setattr(train, "train", no_training)
    hit = runs.get_run(cfg, synth10, progress=False)
    assert same_weights(hit.model, b.model)
    info = json.loads((hit.path / "run.json").read_text())
    assert info["config"]["seed"] == 0 and len(info["metrics"]) == 1 and "torch" in info["versions"]
    assert info["wall_seconds"] > 0


def test_testing_only_after_the_last_epoch_keeps_weights_and_key(synth10):
    every = smoke(epochs=2)
    last = replace(every, test_every=0)
    assert runs.run_key(every, synth10) == runs.run_key(last, synth10)
    a, b = runs.build_model(every, 10), runs.build_model(last, 10)
    ma = train.train(a, synth10, every, progress=False)
    mb = train.train(b, synth10, last, progress=False)
    assert same_weights(a, b)
    assert [m["test_acc"] is None for m in mb] == [True, False] and mb[-1]["test_acc"] == ma[-1]["test_acc"]
    assert profiles.train_config("cpu", "vgg16").test_every == 0


def test_flip_evaluation_averages_the_softmax_of_each_image_and_its_mirror(synth10):
    cfg = smoke(epochs=1, test_flip=True)
    assert runs.run_key(cfg, synth10) == runs.run_key(replace(cfg, test_flip=False), synth10)
    model = runs.build_model(cfg, 10)
    metrics = train.train(model, synth10, cfg, progress=False)
    x, y = synth10.x_test, synth10.y_test
    with torch.no_grad():  # naive: probabilities of both views, averaged, one image at a time
        xs = [data.to_float(x[i : i + 1]) for i in range(len(y))]
        p = torch.cat([(model(v).softmax(1) + model(v.flip(3)).softmax(1)) / 2 for v in xs])
    loss, acc = train.evaluate(model, x, y, flip=True, batch_size=7)
    assert acc == pytest.approx((p.argmax(1) == y).float().mean().item())
    assert loss == pytest.approx(-p[torch.arange(len(y)), y].log().mean().item(), rel=1e-5)
    mirrored = torch.cat([x[..., :16], x[..., :16].flip(-1)], -1)  # images equal to their mirror image
    assert train.evaluate(model, mirrored, y, flip=True) == pytest.approx(train.evaluate(model, mirrored, y))
    assert loss != pytest.approx(train.evaluate(model, x, y)[0])  # the mirror views do count
    assert metrics[-1]["test_acc_flip"] == train.evaluate(model, x, y, flip=True)[1]


def test_hold_delays_the_first_decay():
    h = profiles.train_config("cpu", "vgg16", q=0.5, offset=3).conv  # dt = 1: first decay after epoch 4
    assert [h.factor(e) for e in (1, 4, 5, 6)] == pytest.approx([1, 1, 0.5, 0.25])


def test_linear_schedule_falls_to_eta_over_epochs_in_the_last_epoch():
    cfg = profiles.train_config("cpu", "vgg16", epochs=4, eta=0.1, schedule="linear")
    opt = train.make_optimizer(runs.build_model(cfg, 10, load_weights=False), cfg)
    lrs = []
    for e in range(1, 5):
        train.set_epoch_lr(opt, cfg, e)
        lrs += [g["lr"] for g in opt.param_groups]
    assert lrs == pytest.approx([0.1, 0.1, 0.075, 0.075, 0.05, 0.05, 0.025, 0.025])
    with pytest.raises(ValueError, match="unknown schedule 'cosine'"):
        profiles.train_config("cpu", "vgg16", schedule="cosine")


def test_onecycle_schedule_rises_to_eta_then_falls_to_zero_step_by_step(synth10):
    cfg = profiles.train_config("cpu", "vgg16", epochs=10, eta=0.1, schedule="onecycle")
    assert [cfg.cycle(t) for t in (0, 0.1, 0.2, 0.6, 1.0)] == pytest.approx([0.1, 0.55, 1.0, 0.5, 0.0])
    run = smoke(epochs=2, eta=0.05, schedule="onecycle")
    metrics = train.train(runs.build_model(run, 10), synth10, run, progress=False)
    n = -(-len(synth10.y_train) // run.batch_size)  # steps an epoch; the epoch's lr is its last step's
    assert [m["lr_conv"] for m in metrics] == pytest.approx(
        [0.05 * run.cycle((e * n - 1) / (2 * n)) for e in (1, 2)]
    )
    assert runs.run_key(run, synth10) != runs.run_key(smoke(epochs=2, eta=0.05), synth10)


def test_onecycle_run_resumed_after_an_epoch_ends_as_the_uninterrupted_one(synth10):
    """The per-step learning rate is a function of (epoch, step) alone, so a run resumed from its checkpoint
    continues on the same schedule."""
    import copy

    cfg = smoke(epochs=3, eta=0.05, schedule="onecycle")
    saved = {}
    straight = runs.build_model(cfg, 10)
    train.train(
        straight,
        synth10,
        cfg,
        progress=False,
        on_epoch=lambda st: saved.setdefault("state", copy.deepcopy(st)) if st["epoch"] == 1 else None,
    )
    resumed = runs.build_model(cfg, 10)
    metrics = train.train(resumed, synth10, cfg, state=saved["state"], progress=False)
    assert len(metrics) == 3 and same_weights(resumed, straight)


def test_label_smoothing_reaches_the_training_loss_and_is_checked(synth10):
    plain = smoke(epochs=1, eta=0.0)  # eta 0: both runs see the same logits on the same batches
    smoothed = smoke(epochs=1, eta=0.0, label_smoothing=0.5)
    losses = [
        train.train(runs.build_model(c, 10), synth10, c, progress=False)[0]["train_loss"]
        for c in (plain, smoothed)
    ]
    assert abs(losses[1] - losses[0]) > 1e-4  # only the targets differ
    assert runs.run_key(plain, synth10) != runs.run_key(smoothed, synth10)
    with pytest.raises(ValueError, match="label_smoothing must lie in"):
        profiles.train_config("cpu", "vgg16", label_smoothing=1.0)


def test_changed_knob_is_a_different_run(synth10):
    assert runs.run_key(smoke(), synth10) != runs.run_key(smoke(eta=0.03), synth10)
    assert runs.run_key(smoke(), synth10) != runs.run_key(smoke(), data.subset(synth10, 5))


WORKER = """
import sys, torch
from helpers.train import data
from helpers.train import profiles
from helpers.train import runs
cfg = profiles.train_config("smoke", "vgg16", n_train=None, n_test=None, epochs=4, batch_size=100)
ds = data.synthetic_cifar(10, n_train=int(sys.argv[1]), n_test=100, seed=0)
runs.get_run(cfg, ds, progress=False)
"""


def test_training_killed_mid_epoch_resumes_and_finishes(tmp_path):
    n = 3000
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.Popen([sys.executable, "-c", WORKER, str(n)], env=env, cwd=tmp_path)
    cache = tmp_path / "cache" / "runs"
    deadline = time.time() + 120
    while not list(cache.glob("*/checkpoint.pt")) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.3)  # now inside epoch 2
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    run_dir = next(cache.glob("*"))
    assert (run_dir / "checkpoint.pt").is_file() and not (run_dir / "model.pt").exists()
    cfg = profiles.train_config("smoke", "vgg16", n_train=None, n_test=None, epochs=4, batch_size=100)
    ds = data.synthetic_cifar(10, n_train=n, n_test=100, seed=0)
    resumed = runs.get_run(cfg, ds, progress=False)
    assert 1 <= resumed.info["resumed_from_epoch"] < 4 and len(resumed.info["metrics"]) == 4
    assert not (run_dir / "checkpoint.pt").exists() and not list(run_dir.glob("*.tmp"))
    # resuming continues exactly as an uninterrupted run
    straight = runs.build_model(cfg, 10)
    train.train(straight, ds, cfg, progress=False)
    assert same_weights(resumed.model, straight)


def test_corrupt_checkpoint_raises_a_clear_error(synth10):
    cfg = smoke()
    run_dir = runs.cache_root() / "runs" / runs.run_key(cfg, synth10)
    run_dir.mkdir(parents=True)
    (run_dir / "checkpoint.pt").write_bytes(b"\x00garbage")
    with pytest.raises(runs.CorruptCacheError, match="corrupt.*rm "):
        runs.get_run(cfg, synth10, progress=False)


def test_blocks_and_schedule_knobs_round_trip():

    c = profiles.train_config("cpu", "efficientnet_b0", blocks=[[3, 1], [4, 1]], schedule="linear")
    assert c.blocks == ((3, 1), (4, 1))
    assert TrainConfig.from_dict(json.loads(json.dumps(c.to_dict()))) == c
    step = profiles.train_config("cpu", "efficientnet_b0", schedule="step", frozen=0)  # the knobs' defaults
    old = step.to_dict()  # a run.json written before the knobs
    del old["blocks"], old["schedule"], old["frozen"]
    assert TrainConfig.from_dict(old) == step


def test_a_torchvision_cnn_takes_the_profiles_recipe_for_other_networks():
    from helpers.train import profiles

    cfg = profiles.train_config("cpu", "resnet18")
    other = profiles.CPU[profiles.OTHER]
    assert (
        cfg.model == "resnet18"
        and cfg.width == 1.0
        and cfg.epochs == other["epochs"]
        and cfg.input_size == 32
    )
    assert profiles.train_config("smoke", "mobilenet_v3_small", epochs=2).epochs == 2
    with pytest.raises(ValueError, match="unknown model 'torchvision'"):
        profiles.train_config("cpu", profiles.OTHER)  # the table's entry for other models is not a model
