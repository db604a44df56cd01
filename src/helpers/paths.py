"""Where things live: the repository, the data, the run cache, the notebooks. No torch here (the build imports it).

Everything is anchored to the repository that holds this package, not to the working directory, so
a notebook run from anywhere finds the same data and the same cached runs. Environment variables
move them: ``MECH_DATA`` (data), ``MECH_CACHE`` (runs, features, probes), ``MECH_BOOK_ROOT`` (a copy
of the book's sources, used by the tests).
"""
from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def repo_root() -> Path:
    """The repository holding this package (its ``pyproject.toml``); the working directory for an installed copy."""
    return REPO if (REPO / "pyproject.toml").is_file() else Path.cwd()


def data_dir(root: str | os.PathLike | None = None) -> Path:
    """The data directory: ``root``, else ``$MECH_DATA``, else ``data/`` in the repository."""
    if root is not None:
        return Path(root)
    return Path(os.environ["MECH_DATA"]) if os.environ.get("MECH_DATA") else repo_root() / "data"


def cache_root() -> Path:
    """``$MECH_CACHE``, else ``.cache`` in the repository."""
    return Path(os.environ["MECH_CACHE"]) if os.environ.get("MECH_CACHE") else repo_root() / ".cache"


def book_root() -> Path:
    """The book's root (``_config.yml``, ``_toc.yml``, ``book/``): ``$MECH_BOOK_ROOT``, else the repository."""
    return Path(os.environ.get("MECH_BOOK_ROOT", repo_root()))


def notebooks_dir() -> Path:
    """``notebooks/`` under the book's root when it has one, else the repository's."""
    own = book_root() / "notebooks"
    return own if own.is_dir() else repo_root() / "notebooks"
