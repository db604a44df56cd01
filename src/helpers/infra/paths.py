"""Where things live: the repository, the data, the run cache, the notebooks. No torch here (the build
imports it).

Everything is anchored to the repository that holds this package, not to the working directory, so
a notebook run from anywhere finds the same data and the same cached runs. Environment variables
move them: ``MECH_DATA`` (data), ``MECH_CACHE`` (runs, features, probes), ``MECH_BOOK_ROOT`` (a copy
of the book's sources, used by the tests); a relative value is taken from the repository's root
(``make book`` exports ``MECH_DATA=../shared/data`` on the project's machines).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def repo_root() -> Path:
    """The repository holding this package (its ``pyproject.toml``); the working directory for an installed
    copy."""
    return REPO if (REPO / "pyproject.toml").is_file() else Path.cwd()


def _from_env(name: str, default: str) -> Path:
    """``$name`` (relative to the repository's root), else ``default`` in the repository."""
    return (
        repo_root() / os.environ.get(name, "").strip()
        if os.environ.get(name, "").strip()
        else repo_root() / default
    )


def data_dir(root: str | os.PathLike | None = None) -> Path:
    """The data directory: ``root``, else ``$MECH_DATA``, else ``data/`` in the repository."""
    return Path(root) if root is not None else _from_env("MECH_DATA", "data")


def cache_root() -> Path:
    """``$MECH_CACHE``, else ``.cache`` in the repository."""
    return _from_env("MECH_CACHE", ".cache")


def book_root() -> Path:
    """The book's root (``_config.yml``, ``_toc.yml``, ``book/``): ``$MECH_BOOK_ROOT``, else the
    repository."""
    return _from_env("MECH_BOOK_ROOT", ".")


def notebooks_dir() -> Path:
    """``notebooks/`` under the book's root when it has one, else the repository's."""
    own = book_root() / "notebooks"
    return own if own.is_dir() else repo_root() / "notebooks"
