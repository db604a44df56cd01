"""Which trainings the book's pages need, what the cache holds of them, and their GPU-hours.

    python -m helpers plan --profile paper [--only PAGE ...] [-p KNOB VALUE ...] [--json] [--measure]

:func:`plan` asks each chosen page which networks it trains (:func:`runs_of`: the same ``Page.config_for``
calls its notebook makes, with the notebook's knobs), keys them as the run cache does (deduplicated across
pages: the *mechanism* VGG-16 serves nine pages), and says for each what the cache holds (cached, stopped
after epoch k, claimed by a running job, missing) and its GPU-hours: FLOPs per image
(:mod:`helpers.book.flops`) times images and epochs, over a speed that is measured where it can be
(``--measure`` times a few mini-batches of each network on this machine's device; else the runs already
trained on a GPU in the cache) and otherwise assumed (:data:`helpers.book.flops.ASSUMED_TFLOPS`, said so in
the output). Where a page's dataset is not on this machine (nor its stand-in), its runs are planned from the
dataset's shape (:func:`helpers.train.data.shape_only`) with the status ``no data here``. The command is in
:mod:`helpers.book.jobs`; its table in :mod:`helpers.book.plan_text`.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from helpers.book import page as pages_mod
from helpers.book import scale as scale_mod
from helpers.book.build import PROFILES, knob_values
from helpers.book.flops import speed_of, train_flops
from helpers.book.knobs import defaults
from helpers.figures import mechanism_fig7_vgg6 as fig7
from helpers.figures import universal_effnet_afcc as effnet_afcc
from helpers.figures import universal_k_sweep as k_tables
from helpers.figures import universal_layer_tables as layer_tables
from helpers.infra.locks import lease_holder
from helpers.infra.paths import cache_root, data_dir, notebooks_dir
from helpers.train import data as data_mod
from helpers.train import profiles, runs
from helpers.train.loop import TrainConfig

NO_DATA = "no data here"  # a run's status where its dataset is not on the planning machine

# --- which runs each page trains (its notebook's calls, at its knobs) ---------------------------------------


def _seeds(page, knobs) -> list[TrainConfig]:
    """``page.study(seed=s)`` for s < seeds (``mechanism.layer_accuracy``), or ``page.study()``: seed 0."""
    return [page.config_for(seed=s) for s in range(page.seeds)]


def _with_vgg16(page, knobs) -> list[TrainConfig]:
    """The page's own runs and VGG-16's (``page.study(model='vgg16', taps=['13'])``: Figs. 7 and 8)."""
    return _seeds(page, knobs) + [page.config_for(model="vgg16")]


def _with_vgg16_seeds(page, knobs) -> list[TrainConfig]:
    """Fig. 7: its VGG-6 per seed, and VGG-16 per seed for the accuracy gap (``mechanism.network_accuracies``
    over ``mechanism.vgg16_networks``; seed 0's also for ``page.study(model='vgg16', taps=['13'])``)."""
    return _seeds(page, knobs) + [
        page.config_for(model="vgg16", seed=s) for s in range(fig7.vgg16_networks(page))
    ]


def _models(page, knobs) -> list[TrainConfig]:
    """One run per model of the ``models`` knob (``mechanism.dilution_models``)."""
    return [page.config_for(model=m) for m in knobs["models"]]


def _shared_seeds(page, knobs) -> list[TrainConfig]:
    """The page's network per seed that the book trains anyway (``layer_tables.seed_tables`` over
    ``layer_tables.shared_seeds``: VGG-16 on CIFAR-10 is Fig. 2's, per seed; any other, seed 0)."""
    return [page.config_for(seed=s) for s in range(layer_tables.shared_seeds(page))]


def _k_sweep(page, knobs) -> list[TrainConfig]:
    """One run per K of the sweep and label draw (``k_tables.k_sweep`` over ``k_tables.Ks_for`` and
    ``k_tables.label_draws``), and the full dataset's per shared seed (:func:`_shared_seeds`)."""
    N, draws = page.full.num_classes, knobs.get("draws", 1)
    sweep = [
        page.config_for(K=K, label_draw=d)
        for K in k_tables.Ks_for(page, knobs["table"], knobs["Ks"])
        for d in k_tables.label_draws(K, N, draws)
    ]
    return sweep + _shared_seeds(page, knobs)


def _shortened(page, knobs) -> list[TrainConfig]:
    """The full EfficientNet-B0 (also stage 8's AFCC and stage 9's with the entire network retrained, which is
    not a cached run) and the shortened ones (``effnet_afcc.shortened``)."""
    return [page.config_for(seed=0)] + [
        page.config_for(seed=0, blocks=b) for b in effnet_afcc.SHORTENED_BLOCKS.values()
    ]


def _ladder(page, knobs) -> list[TrainConfig]:
    """The scale page: its networks per seed, and at ``paper`` the ladder of ``python -m helpers scale run
    --gpu-ladder`` (:data:`helpers.book.scale.GPU_LADDER`); at ``cpu`` the committed record has it."""
    ladder = [scale_mod.config("cpu", *p) for p in scale_mod.GPU_LADDER] if page.profile == "paper" else []
    return _seeds(page, knobs) + ladder


def _none(page, knobs) -> list[TrainConfig]:
    """No cached training (the architectures page; ImageNet's pretrained network is read, not trained)."""
    return []


def _afcc_retraining(page, knobs) -> list[tuple[TrainConfig, int]]:
    """The EfficientNet AFCC page's whole-network retrainings (``effnet_afcc.network_afcc``): the full
    network, once with the AFCC mask and once with a random one, for ``network_epochs`` epochs each. Not
    cached runs (their accuracies are cached, :mod:`helpers.train.masked`): the page trains them itself, so a
    plan counts their hours but ``submit`` cannot train them."""
    epochs = profiles.afcc_network_epochs(page.profile, knobs.get("network_epochs"))
    return [(page.config_for(seed=0), epochs)] * 2


# Training a page does itself, outside the run cache: (config, epochs) per retraining
PAGE_RETRAINING = {"universal-effnet-afcc": _afcc_retraining}

# The pages that train more than their own model's run per seed (or none); every other page is ``_seeds``
# (tests/test_cluster.py reads each such notebook's code to check that it asks for nothing more).
PAGE_RUNS = {
    "architectures-taps": _none,
    "universal-table3-effnet-imagenet": _none,
    "mechanism-fig7-vgg6": _with_vgg16_seeds,
    "mechanism-fig8-avgg16": _with_vgg16,
    "mechanism-dilution-filters": _models,
    "universal-table1-vgg16-cifar100": _shared_seeds,
    "universal-table2-effnet-cifar100": _shared_seeds,
    "universal-table4-vgg16-cifar-k100": _k_sweep,
    "universal-table5-effnet-cifar-k100": _k_sweep,
    "universal-table6-vgg16-cifar-k10": _k_sweep,
    "universal-effnet-afcc": _shortened,
    "scale-verdicts": _ladder,
}


def runs_of(name: str):
    """The function that lists the runs page ``name`` trains (:data:`PAGE_RUNS`, else one per seed)."""
    return PAGE_RUNS.get(name, _seeds)


PAGE_ARGS = ("model", "dataset", "paper_dataset", "seeds", "stand_in", "imagenet", "epochs", "width")


def page_of(name: str, profile: str, knobs: dict) -> pages_mod.Page:
    """The page as its notebook builds it (data loaded, stand-in chosen), from the knobs that shape its
    runs."""
    return pages_mod.Page(name, profile, **{k: knobs[k] for k in PAGE_ARGS if k in knobs})


@contextlib.contextmanager
def datasets_loaded_once():
    """While planning, each dataset is read from disk once: every ``Page`` loads its own in ``__init__`` (in a
    notebook that is once per process), and a plan builds twenty (the datasets are immutable, so shared)."""
    loaded, original = {}, data_mod.load_cifar

    def read(name, root, download):
        """The dataset, or the DataNotFoundError it raised, each read (or looked for) once."""
        key = (name, str(data_dir(root)), download)
        if key not in loaded:
            try:
                loaded[key] = original(name, root, download)
            except data_mod.DataNotFoundError as err:
                loaded[key] = err
        return loaded[key]

    def load(name="cifar10", root=None, download=None):
        return _or_shape_only(read, name, root, download)

    data_mod.load_cifar = load
    try:
        yield
    finally:
        data_mod.load_cifar = original


def _or_shape_only(read, name, root, download) -> data_mod.ImageData:
    """The dataset, else, where the page would have no data at all (neither it nor its stand-in,
    ``page.STAND_IN``, is here), its shape (:func:`helpers.train.data.shape_only`): a plan lists the runs of a
    machine that does not hold the data (a login node, a laptop), and says where the data must be. ``read``
    gives a dataset or its :class:`~helpers.train.data.DataNotFoundError`."""
    got = read(name, root, download)
    if not isinstance(got, data_mod.DataNotFoundError):
        return got
    stand_in = pages_mod.STAND_IN.get(name)
    if stand_in is not None and not isinstance(read(stand_in, root, download), data_mod.DataNotFoundError):
        raise got  # the page runs on its stand-in, as the build here would
    return data_mod.shape_only(name, str(got))


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
    status: str = "missing"  # cached, partial, claimed, missing; no data here (keyed where the data is)
    done_epochs: int = 0
    claimed_by: str | None = None
    train_flops: float = 0.0  # per training image, forward and backward
    hours: float = 0.0  # the whole run at the plan's speed
    remaining_hours: float = 0.0

    def record(self) -> dict:
        c = self.config
        return dict(
            key=None if self.status == NO_DATA else self.key,  # a key hashes the images: made where they are
            model=c.model,
            dataset=self.data,
            K=c.K,
            label_draw=c.label_draw,
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
    """The runs the chosen pages need at a profile, the pages' runs, the pages that train nothing, the
    speed."""

    profile: str
    runs: list[PlannedRun]
    pages: dict[str, list[str]]  # page -> run keys
    skipped: dict[str, str]  # page -> why it trains nothing here
    speed: dict  # source, TFLOP/s per model
    retraining: dict[str, float] = field(default_factory=dict)  # page -> GPU-hours it trains itself

    def missing(self) -> list[PlannedRun]:
        """The runs to train, longest first (so that a job array's last tasks are short ones)."""
        return sorted(
            (r for r in self.runs if r.status in ("missing", "partial")), key=lambda r: -r.remaining_hours
        )

    def without_data(self) -> list[PlannedRun]:
        """The runs whose dataset is not on this machine (planned from its shape alone)."""
        return [r for r in self.runs if r.status == NO_DATA]

    def page_hours(self) -> dict[str, float]:
        """Per page: its cached runs' hours and the retraining it does itself (:data:`PAGE_RETRAINING`)."""
        by_key = {r.key: r for r in self.runs}
        own = self.retraining
        return {p: sum(by_key[k].hours for k in keys) + own.get(p, 0.0) for p, keys in self.pages.items()}

    def record(self) -> dict:
        return dict(
            profile=self.profile,
            speed=self.speed,
            runs=[r.record() for r in self.runs],
            pages={p: dict(runs=keys, hours=self.page_hours()[p]) for p, keys in self.pages.items()},
            skipped=self.skipped,
            retraining_hours=self.retraining,
            total_hours=sum(r.hours for r in self.runs) + sum(self.retraining.values()),
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
    """Every training the chosen pages need at ``profile`` with the ``-p`` knobs ``given``, deduplicated by
    run key, with its cache status and hours (see the module's docstring for the speed)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)}")
    books = chosen_notebooks(only)
    knobs = knob_values(books, list(given))
    by_key, page_keys, skipped, subsets, subsets_of = {}, {}, {}, {}, {}
    with datasets_loaded_once():
        pages = [(p.stem, {**defaults(p), **knobs[p]}) for p in books]
        pages = [(name, values, page_of(name, profile, values)) for name, values in pages]
    for name, values, page in pages:
        page_keys[name] = []
        if page.skipped:
            skipped[name] = page.skipped
            continue
        for cfg in runs_of(name)(page, values):
            which = _subset(cfg)
            if which not in subsets:
                subsets[which] = page.data_for(cfg)
            ds = subsets[which]
            key = runs.run_key(cfg, ds)
            subsets_of[key] = ds
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
        if subsets_of[r.key].provenance.startswith(data_mod.SHAPE_ONLY):
            r.status = NO_DATA
    speed = speed_of(planned, measure=measure, tflops=tflops, device=device)

    def rate(cfg: TrainConfig) -> float:
        return speed["tflops"].get(cfg.model, speed["default_tflops"]) * 1e12

    for r in planned:
        r.hours = run_flops(r) / rate(r.config) / 3600
        r.remaining_hours = (
            0.0
            if r.status in ("cached", "claimed")
            else r.hours * (r.config.epochs - r.done_epochs) / r.config.epochs
        )
    return Plan(profile, planned, page_keys, skipped, speed, _retraining_hours(pages, subsets, rate))


def _retraining_hours(pages: list, subsets: dict, rate) -> dict[str, float]:
    """GPU-hours of the training each page of :data:`PAGE_RETRAINING` does itself: its configs' FLOPs per
    image times the dataset's training images and the epochs, at ``rate(cfg)`` FLOP/s."""
    return {
        name: sum(
            train_flops(cfg, subsets[_subset(cfg)].num_classes)
            * len(subsets[_subset(cfg)].y_train)
            * epochs
            / rate(cfg)
            / 3600
            for cfg, epochs in PAGE_RETRAINING[name](page, values)
        )
        for name, values, page in pages
        if name in PAGE_RETRAINING and not page.skipped
    }


def _subset(cfg: TrainConfig) -> tuple:
    """The key a plan shares a run's dataset under."""
    return (cfg.dataset, cfg.K, cfg.label_draw, cfg.n_train, cfg.n_test)


def _cache_status(r: PlannedRun) -> None:
    """What the cache holds of ``r``: the finished run, the epochs of a stopped one, a live lease on it."""
    path = cache_root() / "runs" / r.key
    if (path / "model.pt").is_file() and (path / "run.json").is_file():
        r.status, r.done_epochs = "cached", r.config.epochs
        return
    try:
        r.done_epochs = int(json.loads((path / "progress.json").read_text())["epoch"])
        r.status = "partial"
    except (OSError, ValueError, KeyError):
        pass
    holder = lease_holder(path)
    if holder is not None:
        r.status, r.claimed_by = (
            "claimed",
            f"pid {holder.get('pid')} on {holder.get('host')}"
            + (f", job {holder['job']}" if holder.get("job") else ""),
        )


# --- cost: the whole run and the speed -------------------------------------------------------------------


def run_flops(r: PlannedRun) -> float:
    """The whole run: every epoch's training images, and the test set after each epoch the config tests
    after."""
    cfg = r.config
    tests = sum(cfg.tests_after(e) for e in range(1, cfg.epochs + 1))
    return r.train_flops * r.n_train * cfg.epochs + r.train_flops / 3 * r.n_test * tests
