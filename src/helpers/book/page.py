"""One page of the"""

from __future__ import annotations

import os
import time

from helpers.book import knobs as knobs_mod
from helpers.book.view import PAPER_DATASET, PageView
from helpers.figures import effnet_stand_in
from helpers.figures.steps import check_choice
from helpers.infra.paths import notebooks_dir
from helpers.method import fields
from helpers.method import study as method
from helpers.train import data as data_mod
from helpers.train import models, probes, profiles, runs
from helpers.train import taps as taps_mod
from helpers.train.data import DataNotFoundError

DATASETS = ("cifar10", "cifar100", "imagenet")


STAND_IN = {"cifar100": "cifar10"}  # where the paper's dataset is missing, the same analysis runs on this one


# the knobs Page.from_notebook takes from a notebook's parameters cell (the rest are the notebook's)
FROM_NOTEBOOK = (
    "model",
    "dataset",
    "paper_dataset",
    "taps",
    "threshold",
    "seeds",
    "solver",
    "rule",
    "device",
    "imagenet",
    "stand_in",
    "epochs",
    "width",
    "schedule",
)
PAGE_KNOBS = (
    "model",
    "dataset",
    "paper_dataset",
    "taps",
    "threshold",
    "seeds",
    "solver",
    "rule",
    "device",
    "imagenet",
    "stand_in",
)


def check_taps(model: str, taps, input_size: int | None = None) -> list[str]:
    """The tap names a page analyses: ``None`` for all of the model's taps, else a checked list (a torchvision
    CNN's stages depend on the ``input_size`` it runs at)."""
    known = models.tap_names(model, input_size)
    if taps is None:
        return known
    taps = [str(t) for t in ([taps] if isinstance(taps, (int, str)) else taps)]
    unknown = [t for t in taps if t not in known]
    if unknown or not taps:
        raise ValueError(f"unknown layer(s) {unknown or taps} for {model}: its taps are {known}")
    return [t for t in known if t in taps]


def check_seeds(seeds) -> int:
    if not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds must be an integer >= 1 (the number of trained networks), got {seeds!r}")
    return seeds


class Page(PageView):
    """The knobs, data and cached work of one notebook page.

    ``dataset`` is the data the page runs on; ``paper_dataset`` the one the paper used: where
    they differ, or the data is synthetic, every output says this is not the paper's experiment.
    Knobs left ``None`` take the profile's value; the rest override it (``epochs``, ``width``, ``K`` ...).
    """

    def __init__(
        self,
        name: str,
        profile: str,
        *,
        model: str = "vgg16",
        dataset: str = "cifar10",
        paper_dataset: str | None = None,
        taps=None,
        threshold: float = fields.THRESHOLD,
        seeds: int | None = 1,
        solver: str = probes.DEFAULT_SOLVER,
        rule: str = "greedy",
        device: str | None = None,
        imagenet: str | None = None,
        stand_in: bool = True,
        namespace: dict | None = None,
        **knobs,
    ):
        self.overrides = knobs_mod.overrides(name, namespace) if namespace is not None else None
        check_choice("profile", profile, profiles.PROFILES)
        models.check_model(model)
        check_choice("dataset", dataset, DATASETS)
        check_choice("solver", solver, probes.SOLVERS)
        check_choice("rule", rule, fields.RULES)
        fields.check_threshold(threshold)
        self.name, self.profile, self.model, self.dataset = name, profile, model, dataset
        self.paper_dataset = paper_dataset or dataset
        seeds = profiles.seeds(profile, model) if seeds is None else seeds  # None: the profile's
        self.threshold, self.seeds, self.solver, self.rule = threshold, check_seeds(seeds), solver, rule
        self.device = device  # passed to every step that runs a network (no process-wide setting)
        self.knobs = {k: v for k, v in knobs.items() if v is not None}
        try:
            self.config = profiles.train_config(profile, model, dataset=dataset, **self.knobs)  # checks them
        except ValueError as err:
            if "unknown knob" not in str(err):
                raise
            raise ValueError(f"{err}; and the page's own: {PAGE_KNOBS}") from None
        self.taps = check_taps(model, taps, self.config.input_size)
        self.skipped: str | None = None
        self.missing: str | None = None  # the paper's dataset, missing here, when a stand-in runs instead
        self.full = None
        self._studies: dict = {}
        self._runs: dict = {}  # every run this page used, by key
        self._claims = None  # the last claims table shown, a Shown (page.summary() writes from it)
        self.started = time.time()
        self._figures = 0  # figures shown so far: the next one's number
        self.imagenet = imagenet
        self._load(stand_in)

    def _load(self, stand_in: bool) -> None:
        """The page's data: its CIFAR, else a stand-in where one exists (``self.skipped`` says why not)."""
        if self.dataset == "imagenet":
            if not self.imagenet or not os.path.isdir(self.imagenet):
                self.skipped = f"no ImageNet folder: the imagenet knob is {self.imagenet!r}" + (
                    "" if not self.imagenet else ", which is not a directory here"
                )
            return
        try:
            self.full = data_mod.load_cifar(self.dataset)
        except DataNotFoundError as err:
            self.skipped = str(err)
            if stand_in and self.dataset in STAND_IN:
                self._stand_in(STAND_IN[self.dataset], str(err))

    @classmethod
    def from_notebook(cls, name: str, namespace: dict, **fixed) -> Page:
        """The page of notebook ``name``, its knobs read from ``namespace`` (the notebook's ``globals()``), so
        that the parameters cell is the only place a knob is written: every knob of :data:`FROM_NOTEBOOK` the
        notebook declares, with ``fixed`` (what the notebook decides itself, e.g. ``taps=[tap]``) on top.

        Example: ``page = Page.from_notebook("mechanism-fig6-signal-noise", globals(), taps=[tap])``.
        """
        source = notebooks_dir() / f"{name}.ipynb"  # absent for a copy run outside the repository
        declared = (knobs_mod.defaults(source) if source.exists() else None) or namespace
        knobs = {k: namespace[k] for k in FROM_NOTEBOOK if k in declared and k in namespace}
        return cls(name, namespace["profile"], **{**knobs, **fixed}, namespace=namespace)

    def _stand_in(self, dataset: str, missing: str) -> None:
        """Run the page's analysis on ``dataset`` (present here) instead of the missing paper's dataset."""
        try:
            self.full = data_mod.load_cifar(dataset)
        except DataNotFoundError:
            return
        self.skipped, self.missing, self.dataset = None, missing, dataset
        self.config = profiles.train_config(self.profile, self.model, dataset=dataset, **self.knobs)

    def check_filter(self, tap: str, f: int | None) -> None:
        """A filter index within the tap's N_f filters at the page's width (checked before anything
        trains)."""
        if f is None:
            return
        c = self.config
        model = models.build(
            c.model,  # the profile's stand-in where it trains one
            10,
            c.width,
            batch_norm=c.batch_norm,
            input_size=c.input_size,
            load_weights=False,
            blocks=c.blocks,
        )
        N_f = int(taps_mod.tap_table(model, c.input_size or 32).set_index("tap").loc[str(tap), "N_f"])
        if not isinstance(f, int) or isinstance(f, bool) or not 0 <= f < N_f:
            raise ValueError(
                f"filter_index={f!r} is out of range: layer {tap} of {self.model} at width {c.width:g} "
                f"has N_f = {N_f} filters, so choose 0 to {N_f - 1} (or None: the representative one)"
            )

    # -- what the page ran on
    @property
    def synthetic(self) -> bool:
        """Generated data: a synthetic CIFAR, or an image folder marked by a file named ``SYNTHETIC``."""
        if self.dataset == "imagenet":
            return bool(self.imagenet) and os.path.isfile(os.path.join(self.imagenet, "SYNTHETIC"))
        return self.full is not None and self.full.synthetic

    @property
    def class_names(self) -> list[str] | None:
        """The names of the labels of the data the page runs on (``None`` on a skipped page)."""
        return None if self.full is None else list(self.full.class_names)

    @property
    def papers_experiment(self) -> bool:
        return (
            self.dataset == self.paper_dataset
            and not self.synthetic
            and self.profile == "paper"
            and self.model in models.MODELS
            and self.rule == "greedy"
            and self.solver == probes.DEFAULT_SOLVER
        )

    def label(self) -> str:
        """One sentence on how this run relates to the paper's experiment."""
        if self.skipped:
            return (
                f"Skipped: {PAPER_DATASET[self.dataset]} is not on this machine, so only the paper's values "
                f"are shown."
            )
        parts = []
        if self.synthetic:
            parts.append("SYNTHETIC data (generated for tests): the numbers below are not results")
        if self.missing:
            parts.append(
                f"{PAPER_DATASET[self.paper_dataset]} is not on this machine, so the same analysis runs on "
                f"{PAPER_DATASET[self.dataset]} as a stand-in: not the paper's experiment, and the claims "
                f"that need {PAPER_DATASET[self.paper_dataset]} are not testable here"
            )
        elif self.dataset != self.paper_dataset:
            parts.append(
                f"run on {PAPER_DATASET[self.dataset]}, not on the paper's "
                f"{PAPER_DATASET[self.paper_dataset]}"
                f": not the paper's experiment"
            )
        if self.profile != "paper":
            parts.append(
                f"`{self.profile}` profile: reduced scale (width {self.config.width:g}, "
                f"{self.config.epochs} epochs), so the numbers differ from the paper's"
            )
        if effnet_stand_in.standing_in(self.model, self.config):
            parts.append(effnet_stand_in.label(self.config))
        if self.model not in models.MODELS:
            parts.append(
                f"{self.model} is not a network of the papers: their claims are tested on it as this "
                "book's additions"
            )
        if self.rule != "greedy":
            parts.append(
                "clusters by the order-independent rule, not the papers' greedy one"
                if self.rule == "order_independent"
                else "clusters by the papers' greedy rule in reversed label order, not in label order"
            )
        if self.solver != probes.DEFAULT_SOLVER:
            parts.append(f"FC layers fitted by {self.solver}, not the papers' SGD")
        text = "; ".join(parts)
        return text[0].upper() + text[1:] + "." if parts else "The paper's experiment at the paper's scale."

    def data_for(self, config=None):
        """The data of a run: CIFAR-K/N for the config's K, with its subset sizes (default: the page's config;
        another model's run brings its own, e.g. AVGG-16's 20,000 images)."""
        if self.skipped:
            return None
        return data_mod.for_config(self.full, config or self.config)

    def config_for(self, seed: int | None = None, K: int | None = None, model: str | None = None, **knobs):
        """The training config of one run of this page (another model takes that model's profile values)."""
        over = dict(self.knobs, **knobs)
        if seed is not None:
            over["seed"] = seed
        if K is not None and self.full is not None and K == self.full.num_classes:
            K = None  # CIFAR-10/10 is CIFAR-10: the same run as the pages without K
        if K is not None:
            over["K"] = K
        if model is not None and model != self.model:
            shared = ("seed", "K", "label_draw", "epochs", "n_train", "n_test")  # what another model shares
            over = {k: v for k, v in over.items() if k in shared}
        cfg = profiles.train_config(self.profile, model or self.model, dataset=self.dataset, **over)
        if self.full is not None:  # a K-label run differs from the full one in its labels only
            cfg = profiles.k_label_config(cfg, self.full.num_classes)
        return cfg

    def run(self, seed: int | None = None, K: int | None = None, model: str | None = None, **knobs):
        """The trained network (from the run cache, else trained now and cached)."""
        if self.skipped:
            return None
        cfg = self.config_for(seed, K, model, **knobs)
        run = runs.get_run(cfg, self.data_for(cfg), device=self.device)
        self._runs[run.key] = run
        return run

    def study(
        self,
        seed: int | None = None,
        K: int | None = None,
        model: str | None = None,
        threshold: float | None = None,
        taps=None,
        **knobs,
    ):
        """:func:`helpers.method.study` of one run: probes and the filter analysis of the page's taps."""
        if self.skipped:
            return None
        threshold = self.threshold if threshold is None else threshold
        mdl = model or self.model
        cfg = self.config_for(seed, K, model, **knobs)
        tap_names = check_taps(
            mdl, taps if taps is not None else (self.taps if mdl == self.model else None), cfg.input_size
        )
        key = (cfg, threshold, tuple(tap_names))  # study() and study(seed=0) are one network: one study
        if key not in self._studies:
            run = self.run(seed, K, model, **knobs)
            self._studies[key] = self._study_of(
                run, threshold, [t for t in run.model.taps if t.name in tap_names]
            )
        return self._studies[key]

    def study_at(self, taps: list, seed: int | None = None):
        """:func:`helpers.method.study` of the page's network ``seed`` read at ``taps``
        (:class:`~helpers.train.models.Tap`) in place of its model's own
        (:meth:`helpers.train.runs.Run.at_taps`; e.g. the layers right after VGG-16's max poolings), with the
        page's threshold, rule and solver."""
        if self.skipped:
            return None
        cfg = self.config_for(seed)
        key = (cfg, self.threshold, ("at",) + tuple((t.name, t.node) for t in taps))
        if key not in self._studies:
            run = self.run(seed).at_taps(taps)
            self._studies[key] = self._study_of(run, self.threshold, run.model.taps)
        return self._studies[key]

    def _study_of(self, run, threshold: float, taps: list):
        """:func:`helpers.method.study` of ``run`` at ``taps`` with the page's rule, solver and device."""
        return method.study(
            run,
            self.data_for(run.config),
            threshold=threshold,
            rule=self.rule,
            solver=self.solver,
            taps=taps,
            device=self.device,
        )
