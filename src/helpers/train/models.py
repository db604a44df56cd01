"""The architectures of both papers and their taps.

- VGG-16 (*mechanism* Fig. 1A): 13 conv layers (3x3, ReLU, batch norm optional), max-pooling
  after conv 2, 4, 7, 10, 13, three FC layers, output layer without bias. Taps after the
  pooling of layers 2, 4, 7, 10, 13.
- VGG-6 (*mechanism* Fig. 7A): 5 conv layers, each followed by 2x2 max-pooling, one FC layer.
- AVGG-16 (*mechanism* Fig. 8A): VGG-16 with only two poolings, 4x4 average pooling after
  conv 7 and 2x2 max-pooling after conv 13. Tap: 13.
- EfficientNet-B0 (torchvision's; *universal* Tables 2, 3, 5): paper stage s is
  ``features[s-1]``; taps at stages 1, 3, 4, 5, 7, 9, each average-pooled to the paper's grid.
- EfficientNet-Lite0/1/2 (B0 without squeeze-excitation, ReLU6; :mod:`helpers.train.pretrained`): B0's
  stages and taps, ImageNet weights that install with pip, the ``cpu`` profile's stand-in for B0.
- Any torchvision classification CNN by name, its taps found from its graph (:mod:`helpers.train.any_cnn`).

Both papers train the output layer **without bias**, so that every filter's field shows.
A tap is a graph node name, read with torchvision's ``feature_extraction`` (:mod:`helpers.train.taps`).
"""

from __future__ import annotations

import functools
from collections import OrderedDict

import torch
from torch import nn

from helpers.reference.printed import by_depth, tap_depth  # noqa: F401  (the taps' order: defined beside the papers' tables)
from helpers.train import pretrained as pretrained_mod
from helpers.train.any_cnn import Tap, TorchvisionCNN, stage_taps  # noqa: F401 (models.Tap, models.stage_taps)
from helpers.train.pretrained import ImageNetInput, MissingWeightsError  # noqa: F401 (models.ImageNetInput...)

EFFICIENTNETS = ("efficientnet_b0", *pretrained_mod.LITE)  # B0 and its stand-ins, EfficientNet-Lite0/1/2
STAND_IN_FOR = dict.fromkeys(pretrained_mod.LITE, "efficientnet_b0")  # a stand-in -> the paper's network
MODELS = ("vgg16", "vgg6", "avgg16", *EFFICIENTNETS)

# (out channels, pooling after this conv) for each conv layer, counted from 1 as in the papers.
_VGG16 = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
_VGG16_POOLS = {2: ("max", 2), 4: ("max", 2), 7: ("max", 2), 10: ("max", 2), 13: ("max", 2)}
_VGG6 = [64, 128, 256, 512, 512]  # assumption: VGG-16's widths, one conv per block (papers give none)
_VGG6_POOLS = {i: ("max", 2) for i in range(1, 6)}
_AVGG16_POOLS = {7: ("avg", 4), 13: ("max", 2)}
# EfficientNet-B0: paper stage -> grid of the 7x7 average pooling at 224x224 inputs (*universal*).
EFFNET_STAGE_GRIDS = {1: 16, 3: 8, 4: 4, 5: 2, 7: 1, 9: 1}


def tap_names(name: str, input_size: int | None = None) -> list[str]:
    """The names of a model's taps, shallow to deep, without building the model (a torchvision CNN is built,
    untrained, to find its stages at ``input_size``, default 32: :func:`stage_taps`)."""
    if check_model(name) not in MODELS:
        return list(_torchvision_tap_names(name, input_size or 32))
    if name in EFFICIENTNETS:
        return [f"stage {s}" for s in sorted(EFFNET_STAGE_GRIDS)]
    if name == "avgg16":
        return ["13"]
    return [str(i) for i in sorted(_VGG16_POOLS if name == "vgg16" else _VGG6_POOLS)]


@functools.lru_cache(maxsize=None)
def _torchvision_tap_names(name: str, input_size: int) -> tuple[str, ...]:
    """A torchvision CNN's tap names at ``input_size``: found once per process (a page checks them at every
    study)."""
    return tuple(t.name for t in build(name, 10, input_size=input_size).taps)


def paper_network(name: str | None) -> str | None:
    """The papers' network that ``name`` is, or stands in for (:data:`STAND_IN_FOR`: an EfficientNet-Lite
    for *universal*'s EfficientNet-B0), so that a claim about B0 is tested on its stand-in."""
    return STAND_IN_FOR.get(name, name)


def scaled(channels: int, width: float) -> int:
    """Channels times the width multiplier, at least 1."""
    return max(1, int(round(channels * width)))


class VGG(nn.Module):
    """A VGG-style network for 32x32 inputs with named layers (``features.conv3``, ``features.pool4``...)."""

    def __init__(
        self,
        arch: str,
        channels: list[int],
        pools: dict,
        n_fc: int,
        num_classes: int,
        width: float = 1.0,
        batch_norm: bool = True,
        input_size: int = 32,
    ):
        super().__init__()
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        c_in, side = 3, input_size
        for i, c in enumerate(channels, start=1):
            c = scaled(c, width)
            layers[f"conv{i}"] = nn.Conv2d(c_in, c, 3, padding=1, bias=not batch_norm)
            if batch_norm:
                layers[f"bn{i}"] = nn.BatchNorm2d(c)
            layers[f"relu{i}"] = nn.ReLU(inplace=True)
            if i in pools:
                kind, k = pools[i]
                layers[f"pool{i}"] = nn.MaxPool2d(k) if kind == "max" else nn.AvgPool2d(k)
                side //= k
            c_in = c
        self.features = nn.Sequential(layers)
        flat = c_in * side * side
        head: OrderedDict[str, nn.Module] = OrderedDict()
        hidden = scaled(512, width)
        for k in range(1, n_fc):  # hidden FC layers (VGG-16, AVGG-16: two), then the output layer
            head[f"fc{k}"] = nn.Linear(flat, hidden)
            head[f"relu_fc{k}"] = nn.ReLU(inplace=True)
            flat = hidden
        head["out"] = nn.Linear(flat, num_classes, bias=False)
        self.classifier = nn.Sequential(head)
        self.arch = arch
        self.input_size = input_size
        self.taps = [Tap(str(i), f"features.pool{i}") for i in sorted(pools)]
        if arch == "avgg16":
            self.taps = [Tap("13", "features.pool13")]

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


class EfficientNet(nn.Module):
    """EfficientNet-B0 (torchvision's) or an EfficientNet-Lite (:mod:`helpers.train.pretrained`) with a
    bias-free output layer; stage s = ``features[s-1]`` (*universal* Table 2's nine stages), its taps those of
    :data:`EFFNET_STAGE_GRIDS`. ``pretrained``: ImageNet weights (B0's from torchvision, Lite's from its pip
    package), the inputs mapped to what they expect (``input_norm``)."""

    def __init__(
        self,
        num_classes: int,
        width: float = 1.0,
        pretrained: bool = False,
        input_size: int = 224,
        load_weights: bool = True,
        blocks=(),
        arch: str = "efficientnet_b0",
    ):
        super().__init__()
        from torchvision.models import efficientnet as tv

        if pretrained and width != 1.0:
            raise ValueError(f"pretrained {arch} weights exist for width=1.0 only, not {width:g}")
        if pretrained:
            net = pretrained_mod.imagenet_network(arch, load_weights)
        elif arch in pretrained_mod.LITE:
            net = pretrained_mod.lite_network(arch, width)
        else:
            settings, last_channel = tv._efficientnet_conf(
                "efficientnet_b0", width_mult=width, depth_mult=1.0
            )
            net = tv.EfficientNet(settings, dropout=0.2, last_channel=last_channel)
        self.input_norm = pretrained_mod.input_norm(arch, pretrained)
        self.features = shorten(net.features, blocks)
        self.avgpool = net.avgpool
        self.classifier = nn.Sequential(
            OrderedDict(
                dropout=nn.Dropout(p=net.classifier[0].p, inplace=True),
                out=nn.Linear(net.classifier[1].in_features, num_classes, bias=False),
            )
        )
        self.arch = arch
        self.input_size = input_size
        self.taps = [Tap(f"stage {s}", f"features.{s - 1}", g) for s, g in sorted(EFFNET_STAGE_GRIDS.items())]

    def forward(self, x):
        x = self.avgpool(self.features(self.input_norm(x)))
        return self.classifier(torch.flatten(x, 1))


def shorten(features: nn.Sequential, blocks=()) -> nn.Sequential:
    """EfficientNet-B0 with stages cut short (*universal* Results): ``blocks`` holds (stage, k) pairs,
    each keeping the first k MBConv layers of that stage, e.g. ((3, 1), (4, 1)) or ((5, 2),).

    The first layer of a stage changes the channels and the stride, so any k >= 1 keeps the
    shapes of every later stage (and the pretrained weights of the layers kept still load).
    """
    for stage, k in blocks:
        depth = len(features[stage - 1]) if 2 <= stage <= len(features) - 1 else 0
        if not depth:
            raise ValueError(f"stage {stage} has no MBConv layers to cut: stages 2-{len(features) - 1} do")
        if not 1 <= k <= depth:
            raise ValueError(f"stage {stage} has {depth} layer(s): keep between 1 and {depth}, not {k}")
        features[stage - 1] = features[stage - 1][:k]
    return features


# --- any torchvision classification CNN ("your model", *universal*'s question beyond VGG and EfficientNet) --

_NOT_CNN = ("vit_", "swin_", "maxvit_")  # transformers: no spatial stages of filters


def torchvision_cnns() -> list[str]:
    """torchvision's classification CNNs by name (``torchvision.models.list_models``), the papers' own
    excluded."""
    import torchvision

    return [
        m
        for m in torchvision.models.list_models(module=torchvision.models)
        if not m.startswith(_NOT_CNN) and m not in MODELS
    ]


def check_model(name: str) -> str:
    """``name`` is one of the papers' models or a torchvision classification CNN; else a clear error."""
    if name in MODELS or (isinstance(name, str) and name in torchvision_cnns()):
        return name
    raise ValueError(
        f"unknown model {name!r}: choose one of {', '.join(MODELS)}, or any torchvision "
        f"classification CNN by name (e.g. resnet18, mobilenet_v3_small; "
        f"torchvision.models.list_models() lists them; transformers are not CNNs)"
    )


def build(
    name: str,
    num_classes: int,
    width: float = 1.0,
    *,
    batch_norm: bool = True,
    input_size: int | None = None,
    pretrained: bool = False,
    load_weights: bool = True,
    blocks=(),
) -> nn.Module:
    """Build one of the papers' models: ``vgg16``, ``vgg6``, ``avgg16`` or ``efficientnet_b0`` (or its
    stand-ins ``efficientnet_lite0/1/2``), or any torchvision classification CNN by name, untrained
    (:class:`TorchvisionCNN`: ``resnet18``, ``mobilenet_v3_small``...).

    ``width`` multiplies every layer's channel count (the ``cpu`` profile uses it);
    ``input_size`` is the side of the square inputs (32 for the VGGs; *universal* feeds
    EfficientNet-B0 224). The model carries ``model.taps``, shallow to deep.
    ``load_weights=False`` builds a pretrained model's architecture without fetching its weights
    (for loading a cached state dict). ``blocks`` cuts an EfficientNet's stages short (:func:`shorten`).
    ``pretrained``: an EfficientNet's ImageNet weights (:class:`MissingWeightsError` where they are missing).
    """
    check_model(name)
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    if not width > 0:
        raise ValueError(f"width must be positive, got {width!r}")
    if name in EFFICIENTNETS:
        return EfficientNet(
            num_classes,
            width,
            pretrained=pretrained,
            input_size=input_size or 224,
            load_weights=load_weights,
            blocks=blocks,
            arch=name,
        )
    if name not in MODELS:
        if blocks or pretrained:
            raise ValueError(
                f"{name} is built untrained and whole: blocks and pretrained are not knobs of it"
            )
        return TorchvisionCNN(name, num_classes, width, input_size or 32)
    if blocks:
        raise ValueError(f"blocks cuts an EfficientNet's stages; {name} has none")
    if pretrained:
        raise ValueError(f"no pretrained weights for {name}: the papers train it from scratch")
    size = input_size or 32
    if name == "vgg16":
        return VGG(name, _VGG16, _VGG16_POOLS, 3, num_classes, width, batch_norm, size)
    if name == "vgg6":
        return VGG(name, _VGG6, _VGG6_POOLS, 1, num_classes, width, batch_norm, size)
    return VGG(name, _VGG16, _AVGG16_POOLS, 3, num_classes, width, batch_norm, size)


def output_layer(model: nn.Module) -> nn.Linear:
    """The bias-free output layer of a model built by :func:`build`."""
    if isinstance(model, TorchvisionCNN):
        return model.net.get_submodule(model.out_name)
    return model.classifier.out
