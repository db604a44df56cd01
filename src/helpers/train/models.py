"""The architectures of both papers and their taps.

- VGG-16 (*mechanism* Fig. 1A): 13 conv layers (3x3, ReLU, batch norm optional), max-pooling
  after conv 2, 4, 7, 10, 13, three FC layers, output layer without bias. Taps after the
  pooling of layers 2, 4, 7, 10, 13.
- VGG-6 (*mechanism* Fig. 7A): 5 conv layers, each followed by 2x2 max-pooling, one FC layer.
- AVGG-16 (*mechanism* Fig. 8A): VGG-16 with only two poolings, 4x4 average pooling after
  conv 7 and 2x2 max-pooling after conv 13. Tap: 13.
- EfficientNet-B0 (torchvision's; *universal* Tables 2, 3, 5): paper stage s is
  ``features[s-1]``; taps at stages 1, 3, 4, 5, 7, 9, each average-pooled to the paper's grid.

Both papers train the output layer **without bias**, so that every filter's field shows.
A tap is a graph node name, read with torchvision's ``feature_extraction`` (:mod:`helpers.train.taps`).
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from dataclasses import dataclass

import torch
from torch import nn

from helpers.reference.printed import by_depth, tap_depth  # noqa: F401  (the taps' order: defined beside the papers' tables)

MODELS = ("vgg16", "vgg6", "avgg16", "efficientnet_b0")

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
    if name == "efficientnet_b0":
        return [f"stage {s}" for s in sorted(EFFNET_STAGE_GRIDS)]
    if name == "avgg16":
        return ["13"]
    return [str(i) for i in sorted(_VGG16_POOLS if name == "vgg16" else _VGG6_POOLS)]


@functools.lru_cache(maxsize=None)
def _torchvision_tap_names(name: str, input_size: int) -> tuple[str, ...]:
    """A torchvision CNN's tap names at ``input_size``: found once per process (a page checks them at every study)."""
    return tuple(t.name for t in build(name, 10, input_size=input_size).taps)


@dataclass(frozen=True)
class Tap:
    """A place to read a model: the paper's label, the graph node, and an optional pooling grid."""

    name: str
    node: str
    grid: int | None = None  # adaptive average pooling to grid x grid before the FC layer


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


class ImageNetInput(nn.Module):
    """Maps inputs in [-1, 1] to the mean/std normalization that ImageNet-pretrained weights expect."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def forward(self, x):
        return ((x + 1) / 2 - self.mean) / self.std


class EfficientNetB0(nn.Module):
    """torchvision's EfficientNet-B0 with a bias-free output layer; stage s = ``features[s-1]``."""

    def __init__(
        self,
        num_classes: int,
        width: float = 1.0,
        pretrained: bool = False,
        input_size: int = 224,
        dropout: float = 0.2,
        load_weights: bool = True,
        blocks=(),
    ):
        super().__init__()
        from torchvision.models import efficientnet as tv

        if pretrained:
            if width != 1.0:
                raise ValueError("pretrained EfficientNet-B0 weights exist for width=1.0 only")
            try:
                net = tv.efficientnet_b0(
                    weights=tv.EfficientNet_B0_Weights.IMAGENET1K_V1 if load_weights else None
                )
            except Exception as err:
                raise RuntimeError(
                    "could not load torchvision's ImageNet weights for EfficientNet-B0 "
                    f"({type(err).__name__}: {err}). They download from download.pytorch.org on first use and are "
                    "cached in $TORCH_HOME "
                    "(default ~/.cache/torch/hub/checkpoints/efficientnet_b0_rwightman-7f5810bc.pth); "
                    "copy that file there on a machine without network, or use pretrained=False."
                ) from err
            self.input_norm = ImageNetInput()
        else:
            settings, last_channel = tv._efficientnet_conf(
                "efficientnet_b0", width_mult=width, depth_mult=1.0
            )
            net = tv.EfficientNet(settings, dropout=dropout, last_channel=last_channel)
            self.input_norm = nn.Identity()
        self.features = shorten(net.features, blocks)
        self.avgpool = net.avgpool
        self.classifier = nn.Sequential(
            OrderedDict(
                dropout=nn.Dropout(p=dropout, inplace=True),
                out=nn.Linear(net.classifier[1].in_features, num_classes, bias=False),
            )
        )
        self.arch = "efficientnet_b0"
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


# --- any torchvision classification CNN ("your model", *universal*'s question beyond VGG and EfficientNet) ------

# torchvision models with a width knob; the others are built at their own width
TORCHVISION_WIDTH = {
    "mobilenet_v2": "width_mult",
    "mobilenet_v3_small": "width_mult",
    "mobilenet_v3_large": "width_mult",
}
_NOT_CNN = ("vit_", "swin_", "maxvit_")  # transformers: no spatial stages of filters


def torchvision_cnns() -> list[str]:
    """torchvision's classification CNNs by name (``torchvision.models.list_models``), the papers' own excluded."""
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


def _parent(model: nn.Module, qualified: str) -> tuple[nn.Module, str]:
    *path, leaf = qualified.split(".")
    return (model.get_submodule(".".join(path)) if path else model), leaf


def _blocks(net: nn.Module, input_size: int) -> list[tuple[str, int | None, int | None]]:
    """The network as a sequence of blocks ``(name, input side, output side)`` in the order they run: a module that
    shrinks its square maps more than twofold (``features`` of MobileNet, 32 -> 1) is replaced by its children,
    recursively, so that each block changes the resolution at most once (ResNet's ``layer2``, a stride-2 conv).
    Sides are ``None`` where a tensor is not a square 4-D map (flattened, or channels-last)."""

    def side(t):
        return int(t.shape[2]) if torch.is_tensor(t) and t.dim() == 4 and t.shape[2] == t.shape[3] else None

    seen: dict[str, list] = {}
    names = {m: n for n, m in net.named_modules()}

    def hook(module, args, out):
        x = args[0] if args else None
        seen.setdefault(names[module], [len(seen), side(x), side(out)])[1:] = [side(x), side(out)]

    handles = [m.register_forward_hook(hook) for m in net.modules() if m is not net]
    was = net.training
    try:
        with torch.no_grad():
            net.eval()(torch.zeros(2, 3, input_size, input_size))
    finally:
        net.train(was)
        for h in handles:
            h.remove()
    first_call = {}  # a module's place in the run: its first descendant's hook order (a container's hook runs last)
    for n, (k, _, _) in seen.items():
        for prefix in [n] + [n.rsplit(".", i)[0] for i in range(1, n.count(".") + 1)]:
            first_call[prefix] = min(first_call.get(prefix, k), k)

    def expand(prefix: str, module: nn.Module) -> list:
        out = []
        for child_name, child in module.named_children():
            name = f"{prefix}{child_name}"
            if name not in seen:
                continue  # not run (an auxiliary head in eval mode)
            _, a, b = seen[name]
            if a and b and a > 2 * b and any(True for _ in child.children()):
                out += expand(name + ".", child)
            else:
                out.append((name, a, b))
        return sorted(out, key=lambda blk: first_call[blk[0]])

    return expand("", net)


def stage_taps(net: nn.Module, input_size: int = 32) -> list[Tap]:
    """The taps of any CNN, found from its module graph: the end of each stage, i.e. the last block (:func:`_blocks`)
    whose output is a map of a given side, down to the map the classifier pools; a pooling layer closes the stage
    whose maps it pools, so the tap reads its output, as the papers' VGG taps read the map after each pooling.
    ResNet-18 at 32x32: the stem's ``maxpool`` (8x8), then ``layer1`` ... ``layer4`` (8x8 ... 1x1); torchvision's
    VGG-16: its five max-poolings (16x16 ... 1x1). Named ``stage 1``, ``stage 2``... shallow to deep."""
    last: dict[int, str] = {}  # map side -> the block that ends the stage working at that side
    for name, a, b in _blocks(net, input_size):
        module = net.get_submodule(name)
        if b is None or isinstance(module, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
            if last:
                break  # the global pooling or the classifier: the head follows
            continue
        pooling = isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)) and a is not None
        last[a if pooling else b] = (
            name  # a pooling layer closes the stage it pools: the tap reads its output
        )
    if not last:
        raise ValueError(
            f"{type(net).__name__} has no square feature maps at {input_size}x{input_size} inputs: "
            "not a CNN, or the inputs are too small"
        )
    return [Tap(f"stage {k}", last[side]) for k, side in enumerate(sorted(last, reverse=True), start=1)]


class TorchvisionCNN(nn.Module):
    """Any torchvision classification CNN, untrained (``weights=None``), with a bias-free output layer where its
    head ends in a linear layer (both papers' convention), in-place activations off (so that a tap's stored output
    is not overwritten by the next layer) and its taps found by :func:`stage_taps`."""

    def __init__(self, name: str, num_classes: int, width: float = 1.0, input_size: int = 32):
        super().__init__()
        import torchvision

        kw = {}
        if width != 1.0:
            if name not in TORCHVISION_WIDTH:
                raise ValueError(
                    f"{name} has no width knob in torchvision: use width=1.0 (models with one: "
                    f"{', '.join(TORCHVISION_WIDTH)})"
                )
            kw[TORCHVISION_WIDTH[name]] = width
        if name in ("googlenet", "inception_v3"):
            kw["aux_logits"] = False  # one output in training too: the auxiliary heads are not the method's
        try:
            self.net = torchvision.models.get_model(name, weights=None, num_classes=num_classes, **kw)
        except TypeError as err:
            raise ValueError(f"torchvision could not build {name} ({err})") from None
        for m in self.net.modules():
            if getattr(m, "inplace", False):
                m.inplace = False
        linears = [n for n, m in self.net.named_modules() if isinstance(m, nn.Linear)]
        if not linears:
            raise ValueError(
                f"{name}'s classifier does not end in a linear layer (SqueezeNet's is a convolution): "
                "the method reads the filters of the layers before a fully connected output; choose "
                "another CNN"
            )
        parent, leaf = _parent(self.net, linears[-1])
        old = getattr(parent, leaf)
        setattr(parent, leaf, nn.Linear(old.in_features, old.out_features, bias=False))
        self.out_name = linears[-1]
        self.arch = name
        self.input_size = input_size
        try:
            self.taps = [Tap(t.name, f"net.{t.node}") for t in stage_taps(self.net, input_size)]
        except RuntimeError as err:
            raise ValueError(
                f"{name} does not run on {input_size}x{input_size} inputs ({err}): choose a larger input_size"
            ) from None

    @property
    def features(self) -> nn.ModuleList:
        """Everything but the head that holds the output layer: the ``conv`` parameter group of training."""
        head = self.out_name.split(".")[0]
        return nn.ModuleList([m for n, m in self.net.named_children() if n != head])

    def forward(self, x):
        return self.net(x)


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
    """Build one of the papers' models: ``vgg16``, ``vgg6``, ``avgg16`` or ``efficientnet_b0``, or any torchvision
    classification CNN by name, untrained (:class:`TorchvisionCNN`: ``resnet18``, ``mobilenet_v3_small``...).

    ``width`` multiplies every layer's channel count (the ``cpu`` profile uses it);
    ``input_size`` is the side of the square inputs (32 for the VGGs; *universal* feeds
    EfficientNet-B0 224). The model carries ``model.taps``, shallow to deep.
    ``load_weights=False`` builds a pretrained model's architecture without fetching its weights
    (for loading a cached state dict). ``blocks`` cuts EfficientNet-B0's stages short (:func:`shorten`).
    """
    check_model(name)
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    if not width > 0:
        raise ValueError(f"width must be positive, got {width!r}")
    if name == "efficientnet_b0":
        return EfficientNetB0(
            num_classes,
            width,
            pretrained=pretrained,
            input_size=input_size or 224,
            load_weights=load_weights,
            blocks=blocks,
        )
    if name not in MODELS:
        if blocks or pretrained:
            raise ValueError(
                f"{name} is built untrained and whole: blocks and pretrained are not knobs of it"
            )
        return TorchvisionCNN(name, num_classes, width, input_size or 32)
    if blocks:
        raise ValueError(f"blocks cuts EfficientNet-B0's stages; {name} has none")
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
