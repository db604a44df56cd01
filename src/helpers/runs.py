"""Trained networks cached on disk, keyed by everything that determines them.

A run lives in ``$MECH_CACHE/runs/<key>/`` (default ``.cache/``): ``model.pt`` (weights),
``run.json`` (config, per-epoch metrics, wall time, library versions) and, while training,
``checkpoint.pt`` after every epoch. The key hashes the training config, the data's
fingerprint and the source of the modules that shape training. Every file is written to a
temporary name and renamed into place, so an interrupted build never leaves half a file;
the next call resumes from the last finished epoch. A lock file stops two processes
training the same run at once.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import inspect
import json
import os
import platform
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from . import data as data_mod
from . import models, train as train_mod
from .data import ImageData
from .train import TrainConfig


class CorruptCacheError(RuntimeError):
    """A cached file cannot be read."""


def cache_root() -> Path:
    """``$MECH_CACHE``, else ``.cache`` in the working directory."""
    return Path(os.environ.get("MECH_CACHE", ".cache"))


def code_version(*modules) -> str:
    """Hash of the source of ``modules``: a change in them invalidates what they produced."""
    h = hashlib.sha256()
    for m in modules:
        h.update(inspect.getsource(m).encode())
    return h.hexdigest()[:12]


def key_of(obj) -> str:
    """A stable 16-hex-digit hash of a JSON-able object."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def versions() -> dict:
    import numpy
    import torchvision

    return dict(python=platform.python_version(), torch=torch.__version__, torchvision=torchvision.__version__,
                numpy=numpy.__version__, machine=platform.machine(), threads=torch.get_num_threads())


# --- atomic files -------------------------------------------------------------------------------

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
        torch.save(obj, tmp)


def save_json(obj, path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=1, default=str))


def load_torch(path, what: str = "file"):
    """``torch.load`` that turns an unreadable file into :class:`CorruptCacheError` saying what to do."""
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:
        raise CorruptCacheError(
            f"cached {what} {path} is corrupt or unreadable ({type(err).__name__}: {err}); "
            f"delete it (rm {path}) and run again to recompute it") from err


@contextlib.contextmanager
def locked(directory: Path):
    """An exclusive lock on ``directory`` (blocks while another process holds it)."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


# --- runs ---------------------------------------------------------------------------------------

@dataclass
class Run:
    """A trained network with its provenance."""

    key: str
    path: Path
    config: TrainConfig
    model: torch.nn.Module
    info: dict

    @property
    def test_acc(self) -> float:
        return self.info["metrics"][-1]["test_acc"]

    def __repr__(self) -> str:
        return f"Run({self.config.model}, key={self.key}, epochs={self.config.epochs}, test_acc={self.test_acc:.4f})"


TRAINING_CODE = (data_mod, models, train_mod)


def run_key(cfg: TrainConfig, data: ImageData) -> str:
    """The cache key of a run: config + data fingerprint + training code version."""
    return key_of(dict(config=cfg.key_dict(), data=data.fingerprint(), code=code_version(*TRAINING_CODE)))


def build_model(cfg: TrainConfig, num_classes: int, load_weights: bool = True) -> torch.nn.Module:
    """The untrained network of ``cfg``, initialized from ``cfg.seed``."""
    torch.manual_seed(cfg.seed)
    return models.build(cfg.model, num_classes, cfg.width, batch_norm=cfg.batch_norm, input_size=cfg.input_size,
                        pretrained=cfg.pretrained, load_weights=load_weights, blocks=cfg.blocks)


def get_run(cfg: TrainConfig, data: ImageData, *, device: str | None = None, progress: bool = True,
            train_if_missing: bool = True) -> Run:
    """The trained network for ``cfg`` on ``data``: from the cache, else trained (resuming if it can)."""
    key = run_key(cfg, data)
    path = cache_root() / "runs" / key
    with locked(path):
        if (path / "model.pt").is_file() and (path / "run.json").is_file():
            return _load(key, path, cfg, data)
        if not train_if_missing:
            raise FileNotFoundError(f"run {key} ({cfg.model}) is not cached in {path}")
        dev = train_mod.pick_device(device)
        model = build_model(cfg, data.num_classes)
        state = None
        if (path / "checkpoint.pt").is_file():
            state = load_torch(path / "checkpoint.pt", "checkpoint")
        started = time.time()
        wall_before = state.get("wall", 0.0) if state else 0.0

        def on_epoch(s):
            s["wall"] = wall_before + time.time() - started
            save_torch(s, path / "checkpoint.pt")

        metrics = train_mod.train(model, data, cfg, device=dev, state=state, on_epoch=on_epoch, progress=progress)
        info = dict(key=key, config=cfg.to_dict(), data=dict(name=data.name, fingerprint=data.fingerprint(),
                                                             provenance=data.provenance,
                                                             n_train=len(data.y_train), n_test=len(data.y_test)),
                    metrics=metrics, wall_seconds=wall_before + time.time() - started,
                    resumed_from_epoch=state["epoch"] if state else None, device=str(dev), versions=versions(),
                    finished=time.strftime("%Y-%m-%d %H:%M:%S"))
        model.to("cpu")
        save_torch(model.state_dict(), path / "model.pt")
        save_json(info, path / "run.json")
        (path / "checkpoint.pt").unlink(missing_ok=True)
        return Run(key, path, cfg, model.eval(), info)


def _load(key: str, path: Path, cfg: TrainConfig, data: ImageData) -> Run:
    model = build_model(cfg, data.num_classes, load_weights=False)
    model.load_state_dict(load_torch(path / "model.pt", "model"))
    try:
        info = json.loads((path / "run.json").read_text())
    except ValueError as err:
        raise CorruptCacheError(f"{path / 'run.json'} is corrupt ({err}); delete {path} to retrain") from err
    return Run(key, path, cfg, model.eval(), info)
