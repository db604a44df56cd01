"""The book as a reader gets it: the worked example is what the helpers compute, every citation resolves to an
entry with a DOI or arXiv id of the right form, the build resumes after a kill, and the smoke-profile book
opens in headless Chromium with every page, figure, claim, reference and launch button in place."""

import functools
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch
import yaml
from conftest import ROOT, write_npz

from helpers.book import generated, overview, pdf
from helpers.method import afcc, fields, snr
from helpers.method.layer import analyze_layer
from helpers.train import data

try:  # the chromium make pdf prints with (helpers.book.pdf: $CHROMIUM, else Debian's)
    CHROMIUM, NO_CHROMIUM = pdf.chromium(), ""
except FileNotFoundError as missing:
    CHROMIUM, NO_CHROMIUM = None, str(missing)
ARXIV = re.compile(r"^\d{4}\.\d{4,5}$")  # a new-style arXiv id, without version
DOI = re.compile(r"^10\.\d{4,9}/[-._;()/:A-Za-z0-9]+$")  # Crossref's pattern for modern DOIs
ARXIV_LINK = re.compile(r"^https://arxiv\.org/abs/\d{4}\.\d{4,5}$")
DOI_LINK = re.compile(r"^https://doi\.org/10\.\d{4,9}/[-._;()/:A-Za-z0-9]+$")
PAPERS = {  # the two papers the book reproduces: (title, link), as ../shared/papers/ gives them
    "tzach2023mechanism": (
        "The mechanism underlying successful deep learning",
        "https://arxiv.org/abs/2305.18078",
    ),
    "meir2024universal": (
        "Towards a universal mechanism for successful deep learning",
        "https://doi.org/10.1038/s41598-024-56609-x",
    ),
}
REPOSITORY = (
    "https://github.com/example-owner/mechanism-book"  # set in the browser test's copy of _config.yml
)
CITE = re.compile(r"\{cite(?::[pt])?\}`([^`]+)`")


def cited_keys() -> dict[str, set[str]]:
    """Every citation key of the book's pages and the notebooks' markdown cells, with where it is cited."""
    where: dict[str, set[str]] = {}
    texts = [(p.name, p.read_text()) for p in (ROOT / "book").glob("*.md")]
    for p in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(p.read_text())
        texts += [(p.name, "".join(c["source"])) for c in nb["cells"] if c["cell_type"] == "markdown"]
    for name, text in texts:
        for keys in CITE.findall(text):
            for key in keys.split(","):
                where.setdefault(key.strip(), set()).add(name)
    return where


def test_every_citation_resolves_to_an_entry_with_a_doi_or_arxiv_id_of_the_right_form():
    from pybtex.database import parse_file

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["bibtex_bibfiles"] == ["references.bib"]
    entries = parse_file(str(ROOT / "references.bib")).entries
    cited = cited_keys()
    assert not set(cited) - set(entries), (
        f"cited but not in references.bib: {sorted(set(cited) - set(entries))}"
    )
    assert not set(entries) - set(cited), (
        f"in references.bib but cited nowhere: {sorted(set(entries) - set(cited))}"
    )
    for key, e in entries.items():
        f = {k.lower(): v for k, v in e.fields.items()}
        if "eprint" in f:
            assert f.get("archiveprefix") == "arXiv" and ARXIV.match(f["eprint"]), (key, f["eprint"])
        if "doi" in f:
            assert DOI.match(f["doi"]), (key, f["doi"])
    mech, univ = entries["tzach2023mechanism"].fields, entries["meir2024universal"].fields
    assert mech["eprint"] == "2305.18078" and mech["title"] == PAPERS["tzach2023mechanism"][0]
    assert univ["doi"] == "10.1038/s41598-024-56609-x" and univ["title"] == PAPERS["meir2024universal"][0]
    assert (univ["journal"], univ["volume"], univ["pages"]) == ("Scientific Reports", "14", "5881")
    afcc_paper = entries["tzach2025pruning"].fields
    assert (afcc_paper["journal"], afcc_paper["volume"], afcc_paper["pages"]) == (
        "Physical Review E",
        "111",
        "065307",
    )
    assert {"intro.md", "method.md"} <= cited["tzach2023mechanism"] & cited["meir2024universal"]
    for p in sorted((ROOT / "notebooks").glob("*.ipynb")):  # every notebook that names a paper cites it
        text = p.read_text()
        for key, name in (("tzach2023mechanism", "*mechanism*"), ("meir2024universal", "*universal*")):
            if f"**What the paper says.** {name}" in text:
                assert p.name in cited.get(key, set()), f"{p.name} names {name} without citing it"


def test_worked_example_on_the_method_page_is_what_the_helpers_compute():
    text = (ROOT / "book" / "method.md").read_text()
    W = torch.tensor([[1.0, 0.0], [0.8, 0.2], [0.0, 1.0], [-0.5, 0.1]])[:, None, :]
    means = torch.tensor([[2.0, 0.0], [1.5, 0.5], [0.7, 1.0], [0.0, 0.1]])[:, None, :]
    M = fields.field_matrices(W, means)[0]
    assert (
        M[2, 1].item() == pytest.approx(0.76) and "M_{2,1} = 0.8 \\cdot 0.7 + 0.2 \\cdot 1.0 = 0.76" in text
    )
    for row in M.tolist():
        assert "  ".join(f"{v:5.2f}" for v in row).strip() in text
    B = fields.clip(fields.normalize(M), 0.3)
    for row in B.int().tolist():
        assert " ".join(map(str, row)) in text
    clusters = fields.greedy_clusters(B)
    assert clusters == [[0, 1], [2]] and "The clusters are `[[0, 1], [2]]`" in text
    assert fields.noise_count(B, clusters) == 2 and "so the noise is 2" in text
    la = analyze_layer(W, means)
    assert (la.n, la.N_c, la.C_s) == (2, 2, 1.5) and "$n = 2$, $N_c = 2$, $C_s = 1.5$" in text
    est = snr.snr_estimates(1, 4, la.n, la.N_c, la.C_s)
    for k, v in dict(signal=0.75, noise_I=0.125, noise_E=0.125, SNR_E=6).items():
        assert est[k] == pytest.approx(v) and f"**{v:g}**" in text
    assert snr.per_label(la)["noise_E"].tolist() == [0, 0, 0.5, 0]
    mask = afcc.afcc_mask(la.clusters, 4, 2)
    assert (
        int(mask.sum()) == afcc.expected_nonzero(1, 2, la.C_s, la.N_c) == 6
        and "6 of the 8 weights stay" in text
    )


def test_method_page_numbers_universals_equations_as_the_paper_does():
    """Sphinx numbers a page's labelled equations in order: the method page labels exactly universal's Eqs.
    (1)-(4), in the paper's order, so every {eq} reference in the book reads "Eq. (k)" with the paper's k."""
    text = (ROOT / "book" / "method.md").read_text()
    assert re.findall(r"^\$\$ \((eq-[\w-]+)\)$", text, re.M) == [
        "eq-signal",
        "eq-noise-i",
        "eq-noise-e",
        "eq-snr",
    ]
    referenced = {
        m
        for f in [*(ROOT / "book").glob("*.md"), *(ROOT / "notebooks").glob("*.ipynb")]
        for m in re.findall(r"\{eq\}`([\w-]+)`", f.read_text())
    }
    assert referenced and referenced <= {"eq-signal", "eq-noise-i", "eq-noise-e", "eq-snr"}, referenced


@pytest.fixture
def book_root(tmp_path, monkeypatch):
    """A copy of the book's sources in a temporary root, generated CIFAR data and a private cache."""
    root = tmp_path / "book-root"
    (root / "book").mkdir(parents=True)
    for f in ("_config.yml", "_toc.yml", "references.bib"):
        shutil.copy(ROOT / f, root / f)
    for f in (ROOT / "book").iterdir():  # pages and assets (favicon), not the generated pages
        if f.is_file():
            shutil.copy(f, root / "book" / f.name)
    d = tmp_path / "data"
    d.mkdir()
    write_npz(d / "cifar10.npz", data.synthetic_cifar(10, n_train=600, n_test=300, seed=0))
    write_npz(d / "cifar100.npz", data.synthetic_cifar(100, n_train=1000, n_test=500, seed=1))
    monkeypatch.setenv("MECH_BOOK_ROOT", str(root))
    monkeypatch.setenv("MECH_DATA", str(d))
    return root


def _build(*args, **kw):
    return subprocess.Popen(
        [sys.executable, "-m", "helpers.book.build", "--profile", "smoke", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        **kw,
    )


@pytest.mark.slow
def test_killed_build_resumes_without_half_written_notebooks(book_root):
    out = book_root / "book" / "generated"
    first, second = "architectures-taps", "mechanism-fig2-layer-accuracy"
    proc = _build("--only", first, second, "--no-html", "--jobs", "1")
    deadline = time.time() + 120
    while not (out / f"{first}.key").is_file() or not list(out.glob(f".{second}.*.running.ipynb")):
        assert proc.poll() is None and time.time() < deadline, proc.stdout.read()
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # mid-way through the second notebook
    proc.wait()
    assert not (out / f"{second}.ipynb").exists() and not (out / f"{second}.key").exists()
    nb = json.loads((out / f"{first}.ipynb").read_text())  # complete and readable
    assert nb["metadata"]["papermill"]["parameters"]["profile"] == "smoke"
    again = _build("--only", first, second, "--no-html", "--jobs", "1")
    log = again.communicate(timeout=300)[0]
    assert again.returncode == 0, log
    assert f"{first}: cached" in log and f"{second}: ran" in log
    assert json.loads((out / f"{second}.ipynb").read_text())["cells"]
    assert not list(out.glob(f".{second}.*"))


def check_field_explorer(page, base: str) -> None:
    """Issue 37: the Fig. 4 page's field-matrix explorer computes in the page. Its JavaScript clusters equal
    Python's greedy rule on every filter of two exported layers at thresholds 0.2, 0.3 and 0.6, its layer
    statistics equal n, N_c and C_s computed in Python from the same matrices, it reacts to its controls, and
    the page requests nothing from elsewhere."""
    import numpy as np

    from helpers.method import fields

    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((base, "data:")) else None)
    page.goto(f"{base}/book/generated/mechanism-fig4-field-matrices.html", wait_until="load")
    box = page.locator(".mech-field-explorer")
    assert box.count() == 1
    data = json.loads(box.locator("script[type='application/json']").text_content())
    assert len(data["taps"]) >= 2
    for k, tap in enumerate(data["taps"][:2]):
        for th in (0.2, 0.3, 0.6):
            js = page.evaluate(
                "([k, th, id]) => JSON.parse(document.getElementById(id + '-data').textContent).taps[k]"
                ".matrices.map(M => window.mechFieldExplorer.clusters(M, th))",
                [k, th, box.get_attribute("id")],
            )
            Bs = [np.asarray(M) >= th for M in tap["matrices"]]
            assert js == [fields.greedy_clusters(B) for B in Bs], (tap["tap"], th)
            stats = page.evaluate(
                "([M, th]) => window.mechFieldExplorer.layerStats(M, th)", [tap["matrices"], th]
            )
            cs = [fields.greedy_clusters(B) for B in Bs]
            sizes = [len(c) for c in sum(cs, [])]
            assert stats["n"] == pytest.approx(np.mean([fields.noise_count(B, c) for B, c in zip(Bs, cs)]))
            assert stats["N_c"] == pytest.approx(np.mean([len(c) for c in cs]))
            assert stats["C_s"] == (pytest.approx(np.mean(sizes)) if sizes else None)  # NaN: None
    text = box.locator("[id$='-filter-text']")
    before = text.inner_text()
    box.locator("select").select_option("1")
    box.locator("input[type=number]").fill("1")
    box.locator("input[type=range]").fill("0.6")
    after = text.inner_text()
    assert after != before and f"Layer {data['taps'][1]['tap']}, filter 1 at threshold 0.60" in after
    assert not outside, outside


def chapter_title(path: Path) -> str:
    """A chapter's title: a Markdown page's first heading, a notebook's first Markdown heading."""
    if path.suffix == ".md":
        return next(ln[2:] for ln in path.read_text().splitlines() if ln.startswith("# "))
    cells = json.loads(path.read_text())["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return re.search(r"^# (.+)$", text, re.M).group(1)


def the_pdf(root: Path, toc: list[str]) -> None:
    """make pdf (issue 37) on the built book: one PDF, offline, with every chapter's title and figures."""
    from pypdf import PdfReader

    t0 = time.time()
    assert pdf.main() == 0
    out = root / "_build" / pdf.PDF
    assert (root / "_build" / "html" / pdf.PDF).read_bytes() == out.read_bytes()
    reader = PdfReader(out)

    def flat(text: str) -> str:
        return re.sub(r"\s+", " ", re.sub(r"[*`]", "", text.replace("’", "'")))

    text = flat(" ".join(p.extract_text() for p in reader.pages))
    for f in ["book/intro", *toc]:
        path = next(p for p in (root / f"{f}.md", root / f"{f}.ipynb") if p.is_file())
        assert flat(chapter_title(path))[:50] in text, f
    assert sum(len(p.images) for p in reader.pages) >= 10 and "Figure 1." in text
    print(f"make pdf: {out.stat().st_size / 1e6:.1f} MB, {len(reader.pages)} pages, {time.time() - t0:.0f} s")


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
def test_smoke_book_in_headless_chromium(book_root):
    from playwright.sync_api import sync_playwright

    config = yaml.safe_load((book_root / "_config.yml").read_text())
    config["repository"]["url"] = REPOSITORY  # as a maintainer sets it: the book then has its launch buttons
    (book_root / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    branch = config["repository"]["branch"]
    t0 = time.time()
    proc = _build("--jobs", "2")
    log = proc.communicate(timeout=900)[0]
    assert proc.returncode == 0, log[-5000:]
    assert time.time() - t0 < 600, "the smoke build must take under 10 minutes"
    html = book_root / "_build" / "html"
    pages = sorted(p.relative_to(html).as_posix() for p in (html / "book").rglob("*.html"))
    toc = [
        line.split("file:")[1].strip()
        for line in (ROOT / "_toc.yml").read_text().splitlines()
        if "file:" in line
    ]
    assert {f"{t}.html" for t in toc + ["book/intro"]} <= set(pages)
    metas = {
        nb.stem: generated.page_metadata(nb)
        for nb in sorted((book_root / "book" / "generated").glob("*.ipynb"))
        if not nb.stem.endswith(".failed")
    }
    cited = cited_keys()
    claims = [c for m in metas.values() for c in m.get("claims", [])]
    for name, m in metas.items():  # each page's summary states exactly the verdicts its ledger rows hold
        assert [v["verdict"] for v in m["summary"][0]["verdicts"]] == [c["verdict"] for c in m["claims"]], (
            name
        )

    the_pdf(book_root, toc)  # make pdf, before the server starts: the front page links the copy it serves
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page()
            errors = []
            page.on(
                "console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None
            )
            page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
            for p in pages:
                resp = page.goto(f"{base}/{p}", wait_until="load")
                assert resp.ok, p
                assert page.locator("main h1, article h1").count() >= 1, p
                widths = page.eval_on_selector_all(
                    "img", "imgs => imgs.map(i => [i.src, i.complete, i.naturalWidth])"
                )
                bad = [w for w in widths if not w[1] or w[2] == 0]
                assert not bad, f"{p}: images not loaded {bad}"
                if p.startswith("book/generated/mechanism-fig"):
                    assert len(widths) >= 1, f"{p} shows no figure"
                # every image of the text is a figure with its caption and its alt text
                figures = page.eval_on_selector_all(
                    "article img:not(.result-first img)",  # the page's own, not the copy opening it
                    """imgs => imgs.map(i => {
                    const f = i.closest('figure'), c = f && f.querySelector('figcaption');
                    return [i.getAttribute('alt') || '', c ? c.innerText.trim() : '', f !== null]; })""",
                )
                lacking = [f for f in figures if not (f[0].strip() and f[1] and f[2])]
                assert not lacking, f"{p}: figures without a caption or alt text: {lacking}"
                stem = p.removeprefix("book/generated/").removesuffix(".html")
                if stem in metas:  # each figure the page's notebook showed is there, numbered in order
                    shown = metas[stem].get("figure", [])
                    assert len(figures) == len(shown), (p, len(figures), len(shown))
                    numbers = [re.match(r"Figure (\d+)\.", f[1]) for f in figures]
                    assert [int(m.group(1)) if m else None for m in numbers] == list(
                        range(1, len(shown) + 1)
                    ), p
                if p.startswith("book/generated/") and not p.endswith(("overview.html", "colab.html")):
                    body = page.inner_text("main")
                    assert re.search("This run[’']s verdicts|no verdicts", body), (
                        f"{p} has no generated summary"
                    )
                    flat = re.sub(
                        r"\W+", "", body.split("Summary")[-2] if body.count("Summary") > 1 else body
                    )
                    name = p.removeprefix("book/generated/").removesuffix(".html")
                    for c in metas[name][
                        "claims"
                    ]:  # the rendered summary states each ledger verdict of the page
                        if c.get("kind") == "paper claim":
                            assert re.sub(r"\W+", "", f"{c['claim']}: {c['verdict']}") in flat, (
                                p,
                                c["claim"],
                            )
                    # result first (issue 37): the verdicts and first figure open the page, above the folded
                    # provenance; the copy's verdict line is the page's own count
                    decided = [c for c in metas[name].get("claims", []) if c.get("kind") == "paper claim"]
                    if decided:
                        first = page.locator(".result-first").first
                        assert first.count() == 1, f"{p}: no result-first block"
                        top = page.evaluate(
                            "() => [document.querySelector('.result-first').getBoundingClientRect().top, "
                            "document.querySelector('details.mech-folded').getBoundingClientRect().top]"
                        )
                        assert top[0] < top[1], (p, top)
                        n_held = sum(c["verdict"] == "holds" for c in decided)
                        assert f"Of the paper's {len(decided)} claim(s) on this page, {n_held} hold" in (
                            first.inner_text()
                        ), p
                        assert not page.locator("details.mech-folded").first.evaluate("d => d.open")
                    rerun = body.split("Rerun this page")[1].splitlines()[0]
                    assert "papermill" in rerun and "`" not in rerun, (
                        f"{p}: the rerun line is not rendered: {rerun}"
                    )
                    assert "# Parameters" not in body, f"{p} shows papermill's injected cell"
                    assert "REPOSITORY, BRANCH" not in body, f"{p} shows the install cell"
                    # Binder and Colab open the page's source notebook in the repository set in _config.yml
                    hrefs = page.eval_on_selector_all("a", "as => as.map(a => a.getAttribute('href'))")
                    executed = json.loads((book_root / "book" / "generated" / f"{name}.ipynb").read_text())
                    src = "notebooks/" + executed["metadata"]["papermill"]["input_path"].rsplit("/", 1)[-1]
                    owner_repo = REPOSITORY.removeprefix("https://github.com/")
                    assert (
                        f"https://mybinder.org/v2/gh/{owner_repo}/{branch}?urlpath=lab/tree/{src}" in hrefs
                    ), p
                    assert (
                        f"https://colab.research.google.com/github/{owner_repo}/blob/{branch}/{src}" in hrefs
                    ), p
                    assert REPOSITORY in hrefs, f"{p} has no repository button"
                    if any(
                        src.rsplit("/", 1)[-1] in w for w in cited.values()
                    ):  # its citations link the references
                        assert page.locator("a[href^='../references.html#']").count() >= 1, (
                            f"{p}: no citation link"
                        )
            check_field_explorer(page, base)
            # the threshold explorer: its slider changes the image, the alt text and the line under it, no
            # kernel
            page.goto(f"{base}/book/generated/mechanism-fig4-field-matrices.html", wait_until="load")
            slider, explorer = (
                page.locator("input.mech-explorer-slider"),
                page.locator("figure.mech-explorer"),
            )
            assert slider.count() == 1 and explorer.locator("figcaption").count() == 1

            def state():
                return (
                    explorer.locator("img").get_attribute("src"),
                    explorer.locator("img").get_attribute("alt"),
                    explorer.locator("p").inner_text(),
                    explorer.locator("output").inner_text(),
                )

            start = state()
            assert start[3] == "0.3" and start[2].startswith("Threshold 0.3")
            slider.focus()
            page.keyboard.press("End")
            end = state()
            assert end[3] == "0.9" and end[2].startswith("Threshold 0.9") and "0.9" in end[1]
            assert end[0] != start[0] and end[0].startswith("data:image/png;base64,")
            assert (
                page.evaluate(
                    "s => new Promise(r => { const i = new Image(); i.onload = () => r(i.naturalWidth); "
                    "i.src = s; })",
                    end[0],
                )
                > 0
            )
            page.keyboard.press("Home")
            assert state()[3] == "0.1" and state()[0] not in (start[0], end[0])
            # the overview draws the paper's numbers beside this run's, per table
            page.goto(f"{base}/book/generated/overview.html", wait_until="load")
            figures = page.eval_on_selector_all(
                "article figure img",
                "imgs => imgs.map(i => [i.alt, i.naturalWidth, "
                "i.closest('figure').querySelector('figcaption').innerText, i.getAttribute('src')])",
            )
            verdicts = [f for f in figures if f[3].endswith("verdicts-by-page.png")]
            assert len(verdicts) == 1 and "paper claims" in verdicts[0][0], verdicts  # the ledger's figure
            drawn = [f[:3] for f in figures if f not in verdicts]
            rows = {n: overview.layer_rows(m.get("results", [])) for n, m in metas.items()}
            layered = [n for n, r in rows.items() if len(r) >= 2 and r["paper"].notna().any()]
            assert len(drawn) == len(layered) >= 10, (len(drawn), layered)
            assert all(
                alt and width > 0 and "paper" in cap and cap.startswith("Figure ")
                for alt, width, cap in drawn
            )
            page.goto(f"{base}/book/references.html", wait_until="load")
            entries = page.eval_on_selector_all(
                "main .citation",
                "cs => cs.map(c => [c.id, c.innerText, [...c.querySelectorAll('a')].map(a => a.href)])",
            )
            assert len(entries) == len(cited), [e[1][:60] for e in entries]
            for key, (title, link) in PAPERS.items():
                assert [e for e in entries if title in e[1] and link in e[2]], f"the bibliography lacks {key}"
            links = [a for e in entries for a in e[2]]
            assert links and all(ARXIV_LINK.match(a) or DOI_LINK.match(a) for a in links), links
            anchors = {e[0] for e in entries}
            # equations in MyST math, typeset by the book's own MathJax; {eq} and {ref} cross-references
            # resolve
            page.goto(f"{base}/book/method.html", wait_until="load")
            page.wait_for_selector("mjx-container", timeout=30000)
            assert page.locator("mjx-container[display='true']").count() >= 6
            assert "$" not in page.inner_text("main"), "the method page shows untypeset math"
            eqno = page.eval_on_selector_all(
                "div.math[id^='equation-']", "ds => ds.map(d => [d.id, d.querySelector('.eqno').innerText])"
            )
            assert [(i, re.match(r"\((\d)\)", n).group(1)) for i, n in eqno] == [
                ("equation-eq-signal", "1"),
                ("equation-eq-noise-i", "2"),
                ("equation-eq-noise-e", "3"),
                ("equation-eq-snr", "4"),
            ], eqno
            for stem in (
                "mechanism-fig2-layer-accuracy",
                "mechanism-fig5-cluster-statistics",
                "universal-afcc-vgg16",
            ):
                assert page.locator(f"a[href^='generated/{stem}.html']").count() >= 1, (
                    f"method page: no link to {stem}"
                )
            page.goto(f"{base}/book/glossary.html", wait_until="load")
            for k, label in enumerate(["eq-signal", "eq-noise-i", "eq-noise-e", "eq-snr"], 1):
                link = page.locator(f"a[href='method.html#equation-{label}']")
                assert link.count() == 1 and link.inner_text().strip() == f"Eq. ({k})", label
            for stem in metas:  # every result page links the method steps it applies
                page.goto(f"{base}/book/generated/{stem}.html", wait_until="load")
                assert page.locator("a[href^='../method.html#method-']").count() >= 1, (
                    f"{stem}: no method link"
                )
            page.goto(f"{base}/book/intro.html", wait_until="load")
            box = page.locator(".admonition:has-text('How to cite this book')")
            assert box.count() == 1 and "@misc{" in box.inner_text()
            cites = page.eval_on_selector_all(
                "main a[href^='references.html#']", "as => as.map(a => a.getAttribute('href').split('#')[1])"
            )
            assert cites and set(cites) <= anchors, (cites, anchors)  # each citation lands on its entry
            assert not page.locator(
                "a[href*='mybinder.org']"
            ).count()  # a markdown page has nothing to launch
            page.goto(f"{base}/search.html?q=cluster", wait_until="load")
            page.wait_for_selector("#search-results ul li, .search li", timeout=20000)
            assert page.locator("#search-results li, ul.search li").count() > 0
            page.goto(f"{base}/book/generated/overview.html", wait_until="load")
            rows = page.locator("table:has(th:has-text('verdict')) tbody tr").count()
            assert rows == sum(c.get("verdict") != "skipped" for c in claims) > 0
            details = page.locator("details:has-text('The test, the evidence')")  # each table's dropdown
            assert details.count() >= 3 and not details.first.evaluate("d => d.open")
            details.first.locator("summary").click()
            assert "Evidence:" in details.first.inner_text()
            assert page.locator("text=Paper claims:").count() >= 1
            assert page.goto(f"{base}/book/intro.html").ok  # the front page links the PDF it serves
            assert page.locator("a[href='../book.pdf']").count() == 1
            assert page.request.get(f"{base}/book.pdf").ok
            browser.close()
    finally:
        server.shutdown()
    assert not errors, errors
