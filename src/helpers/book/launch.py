"""Launching the book's notebooks outside this repository, from the one repository URL in ``_config.yml``.

The URL lives in ``_config.yml``, ``repository: url:``; it is empty by default, since this repository has no
public URL yet. Once it is set:

- the book shows a repository button, and Binder and Colab buttons on every notebook page. This module is a
  Sphinx extension (``_config.yml``, ``sphinx: extra_extensions``): :func:`gate` keeps ``launch_buttons`` and
  turns the repository button on only when the URL is set (without a URL, Jupyter Book 1 stops with an error on
  a repository button and sphinx-book-theme on launch buttons, so they cannot simply stay on).
  :func:`point_launch_at_sources` points a page's Binder and Colab links at its source notebook in
  ``notebooks/``, since the executed pages under ``book/generated/`` are not committed;
- every notebook's first code cell (:func:`bootstrap_source`: hidden in the book, tagged ``remove-cell``)
  installs ``helpers`` from that URL when it is not importable (a fresh Colab session, a downloaded copy) and
  does nothing where it is (this repository; Binder, which installs ``environment.yml``).

Colab opens the committed notebook, so the cell has to carry the URL itself. ``python -m helpers launch`` writes
``_config.yml``'s URL into every notebook's first cell (``--check`` only reports); ``tests/test_launch.py`` fails
while the two disagree.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import uuid
from pathlib import Path

from helpers.infra.paths import book_root, notebooks_dir

TAG = "install-helpers"  # the tag of each notebook's first code cell (beside remove-cell)
TAGS = ["remove-cell", TAG]
DISTRIBUTION = "mechanism-book-helpers"  # pyproject.toml's project name


def repository(root: Path | None = None) -> tuple[str, str]:
    """``(url, branch)`` from ``_config.yml``'s ``repository`` section; ``url`` is ``""`` when it is unset."""
    import yaml

    path = (root or book_root()) / "_config.yml"
    config = yaml.safe_load(path.read_text()) or {}
    repo = config.get("repository") or {}
    url = str(repo.get("url") or "").strip().rstrip("/")
    return url, str(repo.get("branch") or "main").strip()


def bootstrap_source(url: str, branch: str) -> str:
    """The source of every notebook's first code cell, with the repository ``url`` and ``branch`` written in.

    When ``helpers`` is importable it does nothing. Otherwise it pip-installs ``git+URL@BRANCH`` into the kernel's
    environment. If the kernel already has torch (Colab does), it installs with ``--no-deps`` and then only the
    other requirements, so that pip does not replace that torch with the pinned one, a download of several GB.
    Without a URL it raises an error that says what to do.
    """
    return f'''\
# Setup, hidden in the book: makes this book's package `helpers` importable where it is not (Colab, a copy of this
# notebook outside the book's repository) by installing it from the repository below, keeping this kernel's
# torch where it has one. In the repository, and on Binder, it does nothing.
import importlib.metadata
import importlib.util
import re
import subprocess
import sys

REPOSITORY, BRANCH = {json.dumps(url)}, {json.dumps(branch)}  # _config.yml's (python -m helpers launch writes them)
if importlib.util.find_spec("helpers") is None:
    if not REPOSITORY:
        raise ModuleNotFoundError(
            "helpers is not importable, and this notebook names no repository to install it from (the book's "
            "_config.yml sets none): run it inside the book's repository, or pip install that repository first")

    def pip(*args):
        done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", *args], capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"pip install {{' '.join(args)}} failed:\\n{{done.stdout}}{{done.stderr}}")

    keep = [m for m in ("torch", "torchvision") if importlib.util.find_spec(m)]
    source = f"git+{{REPOSITORY}}@{{BRANCH}}"
    print(f"helpers is not importable: installing {{source}}" + (f" (keeping this kernel's {{', '.join(keep)}})"
          if keep else ""), flush=True)
    pip(*["--no-deps"] * bool(keep), source)
    importlib.invalidate_caches()
    needs = [r for r in importlib.metadata.requires("{DISTRIBUTION}") or [] if "extra ==" not in r
             and re.split(r"[^A-Za-z0-9_.-]", r, maxsplit=1)[0].lower() not in keep]
    if keep and needs:  # what --no-deps left out, but the torch kept
        pip(*needs)
    importlib.invalidate_caches()
    import helpers

    print(f"installed helpers {{importlib.metadata.version('{DISTRIBUTION}')}} in {{helpers.__path__[0]}}")
'''


def _cell_id(taken: set[str]) -> str:
    while (new := uuid.uuid4().hex[:8]) in taken:
        pass
    return new


def with_bootstrap(nb: dict, source: str) -> dict:
    """``nb`` with its install cell's source set to ``source``. A notebook without one gets one, placed after its
    leading markdown cells (the title) and before its first code cell (the parameters)."""
    cells = nb["cells"]
    lines = source.rstrip("\n").splitlines(keepends=True)  # nbformat's: no newline after the last line
    for cell in cells:
        if cell["cell_type"] == "code" and TAG in cell.get("metadata", {}).get("tags", []):
            cell["source"] = lines
            return nb
    at = next((i for i, c in enumerate(cells) if c["cell_type"] != "markdown"), len(cells))
    cell = {"cell_type": "code", "execution_count": None}  # nbformat's key order (alphabetical)
    if any("id" in c for c in cells):
        cell["id"] = _cell_id({c.get("id") for c in cells})
    cell.update(metadata={"tags": list(TAGS)}, outputs=[], source=lines)
    cells.insert(at, cell)
    return nb


def write_notebook(nb: dict, path: Path) -> None:
    """As the repository's notebooks are written (one-space indent, UTF-8, final newline), through a renamed file."""
    tmp = path.with_name(f".{path.name}.launch.tmp")
    tmp.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    tmp.replace(path)


def sync(root: Path | None = None, check: bool = False) -> list[Path]:
    """Write ``_config.yml``'s repository into the install cell of every notebook in ``notebooks/``; returns the
    notebooks that changed (with ``check``: that would change, none written)."""
    source = bootstrap_source(*repository(root))
    folder = (root / "notebooks") if root is not None else notebooks_dir()
    changed = []
    for path in sorted(folder.glob("*.ipynb")):
        text = path.read_text()
        nb = with_bootstrap(json.loads(text), source)
        if json.dumps(nb, indent=1, ensure_ascii=False) + "\n" != text:
            changed.append(path)
            if not check:
                write_notebook(nb, path)
    return changed


# --- the Sphinx extension ------------------------------------------------------------------------------------


def gate(theme_options: dict) -> dict:
    """The book's buttons from its repository URL, in place: with a URL, the repository button on and
    ``launch_buttons`` as configured; without one, neither."""
    if str(theme_options.get("repository_url") or "").strip():
        theme_options["use_repository_button"] = True
    else:
        theme_options.pop("repository_url", None)
        theme_options.pop("launch_buttons", None)
        for key in (
            "use_repository_button",
            "use_issues_button",
            "use_edit_page_button",
            "use_source_button",
        ):
            theme_options[key] = False
    return theme_options


GENERATED = "book/generated/"


def launch_target(pagename: str, page: Path | None = None) -> str | None:
    """The notebook a page's launch buttons open, relative to the repository, for an executed page
    ``book/generated/NAME``: the source notebook papermill recorded in ``page`` (one notebook may give several
    pages), else ``notebooks/NAME.ipynb``; ``None`` for every other page."""
    if not pagename.startswith(GENERATED) or "/" in pagename[len(GENERATED) :]:
        return None
    try:
        source = json.loads(page.read_text())["metadata"]["papermill"]["input_path"] if page else None
    except (OSError, ValueError, KeyError, TypeError):
        source = None
    if source and Path(source).parent.name == "notebooks":  # the build executes the notebooks of notebooks/
        return f"notebooks/{Path(source).name}"
    return f"notebooks/{pagename[len(GENERATED) :]}.ipynb"


def point_launch_at_sources(app, pagename, templatename, context, doctree) -> None:
    """Rewrite the Binder and Colab links of an executed page so that they open its source notebook."""
    groups = [g for g in context.get("header_buttons", []) if g.get("label") == "launch-buttons"]
    target = launch_target(pagename, Path(app.env.doc2path(pagename))) if groups else None
    if target is None:
        return
    for group in groups:
        for button in group.get("buttons", []):
            if "url" in button:
                button["url"] = re.sub(rf"{re.escape(pagename)}\.(ipynb|md)\b", target, button["url"])


def _config_inited(app, config) -> None:
    gate(config.html_theme_options)


def setup(app):
    app.connect("config-inited", _config_inited)
    app.connect("html-page-context", point_launch_at_sources, priority=600)  # after sphinx-book-theme's (501)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description="Write _config.yml's repository URL into every notebook's first "
        "cell (the cell that installs helpers where it is not importable)."
    )
    ap.add_argument(
        "--check", action="store_true", help="only report the notebooks that disagree; exit 1 if any"
    )
    args = ap.parse_args(argv)
    url, branch = repository()
    changed = sync(check=args.check)
    where = f"{url} (branch {branch})" if url else "no repository (_config.yml's repository.url is empty)"
    verb = "disagree with _config.yml's repository" if args.check else "rewritten for"
    print(f"{len(changed)} notebook(s) {verb}: {where}" + "".join(f"\n  {p.name}" for p in changed))
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
