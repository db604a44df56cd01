"""Trained networks cached on disk, keyed by everything that determines them.

A run lives in ``$MECH_CACHE/runs/<key>/`` (default the repository's ``.cache/``): ``model.pt`` (weights),
``run.json`` (config, per-epoch metrics, wall time, library versions) and, while training,
``checkpoint.pt`` after every epoch (with every random state, so a resumed run continues as an
uninterrupted one would). The weights after epochs 1, 2, 4, 8, ... stay beside the final ones
(``epochs/<k>.pt``, :func:`snapshot_epochs`), so the mechanism can be watched as it emerges
(:func:`snapshots`; book page "training dynamics"). ``run.json`` records the provenance: git commit,
versions, host and device (for a GPU: its name, CUDA and cuDNN versions, the deterministic and TF32
settings), and each stretch of epochs that one process trained (``segments``: host, pid, Slurm job,
device), so a run preempted and resumed elsewhere says where each part ran.
The key hashes the training config, the data's fingerprint and the source of the modules that shape
training. Every file is written to a temporary name and renamed into place, so an interrupted build
never leaves half a file; the next call resumes from the last finished epoch. A lock
(``helpers.infra.locks.locked``: flock and a lease file that holds across hosts) stops two processes
training the same run at once (the second says who holds it, and waits, or with ``wait=False`` gets
``LockHeld`` at once); a process whose lease was taken over while it trained (judged dead: its heartbeat
had stood still) stops with ``LeaseLost`` before its next write.

``python -m helpers plan|submit`` lists the runs the book's pages need and trains the missing ones on GPUs or
a Slurm cluster (:mod:`helpers.book.jobs`, which this module's command hands over to).
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import platform
import socket
import subprocess
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from helpers.infra.cache import CorruptCacheError, code_version, key_of, load_torch, save_json, save_torch
from helpers.infra.locks import job_id, locked
from helpers.infra.paths import cache_root, repo_root
from helpers.train import any_cnn, models, pretrained
from helpers.train import data as data_mod
from helpers.train import loop as train_mod
from helpers.train.data import ImageData
from helpers.train.loop import TrainConfig


def versions() -> dict:
    import numpy
    import torchvision

    return dict(
        python=platform.python_version(),
        torch=torch.__version__,
        torchvision=torchvision.__version__,
        numpy=numpy.__version__,
        machine=platform.machine(),
        threads=torch.get_num_threads(),
    )


def git_commit() -> dict:
    """The repository's commit and whether tracked files differ from it (``None`` outside a git checkout)."""

    def git(*args):
        return subprocess.run(
            ["git", "-C", str(repo_root()), *args], capture_output=True, text=True, timeout=30
        )

    try:
        head = git("rev-parse", "HEAD")
        if head.returncode:
            return dict(commit=None, dirty=None)
        dirty = bool(git("status", "--porcelain", "--untracked-files=no").stdout.strip())
        return dict(commit=head.stdout.strip(), dirty=dirty)
    except (OSError, subprocess.SubprocessError):
        return dict(commit=None, dirty=None)


def device_name(device: torch.device | str) -> str:
    """The GPU's name, else the CPU's model (``/proc/cpuinfo``), else the platform's processor."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def provenance(device: torch.device | str = "cpu") -> dict:
    """What produced a result: commit, library versions, host, device, the batch job; for a GPU its CUDA and
    cuDNN versions, compute capability and memory, and the settings that change its numbers (cuDNN
    deterministic and benchmark, TF32 for matmul and convolutions, ``torch.use_deterministic_algorithms``)."""
    device = torch.device(device)
    out = dict(
        **git_commit(),
        **versions(),
        host=socket.gethostname(),
        device=str(device),
        device_name=device_name(device),
        job=job_id(),
        deterministic_algorithms=torch.are_deterministic_algorithms_enabled(),
    )
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        out.update(
            cuda=torch.version.cuda,
            cudnn=torch.backends.cudnn.version(),
            cudnn_deterministic=torch.backends.cudnn.deterministic,
            cudnn_benchmark=torch.backends.cudnn.benchmark,
            tf32_matmul=torch.backends.cuda.matmul.allow_tf32,
            tf32_cudnn=torch.backends.cudnn.allow_tf32,
            compute_capability=f"{props.major}.{props.minor}",
            gpu_memory_gb=round(props.total_memory / 2**30, 1),
            cuda_visible_devices=os.environ.get("CUDA_VISIBLE_DEVICES"),
        )
    return out


def segment(device: torch.device | str, first_epoch: int) -> dict:
    """Where one process trains a stretch of a run's epochs (``last_epoch`` is filled in as it goes)."""
    return dict(
        first_epoch=first_epoch,
        last_epoch=None,
        host=socket.gethostname(),
        pid=os.getpid(),
        job=job_id(),
        device=str(device),
        device_name=device_name(device),
        started=time.strftime("%Y-%m-%d %H:%M:%S"),
    )


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

    def at_taps(self, taps: list) -> "Run":
        """This network read at ``taps`` (:class:`~helpers.train.models.Tap`) in place of its model's own,
        such as the layers between VGG-16's max poolings (:mod:`helpers.figures.after_pooling`): the same
        weights and cache key, a model of its own whose ``taps`` are these, so that features are extracted for
        these taps alone. A probe is cached by its run and tap name (:func:`helpers.train.probes.probe_path`),
        so a tap may not take the name of one of the model's own taps at another node; the node of a new
        name is fixed where it is defined (:data:`helpers.figures.after_pooling.AFTER_POOLING`)."""
        own = {t.name: t.node for t in self.model.taps}
        clash = [t.name for t in taps if t.name in own and own[t.name] != t.node]
        if clash:  # a probe is cached by its tap's name: one name, one node
            raise ValueError(
                f"taps {clash} have the names of the model's own taps but other nodes: rename them"
            )
        model = copy.copy(self.model)  # shares the modules and weights; only its taps differ
        model.taps = list(taps)
        return replace(self, model=model)

    def __repr__(self) -> str:
        return (
            f"Run({self.config.model}, key={self.key}, epochs={self.config.epochs}, "
            f"test_acc={self.test_acc:.4f})"
        )


TRAINING_CODE = (data_mod, models, pretrained, any_cnn, train_mod)  # what a trained network depends on


def run_key(cfg: TrainConfig, data: ImageData) -> str:
    """The cache key of a run: config + data fingerprint + training code version."""
    return key_of(dict(config=cfg.key_dict(), data=data.fingerprint(), code=code_version(*TRAINING_CODE)))


def build_model(cfg: TrainConfig, num_classes: int, load_weights: bool = True) -> torch.nn.Module:
    """The untrained network of ``cfg``, initialized from ``cfg.seed``."""
    torch.manual_seed(cfg.seed)
    return models.build(
        cfg.model,
        num_classes,
        cfg.width,
        batch_norm=cfg.batch_norm,
        input_size=cfg.input_size,
        pretrained=cfg.pretrained,
        load_weights=load_weights,
        blocks=cfg.blocks,
    )


def get_run(
    cfg: TrainConfig,
    data: ImageData,
    *,
    device: str | None = None,
    progress: bool = True,
    train_if_missing: bool = True,
    wait: bool = True,
) -> Run:
    """The trained network for ``cfg`` on ``data``: from the cache, else trained (resuming if it can).

    While another process holds the run (training it), wait for it and read its result; ``wait=False`` raises
    :class:`helpers.infra.locks.LockHeld` instead (a ``submit`` worker then moves on to another run)."""
    key = run_key(cfg, data)
    path = cache_root() / "runs" / key
    with locked(path, wait=wait) as held:
        if (path / "model.pt").is_file() and (path / "run.json").is_file():
            return _load(key, path, cfg, data)
        if not train_if_missing:
            raise FileNotFoundError(f"run {key} ({cfg.model}) is not cached in {path}")
        return _train(key, path, cfg, data, held, device=device, progress=progress)


def _train(key: str, path: Path, cfg: TrainConfig, data: ImageData, held, *, device, progress) -> Run:
    """Train run ``key`` into ``path`` (resuming from its ``checkpoint.pt`` if there is one) under the lease
    ``held`` (:class:`helpers.infra.locks.Lease`), checked before every write."""
    dev = train_mod.pick_device(device)
    model = build_model(cfg, data.num_classes)
    state = None
    if (path / "checkpoint.pt").is_file():
        state = load_torch(path / "checkpoint.pt", "checkpoint")
    started = time.time()
    wall_before = state.get("wall", 0.0) if state else 0.0
    done, segments = (state["epoch"], list(state.get("segments", []))) if state else (0, [])
    segments.append(segment(dev, done + 1))
    on_epoch = _epoch_saver(path, cfg, held, segments, wall_before, started)
    if dev.type == "cpu":
        _warn_if_long(model, data, cfg, done=state["epoch"] if state else 0)
    metrics = train_mod.train(model, data, cfg, device=dev, state=state, on_epoch=on_epoch, progress=progress)
    info = dict(
        key=key,
        config=cfg.to_dict(),
        data=dict(
            name=data.name,
            fingerprint=data.fingerprint(),
            provenance=data.provenance,
            n_train=len(data.y_train),
            n_test=len(data.y_test),
        ),
        metrics=metrics,
        wall_seconds=wall_before + time.time() - started,
        resumed_from_epoch=state["epoch"] if state else None,
        device=str(dev),
        versions=versions(),
        provenance=provenance(dev),
        segments=segments,
        finished=time.strftime("%Y-%m-%d %H:%M:%S"),
    )
    model.to("cpu")
    held.check()
    save_torch(model.state_dict(), path / "model.pt")
    save_json(info, path / "run.json")
    (path / "checkpoint.pt").unlink(missing_ok=True)
    (path / "progress.json").unlink(missing_ok=True)
    return Run(key, path, cfg, model.eval(), info)


def _epoch_saver(path: Path, cfg: TrainConfig, held, segments: list, wall_before: float, started: float):
    """The training loop's ``on_epoch``: after checking the lease ``held``, it saves the state as
    ``checkpoint.pt`` (with the wall time and ``segments``), a kept epoch's weights (:func:`snapshot_epochs`)
    and ``progress.json`` (read by ``plan``)."""

    def on_epoch(s):
        held.check()  # LeaseLost: another process took the run over; write nothing
        s["wall"] = wall_before + time.time() - started
        segments[-1].update(last_epoch=s["epoch"], ended=time.strftime("%Y-%m-%d %H:%M:%S"))
        s["segments"] = segments
        if s["epoch"] in snapshot_epochs(cfg.epochs):
            save_torch(s["model"], path / "epochs" / f"{s['epoch']}.pt")
            (path / "epochs" / f"{s['epoch']}.json").unlink(missing_ok=True)  # its accuracy: measured anew
        save_torch(s, path / "checkpoint.pt")
        progress = dict(epoch=s["epoch"], epochs=cfg.epochs, wall=s["wall"])
        save_json(progress, path / "progress.json")  # for plan

    return on_epoch


def snapshot_epochs(epochs: int) -> list[int]:
    """The epochs before the last whose weights a run keeps: 1, 2, 4, 8, ... (a handful even at the papers'
    200 epochs; the last epoch's weights are ``model.pt``)."""
    return [2**i for i in range(max(epochs, 1).bit_length()) if 2**i < epochs]


def snapshots(run: Run, data: ImageData, device: str | None = None) -> dict[int, Run]:
    """``run`` as it was after each kept epoch (:func:`snapshot_epochs`) and after its last: a :class:`Run`
    each, keyed ``<key>@<epoch>`` so that the feature and probe caches keep them apart. A snapshot's test
    accuracy is measured once (plain predictions, as the papers report them) and cached beside its weights.
    Epochs missing from the cache (a run trained before snapshots were kept) are left out:
    :func:`missing_snapshots` names them."""
    out = {}
    size = (
        run.config.input_size
        if run.config.input_size and run.config.input_size != data.x_test.shape[-1]
        else None
    )
    for epoch in snapshot_epochs(run.config.epochs):
        weights = run.path / "epochs" / f"{epoch}.pt"
        if not weights.is_file():
            continue
        model = build_model(run.config, data.num_classes, load_weights=False)
        model.load_state_dict(load_torch(weights, "snapshot"))
        tested = weights.with_suffix(".json")
        try:
            measured = json.loads(tested.read_text())
            if measured["data"] != data.fingerprint():
                raise KeyError("measured on other data")
            test_acc = measured["test_acc"]
        except (OSError, ValueError, KeyError):
            dev = train_mod.pick_device(device)
            test_acc = train_mod.evaluate(model.to(dev), data.x_test, data.y_test, size=size, device=dev)[1]
            model.to("cpu")
            save_json(dict(epoch=epoch, test_acc=test_acc, data=data.fingerprint()), tested)
        metrics = [dict(m) for m in run.info["metrics"][:epoch]]
        metrics[-1]["test_acc"] = test_acc
        out[epoch] = Run(
            f"{run.key}@{epoch}",
            run.path,
            run.config,
            model.eval(),
            dict(run.info, metrics=metrics, snapshot_epoch=epoch),
        )
    out[run.config.epochs] = run
    return out


def missing_snapshots(run: Run) -> list[int]:
    """The kept epochs whose weights are not in ``run``'s cache (it was trained before snapshots were
    kept)."""
    return [e for e in snapshot_epochs(run.config.epochs) if not (run.path / "epochs" / f"{e}.pt").is_file()]


LONG_RUN_HOURS = 2.0


def _warn_if_long(model, data: ImageData, cfg: TrainConfig, done: int = 0) -> float:
    """Warn when a run on the CPU is projected (from two timed mini-batches) to take longer than
    :data:`LONG_RUN_HOURS`: the ``paper`` profile on a CPU takes days. Returns the projected seconds."""
    seconds = train_mod.estimate_seconds(model, data, cfg, epochs=cfg.epochs - done)
    if seconds > LONG_RUN_HOURS * 3600:
        warnings.warn(
            f"{cfg.model} at width {cfg.width:g} for {cfg.epochs - done} more epochs on "
            f"{len(data.y_train)} images is projected to take {seconds / 3600:.0f} hours "
            f"({seconds / 86400:.1f} days) on this CPU ({device_name('cpu')}). The paper profile is meant "
            "for a GPU; on a CPU use the cpu profile. Ctrl-C stops it; every finished epoch is kept, and "
            "the next call resumes.",
            stacklevel=4,  # the caller of get_run (through _train)
        )
    return seconds


def _load(key: str, path: Path, cfg: TrainConfig, data: ImageData) -> Run:
    model = build_model(cfg, data.num_classes, load_weights=False)
    model.load_state_dict(load_torch(path / "model.pt", "model"))
    try:
        info = json.loads((path / "run.json").read_text())
    except ValueError as err:
        raise CorruptCacheError(f"{path / 'run.json'} is corrupt ({err}); delete {path} to retrain") from err
    return Run(key, path, cfg, model.eval(), info)


# python -m helpers.train.runs plan|submit: the command lives in helpers.book.jobs, which reads the pages
# (they import this module, so this module cannot import it)
if __name__ == "__main__":
    import runpy

    runpy.run_module("helpers.book.jobs", run_name="__main__", alter_sys=True)
