"""Any torchvision classification CNN as the method reads it: untrained, a bias-free output layer, and its
taps found from its module graph, the end of each stage (*universal*'s question beyond VGG and EfficientNet:
is the mechanism a property of deep CNNs in general?). :func:`helpers.train.models.build` builds it by name.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class Tap:
    """A place to read a model: the paper's label, the graph node, and an optional pooling grid."""

    name: str
    node: str
    grid: int | None = None  # adaptive average pooling to grid x grid before the FC layer


# torchvision models with a width knob; the others are built at their own width
TORCHVISION_WIDTH = {
    "mobilenet_v2": "width_mult",
    "mobilenet_v3_small": "width_mult",
    "mobilenet_v3_large": "width_mult",
}


def _parent(model: nn.Module, qualified: str) -> tuple[nn.Module, str]:
    *path, leaf = qualified.split(".")
    return (model.get_submodule(".".join(path)) if path else model), leaf


def _blocks(net: nn.Module, input_size: int) -> list[tuple[str, int | None, int | None]]:
    """The network as a sequence of blocks ``(name, input side, output side)`` in the order they run: a module
    that shrinks its square maps more than twofold (``features`` of MobileNet, 32 -> 1) is replaced by its
    children, recursively, so that each block changes the resolution at most once (ResNet's ``layer2``, a
    stride-2 conv). Sides are ``None`` where a tensor is not a square 4-D map (flattened, or
    channels-last)."""

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
    # a module's place in the run: its first descendant's hook order (a container's hook runs last)
    first_call = {}
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
    """The taps of any CNN, found from its module graph: the end of each stage, i.e. the last block
    (:func:`_blocks`) whose output is a map of a given side, down to the map the classifier pools; a pooling
    layer closes the stage whose maps it pools, so the tap reads its output, as the papers' VGG taps read the
    map after each pooling. ResNet-18 at 32x32: the stem's ``maxpool`` (8x8), then ``layer1`` ... ``layer4``
    (8x8 ... 1x1); torchvision's VGG-16: its five max-poolings (16x16 ... 1x1). Named ``stage 1``,
    ``stage 2``... shallow to deep."""
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
    """Any torchvision classification CNN, untrained (``weights=None``), with a bias-free output layer where
    its head ends in a linear layer (both papers' convention), in-place activations off (so that a tap's
    stored output is not overwritten by the next layer) and its taps found by :func:`stage_taps`."""

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
