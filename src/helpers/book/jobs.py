"""Beyond one machine: every training the book's pages need, listed, estimated and trained on GPUs or a cluster.

    python -m helpers plan --profile paper [--only PAGE ...] [-p KNOB VALUE ...] [--json] [--measure]
    python -m helpers submit --profile paper --executor slurm|local [--only PAGE ...] [-p KNOB VALUE ...]
        [--partition P] [--account A] [--time MIN] [--array-parallelism N] [--gpus 0,1,2,3] [--workers N] [--wait]

``plan`` asks each chosen page which networks it trains (:func:`runs_of`: the same ``Page.config_for`` calls its
notebook makes, with the notebook's knobs), keys them as the run cache does (deduplicated across pages: the
*mechanism* VGG-16 serves nine pages), and says for each what the cache holds (cached, stopped after epoch k,
claimed by a running job, missing) and its GPU-hours: FLOPs per image (``torch.utils.flop_counter``, 3x the
forward pass) times images and epochs, over a speed that is measured where it can be (``--measure`` times a few
mini-batches of each network on this machine's device; else the runs already trained on a GPU in the cache) and
otherwise assumed (:data:`ASSUMED_TFLOPS`, said so in the output).

``submit`` trains the missing runs through submitit: on Slurm as one job array, one GPU and one run per array task
(longest first), requeued on preemption or timeout (:class:`Trainer` is checkpointable: the run resumes from its
last finished epoch, ``checkpoint.pt``); locally as one worker process per GPU (``CUDA_VISIBLE_DEVICES`` set to
its GPU, as this machine numbers it: under ``CUDA_VISIBLE_DEVICES=2,3`` the workers get 2 and 3), each walking the
whole list and training every run no other worker holds. Every job then walks again what it found held or what
failed, waiting for the holder this time (a holder that dies is taken over), and its result says for every run what
happened (trained, cached, failed and why: one failure does not stop the others). The run cache
(``$MECH_CACHE``, on a filesystem every node shares) is the meeting point: its locks (:func:`helpers.infra.cache.locked`)
let one job train a run and every other job or page wait for it or move on, and once the runs are in it
``make book PROFILE=paper`` only analyses. Book page ``cluster`` has the commands and the hours per page.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import statistics
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import torch

from helpers.book import page as pages_mod
from helpers.book.build import PROFILES, knob_values, visible_gpus
from helpers.book.knobs import defaults
from helpers.figures import mechanism_fig7_vgg6 as fig7
from helpers.figures import universal_afcc as afcc_pages
from helpers.figures import universal_k_sweep as k_tables
from helpers.infra.cache import LockHeld, claim_holder
from helpers.infra.paths import cache_root, data_dir, notebooks_dir
from helpers.train import data as data_mod
from helpers.train import models, runs
from helpers.train.loop import TrainConfig

# The training speed assumed when nothing was measured: 20 TFLOP/s of useful work, about 10,000 img/s for the
# paper's VGG-16 (1.9 GFLOP an image, forward and backward) on a current data-centre GPU with TF32 convolutions
# at mini-batches of 100. An assumption, printed as one; --measure or the first GPU runs in the cache replace it.
ASSUMED_TFLOPS = 20.0


# --- which runs each page trains (its notebook's calls, at its knobs) ---------------------------------------


def _seeds(page, knobs) -> list[TrainConfig]:
    """``page.study(seed=s)`` for s < seeds (``mechanism.layer_accuracy``), or ``page.study()``: seed 0."""
    return [page.config_for(seed=s) for s in range(page.seeds)]


def _with_vgg16(page, knobs) -> list[TrainConfig]:
    """The page's own runs and VGG-16's (``page.study(model='vgg16', taps=['13'])``: Figs. 7 and 8)."""
    return _seeds(page, knobs) + [page.config_for(model="vgg16")]


def _with_vgg16_seeds(page, knobs) -> list[TrainConfig]:
    """Fig. 7: its VGG-6 per seed, and VGG-16 per seed for the accuracy gap (``mechanism.network_accuracies`` over
    ``mechanism.vgg16_networks``; seed 0's also for ``page.study(model='vgg16', taps=['13'])``)."""
    return _seeds(page, knobs) + [
        page.config_for(model="vgg16", seed=s) for s in range(fig7.vgg16_networks(page))
    ]


def _models(page, knobs) -> list[TrainConfig]:
    """One run per model of the ``models`` knob (``mechanism.dilution_models``)."""
    return [page.config_for(model=m) for m in knobs["models"]]


def _k_sweep(page, knobs) -> list[TrainConfig]:
    """One run per K of the sweep (``universal.k_sweep`` over ``universal.Ks_for``)."""
    return [page.config_for(K=K) for K in k_tables.Ks_for(page, knobs["table"], knobs["Ks"])]


def _shortened(page, knobs) -> list[TrainConfig]:
    """The full EfficientNet-B0 (also stage 8's AFCC) and the shortened ones (``universal.shortened``)."""
    return [page.config_for(seed=0)] + [
        page.config_for(seed=0, blocks=b) for b in afcc_pages.SHORTENED_BLOCKS.values()
    ]


def _none(page, knobs) -> list[TrainConfig]:
    """No cached training (the architectures page; ImageNet's pretrained network is read, not trained)."""
    return []


# The pages that train more than their own model's run per seed (or none); every other page is ``_seeds``
# (tests/test_cluster.py reads each such notebook's code to check that it asks for nothing more).
PAGE_RUNS = {
    "architectures-taps": _none,
    "universal-table3-effnet-imagenet": _none,
    "mechanism-fig7-vgg6": _with_vgg16_seeds,
    "mechanism-fig8-avgg16": _with_vgg16,
    "mechanism-dilution-filters": _models,
    "universal-table4-vgg16-cifar-k100": _k_sweep,
    "universal-table5-effnet-cifar-k100": _k_sweep,
    "universal-table6-vgg16-cifar-k10": _k_sweep,
    "universal-effnet-afcc": _shortened,
}


def runs_of(name: str):
    """The function that lists the runs page ``name`` trains (:data:`PAGE_RUNS`, else one per seed)."""
    return PAGE_RUNS.get(name, _seeds)


PAGE_ARGS = ("model", "dataset", "paper_dataset", "seeds", "stand_in", "imagenet", "epochs", "width")


def page_of(name: str, profile: str, knobs: dict) -> pages_mod.Page:
    """The page as its notebook builds it (data loaded, stand-in chosen), from the knobs that shape its runs."""
    return pages_mod.Page(name, profile, **{k: knobs[k] for k in PAGE_ARGS if k in knobs})


@contextlib.contextmanager
def datasets_loaded_once():
    """While planning, each dataset is read from disk once: every ``Page`` loads its own in ``__init__`` (in a
    notebook that is once per process), and a plan builds twenty (the datasets are immutable, so shared)."""
    loaded, original = {}, data_mod.load_cifar

    def load(name="cifar10", root=None, download=None):
        key = (name, str(data_dir(root)), download)
        if key not in loaded:
            loaded[key] = original(name, root, download)
        return loaded[key]

    data_mod.load_cifar = load
    try:
        yield
    finally:
        data_mod.load_cifar = original


# --- the plan --------------------------------------------------------------------------------------------


@dataclass
class PlannedRun:
    """One training the chosen pages need, and what the cache holds of it."""

    key: str
    config: TrainConfig
    data: str  # the dataset's name as the run sees it (``cifar10-K3`` ...)
    n_train: int
    n_test: int
    num_classes: int
    pages: list[str] = field(default_factory=list)
    status: str = "missing"  # cached, partial, claimed, missing
    done_epochs: int = 0
    claimed_by: str | None = None
    train_flops: float = 0.0  # per training image, forward and backward
    hours: float = 0.0  # the whole run at the plan's speed
    remaining_hours: float = 0.0

    def record(self) -> dict:
        c = self.config
        return dict(
            key=self.key,
            model=c.model,
            dataset=self.data,
            K=c.K,
            seed=c.seed,
            width=c.width,
            epochs=c.epochs,
            input_size=c.input_size,
            blocks=[list(b) for b in c.blocks],
            n_train=self.n_train,
            status=self.status,
            done_epochs=self.done_epochs,
            claimed_by=self.claimed_by,
            gflops_per_image=self.train_flops / 1e9,
            hours=self.hours,
            remaining_hours=self.remaining_hours,
            pages=self.pages,
        )


@dataclass
class Plan:
    profile: str
    runs: list[PlannedRun]
    pages: dict[str, list[str]]  # page -> run keys
    skipped: dict[str, str]  # page -> why it trains nothing here
    speed: dict  # source, TFLOP/s per model

    def missing(self) -> list[PlannedRun]:
        """The runs to train, longest first (so that a job array's last tasks are short ones)."""
        return sorted(
            (r for r in self.runs if r.status in ("missing", "partial")), key=lambda r: -r.remaining_hours
        )

    def page_hours(self) -> dict[str, float]:
        by_key = {r.key: r for r in self.runs}
        return {p: sum(by_key[k].hours for k in keys) for p, keys in self.pages.items()}

    def record(self) -> dict:
        return dict(
            profile=self.profile,
            speed=self.speed,
            runs=[r.record() for r in self.runs],
            pages={p: dict(runs=keys, hours=self.page_hours()[p]) for p, keys in self.pages.items()},
            skipped=self.skipped,
            total_hours=sum(r.hours for r in self.runs),
            remaining_hours=sum(r.remaining_hours for r in self.runs),
        )


def chosen_notebooks(only: list[str] | None) -> list[Path]:
    """The notebooks named by ``only`` (all by default); an unknown name is a ValueError listing them."""
    books = sorted(notebooks_dir().glob("*.ipynb"))
    unknown = sorted(set(only or []) - {p.stem for p in books})
    if unknown:
        raise ValueError(f"unknown page(s) {unknown}: choose from {[p.stem for p in books]}")
    return [p for p in books if not only or p.stem in only]


def plan(
    profile: str,
    only: list[str] | None = None,
    given: list[tuple[str, str]] = (),
    *,
    measure: bool = False,
    tflops: float | None = None,
    device: str | None = None,
) -> Plan:
    """Every training the chosen pages need at ``profile`` with the ``-p`` knobs ``given``, deduplicated by run key,
    with its cache status and hours (see the module's docstring for the speed)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)}")
    books = chosen_notebooks(only)
    knobs = knob_values(books, list(given))
    by_key, page_keys, skipped, subsets = {}, {}, {}, {}
    with datasets_loaded_once():
        pages = [(p.stem, {**defaults(p), **knobs[p]}) for p in books]
        pages = [(name, values, page_of(name, profile, values)) for name, values in pages]
    for name, values, page in pages:
        page_keys[name] = []
        if page.skipped:
            skipped[name] = page.skipped
            continue
        for cfg in runs_of(name)(page, values):
            which = (cfg.dataset, cfg.K, cfg.n_train, cfg.n_test)
            if which not in subsets:
                subsets[which] = page.data_for(cfg)
            ds = subsets[which]
            key = runs.run_key(cfg, ds)
            r = by_key.setdefault(
                key, PlannedRun(key, cfg, ds.name, len(ds.y_train), len(ds.y_test), ds.num_classes)
            )
            if name not in r.pages:
                r.pages.append(name)
            if key not in page_keys[name]:
                page_keys[name].append(key)
    planned = list(by_key.values())
    for r in planned:
        r.train_flops = train_flops(r.config, r.num_classes)
        _cache_status(r)
    speed = speed_of(planned, measure=measure, tflops=tflops, device=device)
    for r in planned:
        rate = speed["tflops"].get(r.config.model, speed["default_tflops"]) * 1e12
        r.hours = run_flops(r) / rate / 3600
        r.remaining_hours = (
            0.0
            if r.status in ("cached", "claimed")
            else r.hours * (r.config.epochs - r.done_epochs) / r.config.epochs
        )
    return Plan(profile, planned, page_keys, skipped, speed)


def _cache_status(r: PlannedRun) -> None:
    """What the cache holds of ``r``: the finished run, the epochs of a stopped one, a live claim on it."""
    path = cache_root() / "runs" / r.key
    if (path / "model.pt").is_file() and (path / "run.json").is_file():
        r.status, r.done_epochs = "cached", r.config.epochs
        return
    try:
        r.done_epochs = int(json.loads((path / "progress.json").read_text())["epoch"])
        r.status = "partial"
    except (OSError, ValueError, KeyError):
        pass
    holder = claim_holder(path)
    if holder is not None:
        r.status, r.claimed_by = (
            "claimed",
            f"pid {holder.get('pid')} on {holder.get('host')}"
            + (f", job {holder['job']}" if holder.get("job") else ""),
        )


# --- cost: FLOPs and speed -------------------------------------------------------------------------------

_FLOPS: dict = {}


def forward_flops(cfg: TrainConfig, num_classes: int) -> float:
    """FLOPs of one image's forward pass (``torch.utils.flop_counter`` on the meta device: no memory, no compute)."""
    from torch.utils.flop_counter import FlopCounterMode

    arch = (cfg.model, cfg.width, cfg.input_size, cfg.blocks, cfg.batch_norm, num_classes)
    if arch not in _FLOPS:
        with torch.device("meta"):
            net = models.build(
                cfg.model,
                num_classes,
                cfg.width,
                batch_norm=cfg.batch_norm,
                input_size=cfg.input_size,
                load_weights=False,
                blocks=cfg.blocks,
            ).eval()
            side = cfg.input_size or 32
            with FlopCounterMode(display=False) as counter:
                net(torch.zeros(2, 3, side, side))
        _FLOPS[arch] = counter.get_total_flops() / 2
    return _FLOPS[arch]


def train_flops(cfg: TrainConfig, num_classes: int) -> float:
    """FLOPs of one training image: 3x the forward pass (backward = two passes' worth; torch's counter overcounts
    the backward of grouped convolutions, so it is not counted directly)."""
    return 3 * forward_flops(cfg, num_classes)


def run_flops(r: PlannedRun) -> float:
    """The whole run: every epoch's training images, and the test set after each epoch the config tests after."""
    cfg = r.config
    tests = sum(cfg.tests_after(e) for e in range(1, cfg.epochs + 1))
    return r.train_flops * r.n_train * cfg.epochs + r.train_flops / 3 * r.n_test * tests


def speed_of(
    planned: list[PlannedRun],
    *,
    measure: bool = False,
    tflops: float | None = None,
    device: str | None = None,
) -> dict:
    """TFLOP/s per model: ``tflops`` if given; else measured now on ``device`` (``measure``); else from the runs in
    the cache that trained on a GPU (their FLOPs over their wall time); else :data:`ASSUMED_TFLOPS`."""
    if tflops is not None:
        return dict(source=f"given: {tflops:g} TFLOP/s", tflops={}, default_tflops=tflops)
    if measure:
        dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        rates = {}
        for r in planned:
            if r.config.model not in rates:
                rates[r.config.model] = measured_tflops(r.config, r.num_classes, dev)
        return dict(
            source=f"measured now on {runs.device_name(dev)} ({dev.type}), a few mini-batches per model",
            tflops=rates,
            default_tflops=statistics.median(rates.values()) if rates else ASSUMED_TFLOPS,
        )
    rates = cached_gpu_tflops()
    if rates:
        return dict(
            source="measured: the runs trained on a GPU in the cache (FLOPs over wall time)",
            tflops=rates,
            default_tflops=statistics.median(rates.values()),
        )
    return dict(
        source=f"ASSUMED {ASSUMED_TFLOPS:g} TFLOP/s (nothing measured: no GPU run in the cache; --measure on "
        "the GPU machine measures it)",
        tflops={},
        default_tflops=ASSUMED_TFLOPS,
    )


def measured_tflops(cfg: TrainConfig, num_classes: int, device: torch.device, steps: int = 5) -> float:
    """Training TFLOP/s of ``cfg``'s network on ``device``: ``steps`` timed mini-batches after two warm-up ones
    (synchronized on a GPU), at the config's batch size, input size and memory layout."""
    net = (
        models.build(
            cfg.model,
            num_classes,
            cfg.width,
            batch_norm=cfg.batch_norm,
            input_size=cfg.input_size,
            load_weights=False,
            blocks=cfg.blocks,
        )
        .to(device)
        .train()
    )
    fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format
    net = net.to(memory_format=fmt)
    opt = torch.optim.SGD(net.parameters(), lr=1e-3, momentum=0.9, nesterov=True)
    side = cfg.input_size or 32
    x = torch.randn(cfg.batch_size, 3, side, side, device=device).contiguous(memory_format=fmt)
    y = torch.randint(0, num_classes, (cfg.batch_size,), device=device)
    with torch.random.fork_rng(devices=[]):
        for i in range(steps + 2):
            if i == 2:
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                t0 = time.perf_counter()
            loss = torch.nn.functional.cross_entropy(net(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
    seconds_per_image = (time.perf_counter() - t0) / steps / cfg.batch_size
    return train_flops(cfg, num_classes) / seconds_per_image / 1e12


def cached_gpu_tflops() -> dict[str, float]:
    """Median TFLOP/s per model of the finished runs in the cache that trained on CUDA (from their run.json)."""
    found: dict[str, list[float]] = {}
    for info_path in (cache_root() / "runs").glob("*/run.json"):
        try:
            info = json.loads(info_path.read_text())
            if not str(info.get("device", "")).startswith("cuda"):
                continue
            cfg = TrainConfig.from_dict(info["config"])
            seconds = sum(m["seconds"] for m in info["metrics"])  # training only, as the FLOPs count it
            flops = train_flops(cfg, cfg.K or (100 if cfg.dataset == "cifar100" else 10))
            done = len(info["metrics"])
            found.setdefault(cfg.model, []).append(flops * info["data"]["n_train"] * done / seconds / 1e12)
        except (OSError, ValueError, KeyError, TypeError, ZeroDivisionError):
            continue
    return {m: statistics.median(v) for m, v in found.items()}


# --- printing --------------------------------------------------------------------------------------------


def describe(r: PlannedRun) -> str:
    c = r.config
    extra = "".join(
        [
            f" K={c.K}" if c.K else "",
            f" seed={c.seed}" if c.seed else "",
            f" blocks={list(map(list, c.blocks))}" if c.blocks else "",
            f" {c.input_size}px" if c.input_size else "",
        ]
    )
    return f"{c.model} w{c.width:g} {c.epochs}ep {r.data}{extra}"


def format_plan(p: Plan) -> str:
    """The plan as a table: every run (status, GPU-hours, pages), then the hours per page and in all."""
    lines = [
        f"profile {p.profile}: {len(p.runs)} distinct training(s) for {len(p.pages)} page(s); speed: "
        f"{p.speed['source']}",
        "",
        f"{'run key':16}  {'network':66}  {'status':22}  {'GPU-h':>7}  pages",
    ]
    for r in p.runs:
        status = r.status if r.status != "partial" else f"partial ({r.done_epochs}/{r.config.epochs} ep)"
        status = status if r.status != "claimed" else f"claimed ({r.claimed_by})"
        lines.append(
            f"{r.key:16}  {describe(r)[:66]:66}  {status[:22]:22}  {r.hours:7.2f}  {len(r.pages)}: "
            + ", ".join(r.pages)
        )
    lines += ["", "GPU-hours per page (a shared run counted on every page that uses it):"]
    for name, hours in p.page_hours().items():
        why = f"  (trains nothing here: {p.skipped[name].split(':')[0]})" if name in p.skipped else ""
        lines.append(f"  {name:40} {hours:8.2f}  {len(p.pages[name])} run(s){why}")
    total, left = sum(r.hours for r in p.runs), sum(r.remaining_hours for r in p.runs)
    n_left = len(p.missing())
    lines += [
        "",
        f"in all: {total:.2f} GPU-hours for {len(p.runs)} run(s); to train: {left:.2f} GPU-hours for "
        f"{n_left} run(s) (submit: python -m helpers submit --profile {p.profile} ...)",
    ]
    return "\n".join(lines)


# --- submitting ------------------------------------------------------------------------------------------


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
    """Train (or resume, or find cached) one run in this process; a run another live process holds is left to it
    (``wait``: waited for, and taken over if its holder dies). The run's key is checked first: code or data changed
    since the plan is an error, not a different run."""
    os.environ["MECH_DATA"], os.environ["MECH_CACHE"] = spec.data_dir, spec.cache_dir
    cfg = TrainConfig.from_dict(spec.config)
    loaded = {} if loaded is None else loaded
    if cfg.dataset not in loaded:
        loaded[cfg.dataset] = data_mod.load_cifar(cfg.dataset)
    ds = data_mod.subset(loaded[cfg.dataset], cfg.K, cfg.n_train, cfg.n_test)
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
    """:func:`train_spec`, its error recorded instead of raised (``status`` "failed", ``error`` with the traceback's
    end), with this process's pid and the attempt's start and end (``time.time()``)."""
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
    """The callable a submitit job runs: each run of ``specs`` in turn (:func:`train_spec`), then, once more, each
    that another process held or that failed, now waiting for a holder (its result read when it finishes, the run
    taken over if it dies). One run's failure does not stop the others: the job's result lists, for every run, what
    happened (``status``: trained, cached, held by ..., failed with its ``error``). On Slurm's preemption or timeout
    signal submitit calls :meth:`checkpoint` and requeues the job, which then resumes from the run's last finished
    epoch (the run cache's ``checkpoint.pt``), with the claim of its previous life taken over."""

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


def rotated(items: list, k: int) -> list:
    """``items`` starting at position ``k`` (worker k takes run k first, then helps with the others)."""
    return items[k % len(items) :] + items[: k % len(items)] if items else []


def _submitit():
    try:
        import submitit
    except ImportError:
        raise SystemExit(
            "error: submitit is not installed in this environment; install the cluster extra: "
            ".venv/bin/python -m pip install -e '.[cluster]' (make venv does it)"
        ) from None
    return submitit


def submit_slurm(
    specs: list[RunSpec],
    folder: Path,
    *,
    partition=None,
    account=None,
    time_min=24 * 60,
    array_parallelism=16,
    cpus_per_task=8,
    mem_gb=32,
    gpus_per_task=1,
    max_requeue=10,
    setup=(),
) -> list:
    """One Slurm job array, one run and ``gpus_per_task`` GPU(s) per task, at most ``array_parallelism`` at once;
    ``--requeue`` and submitit's USR2 handler bring a preempted or timed-out task back where it stopped."""
    submitit = _submitit()
    ex = submitit.SlurmExecutor(folder, max_num_timeout=max_requeue)
    ex.update_parameters(
        job_name="mech-runs",
        partition=partition,
        account=account,
        time=int(time_min),
        nodes=1,
        ntasks_per_node=1,
        gpus_per_node=gpus_per_task,
        cpus_per_task=cpus_per_task,
        mem=f"{mem_gb}GB",
        array_parallelism=array_parallelism,
        signal_delay_s=120,
        additional_parameters=dict(requeue=True),
        setup=list(setup) or None,
    )
    return ex.map_array(Trainer(), [[s] for s in specs])


def submit_local(
    specs: list[RunSpec], folder: Path, *, gpus: list[str], workers: int | None = None, time_min=24 * 60
) -> list:
    """One worker process per GPU of ``gpus`` (``CUDA_VISIBLE_DEVICES`` set to it: entries as the machine numbers
    them, :func:`local_gpus`), or ``workers`` CPU processes without GPUs; each walks the whole list from its own
    starting point and trains what no other worker holds."""
    submitit = _submitit()
    n = len(gpus) if gpus else (workers or 1)
    jobs = []
    for k in range(min(n, len(specs))):
        ex = submitit.LocalExecutor(folder)
        ex.update_parameters(timeout_min=time_min, **(_one_gpu(gpus[k]) if gpus else dict(gpus_per_node=0)))
        jobs.append(ex.submit(Trainer(), rotated(specs, k)))
    return jobs


def _one_gpu(gpu: str) -> dict:
    """submitit's local parameters that give a worker ``gpu`` alone: its index (submitit takes integers), or a
    UUID (``GPU-...``, ``MIG-...``) exported by the worker's shell."""
    if gpu.isdigit():
        return dict(gpus_per_node=1, visible_gpus=(int(gpu),))
    return dict(gpus_per_node=0, setup=[f"export CUDA_VISIBLE_DEVICES={shlex.quote(gpu)}"])


def local_gpus(asked: str | None = None) -> list[str]:
    """The GPUs the local workers get, one each, as ``CUDA_VISIBLE_DEVICES`` entries of this machine: every GPU this
    process may use (:func:`helpers.book.build.visible_gpus`: its own ``CUDA_VISIBLE_DEVICES`` when set, so under
    ``2,3`` the workers get GPUs 2 and 3), or those that ``asked`` names by this process's CUDA indices ("0,1":
    cuda:0 and cuda:1 here, mapped the same way)."""
    visible = visible_gpus()
    if not asked:
        return visible
    idx = [int(g) for g in asked.split(",") if g.strip()]
    bad = [i for i in idx if not 0 <= i < len(visible)]
    if bad:
        raise ValueError(
            f"--gpus {asked}: no GPU {bad} here; this process sees {len(visible)} GPU(s) "
            f"({', '.join(visible) or 'none'}: CUDA_VISIBLE_DEVICES or nvidia-smi), numbered from 0"
        )
    return [visible[i] for i in idx]


def report(jobs) -> int:
    """Wait for ``jobs`` and print what each run came to; the number of runs that failed (or jobs, when a whole job
    failed: its log says why)."""
    failed = 0
    for job in jobs:
        try:
            results = job.result()
        except Exception as err:  # noqa: BLE001 (a job that died: its log says why)
            failed += 1
            print(
                f"  job {job.job_id} FAILED: {type(err).__name__}: {str(err)[-2000:]}\n  logs: {job.paths.stderr}",
                file=sys.stderr,
            )
            continue
        for res in results:
            if res["status"] == "failed":
                failed += 1
                print(
                    f"  {res['key']}: FAILED in job {job.job_id}: {res['error']}\n{res.get('traceback', '')}"
                    f"  logs: {job.paths.stderr}",
                    file=sys.stderr,
                )
                continue
            print(
                f"  {res['key']}: {res['status']}"
                + (
                    f", test accuracy {res['test_acc']:.4f} in {res['seconds']:.0f} s on {res['device']}"
                    if "test_acc" in res
                    else ""
                ),
                flush=True,
            )
    return failed


# --- the command ----------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m helpers", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = ap.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--profile", default=os.environ.get("PROFILE", "paper"), choices=PROFILES)
    common.add_argument(
        "--only", nargs="*", help="page names (notebooks without .ipynb); default: every page"
    )
    common.add_argument(
        "-p",
        nargs=2,
        action="append",
        default=[],
        metavar=("KNOB", "VALUE"),
        help="a knob of every chosen page that declares it, as for the build (-p seeds 4)",
    )
    common.add_argument(
        "--tflops",
        type=float,
        help="the training speed to assume, TFLOP/s (default: measured "
        f"from the cache's GPU runs, else {ASSUMED_TFLOPS:g} assumed)",
    )
    common.add_argument("--measure", action="store_true", help="time a few mini-batches of each network here")
    common.add_argument("--device", help="device to train and measure on (default: CUDA when present)")
    p = sub.add_parser(
        "plan", parents=[common], help="list the runs the pages need, cached or not, and their hours"
    )
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    s = sub.add_parser("submit", parents=[common], help="train the missing runs through submitit")
    s.add_argument("--executor", choices=("slurm", "local"), required=True)
    s.add_argument(
        "--folder",
        default=None,
        help="submitit's folder: scripts, pickles, logs (default: $MECH_CACHE/submitit/<date>)",
    )
    s.add_argument("--partition")
    s.add_argument("--account")
    s.add_argument(
        "--time",
        type=int,
        default=24 * 60,
        help="minutes per job before Slurm's timeout (the job is then requeued and resumes); default 1440",
    )
    s.add_argument("--array-parallelism", type=int, default=16, help="array tasks running at once (GPUs)")
    s.add_argument("--cpus-per-task", type=int, default=8)
    s.add_argument("--mem-gb", type=int, default=32)
    s.add_argument("--max-requeue", type=int, default=10, help="timeouts a job may be requeued after")
    s.add_argument(
        "--setup",
        action="append",
        default=[],
        help="a shell line each Slurm job runs first (module load ..., source .venv/bin/activate)",
    )
    s.add_argument(
        "--gpus",
        help="local: this process's CUDA indices (0,1 ...: of CUDA_VISIBLE_DEVICES when set), "
        "one worker each (default: every GPU here)",
    )
    s.add_argument("--workers", type=int, help="local, without GPUs: processes side by side (default 1)")
    s.add_argument("--wait", action="store_true", help="wait for the jobs and print what each did")
    s.add_argument("--dry-run", action="store_true", help="print what would be submitted, submit nothing")
    return ap


def main(argv=None) -> int:
    ap = _parser()
    args = ap.parse_args(argv)
    if any(k == "profile" for k, _ in args.p):
        ap.error("the profile is chosen with --profile, not -p profile")
    try:
        p = plan(
            args.profile, args.only, args.p, measure=args.measure, tflops=args.tflops, device=args.device
        )
    except ValueError as err:
        ap.error(str(err))
    if args.command == "plan":
        print(json.dumps(p.record(), indent=1) if args.json else format_plan(p))
        return 0
    todo = p.missing()
    held = [r for r in p.runs if r.status == "claimed"]
    print(
        f"{len(p.runs)} run(s) planned: {sum(r.status == 'cached' for r in p.runs)} cached, {len(held)} held by "
        f"running jobs (left to them), {len(todo)} to train ({sum(r.remaining_hours for r in todo):.2f} GPU-hours)"
    )
    if not todo:
        print(f"nothing to submit; build the book: make book PROFILE={args.profile}")
        return 0
    specs = [RunSpec.of(r, args.device) for r in todo]
    folder = Path(args.folder or cache_root() / "submitit" / time.strftime("%Y%m%d-%H%M%S")).resolve()
    if args.dry_run:
        for r in todo:
            print(f"  would train {r.key}  {describe(r)}  {r.remaining_hours:.2f} GPU-h")
        return 0
    if args.executor == "slurm":
        jobs = submit_slurm(
            specs,
            folder,
            partition=args.partition,
            account=args.account,
            time_min=args.time,
            array_parallelism=args.array_parallelism,
            cpus_per_task=args.cpus_per_task,
            mem_gb=args.mem_gb,
            max_requeue=args.max_requeue,
            setup=args.setup,
        )
    else:
        try:
            gpus = local_gpus(args.gpus)
        except ValueError as err:
            ap.error(str(err))
        jobs = submit_local(specs, folder, gpus=gpus, workers=args.workers, time_min=args.time)
    print(
        f"submitted {len(jobs)} job(s) for {len(specs)} run(s) through submitit's {args.executor} executor: "
        f"{', '.join(j.job_id for j in jobs[:8])}{' ...' if len(jobs) > 8 else ''}; scripts and logs in {folder}"
    )
    print(
        f"progress: python -m helpers plan --profile {args.profile}; when every run is cached: "
        f"make book PROFILE={args.profile}"
    )
    if not args.wait:
        return 0
    return 1 if report(jobs) else 0


if __name__ == "__main__":
    sys.exit(main())
