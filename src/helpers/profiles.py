"""The three profiles every notebook takes as its first knob: ``smoke``, ``cpu`` (default), ``paper``.

- ``paper``: the papers' architectures, epochs and hyper-parameters exactly (*mechanism*
  Supplementary, "Hyper-parameters"; a GPU is needed).
- ``cpu``: reduced width and epochs, same optimizer family (SGD + Nesterov + L2, step decay every epoch),
  so that the book builds on a 2-core laptop and the qualitative claims can show.
- ``smoke``: tiny subsets and one short epoch, for tests and CI (mini-batches of 20, so that
  batch norm's running statistics settle within the epoch's 25 steps).

Every knob a profile sets can be overridden: ``train_config("cpu", "vgg16", epochs=30)``.
"""
from __future__ import annotations

from dataclasses import fields, replace

from . import paper
from .models import check_model
from .train import Hyper, TrainConfig

PROFILES = ("smoke", "cpu", "paper")

# *mechanism* Supplementary, Figs. 1, 7, 8: (η, μ, α, epochs, (q, Δt)) per architecture.
_VGG16_PAPER = Hyper(0.028, 0.975, 1.5e-3, 0.6, 20)
PAPER = {
    "vgg16": dict(epochs=200, conv=_VGG16_PAPER, fc=_VGG16_PAPER),
    "vgg6": dict(epochs=200, conv=Hyper(0.0145, 0.97, 1e-3, 0.65, 20, q_late=0.55, switch=140),
                 fc=Hyper(0.002, 0.975, 1.2e-3, 0.65, 20, q_late=0.5, switch=140)),
    "avgg16": dict(epochs=280, conv=Hyper(0.00721, 0.98, 1.15e-3, 0.65, 20, q_late=0.55, switch=140),
                   fc=Hyper(0.0045, 0.982, 1.35e-3, 0.65, 20, q_late=0.55, switch=150, offset=10)),
    # *universal*'s EfficientNet-B0 hyper-parameters are in its Supplementary Information, which we
    # do not have: transfer learning from ImageNet weights at 224x224 with VGG-16's optimizer family.
    "efficientnet_b0": dict(epochs=30, pretrained=True, input_size=224,
                            conv=Hyper(0.005, 0.9, 1e-4, 0.6, 10), fc=Hyper(0.05, 0.9, 1e-4, 0.6, 10)),
}

# The FC layer (probe) from a tap to the outputs (*mechanism* Supplementary): (η, μ, α), (0.6, 20).
PAPER_PROBE = {
    "vgg16": Hyper(0.1, 0.975, 1e-5, 0.6, 20),
    "vgg6": Hyper(0.1, 0.975, 1e-5, 0.6, 20),
    "avgg16": Hyper(0.02, 0.995, 1e-8, 0.6, 20),
    "efficientnet_b0": Hyper(0.1, 0.975, 1e-5, 0.6, 20),
}

# cpu: measured on the 2-core machine (bench/README.md); the papers' optimizer family throughout (SGD, Nesterov,
# L2, learning rate times q every dt epochs), with dt = 1 so that a short run anneals: VGG-6's lr falls from 0.05 to
# 0.002 over 12 epochs (the papers' dt = 20 with our 12 epochs would never decay; a step schedule of 0.5 every 3
# epochs gave 0.771 in 8 epochs). Sized so that each part of the book builds in about 30 minutes on 2 cores from
# an empty cache: VGG-16 6-9 min per run, VGG-6 ~3, AVGG-16 ~4 (7 convs at 32x32: a 20,000-image subset at width
# 0.125), EfficientNet-B0 ~6 (2 epochs at 64x64). Longer VGG-16 runs reach more (bench/README.md;
# bench/vgg16_target.py).
_CPU_HYPER = Hyper(0.05, 0.9, 5e-4, 0.75, 1)
_CPU_SHORT = Hyper(0.05, 0.9, 5e-4, 0.6, 1)
# VGG-16: eta 0.08 for 3 epochs, then x 0.6 an epoch to 0.0022 at epoch 10: 0.788 (12 epochs of _CPU_HYPER: 0.801)
# in 17% less time, so that the universal VGG-16 pages (four runs) fit 30 minutes on a slow day (bench/README.md).
_CPU_VGG16 = Hyper(0.08, 0.9, 5e-4, 0.6, 1, offset=2)
CPU = {
    "vgg16": dict(width=0.25, epochs=10, conv=_CPU_VGG16, fc=_CPU_VGG16),
    "vgg6": dict(width=0.25, epochs=12, conv=_CPU_HYPER, fc=_CPU_HYPER),
    "avgg16": dict(width=0.125, epochs=4, n_train=20_000, conv=_CPU_SHORT, fc=_CPU_SHORT),
    # 64x64 inputs: each stage's map is twice the paper's grid and is average-pooled to it, as the 7x7 pooling
    # does at 224x224 (at 32x32 stages 7-9 see 1x1 maps). An epoch costs 1.4-1.7 of one at 32x32, and 2 epochs at 64
    # reach 0.549 against 0.468 for 4 at 32 in about the same time (bench/README.md).
    "efficientnet_b0": dict(width=0.25, epochs=2, input_size=64, conv=_CPU_SHORT, fc=_CPU_SHORT),
}
for _knobs in CPU.values():
    _knobs["test_every"] = 0  # the test set after the last epoch only: about 6% of a cpu run (bench/README.md)

_SMOKE_HYPER = Hyper(0.02, 0.9, 5e-4, 0.6, 1)
SMOKE = {m: dict(width=0.125, epochs=1, n_train=500, n_test=200, batch_size=20, conv=_SMOKE_HYPER, fc=_SMOKE_HYPER)
         for m in PAPER}
SMOKE["efficientnet_b0"] = dict(SMOKE["efficientnet_b0"], input_size=32)

# Any other torchvision CNN (the "your model" pages; the papers train none): VGG-16's recipe of each profile at the
# model's own width (torchvision has no width knob for most) and 32x32 inputs. At cpu: 4 epochs, eta 0.08 for 2, then
# x 0.6 an epoch, sized for ResNet-18, whose convolutions on the 1x1-4x4 maps of its last stages are slow backwards
# on this CPU (about 4 times a width-0.25 VGG-16's time an image; bench/README.md).
OTHER = "torchvision"
PAPER[OTHER] = dict(epochs=200, input_size=32, conv=_VGG16_PAPER, fc=_VGG16_PAPER)
_CPU_OTHER = Hyper(0.08, 0.9, 5e-4, 0.6, 1, offset=1)
CPU[OTHER] = dict(width=1.0, epochs=4, input_size=32, test_every=0, conv=_CPU_OTHER, fc=_CPU_OTHER)
SMOKE[OTHER] = dict(SMOKE["vgg16"], width=1.0, input_size=32)

_TABLES = {"paper": PAPER, "cpu": CPU, "smoke": SMOKE}

# Trained networks behind a page's trend over layers (Fig. 2, Fig. 7), when its `seeds` knob is None: at `paper` the
# papers' samples (*mechanism*: VGG-16 4, VGG-6 5, AVGG-16 3); at `cpu` 2, so that a trend is claimed only beyond a
# measured spread over seeds (helpers.claims.beyond_spread); at `smoke` 1.
SEEDS = {"smoke": 1, "cpu": 2}


def seeds(profile: str, model: str) -> int:
    """The number of trained networks a trend page averages at ``profile`` (:data:`SEEDS`; ``paper``: the paper's)."""
    if profile == "paper":
        ref = paper.MECHANISM.get(model)
        return int(ref.get("samples", 1)) if isinstance(ref, dict) else 1
    return SEEDS[profile]


HYPER_KNOBS = ("eta", "mu", "alpha", "q", "dt", "offset")


def train_config(profile: str, model: str, **overrides) -> TrainConfig:
    """The training configuration of ``model`` under ``profile``, with knobs overridden.

    Knobs are the fields of :class:`~helpers.train.TrainConfig` (``epochs``, ``width``,
    ``seed``, ``K``, ``dataset``...) plus ``eta``, ``mu``, ``alpha``, ``q``, ``dt`` and ``offset``
    (epochs before the first decay, beyond ``dt``), which set both parameter groups at once.
    """
    if profile not in _TABLES:
        raise ValueError(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)}")
    table = _TABLES[profile]
    if model not in table or model == OTHER:
        check_model(model)  # a torchvision CNN (the papers' models are in every table)
    known = {f.name for f in fields(TrainConfig)} | set(HYPER_KNOBS)
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"unknown knob(s) {unknown}: known knobs are {sorted(known)}")
    hyper = {k: overrides.pop(k) for k in HYPER_KNOBS if k in overrides}
    cfg = TrainConfig(model=model, **{**table.get(model, table[OTHER]), **overrides})
    if hyper:
        cfg = replace(cfg, conv=replace(cfg.conv, **hyper), fc=replace(cfg.fc, **hyper))
    if cfg.epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {cfg.epochs}")
    return cfg


def probe_hyper(model: str) -> Hyper:
    """The papers' SGD hyper-parameters for the FC layer from a tap of ``model`` (the same at every profile)."""
    return PAPER_PROBE.get(model, PAPER_PROBE["vgg16"])
