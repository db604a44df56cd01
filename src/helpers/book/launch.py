"""Launching the book's notebooks outside this repository, from the one repository URL in ``_config.yml``.

The URL lives in ``_config.yml``, ``repository: url:``; it is empty by default, since this repository has no
public URL yet. Once it is set:

- the book shows a repository button, and Binder and Colab buttons on every notebook page. This module is a
  Sphinx extension (``_config.yml``, ``sphinx: extra_extensions``): :func:`gate` keeps ``launch_buttons`` and
  turns the repository button on only when the URL is set (without a URL, Jupyter Book 1 stops with an error
  on a repository button and sphinx-book-theme on launch buttons, so they cannot simply stay on).
  :func:`point_launch_at_sources` points a page's Binder and Colab links at its source notebook in
  ``notebooks/``, since the executed pages under ``book/generated/`` are not committed;
- every notebook's first code cell (:func:`bootstrap_source`: hidden in the book, tagged ``remove-cell``)
  installs ``helpers`` from that URL when it is not importable (a fresh Colab session, a downloaded copy) and
  does nothing where it is (this repository; Binder, which installs ``environment.yml``).

Colab opens the committed notebook, so the cell has to carry the URL itself. ``python -m helpers launch``
writes ``_config.yml``'s URL into every notebook's first cell (``--check`` only reports);
``tests/test_launch.py`` fails while the two disagree.
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

    When ``helpers`` is importable it does nothing. Otherwise it pip-installs ``git+URL@BRANCH`` without its
    requirements, then calls :func:`complete_install` for them. Without a URL it raises an error that says
    what to do. The text is as ruff formats it (the notebooks are formatted), so a formatter keeps it.
    """
    return f"""\
# Setup, hidden in the book: installs this book's package `helpers` where it is not importable
# (Colab, a copy of this notebook elsewhere), keeping the kernel's torch; in the repository it does nothing.
import importlib.util
import subprocess
import sys

REPOSITORY, BRANCH = {json.dumps(url)}, {json.dumps(branch)}  # _config.yml's (python -m helpers launch writes them)
if importlib.util.find_spec("helpers") is None:
    if not REPOSITORY:
        raise ModuleNotFoundError(
            "helpers is not importable and no repository is named: run this notebook in the "
            "book's repository, or pip install that repository first"
        )
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", f"git+{{REPOSITORY}}@{{BRANCH}}"], check=True
    )
    from helpers.book.launch import complete_install

    complete_install()  # the rest of helpers' requirements, keeping this kernel's torch where it has one
"""  # noqa: E501 (the cell as written into the notebooks, where the braces are one character)


def missing_requirements(keep: set[str]) -> list[str]:
    """``helpers``' own requirements (no extras) but those named in ``keep`` (lower-case distribution
    names)."""
    import importlib.metadata

    wanted = importlib.metadata.requires(DISTRIBUTION) or []
    return [
        r
        for r in wanted
        if "extra ==" not in r and re.split(r"[^A-Za-z0-9_.-]", r, maxsplit=1)[0].lower() not in keep
    ]


def complete_install() -> list[str]:
    """Install what ``pip install --no-deps`` of ``helpers`` left out, keeping this kernel's torch and
    torchvision where it has them (Colab does: pip would otherwise replace them with the pinned ones, a
    download of several GB). Returns the requirements it installed; a failed pip raises with pip's output."""
    import importlib.metadata
    import importlib.util
    import subprocess

    keep = {m for m in ("torch", "torchvision") if importlib.util.find_spec(m)}
    needs = missing_requirements(keep)
    kept = f" (keeping this kernel's {', '.join(sorted(keep))})" if keep else ""
    print(f"installing helpers' requirements{kept}", flush=True)
    if needs:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", *needs], capture_output=True, text=True
        )
        if done.returncode:
            raise RuntimeError(f"pip install {' '.join(needs)} failed:\n{done.stdout}{done.stderr}")
    importlib.invalidate_caches()
    import helpers

    version = importlib.metadata.version(DISTRIBUTION)
    print(f"installed helpers {version} in {helpers.__path__[0]}", flush=True)
    return needs


def _cell_id(taken: set[str]) -> str:
    while (new := uuid.uuid4().hex[:8]) in taken:
        pass
    return new


def with_bootstrap(nb: dict, source: str) -> dict:
    """``nb`` with its install cell's source set to ``source``. A notebook without one gets one, placed after
    its leading markdown cells (the title) and before its first code cell (the parameters)."""
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
    """As the repository's notebooks are written (one-space indent, UTF-8, final newline), through a renamed
    file."""
    tmp = path.with_name(f".{path.name}.launch.tmp")
    tmp.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    tmp.replace(path)


def sync(root: Path | None = None, check: bool = False) -> list[Path]:
    """Write ``_config.yml``'s repository into the install cell of every notebook in ``notebooks/``; returns
    the notebooks that changed (with ``check``: that would change, none written)."""
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


# --- the Sphinx extension ---------------------------------------------------------------------------------


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
