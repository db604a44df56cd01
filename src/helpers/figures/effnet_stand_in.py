"""EfficientNet-Lite0 standing in for *universal*'s EfficientNet-B0 at the `cpu` profile: the sentence every
EfficientNet page's header carries, and how the two networks differ, so that a reader can weigh the stand-in.

*universal* transfer-learns an ImageNet-pretrained EfficientNet-B0 ("The training of the expanded 224×224
images of CIFAR-100 on EfficientNet-B0 was performed using transfer learning", Results). Its torchvision
weights need a download; EfficientNet-Lite0's install with pip (:mod:`helpers.train.pretrained`). Lite0 is
B0's topology (stages, kernels, strides, expansions, widths) without squeeze-excitation and with ReLU6 for
SiLU. The table's architecture rows are computed from the two models as this book builds them; the ImageNet
top-1 is each one's published figure (B0's from torchvision's weights card, Lite0's from TensorFlow's README).
"""

from __future__ import annotations

import pandas as pd
from torch import nn
from torchvision.models import efficientnet as tv
from torchvision.ops.misc import SqueezeExcitation

from helpers.reference import printed as paper
from helpers.train import models, pretrained

B0 = "efficientnet_b0"


def standing_in(model: str, cfg) -> bool:
    """Whether a page of ``model`` trains a stand-in for it (``cfg.model``, the profile's: EfficientNet-Lite0
    for the papers' EfficientNet-B0 at `cpu`)."""
    return cfg is not None and cfg.model != model and models.paper_network(cfg.model) == model


def label(cfg) -> str:
    """The header's sentence for a page whose run trains a stand-in for B0 (``cfg``: its TrainConfig)."""
    how = "ImageNet-pretrained; " if cfg.pretrained else "untrained, "
    return f"{paper.NAME[cfg.model]} ({how}B0 without squeeze-excitation, ReLU6) standing in for B0"


def _describe(net: nn.Module) -> dict[str, str]:
    acts = sorted({type(m).__name__ for m in net.modules() if isinstance(m, (nn.SiLU, nn.ReLU6, nn.ReLU))})
    bns = {m.eps for m in net.modules() if isinstance(m, nn.BatchNorm2d)}
    strided = [m for m in net.modules() if isinstance(m, nn.Conv2d) and m.stride != (1, 1)]
    return {
        "squeeze-excitation": "in every MBConv layer"
        if any(isinstance(m, SqueezeExcitation) for m in net.modules())
        else "none",
        "activation": ", ".join(acts),
        "MBConv layers": str(sum(len(s) for s in net.features[1:-1])),
        "parameters (1000-way head)": f"{sum(p.numel() for p in net.parameters()):,}",
        "batch-norm eps": ", ".join(f"{e:g}" for e in sorted(bns)),
        "stride-2 padding": "TensorFlow's SAME"
        if all(isinstance(m, pretrained.Conv2dSame) for m in strided)
        else "PyTorch's symmetric",
    }


def comparison(lite: str = "efficientnet_lite0") -> pd.DataFrame:
    """EfficientNet-B0 beside a Lite: the architecture computed from the models (torchvision's B0, this
    book's Lite, both with their 1000-way ImageNet heads), the input scaling their weights expect and their
    published ImageNet top-1."""
    b0, net = _describe(tv.efficientnet_b0(weights=None)), _describe(pretrained.lite_network(lite))
    card = tv.EfficientNet_B0_Weights.IMAGENET1K_V1.meta
    top1 = card["_metrics"]["ImageNet-1K"]["acc@1"]
    lite_top1, lite_source = paper.LITE_IMAGENET_TOP1.get(lite, (None, "not published here"))
    rows = [(k, b0[k], net[k]) for k in b0]
    rows += [
        ("inputs the ImageNet weights expect", "ImageNet's mean and std", "pixels scaled to [-1, 1]"),
        ("ImageNet weights", "torchvision, a download", f"pip package {pretrained.package(lite)}"),
        (
            "ImageNet top-1 (published)",
            f"{top1 / 100:.3f} (torchvision's IMAGENET1K_V1 card: acc@1 {top1})",
            "–" if lite_top1 is None else f"{lite_top1:.3f} ({lite_source})",
        ),
    ]
    return pd.DataFrame(rows, columns=["", paper.NAME[B0], paper.NAME[lite]])
