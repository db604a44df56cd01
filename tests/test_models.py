import pytest
import torch

from helpers import models, paper, taps


@pytest.mark.parametrize("name,table,size", [("vgg16", "table1", 32), ("efficientnet_b0", "table2", 224)])
def test_tap_tables_equal_the_papers_at_full_width(name, table, size):
    got = taps.tap_table(models.build(name, 100), size)
    ref = paper.table(table)
    assert got["tap"].tolist() == ref["tap"].tolist()
    for col in ("N_f", "F_s", "FC_s"):
        assert got[col].tolist() == ref[col].tolist(), col
        assert got[col].dtype.kind == "i"


def test_design_taps_of_vgg6_and_avgg16():
    t6 = taps.tap_table(models.build("vgg6", 10))
    assert t6["tap"].tolist() == ["5", "4", "3", "2", "1"] and t6["F_s"].tolist() == [1, 4, 16, 64, 256]
    ta = taps.tap_table(models.build("avgg16", 10))
    assert ta["tap"].tolist() == ["13"] and ta["N_f"].tolist() == [512] and ta["F_s"].tolist() == [16]


def test_width_multiplier_and_small_input():
    t = taps.tap_table(models.build("vgg16", 10, width=0.25))
    assert t["N_f"].tolist() == [128, 128, 64, 32, 16]
    e = taps.tap_table(models.build("efficientnet_b0", 10, width=0.5), 32)
    assert e["F_s"].tolist() == [1, 1, 4, 16, 64, 256]  # the paper's grids, reached without pooling at 32x32
    assert e["N_f"].iloc[0] == 640


@pytest.mark.parametrize("name", models.MODELS)
def test_forward_and_bias_free_output(name):
    m = models.build(name, 7, width=0.125, input_size=32)
    assert m(torch.zeros(2, 3, 32, 32)).shape == (2, 7)
    assert models.output_layer(m).bias is None


def test_bad_model_arguments():
    with pytest.raises(ValueError, match="unknown model 'vgg19'.*vgg16"):
        models.build("vgg19", 10)
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


@pytest.mark.parametrize("blocks,match", [(((1, 1),), "stage 1 has no MBConv"), (((9, 1),), "stage 9 has no MBConv"),
                                          (((3, 0),), "keep between 1 and 2"), (((5, 4),), "keep between 1 and 3")])
def test_bad_blocks(blocks, match):
    with pytest.raises(ValueError, match=match):
        models.build("efficientnet_b0", 10, width=0.25, blocks=blocks)
    with pytest.raises(ValueError, match="vgg16 has none"):
        models.build("vgg16", 10, blocks=((3, 1),))


@pytest.mark.parametrize("name", models.MODELS)
def test_tap_names_without_building_are_the_built_models_taps(name):
    size = 32 if name != "efficientnet_b0" else 64
    assert models.tap_names(name) == [t.name for t in models.build(name, 10, 0.125, input_size=size).taps]
