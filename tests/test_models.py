import pytest
import torch

from helpers.reference import printed as paper
from helpers.train import models, taps


@pytest.mark.parametrize("name,table,size", [("vgg16", "table1", 32), ("efficientnet_b0", "table2", 224)])
def test_tap_tables_equal_the_papers_at_full_width(name, table, size):
    got = taps.tap_table(models.build(name, 100), size)
    ref = models.by_depth(
        paper.table(table)
    )  # the paper prints its tables deep first; the code is shallow first
    assert got["tap"].tolist() == ref["tap"].tolist() == models.tap_names(name)
    for col in ("N_f", "F_s", "FC_s"):
        assert got[col].tolist() == ref[col].tolist(), col
        assert got[col].dtype.kind == "i"


def test_design_taps_of_vgg6_and_avgg16():
    t6 = taps.tap_table(models.build("vgg6", 10))
    assert t6["tap"].tolist() == ["1", "2", "3", "4", "5"] and t6["F_s"].tolist() == [256, 64, 16, 4, 1]
    ta = taps.tap_table(models.build("avgg16", 10))
    assert ta["tap"].tolist() == ["13"] and ta["N_f"].tolist() == [512] and ta["F_s"].tolist() == [16]


def test_width_multiplier_and_small_input():
    t = taps.tap_table(models.build("vgg16", 10, width=0.25))
    assert t["N_f"].tolist() == [16, 32, 64, 128, 128]
    e = taps.tap_table(models.build("efficientnet_b0", 10, width=0.5), 32)
    assert e["F_s"].tolist() == [256, 64, 16, 4, 1, 1]  # the paper's grids, reached without pooling at 32x32
    assert e["N_f"].iloc[-1] == 640


@pytest.mark.parametrize("name", models.MODELS)
def test_forward_and_bias_free_output(name):
    m = models.build(name, 7, width=0.125, input_size=32)
    assert m(torch.zeros(2, 3, 32, 32)).shape == (2, 7)
    assert models.output_layer(m).bias is None


def test_bad_model_arguments():
    with pytest.raises(ValueError, match="unknown model 'vgg17'.*vgg16"):
        models.build("vgg17", 10)
    with pytest.raises(ValueError, match="width"):
        models.build("vgg16", 10, width=0)
    with pytest.raises(ValueError, match="pretrained"):
        models.build("vgg6", 10, pretrained=True)


def test_pretrained_weights_unavailable_gives_a_clear_message(monkeypatch):
    import torchvision.models._api as api

    def offline(*a, **k):
        raise OSError("no network")

    monkeypatch.setattr(api.WeightsEnum, "get_state_dict", offline)
    with pytest.raises(RuntimeError, match="TORCH_HOME"):
        models.build("efficientnet_b0", 100, pretrained=True)
    # the architecture alone builds without the weights (to load a cached run)
    m = models.build("efficientnet_b0", 100, pretrained=True, load_weights=False)
    assert isinstance(m.input_norm, models.ImageNetInput)


def test_shortened_efficientnet_keeps_the_first_layers_of_a_stage():
    torch.manual_seed(0)
    full = models.build("efficientnet_b0", 10, width=0.25, input_size=32)
    torch.manual_seed(0)
    cut = models.build("efficientnet_b0", 10, width=0.25, input_size=32, blocks=((3, 1), (4, 1), (5, 2)))
    assert [len(full.features[s - 1]) for s in (3, 4, 5)] == [2, 2, 3]  # torchvision's B0
    assert [len(cut.features[s - 1]) for s in (3, 4, 5)] == [1, 1, 2]
    # the layers kept are the first ones (they change channels and stride): same shapes, taps unchanged
    assert taps.tap_table(cut, 32).equals(taps.tap_table(full, 32))
    assert cut(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert sum(p.numel() for p in cut.parameters()) < sum(p.numel() for p in full.parameters())


@pytest.mark.parametrize(
    "blocks,match",
    [
        (((1, 1),), "stage 1 has no MBConv"),
        (((9, 1),), "stage 9 has no MBConv"),
        (((3, 0),), "keep between 1 and 2"),
        (((5, 4),), "keep between 1 and 3"),
    ],
)
def test_bad_blocks(blocks, match):
    with pytest.raises(ValueError, match=match):
        models.build("efficientnet_b0", 10, width=0.25, blocks=blocks)
    with pytest.raises(ValueError, match="vgg16 has none"):
        models.build("vgg16", 10, blocks=((3, 1),))


@pytest.mark.parametrize("name", models.MODELS)
def test_tap_names_without_building_are_the_built_models_taps(name):
    size = 32 if name != "efficientnet_b0" else 64
    assert models.tap_names(name) == [t.name for t in models.build(name, 10, 0.125, input_size=size).taps]


# --- any torchvision CNN ("your model" pages)
# ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, nodes, F_s",
    [
        (
            "resnet18",
            ["maxpool", "layer1", "layer2", "layer3", "layer4"],
            [64, 64, 16, 4, 1],
        ),  # stem after its pooling
        (
            "mobilenet_v3_small",
            ["features.0", "features.1", "features.3", "features.8", "features.12"],
            [256, 64, 16, 4, 1],
        ),
        (
            "vgg16_bn",
            ["features.6", "features.13", "features.23", "features.33", "features.43"],  # its five poolings,
            [256, 64, 16, 4, 1],
        ),  # as the papers tap their VGG-16
    ],
)
def test_torchvision_cnn_taps_are_the_ends_of_its_stages(name, nodes, F_s):
    """The taps found from the graph are the last block at each map size, a pooling layer closing the stage it
    pools, 16x16 down to 1x1 at 32x32 inputs, and read exactly what a forward hook on that block sees (a naive
    reading)."""
    torch.manual_seed(0)
    net = models.build(name, 10)
    nodes = [f"net.{n}" for n in nodes]
    assert [t.node for t in net.taps] == nodes and [t.name for t in net.taps] == [
        f"stage {k}" for k in range(1, 6)
    ]
    assert models.tap_names(name) == [t.name for t in net.taps]
    t = taps.tap_table(net, 32)
    assert t["F_s"].tolist() == F_s and (t["FC_s"] == t["N_f"] * t["F_s"]).all()
    if name == "vgg16_bn":
        assert all(isinstance(net.get_submodule(n), torch.nn.MaxPool2d) for n in nodes)
    seen = {}
    hooks = [
        net.get_submodule(n).register_forward_hook(lambda m, a, o, n=n: seen.__setitem__(n, o.detach()))
        for n in nodes
    ]
    x = torch.randn(3, 3, 32, 32)
    got = taps.extract_batch(net.eval(), x)
    with torch.no_grad():
        net(x)
    for h in hooks:
        h.remove()
    for tap in net.taps:
        assert torch.allclose(got[tap.name], seen[tap.node].flatten(2), atol=1e-6), tap
    assert models.output_layer(net).bias is None and models.output_layer(net).out_features == 10
    assert not any(getattr(m, "inplace", False) for m in net.modules())  # a tap is never overwritten in place
    conv = {id(p) for p in net.features.parameters()}
    assert id(models.output_layer(net).weight) not in conv and len(conv) < len(list(net.parameters()))


def test_torchvision_cnn_stages_follow_the_input_size_and_width():
    big = models.build("resnet18", 10, input_size=64)
    assert taps.tap_table(big, 64)["grid"].tolist() == ["16x16", "16x16", "8x8", "4x4", "2x2"]
    half = taps.tap_table(models.build("mobilenet_v3_small", 10, width=0.5), 32)
    assert half["N_f"].iloc[-1] < taps.tap_table(models.build("mobilenet_v3_small", 10), 32)["N_f"].iloc[-1]
    with pytest.raises(ValueError, match="resnet18 has no width knob"):
        models.build("resnet18", 10, width=0.5)
    with pytest.raises(ValueError, match="does not run on 32x32 inputs.*larger input_size"):
        models.build("alexnet", 10)
    with pytest.raises(ValueError, match="does not end in a linear layer"):
        models.build("squeezenet1_0", 10)
    net = models.build("googlenet", 10).train()  # no auxiliary heads: one output, in training too
    assert torch.is_tensor(net(torch.randn(2, 3, 32, 32)))


@pytest.mark.parametrize("name", ["vit_b_16", "resnet1000", "swin_t"])
def test_unknown_models_and_transformers_are_refused_clearly(name):
    with pytest.raises(ValueError, match=f"unknown model '{name}'.*torchvision classification CNN"):
        models.build(name, 10)


def test_by_depth_orders_taps_shallow_to_deep_or_as_the_papers_print():
    import pandas as pd

    t = pd.DataFrame(dict(tap=["stage 10", "stage 2", "13", "stage 1"]))
    assert models.by_depth(t)["tap"].tolist() == ["stage 1", "stage 2", "stage 10", "13"]
    assert models.by_depth(t, deep_first=True)["tap"].tolist() == ["13", "stage 10", "stage 2", "stage 1"]
