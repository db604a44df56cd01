"""The plots' shared look: every figure of the book is drawn through these helpers.

The seaborn theme, the book's column width (:data:`WIDTH`), the line styles of this run (:data:`RUN`) and of
the paper's values (:data:`PAPER`: grey, dashed, hollow squares, labelled "paper"); :class:`BookFigure`, a
figure that carries its caption's description (``what``), its alt text, the paper's figure it reproduces and
whether the paper's values are drawn, so that a page numbers and captions it (:func:`describe` sets them,
:func:`new_figure` makes one); axes of class names (:func:`label_axis`), taps ordered shallow to deep
(:func:`sorted_taps`), and the papers' per-layer values drawn beside this run's (:func:`paper_line`,
:data:`PAPER_T6`). Used by every figure module and by :mod:`helpers.book.overview`; no notebook imports it.
"""

from __future__ import annotations

import io

import seaborn as sns
from matplotlib.figure import Figure

from helpers.reference import printed as paper_mod

sns.set_theme(style="whitegrid", context="notebook", font_scale=0.9)


WIDTH = 8.5  # inches: the book's text column at 96 px an inch (the figures are shown at most this wide)


RUN = dict(color=sns.color_palette()[0], marker="o", ls="-", label="this run")


PAPER = dict(color="0.3", marker="s", ls="--", mfc="white", label="paper")


NAME = paper_mod.NAME


def show(fig) -> None:
    """A figure displayed bare in a notebook, outside ``page.figure``: its image alone (a page numbers and
    captions the figures it shows, :meth:`helpers.book.view.PageView.figure`)."""
    from IPython.display import Image, display

    if isinstance(fig, BookFigure):
        display(Image(fig.png()))
    else:
        display(fig.frames[fig.start]["text"])


class BookFigure(Figure):
    """A figure of the book: ``what`` (the caption's description, from the data), ``alt`` (the text that
    stands for the image), ``paper`` (the paper's figure it reproduces) and ``with_paper`` (the paper's values
    are drawn). Shown by a page it is numbered and captioned (:func:`helpers.book.show.show_figure`)."""

    what: str = ""
    alt: str = ""
    paper: str = ""
    with_paper: bool = False

    def png(self, dpi: int = 150) -> bytes:
        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=dpi, facecolor="white")
        return buf.getvalue()

    def _ipython_display_(self):
        show(self)


def new_figure(height: float, nrows: int = 1, ncols: int = 1, width: float = WIDTH, **kw):
    fig = BookFigure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def describe(fig: BookFigure, what: str, alt: str, paper: str, with_paper: bool = False) -> BookFigure:
    fig.what, fig.alt, fig.paper, fig.with_paper = what.strip(), " ".join(alt.split()), paper, with_paper
    return fig


def sorted_taps(taps) -> list[str]:
    return sorted({str(t) for t in taps}, key=paper_mod.tap_depth)


def short_name(name: str) -> str:
    return name if len(name) <= 8 else name[:7] + "."


def label_names(names, n: int) -> list[str] | None:
    """Tick labels of a label axis: the class names (shortened) when there are few enough to read."""
    if names is None or n > 20:
        return None
    return [short_name(str(x)) for x in list(names)[:n]]


def label_axis(ax, names, n: int, axis: str = "x", order=None, size: float = 7.5) -> None:
    """Class names on a label axis (in ``order`` when permuted); a tick every 10 labels when there are
    many."""
    idx = list(range(n)) if order is None else list(order)
    labels = label_names(names, n)
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


def where(tap) -> str:
    """A tap as text: "layer 10", "stage 9"."""
    return str(tap) if str(tap).startswith(("stage", "layer")) else f"layer {tap}"


def xy_series(values, fmt: str = "{:.2f}") -> str:
    return ", ".join(fmt.format(v) for v in values)


def paper_line(col: str, model: str = "vgg16") -> dict[str, float]:
    """The papers' per-layer ``col`` of ``model`` on CIFAR-10, tap -> value, where given
    (:func:`paper.per_layer`): VGG-16's is *universal* Table 6 at K = 10, *mechanism*'s own network."""
    return paper_mod.per_layer(model, 10)[col].dropna().to_dict()


PAPER_T6 = "*universal* Table 6 at K = 10, the same VGG-16 on CIFAR-10"
