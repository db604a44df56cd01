"""The figures of both papers, drawn with matplotlib/seaborn from the results of
:mod:`helpers.figures.mechanism` and :mod:`helpers.figures.universal`.

Each function returns a :class:`BookFigure` (a matplotlib Figure that knows what it shows: ``what``, its
``alt`` text and the ``paper`` figure it reproduces), or ``None`` when given ``None`` (a skipped page).
:meth:`helpers.book.page.Page.figure` shows it numbered and captioned; shown bare it captions itself from the
page being built. Layers run left to right from shallow to deep; label axes carry class names; the paper's
values, wherever the paper gives them, are drawn beside this run's in one style: grey, dashed, hollow
squares, marked "paper".

Nothing here imports torch (the build draws the overview's figures with :func:`overview_figure`).
"""
from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from helpers.reference import printed as paper_mod

sns.set_theme(style="whitegrid", context="notebook", font_scale=0.9)
# clipped matrices: 0 below threshold (dark), 1 above (white); permuted: cluster blocks white, noise yellow
CLIPPED = ListedColormap(["#1f1f3a", "#ffffff"])
PERMUTED = ListedColormap(["#1f1f3a", "#ffffff", "#f2c200"])
WIDTH = 8.5  # inches: the book's text column at 96 px an inch (the figures are shown at most this wide)
RUN = dict(color=sns.color_palette()[0], marker="o", ls="-", label="this run")
PAPER = dict(color="0.3", marker="s", ls="--", mfc="white", label="paper")
P = paper_mod.MECHANISM
NAME = paper_mod.NAME


SHOW: list = []  # helpers.book.page puts its show_figure here: a figure displayed bare is then numbered and captioned


def _show(fig) -> None:
    """A figure displayed bare in a notebook: captioned by the page (:data:`SHOW`), else its image alone."""
    from IPython.display import Image, display

    if SHOW:
        display(SHOW[0](fig))
    elif isinstance(fig, BookFigure):
        display(Image(fig.png()))
    else:
        display(fig.frames[fig.start]["text"])


class BookFigure(Figure):
    """A figure of the book: ``what`` (the caption's description, from the data), ``alt`` (the text that stands
    for the image), ``paper`` (the paper's figure it reproduces) and ``with_paper`` (the paper's values are drawn).
    Shown bare in a notebook it is captioned by :func:`helpers.book.page.show_figure`."""

    what: str = ""
    alt: str = ""
    paper: str = ""
    with_paper: bool = False

    def png(self, dpi: int = 150) -> bytes:
        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=dpi, facecolor="white")
        return buf.getvalue()

    def _ipython_display_(self):
        _show(self)


class Explorer:
    """A figure with a slider: one image per value (``frames``: threshold, PNG, the line shown under it, its alt
    text), shown by :meth:`helpers.book.page.Page.figure` as HTML that needs no kernel."""

    def __init__(self, frames: list[dict], start: int, what: str, alt: str, paper: str, label: str,
                 width: float = WIDTH):
        self.frames, self.start, self.what, self.alt, self.paper, self.label = frames, start, what, alt, paper, label
        self.width, self.with_paper = width, False

    def _ipython_display_(self):
        _show(self)


def _new(height: float, nrows: int = 1, ncols: int = 1, width: float = WIDTH, **kw):
    fig = BookFigure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def _describe(fig: BookFigure, what: str, alt: str, paper: str, with_paper: bool = False) -> BookFigure:
    fig.what, fig.alt, fig.paper, fig.with_paper = what.strip(), " ".join(alt.split()), paper, with_paper
    return fig


def shallow_to_deep(taps) -> list[str]:
    return sorted({str(t) for t in taps}, key=paper_mod.tap_depth)


def _short(name: str) -> str:
    return name if len(name) <= 8 else name[:7] + "."


def _names(names, n: int) -> list[str] | None:
    """Tick labels of a label axis: the class names (shortened) when there are few enough to read."""
    if names is None or n > 20:
        return None
    return [_short(str(x)) for x in list(names)[:n]]


def _label_axis(ax, names, n: int, axis: str = "x", order=None, size: float = 7.5) -> None:
    """Class names on a label axis (in ``order`` when permuted); a tick every 10 labels when there are many."""
    idx = list(range(n)) if order is None else list(order)
    labels = _names(names, n)
    if labels is None:
        step = 1 if n <= 20 else 10
        ticks = list(range(0, n, step))
        text = [str(idx[t]) for t in ticks]
    else:
        ticks, text = list(range(n)), [labels[i] for i in idx]
    if axis == "x":
        ax.set_xticks(ticks)
        ax.set_xticklabels(text, rotation=90 if labels else 0, fontsize=size)
    else:
        ax.set_yticks(ticks)
        ax.set_yticklabels(text, fontsize=size)


def _where(tap) -> str:
    """A tap as text: "layer 10", "stage 9"."""
    return str(tap) if str(tap).startswith(("stage", "layer")) else f"layer {tap}"


def _series(values, fmt: str = "{:.2f}") -> str:
    return ", ".join(fmt.format(v) for v in values)


def _paper_vgg16(col: str) -> dict[str, float]:
    """*mechanism*'s VGG-16 on CIFAR-10 layer by layer: *universal* Table 6 at K = 10 (the same network)."""
    return _paper(col, "vgg16")


def _paper(col: str, model: str) -> dict[str, float]:
    """The papers' per-layer ``col`` of ``model`` on CIFAR-10, tap -> value, where given (:func:`paper.per_layer`)."""
    return paper_mod.per_layer(model, 10)[col].dropna().to_dict()


PAPER_T6 = "*universal* Table 6 at K = 10, the same VGG-16 on CIFAR-10"


# --- mechanism ------------------------------------------------------------------------------------

def layer_accuracy(acc: pd.DataFrame | None, title: str = "", model: str = "vgg16"):
    """*mechanism* Fig. 2 (VGG-16) or 7 (VGG-6): (A) the FC layer's accuracy from each layer, mean and std over
    the networks, beside the paper's; (B) each network's, with the whole network's accuracy."""
    if acc is None:
        return None
    g = acc.groupby("layer")["accuracy"].agg(["mean", "std"]).fillna(0).sort_index()
    layers = [str(x) for x in g.index]
    x = np.arange(len(g))
    fig, ((a, b),) = _new(3.6, 1, 2)
    a.bar(x, g["mean"], yerr=g["std"], capsize=4, color=RUN["color"], alpha=0.85, label="this run (mean)")
    ref = _paper_vgg16("accuracy") if model == "vgg16" else {}
    if ref:
        a.plot(x, [ref.get(t, np.nan) for t in layers], **PAPER)
    a.set(xticks=x, xticklabels=layers, xlabel="layer m (FC layer from layer m to the output)",
          ylabel="test accuracy", ylim=(0, 1), title="A: per layer")
    for seed, s in acc.groupby("seed"):
        s = s.sort_values("layer")
        b.plot([layers.index(str(v)) for v in s["layer"]], s["accuracy"], "o-", alpha=0.8, label=f"network {seed}")
    net = float(acc["network"].mean())
    b.axhline(net, ls=":", c=RUN["color"], label=f"whole network {net:.3f}")
    if model in P and "accuracy" in P[model]:
        b.axhline(P[model]["accuracy"], ls="--", c=PAPER["color"],
                  label=f"paper: whole network {P[model]['accuracy']:g}")
    b.set(xticks=x, xticklabels=layers, xlabel="number of layers m", ylabel="test accuracy", ylim=(0, 1),
          title="B: each network")
    a.legend(fontsize=8, loc="lower right")
    b.legend(fontsize=8, loc="lower right")
    name = NAME.get(model, model)
    what = (f"{title + ': ' if title else ''}Test accuracy of an FC layer trained from each layer of {name}, "
            f"layers {layers[0]} to {layers[-1]} left to right: (A) the mean over {acc['seed'].nunique()} "
            f"network(s) with its standard deviation" + (f", beside the paper's ({PAPER_T6})" if ref else "")
            + f"; (B) each network, with the whole network's accuracy ({net:.3f}"
            + (f"; the paper: {P[model]['accuracy']:g})." if model in P else ")."))
    alt = (f"Two panels. A: bars of the mean test accuracy per layer {', '.join(layers)}: "
           f"{_series(g['mean'], '{:.3f}')}"
           + (f"; the paper's, dashed: {_series([ref.get(t, np.nan) for t in layers], '{:.2f}')}" if ref else "")
           + f". B: the accuracy of each network against the number of layers, and a horizontal line at the whole "
             f"network's {net:.3f}.")
    return _describe(fig, what, alt, {"vgg16": "*mechanism* Fig. 2", "vgg6": "*mechanism* Fig. 7B"}.get(
        model, "*mechanism* Fig. 2"), bool(ref) or model in P)


def decision_matrices(picked: dict | None, names=None):
    """*mechanism* Fig. 3: the decision matrices of the picked filters, shallow (left) to deep (right)."""
    if picked is None:
        return None
    taps = shallow_to_deep(picked)
    fig, axes = _new(4.4, 1, len(taps))
    parts = []
    for ax, tap in zip(axes[0], taps):
        p = picked[tap]
        D = np.asarray(p["D"])
        n = len(D)
        im = ax.imshow(D, vmin=0, vmax=1, cmap="viridis")
        ax.grid(False)
        _label_axis(ax, names, n, "x")
        _label_axis(ax, names, n, "y")
        top = (_names(names, n) or [str(i) for i in range(n)])[p["top_label"]]
        ax.set(xlabel="predicted label (the filter's largest field)", ylabel="input label",
               title=f"layer {tap}, filter {p['filter']}")
        parts.append(f"layer {tap}, filter {p['filter']}: {p['labels_used']} output label(s) with at least 10% of "
                     f"its predictions, {p['top_share']:.0%} of them on {top}")
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8, label="fraction of the input label's images")
    what = ("Decision matrices of single filters: row i holds the fraction of label-i test images each output label "
            "gets from the filter's fields alone (all other FC weights silenced); " + "; ".join(parts) + ".")
    alt = ("Heat maps, input label down, predicted label across, one per filter: " + "; ".join(parts) + ".")
    return _describe(fig, what, alt, "*mechanism* Fig. 3")


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
    labels = _names(names, n)
    if not clusters:
        return "no cluster"
    if labels is None:
        return f"{len(clusters)} cluster(s) of size(s) {', '.join(str(len(c)) for c in clusters)}"
    return f"{len(clusters)} cluster(s): " + "; ".join("{" + ", ".join(labels[i] for i in c) + "}" for c in clusters)


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
        fig, axes = _new(8.2, 2, 2)
        axes = axes.ravel()
    else:
        fig, axes = _new(3.3, 1, 3)
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
        _label_axis(ax, names, n, "x", order if k == 2 else None)
        _label_axis(ax, names, n, "y", order if k == 2 else None)
    if corner:
        c = min(corner, n)
        sub = list(order[:c])
        axes[3].imshow(P_[:c, :c], cmap=PERMUTED, vmin=0, vmax=2)
        axes[3].grid(False)
        axes[3].set(title=f"its first {c} labels, magnified", xlabel="output label")
        axes[3].set_xticks(range(c))
        axes[3].set_yticks(range(c))
        small = [_short(str(names[i])) if names is not None else str(i) for i in sub]
        axes[3].set_xticklabels(small, fontsize=6, rotation=90)
        axes[3].set_yticklabels(small, fontsize=6)
    ones = int(np.asarray(B, bool).sum())
    what = (f"Field matrix of filter {view['filter']} of layer {view['tap']} ({n} labels): normalized by its maximal "
            f"element, clipped at {view['threshold']:g} ({ones} ones), and permuted so that its "
            f"{_cluster_text(view['clusters'], names, n)} form white diagonal blocks; the {view['noise']} yellow "
            f"elements, ones outside every block, are its noise.")
    alt = (f"Matrices of {n} by {n} labels of layer {view['tap']}, filter {view['filter']}: the normalized field "
           f"matrix in red and blue, the clipped one with {ones} white ones, and the permuted one with "
           f"{_cluster_text(view['clusters'], names, n)} as white blocks on the diagonal and {view['noise']} yellow "
           "noise elements" + (f"; a magnified view of its first {min(corner, n)} labels" if corner else "") + ".")
    return _describe(fig, what, alt, paper)


def field_matrices(views: list[dict] | None, paper: str = "*mechanism* Fig. 4") -> list[BookFigure] | None:
    """:func:`field_matrix` of each view, shallow to deep."""
    if views is None:
        return None
    return [field_matrix(v, paper=paper) for v in sorted(views, key=lambda v: paper_mod.tap_depth(v["tap"]))]




def threshold_explorer(views: list[dict] | None, sweep: list[dict] | None, rule: str = "greedy") -> Explorer | None:
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
    fig, axes = _new(2.9 * 2 + 0.4, 2, len(views), width=width)  # one figure, its images updated frame by frame
    images = []
    for k, v in enumerate(views):
        n, names = len(v["M"]), v.get("names")
        top, bottom = axes[0][k], axes[1][k]
        images.append((top.imshow(np.zeros((n, n)), cmap=CLIPPED, vmin=0, vmax=1),
                       bottom.imshow(np.zeros((n, n)), cmap=PERMUTED, vmin=0, vmax=2)))
        for ax in (top, bottom):
            ax.grid(False)
        _label_axis(top, names, n, "y", size=6.5)
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
            bottom.set_title(f"permuted: {len(clusters)} cluster{'s' if len(clusters) != 1 else ''}, noise {noise}",
                             fontsize=9)
            _label_axis(bottom, names, n, "x", order, size=6.5)
            _label_axis(bottom, names, n, "y", order, size=6.5)
            lines.append(f"layer {v['tap']} filter {v['filter']}: {_cluster_text(clusters, names, n)}, noise {noise}")
        title.set_text(f"threshold {th:.1f}")
        text = f"Threshold {th:.1f}: " + "; ".join(lines) + "."
        frames.append(dict(threshold=th, png=fig.png(dpi=100), text=text,
                           alt=f"Clipped field matrices at threshold {th:.1f} (top row) and permuted with their "
                               f"clusters as white blocks and noise in yellow (bottom row). " + text))
    start = int(np.argmin([abs(th - start_th) for th in thresholds]))
    trend = "noise " + "; ".join(f"{history[k][0][2]} at {thresholds[0]:.1f}, {history[k][start][2]} at "
                                 f"{thresholds[start]:.1f} and {history[k][-1][2]} at {thresholds[-1]:.1f} in layer "
                                 f"{v['tap']}" for k, v in enumerate(views))
    what = ("Threshold explorer: the slider clips the same normalized field matrices of the filters above at "
            f"{thresholds[0]:.1f} to {thresholds[-1]:.1f} (the papers use 0.3 and call their results robust over "
            "0.3-0.6). Top row: the clipped matrix; bottom row: permuted, with the clusters (the "
            + ("papers' greedy" if rule == "greedy" else "order-independent")
            + f" rule) as white blocks and the noise in yellow. The {trend[0].upper() + trend[1:]}.")
    alt = (f"A slider over {len(frames)} thresholds from {thresholds[0]:.1f} to {thresholds[-1]:.1f} above an image "
           f"of {len(views)} filters' clipped and permuted field matrices; as the threshold rises the ones thin out "
           f"({trend}).")
    return Explorer(frames, start, what, alt, "*mechanism* Fig. 4 (its threshold, swept)", "threshold", width)


def cluster_statistics(stats: pd.DataFrame | None, sizes: pd.DataFrame | None, title: str = "",
                       model: str = "vgg16"):
    """*mechanism* Fig. 5A (VGG-16) or 7 (VGG-6): n, N_c, C_s per layer beside the paper's, and the fraction of
    clusters of each size, two panels a row."""
    if stats is None:
        return None
    s = stats.assign(layer=stats["layer"].astype(str))
    s = paper_mod.by_depth(s, "layer")
    layers = list(s["layer"])
    x = np.arange(len(s))
    fig, axes = _new(6.4, 2, 2)
    drawn = []
    labels = {"n": "noise per filter n", "N_c": "clusters per filter N_c", "C_s": "mean cluster size C_s"}
    for ax, col in zip(axes.ravel()[:3], ("n", "N_c", "C_s")):
        ax.plot(x, s[col], **RUN)
        if model == "vgg16":
            ref = _paper_vgg16(col)
            ax.plot(x, [ref.get(t, np.nan) for t in layers], **dict(PAPER, label="paper (Table 6, K = 10)"))
            drawn.append(col)
        else:
            ref = _paper(col, model)
            if ref:
                ax.plot([layers.index(t) for t in ref if t in layers], [ref[t] for t in ref if t in layers],
                        **dict(PAPER, ls="none", ms=8, label="paper (text)"))
                drawn.append(col)
        ax.set(xticks=x, xticklabels=layers, xlabel="layer", ylabel=col, title=labels[col], ylim=(0, None))
    axes[0][0].legend(fontsize=8)
    ax = axes[1][1]
    if sizes is not None and len(sizes):
        z = sizes.assign(layer=sizes["layer"].astype(str))
        ks = sorted(z["size"].unique())
        w = 0.8 / max(1, len(layers))
        colors = sns.color_palette("viridis", len(layers))
        for i, t in enumerate(layers):
            f = z[z["layer"] == t].set_index("size")["fraction"].reindex(ks).fillna(0)
            ax.bar(np.arange(len(ks)) + (i - (len(layers) - 1) / 2) * w, f, w, color=colors[i], label=f"layer {t}")
        ax.set(xticks=np.arange(len(ks)), xticklabels=[str(k) for k in ks])
        ax.legend(fontsize=7, ncol=2)
    ax.set(xlabel="cluster size", ylabel="fraction of the layer's clusters", title="cluster sizes")
    name = NAME.get(model, model)
    what = (f"{title + ': ' if title else ''}Per layer of {name}, shallow to deep: the mean noise per filter n, "
            "clusters per filter N_c and mean cluster size C_s"
            + (f" beside the paper's ({PAPER_T6})" if model == "vgg16" else
               " with the paper's values where its text gives them" if drawn else "")
            + "; and the fraction of each layer's clusters of each size.")
    alt = (f"Four panels over layers {', '.join(layers)}: n {_series(s['n'])}; N_c {_series(s['N_c'])}; "
           f"C_s {_series(s['C_s'])}"
           + (f"; the paper's n {_series([_paper_vgg16('n').get(t, np.nan) for t in layers], '{:.1f}')}"
              if model == "vgg16" else "")
           + "; and grouped bars of the fraction of clusters of size 1, 2, 3 and more per layer.")
    return _describe(fig, what, alt, "*mechanism* Fig. 5A" if model == "vgg16" else "*mechanism* Fig. 7C",
                     bool(drawn))


def appearances(study, taps, names=None) -> BookFigure | None:
    """*mechanism* Fig. 5B: appearances of each label in a layer's clusters, with the expected mean and the
    paper's (its count of 512 filters scaled to this layer's N_f), a layer a row, shallow to deep."""
    if study is None or not taps:
        return None
    taps = shallow_to_deep(taps)
    names = names if names is not None else getattr(getattr(study, "data", None), "class_names", None)
    fig, axes = _new(2.9 * len(taps) + 0.3, len(taps), 1)
    parts = []
    for ax, tap in zip(axes[:, 0], taps):
        la = study.layers[tap]
        app = np.asarray(la.appearances)
        ax.bar(range(len(app)), app, color=sns.color_palette()[1], label="this run")
        mean = la.N_c * la.C_s * la.N_f / la.N_l if la.sizes else 0
        ax.axhline(mean, c="k", ls=":", label=f"N_c C_s N_f / N_l = {mean:.1f}")
        ref = P["vgg16"]["appearances"].get(tap)
        if ref is not None:
            scaled = ref * la.N_f / 512
            ax.axhline(scaled, c=PAPER["color"], ls="--", label=f"paper: {ref} of 512 filters = {scaled:.1f} of "
                                                                  f"{la.N_f}")
        _label_axis(ax, names, len(app), "x")
        ax.set(ylabel="clusters holding it", title=f"layer {tap}: {la.N_f} filters")
        ax.legend(fontsize=7, loc="lower right")
        parts.append(f"layer {tap}: {int(app.min())} to {int(app.max())}, mean {app.mean():.1f}"
                     + (f" (the paper: {ref} of 512 filters, {ref * la.N_f / 512:.1f} at this N_f)" if ref else ""))
    axes[-1, 0].set_xlabel("label")
    what = ("How many of the layer's filters hold each label in one of their clusters, against the mean "
            "N_c C_s N_f / N_l that equal appearances give: " + "; ".join(parts) + ".")
    alt = "Bar charts, one bar per label, one chart per layer: " + "; ".join(parts) + "."
    return _describe(fig, what, alt, "*mechanism* Fig. 5B", True)


def histograms(study, tap: str) -> BookFigure | None:
    """*mechanism* Fig. 5C: sub-threshold normalized fields of cluster rows (left) and other rows (right)."""
    if study is None:
        return None
    la = study.layers[tap]
    centers = (la.bins[1:] + la.bins[:-1]) / 2
    fig, axes = _new(3.3, 1, 2, sharex=True, sharey=True)
    for ax, h, what, mean in ((axes[0][0], la.hist_cluster_rows, "rows of cluster labels", la.mean_cluster_rows),
                              (axes[0][1], la.hist_other_rows, "other rows", la.mean_other_rows)):
        total = max(1, h.sum())
        ax.bar(centers, h / total, width=la.bins[1] - la.bins[0])
        ax.axvline(mean, c="k", ls="--", label=f"mean {mean:.3f}")
        ax.set(xlabel="normalized field (below threshold)", title=f"layer {tap}: {what}", xlim=(-1, la.threshold))
        ax.legend(fontsize=8)
    axes[0][0].set_ylabel("fraction of the elements")
    what = (f"Layer {tap}: the normalized fields below the threshold ({la.threshold:g}) of every filter, in the rows "
            f"of labels that are in one of the filter's clusters (mean {la.mean_cluster_rows:.3f}) and in the other "
            f"rows (mean {la.mean_other_rows:.3f}); the paper finds the first negative on average.")
    alt = (f"Two histograms of sub-threshold normalized fields from -1 to {la.threshold:g} at layer {tap}: cluster "
           f"rows with mean {la.mean_cluster_rows:.3f}, other rows with mean {la.mean_other_rows:.3f}.")
    return _describe(fig, what, alt, "*mechanism* Fig. 5C")


def signal_noise(sn: pd.DataFrame | None, tap: str = "13") -> BookFigure | None:
    """*mechanism* Fig. 6, measured: per input label, signal against the two noises (top) and the SNR (bottom),
    with the paper's counts (of 512 filters, scaled to this layer's N_f) and its SNR > 5."""
    if sn is None:
        return None
    fig, ((a,), (b,)) = _new(6.2, 2, 1, sharex=True)
    x = np.arange(len(sn))
    names = list(sn["name"]) if "name" in sn else None
    a.bar(x - 0.27, sn["signal"], 0.27, label="signal: filters with the label in a cluster")
    a.bar(x, sn["noise_1"], 0.27, label="noise 1: the same filters, strongest wrong output")
    a.bar(x + 0.27, sn["noise_2"], 0.27, label="noise 2: the other filters, same output")
    N_f = sn.attrs.get("N_f")
    ref = P["vgg16"]["appearances"].get(str(tap))
    if N_f and ref:
        a.axhline(ref * N_f / 512, c=PAPER["color"], ls="--",
                  label=f"paper: signal filters {ref} of 512 = {ref * N_f / 512:.1f} of {N_f}")
        a.axhline(33 * N_f / 512, c=PAPER["color"], ls=":", label=f"paper: noise 1 < 33 of 512 = {33 * N_f / 512:.1f}")
    a.set(ylabel="summed unit fields", title=f"layer {tap}: signal and noise per input label")
    a.legend(fontsize=7, ncol=2, loc="best", framealpha=0.9)
    snr = sn["SNR"].clip(upper=50)
    b.bar(x, snr, color=sns.color_palette()[2], label="SNR = signal / strongest wrong output (capped at 50)")
    b.axhline(5, c=PAPER["color"], ls="--", label="paper: SNR > 5")
    b.set(ylabel="SNR", title="signal-to-noise ratio")
    _label_axis(b, names, len(sn), "x")
    b.set_xlabel("input label")
    b.legend(fontsize=8)
    what = (f"Layer {tap}, per input label: the summed unit fields on the right output of the filters whose clusters "
            f"hold the label (signal, mean {sn['signal'].mean():.1f}), their largest summed field on a wrong output "
            f"(noise 1, mean {sn['noise_1'].mean():.1f}) and the other filters' field there (noise 2); below, "
            f"the SNR (median {sn['SNR'].median():.2f}) against the paper's SNR > 5.")
    alt = (f"Grouped bars per input label of signal ({_series(sn['signal'], '{:.1f}')}), noise 1 and noise 2, and "
           f"below them bars of the SNR per label ({_series(sn['SNR'], '{:.1f}')}) with a dashed line at the "
           "paper's 5.")
    return _describe(fig, what, alt, "*mechanism* Fig. 6", True)


def dilution(d: pd.DataFrame | None) -> BookFigure | None:
    """Accuracy against the fraction of layer-13 filters silenced (mean and spread over random draws), with the
    paper's points (VGG-16: 0.94 with 150 of 512 silenced; AVGG-16: about its 0.955 with 100 of 512 kept)."""
    if d is None:
        return None
    fig, ((ax,),) = _new(4.2)
    colors = dict(zip(sorted(d["model"].unique()), sns.color_palette()))
    for m, g in d.groupby("model"):
        s = g.groupby("fraction")["accuracy"].agg(["mean", "min", "max"]).reset_index()
        ax.plot(s["fraction"], s["mean"], "o-", c=colors[m], label=f"{m}, this run (mean of the draws)")
        ax.fill_between(s["fraction"], s["min"], s["max"], color=colors[m], alpha=0.2)
    pts = [("vgg16", 0.0, P["vgg16"]["accuracy"]), ("vgg16", 150 / 512, P["vgg16"]["dilution"]["accuracy"]),
           ("avgg16", 0.0, P["avgg16"]["accuracy"]), ("avgg16", 1 - 100 / 512, P["avgg16"]["accuracy"])]
    for m in colors:
        p = [(f, a) for mm, f, a in pts if mm == m]
        ax.plot(*zip(*p), **dict(PAPER, color=colors[m], ls="none", ms=9, label=f"{m}, paper"))
    ax.axvline(150 / 512, c="grey", ls=":", lw=1)
    ax.axvline(1 - 100 / 512, c="grey", ls=":", lw=1)
    ax.set(xlabel="fraction of the layer-13 filters silenced (dotted: 150 of 512; 100 of 512 kept)",
           ylabel="test accuracy", ylim=(0, 1))
    ax.legend(fontsize=8, loc="lower left")
    means = {m: g.groupby("fraction")["accuracy"].mean() for m, g in d.groupby("model")}
    what = ("Test accuracy of the FC layer from layer 13 with a fraction of its filters silenced at random (line: "
            "mean of the draws; band: their range), beside the paper's: VGG-16 keeps 0.94 with 150 of 512 "
            "filters silenced, AVGG-16 about its 0.955 with only 100 of 512 kept (hollow squares). "
            + "; ".join(f"{m}: {v.iloc[0]:.3f} with all filters, {v.iloc[-1]:.3f} with {v.index[-1]:.0%} silenced"
                        for m, v in means.items()) + ".")
    alt = ("Line chart of test accuracy against the fraction of layer-13 filters silenced, one line per model "
           "with a shaded range, and hollow squares at the paper's accuracies. "
           + "; ".join(f"{m}: {v.iloc[0]:.3f} falling to {v.iloc[-1]:.3f}" for m, v in means.items()) + ".")
    return _describe(fig, what, alt, "*mechanism* Discussion (dilution; no figure in the paper)", True)


def threshold_sweep(sw: pd.DataFrame | None, model: str = "vgg16") -> BookFigure | None:
    """n, N_c, C_s per layer (shallow to deep) for each threshold, with the paper's values at 0.3."""
    if sw is None:
        return None
    s = sw.assign(layer=sw["layer"].astype(str))
    layers = shallow_to_deep(s["layer"])
    ths = sorted(s["threshold"].unique())
    x = np.arange(len(layers))
    fig, axes = _new(3.6, 1, 3)
    colors = sns.color_palette("viridis", len(ths))
    for ax, col in zip(axes[0], ("n", "N_c", "C_s")):
        for c, th in zip(colors, ths):
            g = s[s["threshold"] == th].set_index("layer").reindex(layers)
            ax.plot(x, g[col], "o-", c=c, label=f"threshold {th:g}")
        if model == "vgg16":
            ref = _paper_vgg16(col)
            ax.plot(x, [ref.get(t, np.nan) for t in layers], **dict(PAPER, label="paper at 0.3 (Table 6)"))
        ax.set(xticks=x, xticklabels=layers, xlabel="layer", title=col, ylim=(0, None))
    axes[0][0].legend(fontsize=7)
    n_at = {th: s[s["threshold"] == th].set_index("layer").reindex(layers)["n"] for th in ths}
    what = ("The mean noise per filter n, clusters per filter N_c and mean cluster size C_s per layer, shallow to "
            f"deep, at each threshold ({', '.join(f'{t:g}' for t in ths)})"
            + (f", beside the paper's at 0.3 ({PAPER_T6})" if model == "vgg16" else "") + ".")
    alt = ("Three line charts over layers " + ", ".join(layers) + ", one line per threshold: n "
           + "; ".join(f"at {th:g}: {_series(v)}" for th, v in n_at.items()) + ".")
    return _describe(fig, what, alt, "*mechanism* Supplementary (robustness to the threshold)", model == "vgg16")


def size_distributions(frames: dict[str, pd.DataFrame] | None, tap: str = "13") -> BookFigure | None:
    """*mechanism* Fig. 8: the cluster-size distribution of one layer in several models, with the paper's mean
    cluster sizes (AVGG-16 2.5, VGG-16 2.88) marked."""
    if frames is None:
        return None
    fig, ((ax,),) = _new(3.8)
    models_ = list(frames)
    colors = dict(zip(models_, sns.color_palette()))
    ks = sorted({int(k) for f in frames.values() for k in f[f["layer"].astype(str) == tap]["size"]})
    w = 0.8 / len(models_)
    parts = []
    for i, m in enumerate(models_):
        f = frames[m]
        f = f[f["layer"].astype(str) == tap].set_index("size")["fraction"].reindex(ks).fillna(0)
        pos = np.arange(len(ks)) + (i - (len(models_) - 1) / 2) * w
        ax.bar(pos, f, w, color=colors[m], label=f"{m}, this run")
        mean = float((f.index.to_numpy() * f.to_numpy()).sum())
        ref = P.get(m, {}).get("C_s", {}).get(tap)
        if ref is not None and ks:
            ax.axvline(np.interp(ref, ks, np.arange(len(ks))), c=colors[m], ls="--",
                       label=f"{m}, paper: mean size {ref:g}")
        parts.append(f"{m}: mean size {mean:.2f}" + (f" (the paper: {ref:g})" if ref is not None else ""))
    ax.set(xticks=np.arange(len(ks)), xticklabels=[str(k) for k in ks], xlabel="cluster size",
           ylabel="fraction of the clusters", title=f"layer {tap}")
    ax.legend(fontsize=8)
    what = (f"Layer {tap}: the fraction of clusters of each size in each network, with the paper's mean cluster "
            f"sizes as dashed lines: " + "; ".join(parts) + ".")
    alt = f"Grouped bars of cluster-size fractions at layer {tap} per network: " + "; ".join(parts) + "."
    return _describe(fig, what, alt, "*mechanism* Fig. 8", True)


# --- universal ------------------------------------------------------------------------------------

def error_vs_K(errors: pd.DataFrame | None, fit: dict | None, tap: str) -> BookFigure | None:
    """*universal* Figs. 5-7: test error of a layer against K, with the linear fit, beside the paper's errors and
    their fit."""
    if errors is None:
        return None
    fig, ((ax,),) = _new(4.0, width=7.0)
    ax.plot(errors["K"], errors["error"], **dict(RUN, ls="none"))
    k = np.linspace(1, errors["K"].max(), 50)
    if fit:
        ax.plot(k, fit["intercept"] + fit["slope"] * k, "-", c=RUN["color"], alpha=0.6,
                label=f"fit: {fit['slope']:.4f} K + {fit['intercept']:.3f}, R² = {fit['r2']:.2f}")
    has = "paper_error" in errors and errors["paper_error"].notna().sum() >= 1
    pf = None
    if has:
        ok = errors[errors["paper_error"].notna()]
        ax.plot(ok["K"], ok["paper_error"], **dict(PAPER, ls="none", ms=8))
        if len(ok) >= 2:
            pf = np.polyfit(ok["K"].astype(float), ok["paper_error"].astype(float), 1)
            ax.plot(k, np.polyval(pf, k), "--", c=PAPER["color"], label=f"paper's fit: {pf[0]:.4f} K + {pf[1]:.3f}")
    ax.set(xlabel="K (number of labels)", ylabel=f"test error, {_where(tap)}", ylim=(0, None), xlim=(0, None))
    ax.legend(fontsize=8)
    what = (f"Test error of the FC layer from {_where(tap)} against the number of labels K, with its linear fit"
            + (f" (slope {fit['slope']:.4f}, R² {fit['r2']:.2f})" if fit else "")
            + (", beside the paper's errors" + (f" and their fit (slope {pf[0]:.4f})" if pf is not None else "")
               if has else "") + ".")
    alt = (f"Scatter of the test error at {_where(tap)} against K = {', '.join(str(v) for v in errors['K'])}: "
           f"{_series(errors['error'], '{:.3f}')}"
           + (f"; the paper's: {_series(errors['paper_error'], '{:.3f}')}" if has else "") + "; with fitted lines.")
    return _describe(fig, what, alt, "*universal* Figs. 5-7", has)


def label_snr(A: pd.DataFrame | None, B: pd.DataFrame | None, tap: str, names=None) -> BookFigure | None:
    """*universal* Fig. 4: per label signal, noise_I and noise_I + noise_E from Boolean (A) and field (B) matrices,
    with the paper's means (VGG-16 layer 10 on CIFAR-100) as dashed lines."""
    if A is None:
        return None
    fig, axes = _new(6.6, 2, 1, sharex=True)
    ref = paper_mod.FIG4
    cols = [("signal", "signal"), ("noise_I", "noise_I"), ("noise_I_plus_E", "noise_I + noise_E")]
    parts = []
    for ax, d, key, what in ((axes[0][0], A, "boolean", "A: from the Boolean matrices"),
                             (axes[1][0], B, "fields", "B: weighted by the above-threshold fields")):
        for c, (col, label) in zip(sns.color_palette(), cols):
            ax.plot(d["label"], d[col], "o", ms=4, c=c, label=f"{label} (mean {d[col].mean():.3g})")
            ax.axhline(ref[key][col], c=c, ls="--", lw=1, label=f"paper's mean {ref[key][col]:g}")
        ax.set(ylabel="per label", title=f"layer {tap}, {what}", yscale="log")
        ax.legend(fontsize=7, ncol=3, loc="best", framealpha=0.9)
        parts.append(f"{what[0]}: mean signal {d['signal'].mean():.3g} (the paper: {ref[key]['signal']:g}), "
                     f"noise_I {d['noise_I'].mean():.3g} ({ref[key]['noise_I']:g})")
    _label_axis(axes[1][0], names, len(A), "x")
    axes[1][0].set_xlabel("label")
    what = (f"Layer {tap}, label by label: the signal, noise_I and noise_I + noise_E counted on the Boolean (clipped) "
            "matrices (A) and weighted by the raw fields of the above-threshold elements (B), on a log scale, "
            "with the paper's means for VGG-16 layer 10 on CIFAR-100 as dashed lines: " + "; ".join(parts) + ".")
    alt = ("Two scatter plots on a log scale, one point per label for signal, noise_I and noise_I + noise_E, with "
           "dashed lines at the paper's means. " + "; ".join(parts) + ".")
    return _describe(fig, what, alt, "*universal* Fig. 4", True)


def accuracy_bars(frame: pd.DataFrame | None, x: str, y: str = "accuracy", hue: str | None = None, title: str = "",
                  paper: dict | None = None, reproduces: str = "") -> BookFigure | None:
    """A bar chart of accuracies (AFCC before/after, shortened models); ``paper`` maps ``(x, hue)`` (or ``x``) to the
    paper's accuracy, drawn as a hollow square on its bar. Taps run shallow to deep."""
    if frame is None:
        return None
    f = frame.copy()
    f[x] = f[x].astype(str)
    xs = list(dict.fromkeys(f[x]))
    if all(re.fullmatch(r"(stage |layer )?\d+", v) for v in xs):
        xs = shallow_to_deep(xs)
    hues = list(dict.fromkeys(f[hue])) if hue else [None]
    fig, ((ax,),) = _new(3.8, width=7.5)
    w = 0.8 / len(hues)
    parts, marked = [], False
    for i, h in enumerate(hues):
        g = f if h is None else f[f[hue] == h]
        vals = g.groupby(x)[y].mean().reindex(xs)
        pos = np.arange(len(xs)) + (i - (len(hues) - 1) / 2) * w
        ax.bar(pos, vals, w, label=h if h is not None else None, color=sns.color_palette()[i])
        for p, xv, v in zip(pos, xs, vals):
            ax.text(p, v + 0.01, f"{v:.3f}", ha="center", va="bottom", fontsize=7)
            ref = (paper or {}).get((xv, h) if h is not None else xv)
            if ref is not None:
                ax.plot([p], [ref], **dict(PAPER, ls="none", ms=9, label=None if marked else "paper"))
                marked = True
        parts.append((f"{h}: " if h is not None else "") + ", ".join(f"{xv} {v:.3f}" for xv, v in zip(xs, vals)))
    ax.set(xticks=np.arange(len(xs)), xticklabels=xs, ylim=(0, 1.08), ylabel=y, xlabel=x, title=title)
    ax.tick_params(axis="x", labelrotation=10)
    if hue or marked:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    what = (f"{title + ': ' if title else ''}{y.capitalize()} per {x}" + (f" and {hue}" if hue else "") + ": "
            + "; ".join(parts) + (" (hollow squares: the paper's)" if marked else "") + ".")
    alt = f"Bar chart of {y} per {x}" + (f", grouped by {hue}" if hue else "") + ": " + "; ".join(parts) + "."
    return _describe(fig, what, alt, reproduces or "*universal*, AFCC (numbers in its text, no figure)", marked)


def afcc_bars(frame: pd.DataFrame | None, model: str = "vgg16") -> BookFigure | None:
    """:func:`accuracy_bars` of AFCC results in long form (:func:`helpers.figures.universal.afcc_long`), with the paper's
    accuracies before and after AFCC (*universal*, "AFCC": VGG-16 layer 10, EfficientNet-B0 stage 9)."""
    ref = {}
    for (m, _, tap), r in paper_mod.AFCC.items():
        if m == model:
            ref[(tap, "before")] = r["accuracy_before"]
            ref[(tap, "AFCC, retrained")] = r["accuracy_after"]
    if model == "efficientnet_b0":
        ref[("stage 8", "AFCC, retrained")] = paper_mod.SHORTENED["stage 9 removed, stage 8 (320 filters) through AFCC"]
    return accuracy_bars(frame, x="tap", hue="FC layer", paper=ref, reproduces="*universal*, AFCC (numbers in its "
                         "text, no figure)")


def shortened_bars(cut: pd.DataFrame | None) -> BookFigure | None:
    """EfficientNet-B0's shortened models beside the full one, with the paper's accuracies (*universal*, Results)."""
    ref = dict(paper_mod.SHORTENED)
    ref["full model"] = float(paper_mod.table("table2").set_index("tap").loc["stage 9", "accuracy"])
    return accuracy_bars(cut, x="model", y="accuracy", paper=ref,
                         reproduces="*universal*, Results (shortened stages; numbers in its text, no figure)")


def layer_profile(table: pd.DataFrame | None, reference: pd.DataFrame | None = None, title: str = ""):
    """Accuracy, n, N_c, C_s and SNR_E (*universal* Eq. 4) tap by tap, shallow to deep (a study's
    :meth:`~helpers.method.study.Study.table`), with ``reference`` (rows matched to the taps, e.g.
    :func:`helpers.figures.universal.reference_by_grid`) drawn beside as "paper"."""
    if table is None:
        return None
    t = paper_mod.by_depth(table).reset_index(drop=True)
    N_l = table.attrs.get("N_l", np.nan)
    t = t.assign(SNR_E=t["C_s"] * t["N_c"] * N_l / t["n"])
    fig, axes = _new(5.8, 2, 3)
    x = np.arange(len(t))
    cols = ("accuracy", "n", "N_c", "C_s", "SNR_E")
    for ax, col in zip(axes.ravel(), cols):
        ax.plot(x, t[col], **RUN)
        if reference is not None:
            r = reference.set_index("tap").reindex(t["tap"])
            ref = r["C_s"] * r["N_c"] * N_l / r["n"] if col == "SNR_E" else r[col]
            ax.plot(x, ref.to_numpy(float), **dict(PAPER, label="paper (VGG-16, same map size)"))
        ax.set(xticks=x, title=col)
        ax.set_xticklabels(t["tap"], rotation=30, fontsize=8)
    axes[0][0].set(ylim=(0, 1))
    axes[1][2].axis("off")
    handles, labels = axes[0][0].get_legend_handles_labels()
    axes[1][2].legend(handles, labels, loc="center", fontsize=9, title="tap, shallow to deep")
    model = table.attrs.get("model") or "the network"
    what = (f"{title + ': ' if title else ''}{model}, tap by tap from shallow to deep: the FC layer's accuracy, the "
            "noise per filter n, clusters per filter N_c, mean cluster size C_s and SNR_E = C_s N_c N_l / n "
            "(*universal* Eq. 4)" + (", beside the papers' VGG-16 on CIFAR-10 at the layer reading a map of the "
                                     "same size" if reference is not None else "") + ".")
    alt = (f"Five line charts over the taps {', '.join(t['tap'])}: accuracy {_series(t['accuracy'], '{:.3f}')}; "
           f"n {_series(t['n'])}; N_c {_series(t['N_c'])}; C_s {_series(t['C_s'])}; SNR_E {_series(t['SNR_E'])}"
           + ("; with the paper's VGG-16 values dashed." if reference is not None else "."))
    return _describe(fig, what, alt, "*universal* Tables 1-6 (their columns, drawn; no figure of the papers)",
                     reference is not None)


def training_dynamics(frame: pd.DataFrame | None, reference: pd.DataFrame | None = None,
                      distance: pd.DataFrame | None = None) -> BookFigure | None:
    """The analysis at each kept epoch (:func:`helpers.figures.training_dynamics.over_training`): accuracy (with the network's own),
    n, N_c, C_s and SNR_E against the epoch, one line per tap from shallow (light) to deep (dark); the paper's
    per-layer values (``reference``, tap x statistic) as dashed lines in the tap's colour; and each statistic's mean
    relative distance to the paper (``distance``, :func:`helpers.figures.training_dynamics.distances`)."""
    if frame is None:
        return None
    taps = shallow_to_deep(frame["tap"])
    epochs = sorted(frame["epoch"].unique())
    colors = dict(zip(taps, sns.color_palette("viridis_r", len(taps))))
    N_l = frame.attrs.get("N_l")
    fig, axes = _new(6.2, 2, 3)
    cols = ("accuracy", "n", "N_c", "C_s", "SNR_E")
    for ax, col in zip(axes.ravel(), cols):
        for tap in taps:
            t = frame[frame["tap"].astype(str) == tap].sort_values("epoch")
            ax.plot(t["epoch"], t[col], marker="o", ms=4, color=colors[tap], label=f"tap {tap}")
            if reference is not None and tap in reference.index and col in reference.columns \
                    and pd.notna(reference.loc[tap, col]):
                ax.axhline(float(reference.loc[tap, col]), color=colors[tap], ls="--", lw=1)
        if col == "accuracy":
            net = frame.groupby("epoch")["network"].first()
            ax.plot(net.index, net.to_numpy(), color="k", marker="s", ms=4, label="whole network")
            ax.set(ylim=(0, 1))
        ax.set(xscale="log", xticks=epochs, xticklabels=[str(e) for e in epochs], xlabel="epoch", title=col)
        ax.minorticks_off()
    ax = axes[1][2]
    if distance is not None and len(distance):
        for col, mk in zip(("accuracy", "n", "N_c", "C_s"), "osD^"):
            if distance[col].notna().any():
                ax.plot(distance["epoch"], distance[col], marker=mk, ms=4, label=col)
        ax.set(xscale="log", xticks=epochs, xticklabels=[str(e) for e in epochs], xlabel="epoch", ylim=(0, None),
               title="mean |run - paper| / paper")
        ax.minorticks_off()
        ax.legend(fontsize=7)
    else:
        ax.axis("off")
    handles, labels = axes[0][0].get_legend_handles_labels()
    if reference is not None and len(reference):
        handles.append(axes[0][0].plot([], [], color="0.3", ls="--", lw=1)[0])
        labels.append("paper (dashed, the tap's colour)")
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 4), fontsize=8)
    model = NAME.get(frame.attrs.get("model"), frame.attrs.get("model") or "the network")
    last = frame[frame["epoch"] == epochs[-1]].set_index("tap").reindex(taps)
    first = frame[frame["epoch"] == epochs[0]].set_index("tap").reindex(taps)
    what = (f"{model} at epoch{'s' if len(epochs) > 1 else ''} {', '.join(map(str, epochs))} of its training: the "
            "FC layer's accuracy from each tap (and the whole network's), the noise per filter n, clusters per filter N_c, mean cluster size C_s "
            f"and SNR_E = C_s N_c N_l / n (*universal* Eq. 4{'' if N_l is None else f', N_l = {N_l}'}), one line "
            "per tap" + (", the paper's values dashed" if reference is not None and len(reference) else "")
            + (", and each statistic's mean relative distance to the paper's values" if distance is not None
               else "") + ".")
    alt = (f"Line charts over epochs {', '.join(map(str, epochs))} for taps {', '.join(taps)}. At epoch "
           f"{epochs[0]}: accuracy {_series(first['accuracy'], '{:.3f}')}, n {_series(first['n'])}; at epoch "
           f"{epochs[-1]}: accuracy {_series(last['accuracy'], '{:.3f}')}, n {_series(last['n'])}, N_c "
           f"{_series(last['N_c'])}, C_s {_series(last['C_s'])}, SNR_E {_series(last['SNR_E'])}.")
    return _describe(fig, what, alt, "none (this book's addition: neither paper shows the mechanism during "
                                     "training)", False)


# --- the overview: the paper's numbers beside this run's, per table ----------------------------------

_LAYER_ROW = re.compile(r"^(?:(?P<pre>.*?), )?(?:K=(?P<K>\d+), )?(?:VGG-16 layer )?(?P<tap>(?:stage )?\d+)"
                        r"(?: \([^)]*\))?: (?P<stat>accuracy|n|N_c|C_s)$")
_MECH_ROW = re.compile(r"^(?P<stat>accuracy|noise n|C_s|N_c), layer (?P<tap>\d+)$")
_FIT_ROW = re.compile(r"^slope of the error at (?P<tap>.+) against K$")
STATS = ("accuracy", "n", "N_c", "C_s")


def layer_rows(rows: list[dict]) -> pd.DataFrame:
    """The per-layer rows of a page's comparison (``quantity``, ``paper``, ``run``, as :meth:`Page.compare` records
    them) parsed into ``K, tap, stat, paper, run``; the other rows are left out."""
    out = []
    for r in rows:
        q = str(r.get("quantity", ""))
        m = _LAYER_ROW.match(q)
        if m:
            K = m["K"] or (re.search(r"\bK ?= ?(\d+)", m["pre"] or "") or [None, None])[1]
            out.append(dict(K=int(K) if K else None, tap=m["tap"], stat=m["stat"], paper=r.get("paper"),
                            run=r.get("run")))
            continue
        m = _MECH_ROW.match(q)
        if m:
            out.append(dict(K=None, tap=m["tap"], stat={"noise n": "n"}.get(m["stat"], m["stat"]),
                            paper=r.get("paper"), run=r.get("run")))
    f = pd.DataFrame(out, columns=["K", "tap", "stat", "paper", "run"])
    for c in ("paper", "run"):
        f[c] = pd.to_numeric(f[c], errors="coerce")
    return f


def overview_figure(name: str, title: str, rows: list[dict]) -> BookFigure | None:
    """One page's paper values beside this run's (results overview): accuracy, n, N_c and C_s per layer, shallow to
    deep, one colour per K; and, where the page fits the error against K, that error. ``None`` when the page has no
    per-layer rows."""
    f = layer_rows(rows)
    if len(f) < 2 or f["paper"].notna().sum() == 0:
        return None
    fit_tap = next((m["tap"] for r in rows if (m := _FIT_ROW.match(str(r.get("quantity", ""))))), None)
    stats = [s for s in STATS if (f["stat"] == s).any()]
    Ks = sorted({k for k in f["K"] if k == k and k is not None}) or [None]
    Ks = [None if k is None else int(k) for k in Ks]
    panels = stats + (["error"] if fit_tap and len(Ks) >= 2 else [])
    ncols = 2 if len(panels) > 1 else 1
    nrows = (len(panels) + ncols - 1) // ncols
    fig, axes = _new(2.7 * nrows + 0.4, nrows, ncols, width=WIDTH if ncols == 2 else 5.5)
    flat = axes.ravel()
    for ax in flat[len(panels):]:
        ax.axis("off")
    colors = dict(zip(Ks, sns.color_palette("viridis", len(Ks)) if len(Ks) > 1 else [RUN["color"]]))
    paper_color = (lambda K: colors[K]) if len(Ks) > 1 else (lambda K: PAPER["color"])
    skipped = f["run"].notna().sum() == 0
    parts = []
    for ax, stat in zip(flat, panels):
        if stat == "error":
            acc = f[(f["stat"] == "accuracy") & (f["tap"] == fit_tap)].dropna(subset=["K"]).sort_values("K")
            ax.plot(acc["K"], 1 - acc["run"], **dict(RUN, label="this run"))
            ax.plot(acc["K"], 1 - acc["paper"], **PAPER)
            ax.legend(fontsize=7)
            ax.set(xlabel="K (labels)", title=f"test error at {_where(fit_tap)} against K", ylim=(0, None))
            parts.append(f"error at {_where(fit_tap)} for K = {', '.join(str(int(k)) for k in acc['K'])}: this run "
                         f"{_series(1 - acc['run'], '{:.3f}')}, the paper {_series(1 - acc['paper'], '{:.3f}')}")
            continue
        g = f[f["stat"] == stat]
        taps = shallow_to_deep(g["tap"])
        x = np.arange(len(taps))
        for K in Ks:
            gk = (g if K is None else g[g["K"] == K]).groupby("tap")[["paper", "run"]].mean().reindex(taps)
            lab = "" if K is None else f"K = {K}, "
            ax.plot(x, gk["run"], **dict(RUN, color=colors[K], label=f"{lab}this run"))
            ax.plot(x, gk["paper"], **dict(PAPER, color=paper_color(K), label=f"{lab}paper"))
            if K == Ks[-1]:
                parts.append(f"{stat} at taps {', '.join(taps)}{' (K = ' + str(K) + ')' if K else ''}: this run "
                             f"{_series(gk['run'], '{:.3g}')}, the paper {_series(gk['paper'], '{:.3g}')}")
        ax.set(xticks=x, xticklabels=taps, title=stat, xlabel="tap, shallow to deep")
        values = g[["paper", "run"]].to_numpy(float)
        if stat == "n" and np.nanmax(values) > 50 * max(1e-9, np.nanmin(values)):
            ax.set(yscale="log", title="n (log scale)")  # Table 3's n runs from 1,000 to 50,000
        else:
            ax.set(ylim=(0, 1) if stat == "accuracy" else (0, None))
    handles, labels = flat[0].get_legend_handles_labels()
    spare = flat[len(panels)] if len(flat) > len(panels) else None
    if spare is not None:  # the legend in the empty panel
        spare.legend(handles, labels, loc="center", fontsize=8, ncol=2 if len(Ks) > 2 else 1)
    else:
        flat[0].legend(handles, labels, fontsize=7, ncol=2 if len(Ks) > 2 else 1)
    what = (f"{title}: the paper's values (dashed, hollow squares) beside this run's (solid), "
            + ", ".join(stats) + " per tap, shallow to deep"
            + (f", one colour per K ({', '.join(str(k) for k in Ks)})" if len(Ks) > 1 else "")
            + (f", and the test error at {_where(fit_tap)} against K" if "error" in panels else "")
            + (" (this run skipped: the paper's values only)" if skipped else "") + ".")
    alt = f"Line charts, one per quantity, of {title}: " + "; ".join(parts) + "."
    return _describe(fig, what, alt, name, True)
