"""One page of the book = one table or figure: its knobs checked, its data loaded (or the page
skipped), its runs and studies cached, its numbers shown beside the paper's, its claims computed.

    page = pages.Page("mechanism-fig2", profile, model="vgg16", dataset="cifar10", epochs=None)
    page                                   # knobs, data provenance, label; or why the page is skipped
    study = page.study(seed=0)             # train (cached) -> probes -> field matrices, clusters, noise
    page.compare(rows)                     # the paper's values beside this run's
    page.figure(plots.field_matrix(view))  # a figure of helpers.figures.plots, numbered, captioned, with its alt text
    page.claims(rows)                      # holds / does not hold

Everything a page shows goes through :class:`Shown`, which tags the notebook output with
machine-readable metadata (key :data:`META`): the build reads it back to write the results
overview and the claims ledger, so no number there is typed in by hand.

A page whose dataset is missing does not fail (DESIGN, "Conventions"): ``page.skipped`` holds
the reason, the page explains what is missing and how to get it, and every step returns
``None`` so the notebook's cells still run through and only the paper's values show.
"""

from __future__ import annotations

import base64
import functools
import html
import inspect
import json
import math
import os
import time
import uuid
from dataclasses import dataclass, field, replace

import pandas as pd
from markdown_it import MarkdownIt

from helpers.book import knobs as knobs_mod
from helpers.book import timings
from helpers.figures import style
from helpers.method import filters
from helpers.method import study as method
from helpers.reference import claims as claims_mod
from helpers.train import data as data_mod
from helpers.train import loop as train
from helpers.train import models, probes, profiles, runs
from helpers.train import taps as taps_mod
from helpers.train.data import DataNotFoundError

META = "mechanism_book"
DATASETS = ("cifar10", "cifar100", "imagenet")
PAPER_DATASET = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "imagenet": "ImageNet"}
STAND_IN = {"cifar100": "cifar10"}  # where the paper's dataset is missing, the same analysis runs on this one
HOW_TO_GET = {
    "cifar10": "torchvision downloads it where the network allows; else put `cifar10.npz` or torchvision's "
    "`cifar-10-batches-py/` in the data directory (`MECH_DATA`). The project's machines hold a lossy "
    "copy: `MECH_DATA=../shared/data`.",
    "cifar100": "torchvision downloads it where the network allows; else put `cifar100.npz` or torchvision's "
    "`cifar-100-python/` in the data directory (`MECH_DATA`, e.g. copied from "
    "https://www.cs.toronto.edu/~kriz/cifar.html). The project's machines do not have it.",
    "imagenet": "ImageNet (ILSVRC2012) comes from https://image-net.org under its terms; give the folder of its "
    "50,000 validation images, sorted into one sub-folder per class, as the `imagenet` knob. "
    "The project's machines do not have it.",
}


def skippable(*names, skipped=None):
    """The one place that decides what a skipped page computes: the decorated step returns ``skipped`` (``None``)
    when any of the named arguments (default: the first) is ``None`` or a :class:`Page` whose data is missing, so
    ``None`` flows from a skipped page through every step to its tables, figures and claims, and only the paper's
    values show. Use as ``@skippable``, ``@skippable("views", "study")`` or ``@skippable(skipped=(None, None))``."""

    def decorate(fn, names=names):
        params = list(inspect.signature(fn).parameters)
        names = names or (params[0],)

        @functools.wraps(fn)
        def step(*args, **kwargs):
            bound = dict(zip(params, args), **kwargs)
            if any(bound.get(n) is None or getattr(bound.get(n), "skipped", None) for n in names):
                return skipped
            return fn(*args, **kwargs)

        return step

    if len(names) == 1 and callable(names[0]):  # bare @skippable
        return decorate(names[0], ())
    return decorate


DYNAMICS = "training-dynamics"  # the page that watches the analysis during training (helpers.figures.training_dynamics)
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


# --- validation ----------------------------------------------------------------------------------


def check_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not allowed: choose one of {list(choices)}")


def check_taps(model: str, taps, input_size: int | None = None) -> list[str]:
    """The tap names a page analyses: ``None`` for all of the model's taps, else a checked list (a torchvision CNN's
    stages depend on the ``input_size`` it runs at)."""
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


def plain_header(name: str, namespace: dict, **values) -> Shown:
    """The header of a page without a :class:`Page` (no data, no training): its knobs checked against the
    notebook's, shown with the software and the line that reruns it."""
    line = knobs_mod.rerun_line(
        name,
        dict(
            profile=values.get("profile", "cpu"),
            **{k: v for k, v in knobs_mod.overrides(name, namespace).items() if k != "profile"},
        ),
    )
    frame = pd.DataFrame(
        [(k, repr(v)) for k, v in values.items()] + [("software", software())], columns=["knob", "value"]
    )
    return Shown(
        frame,
        f"Rerun this page (from the repository root): `{line}`\n\n"
        + timings.time_line(name, values.get("profile")),
        dict(
            header=dict(
                page=name,
                profile=values.get("profile"),
                skipped=None,
                label="",
                rerun=line,
                knobs={k: str(v) for k, v in frame.values},
            )
        ),
    )


def schedule_line(cfg: train.TrainConfig) -> str:
    """The learning-rate schedule of ``cfg`` in words, for the page's header (a departure from the papers' step
    decay where the profile takes another schedule)."""

    def one(h: train.Hyper) -> str:
        if cfg.schedule == "onecycle":
            return (
                f"one-cycle, set every step: {h.eta * cfg.cycle(0.0):g} up to {h.eta:g} over the first "
                f"{cfg.WARMUP:.0%} of the steps, then down to 0 (not the papers' step decay)"
            )
        if cfg.schedule == "linear":
            return (
                f"{h.eta:g}, down linearly to {h.eta * cfg.factor(h, cfg.epochs):g} in the last epoch (not the "
                "papers' step decay)"
            )
        if h.dt + h.offset >= cfg.epochs:
            return f"{h.eta:g} throughout (step decay, none within {cfg.epochs} epoch{'s' if cfg.epochs > 1 else ''})"
        late = (
            f" ({h.q_late:g} after epoch {h.switch})" if h.q_late is not None and h.switch is not None else ""
        )
        start = f" from epoch {h.dt + h.offset + 1}" if h.offset else ""
        every = "every epoch" if h.dt == 1 else f"every {h.dt} epochs"
        return f"{h.eta:g}, x {h.q:g}{late} {every}{start} (step decay, the papers' schedule family)"

    conv, fc = one(cfg.conv), one(cfg.fc)
    return conv if conv == fc else f"convolutions: {conv}; FC layers: {fc}"


def software() -> str:
    """The commit and library versions that produced a page, and the machine (the runs record theirs)."""
    p = runs.provenance(train.pick_device())
    commit = (
        f"commit {p['commit'][:10]}" + (" with local changes" if p["dirty"] else "")
        if p["commit"]
        else "not a git checkout"
    )
    return (
        f"{commit}; Python {p['python']}, torch {p['torch']}, torchvision {p['torchvision']}, numpy {p['numpy']}"
        + (f", CUDA {p['cuda']}, cuDNN {p['cudnn']}" if "cuda" in p else "")
        + f"; {p['device_name']}"
    )


# --- display with metadata -------------------------------------------------------------------------


@dataclass
class Shown:
    """A table (or Markdown) shown in the notebook, tagged with metadata the build reads back."""

    frame: pd.DataFrame | None = None
    markdown: str = ""
    meta: dict = field(default_factory=dict)
    more: list[tuple[str, pd.DataFrame]] = field(default_factory=list)  # further (caption, table) pairs

    def _repr_mimebundle_(self, include=None, exclude=None):
        parts_html, parts_text = [], []
        if self.markdown:
            parts_text.append(self.markdown)
        if self.frame is not None:
            parts_html.append(self.frame.to_html(index=False, float_format=_fmt, na_rep="–", escape=True))
            parts_text.append(self.frame.to_string(index=False))
        for caption, extra in self.more:
            parts_html.append(
                _md_to_html(caption) + extra.to_html(index=False, float_format=_fmt, na_rep="–")
            )
            parts_text += [caption, extra.to_string(index=False)]
        bundle = {"text/plain": "\n\n".join(parts_text)}
        if self.markdown and self.frame is None:
            bundle["text/markdown"] = self.markdown
        else:
            md = _md_to_html(self.markdown)
            bundle["text/html"] = md + "".join(parts_html)
        return bundle, {META: self.meta}


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def _fmt(v: float) -> str:
    if v != v:
        return "–"
    a = abs(v)
    return f"{v:.0f}" if a >= 1000 else f"{v:.3g}" if a >= 1 else f"{v:.3f}" if a >= 0.01 else f"{v:.2g}"


def _md_to_html(text: str) -> str:
    """Markdown (code, emphasis, links) as HTML; raw HTML in ``text`` is escaped, not passed through."""
    return MarkdownIt("commonmark", {"html": False}).render(text) if text.strip() else ""


def _json(v):
    """A JSON-able scalar (NaN and inf as None)."""
    if v is None:
        return None
    if isinstance(v, (bool, str)):
        return v
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return f if math.isfinite(f) else None


# --- the page --------------------------------------------------------------------------------------


def summary(claims_shown: Shown, timing: str = "", label: str = "") -> Shown:
    """The page's summary, written from its claims (:func:`claims_table`) so that no sentence can disagree with
    the verdicts above it: the paper claims with their verdicts and evidence, the count of our own checks."""
    records = claims_shown.meta.get("claims", [])
    page = records[0]["page"] if records else ""
    paper = [c for c in records if c.get("kind") == claims_mod.PAPER]
    own = [c for c in records if c.get("kind") in (claims_mod.CHECK, claims_mod.ADDITION)]
    if not records or records[0].get("verdict") == "skipped":
        text = "**This run:** no verdicts, the data is missing (see the top of the page)."
    else:
        n = claims_mod.counts(records)[claims_mod.PAPER]
        text = (
            (
                f"**This run's verdicts.** Of the paper's {len(paper)} claim(s) checked on this page, "
                f"{n[claims_mod.HOLDS]} hold, {n[claims_mod.FAILS]} do not hold and {n[claims_mod.UNTESTABLE]} are "
                "not testable here:\n\n"
            )
            if paper
            else "**This run's verdicts.** This page checks no claim of the paper."
        )
        text += "".join(
            f"- {c['claim']}: **{c['verdict']}**"
            + (f" ({c['reason']})" if c.get("reason") else "")
            + (f"; {c['evidence']}" if c.get("evidence") else "")
            + ".\n"
            for c in paper
        )
        if own:
            held = sum(c["verdict"] == claims_mod.HOLDS for c in own)
            text += (
                f"\nBeside them, {len(own)} check(s) of our own (consistency checks and this book's additions, "
                f"never counted as confirmations): {held} hold."
            )
            text += "".join(
                f"\n- {c['verdict']} ({c['kind']}): {c['claim']}."
                for c in own
                if c["verdict"] != claims_mod.HOLDS
            )
    if label:
        text = f"{label}\n\n{text}"
    if timing:
        text += f"\n\n{timing}"
    verdicts = [dict(claim=c.get("claim"), kind=c.get("kind"), verdict=c.get("verdict")) for c in records]
    return Shown(None, text.strip(), dict(summary=dict(page=page, verdicts=verdicts)))


def claims_table(page: str, rows: list[claims_mod.Claim], label: str = "") -> Shown:
    """Claims (:class:`helpers.reference.claims.Claim`) as a table with their kinds and verdicts, tagged for the claims ledger."""
    meta = [dict(c.record(), page=page, label=label) for c in rows]
    n = claims_mod.counts(meta)[claims_mod.PAPER]
    text = (
        f"Paper claims: {n[claims_mod.HOLDS]} hold, {n[claims_mod.FAILS]} do not hold, {n[claims_mod.UNTESTABLE]} "
        f"not testable here. {label}"
    )
    return Shown(claims_mod.frame(rows), text.strip(), dict(claims=meta))


class Page:
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
        threshold: float = filters.THRESHOLD,
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
        check_choice("rule", rule, filters.RULES)
        filters.check_threshold(threshold)
        self.name, self.profile, self.model, self.dataset = name, profile, model, dataset
        self.paper_dataset = paper_dataset or dataset
        seeds = (
            profiles.seeds(profile, model) if seeds is None else seeds
        )  # None: the profile's (trend pages)
        self.threshold, self.seeds, self.solver, self.rule = threshold, check_seeds(seeds), solver, rule
        self.device = device  # passed to every step that runs a network (no process-wide setting)
        self.knobs = {k: v for k, v in knobs.items() if v is not None}
        try:
            self.config = profiles.train_config(
                profile, model, dataset=dataset, **self.knobs
            )  # checks the knobs
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
        self._claims: Shown | None = None  # the last claims table shown (page.summary() writes from it)
        self.started = time.time()
        self._figures = 0  # figures shown so far: the next one's number
        self.imagenet = imagenet
        global _CURRENT
        _CURRENT = self  # the page a figure shown bare belongs to (one page per notebook kernel)
        if dataset == "imagenet":
            if not imagenet or not os.path.isdir(imagenet):
                self.skipped = f"no ImageNet folder: the imagenet knob is {imagenet!r}" + (
                    "" if not imagenet else ", which is not a directory here"
                )
        else:
            try:
                self.full = data_mod.load_cifar(dataset)
            except DataNotFoundError as err:
                self.skipped = str(err)
                if stand_in and dataset in STAND_IN:
                    self._stand_in(STAND_IN[dataset], str(err))

    def _stand_in(self, dataset: str, missing: str) -> None:
        """Run the page's analysis on ``dataset`` (present here) instead of the missing paper's dataset."""
        try:
            self.full = data_mod.load_cifar(dataset)
        except DataNotFoundError:
            return
        self.skipped, self.missing, self.dataset = None, missing, dataset
        self.config = profiles.train_config(self.profile, self.model, dataset=dataset, **self.knobs)

    def check_filter(self, tap: str, f: int | None) -> None:
        """A filter index within the tap's N_f filters at the page's width (checked before anything trains)."""
        if f is None:
            return
        c = self.config
        model = models.build(
            self.model,
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
                f"run on {PAPER_DATASET[self.dataset]}, not on the paper's {PAPER_DATASET[self.paper_dataset]}"
                f": not the paper's experiment"
            )
        if self.profile != "paper":
            parts.append(
                f"`{self.profile}` profile: reduced scale (width {self.config.width:g}, "
                f"{self.config.epochs} epochs), so the numbers differ from the paper's"
            )
        if self.model not in models.MODELS:
            parts.append(
                f"{self.model} is not a network of the papers: their claims are tested on it as this "
                "book's additions"
            )
        if self.rule != "greedy":
            parts.append("clusters by the order-independent rule, not the papers' greedy one")
        if self.solver != probes.DEFAULT_SOLVER:
            parts.append(f"FC layers fitted by {self.solver}, not the papers' SGD")
        text = "; ".join(parts)
        return text[0].upper() + text[1:] + "." if parts else "The paper's experiment at the paper's scale."

    def data_for(self, config=None):
        """The data of a run: CIFAR-K/N for the config's K, with its subset sizes (default: the page's config;
        another model's run brings its own, e.g. AVGG-16's 20,000 images)."""
        if self.skipped:
            return None
        c = config or self.config
        return data_mod.subset(self.full, c.K, c.n_train, c.n_test)

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
            over = {k: v for k, v in over.items() if k in ("seed", "K", "epochs", "n_train", "n_test")}
        cfg = profiles.train_config(self.profile, model or self.model, dataset=self.dataset, **over)
        if cfg.K is not None and cfg.n_train is not None and self.full is not None:
            # a training subset is sized for all N labels: a K-label run keeps as many images per label, so that a
            # sweep over K changes the labels only (universal Tables 4-6 train every K on all of its images)
            cfg = replace(cfg, n_train=max(cfg.K, cfg.n_train * cfg.K // self.full.num_classes))
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
        tap_names = check_taps(
            mdl,
            taps if taps is not None else (self.taps if mdl == self.model else None),
            self.config_for(seed, K, model, **knobs).input_size,
        )
        key = (seed, K, mdl, threshold, tuple(tap_names), tuple(sorted(knobs.items())))
        if key not in self._studies:
            run = self.run(seed, K, model, **knobs)
            chosen = [t for t in run.model.taps if t.name in tap_names]
            self._studies[key] = method.study(
                run,
                self.data_for(run.config),
                threshold=threshold,
                rule=self.rule,
                solver=self.solver,
                taps=chosen,
                device=self.device,
            )
        return self._studies[key]

    # -- display
    def _repr_mimebundle_(self, include=None, exclude=None):
        return self.header()._repr_mimebundle_(include, exclude)

    def header(self) -> Shown:
        """The knobs and data of the page, its label, and (when skipped) what is missing and how to get it."""
        rows = [
            ("page", self.name),
            ("profile", self.profile),
            ("model", self.model),
            ("dataset", self.dataset),
            ("taps", ", ".join(self.taps)),
            ("threshold", self.threshold),
            (
                "cluster rule",
                "the papers' greedy rule"
                if self.rule == "greedy"
                else "order-independent (this book's variant, not the papers')",
            ),
            ("seeds", self.seeds),
            ("probe solver", self.solver),
        ]
        rows += [(k, v) for k, v in self.knobs.items()]
        c = self.config
        rows += [
            ("width", c.width),
            ("epochs", c.epochs),
            ("learning rate", schedule_line(c)),
            ("train images", c.n_train or "all"),
            ("test images", c.n_test or "all"),
            ("input size", c.input_size or 32),
            (
                "batch norm",
                "yes, after every convolution (DESIGN allows it; the papers are silent, the group's "
                "published VGG-16 code has it)"
                if getattr(c, "batch_norm", False)
                else "no",
            ),
            *(
                [
                    (
                        "FC head",
                        f"two hidden FC layers of {models.scaled(512, c.width)} units with ReLU, then the "
                        'bias-free output layer (the papers: "3 fully connected layers"; the group\'s '
                        "published VGG-16 code: 512 -> 4096 -> 4096, no activation between them)",
                    )
                ]
                if self.model in ("vgg16", "avgg16")
                else []
            ),
            (
                "probe",
                f"{self.solver}: "
                + (
                    "the papers' SGD, 100 epochs"
                    if self.solver == "sgd"
                    else "full-batch L-BFGS to the loss's minimum"
                )
                + "; how each probe "
                "stopped: end of the page",
            ),
            ("data", self.full.provenance if self.full is not None else "–"),
            ("software", software()),
        ]
        frame = pd.DataFrame([(k, str(v)) for k, v in rows], columns=["knob", "value"])
        where = " (from the repository root)" if self.overrides is not None else ""
        text = (
            self.label()
            + f"\n\nRerun this page{where}: `{self.rerun_line()}`\n\n"
            + timings.time_line(self.name, self.profile)
        )
        if self.missing:
            text += (
                f"\n\nWhat is missing: {self.missing}\n\nHow to get it: {HOW_TO_GET[self.paper_dataset]}\n\n"
                f"`-p stand_in False` skips the page instead."
            )
        if self.skipped:
            text += (
                f"\n\nWhat is missing: {self.skipped}\n\nHow to get it: {HOW_TO_GET[self.dataset]}\n\n"
                f"Or run the same analysis on a dataset that is here, labelled as not the paper's experiment: "
                f"`-p dataset cifar10`."
            )
        meta = dict(
            page=self.name,
            profile=self.profile,
            skipped=self.skipped,
            label=self.label(),
            stand_in=self.dataset if self.missing else None,
            rerun=self.rerun_line(),
            knobs={k: str(v) for k, v in rows},
            papers_experiment=self.papers_experiment,
        )
        return Shown(frame, text, dict(header=meta))

    def rerun_line(self) -> str:
        """The shell line that reruns this page: the environment's papermill, the data and cache directories when
        set, and every knob papermill injected that differs from the notebook's default (:mod:`helpers.book.knobs`).

        A page built from Python (no ``namespace``) gives the Python call that builds it again."""
        if self.overrides is None:
            args = dict(
                model=self.model,
                dataset=self.paper_dataset if self.missing else self.dataset,
                paper_dataset=self.paper_dataset,
                taps=self.taps,
                threshold=self.threshold,
                seeds=self.seeds,
                solver=self.solver,
                rule=self.rule,
                **self.knobs,
            )
            return (
                f"pages.Page({self.name!r}, {self.profile!r}, "
                + ", ".join(f"{k}={v!r}" for k, v in args.items())
                + ")"
            )
        return knobs_mod.rerun_line(
            self.name,
            dict(profile=self.profile, **{k: v for k, v in self.overrides.items() if k != "profile"}),
        )

    def runs_used(self) -> Shown | None:
        """The cached runs this page used: key, config, data, test accuracy, wall time."""
        if self.skipped or not self._studies:
            return None
        rows, fitted = [], []
        for s in {id(s.run): s for s in self._studies.values()}.values():
            r = s.run
            rows.append(
                dict(
                    run=r.key,
                    model=r.config.model,
                    K=r.config.K,
                    seed=r.config.seed,
                    width=r.config.width,
                    epochs=r.config.epochs,
                    test_acc=r.test_acc,
                    train_minutes=r.info.get("wall_seconds", 0) / 60,
                    device=r.info.get("provenance", {}).get("device_name", r.info.get("device")),
                    commit=(r.info.get("provenance", {}).get("commit") or "–")[:10],
                )
            )
            fitted += [dict(run=r.key, tap=tap, **p.record()) for tap, p in s.probes.items()]
        return Shown(
            pd.DataFrame(rows),
            f"Cached runs under `{runs.cache_root()}/runs/`:",
            more=[
                (
                    "The FC layers (probes) and how their solver stopped (loss = mean cross-entropy + "
                    "α/2 |W|² on the training features; grad_max = its largest gradient element):",
                    pd.DataFrame(fitted).drop_duplicates(["run", "tap"]),
                )
            ],
        )

    def compare(self, rows: list[tuple], note: str = "") -> Shown:
        """``(quantity, paper, this run)`` rows as one table; ``this run`` is blank on a skipped page."""
        frame = pd.DataFrame(
            [(q, p, None if self.skipped else r) for q, p, r in rows],
            columns=["quantity", "paper", "this run"],
        )
        if self.missing:
            note = (
                f"The paper's values are from its {PAPER_DATASET[self.paper_dataset]} experiment unless a row "
                f"names another table: a different experiment from this {PAPER_DATASET[self.dataset]} run. "
                + note
            ).strip()
        meta = [dict(page=self.name, quantity=q, paper=_json(p), run=_json(r)) for q, p, r in frame.values]
        return Shown(frame, " ".join(x for x in (self.label(), note) if x), dict(results=meta))

    def claims(self, *groups: list[claims_mod.Claim] | None) -> Shown:
        """The claims checked on this run (:mod:`helpers.reference.claims`): kind, test, evidence, verdict, the paper's sentence.

        Several lists are shown as one table; ``None`` (nothing computed) skips them all.
        """
        rows = None if any(g is None for g in groups) else [r for g in groups for r in g]
        if self.skipped or rows is None:
            self._claims = Shown(
                None,
                "Claims: not checked, the data is missing (see above).",
                dict(claims=[dict(page=self.name, claim=None, verdict="skipped")]),
            )
        else:
            self._claims = claims_table(self.name, rows, self.label())
            if (
                self.profile != "paper"
                and self.name != DYNAMICS
                and any(r.kind == claims_mod.PAPER and r.verdict == claims_mod.FAILS for r in rows)
            ):
                self._claims.markdown += (
                    " Whether the paper's claims that do not hold at this reduced scale move "
                    "toward the paper's values as training grows: [the training-dynamics page]"
                    f"({DYNAMICS}.html) (VGG-16 by default, `-p model` for another network)."
                )
        return self._claims

    def summary(self) -> Shown:
        """:func:`summary` of the claims this page showed, with the minutes this page took (and its runs, once)."""
        if self._claims is None:
            raise RuntimeError("page.summary() writes from the claims: call page.claims(...) first")
        timing = f"This page ran in {_duration(time.time() - self.started)} at the `{self.profile}` profile"
        trained = sum(r.info.get("wall_seconds", 0) for r in self._runs.values())
        if self._runs:
            timing += (
                f"; the {len(self._runs)} network(s) it uses took {_duration(trained)} to train, once: they "
                "are cached and shared with the other pages"
            )
        return summary(self._claims, timing + ".", self.label())

    def table(self, frame: pd.DataFrame | None, text: str = "") -> Shown | None:
        """A result table of this run (nothing on a skipped page)."""
        if self.skipped or frame is None:
            return None
        return Shown(frame, text)

    def figure(self, fig, caption: str | None = None, alt: str | None = None, paper: str | None = None):
        """A figure of :mod:`helpers.figures.plots` (or a list of them) shown numbered and captioned: what it shows, the
        paper's figure it reproduces, the profile and scale it was built at; with its alt text. ``caption``,
        ``alt`` and ``paper`` replace the figure's own. ``None`` (a skipped page) shows a line saying why no
        figure is drawn."""
        figs = list(fig) if isinstance(fig, (list, tuple)) else [fig]
        if fig is None or not figs or any(f is None for f in figs):
            return Shown(
                None,
                "*No figure: "
                + (
                    "the data is missing (see the top of the page); the paper's values "
                    "are in the table below.*"
                    if self.skipped
                    else "nothing was computed for it.*"
                ),
            )
        return FigureShown([show_figure(f, self, caption, alt, paper) for f in figs])

    def figure_context(self) -> str:
        """The caption's last sentence: the profile and scale the figure was built at, and what the data is."""
        c = self.config
        text = f"Built at the `{self.profile}` profile" + (
            f" (width {c.width:g}, {c.epochs} epochs: reduced scale)"
            if self.profile != "paper"
            else " (the paper's scale)"
        )
        if self.synthetic:
            text += ", on SYNTHETIC data generated for tests: not a result"
        elif self.missing:
            text += (
                f", on {PAPER_DATASET[self.dataset]} standing in for the paper's "
                f"{PAPER_DATASET[self.paper_dataset]}"
            )
        elif self.dataset != self.paper_dataset:
            text += f", on {PAPER_DATASET[self.dataset]}, not the paper's {PAPER_DATASET[self.paper_dataset]}"
        return text + "."


_CURRENT: Page | None = None
_BARE = [0]  # figures shown outside any page


def show_figure(
    fig,
    page: Page | None = None,
    caption: str | None = None,
    alt: str | None = None,
    paper: str | None = None,
) -> "FigureShown":
    """One figure of :mod:`helpers.figures.plots` as a numbered, captioned :class:`FigureShown` of ``page`` (default: the
    page this notebook built last; shown bare, a figure calls this itself)."""
    page = page if page is not None else _CURRENT
    if page is not None:
        page._figures += 1
        number = page._figures
    else:
        _BARE[0] += 1
        number = _BARE[0]
    ref = paper or getattr(fig, "paper", "")
    what = caption or getattr(fig, "what", "")
    text = f"**Figure {number}.** {what}"
    if ref:
        text += f" Paper: {ref}" + (
            '; its values are drawn beside this run\'s (grey, dashed, hollow squares, marked "paper").'
            if getattr(fig, "with_paper", False)
            else "."
        )
    text += " " + (page.figure_context() if page is not None else "Drawn outside a page of the book.")
    record = dict(
        page=page.name if page is not None else None,
        number=number,
        caption=text,
        paper=ref,
        alt=alt or getattr(fig, "alt", ""),
        profile=page.profile if page is not None else None,
        kind="explorer" if hasattr(fig, "frames") else "figure",
    )
    return FigureShown([dict(record, fig=fig)])


style.SHOW[:] = [
    show_figure
]  # a figure of helpers.figures.plots displayed bare is numbered and captioned too


class FigureShown:
    """Figures shown as HTML ``<figure>`` elements: the image with its alt text, the caption (Markdown rendered)
    under it, numbered; an explorer (:class:`helpers.figures.plots.Explorer`) adds its slider. Tagged with metadata
    (``figure``: number, caption, alt, paper, per figure) the build and the tests read back."""

    def __init__(self, items: list):
        self.items = [i for x in items for i in (x.items if isinstance(x, FigureShown) else [x])]

    def _repr_mimebundle_(self, include=None, exclude=None):
        parts = [_figure_html(i) for i in self.items]
        text = "\n\n".join(i["caption"] for i in self.items)
        meta = [{k: v for k, v in i.items() if k != "fig"} for i in self.items]
        return {"text/html": "\n".join(parts), "text/plain": text}, {META: dict(figure=meta)}


def _caption_html(text: str) -> str:
    out = _md_to_html(text).strip()
    return out[3:-4] if out.startswith("<p>") and out.endswith("</p>") and out.count("<p>") == 1 else out


def _img(src: str, alt: str, width_px: int, extra: str = "") -> str:
    return (
        f'<img src="{src}" alt="{html.escape(alt, quote=True)}" width="{width_px}" '
        f'style="max-width:100%;height:auto" {extra}>'
    )


FIGURE_STYLE = "margin:1.5em 0"
CAPTION_STYLE = "text-align:left;font-size:0.9em;margin-top:0.4em"


def _figure_html(item: dict) -> str:
    fig, number = item["fig"], item["number"]
    caption = f'<figcaption style="{CAPTION_STYLE}">{_caption_html(item["caption"])}</figcaption>'
    if not hasattr(fig, "frames"):
        src = "data:image/png;base64," + base64.b64encode(fig.png()).decode()
        width = int(round(fig.get_figwidth() * 96))
        return (
            f'<figure class="mech-figure" id="figure-{number}" style="{FIGURE_STYLE}">'
            f"{_img(src, item['alt'], width)}{caption}</figure>"
        )
    uid = "explorer-" + uuid.uuid4().hex[:8]
    frames = [
        dict(
            src="data:image/png;base64," + base64.b64encode(f["png"]).decode(),
            alt=f["alt"],
            text=f["text"],
            value=f"{f['threshold']:.1f}",
        )
        for f in fig.frames
    ]
    first = frames[fig.start]
    width = int(round(fig.width * 96))
    script = (
        "(function () {"
        f"var frames = {json.dumps(frames)};"
        f"var s = document.getElementById('{uid}-slider'), img = document.getElementById('{uid}-img'),"
        f" out = document.getElementById('{uid}-value'), txt = document.getElementById('{uid}-text');"
        "function show() { var f = frames[parseInt(s.value, 10)]; img.src = f.src; img.alt = f.alt;"
        " out.textContent = f.value; txt.textContent = f.text; s.setAttribute('aria-valuetext', f.value); }"
        "s.addEventListener('input', show);"
        "})();"
    )
    return (
        f'<figure class="mech-figure mech-explorer" id="figure-{number}" style="{FIGURE_STYLE}">'
        f'<div style="display:flex;align-items:center;gap:1em;margin-bottom:0.5em">'
        f'<label for="{uid}-slider"><strong>{html.escape(fig.label)}</strong> '
        f'<output id="{uid}-value" for="{uid}-slider">{first["value"]}</output></label>'
        f'<input type="range" class="mech-explorer-slider" id="{uid}-slider" min="0" max="{len(frames) - 1}" '
        f'step="1" value="{fig.start}" aria-valuetext="{first["value"]}" style="flex:1;max-width:30em">'
        f'<span style="font-size:0.85em">{frames[0]["value"]} to {frames[-1]["value"]}</span></div>'
        f"{_img(first['src'], first['alt'], width, f'id={chr(34)}{uid}-img{chr(34)}')}"
        f'<p id="{uid}-text" aria-live="polite" style="font-size:0.9em;margin:0.3em 0">'
        f"{html.escape(first['text'])}</p>{caption}<script>{script}</script></figure>"
    )
