"""The executed pages in ``book/generated``: where they go, the key that says a page is up to date, the
stand-in and stale pages, and the metadata the pages tagged, read back for the overview.

A page is written to ``book/generated/<name>.ipynb`` with a key beside it (``<name>.key``: notebook source,
parameters, helpers' source, data files, the committed records it reads, :func:`notebook_key`): an unchanged
notebook is not executed again.
A notebook that failed keeps its last good page, marked stale (:func:`mark_stale`); one that never ran has a
stand-in page (:func:`placeholder`). No torch here: the build imports it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from pathlib import Path

from helpers.infra.paths import book_root, data_dir, repo_root

HELPERS = Path(__file__).resolve().parents[1]  # src/helpers: its source is part of every page's key
META = "mechanism_book"  # = helpers.book.show.META (not imported: the build stays light)
TARGET = re.compile(r"\(\S+\)=")  # a MyST target line, "(label)=": each notebook's title carries its page's
STALE = "stale-page"  # the tag of the banner cell, and the notebook metadata key of a stale page
# the committed records a page reads (repository-relative): a new record executes that page again
RECORDS = {"scale-verdicts": ("results/scale.json",)}


def generated_dir() -> Path:
    """Where executed notebooks go: ``book/generated`` under the book's root."""
    return book_root() / "book" / "generated"


# --- keys ---------------------------------------------------------------------------------------------------


def helpers_version() -> str:
    h = hashlib.sha256()
    for p in sorted(HELPERS.rglob("*.py")):
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


def data_version() -> str:
    """Names, sizes and modification times of the data files (a changed dataset re-executes the pages)."""
    root = data_dir()
    files = sorted(root.glob("*.npz")) + sorted(root.glob("cifar-*/*")) if root.is_dir() else []
    return json.dumps([(str(p), p.stat().st_size, int(p.stat().st_mtime)) for p in files])


def records_version(name: str) -> str:
    """A hash of the committed records page ``name`` reads (:data:`RECORDS`); a missing one counts too."""
    h = hashlib.sha256()
    for rel in RECORDS.get(name, ()):
        f = repo_root() / rel
        h.update(rel.encode() + (f.read_bytes() if f.is_file() else b"<missing>"))
    return h.hexdigest()[:12]


def notebook_key(path: Path, parameters: dict) -> str:
    h = hashlib.sha256(path.read_bytes())
    h.update(json.dumps(parameters, sort_keys=True).encode())
    h.update(helpers_version().encode())
    h.update(data_version().encode())
    h.update(records_version(path.stem).encode())
    return h.hexdigest()[:16]


def cached_status(path: Path, key: str) -> str | None:
    """'cached' or 'skipped' when the notebook's page is in place under ``key``; else ``None``."""
    out_dir = generated_dir()
    out, key_file = out_dir / f"{path.stem}.ipynb", out_dir / f"{path.stem}.key"
    if out.is_file() and key_file.is_file() and key_file.read_text() == key:
        try:
            return "skipped" if skipped_reason(out) else "cached"
        except ValueError:  # a damaged page: execute the notebook again
            return None
    return None


# --- writing pages ------------------------------------------------------------------------------------------


def placeholder(name: str, why: str) -> None:
    """A stand-in page for a notebook that has not run (or failed), so the book still builds."""
    out = generated_dir()
    (out / f"{name}.md").write_text(f"# {name}\n\n{why}\n")


def write_json(obj, path: Path) -> None:
    """``obj`` as indented JSON in ``path``, through a temporary file renamed into place."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(obj, indent=1, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def mark_stale(page: Path, detail: str) -> None:
    """Keep the last good page of a notebook that failed, with a banner that says it is stale and why."""
    nb = json.loads(page.read_text())
    nb["cells"] = [c for c in nb["cells"] if STALE not in c.get("metadata", {}).get("tags", [])]
    when = time.strftime("%Y-%m-%d %H:%M")
    text = detail.replace("`", "'")
    banner = {
        "cell_type": "markdown",
        "metadata": {"tags": [STALE]},
        "source": [
            "```{warning}\n",
            f"**This page is stale.** Its notebook failed in the build of {when}: {text}. What follows is "
            "the page of the last build that succeeded. Fix the cause and run `make book` again: the page "
            "is rebuilt.\n",
            "```",
        ],
    }
    if any("id" in c for c in nb["cells"]):
        banner["id"] = STALE
    at = 1 if nb["cells"] and nb["cells"][0]["cell_type"] == "markdown" else 0  # below the title
    nb["cells"].insert(at, banner)
    nb.setdefault("metadata", {})[STALE] = dict(failed=when, detail=detail)
    write_json(nb, page)


# --- reading the executed notebooks back --------------------------------------------------------------------


def page_metadata(path: Path) -> dict:
    """The metadata helpers.book.page attached to a notebook's outputs, merged by kind, and its title."""
    try:
        nb = json.loads(path.read_text())
    except ValueError as err:
        raise ValueError(
            f"executed page {path} is not a readable notebook ({err}); delete it and its .key "
            f"file, then build again"
        ) from err
    found: dict = {"title": path.stem, "stale": nb.get("metadata", {}).get(STALE)}
    for cell in nb["cells"]:
        if (
            cell["cell_type"] == "markdown" and found["title"] == path.stem
        ):  # the first heading, past its label
            lines = [
                t
                for t in "".join(cell["source"]).splitlines()
                if t.strip() and not TARGET.fullmatch(t.strip())
            ]
            first = lines[0] if lines else ""
            if first.startswith("# "):
                found["title"] = first[2:].strip()
    for _, kind, v in output_records(nb):
        if isinstance(v, list):
            found.setdefault(kind, []).extend(v)
        else:
            found.setdefault(kind, []).append(v)
    return found


def output_records(nb: dict):
    """Every record the page's outputs carry (:data:`META`), in order: ``(output, kind, value)``."""
    for cell in nb.get("cells", []):
        for o in cell.get("outputs", []):
            for kind, v in o.get("metadata", {}).get(META, {}).items():
                yield o, kind, v


def skipped_reason(path: Path) -> str:
    headers = page_metadata(path).get("header", [])
    return headers[0].get("skipped") or "" if headers else ""
