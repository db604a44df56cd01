"""The papers' sentences that the book's claims test, quoted word for word (DESIGN.md, "Claims").

Each entry of :data:`QUOTES` is ``key: (paper, where, sentence)``: the paper by its short name (*mechanism* or
*universal*, see ``papers/README.md``), the place (section, figure or table) and the sentence verbatim, '...'
marking a cut. A claim record (:mod:`helpers.reference.claims`) names its sentence by the key;
tests/test_claims.py checks every sentence against the plain-text papers where ``../shared/papers`` is
present. The sentences about the papers' methods are in :mod:`helpers.reference.quotes_methods`.
"""

from helpers.reference.quotes_methods import METHODS

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
        "In addition, the average SRs from at least 𝑚 ≥ 10 are practically the same as those for VGG-16. "
        "Hence, 11 layers could produce maximal SRs, while training was accomplished using 16 layers.",
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
        "The results indicate that in layer 13 each one of the filters selects a single output label, "
        "independent of the input label (Fig. 3B, left).",
    ),
    "lower_filters_prefer": (
        "mechanism",
        "Results, 'Single-filter SR' (Fig. 3B)",
        "A similar preference also characterizes most of the filters in the lower layers (𝑚 < 13), where one "
        "or a few output labels are selected independently of the input label (Fig. 3B, right).",
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
    "greedy_reversed_order": (
        "mechanism",
        "Supplementary, Fig. 4 description (the clustering algorithm)",
        "While possibly alternating the results of a single filter, the overall obtained averaged results "
        "remain the same when performing the cluster creation while iterating in a reversed order, since "
        "those scenarios are very rare and occur in a negligible number of filters.",
    ),
    "noise_falls_every_threshold": (
        "mechanism",
        "Supplementary, 'Robustness to different threshold values'",
        "For all thresholds within this range, layer 13 yielded the lowest noise level ~1.5 and each filter "
        "in layer 13 is still comprised of a single cluster per filter. ... Furthermore, the monotonous "
        "decrease of the noise with layers was still exemplified for all threshold within this range.",
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
        "Results, 'Single-filter performance' (Fig. 5A); 'The mechanism underlying successful DL'",
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
    "layer10_vs_13": (
        "mechanism",
        "Discussion (Fig. 5A)",
        "Although the noise of layer 10 is higher than layer 13’s, it yields similar SRs which can be "
        "attributed to its smaller average cluster size (Fig. 5A).",
    ),
    "noise_after_pooling": (
        "mechanism",
        "Discussion",
        "For the other layers, the statistical features indicated that the noise was not monotonic and was "
        "typically significantly increased in the layers subsequent to the MP, for example, layers 8 and 11.",
    ),
    "appearances_equal": (
        "mechanism",
        "Results, 'Single-filter performance' (Fig. 5B)",
        "The results of a typical sample confirm that the number of occurrence of each label in clusters of "
        "layer 13 slightly fluctuates around their average values, ∼ 150 (Fig. 5B, left).",
    ),
    "appearances_equal__layer7": (
        "mechanism",
        "Results, 'Single-filter performance' (Fig. 5B)",
        "Similarly, for layer 7 with 256 filters, 1.3 clusters per filter, and an average cluster size of "
        "1.66 (Fig. 5A), ... and the appearance of each label slightly fluctuates around it.",
    ),
    "appearances_equal__vgg6": (
        "mechanism",
        "Results, 'Examination of VGG-6'",
        "In addition, the number of occurrences of each label in the clusters belonging to a layer was "
        "similar (not shown).",
    ),
    "silencing_label": (
        "mechanism",
        "Results, 'Single-filter performance' (Fig. 5B)",
        "Silencing a large fraction of filters, which include a specific label, impairs equalization "
        "among labels and substantially decreases the SRs.",
    ),
    "one_cluster_last_layer": (
        "mechanism",
        "Discussion",
        "A common trend of all the examined deep architectures was that, in the last CL, each filter "
        "consisted of only one cluster.",
    ),
    "subthreshold_negative__mechanism": (
        "mechanism",
        "Results, 'The mechanism underlying successful DL' (Fig. 5C)",
        "By definition, a diagonal filter cluster generates significant output fields on its "
        "internal labels (Fig. 4) with additional average negative output fields on the remaining "
        "labels (Fig. 5C, left).",
    ),
    "subthreshold_two_orders": (
        "mechanism",
        "Results, 'The mechanism underlying successful DL' (Figs. 5C, 6B)",
        "Similarly, when the input label differed from the diagonal cluster labels, its 10 output fields "
        "were all, on average, two orders of magnitude smaller than the output fields for labels belonging "
        "to the cluster (Figs. 5C, right, and 6B).",
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
        "The average signal (dashed blue horizontal line), $noise_I$ (red), and $noise_I + noise_E$ "
        "(orange) are 26.95, 0.46 and 1.3, respectively, ... **(B)** Similar to **(A)**, using the fields "
        "of the above-threshold elements of the filters. ... values are 301, 4.7, and 9.7, respectively.",
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
        "Hence, in the 150 filters, each of the nine labels, excluding the input label, appears on average "
        "33 times (2 ⋅ 150 ∶  9), ... These summed output fields (< 33) represent the first type of noise "
        "(Fig. 6C). ... resulting in a signal-to-noise ratio (SNR) > 5 (Fig. 6C, right).",
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
        "resulting in increased SRs with layers up to 0.92 at layer 5 (Fig. 7B). The three trends obtained "
        "for VGG-16 also characterized VGG-6. In the 5𝑡ℎ layer each filter consisted of only one cluster, "
        "and the noise decreased with increasing layers toward the output (Fig. 7C).",
    ),
    "vgg6_cluster_size": (
        "mechanism",
        "Results, 'Examination of VGG-6' (Fig. 7)",
        "This trend dominates the opposite trend, where the average cluster size decreases from 2.88 in "
        "VGG-16 to 2.6 in VGG-6 (Fig. 7C).",
    ),
    "avgg16": (
        "mechanism",
        "Results, 'Examination of AVGG-16' (Fig. 8)",
        "The cluster noise level, averaged over three trained samples, was equal to ~1.1, in "
        "comparison to 1.5 for VGG-16 (Fig. 5A). In addition, the average cluster size decreased "
        "from 2.88 for VGG-16 (Fig. 5A) to 2.5 for AVGG-16 (Fig. 8A).",
    ),
    "avgg16_accuracy": (
        "mechanism",
        "Results, 'Examination of AVGG-16' (Fig. 8)",
        "The improvement of the average SR of AVGG-16 by ~0.015 compared to that of VGG-16 can be attributed "
        "to the following two trends.",
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
    "effnet_signal_noise": (
        "universal",
        "Results of EfficientNet-B0 on CIFAR-100 (Table 2)",
        "... because $noise_E$ was doubled for EfficientNet-B0, whereas $C_s \\cdot N_c$ was reduced from "
        "5.2 in VGG-16 to only approximately 4. The accuracy improvement of EfficientNet-B0 probably stems "
        "from the enhanced *signal* of approximately 64, whereas it was only approximately 27 for VGG-16 "
        "(Eq. (1)), ...",
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
    "afcc_retrained__effnet": (
        "universal",
        "Applying filter cluster connections (AFCC)",
        "A similar effect was observed for EfficientNet-B0 trained on CIFAR-100, with an accuracy of "
        "0.867 (Table 2). ... After retraining the entire network ... with the same parameters, while "
        "including the 4900 non-zeroed weights only, the accuracy increased to ~ 0.873 , indicating that "
        "the FC layer can be significantly reduced and still yield similar or even increased accuracy "
        "(Supplementary Information).",
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
        "The exception of stage 3 in which n was non-monotonic (Table 3) may stem from the small $N_f = "
        "24$, resulting in $N_f \\cdot N_c \\cdot C_s \\sim 601 < 1000$... For stage 3, a large fraction of "
        "the labels (~ 500) did not appear in any of the clusters and their estimated signal was zero.",
    ),
    "matrix_types": (
        "mechanism",
        "Results, 'Single-filter performance' (Fig. 4)",
        "Three major matrix types exist, and the filters of each layer essentially belong to only one type. "
        "The first matrix type is associated with the 512 filters in layer 13 only (Fig. 4A).",
    ),
    "train_sr_layer7": (
        "mechanism",
        "Discussion",
        "The training set differed from the test set, where the SR increased rapidly toward 1, even for an "
        "intermediate layer trained with an FC layer to the output layer (Fig. 1). For instance, layer 7 in "
        "VGG-16 achieved an SR of ~0.999 on the training set.",
    ),
    "labels_each_appear__universal": (
        "universal",
        "Discussion",
        "Each label must appear at least once in the clusters of the layer, hence, 1280 filters in stage 9 "
        "of EfficientNet-B0 appear to be insufficient to classify, for example, 100,000 labels.",
    ),
    "effnet_semi_plateau": (
        "universal",
        "Results, EfficientNet-B0 on CIFAR-100 (Table 2)",
        "The semi-plateau of the accuracies of stages 4 and 5 was common to all examined datasets using "
        "EfficientNet-B0, which suggests that this architecture might be simplified without affecting its "
        "accuracy by removing, for example, some layers around stage 5",
    ),
    **METHODS,
}
