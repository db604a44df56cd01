"""TODO docstring."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import ListedColormap

from helpers.book.page import skippable
from helpers.figures.mechanism_fig5_cluster_statistics import claims_noise, layer_statistics
from helpers.figures.style import (
    WIDTH,
    BookFigure,
    describe,
    label_axis,
    label_names,
    new_figure,
    short_name,
    show,
)
from helpers.method import filters
from helpers.method.filters import LayerAnalysis
from helpers.reference import claims
from helpers.reference import printed as paper_mod


def representative_filter(la: LayerAnalysis) -> int:
    """The live filter closest to its layer's averages: noise near n, cluster count near N_c."""
    nc = np.array([len(c) for c in la.clusters], float)
    score = np.abs(la.noise - la.n) / max(la.n, 1.0) + np.abs(nc - la.N_c)
    score[la.dead] = np.inf
    return int(np.argmin(score))


@skippable
def filter_view(study, tap: str, f: int | None = None) -> dict | None:
    """One filter's field matrix: normalized, clipped, clusters and noise, and the display permutation."""
    la = study.layers[tap]
    f = representative_filter(la) if f is None else int(f)
    W, means = study.probes[tap].W, study.means[tap]
    Mn = filters.normalize(filters.field_matrices(W[:, f : f + 1], means[:, f : f + 1]))[0]
    B = filters.clip(Mn, la.threshold)
    clusters = la.clusters[f]
    return dict(
        tap=tap,
        filter=f,
        M=Mn.numpy(),
        B=B.numpy(),
        clusters=clusters,
        noise=int(la.noise[f]),
        order=filters.display_order(clusters, len(Mn)),
        threshold=la.threshold,
        names=list(study.data.class_names),
    )


EXPLORER_THRESHOLDS = tuple(round(0.1 * k, 1) for k in range(1, 10))


def threshold_frames(
    views: list[dict] | None, rule: str = "greedy", thresholds=EXPLORER_THRESHOLDS
) -> list[dict] | None:
    """The shown filters' normalized field matrices (:func:`filter_view`) clipped at each threshold, with their
    clusters (``rule``), noise and display order: the frames of the threshold explorer
    (:func:`helpers.figures.plots.threshold_explorer`)."""
    if views is None:
        return None
    find = filters.RULES[rule]
    out = []
    for th in thresholds:
        filters.check_threshold(th)
        clipped = []
        for v in views:
            B = np.asarray(v["M"]) >= th
            clusters = find(B)
            clipped.append(
                dict(
                    B=B,
                    clusters=clusters,
                    noise=filters.noise_count(B, clusters),
                    order=filters.display_order(clusters, len(B)),
                )
            )
        out.append(dict(threshold=th, views=clipped))
    return out


def clusters_are_blocks(views: list[dict]) -> bool:
    """Every cluster of every shown filter is a block of ones of its clipped matrix (DESIGN step 6)."""
    return all(v["B"][np.ix_(c, c)].all() for v in views for c in v["clusters"])


@skippable("views", "study")
def claims_fig4(views: list[dict] | None, study) -> list[claims.Claim] | None:
    return [
        claims.consistency(
            "every shown filter's clusters are blocks of ones of its clipped matrix",
            clusters_are_blocks(views),
            "checked element by element",
            test="true by construction of the cluster rule",
        )
    ] + claims_noise(layer_statistics(study))


# clipped matrices: 0 below threshold (dark), 1 above (white); permuted: cluster blocks white, noise yellow
CLIPPED = ListedColormap(["#1f1f3a", "#ffffff"])


PERMUTED = ListedColormap(["#1f1f3a", "#ffffff", "#f2c200"])


class Explorer:
    """A figure with a slider: one image per value (``frames``: threshold, PNG, the line shown under it, its alt
    text), shown by :meth:`helpers.book.page.Page.figure` as HTML that needs no kernel."""

    def __init__(
        self,
        frames: list[dict],
        start: int,
        what: str,
        alt: str,
        paper: str,
        label: str,
        width: float = WIDTH,
    ):
        self.frames, self.start, self.what, self.alt, self.paper, self.label = (
            frames,
            start,
            what,
            alt,
            paper,
            label,
        )
        self.width, self.with_paper = width, False

    def _ipython_display_(self):
        show(self)


def _permuted(view: dict, B=None, clusters=None, order=None) -> np.ndarray:
    """The clipped matrix permuted so that clusters are diagonal blocks: 1 in a block, 2 noise, 0 below threshold."""
    B = view["B"] if B is None else B
    clusters = view["clusters"] if clusters is None else clusters
    order = view["order"] if order is None else order
    n = len(B)
    cid = np.full(n, -1)
    for k, c in enumerate(clusters):
        cid[list(c)] = k
    block = (cid[:, None] == cid[None, :]) & (cid[:, None] >= 0)
    return np.where(block, 1, np.where(np.asarray(B, bool), 2, 0))[np.ix_(order, order)]


def _cluster_text(clusters, names, n: int) -> str:
    labels = label_names(names, n)
    if not clusters:
        return "no cluster"
    if labels is None:
        return f"{len(clusters)} cluster(s) of size(s) {', '.join(str(len(c)) for c in clusters)}"
    return f"{len(clusters)} cluster(s): " + "; ".join(
        "{" + ", ".join(labels[i] for i in c) + "}" for c in clusters
    )


def field_matrix(view: dict | None, corner: int | None = None, paper: str = "*mechanism* Fig. 4"):
    """*mechanism* Fig. 4 / *universal* Fig. 3: normalized, clipped and permuted field matrix of one filter.

    In the permuted matrix the cluster blocks are white and the noise (ones outside every block) yellow.
    ``corner`` adds a magnified view of the permuted matrix's first ``corner`` labels (two rows of two panels).
    """
    if view is None:
        return None
    M, B, order, n = view["M"], view["B"], view["order"], len(view["M"])
    names = view.get("names")
    P_ = _permuted(view)
    if corner:
        fig, axes = new_figure(8.2, 2, 2)
        axes = axes.ravel()
    else:
        fig, axes = new_figure(3.3, 1, 3)
        axes = axes[0]
    im = axes[0].imshow(M, cmap="RdBu_r", vmin=-1, vmax=1)
    fig.colorbar(im, ax=axes[0], shrink=0.7)
    k = len(view["clusters"])
    axes[0].set_title("normalized", fontsize=10)
    axes[1].set_title(f"clipped at {view['threshold']:g}", fontsize=10)
    axes[1].imshow(B, cmap=CLIPPED, vmin=0, vmax=1)
    axes[2].imshow(P_, cmap=PERMUTED, vmin=0, vmax=2)
    axes[2].set_title(f"permuted: {k} cluster{'s' if k != 1 else ''},\nnoise {view['noise']}", fontsize=10)
    for k, ax in enumerate(axes[:3]):
        ax.grid(False)
        ax.set(xlabel="output label", ylabel="input label" if k == 0 or corner else "")
        label_axis(ax, names, n, "x", order if k == 2 else None)
        label_axis(ax, names, n, "y", order if k == 2 else None)
    if corner:
        c = min(corner, n)
        sub = list(order[:c])
        axes[3].imshow(P_[:c, :c], cmap=PERMUTED, vmin=0, vmax=2)
        axes[3].grid(False)
        axes[3].set(title=f"its first {c} labels, magnified", xlabel="output label")
        axes[3].set_xticks(range(c))
        axes[3].set_yticks(range(c))
        small = [short_name(str(names[i])) if names is not None else str(i) for i in sub]
        axes[3].set_xticklabels(small, fontsize=6, rotation=90)
        axes[3].set_yticklabels(small, fontsize=6)
    ones = int(np.asarray(B, bool).sum())
    what = (
        f"Field matrix of filter {view['filter']} of layer {view['tap']} ({n} labels): normalized by its maximal "
        f"element, clipped at {view['threshold']:g} ({ones} ones), and permuted so that its "
        f"{_cluster_text(view['clusters'], names, n)} form white diagonal blocks; the {view['noise']} yellow "
        f"elements, ones outside every block, are its noise."
    )
    alt = (
        f"Matrices of {n} by {n} labels of layer {view['tap']}, filter {view['filter']}: the normalized field "
        f"matrix in red and blue, the clipped one with {ones} white ones, and the permuted one with "
        f"{_cluster_text(view['clusters'], names, n)} as white blocks on the diagonal and {view['noise']} yellow "
        "noise elements"
        + (f"; a magnified view of its first {min(corner, n)} labels" if corner else "")
        + "."
    )
    return describe(fig, what, alt, paper)


def field_matrices(views: list[dict] | None, paper: str = "*mechanism* Fig. 4") -> list[BookFigure] | None:
    """:func:`field_matrix` of each view, shallow to deep."""
    if views is None:
        return None
    return [field_matrix(v, paper=paper) for v in sorted(views, key=lambda v: paper_mod.tap_depth(v["tap"]))]


def threshold_explorer(
    views: list[dict] | None, sweep: list[dict] | None, rule: str = "greedy"
) -> Explorer | None:
    """The shown filters' normalized field matrices clipped at each threshold (0.1 ... 0.9): per frame, the clipped
    matrix (top row) and the permuted one with its clusters (white blocks) and noise (yellow), a filter a column,
    shallow to deep. ``sweep`` (:func:`helpers.figures.mechanism.threshold_frames`) holds each threshold's clipped matrices,
    clusters (by ``rule``, the page's) and noise; the page shows a slider over the frames."""
    if views is None or not views or sweep is None:
        return None
    order_of = sorted(range(len(views)), key=lambda k: paper_mod.tap_depth(views[k]["tap"]))
    views = [views[k] for k in order_of]
    thresholds = [f["threshold"] for f in sweep]
    start_th = views[0]["threshold"]
    frames, history = [], {i: [] for i in range(len(views))}
    width = max(WIDTH, 2.9 * len(views))
    fig, axes = new_figure(
        2.9 * 2 + 0.4, 2, len(views), width=width
    )  # one figure, its images updated frame by frame
    images = []
    for k, v in enumerate(views):
        n, names = len(v["M"]), v.get("names")
        top, bottom = axes[0][k], axes[1][k]
        images.append(
            (
                top.imshow(np.zeros((n, n)), cmap=CLIPPED, vmin=0, vmax=1),
                bottom.imshow(np.zeros((n, n)), cmap=PERMUTED, vmin=0, vmax=2),
            )
        )
        for ax in (top, bottom):
            ax.grid(False)
        label_axis(top, names, n, "y", size=6.5)
        top.set_xticks([])
        top.set_xlabel("output labels: in the rows' order", fontsize=8)
    title = fig.suptitle("", fontsize=11)
    for frame in sweep:
        th, lines = frame["threshold"], []
        for k, v in enumerate(views):
            n, names = len(v["M"]), v.get("names")
            clipped = frame["views"][order_of[k]]
            B, clusters, noise, order = clipped["B"], clipped["clusters"], clipped["noise"], clipped["order"]
            history[k].append((th, len(clusters), noise))
            top, bottom = axes[0][k], axes[1][k]
            images[k][0].set_data(B.astype(float))
            images[k][1].set_data(_permuted(v, B, clusters, order))
            top.set_title(f"layer {v['tap']}, filter {v['filter']}: {int(B.sum())} ones", fontsize=9)
            bottom.set_title(
                f"permuted: {len(clusters)} cluster{'s' if len(clusters) != 1 else ''}, noise {noise}",
                fontsize=9,
            )
            label_axis(bottom, names, n, "x", order, size=6.5)
            label_axis(bottom, names, n, "y", order, size=6.5)
            lines.append(
                f"layer {v['tap']} filter {v['filter']}: {_cluster_text(clusters, names, n)}, noise {noise}"
            )
        title.set_text(f"threshold {th:.1f}")
        text = f"Threshold {th:.1f}: " + "; ".join(lines) + "."
        frames.append(
            dict(
                threshold=th,
                png=fig.png(dpi=100),
                text=text,
                alt=f"Clipped field matrices at threshold {th:.1f} (top row) and permuted with their "
                f"clusters as white blocks and noise in yellow (bottom row). " + text,
            )
        )
    start = int(np.argmin([abs(th - start_th) for th in thresholds]))
    trend = "noise " + "; ".join(
        f"{history[k][0][2]} at {thresholds[0]:.1f}, {history[k][start][2]} at "
        f"{thresholds[start]:.1f} and {history[k][-1][2]} at {thresholds[-1]:.1f} in layer "
        f"{v['tap']}"
        for k, v in enumerate(views)
    )
    what = (
        "Threshold explorer: the slider clips the same normalized field matrices of the filters above at "
        f"{thresholds[0]:.1f} to {thresholds[-1]:.1f} (the papers use 0.3 and call their results robust over "
        "0.3-0.6). Top row: the clipped matrix; bottom row: permuted, with the clusters (the "
        + ("papers' greedy" if rule == "greedy" else "order-independent")
        + f" rule) as white blocks and the noise in yellow. The {trend[0].upper() + trend[1:]}."
    )
    alt = (
        f"A slider over {len(frames)} thresholds from {thresholds[0]:.1f} to {thresholds[-1]:.1f} above an image "
        f"of {len(views)} filters' clipped and permuted field matrices; as the threshold rises the ones thin out "
        f"({trend})."
    )
    return Explorer(frames, start, what, alt, "*mechanism* Fig. 4 (its threshold, swept)", "threshold", width)
