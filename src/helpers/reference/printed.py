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
}  # as printed


def tap_depth(tap) -> int:
    """A tap's depth, the number in its name: layer "13" -> 13, EfficientNet-B0's "stage 9" -> 9."""
    return int(str(tap).split()[-1])


def by_depth(frame, column: str = "tap", deep_first: bool = False):
    """The rows of a per-tap table ordered shallow to deep (the code's order everywhere), or ``deep_first`` as the
    papers print their tables (*universal* Tables 1-6); ``column`` names the taps."""
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


# The papers' sentences that each claim of the book tests: (paper, where, the sentence verbatim; '...' marks a cut).
# Checked word for word against the plain-text papers (tests/test_claims.py, where ../shared/papers is present).
QUOTES = {
    "acc_rises__mechanism": (
        "mechanism",
        "Results, 'SRs of progressive layers' (Fig. 2)",
        "The results indicate that the average SRs increase with 𝑚 and exhibit small fluctuations "
        "among the samples (Fig. 2).",
    ),
    "acc_rises__universal": (
        "universal",
        "Discussion (also Results 'Results of VGG-16 on CIFAR-100', Table 1)",
        "The test set results indicate that the accuracy increases progressively with the number of"
        " layers towards the output (Tables 1, 2, 3, 4, 5, 6).",
    ),
    "acc_saturates__mechanism": (
        "mechanism",
        "Results, 'SRs of progressive layers'",
        "In addition, the average SRs from at least 𝑚 ≥ 10 are practically the same as those for "
        "VGG-16. Hence, 11 layers could produce maximal SRs, while training was accomplished using "
        "16 layers.",
    ),
    "acc_saturates__universal": (
        "universal",
        "Results of VGG-16 on CIFAR-100 (Table 1)",
        "The training of these FC layers indicates that the accuracy increased progressively with "
        "the number of layers and saturated at $m = 10$, (Table 1), which is a result of the small "
        "image inputs of 32×32 .",
    ),
    "last_layer_reaches_network__universal": (
        "universal",
        "Results of EfficientNet-B0 on ImageNet",
        "This training of the stage 9 FC layer was similar to transfer learning^{26,27} and yielded"
        " an accuracy of approximately 0.75, where the original accuracy of the entire pre-trained "
        "EfficientNet-B0 was approximately 0.78 (Supplementary Information).",
    ),
    "deep_filter_one_label": (
        "mechanism",
        "Results, 'Single-filter SR' (Fig. 3B)",
        "The results indicate that in layer 13 each one of the filters selects a single output "
        "label, independent of the input label (Fig. 3B, left). ... in the lower layers (𝑚 < 13), "
        "where one or a few output labels are selected independently of the input label (Fig. 3B, "
        "right).",
    ),
    "noise_falls_layer_by_layer__mechanism": (
        "mechanism",
        "Results, 'Single-filter performance' (Fig. 5A)",
        "The second trend is that the average noise per filter decreases with layers toward the "
        "output, from ~20 in layer 2 to 1.5 in layer 13 (Fig. 5A).",
    ),
    "noise_falls_layer_by_layer__universal": (
        "universal",
        "Results of VGG-16 on CIFAR-100 (Table 1)",
        "The results clearly indicate that $n(m)$ decreases with m until the accuracy is saturated "
        "at $m = 10$, where the average cluster size is small at 2 out of 100 labels.",
    ),
    "noise_falls_every_threshold": (
        "mechanism",
        "Supplementary, 'Robustness to different threshold values'",
        "For all thresholds within this range, layer 13 yielded the lowest noise level ~1.5 and "
        "each filter in layer 13 is still comprised of a single cluster per filter. ... "
        "Furthermore, the monotonous decrease of the noise with layers was still exemplified for "
        "all threshold within this range.",
    ),
    "Nc_about_1_layer13__mechanism": (
        "mechanism",
        "Results, 'Single-filter performance' (Fig. 5A)",
        "First, each filter in layer 13 consists of only one diagonal cluster with an average size "
        "close to 3 (Fig. 5A).",
    ),
    "Nc_about_1_layer13__universal": (
        "universal",
        "Table 6 (VGG-16 on CIFAR-10/10, row 13)",
        "13\t512\t1×1\t512\t0.94\t1.5\t1\t2.8",
    ),
    "Cs_layer13": (
        "mechanism",
        "Results, 'Single-filter performance' (Fig. 5A)",
        "Each of the 512 filters belonging to layer 13 consists of only one preferred subset of "
        "labels, a cluster, which generally consists of 3 labels and much less often 2 or 4 labels "
        "(Fig. 5A). ... Assume for simplicity, all clusters in layer 13 are of size 3 × 3, which is"
        " close to their average size, 2.88 (Fig. 5A).",
    ),
    "Cs_layer10_distribution": (
        "mechanism",
        "Results, 'Single-filter performance' (Fig. 5A)",
        "Each filter in the 10𝑡ℎ layer typically consists of several diagonal block matrices with "
        "additional noise elements, where the number of clusters decreases as a function of their "
        "size and practically vanish above size 3 (Fig. 5A).",
    ),
    "appearances_equal": (
        "mechanism",
        "Results, 'Single-filter performance' (Fig. 5B)",
        "The results of a typical sample confirm that the number of occurrence of each label in "
        "clusters of layer 13 slightly fluctuates around their average values, ∼ 150 (Fig. 5B, "
        "left).",
    ),
    "subthreshold_negative__mechanism": (
        "mechanism",
        "Results, 'The mechanism underlying successful DL' (Fig. 5C)",
        "By definition, a diagonal filter cluster generates significant output fields on its "
        "internal labels (Fig. 4) with additional average negative output fields on the remaining "
        "labels (Fig. 5C, left).",
    ),
    "subthreshold_negative__universal": (
        "universal",
        "Results of VGG-16 on CIFAR-100 (after Eq. 4)",
        "Note that the above calculations neglect the subthreshold elements; however, they are "
        "typically several orders of magnitude smaller than the above-threshold elements and are "
        "frequently negative¹⁸ (Fig. 3).",
    ),
    "snr_rises__universal": (
        "universal",
        "Abstract",
        "First, the accuracy and SNR progressively increase with the layers.",
    ),
    "snr_rises__mechanism": (
        "mechanism",
        "Abstract",
        "This feature is an essential part of the underlying DL mechanism and is progressively "
        "sharpened with layers, resulting in enhanced signal-to-noise ratios and SRs.",
    ),
    "fig4_signal_noise__caption": (
        "universal",
        "Figure 4 caption",
        "The average signal (dashed blue horizontal line), $noise_I$ (red), and $noise_I + noise_E$"
        " (orange) are 26.95, 0.46 and 1.3, respectively, ... **(B)** Similar to **(A)**, using the"
        " fields of the above-threshold elements of the filters. ... values are 301, 4.7, and 9.7, "
        "respectively.",
    ),
    "fig4_signal_noise__text": (
        "universal",
        "Results of VGG-16 on CIFAR-100 (paragraph after Eq. 4)",
        "... the matrix (Fig. 3, left) was first normalized by its maximal value, which varied "
        "significantly among the filters, ... Nevertheless, the summation of the fields of the "
        "above-threshold elements, instead of their Boolean summations, indicates that SNR_I and "
        "SNR_E for each label were much greater than unity (Fig. 4B)...",
    ),
    "fig6_mechanism": (
        "mechanism",
        "Results, 'The mechanism underlying successful DL' (Fig. 6C)",
        "Hence, in the 150 filters, each of the nine labels, excluding the input label, appears on "
        "average 33 times (2 ⋅ 150 ∶  9), ... These summed output fields (< 33) represent the first"
        " type of noise (Fig. 6C). ... resulting in a signal-to-noise ratio (SNR) > 5 (Fig. 6C, "
        "right).",
    ),
    "vgg6": (
        "mechanism",
        "Results, 'Examination of VGG-6' (Fig. 7)",
        "The decreased average SR of VGG-6 (0.92) compared to that of VGG-16 (0.94) is mainly "
        "attributed to the increase in the average cluster noise (Fig. 7C). The noise in the 5𝑡ℎ "
        "layer of VGG-6 was 3.14 (Fig. 7C)...",
    ),
    "vgg6_trends": (
        "mechanism",
        "Results, 'Examination of VGG-6' (Fig. 7)",
        "resulting in increased SRs with layers up to 0.92 at layer 5 (Fig. 7B). The three trends obtained for "
        "VGG-16 also characterized VGG-6. In the 5𝑡ℎ layer each filter consisted of only one cluster, and the "
        "noise decreased with increasing layers toward the output (Fig. 7C).",
    ),
    "vgg6_cluster_size": (
        "mechanism",
        "Results, 'Examination of VGG-6' (Fig. 7)",
        "This trend dominates the opposite trend, where the average cluster size decreases from 2.88 in VGG-16 "
        "to 2.6 in VGG-6 (Fig. 7C).",
    ),
    "avgg16": (
        "mechanism",
        "Results, 'Examination of AVGG-16' (Fig. 8)",
        "The cluster noise level, averaged over three trained samples, was equal to ~1.1, in "
        "comparison to 1.5 for VGG-16 (Fig. 5A). In addition, the average cluster size decreased "
        "from 2.88 for VGG-16 (Fig. 5A) to 2.5 for AVGG-16 (Fig. 8A).",
    ),
    "dilution": (
        "mechanism",
        "Discussion",
        "Nevertheless, randomly removing ~150 filters out of 512 of the trained VGG-16 layer 13, "
        "which was FC to the output (Fig. 1B), did not affect the SRs, which remained at ~0.94.",
    ),
    "dilution__avgg16": (
        "mechanism",
        "Discussion",
        "Indeed, for AVGG-16, the average cluster size in layer 13 was 2.5 (Fig. 8), and the SRs "
        "remained practically the same, with 100 filters instead of 512.",
    ),
    "few_filters_120": (
        "mechanism",
        "Discussion",
        "Similarly, diluting the number of filters in layers 11 through 13, to ~350 filters, "
        "exhibited little to no effect on SRs. Decreasing the number of filters further toward 120 "
        "only slightly affected the SRs.",
    ),
    "train_vs_test_stats__mechanism": (
        "mechanism",
        "Discussion",
        "Other features of the training set, such as the distribution of cluster sizes and noise "
        "levels, were almost identical for layer 13, indicating that a zero training error could "
        "not be simply deduced from the statistical features.",
    ),
    "train_vs_test_stats__universal": (
        "universal",
        "Applying filter cluster connections (AFCC)",
        "Note that the same filter clusters were detected for both training and test sets¹⁸.",
    ),
    "error_linear_K__vgg_cifar100": (
        "universal",
        "CIFAR-100 with varying number of labels (Table 4, Fig. 5)",
        "The test error, $\\epsilon = 1 - \\text{accuracy}$, is expected to increase with K since the"
        " classification task is more complex; the results indicate that this increase is "
        "approximately linear with K (Fig. 5). ... a limited crossover is expected, as ϵ is "
        "expected to vanish for $K = 1$.",
    ),
    "error_linear_K__effnet": (
        "universal",
        "CIFAR-100 with varying number of labels (Table 5, Fig. 6)",
        "Similar to the case of VGG-16, the test error ϵ also increased approximately linearly with"
        " K and almost vanished, as expected, at $K = 1$ (Fig. 6).",
    ),
    "error_linear_K__cifar10": (
        "universal",
        "CIFAR-10 with varying number of labels (Table 6, Fig. 7)",
        "Similar to the case of CIFAR-100, the test error increased approximately linearly with K "
        "(Fig. 7), where the extrapolation for $K = 1, \\epsilon$ approaches zero, as expected.",
    ),
    "Cs_Nc_vary_little_with_K__vgg": (
        "universal",
        "CIFAR-100 with varying number of labels (Tables 1, 4)",
        "Interestingly, C_s and N_c were only slightly affected by K at the 10th layer (Tables 1, 4).",
    ),
    "Cs_Nc_vary_little_with_K__effnet": (
        "universal",
        "CIFAR-100 with varying number of labels (Table 5)",
        "In addition, the average cluster size C_s increased slightly from 1.6 for $K = 10$ to 3 "
        "for $K = 100$, whereas the number of clusters per filter N_c was approximately 1.1 and "
        "independent of K (Table 5).",
    ),
    "Cs_Nc_vary_little_with_K__imagenet": (
        "universal",
        "Results of EfficientNet-B0 on ImageNet",
        "Interestingly, the average cluster size, C_s , and number of clusters per filter, N_c , "
        "which were measured at the last stage or layer that saturated the accuracy, increased only"
        " slightly while N_f increased from 100 to 1000 (Tables 1, 2, 3).",
    ),
    "afcc_zeroes__vgg": (
        "universal",
        "Applying filter cluster connections (AFCC)",
        "All these weights which did not belong to a cluster in a specific filter were set to zero,"
        " resulting in approximately 194,000 zeroed weights out of 204,800 (a 95% reduction). The "
        "remaining 10,800 weights is well approximated by $512 \\cdot 2 \\cdot 2 \\cdot C_s \\cdot N_c "
        "\\approx 10,600$ (Table 1).",
    ),
    "afcc_zeroes__effnet": (
        "universal",
        "Applying filter cluster connections (AFCC)",
        "All of these weights that did not belong to a cluster in a specific filter were set to "
        "zero, resulting in 4900 ($\\sim 1280 \\cdot C_s \\cdot N_c$) non-zero weights only (a $\\sim "
        "96\\%$ reduction).",
    ),
    "stage8_afcc": (
        "universal",
        "Applying filter cluster connections (AFCC), last paragraph",
        "Another simplification is the removal of stage 9 from the construction of EfficientNet-B0 "
        "and connecting stage 8 with only 320 filters to the output layer, using the AFCC method. "
        "In this case, the obtained accuracy is at least 0.868...",
    ),
    "shortened_effnet": (
        "universal",
        "Applying filter cluster connections (AFCC), last paragraph",
        "Indeed, reducing the number of layers constituting stages 3 and 4 to one and training this"
        " modified EfficientNet-B0 on CIFAR-100 using transfer learning^{26,27}, resulted in an "
        "accuracy ~ 0.864 , which approached the original accuracy (Table 2).",
    ),
    "effnet_stage_rises": (
        "universal",
        "Results of EfficientNet-B0 on CIFAR-100 (Table 2); on ImageNet (Table 3)",
        "The results indicate that the accuracy almost always increased with the number of stages "
        "and the noise per filter decreased (Table 2), thereby supporting the proposed universal "
        "mechanism underlying DL.",
    ),
    "table3_anomaly": (
        "universal",
        "Results of EfficientNet-B0 on ImageNet (Table 3)",
        "The exception of stage 3 in which n was non-monotonic (Table 3) may stem from the small "
        "$N_f = 24$, resulting in $N_f \\cdot N_c \\cdot C_s \\sim 601 < 1000$... For stage 3, a large"
        " fraction of the labels (~ 500) did not appear in any of the clusters and their estimated "
        "signal was zero.",
    ),
    "architecture__vgg16": (
        "mechanism",
        "Results, 'SRs of progressive layers'; Fig. 1 caption",
        "consisting of 13 convolutional layers (CLs) with ReLU activation function, 5 max-pooling "
        "(MP) operators, 3 fully connected (FC) layers, and 10 output units.",
    ),
    "architecture__no_output_bias": (
        "mechanism",
        "Supplementary, 'Architectures and Training the FC layer'",
        "All three architectures were trained with no biases on the 10 output units. This was done "
        "to assure that each filter’s effect on the output fields will be exemplified and will not "
        "be overshadowed by the much larger biases.",
    ),
    "probe_training": (
        "mechanism",
        "Supplementary, 'Architectures and Training the fully connected layer'",
        "For each examined layer 𝑚, the output of the training set for the 𝑚𝑡ℎ layer was used as a "
        "preprocessed dataset to train the FC layer, using the hyper-parameters 𝜂 = 0.1, 𝜇 = 0.975,"
        " 𝛼 = 1𝑒 − 5, with a learning rate scheduler of 𝑞 = 0.6 every 20 epochs...",
    ),
    "optimizer": (
        "mechanism",
        "Supplementary, 'Optimization' and 'Hyper-parameters'",
        "The cross-entropy cost function was selected for the classification task and was minimized"
        " using the stochastic gradient descent algorithm4,5. ... The Nesterov momentum3 and L2 "
        "regularization method4 were applied.",
    ),
    "averaging__definitions": (
        "mechanism",
        "Supplementary, Fig. 5 description",
        "Panel A, the Av. Noise represents the average noise per filter in that specific layer, ..."
        " The Av. Clusters/Filter is the average number of clusters per filter, this represents the"
        " sole number of clusters regardless of their size that are exhibited in average in each "
        "filter.",
    ),
    "averaging__set_mechanism": (
        "mechanism",
        "Supplementary, Fig. 4 description",
        "Left column, the 10 output fields obtained solely from the weights emerging from a single "
        "filter were summed over all 10,000 inputs of the test set, resulting in a 10 × 10 "
        "matrix...",
    ),
    "averaging__set_universal_text": (
        "universal",
        "Results of VGG-16 on CIFAR-100",
        "The performance of each filter was calculated using test inputs, with all weights of the "
        "trained FC layer silenced except for those that emerged from the filter.",
    ),
    "averaging__set_universal_fig1": (
        "universal",
        "Figure 1 caption",
        "The matrix elements representing the average output field on an output unit for a specific"
        " input label are calculated using the training dataset.",
    ),
}


PER_LAYER_STATS = (
    "accuracy",
    "n",
    "N_c",
    "C_s",
)  # the per-layer statistics the papers print (universal Tables 1-6)


def per_layer(model: str, N_l: int = 10) -> pd.DataFrame:
    """The papers' per-layer values of ``model`` on ``N_l`` labels (tap x :data:`PER_LAYER_STATS`, shallow to deep;
    NaN where a paper gives none): VGG-16 from *universal* Table 6 at K = 10 (*mechanism* Figs. 2 and 5's network) or
    Table 1 (CIFAR-100), EfficientNet-B0 from Table 2 (CIFAR-100), VGG-6 and AVGG-16 from *mechanism*'s text (Figs.
    7-8, CIFAR-10); empty for any other network or label count."""
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
