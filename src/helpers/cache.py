"""The cache's primitives: keys from content, atomic writes, readable errors for damaged files, locks.

Every cached thing (trained runs, tap features, probes) is stored through these: a key that hashes
everything that determines it (:func:`key_of`, :func:`code_version`), a write to a temporary name
renamed into place (:func:`atomic_path`), so an interrupted process never leaves half a file, and a
lock file per directory (:func:`locked`) so that two processes never compute the same thing at once.
No torch at import (the build uses the locks): the torch file functions import it when called.
"""
from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

from filelock import FileLock, Timeout


class CorruptCacheError(RuntimeError):
    """A cached file cannot be read."""


def code_version(*modules) -> str:
    """Hash of the source of ``modules``: a change in them invalidates what they produced."""
    h = hashlib.sha256()
    for m in modules:
        h.update(inspect.getsource(m).encode())
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
            f"delete it (rm {path}) and run again to recompute it") from err


class LockHeld(RuntimeError):
    """The lock is held by another process; the message names it (pid, host, since when)."""


@contextlib.contextmanager
def owned_lock(path: Path, wait: bool = True):
    """An exclusive lock file ``path`` (on any OS) with a sidecar ``<path>.owner`` naming its holder. When another
    process holds it: wait, saying who holds it, or (``wait=False``) raise :class:`LockHeld` at once."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock, owner = FileLock(path), path.with_name(path.name + ".owner")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        held = owner.read_text().strip() if owner.is_file() else "another process"
        if not wait:
            raise LockHeld(held) from None
        print(f"waiting for the lock on {path.parent}, held by {held} (it is computing what this call needs; "
              f"this call then reads its result)", file=sys.stderr, flush=True)
        lock.acquire()
    try:
        owner.write_text(f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%Y-%m-%d %H:%M:%S')}")
        yield
    finally:
        owner.unlink(missing_ok=True)
        lock.release()


def locked(directory: Path):
    """An exclusive lock on ``directory`` (its ``.lock`` file): a second process waits, saying who holds it."""
    return owned_lock(Path(directory) / ".lock")
