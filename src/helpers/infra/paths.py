"""Where things live: the repository, the data, the run cache, the notebooks. No torch here (the build
imports it).

Everything is anchored to the repository that holds this package, not to the working directory, so
a notebook run from anywhere finds the same data and the same cached runs. Environment variables
move them: ``MECH_DATA`` (data), ``MECH_CACHE`` (runs, features, probes), ``MECH_BOOK_ROOT`` (a copy
of the book's sources, used by the tests); a relative value is taken from the repository's root. Without
``MECH_DATA`` the data directory is ``data/`` where it holds CIFAR, else ``../shared/data`` where that does
(the project's machines), so that ``make``, papermill, Python and ``helpers plan`` all find the same data.
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


CIFAR_FILES = ("cifar10.npz", "cifar-10-batches-py", "cifar100.npz", "cifar-100-python")
SHARED_DATA = "../shared/data"  # the project's machines: a lossy CIFAR-10 beside the repository


def _holds_cifar(folder: Path) -> bool:
    return any((folder / name).exists() for name in CIFAR_FILES)


def data_dir(root: str | os.PathLike | None = None) -> Path:
    """The data directory: ``root``, else ``$MECH_DATA``, else ``data/`` in the repository where it holds
    CIFAR, else ``../shared/data`` where that does, else ``data/`` (where a clear error, or torchvision's
    download, will put it)."""
    if root is not None:
        return Path(root)
    return _from_env("MECH_DATA", "data") if os.environ.get("MECH_DATA", "").strip() else default_data_dir()


def default_data_dir() -> Path:
    """The data directory without ``$MECH_DATA``: ``data/`` where it holds CIFAR, else ``../shared/data``
    where that does, else ``data/``."""
    own, shared = repo_root() / "data", repo_root() / SHARED_DATA
    return shared if not _holds_cifar(own) and _holds_cifar(shared) else own


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
