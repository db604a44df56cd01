"""The book as a reader gets it: the worked example is what the helpers compute, the build resumes after a
kill, and the smoke-profile book opens in headless Chromium with every page, figure and claim in place."""
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

import pytest
import torch
from conftest import ROOT, write_npz

from helpers import afcc, build, data, filters, snr

CHROMIUM = next((c for c in (os.environ.get("CHROMIUM"), shutil.which("chromium"), shutil.which("chromium-browser"),
                              "/usr/lib/chromium/chromium", "/snap/bin/chromium") if c and os.path.isfile(c)), None)
NO_CHROMIUM = ("no chromium found: install Debian's (sudo apt-get install chromium; make test does it when run as "
               "root) or set CHROMIUM=/path/to/chromium")


def test_worked_example_on_the_method_page_is_what_the_helpers_compute():
    text = (ROOT / "book" / "method.md").read_text()
    W = torch.tensor([[1.0, 0.0], [0.8, 0.2], [0.0, 1.0], [-0.5, 0.1]])[:, None, :]
    means = torch.tensor([[2.0, 0.0], [1.5, 0.5], [0.7, 1.0], [0.0, 0.1]])[:, None, :]
    M = filters.field_matrices(W, means)[0]
    assert M[2, 1].item() == pytest.approx(0.76) and "M[2, 1] = 0.8 * 0.7 + 0.2 * 1.0 = 0.76" in text
    for row in M.tolist():
        assert "  ".join(f"{v:5.2f}" for v in row).strip() in text
    B = filters.clip(filters.normalize(M), 0.3)
    for row in B.int().tolist():
        assert " ".join(map(str, row)) in text
    clusters = filters.greedy_clusters(B)
    assert clusters == [[0, 1], [2]] and "The clusters are `[[0, 1], [2]]`" in text
    assert filters.noise_count(B, clusters) == 2 and "so the noise is 2" in text
    la = filters.analyze_layer(W, means)
    assert (la.n, la.N_c, la.C_s) == (2, 2, 1.5) and "`n = 2`, `N_c = 2`, `C_s = 1.5`" in text
    est = snr.snr_estimates(1, 4, la.n, la.N_c, la.C_s)
    for k, v in dict(signal=0.75, noise_I=0.125, noise_E=0.125, SNR_E=6).items():
        assert est[k] == pytest.approx(v) and f"**{v:g}**" in text
    assert snr.per_label(la)["noise_E"].tolist() == [0, 0, 0.5, 0]
    mask = afcc.afcc_mask(la.clusters, 4, 2)
    assert int(mask.sum()) == afcc.expected_nonzero(1, 2, la.C_s, la.N_c) == 6 and "6 of the 8 weights stay" in text


@pytest.fixture
def book_root(tmp_path, monkeypatch):
    """A copy of the book's sources in a temporary root, generated CIFAR data and a private cache."""
    root = tmp_path / "book-root"
    (root / "book").mkdir(parents=True)
    for f in ("_config.yml", "_toc.yml"):
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
    return subprocess.Popen([sys.executable, "-m", "helpers.build", "--profile", "smoke", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True, **kw)


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


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
def test_smoke_book_in_headless_chromium(book_root):
    from playwright.sync_api import sync_playwright

    t0 = time.time()
    proc = _build("--jobs", "2")
    log = proc.communicate(timeout=900)[0]
    assert proc.returncode == 0, log[-5000:]
    assert time.time() - t0 < 600, "the smoke build must take under 10 minutes"
    html = book_root / "_build" / "html"
    pages = sorted(p.relative_to(html).as_posix() for p in (html / "book").rglob("*.html"))
    toc = [line.split("file:")[1].strip() for line in (ROOT / "_toc.yml").read_text().splitlines() if "file:" in line]
    assert {f"{t}.html" for t in toc + ["book/intro"]} <= set(pages)
    metas = {nb.stem: build.page_metadata(nb) for nb in sorted((book_root / "book" / "generated").glob("*.ipynb"))
             if not nb.stem.endswith(".failed")}
    claims = [c for m in metas.values() for c in m.get("claims", [])]
    for name, m in metas.items():  # each page's summary states exactly the verdicts its ledger rows hold
        assert [v["verdict"] for v in m["summary"][0]["verdicts"]] == [c["verdict"] for c in m["claims"]], name

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page()
            errors = []
            page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
            for p in pages:
                resp = page.goto(f"{base}/{p}", wait_until="load")
                assert resp.ok, p
                assert page.locator("main h1, article h1").count() >= 1, p
                widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => [i.src, i.complete, i.naturalWidth])")
                bad = [w for w in widths if not w[1] or w[2] == 0]
                assert not bad, f"{p}: images not loaded {bad}"
                if p.startswith("book/generated/mechanism-fig"):
                    assert len(widths) >= 1, f"{p} shows no figure"
                if p.startswith("book/generated/") and not p.endswith("overview.html"):
                    body = page.inner_text("main")
                    assert re.search("This run[’']s verdicts|no verdicts", body), f"{p} has no generated summary"
                    flat = re.sub(r"\W+", "", body.split("Summary")[-2] if body.count("Summary") > 1 else body)
                    name = p.removeprefix("book/generated/").removesuffix(".html")
                    for c in metas[name]["claims"]:  # the rendered summary states each ledger verdict of the page
                        if c.get("kind") == "paper claim":
                            assert re.sub(r"\W+", "", f"{c['claim']}: {c['verdict']}") in flat, (p, c["claim"])
                    rerun = body.split("Rerun this page")[1].splitlines()[0]
                    assert "papermill" in rerun and "`" not in rerun, f"{p}: the rerun line is not rendered: {rerun}"
                    assert "# Parameters" not in body, f"{p} shows papermill's injected cell"
            page.goto(f"{base}/search.html?q=cluster", wait_until="load")
            page.wait_for_selector("#search-results ul li, .search li", timeout=20000)
            assert page.locator("#search-results li, ul.search li").count() > 0
            page.goto(f"{base}/book/generated/overview.html", wait_until="load")
            rows = page.locator("table:has(th:has-text('verdict')) tbody tr").count()
            assert rows == sum(c.get("verdict") != "skipped" for c in claims) > 0
            assert page.locator("text=Paper claims:").count() >= 1
            browser.close()
    finally:
        server.shutdown()
    assert not errors, errors
