"""How long each page takes at each profile, as measured: the one place these figures live (each page's header
shows its line; ``bench/README.md`` has the measurements behind them and their history).

``smoke`` and ``cpu`` were measured on the project's machine (2 CPU cores, 24 GB, no GPU; its speed varies by up
to 2.5 times between hours). ``paper`` is the plan's estimate (``python -m helpers plan --profile paper``:
training FLOPs at an assumed 20 TFLOP/s, nothing measured on a GPU; book page ``cluster``). A network is trained
once and cached, so a page that shares another page's network takes only its analysis when that page ran first.
"""

from __future__ import annotations

SOURCES = {
    "smoke": "the smoke book of 2026-12-01, 13:45 (`python -m helpers build --profile smoke --jobs 2` on the tests' "
    "generated data, on a quiet 2-core machine: 2.4 min with the HTML)",
    "cpu": "the whole `cpu` book from an empty cache of 2026-12-01, 19:28-20:36 (`time make book`: 68.1 min, on a "
    'quiet AMD EPYC machine, `bench/train_speed.py` 976 img/s; `bench/README.md`, "The book and its profiles '
    'now")',
    "paper": "the plan's estimate at 20 TFLOP/s (book page \"Running the paper's experiment on a GPU or a cluster\"); "
    "not measured",
}

# smoke: seconds per page, measured: helpers.book.build's "[i/n] name: ran (S s ...)" lines of the build in SOURCES["smoke"]
# (generated data of CIFAR's shape; the first page to need a network trains it).
SMOKE_SECONDS = {
    "architectures-taps": 7,
    "mechanism-dilution-filters": 12,
    "mechanism-fig2-layer-accuracy": 8,
    "mechanism-fig3-decision-matrices": 7,
    "mechanism-fig4-field-matrices": 13,
    "mechanism-fig5-cluster-statistics": 8,
    "mechanism-fig6-signal-noise": 7,
    "mechanism-fig7-vgg6": 9,
    "mechanism-fig8-avgg16": 7,
    "mechanism-threshold-robustness": 8,
    "training-dynamics": 8,
    "universal-afcc-vgg16": 9,
    "universal-effnet-afcc": 14,
    "universal-fig3-field-matrix": 8,
    "universal-fig4-label-snr": 8,
    "universal-table1-vgg16-cifar100": 9,
    "universal-table2-effnet-cifar100": 9,
    "universal-table3-effnet-imagenet": 20,
    "universal-table4-vgg16-cifar-k100": 14,
    "universal-table5-effnet-cifar-k100": 16,
    "universal-table6-vgg16-cifar-k10": 11,
    "your-model-mobilenet-v3-small": 12,
    "your-model-resnet18": 17,
}

_VGG16 = (
    "the `cpu` VGG-16 trains once for the pages that share it: 5.1-5.3 min (6 epochs of one-cycle at 50 s)"
)
_MECH = "the six VGG-16 pages that share Fig. 2's networks take 9-15 s each once those are trained; " + _VGG16
_UNIV = (
    "the *universal* VGG-16 pages take 9-45 s each with the K = 10 network trained (the AFCC page 45 s); "
    + _VGG16
)
_EFF = "the EfficientNet-B0 pages on 20,000 images: the full network 1.5-1.8 min, the two shortened ones 1.7 and 1.8"

CPU = {
    "architectures-taps": "a few seconds (no training)",
    "mechanism-dilution-filters": "9.3 min as the book's first page to train (2026-12-01: the VGG-16, 5.1 min, "
    "AVGG-16, 3.0 min, and their analysis)",
    "mechanism-fig2-layer-accuracy": "9.5 min with the first VGG-16 cached (2026-12-01: the second network, 5.3 min, "
    "and the probes of both; `cpu` trains 2); " + _VGG16,
    "mechanism-fig3-decision-matrices": _MECH,
    "mechanism-fig4-field-matrices": _MECH,
    "mechanism-fig5-cluster-statistics": _MECH,
    "mechanism-fig6-signal-noise": _MECH,
    "mechanism-threshold-robustness": _MECH,
    "mechanism-fig7-vgg6": "7.1 min with Fig. 2's two VGG-16 cached (2026-12-01: two VGG-6, 1.5 and 1.7 min, and "
    "their probes); " + _MECH,
    "mechanism-fig8-avgg16": "10 s when the dilution page ran first; AVGG-16 trains in 3.0 min (2026-12-01)",
    "universal-table1-vgg16-cifar100": _UNIV,
    "universal-fig3-field-matrix": _UNIV,
    "universal-fig4-label-snr": _UNIV,
    "universal-afcc-vgg16": _UNIV,
    "universal-table4-vgg16-cifar-k100": "12.2 min (2026-12-01: it trained the K = 3, 6, 8 networks, 1.6, 3.3, "
    "4.2 min); " + _UNIV,
    "universal-table6-vgg16-cifar-k10": "11 s when Table 4 ran first (the same K = 3, 6, 8, 10 networks); "
    + _UNIV,
    "universal-table2-effnet-cifar100": "32 s when the AFCC page ran first (the same network); " + _EFF,
    "universal-table5-effnet-cifar-k100": "3.1 min (2026-12-01: it trained K = 2, 4, 6 on 2,000 images a label, 0.4, "
    "0.7, 1.1 min); " + _EFF,
    "universal-effnet-afcc": "6.4 min (2026-12-01: the full and the two shortened networks); " + _EFF,
    "universal-table3-effnet-imagenet": "seconds without ImageNet (a dry run of the analysis at ImageNet's scale: "
    "about a minute); with ImageNet, one pass over 50,000 images at 224x224",
    "your-model-mobilenet-v3-small": "1.8 min (2026-12-01: 3 epochs of one-cycle on 15,000 images, 1.1 min of it)",
    "training-dynamics": "6.5 min with the `cpu` VGG-16 cached (2026-12-01: the analysis at its 3 kept epochs before "
    "the last, which Fig. 2 analyses); " + _VGG16,
    "your-model-resnet18": "4.2 min (2026-12-01: 3 epochs of one-cycle on 15,000 images, 2.9 min of it)",
}

_GPU_VGG16 = "0.28 GPU-hours (the VGG-16)"
PAPER = {
    "architectures-taps": "seconds (no training)",
    "mechanism-fig2-layer-accuracy": "1.12 GPU-hours (four VGG-16: the paper's 4 samples)",
    **{
        p: _GPU_VGG16
        for p in (
            "mechanism-fig3-decision-matrices",
            "mechanism-fig4-field-matrices",
            "mechanism-fig5-cluster-statistics",
            "mechanism-fig6-signal-noise",
            "mechanism-threshold-robustness",
            "universal-table1-vgg16-cifar100",
            "universal-fig3-field-matrix",
            "universal-fig4-label-snr",
            "universal-afcc-vgg16",
        )
    },
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
    return {
        "smoke": f"{_duration(smoke)}" if smoke is not None else "not measured",
        "cpu": CPU.get(page, "not measured"),
        "paper": PAPER.get(page, "not estimated"),
    }


def time_line(page: str, profile: str | None = None) -> str:
    """The Markdown line of a page's header: each profile's time, this build's profile first."""
    times = per_profile(page)
    order = ([profile] if profile in times else []) + [p for p in times if p != profile]
    return (
        "**Time per profile** (`smoke` and `cpu` measured on the project's 2-core CPU machine, `paper` "
        "estimated): "
        + "; ".join(f"`{p}`{' (this page)' if p == profile else ''}: {times[p]}" for p in order)
        + ". The minutes this build took are in the Summary at the end of the page."
    )
