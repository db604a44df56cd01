"""The three profiles every notebook takes as its first knob: ``smoke``, ``cpu`` (default), ``paper``.

- ``paper``: the papers' architectures, epochs and hyper-parameters exactly (*mechanism*
  Supplementary, "Hyper-parameters"; a GPU is needed).
- ``cpu``: reduced width and epochs, same optimizer family (SGD + Nesterov + L2; a one-cycle learning rate for
  VGG-16, VGG-6 and other torchvision CNNs, step decay every epoch for AVGG-16 and EfficientNet-B0), so that
  the book
  builds on a 2-core laptop within 90 minutes and the claims can show.
- ``smoke``: tiny subsets and one short epoch, for tests and CI (mini-batches of 20, so that
  batch norm's running statistics settle within the epoch's 25 steps).

Every knob a profile sets can be overridden: ``train_config("cpu", "vgg16", epochs=30)``.
"""

from __future__ import annotations

from dataclasses import fields, replace

from helpers.reference import printed as paper
from helpers.train.loop import Hyper, TrainConfig
from helpers.train.models import check_model, paper_network
from helpers.train.pretrained import LITE

PROFILES = ("smoke", "cpu", "paper")

# --- paper: *mechanism* Supplementary, "Hyper-parameters" (Figs. 1, 7, 8); universal's EfficientNet-B0
# ------------
# Hyper(eta, mu, alpha, q, dt): SGD with Nesterov momentum mu and L2 alpha, the learning rate eta multiplied
# by q
# every dt epochs (q_late after epoch `switch`; `offset` shifts the decays).
_VGG16_PAPER = Hyper(eta=0.028, mu=0.975, alpha=1.5e-3, q=0.6, dt=20)
PAPER = {
    "vgg16": dict(epochs=200, conv=_VGG16_PAPER, fc=_VGG16_PAPER),
    "vgg6": dict(
        epochs=200,
        conv=Hyper(eta=0.0145, mu=0.97, alpha=1e-3, q=0.65, dt=20, q_late=0.55, switch=140),
        fc=Hyper(eta=0.002, mu=0.975, alpha=1.2e-3, q=0.65, dt=20, q_late=0.5, switch=140),
    ),
    "avgg16": dict(
        epochs=280,
        conv=Hyper(eta=0.00721, mu=0.98, alpha=1.15e-3, q=0.65, dt=20, q_late=0.55, switch=140),
        fc=Hyper(eta=0.0045, mu=0.982, alpha=1.35e-3, q=0.65, dt=20, q_late=0.55, switch=150, offset=10),
    ),
    # *universal*'s EfficientNet-B0 hyper-parameters are in its Supplementary Information, which we do not
    # have:
    # transfer learning from ImageNet weights at 224x224 with VGG-16's optimizer family.
    "efficientnet_b0": dict(
        epochs=30,
        pretrained=True,
        input_size=224,
        conv=Hyper(eta=0.005, mu=0.9, alpha=1e-4, q=0.6, dt=10),
        fc=Hyper(eta=0.05, mu=0.9, alpha=1e-4, q=0.6, dt=10),
    ),
}
# EfficientNet-Lite0/1/2 (the cpu profile's stand-ins for B0): B0's recipe at each one's own resolution
for _lite, _p in LITE.items():
    PAPER[_lite] = dict(PAPER["efficientnet_b0"], input_size=_p.resolution)

# The FC layer (probe) from a tap to the outputs (*mechanism* Supplementary): (eta, mu, alpha), decay (0.6,
# 20).
PAPER_PROBE = {
    "vgg16": Hyper(eta=0.1, mu=0.975, alpha=1e-5, q=0.6, dt=20),
    "vgg6": Hyper(eta=0.1, mu=0.975, alpha=1e-5, q=0.6, dt=20),
    "avgg16": Hyper(eta=0.02, mu=0.995, alpha=1e-8, q=0.6, dt=20),
    "efficientnet_b0": Hyper(eta=0.1, mu=0.975, alpha=1e-5, q=0.6, dt=20),
}

# --- cpu: the whole book from an empty cache within 90 minutes on 2 cores
# ----------------------------------------
# The papers' optimizer family throughout. VGG-16, VGG-6 and other torchvision CNNs take the one-cycle
# schedule
# (helpers.train.loop: eta/10 up to eta, then down to 0, set every step), the training trick that paid on this
# CPU
# (bench/train_tricks.py); VGG-6 trains as many epochs as VGG-16, so that Fig. 7 compares one budget, as the
# paper
# does. AVGG-16 (7 convolutions at 32x32) trains narrower on a subset; EfficientNet-B0 at 64x64 inputs, each
# stage's
# map average-pooled to the paper's grid. What each recipe reaches, in how many minutes, and why it was
# chosen:
# bench/README.md ("The book and its profiles now", the VGG-16 and EfficientNet-B0 studies).
_CPU_SHORT = Hyper(eta=0.05, mu=0.9, alpha=5e-4, q=0.6, dt=1)
_CPU_VGG16 = Hyper(
    eta=0.12, mu=0.9, alpha=5e-4, q=0.6, dt=1, offset=2
)  # q, dt, offset: -p schedule step only
_CPU_VGG6 = Hyper(eta=0.1, mu=0.9, alpha=5e-4, q=0.75, dt=1)
_CPU_OTHER = Hyper(eta=0.08, mu=0.9, alpha=5e-4, q=0.6, dt=1, offset=1)
CPU = {
    "vgg16": dict(width=0.25, epochs=6, schedule="onecycle", conv=_CPU_VGG16, fc=_CPU_VGG16),
    "vgg6": dict(width=0.25, epochs=6, schedule="onecycle", conv=_CPU_VGG6, fc=_CPU_VGG6),
    "avgg16": dict(width=0.125, epochs=4, n_train=20_000, conv=_CPU_SHORT, fc=_CPU_SHORT),
    # a K-label run keeps as many images a label (helpers.book.page.Page.config_for)
    "efficientnet_b0": dict(
        width=0.25, epochs=2, input_size=64, n_train=20_000, conv=_CPU_SHORT, fc=_CPU_SHORT
    ),
}
# *universal*'s EfficientNet-B0 is transfer-learned from ImageNet; torchvision's weights need a download, and
# from scratch this CPU stays far below the claims' floor (0.41-0.67). Its stand-in at cpu (issue 35):
# EfficientNet-Lite0 (B0 without squeeze-excitation, ReLU6) with the ImageNet weights its pip package
# installs, transfer-learned at 96x96, the first stages frozen: the recipe bench/transfer_recipe.py chose
# (bench/README.md, its section: one epoch gave 0.785, a point under the claims' floor of 0.789; two give
# 0.834). `-p model efficientnet_lite0` asks for it by name at any profile.
_CPU_LITE = dict(
    pretrained=True,
    width=1.0,
    input_size=96,
    epochs=2,
    n_train=20_000,
    frozen=5,  # the stem and stages 2-5 keep their ImageNet weights; stages 6-9 and the output layer train
    schedule="onecycle",
    conv=Hyper(eta=0.02, mu=0.9, alpha=1e-4),
    fc=Hyper(eta=0.2, mu=0.9, alpha=1e-4),
)
CPU["efficientnet_b0"] = dict(_CPU_LITE, model="efficientnet_lite0")  # the stand-in: TrainConfig.model
CPU.update(dict.fromkeys(LITE, _CPU_LITE))
for _knobs in CPU.values():
    _knobs["test_every"] = 0  # the test set after the last epoch only (bench/README.md)

# --- smoke: tests and CI (mini-batches of 20, so that batch norm's running statistics settle in 25 steps)
# ---------
_SMOKE_HYPER = Hyper(eta=0.02, mu=0.9, alpha=5e-4, q=0.6, dt=1)
SMOKE = {
    m: dict(width=0.125, epochs=1, n_train=500, n_test=200, batch_size=20, conv=_SMOKE_HYPER, fc=_SMOKE_HYPER)
    for m in PAPER
}
SMOKE["efficientnet_b0"] = dict(SMOKE["efficientnet_b0"], input_size=32)

# --- any other torchvision CNN (the "your model" pages; the papers train none)
# -----------------------------------
# VGG-16's recipe of each profile at the model's own width and 32x32 inputs; at cpu a demonstration of a few
# minutes on a subset (bench/README.md: what longer training gives); `-p epochs N` or the paper profile trains
# more.
OTHER = "torchvision"
PAPER[OTHER] = dict(epochs=200, input_size=32, conv=_VGG16_PAPER, fc=_VGG16_PAPER)
CPU[OTHER] = dict(
    width=1.0,
    epochs=3,
    n_train=15_000,
    input_size=32,
    test_every=0,
    schedule="onecycle",
    conv=_CPU_OTHER,
    fc=_CPU_OTHER,
)
SMOKE[OTHER] = dict(SMOKE["vgg16"], width=1.0, input_size=32)

_TABLES = {"paper": PAPER, "cpu": CPU, "smoke": SMOKE}

# Trained networks behind a page's trend over layers (Fig. 2, Fig. 7), when its `seeds` knob is None: at
# `paper` the
# papers' samples (*mechanism*: VGG-16 4, VGG-6 5, AVGG-16 3); at `cpu` 2, so that a trend is claimed only
# beyond a
# measured spread over seeds (helpers.reference.claims.beyond_spread); at `smoke` 1.
SEEDS = {"smoke": 1, "cpu": 2}


def seeds(profile: str, model: str) -> int:
    """The number of trained networks a trend page averages at ``profile`` (:data:`SEEDS`; ``paper``: the
    paper's)."""
    if profile == "paper":
        ref = paper.MECHANISM.get(model)
        return int(ref.get("samples", 1)) if isinstance(ref, dict) else 1
    return SEEDS[profile]


HYPER_KNOBS = ("eta", "mu", "alpha", "q", "dt", "offset")


def train_config(profile: str, model: str, **overrides) -> TrainConfig:
    """The training configuration of ``model`` under ``profile``, with knobs overridden.

    Knobs are the fields of :class:`~helpers.train.loop.TrainConfig` (``epochs``, ``width``,
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
    # a profile may train a stand-in for the model (its "model" knob: cpu's EfficientNet-Lite0 for B0)
    cfg = TrainConfig(**{"model": model, **table.get(model, table[OTHER]), **overrides})
    if hyper:
        cfg = replace(cfg, conv=replace(cfg.conv, **hyper), fc=replace(cfg.fc, **hyper))
    if cfg.epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {cfg.epochs}")
    return cfg


# AFCC on EfficientNet-B0 retrains the entire network with the pruned FC weights held at zero (*universal*:
# "After retraining the entire network with the same parameters"; it gives no count, and on VGG-16 "After
# only a few training epochs"): the epochs of that retraining, by the run's own recipe (helpers.train.masked).
AFCC_NETWORK_EPOCHS = {"smoke": 1, "cpu": 1, "paper": 5}


def afcc_network_epochs(profile: str, epochs: int | None = None) -> int:
    """``epochs``, else the profile's epochs of AFCC's whole-network retraining
    (:data:`AFCC_NETWORK_EPOCHS`)."""
    if epochs is None:
        return AFCC_NETWORK_EPOCHS[profile]
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"network_epochs must be an integer >= 1 (or None: the profile's), got {epochs!r}")
    return epochs


def probe_hyper(model: str) -> Hyper:
    """The papers' SGD hyper-parameters for the FC layer from a tap of ``model`` (the same at every
    profile)."""
    return PAPER_PROBE.get(paper_network(model), PAPER_PROBE["vgg16"])


def k_label_config(cfg: TrainConfig, num_labels: int) -> TrainConfig:
    """A K-label run of ``cfg`` (*universal* Tables 4-6) made to differ from the full run in its labels only:
    as many images per label (a subset sized for all ``num_labels`` labels keeps its share) and as many
    optimizer steps, its epochs (and a step decay's Δt, ``switch`` and ``offset``) times N / K, so that the
    error against K does not measure the SGD budget (with fixed epochs a 3-label run of CIFAR-10 takes 0.3 of
    the full run's steps). A full-label config is returned unchanged."""
    if cfg.K is None or cfg.K == num_labels:
        return replace(cfg, K=None, label_draw=None)
    stretch = num_labels / cfg.K

    def longer(h: Hyper) -> Hyper:
        switch = None if h.switch is None else round(h.switch * stretch)
        return replace(h, dt=max(1, round(h.dt * stretch)), offset=round(h.offset * stretch), switch=switch)

    n_train = None if cfg.n_train is None else max(cfg.K, cfg.n_train * cfg.K // num_labels)
    return replace(
        cfg, n_train=n_train, epochs=round(cfg.epochs * stretch), conv=longer(cfg.conv), fc=longer(cfg.fc)
    )
