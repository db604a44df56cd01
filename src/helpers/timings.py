"""How long each page takes at each profile, as measured: the one place these figures live (each page's header
shows its line; ``bench/README.md`` has the measurements behind them and their history).

``smoke`` and ``cpu`` were measured on the project's machine (2 CPU cores, 24 GB, no GPU; its speed varies by up
to 2.5 times between hours). ``paper`` is the plan's estimate (``python -m helpers.runs plan --profile paper``:
training FLOPs at an assumed 20 TFLOP/s, nothing measured on a GPU; book page ``cluster``). A network is trained
once and cached, so a page that shares another page's network takes only its analysis when that page ran first.
"""
from __future__ import annotations

SOURCES = {
    "smoke": "the smoke book of 2026-12-01, 13:45 (`python -m helpers.build --profile smoke --jobs 2` on the tests' "
             "generated data, on a quiet 2-core machine: 2.4 min with the HTML)",
    "cpu": "the `cpu` book of 2026-11-27 and the page groups of 2026-11-24 (`bench/README.md`, \"The book and its "
           "profiles now\")",
    "paper": "the plan's estimate at 20 TFLOP/s (book page \"Running the paper's experiment on a GPU or a cluster\"); "
             "not measured",
}

# smoke: seconds per page, measured: helpers.build's "[i/n] name: ran (S s ...)" lines of the build in SOURCES["smoke"]
# (generated data of CIFAR's shape; the first page to need a network trains it).
SMOKE_SECONDS = {
    "architectures-taps": 7, "mechanism-dilution-filters": 12, "mechanism-fig2-layer-accuracy": 8,
    "mechanism-fig3-decision-matrices": 7, "mechanism-fig4-field-matrices": 13,
    "mechanism-fig5-cluster-statistics": 8, "mechanism-fig6-signal-noise": 7, "mechanism-fig7-vgg6": 9,
    "mechanism-fig8-avgg16": 7, "mechanism-threshold-robustness": 8, "training-dynamics": 8,
    "universal-afcc-vgg16": 9, "universal-effnet-afcc": 14, "universal-fig3-field-matrix": 8,
    "universal-fig4-label-snr": 8, "universal-table1-vgg16-cifar100": 9, "universal-table2-effnet-cifar100": 9,
    "universal-table3-effnet-imagenet": 20, "universal-table4-vgg16-cifar-k100": 14,
    "universal-table5-effnet-cifar-k100": 16, "universal-table6-vgg16-cifar-k10": 11,
    "your-model-mobilenet-v3-small": 12, "your-model-resnet18": 17,
}

_VGG16 = "the `cpu` VGG-16 trains once for the pages that share it: 9.3-15.3 min (10 epochs at 55-90 s)"
_MECH = ("the nine *mechanism* pages took 9.4 min together (2026-11-27) with VGG-16 and VGG-6 already trained; "
         f"{_VGG16}")
_UNIV = ("the six *universal* VGG-16 pages took 27.5 min together from an empty cache (2026-11-24): VGG-16 on "
         "K = 10, 3, 6, 8 labels 9.3, 2.6, 5.7, 7.4 min, the analysis 2.5 min")
_EFF = ("the three EfficientNet-B0 pages took 29.2 min together from an empty cache (2026-11-24): the full network "
        "6.0 min, K = 2, 4, 6 1.2, 2.6, 3.6 min, the two shortened ones 5.7 and 5.8 min, the analysis 4.2 min")

CPU = {
    "architectures-taps": "a few seconds (no training)",
    "mechanism-fig2-layer-accuracy": "16.6 min with the first VGG-16 cached (2026-12-01: the second network and its "
                                     "probes; `cpu` trains 2); " + _MECH,
    "mechanism-fig3-decision-matrices": _MECH,
    "mechanism-fig4-field-matrices": _MECH,
    "mechanism-fig5-cluster-statistics": _MECH,
    "mechanism-fig6-signal-noise": _MECH,
    "mechanism-threshold-robustness": _MECH,
    "mechanism-fig7-vgg6": "10.9 min with both VGG-16 cached (2026-12-01, Fig. 2's two, which its accuracy gap also "
                           "reads: two VGG-6, 3.4 min each, and their probes); "
                           + _MECH,
    "mechanism-fig8-avgg16": _MECH + "; AVGG-16 trains in 2.4-3.8 min (on whichever of this page and the "
                                     "dilution page runs first)",
    "mechanism-dilution-filters": _MECH + "; AVGG-16 trains in 2.4-3.8 min (on whichever of this page and Fig. 8 "
                                          "runs first)",
    "universal-table1-vgg16-cifar100": _UNIV,
    "universal-fig3-field-matrix": _UNIV,
    "universal-fig4-label-snr": _UNIV,
    "universal-afcc-vgg16": _UNIV,
    "universal-table4-vgg16-cifar-k100": "22.5 min (2026-11-27: it trained the K = 3, 6, 8 networks); " + _UNIV,
    "universal-table6-vgg16-cifar-k10": "under a minute when Table 4 ran first (the same K = 3, 6, 8, 10 networks); "
                                        + _UNIV,
    "universal-table2-effnet-cifar100": _EFF,
    "universal-table5-effnet-cifar-k100": "16.7 min (2026-11-27: it trained K = 2, 4, 6); " + _EFF,
    "universal-effnet-afcc": "16.3 min (2026-11-27: the full and the two shortened networks); " + _EFF,
    "universal-table3-effnet-imagenet": "seconds without ImageNet (a dry run of the analysis at ImageNet's scale: "
                                        "about a minute); with ImageNet, one pass over 50,000 images at 224x224",
    "your-model-mobilenet-v3-small": "55 min (2026-12-01, 4 epochs at 32x32, training 35.5 min of it, with the 2 cores "
                                     "shared by other builds at about 3 times their load; bench/README.md)",
    "training-dynamics": "20.4 min from an empty cache (2026-12-01: the `cpu` VGG-16, 8.4 min, which the Fig. 2 page "
                         "shares, and the analysis at its 5 kept epochs, 11.8 min; bench/README.md)",
    "your-model-resnet18": "22.9 min (2026-12-01, 4 epochs at 32x32, training 19.3 min of it, on a quiet machine but "
                           "for a test run during two of the epochs; bench/README.md)",
}

_GPU_VGG16 = "0.28 GPU-hours (the VGG-16)"
PAPER = {
    "architectures-taps": "seconds (no training)",
    "mechanism-fig2-layer-accuracy": "1.12 GPU-hours (four VGG-16: the paper's 4 samples)",
    **{p: _GPU_VGG16 for p in ("mechanism-fig3-decision-matrices",
                               "mechanism-fig4-field-matrices", "mechanism-fig5-cluster-statistics",
                               "mechanism-fig6-signal-noise", "mechanism-threshold-robustness",
                               "universal-table1-vgg16-cifar100", "universal-fig3-field-matrix",
                               "universal-fig4-label-snr", "universal-afcc-vgg16")},
    "mechanism-fig7-vgg6": "1.42 GPU-hours (five VGG-6, the paper's 5 samples, and Fig. 2's four VGG-16; 0.30 "
                           "when Fig. 2 ran first)",
    "mechanism-fig8-avgg16": "3.53 GPU-hours (AVGG-16, 280 epochs, and the VGG-16)",
    "mechanism-dilution-filters": "3.53 GPU-hours (AVGG-16, 280 epochs, and the VGG-16)",
    "universal-table4-vgg16-cifar-k100": "0.75 GPU-hours (four VGG-16 on CIFAR-K/10)",
    "universal-table6-vgg16-cifar-k10": "0.75 GPU-hours (four VGG-16 on CIFAR-K/10)",
    "universal-table2-effnet-cifar100": "0.05-0.15 GPU-hours (a lower bound: EfficientNet-B0 uses its FLOPs worse)",
    "universal-table5-effnet-cifar-k100": "0.05-0.15 GPU-hours (a lower bound, as Table 2)",
    "universal-effnet-afcc": "0.05-0.15 GPU-hours (a lower bound, as Table 2)",
    "universal-table3-effnet-imagenet": "one pass over ImageNet's 50,000 validation images (no training)",
    "your-model-mobilenet-v3-small": "not estimated (200 epochs of VGG-16's recipe)",
    "your-model-resnet18": "not estimated (200 epochs of VGG-16's recipe)",
    "training-dynamics": _GPU_VGG16 + " and the analysis of 9 networks (its 8 kept epochs and the last)",
}


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def per_profile(page: str) -> dict[str, str]:
    """The measured (``paper``: estimated) time of ``page`` at each profile, as text; "not measured" where none is."""
    smoke = SMOKE_SECONDS.get(page)
    return {"smoke": f"{_duration(smoke)}" if smoke is not None else "not measured",
            "cpu": CPU.get(page, "not measured"), "paper": PAPER.get(page, "not estimated")}


def time_line(page: str, profile: str | None = None) -> str:
    """The Markdown line of a page's header: each profile's time, this build's profile first."""
    times = per_profile(page)
    order = ([profile] if profile in times else []) + [p for p in times if p != profile]
    return ("**Time per profile** (`smoke` and `cpu` measured on the project's 2-core CPU machine, `paper` "
            "estimated): "
            + "; ".join(f"`{p}`{' (this page)' if p == profile else ''}: {times[p]}" for p in order)
            + ". The minutes this build took are in the Summary at the end of the page.")
