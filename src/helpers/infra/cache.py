"""The cache's primitives: keys from content, atomic writes, readable errors for damaged files.

Every cached thing (trained runs, tap features, probes) is stored through these: a key that hashes
everything that determines it (:func:`key_of`, :func:`code_version`), and a write to a temporary name
renamed into place (:func:`atomic_path`), so an interrupted process never leaves half a file. The lock
that keeps two processes from computing the same thing at once is :func:`helpers.infra.locks.locked`.
No torch at import (the build uses this module): the torch file functions import it when called.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import inspect
import json
import os
import tempfile
from pathlib import Path


class CorruptCacheError(RuntimeError):
    """A cached file cannot be read."""


def _code_statements(module) -> list[str]:
    """The top-level statements of ``module`` as AST dumps, without docstrings and imports."""
    tree = ast.parse(inspect.getsource(module))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body:
            first = body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(getattr(first, "value", None), ast.Constant)
                and isinstance(first.value.value, str)
            ):
                node.body = body[1:] or [ast.Pass()]
    return [ast.dump(s) for s in tree.body if not isinstance(s, (ast.Import, ast.ImportFrom))]


def code_version(*modules) -> str:
    """Hash of the code of ``modules``: a change in what they compute invalidates what they produced.

    The code is read as its syntax tree, without docstrings, comments, imports or formatting, and its
    top-level statements are hashed as a sorted set, so moving a function between the hashed modules,
    renaming a module or reformatting keeps every cached result; a changed statement does not.
    """
    h = hashlib.sha256()
    for statement in sorted(s for m in modules for s in _code_statements(m)):
        h.update(statement.encode())
    return h.hexdigest()[:12]


def key_of(obj) -> str:
    """A stable 16-hex-digit hash of a JSON-able object."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside ``path``; on success it is renamed onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def save_torch(obj, path) -> None:
    with atomic_path(path) as tmp:
        import torch

        torch.save(obj, tmp)


def save_json(obj, path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=1, default=str))


def load_torch(path, what: str = "file"):
    """``torch.load`` that turns an unreadable file into :class:`CorruptCacheError` saying what to do."""
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:
        raise CorruptCacheError(
            f"cached {what} {path} is corrupt or unreadable ({type(err).__name__}: {err}); "
            f"delete it (rm {path}) and run again to recompute it"
        ) from err
