"""What one submitit job does (:mod:`helpers.book.jobs` submits them): :class:`Trainer` trains each run of its
list in turn (:func:`train_spec`), then, once more, each run that another process held or that failed, now
waiting for its holder. A run is described by a :class:`RunSpec`, which carries where the data and the cache
are, so that a job on another node finds them.
"""

from __future__ import annotations

import os
import time
import traceback
from dataclasses import dataclass

from helpers.book.plan import PlannedRun
from helpers.infra.locks import LockHeld
from helpers.infra.paths import cache_root, data_dir
from helpers.train import data as data_mod
from helpers.train import runs
from helpers.train.loop import TrainConfig


@dataclass(frozen=True)
class RunSpec:
    """What a job needs to train one run: its key and config, and where the data and the cache are."""

    key: str
    config: dict
    data_dir: str
    cache_dir: str
    device: str | None = None

    @classmethod
    def of(cls, r: PlannedRun, device: str | None = None) -> "RunSpec":
        return cls(r.key, r.config.to_dict(), str(data_dir().resolve()), str(cache_root().resolve()), device)


def train_spec(spec: RunSpec, loaded: dict | None = None, wait: bool = False) -> dict:
    """Train (or resume, or find cached) one run in this process; a run another live process holds is left to
    it (``wait``: waited for, and taken over if its holder dies). The run's key is checked first: code or data
    changed since the plan is an error, not a different run."""
    os.environ["MECH_DATA"], os.environ["MECH_CACHE"] = spec.data_dir, spec.cache_dir
    cfg = TrainConfig.from_dict(spec.config)
    loaded = {} if loaded is None else loaded
    if cfg.dataset not in loaded:
        loaded[cfg.dataset] = data_mod.load_cifar(cfg.dataset)
    ds = data_mod.for_config(loaded[cfg.dataset], cfg)
    key = runs.run_key(cfg, ds)
    if key != spec.key:
        raise RuntimeError(
            f"run {spec.key} ({cfg.model}) now has the key {key}: the training code (data, models, "
            "train) or the data changed since it was planned; run `python -m helpers submit` again"
        )
    t0 = time.time()
    try:
        run = runs.get_run(cfg, ds, device=spec.device, wait=wait)
    except LockHeld as held:
        return dict(key=key, status=f"held by {held}: left to it", seconds=0.0)
    mine = (run.info.get("segments") or [{}])[-1].get("pid") == os.getpid()
    return dict(
        key=key,
        status="trained" if mine else "cached",
        test_acc=run.test_acc,
        seconds=time.time() - t0,
        resumed_from_epoch=run.info.get("resumed_from_epoch"),
        host=run.info["provenance"]["host"],
        device=run.info["provenance"]["device_name"],
    )


DONE = ("trained", "cached")


def attempt(spec: RunSpec, loaded: dict, wait: bool) -> dict:
    """:func:`train_spec`, its error recorded instead of raised (``status`` "failed", ``error`` with the
    traceback's end), with this process's pid and the attempt's start and end (``time.time()``)."""
    started = time.time()
    try:
        res = train_spec(spec, loaded, wait=wait)
    except Exception as err:  # noqa: BLE001 (one run's failure must not stop the others)
        tail = "".join(traceback.format_exception(err)[-3:])
        res = dict(
            key=spec.key, status="failed", error=f"{type(err).__name__}: {err}", traceback=tail[-4000:]
        )
    return dict(res, pid=os.getpid(), started=started, ended=time.time())


class Trainer:
    """The callable a submitit job runs: each run of ``specs`` in turn (:func:`train_spec`), then, once more,
    each that another process held or that failed, now waiting for a holder (its result read when it finishes,
    the run taken over if it dies). One run's failure does not stop the others: the job's result lists, for
    every run, what happened (``status``: trained, cached, held by ..., failed with its ``error``). On Slurm's
    preemption or timeout signal submitit calls :meth:`checkpoint` and requeues the job, which then resumes
    from the run's last finished epoch (the run cache's ``checkpoint.pt``), with the lease of its previous
    life taken over."""

    def __call__(self, specs: list[RunSpec]) -> list[dict]:
        loaded: dict = {}
        results = [attempt(s, loaded, wait=False) for s in specs]
        for i, s in enumerate(specs):
            if results[i]["status"] not in DONE:
                results[i] = dict(attempt(s, loaded, wait=True), first_pass=results[i]["status"])
        return results

    def checkpoint(self, *args, **kwargs):
        """Requeue with the same arguments: the progress is in the run cache, not in this object."""
        import submitit

        return submitit.helpers.DelayedSubmission(self, *args, **kwargs)
