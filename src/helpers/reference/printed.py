"""The papers' reported numbers, as data (the one place notebooks take them from).

*universal* = Meir et al., Sci. Rep. 14:5881 (2024), Tables 1-6 and text;
*mechanism* = Tzach et al., arXiv:2305.18078 (2023), text and captions (its figures carry no
tables). Each table is a pandas DataFrame with the papers' columns; ``tap`` is the layer
(VGG-16) or ``stage s`` (EfficientNet-B0) as :mod:`helpers.train.models` names its taps.
"""

from __future__ import annotations

import io

import pandas as pd

NAME = {
    "vgg16": "VGG-16",
    "vgg6": "VGG-6",
    "avgg16": "AVGG-16",
    "efficientnet_b0": "EfficientNet-B0",
    "efficientnet_lite0": "EfficientNet-Lite0",  # the cpu profile's stand-in for EfficientNet-B0
    "efficientnet_lite1": "EfficientNet-Lite1",
    "efficientnet_lite2": "EfficientNet-Lite2",
}  # as printed

# EfficientNet-Lite0's ImageNet top-1 as its authors publish it (not one of the papers' numbers: the
# stand-in's card beside B0's, whose torchvision weights carry their own,
# ``EfficientNet_B0_Weights.IMAGENET1K_V1.meta``)
LITE_IMAGENET_TOP1 = {
    "efficientnet_lite0": (
        0.751,
        "TensorFlow's EfficientNet-Lite README (github.com/tensorflow/tpu, "
        "models/official/efficientnet/lite): top-1 75.1%",
    )
}


def tap_depth(tap) -> int:
    """A tap's depth, the number in its name: layer "13" -> 13, EfficientNet-B0's "stage 9" -> 9."""
    return int(str(tap).split()[-1])


def by_depth(frame, column: str = "tap", deep_first: bool = False):
    """The rows of a per-tap table ordered shallow to deep (the code's order everywhere), or ``deep_first`` as
    the papers print their tables (*universal* Tables 1-6); ``column`` names the taps."""
    return frame.sort_values(column, key=lambda c: c.map(tap_depth), ascending=not deep_first, kind="stable")


_COLUMNS = ["tap", "N_f", "F_s", "FC_s", "accuracy", "n", "N_c", "C_s"]

# Rows as printed: layer/stage, N_f, filter grid, FC_s, accuracy, n, N_c, C_s.
_TABLES = {
    # universal Table 1: VGG-16 on CIFAR-100
    ("universal", "table1", "vgg16", "cifar100", 100): """
13 512 1x1 512 0.745 277.1 1.7 7.7
10 512 2x2 2048 0.752 16.3 2.6 2.0
7 256 4x4 4096 0.577 117.9 2.8 2.7
4 128 8x8 8192 0.439 552.4 5.1 2.8
2 64 16x16 16384 0.352 987.8 5.8 3.2""",
    # universal Table 2: EfficientNet-B0 on CIFAR-100 (transfer learning, 224x224)
    ("universal", "table2", "efficientnet_b0", "cifar100", 100): """
9 1280 1x1 1280 0.867 31.6 1.2 3
7 192 1x1 192 0.729 232.0 3.5 2.1
5 80 2x2 320 0.503 308.7 3.6 1.7
4 40 4x4 640 0.502 436.9 5.2 1.7
3 24 8x8 1536 0.426 526.2 5.6 1.8
1 32 16x16 8192 0.259 1208.1 2.9 5.3""",
    # universal Table 3: EfficientNet-B0 on ImageNet (pretrained; 40,000/10,000 split of validation)
    ("universal", "table3", "efficientnet_b0", "imagenet", 1000): """
9 1280 1x1 1280 0.750 1057.7 3.5 4.4
7 192 1x1 192 0.489 5729.6 8.3 3.2
5 80 2x2 320 0.187 7168.0 8.9 2.6
4 40 4x4 640 0.136 13416.9 16.5 2.5
3 24 8x8 1536 0.065 6471.0 13.2 1.9
1 32 16x16 8192 0.022 50381.9 8.5 7.4""",
    # universal Table 4: VGG-16 on CIFAR-K/100
    ("universal", "table4", "vgg16", "cifar100", 10): """
13 512 1x1 512 0.926 3.26 1.01 2.2
10 512 2x2 2048 0.931 4.86 1.83 1.6
7 256 4x4 4096 0.908 10.11 1.47 1.7
4 128 8x8 8192 0.890 15.83 1.6 1.8
2 64 16x16 16384 0.829 18.64 1.6 2.0""",
    ("universal", "table4", "vgg16", "cifar100", 20): """
13 512 1x1 512 0.9115 9.92 1.02 3.7
10 512 2x2 2048 0.9115 13.6 2.33 1.9
7 256 4x4 4096 0.9065 33.6 1.64 2.31
4 128 8x8 8192 0.8465 57 2 2.4
2 64 16x16 16384 0.752 68.23 1.83 2.7""",
    ("universal", "table4", "vgg16", "cifar100", 40): """
13 512 1x1 512 0.8553 51.8 1.11 7.5
10 512 2x2 2048 0.8567 12.3 2.92 2
7 256 4x4 4096 0.7825 38.4 2.44 2.17
4 128 8x8 8192 0.6388 143.8 3.22 2.54
2 64 16x16 16384 0.5380 203.6 3.5 2.7""",
    ("universal", "table4", "vgg16", "cifar100", 60): """
13 512 1x1 512 0.8277 123.9 1.3 8.13
10 512 2x2 2048 0.8275 18.17 2.78 2.3
7 256 4x4 4096 0.7148 39.52 2.16 2.24
4 128 8x8 8192 0.5392 260.6 4.16 2.6
2 64 16x16 16384 0.4480 423.92 4.5 3""",
    # universal Table 5: EfficientNet-B0 on CIFAR-K/100
    ("universal", "table5", "efficientnet_b0", "cifar100", 10): """
9 1280 1x1 1280 0.986 3.8 1.08 1.6
7 192 1x1 192 0.955 8.3 1.80 1.3
5 80 2x2 320 0.851 10.6 1.85 1.2
4 40 4x4 640 0.845 12.8 2.15 1.3
3 24 8x8 1536 0.755 14.5 2.75 1.3
1 32 16x16 8192 0.634 18.1 1.55 1.9""",
    ("universal", "table5", "efficientnet_b0", "cifar100", 20): """
9 1280 1x1 1280 0.973 8.1 1.1 2.0
7 192 1x1 192 0.915 22.9 2.1 1.5
5 80 2x2 320 0.765 29.7 2.0 1.3
4 40 4x4 640 0.764 40.8 2.8 1.4
3 24 8x8 1536 0.645 48.1 3.4 1.4
1 32 16x16 8192 0.482 63.8 1.5 3.1""",
    ("universal", "table5", "efficientnet_b0", "cifar100", 40): """
9 1280 1x1 1280 0.935 16.4 1.1 2.4
7 192 1x1 192 0.849 64.2 2.6 1.7
5 80 2x2 320 0.652 85.2 2.7 1.4
4 40 4x4 640 0.650 111.3 3.3 1.5
3 24 8x8 1536 0.553 129.6 3.9 1.6
1 32 16x16 8192 0.362 223.6 1.9 3.9""",
    ("universal", "table5", "efficientnet_b0", "cifar100", 60): """
9 1280 1x1 1280 0.915 21.4 1.2 2.6
7 192 1x1 192 0.810 121.8 3.2 1.9
5 80 2x2 320 0.593 152.0 3.0 1.6
4 40 4x4 640 0.603 200.0 3.8 1.6
3 24 8x8 1536 0.511 252.3 4.8 1.7
1 32 16x16 8192 0.313 492.6 2.5 4.4""",
    # universal Table 6: VGG-16 on CIFAR-K/10 (K = 10 is mechanism's VGG-16 on CIFAR-10)
    ("universal", "table6", "vgg16", "cifar10", 3): """
13 512 1x1 512 0.988 0.07 1 1.02
10 512 2x2 2048 0.988 0.27 1.5 1.02
7 256 4x4 4096 0.989 0.67 1.2 1.06
4 128 8x8 8192 0.972 1.70 1.1 1.12
2 64 16x16 16384 0.927 1.78 1.1 1.25""",
    ("universal", "table6", "vgg16", "cifar10", 6): """
13 512 1x1 512 0.968 0.40 1 1.8
10 512 2x2 2048 0.967 1.16 2.4 1.3
7 256 4x4 4096 0.957 2.12 1.3 1.4
4 128 8x8 8192 0.930 6.69 1.2 1.6
2 64 16x16 16384 0.860 7.59 1.1 1.7""",
    ("universal", "table6", "vgg16", "cifar10", 8): """
13 512 1x1 512 0.961 0.63 1 2.2
10 512 2x2 2048 0.958 2.17 2.8 1.4
7 256 4x4 4096 0.954 4.07 1.2 1.6
4 128 8x8 8192 0.890 12.4 1.4 1.8
2 64 16x16 16384 0.783 13.0 1.3 1.8""",
    ("universal", "table6", "vgg16", "cifar10", 10): """
13 512 1x1 512 0.94 1.5 1 2.8
10 512 2x2 2048 0.94 3.8 3.2 1.6
7 256 4x4 4096 0.93 6.4 1.3 1.6
4 128 8x8 8192 0.85 18.3 1.4 2.1
2 64 16x16 16384 0.72 19.6 1.3 2.1""",
}


def _parse(text: str, model: str) -> pd.DataFrame:
    df = pd.read_csv(
        io.StringIO(text.strip()),
        sep=" ",
        header=None,
        names=["tap", "N_f", "grid", "FC_s", "accuracy", "n", "N_c", "C_s"],
    )
    side = df["grid"].str.split("x").str[0].astype(int)
    df["F_s"] = side * side
    df["tap"] = [f"stage {t}" if model == "efficientnet_b0" else str(t) for t in df["tap"]]
    return df[["tap", "N_f", "F_s", "grid", "FC_s", "accuracy", "n", "N_c", "C_s"]]


def table(name: str, K: int | None = None) -> pd.DataFrame:
    """A table of *universal* (``"table1"`` ... ``"table6"``); ``K`` picks the label count of Tables 4-6."""
    hits = {k: v for k, v in _TABLES.items() if k[1] == name and (K is None or k[4] == K)}
    if not hits:
        known = sorted({(k[1], k[4]) for k in _TABLES})
        raise KeyError(f"no table {name!r} with K={K}: known (table, K) pairs are {known}")
    frames = [
        _parse(text, key[2]).assign(K=key[4], model=key[2], dataset=key[3]) for key, text in hits.items()
    ]
    return pd.concat(frames, ignore_index=True)


# universal, "Applying filter cluster connections (AFCC)"
AFCC = {
    ("vgg16", "cifar100", "10"): dict(
        weights=204_800,
        zeroed=194_000,
        kept=10_800,
        estimate=10_600,
        accuracy_before=0.752,
        accuracy_after=0.752,
    ),
    ("efficientnet_b0", "cifar100", "stage 9"): dict(
        weights=128_000, kept=4_900, reduction=0.96, accuracy_before=0.867, accuracy_after=0.873
    ),
}

# universal, Fig. 4 caption (VGG-16 layer 10 on CIFAR-100): per-label averages
FIG4 = dict(
    boolean=dict(signal=26.95, noise_I=0.46, noise_I_plus_E=1.3),
    fields=dict(signal=301, noise_I=4.7, noise_I_plus_E=9.7),
)

# mechanism: numbers from the text and captions (VGG-16 / VGG-6 / AVGG-16 on CIFAR-10)
MECHANISM = dict(
    vgg16=dict(
        accuracy=0.94,
        accuracy_saturates_at_layer=10,
        noise={"2": 20.0, "10": 3.8, "13": 1.5},
        C_s={"13": 2.88, "7": 1.66},
        N_c={"13": 1.0, "7": 1.3},
        appearances={"13": 150, "7": 55},
        samples=4,
        dilution=dict(layer="13", removed=150, of=512, accuracy=0.94),
    ),
    vgg6=dict(accuracy=0.92, noise={"5": 3.14}, C_s={"5": 2.6}, N_c={"5": 1.0}, samples=5),
    avgg16=dict(
        accuracy=0.955,
        noise={"13": 1.1},
        C_s={"13": 2.5},
        N_c={"13": 1.0},
        samples=3,
        dilution=dict(layer="13", kept=100, of=512),
    ),
    thresholds=(0.3, 0.6),
)

# universal, "Results": shortened EfficientNet-B0 on CIFAR-100 (transfer learning)
SHORTENED = {
    "stages 3 and 4 cut to one layer": 0.864,
    "stage 5 cut from 3 to 2 layers": 0.862,
    "stage 9 removed, stage 8 (320 filters) through AFCC": 0.868,
}


PER_LAYER_STATS = (
    "accuracy",
    "n",
    "N_c",
    "C_s",
)  # the per-layer statistics the papers print (universal Tables 1-6)


def per_layer(model: str, N_l: int = 10) -> pd.DataFrame:
    """The papers' per-layer values of ``model`` on ``N_l`` labels (tap x :data:`PER_LAYER_STATS`, shallow to
    deep; NaN where a paper gives none): VGG-16 from *universal* Table 6 at K = 10 (*mechanism* Figs. 2 and
    5's network) or Table 1 (CIFAR-100), EfficientNet-B0 from Table 2 (CIFAR-100), VGG-6 and AVGG-16 from
    *mechanism*'s text (Figs. 7-8, CIFAR-10); empty for any other network or label count."""
    cols = list(PER_LAYER_STATS)
    tables = {
        ("vgg16", 10): ("table6", 10),
        ("vgg16", 100): ("table1", None),
        ("efficientnet_b0", 100): ("table2", None),
    }
    if (model, N_l) in tables:
        return by_depth(table(*tables[model, N_l])).set_index("tap")[cols].astype(float)
    ref = MECHANISM.get(model)
    if not isinstance(ref, dict) or N_l != 10:
        return pd.DataFrame(columns=cols, dtype=float)
    names = {"n": "noise", "N_c": "N_c", "C_s": "C_s"}  # mechanism's text calls n "noise"
    taps = sorted({t for k in names.values() for t in ref.get(k, {})}, key=tap_depth)
    return pd.DataFrame(
        {
            s: [ref.get(names[s], {}).get(t, float("nan")) if s in names else float("nan") for t in taps]
            for s in cols
        },
        index=pd.Index(taps, name="tap"),
    )
