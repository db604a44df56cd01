"""Figures as a reader gets them: every plot of helpers.figures.plots knows what it shows (caption, alt text,
the paper's figure), draws layers shallow to deep, class names on label axes and the paper's values beside
this run's; page.figure numbers and captions them as HTML <figure>s; the threshold explorer's frames are the
clipped matrices at each threshold; the overview draws the per-layer rows the pages record; each page has its
measured times."""

import base64
import io
import json
import re

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from PIL import Image

from helpers.book import generated, overview, show, timings
from helpers.book import page as pages
from helpers.figures import mechanism_dilution_filters as dilution
from helpers.figures import mechanism_fig2_layer_accuracy as fig2
from helpers.figures import mechanism_fig3_decision_matrices as fig3
from helpers.figures import mechanism_fig4_field_matrices as fig4
from helpers.figures import mechanism_fig5_cluster_statistics as fig5
from helpers.figures import mechanism_fig6_signal_noise as fig6
from helpers.figures import mechanism_fig8_avgg16 as fig8
from helpers.figures import mechanism_threshold_robustness as robustness
from helpers.figures import style, your_model
from helpers.figures import universal_afcc as afcc_pages
from helpers.figures import universal_effnet_afcc as effnet_afcc
from helpers.figures import universal_fig4_label_snr as ufig4
from helpers.figures import universal_k_sweep as k_tables
from helpers.figures import universal_layer_tables as layer_tables
from helpers.method import fields
from helpers.reference import printed as paper

NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def view(M, tap="13", f=3, threshold=0.3):
    """A filter view as mechanism.filter_view returns it, from a normalized field matrix."""
    B = np.asarray(M) >= threshold
    clusters = fields.greedy_clusters(B)
    return dict(
        tap=tap,
        filter=f,
        M=np.asarray(M, float),
        B=B,
        clusters=clusters,
        noise=fields.noise_count(B, clusters),
        order=fields.display_order(clusters, len(M)),
        threshold=threshold,
        names=NAMES[: len(M)],
    )


def random_view(tap, seed, n=10):
    rng = np.random.default_rng(seed)
    M = rng.uniform(-1, 0.95, (n, n))
    M[0, 0] = 1.0
    return view(M, tap=tap, f=seed)


def tick_texts(ax, axis="x"):
    return [t.get_text() for t in (ax.get_xticklabels() if axis == "x" else ax.get_yticklabels())]


def test_every_plot_returns_none_on_a_skipped_page():
    for fn, args in [
        (fig2.plot_layer_accuracy, (None,)),
        (fig3.decision_matrices, (None,)),
        (fig4.field_matrix, (None,)),
        (fig4.field_matrices, (None,)),
        (fig4.threshold_explorer, (None, None)),
        (fig5.cluster_statistics, (None, None)),
        (fig5.appearances, (None, ["13"])),
        (fig5.histograms, (None, "13")),
        (fig6.plot_signal_noise, (None,)),
        (dilution.plot_dilution, (None,)),
        (robustness.plot_threshold_sweep, (None,)),
        (fig8.size_distributions, (None,)),
        (k_tables.plot_error_vs_K, (None, None, "10")),
        (ufig4.plot_label_snr, (None, None, "10")),
        (afcc_pages.accuracy_bars, (None, "tap")),
        (afcc_pages.afcc_bars, (None,)),
        (effnet_afcc.shortened_bars, (None,)),
        (your_model.layer_profile, (None,)),
    ]:
        assert fn(*args) is None, fn.__name__


def test_layer_accuracy_runs_shallow_to_deep_beside_the_papers_values():
    rows = [
        dict(seed=0, tap=t, layer=int(t), accuracy=a, network=0.79)
        for t, a in [("13", 0.78), ("2", 0.35), ("10", 0.77), ("4", 0.52), ("7", 0.70)]
    ]  # any order
    fig = fig2.plot_layer_accuracy(pd.DataFrame(rows))
    a, b = fig.axes[:2]
    assert tick_texts(a) == ["2", "4", "7", "10", "13"] == tick_texts(b)
    bars = [p.get_height() for p in a.patches]
    assert bars == pytest.approx([0.35, 0.52, 0.70, 0.77, 0.78])
    paper_line = [line for line in a.get_lines() if line.get_label() == "paper"]
    ref = paper.table("table6", 10).set_index("tap")["accuracy"]
    assert len(paper_line) == 1 and list(paper_line[0].get_ydata()) == pytest.approx(
        [ref[t] for t in ["2", "4", "7", "10", "13"]]
    )
    assert fig.paper == "*mechanism* Fig. 2" and fig.with_paper
    assert "0.350, 0.520, 0.700, 0.770, 0.780" in fig.alt and "layers 2 to 13" in fig.what


def test_label_axes_carry_class_names():
    picked = {
        t: dict(filter=k, D=np.eye(10), top_label=3, top_share=0.5, labels_used=2)
        for k, t in enumerate(["13", "4"])
    }
    fig = fig3.decision_matrices(picked, NAMES)
    assert [ax.get_title() for ax in fig.axes[:2]] == [
        "layer 4, filter 1",
        "layer 13, filter 0",
    ]  # shallow first
    assert tick_texts(fig.axes[0]) == [style.short_name(n) for n in NAMES] == tick_texts(fig.axes[0], "y")
    assert "cat" in fig.what
    v = random_view("13", 1)
    fig = fig4.field_matrix(v)
    assert tick_texts(fig.axes[0], "y") == [style.short_name(n) for n in NAMES]
    assert tick_texts(fig.axes[2], "y") == [
        style.short_name(NAMES[i]) for i in v["order"]
    ]  # the permuted panel


def test_cluster_statistics_two_panels_a_row_with_the_papers_values():
    stats = pd.DataFrame(
        dict(layer=["13", "2", "7"], n=[2.0, 15.0, 9.0], N_c=[1.0, 1.5, 1.3], C_s=[2.5, 2.0, 1.7])
    )
    fig = fig5.cluster_statistics(
        stats, pd.DataFrame(dict(layer=["2", "13"], size=[1, 3], fraction=[1.0, 1.0]))
    )
    n_ax = fig.axes[0]
    assert n_ax.get_subplotspec().get_geometry()[:2] == (2, 2)
    assert tick_texts(n_ax) == ["2", "7", "13"]
    run, ref = (
        next(line for line in n_ax.get_lines() if line.get_label().startswith(k)) for k in ("this", "paper")
    )
    assert list(run.get_ydata()) == [15.0, 9.0, 2.0]
    assert list(ref.get_ydata()) == pytest.approx([19.6, 6.4, 1.5])  # Table 6, K = 10
    vgg6 = fig5.cluster_statistics(stats.assign(layer=["5", "1", "3"]), None, model="vgg6")
    marks = [line for line in vgg6.axes[0].get_lines() if line.get_label().startswith("paper")]
    assert list(marks[0].get_ydata()) == [3.14]  # the text's n at VGG-6's layer 5


def test_threshold_explorer_frames_are_the_matrices_clipped_at_each_threshold():
    views = [random_view("13", 2), random_view("4", 1)]
    ex = fig4.threshold_explorer(views, fig4.threshold_frames(views))
    assert [f["threshold"] for f in ex.frames] == list(fig4.EXPLORER_THRESHOLDS) and ex.frames[ex.start][
        "threshold"
    ] == 0.3
    for f in ex.frames:
        th = f["threshold"]
        for v in sorted(views, key=lambda v: int(v["tap"])):  # shallow to deep in the text too
            B = v["M"] >= th
            c = fields.greedy_clusters(B)
            assert f"layer {v['tap']} filter {v['filter']}: " in f["text"]
            assert f"noise {fields.noise_count(B, c)}" in f["text"].split(f"layer {v['tap']} filter")[1]
        assert f["text"].index("layer 4") < f["text"].index("layer 13")
        assert Image.open(io.BytesIO(f["png"])).size[0] > 800
    assert len({f["png"] for f in ex.frames}) == len(ex.frames)  # every frame differs
    noise = [int(re.search(r"layer 4 filter 1: .*?noise (\d+)", f["text"]).group(1)) for f in ex.frames]
    assert noise[0] != noise[-1]


@pytest.fixture
def page(data_dir, monkeypatch):
    monkeypatch.setenv("MECH_DATA", str(data_dir))
    return pages.Page("mechanism-fig4-field-matrices", "smoke")


def html_of(shown):
    bundle, meta = shown._repr_mimebundle_()
    return bundle, meta[show.META]


def test_page_figure_is_a_numbered_captioned_figure_with_alt_text(page):
    first, meta = html_of(page.figure(fig4.field_matrices([random_view("13", 1), random_view("4", 2)])))
    second, meta2 = html_of(page.figure(fig4.field_matrix(random_view("10", 3))))
    html = first["text/html"] + second["text/html"]
    figures = re.findall(r"<figure.*?</figure>", html, re.S)
    assert len(figures) == 3
    for k, f in enumerate(figures, 1):
        alt = re.search(r'<img src="data:image/png;base64,([^"]+)" alt="([^"]+)"', f)
        assert alt and len(alt.group(2)) > 40
        Image.open(io.BytesIO(base64.b64decode(alt.group(1)))).verify()
        cap = re.search(r"<figcaption[^>]*>(.*)</figcaption>", f, re.S).group(1)
        assert cap.startswith(f"<strong>Figure {k}.</strong>")
        assert "Paper: <em>mechanism</em> Fig. 4" in cap and "Built at the <code>smoke</code> profile" in cap
        assert "SYNTHETIC" in cap
    assert "layer 4" in figures[0] and "layer 13" in figures[1]  # shallow to deep
    assert [m["number"] for m in meta["figure"] + meta2["figure"]] == [1, 2, 3]
    assert all(m["alt"] and m["caption"] for m in meta["figure"])


def test_page_figure_on_a_skipped_page_says_why_there_is_none(tmp_path, monkeypatch):
    monkeypatch.setenv("MECH_DATA", str(tmp_path))
    skipped = pages.Page("t", "smoke", dataset="cifar100", stand_in=False)
    bundle, _ = skipped.figure(
        fig4.field_matrices(fig4.filter_view(skipped.study(), "13"))
    )._repr_mimebundle_()
    assert "No figure: the data is missing" in bundle["text/markdown"] and "<figure" not in str(bundle)


def test_explorer_html_has_a_slider_over_every_frame_and_needs_no_network(page):
    bundle, meta = html_of(
        page.figure(
            fig4.threshold_explorer([random_view("13", 1)], fig4.threshold_frames([random_view("13", 1)]))
        )
    )
    html = bundle["text/html"]
    assert meta["figure"][0]["kind"] == "explorer"
    slider = re.search(r'<input type="range"[^>]*min="0" max="(\d+)"[^>]*value="(\d+)"', html)
    assert slider and int(slider.group(1)) == len(fig4.EXPLORER_THRESHOLDS) - 1 and int(slider.group(2)) == 2
    frames = json.loads(re.search(r"var frames = (\[.*?\]);", html, re.S).group(1))
    assert [f["value"] for f in frames] == [f"{t:.1f}" for t in fig4.EXPLORER_THRESHOLDS]
    assert all(f["alt"] and f["src"].startswith("data:image/png;base64,") for f in frames)
    assert "http" not in html  # no CDN: the book is read offline
    assert re.search(r'<img src="data:image/png;base64,[^"]+" alt="[^"]+"', html) and "<figcaption" in html


def test_a_figure_shown_bare_is_its_image_and_a_page_numbers_the_figures_it_shows(page, monkeypatch):
    """No module state: a figure displayed outside ``page.figure`` is its plain image; the page numbers its
    own."""
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    table = pd.DataFrame(
        dict(
            tap=["stage 2", "stage 1"],
            accuracy=[0.6, 0.4],
            n=[5.0, 9.0],
            N_c=[1.0, 1.2],
            C_s=[1.5, 1.6],
            F_s=[1, 4],
        )
    )
    table.attrs.update(N_l=10, model="resnet18")
    fig = your_model.layer_profile(table)
    fig._ipython_display_()
    assert type(shown[0]).__name__ == "Image" and shown[0].data.startswith(b"\x89PNG")
    first, second = (html_of(page.figure(fig))[1]["figure"][0] for _ in range(2))
    assert (first["page"], first["number"], second["number"]) == (page.name, 1, 2)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["stage 1", "stage 2"]


def test_the_overview_draws_the_layer_rows_the_pages_record():
    rows = [
        dict(quantity=q, paper=p, run=None if p is None else p * 0.9)
        for q, p, _ in k_tables.compare_sweep(None, "table6", [3, 6, 8, 10])  # a run at 0.9 the paper's
        + k_tables.compare_fit(None, "table6", "10")
    ]
    parsed = overview.layer_rows(rows)
    assert (
        len(parsed) == 4 * 5 * 4
        and set(parsed["K"]) == {3, 6, 8, 10}
        and set(parsed["stat"]) == set(overview.STATS)
    )
    fig = overview.overview_figure("universal-table6-vgg16-cifar-k10", "Table 6", rows)
    assert [ax.get_title().split(" (")[0] for ax in fig.axes if ax.axison] == [
        "accuracy",
        "n",
        "N_c",
        "C_s",
        "test error at layer 10 against K",
    ]
    assert tick_texts(fig.axes[0]) == ["2", "4", "7", "10", "13"]
    err = fig.axes[4]
    paper_err = next(line for line in err.get_lines() if line.get_label() == "paper").get_ydata()
    t6 = paper.table("table6")
    assert list(paper_err) == pytest.approx(
        [1 - t6[(t6.K == K) & (t6.tap == "10")]["accuracy"].item() for K in (3, 6, 8, 10)]
    )
    stand_in = layer_tables.compare_layers(None, _labelled(layer_tables.paper_rows("table6", 10)))
    assert set(overview.layer_rows([dict(quantity=q, paper=p, run=r) for q, p, r in stand_in])["K"]) == {10}
    mech = overview.layer_rows([dict(quantity=q, paper=p, run=r) for q, p, r in fig5.compare_fig5(None)])
    assert ("13", "n", 1.5) in set(zip(mech["tap"], mech["stat"], mech["paper"]))
    assert overview.overview_figure("x", "x", [dict(quantity="SNR", paper=5, run=3)]) is None


def _labelled(t):
    t.attrs["label"] = "Table 6 (CIFAR-10, K = 10), "
    return t


def test_the_overview_writes_a_myst_figure_with_its_png(tmp_path, monkeypatch):
    monkeypatch.setenv("MECH_BOOK_ROOT", str(tmp_path))
    generated.generated_dir().mkdir(parents=True)
    rows = [dict(quantity=q, paper=p, run=None) for q, p, r in fig5.compare_fig5(None)]
    lines = overview.figure_markdown("mechanism-fig5-cluster-statistics", "*mechanism* Fig. 5", rows)
    assert lines[0] == "```{figure} overview-figures/mechanism-fig5-cluster-statistics.png"
    assert lines[1].startswith(":alt: ") and len(lines[1]) > 40 and lines[3] == ":width: 816px"
    assert lines[4] == "" and "skipped" in lines[5] and lines[6] == "```"  # the caption, after the options
    Image.open(
        generated.generated_dir() / "overview-figures" / "mechanism-fig5-cluster-statistics.png"
    ).verify()


def test_page_times_are_read_from_the_data_file_the_build_writes(tmp_path, monkeypatch):
    monkeypatch.setenv("MECH_BOOK_ROOT", str(tmp_path))
    assert timings.per_profile("p") == dict(smoke="not measured", cpu="not measured", paper="not estimated")
    log = "executing 2 notebooks\n[1/2] p: ran (762 s; 762 s in all)\n[2/2] q: ran (9 s; 771 s in all)\n"
    assert timings.from_log(log, "cpu", empty_cache=True, date="2026-12-03 16:49") == 2
    timings.record("smoke", "p", 8.04)
    timings.record_plan(
        dict(speed=dict(source="assumed"), pages=dict(p=dict(runs=["k1", "k2"], hours=1.123)))
    )
    line = timings.time_line("p", "cpu")
    assert (
        line.index("`cpu` (this page): 12.7 min (")
        < line.index("; `smoke`: 8 s (")
        < line.index("; `paper`: ")
    )
    assert "from an empty cache" in line and "1.12 GPU-hours estimated (2 training(s)" in line
    q = json.loads((tmp_path / "book" / "page-times.json").read_text())["cpu"]["q"]
    assert q["order"] == 2 and q["date"] == "2026-12-03 16:49"


def test_the_committed_page_times_name_only_pages_of_the_book():
    names = {p.stem for p in (ROOT / "notebooks").glob("*.ipynb")}
    committed = json.loads((ROOT / "book" / "page-times.json").read_text())
    assert committed and all(set(pages_) <= names for pages_ in committed.values())


def test_dilution_page_computes_shows_and_decides_on_a_small_network():
    """mechanism's dilution end to end on generated features: the removed filters' FC layer retrained at the
    paper's points, silenced at every fraction, the summary, the comparison, the claims and the figure."""
    from types import SimpleNamespace

    import torch

    from helpers.method.layer import analyze_layer
    from helpers.train import probes

    g = torch.Generator().manual_seed(0)
    y = torch.arange(1200) % 4
    x = torch.relu(torch.randn(4, 40, 1, generator=g)[y] + 0.8 * torch.randn(1200, 40, 1, generator=g))
    (xtr, ytr), (xte, yte) = (x[:800], y[:800]), (x[800:], y[800:])
    probe = probes.train_probe(xtr, ytr, xte, yte, 4, epochs=5, progress=False)
    study = SimpleNamespace(
        features=lambda split: ({"13": xtr}, ytr) if split == "train" else ({"13": xte}, yte),
        probes={"13": probe},
        layers={"13": analyze_layer(probe.W, fields.class_means(xtr, ytr, 4))},
        run=SimpleNamespace(config=SimpleNamespace(model="vgg16"), test_acc=probe.test_acc),
    )
    d = dilution.dilution(study, "13")
    retrained = d[d["retrained"] & (d["k"] > 0)]
    assert d["retrained"].dtype == bool and len(retrained) == 3 * len(dilution.RETRAINED_DRAWS)
    assert (retrained["accuracy"] >= retrained["accuracy_silenced"] - 0.02).all()
    assert set(dilution.dilution_summary(d)["retrained"]) == {True, False}
    assert [row[0] for row in dilution.compare_dilution(d)][1].endswith("FC retrained")
    (claim, few) = dilution.claims_dilution(d)
    assert "distinct clusters" in claim.evidence and claim.verdict in (
        "holds",
        "does not hold",
        "not testable here",
    )
    fig = dilution.plot_dilution(d)
    assert "Retrained: vgg16" in fig.what and len(fig.axes[0].lines) >= 3


def test_the_ledger_is_one_line_a_claim_with_the_rest_on_demand():
    """The overview's ledger: a table line per claim (its key numbers cut at a clause), a dropdown with each
    claim's test, full evidence and quote, numbered across the verdict sections; the verdict figure counts
    each page's paper claims."""
    from helpers.book import ledger

    long = "L2: 0.528, L4: 0.649; std 0.006, 0.005"
    rec = dict(kind="paper claim", claim="rises", test="t", evidence=long, where="Results", quote="q")
    rows = [
        ("p1", "*mechanism* Fig. 2: accuracy", dict(rec, verdict="holds")),
        ("p1", "*mechanism* Fig. 2: accuracy", dict(rec, verdict="does not hold")),
        ("p2", "*universal* AFCC on B0, and the rest", dict(rec, verdict="not testable here", reason="r")),
    ]
    assert ledger.key_numbers(long) == "L2: 0.528, L4: 0.649 …" and ledger.key_numbers("a b", 90) == "a b"
    assert ledger.key_numbers("x" * 50 + " " + "y" * 60, 90) == "x" * 50 + " …"
    by_kind = {k: [r for r in rows if r[2]["kind"] == k] for k in ledger.KINDS}
    lines = ledger.ledgers(by_kind)
    table = [line for line in lines if line.startswith("| ") and line[2].isdigit()]
    assert [line.split(" | ")[0] for line in table] == ["| 1", "| 2", "| 3"]
    assert "{doc}`mechanism Fig. 2 <p1>`" in table[0] and "{doc}`universal AFCC on B0 <p2>`" in table[2]
    assert "**not testable here** (r)" in table[2] and "std 0.006" not in table[0]
    details = [line for line in lines if line[:2] in ("1.", "2.", "3.")]
    assert len(details) == 3 and "*Evidence:* " + long in details[0] and "“q”" in details[0]
    assert (
        lines.count(":::{dropdown} The test, the evidence and the paper's sentence of each line above") == 3
    )
    fig = ledger.verdicts_by_page([r for r in rows])
    assert "mechanism Fig. 2: 1 holds, 1 does not hold" in fig.alt and "1 not testable here" in fig.what
