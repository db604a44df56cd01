"""helpers.book.page: knobs checked up front, each run trained on its own config's data, skipped pages
inert."""

import pytest
from conftest import ROOT

from helpers.book import knobs, show
from helpers.book import page as pages
from helpers.figures import steps
from helpers.figures import universal_k_sweep as k_tables
from helpers.figures import universal_layer_tables as layer_tables
from helpers.reference import claims as claims_mod
from helpers.train import profiles


def test_a_page_runs_another_model_on_that_models_own_subset(data_dir, monkeypatch):
    monkeypatch.setenv("MECH_DATA", str(data_dir))
    monkeypatch.setitem(profiles.SMOKE, "avgg16", dict(profiles.SMOKE["avgg16"], n_train=300, n_test=100))
    page = pages.Page("t", "smoke", model="vgg16", dataset="cifar10")
    own, other = page.run(), page.run(model="avgg16")
    assert own.info["data"]["n_train"] == 500 and other.info["data"]["n_train"] == 300
    assert other.config.n_train == 300 and other.info["data"]["n_test"] == 100


def test_K_equal_to_the_label_count_is_the_run_without_K(data_dir, monkeypatch):
    monkeypatch.setenv("MECH_DATA", str(data_dir))
    page = pages.Page("t", "smoke", model="vgg6", dataset="cifar10")
    assert page.config_for(K=10) == page.config_for() and page.config_for(K=3).K == 3


def test_a_K_label_run_keeps_the_images_per_label_of_the_profiles_subset(data_dir, monkeypatch):
    monkeypatch.setenv("MECH_DATA", str(data_dir))
    page = pages.Page("t", "cpu", model="efficientnet_b0", dataset="cifar10")  # cpu: a subset of 10 labels
    n = profiles.CPU["efficientnet_b0"]["n_train"]
    assert page.config.n_train == n
    assert [page.config_for(K=K).n_train for K in (2, 4, 6)] == [
        n // 5,
        2 * n // 5,
        3 * n // 5,
    ]  # n/10 a label
    ds = page.data_for(page.config_for(K=4))
    assert len(ds.y_train) == min(2 * n // 5, 4 * int((page.full.y_train == 0).sum()))  # the generated data's
    assert (
        pages.Page("t", "cpu", model="vgg16", dataset="cifar10").config_for(K=3).n_train is None
    )  # all images


def test_a_K_label_run_takes_as_many_optimizer_steps_as_the_full_run():
    """*universal* Tables 4-6 with K the only variable (issue 34: fixed epochs gave a 3-label run 0.3 of the
    full run's steps): epochs and a step decay's epochs times N / K, images per label kept."""
    full = profiles.train_config("paper", "vgg16", n_train=20_000)
    k3 = profiles.k_label_config(
        profiles.train_config("paper", "vgg16", n_train=20_000, K=4, label_draw=2), 10
    )
    assert k3.epochs == round(full.epochs * 10 / 4) and k3.n_train == 8_000 and k3.label_draw == 2
    assert k3.conv.dt == round(full.conv.dt * 2.5) and k3.fc.dt == round(full.fc.dt * 2.5)
    steps = [c.epochs * (c.n_train // c.batch_size) for c in (full, k3)]
    assert steps[0] == steps[1]
    assert profiles.k_label_config(profiles.train_config("cpu", "vgg16", K=10, label_draw=1), 10) == (
        profiles.train_config("cpu", "vgg16")
    )
    assert k_tables.label_draws(3, 10, 2) == [0, 1] and k_tables.label_draws(10, 10, 2) == [None]
    with pytest.raises(ValueError, match="draws"):
        k_tables.label_draws(3, 10, 0)


def test_K_sweeps_default_to_the_papers_K_values_or_their_ten_label_stand_ins(data_dir, monkeypatch):
    monkeypatch.setenv("MECH_DATA", str(data_dir))
    assert k_tables.default_Ks("table5", 100) == [10, 20, 40, 60, 100]
    # CIFAR-10: VGG-16 takes Table 6's K (the paper's own CIFAR-K/10), EfficientNet-B0 Table 5's label
    # fractions
    assert k_tables.default_Ks("table4", 10) == list(layer_tables.PAPER_K["table6"])
    assert k_tables.default_Ks("table5", 10) == [2, 4, 6, 10]
    page = pages.Page("t", "smoke", model="efficientnet_b0", dataset="cifar10")
    assert k_tables.Ks_for(page, "table5") == [2, 4, 6, 10] and k_tables.Ks_for(
        page, "table5", [8, 3, 3]
    ) == [3, 8]
    with pytest.raises(ValueError, match="out of range"):
        k_tables.Ks_for(page, "table5", [1, 4])


@pytest.mark.parametrize(
    "knobs, message",
    [
        (dict(taps=["3"]), "unknown layer"),
        (dict(threshold=0.0), "threshold"),
        (dict(seeds=0), "seeds"),
        (dict(profile="laptop"), "profile"),
        (dict(dataset="mnist"), "dataset"),
        (dict(epochs=0), "epochs"),
        (dict(solver="adam"), "solver"),
        (dict(wdith=0.5), "unknown knob"),
    ],
)
def test_bad_knobs_are_named(knobs, message, data_dir, monkeypatch):
    monkeypatch.setenv("MECH_DATA", str(data_dir))
    kw = dict(dict(profile="smoke", model="vgg16"), **knobs)
    with pytest.raises(ValueError, match=message):
        pages.Page("t", kw.pop("profile"), **kw)


def test_a_skipped_page_shows_the_papers_values_and_does_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("MECH_DATA", str(tmp_path))
    page = pages.Page("t", "smoke", dataset="cifar100")
    assert page.skipped and "cifar100" in page.skipped and page.study() is None and page.run() is None
    shown = page.compare([("accuracy", 0.75, 0.5)])
    assert shown.frame["this run"].isna().all() and shown.frame["paper"].tolist() == [0.75]
    bundle, meta = page.header()._repr_mimebundle_()
    assert meta[show.META]["header"]["skipped"] and "How to get it" in bundle["text/plain"]


def test_a_missing_cifar100_runs_on_cifar10_as_a_stand_in_unless_asked_strictly(data_dir, monkeypatch):
    monkeypatch.setenv("MECH_DATA", str(data_dir))  # CIFAR-10 only
    page = pages.Page("t", "smoke", dataset="cifar100", paper_dataset="cifar100")
    assert not page.skipped and page.dataset == "cifar10" and "cifar100" in page.missing
    assert page.config == pages.Page("u", "smoke", dataset="cifar10").config  # the CIFAR-10 pages' own run
    assert "stand-in" in page.label() and "not the paper's experiment" in page.label()
    bundle, meta = page.header()._repr_mimebundle_()
    assert meta[show.META]["header"]["stand_in"] == "cifar10" and "stand_in False" in bundle["text/plain"]
    strict = pages.Page("t", "smoke", dataset="cifar100", paper_dataset="cifar100", stand_in=False)
    assert strict.skipped and strict.dataset == "cifar100" and strict.study() is None


def test_device_knob_is_passed_not_set_for_the_whole_process(data_dir, monkeypatch):
    import os

    monkeypatch.setenv("MECH_DATA", str(data_dir))
    monkeypatch.delenv("MECH_DEVICE")
    page = pages.Page("x", "smoke", device="cpu")
    assert page.device == "cpu" and "MECH_DEVICE" not in os.environ


def test_skippable_returns_what_a_skipped_page_shows_without_running_the_step():
    calls = []

    @steps.skippable
    def step(study, x=1):
        calls.append(study)
        return study

    @steps.skippable("a", "b", skipped=(None, None))
    def pair(a, b, c=None):
        return a, b

    class Skipped:
        skipped = "data missing"

    assert step(None) is None and step(Skipped()) is None and step(study=None) is None and not calls
    assert step(3) == 3 and calls == [3]
    assert pair(1, None) == (None, None) and pair(1, 2) == (1, 2) and pair(1, 2, None) == (1, 2)


def test_trend_pages_train_the_profiles_number_of_networks_unless_told(data_dir, monkeypatch):
    """seeds=None takes the profile's: 2 networks at cpu (a trend must beat their spread), the papers' samples
    at paper (VGG-16 4, VGG-6 5), 1 at smoke; an explicit count wins. Figs. 2 and 7 leave it to the
    profile."""
    monkeypatch.setenv("MECH_DATA", str(data_dir))
    assert [pages.Page("t", p, model="vgg16", seeds=None).seeds for p in ("smoke", "cpu", "paper")] == [
        1,
        2,
        4,
    ]
    assert pages.Page("t", "paper", model="vgg6", seeds=None).seeds == 5
    assert pages.Page("t", "cpu", model="vgg16", seeds=3).seeds == 3
    assert pages.Page("t", "cpu", model="resnet18", seeds=None).seeds == 2
    for name in ("mechanism-fig2-layer-accuracy", "mechanism-fig7-vgg6"):
        assert knobs.defaults(ROOT / "notebooks" / f"{name}.ipynb")["seeds"] is None


def test_the_summary_opens_with_a_sentence_computed_from_the_verdicts():
    def rec(verdict, kind=claims_mod.PAPER):
        return dict(page="p", claim="c", kind=kind, verdict=verdict)

    holds, fails, open_ = claims_mod.HOLDS, claims_mod.FAILS, claims_mod.UNTESTABLE
    assert "all 2 of the paper's claims" in show.meaning(
        [rec(holds), rec(holds), rec(fails, claims_mod.CHECK)]
    )
    mixed = show.meaning([rec(holds), rec(fails), rec(open_), rec(open_)])
    assert (
        "reproduces 1 of the paper's 4 claims" in mixed
        and "1 do not hold" in mixed
        and "2 cannot be decided" in mixed
    )
    assert show.meaning([rec(holds, claims_mod.ADDITION)]) == ""


def test_cpu_efficientnet_pages_train_the_lite0_stand_in_and_say_so(data_dir, monkeypatch):
    monkeypatch.setenv("MECH_DATA", str(data_dir))
    page = pages.Page("t", "cpu", model="efficientnet_b0", dataset="cifar10")
    assert page.config.model == "efficientnet_lite0" and page.config.pretrained
    line = "EfficientNet-Lite0 (ImageNet-pretrained; B0 without squeeze-excitation, ReLU6) standing in for B0"
    assert line in page.label() and line in page.header().more[0][0]
    table = page.header().more[0][1].set_index("")
    count = table.loc["parameters (1000-way head)"].str.replace(",", "").astype(int)
    assert count["EfficientNet-B0"] > count["EfficientNet-Lite0"]  # computed: B0's squeeze-excitation
    assert table.loc["squeeze-excitation", "EfficientNet-Lite0"] == "none"
    record = claims_mod.Claim("c", claims_mod.PAPER, claims_mod.HOLDS, "t", "0.9 > 0.8", source="")
    page.claims([record])
    assert record.evidence == "0.9 > 0.8 (on EfficientNet-Lite0, the stand-in for B0)"
    # the paper profile keeps the paper's network, torchvision's pretrained B0, and says nothing of a stand-in
    paper = pages.Page("t", "paper", model="efficientnet_b0", dataset="cifar10")
    assert paper.config.model == "efficientnet_b0" and paper.config.pretrained
    assert "standing in" not in paper.label() and not paper.header().more
    # asked for by name, Lite0 is the page's own network, not a stand-in
    assert "standing in" not in pages.Page("t", "cpu", model="efficientnet_lite0", dataset="cifar10").label()


def test_result_first_opens_a_built_page_with_its_verdicts_and_first_figure():
    """Issue 37: the build writes, after the page's title, two lines counted from its claim records and a
    copy of its first figure; the copy carries no record (the ledger counts nothing twice), writing it again
    replaces it, and a page without a decided paper claim is left as it was. The header folds its knob
    table."""
    from helpers.book import result_first as rf

    def out(meta, html=""):
        return dict(output_type="display_data", data={"text/html": html}, metadata={show.META: meta})

    claim = dict(kind=claims_mod.PAPER, page="p")
    records = [
        dict(claim, claim="accuracy rises", verdict=claims_mod.HOLDS),
        dict(claim, claim="n falls", verdict=claims_mod.FAILS),
        dict(claim, claim="SNR > 5", verdict=claims_mod.UNTESTABLE),
        dict(claim, claim="ours", verdict=claims_mod.FAILS, kind=claims_mod.CHECK),
    ]
    figure = (
        '<figure class="mech-figure" id="figure-1" style="x"><img src="data:1" alt="a">'
        "<figcaption>F</figcaption></figure>"
    )
    nb = dict(
        cells=[
            dict(cell_type="markdown", source="# Title", metadata={}),
            dict(cell_type="code", outputs=[out(dict(header=dict(profile="cpu")))], metadata={}),
            dict(cell_type="code", outputs=[out(dict(figure=[dict(number=1)]), figure)], metadata={}),
            dict(cell_type="code", outputs=[out(dict(claims=records))], metadata={}),
        ]
    )
    got = rf.result_first(nb)
    assert len(got["cells"]) == 5 and len(nb["cells"]) == 4  # a copy; the input is untouched
    cell = got["cells"][1]
    assert "remove-input" in cell["metadata"]["tags"] and got["cells"][0]["source"] == "# Title"
    assert "id" not in cell  # the input's cells have none (nbformat < 4.5)
    with_ids = dict(cells=[dict(c, id=f"c{k}") for k, c in enumerate(nb["cells"])])
    assert rf.result_first(with_ids)["cells"][1]["id"] == rf.TAG
    text = cell["outputs"][0]["data"]["text/html"]
    assert "Of the paper's 3 claim(s) on this page, 1 hold, 1 do not hold and 1 are not testable here" in text
    assert "Does not hold: n falls." in text and "ours" not in text and "<code>cpu</code>" in text
    assert '<img src="data:1" alt="a">' in text and 'id="figure-1"' not in text
    assert set(cell["outputs"][0]["metadata"][show.META]) == {"result_first"}
    assert rf.result_first(got)["cells"] == got["cells"]  # written once
    skipped = dict(
        cells=[
            nb["cells"][0],
            dict(cell_type="code", metadata={}, outputs=[out(dict(claims=[dict(claim, verdict="skipped")]))]),
        ]
    )
    assert rf.result_first(skipped) == skipped
    all_hold = rf.verdict_lines(records[:1])
    assert len(all_hold) == 2 and "Every claim decided here holds" in all_hold[1]
    header = show.Shown(claims_mod.frame([]), "text", {}, folded="Knobs")._repr_mimebundle_()[0]["text/html"]
    assert '<details class="mech-folded"><summary>Knobs</summary>' in header


def test_colab_page_reads_the_recorded_times_and_labels_each_measured_or_estimated():
    """Issue 37: the Colab page's numbers come from book/page-times.json: a page's cpu minutes as measured
    (with when and where), its paper GPU-hours rescaled from the plan's assumed speed to Colab's T4; pages no
    longer in notebooks/ are left out, and the sums are over the rows."""
    from helpers.book import colab

    times = {
        "cpu": {
            "mechanism-fig2-layer-accuracy": dict(seconds=600.0, date="d", machine="m", empty_cache=True),
            "gone-page": dict(seconds=60.0, date="d", machine="m"),
        },
        "paper": {
            "mechanism-fig2-layer-accuracy": dict(gpu_hours=4.05, runs=2, speed="ASSUMED 20 TFLOP/s (x)"),
            "universal-table1-vgg16-cifar100": dict(gpu_hours=1.0, runs=1, speed="measured 8.1 TFLOP/s"),
        },
    }
    r = {x["page"]: x for x in colab.rows(times)}
    assert set(r) == {"mechanism-fig2-layer-accuracy", "universal-table1-vgg16-cifar100"}
    fig2 = r["mechanism-fig2-layer-accuracy"]
    assert fig2["cpu_minutes"] == 10.0 and fig2["paper_t4_hours"] == pytest.approx(4.05 * 20 / 8.1)
    assert r["universal-table1-vgg16-cifar100"]["cpu_minutes"] is None
    text = colab.text(times)
    assert "| {doc}`mechanism-fig2-layer-accuracy` | 10.0 min | d, m, empty cache | 10.0 h |" in text
    assert (
        "**the whole book** | **10 min** | | **11 h**" in text and "estimated" in text and "measured" in text
    )
    assert "No times are recorded yet" in colab.text({})
