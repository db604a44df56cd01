"""The whole book as one PDF, offline (``make pdf``; issue 37).

    python -m helpers.book.pdf        # after make book: _build/book.pdf, also served beside the HTML

Jupyter Book renders the built pages once more with Sphinx's ``singlehtml`` builder (one HTML file: every
chapter, its figures as embedded images, its tables, the equations in the book's own MathJax, the
bibliography), and a headless Chromium (Debian's, driven by Playwright as the browser test drives it; no
download) prints it to PDF once MathJax has typeset the page, with every folded provenance table open. Nothing
is fetched from the network. The PDF is written under a temporary name and renamed into place, and copied to
``_build/html/book.pdf``, which the front page links.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from helpers.infra.paths import book_root

PDF = "book.pdf"
CANDIDATES = ("chromium", "chromium-browser", "/usr/lib/chromium/chromium", "/snap/bin/chromium")


def chromium() -> str:
    """The Chromium to print with: ``$CHROMIUM``, else Debian's; a clear error naming the fix when none."""
    for c in (os.environ.get("CHROMIUM"), *CANDIDATES):
        path = c and (shutil.which(c) or (c if os.path.isfile(c) else None))
        if path:
            return path
    raise FileNotFoundError(
        "make pdf prints with a headless Chromium and found none: install Debian's (sudo apt-get install "
        "chromium; make test does it when run as root) or set CHROMIUM=/path/to/chromium"
    )


def single_html(root: Path) -> Path:
    """Sphinx's ``singlehtml`` rendering of the built book (the pages must be in place: ``make book``)."""
    jb = Path(sys.executable).parent / "jupyter-book"
    subprocess.run([str(jb), "build", str(root), "--builder", "singlehtml", "--keep-going"], check=True)
    page = root / "_build" / "singlehtml" / "index.html"
    if not page.is_file():
        raise FileNotFoundError(f"Jupyter Book wrote no {page}: run make book first")
    text = page.read_text(errors="replace")  # Jupyter Book's index.html redirects to the root page: open that
    redirect = re.search(r'http-equiv="Refresh" content="0; url=([^"]+)"', text, re.I)
    return page.parent / redirect.group(1) if redirect else page


def print_pdf(page: Path, out: Path, browser: str | None = None) -> Path:
    """``page`` (HTML) printed to ``out`` by a headless Chromium: A4, backgrounds kept, after MathJax has
    typeset it and with every ``<details>`` open; written under a temporary name, then renamed."""
    from playwright.sync_api import sync_playwright

    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=browser or chromium(), args=["--no-sandbox"])
        try:
            tab = b.new_page()
            tab.goto(page.resolve().as_uri(), wait_until="load")
            tab.evaluate(
                "() => (window.MathJax && MathJax.startup && MathJax.startup.promise) || Promise.resolve()"
            )
            tab.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
            tab.emulate_media(media="print")
            tab.pdf(path=str(tmp), format="A4", print_background=True, outline=True, tagged=True)
        finally:
            b.close()
    os.replace(tmp, out)
    return out


def main() -> int:
    root, t0 = book_root(), time.time()
    out = print_pdf(single_html(root), root / "_build" / PDF)
    html = root / "_build" / "html"
    if html.is_dir():
        shutil.copyfile(out, html / PDF)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB) in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
