"""How a :class:`helpers.book.page.Page` is shown: its header (the knobs, the data and the line that reruns
it), its comparison with the paper, its claims, figures and summary (:class:`PageView`, which ``Page``
inherits), and the header of a page without data (:func:`plain_header`)."""

from __future__ import annotations

import time

import pandas as pd

from helpers.book import knobs as knobs_mod
from helpers.book import timings
from helpers.book.show import FigureShown, Shown, _duration, _json, claims_table, show_figure, summary
from helpers.figures import effnet_stand_in
from helpers.method import fields
from helpers.reference import claims as claims_mod
from helpers.reference.printed import NAME
from helpers.train import augmented, models, probes, runs
from helpers.train import loop as train

FOLDED = "Knobs, data and software of this page: its complete provenance (click to open)"
KNOBS_LINE = (
    "Every knob of the notebook's parameters cell can be overridden (`-p knob value`); "
    "`None` takes the profile's value."
)
_BATCH_NORM = (
    "yes, after every convolution (DESIGN allows it; the papers are silent, "
    "the group's published VGG-16 code has it)"
)
_FC_HEAD = (
    'two hidden FC layers of {hidden} units with ReLU, then the bias-free output layer (the papers: "3 fully '
    "connected layers\"; the group's published VGG-16 code: 512 -> 4096 -> 4096, no activation between them)"
)
PAPER_DATASET = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "imagenet": "ImageNet"}
# the page that watches the analysis during training (helpers.figures.training_dynamics)
DYNAMICS = "training-dynamics"


HOW_TO_GET = {
    "cifar10": "torchvision downloads it where the network allows; else put `cifar10.npz` or torchvision's "
    "`cifar-10-batches-py/` in the data directory (`MECH_DATA`). The project's machines hold a lossy "
    "copy: `MECH_DATA=../shared/data`.",
    "cifar100": "torchvision downloads it where the network allows; else put `cifar100.npz` or torchvision's "
    "`cifar-100-python/` in the data directory (`MECH_DATA`, e.g. copied from "
    "https://www.cs.toronto.edu/~kriz/cifar.html). The project's machines do not have it.",
    "imagenet": "ImageNet (ILSVRC2012) comes from https://image-net.org under its terms; give the "
    "folder of its "
    "50,000 validation images, sorted into one sub-folder per class, as the `imagenet` knob. "
    "The project's machines do not have it.",
}


PROBE_INPUTS = (
    "{copies} augmented copies of the training set (flips, translations up to 4 pixels) through the "
    'frozen layers, as the papers\' "In all simulations, data augmentation was used" says; α as '
    "PyTorch's weight decay on the mean loss of a mini-batch of 100 (the papers' learning rates are "
    'mean-loss rates; bench/README.md, "The probe\'s protocol")'
)


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
        f"Rerun this page (from the repository root): `{line}`. {KNOBS_LINE}\n\n"
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
    """The learning-rate schedule of ``cfg`` in words, for the page's header (a departure from the papers'
    step decay where the profile takes another schedule)."""

    def one(h: train.Hyper) -> str:
        if cfg.schedule == "onecycle":
            return (
                f"one-cycle, set every step: {h.eta * cfg.cycle(0.0):g} up to {h.eta:g} over the first "
                f"{cfg.WARMUP:.0%} of the steps, then down to 0 (not the papers' step decay)"
            )
        if cfg.schedule == "linear":
            return (
                f"{h.eta:g}, down linearly to {h.eta * cfg.factor(h, cfg.epochs):g} in the last "
                f"epoch (not the "
                "papers' step decay)"
            )
        if h.dt + h.offset >= cfg.epochs:
            plural = "s" if cfg.epochs > 1 else ""
            return f"{h.eta:g} throughout (step decay, none within {cfg.epochs} epoch{plural})"
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
        f"{commit}; Python {p['python']}, torch {p['torch']}, torchvision {p['torchvision']}, "
        f"numpy {p['numpy']}"
        + (f", CUDA {p['cuda']}, cuDNN {p['cudnn']}" if "cuda" in p else "")
        + f"; {p['device_name']}"
    )


class PageView:
    """The display half of a page: what :class:`helpers.book.page.Page` computed, shown with metadata."""

    # -- display
    def _repr_mimebundle_(self, include=None, exclude=None):
        return self.header()._repr_mimebundle_(include, exclude)

    def knob_rows(self) -> list[tuple[str, object]]:
        """The header's table: the page's knobs, its run's training configuration, the data and the
        software."""
        c = self.config
        rule = fields.RULE_NAMES[self.rule]
        rows = [
            ("page", self.name),
            ("profile", self.profile),
            ("model", self.model),
            ("dataset", self.dataset),
        ]
        rows += [("taps", ", ".join(self.taps)), ("threshold", self.threshold), ("cluster rule", rule)]
        rows += [("seeds", self.seeds), ("probe solver", self.solver), *self.knobs.items()]
        rows += [("width", c.width), ("epochs", c.epochs), ("learning rate", schedule_line(c))]
        rows += [("train images", c.n_train or "all"), ("test images", c.n_test or "all")]
        rows += [("input size", c.input_size or 32), ("batch norm", _BATCH_NORM if c.batch_norm else "no")]
        if self.model in ("vgg16", "avgg16"):
            rows.append(("FC head", _FC_HEAD.format(hidden=models.scaled(512, c.width))))
        probe = (
            f"the papers' SGD, {probes.SGD_EPOCHS} epochs (the papers give no count)"
            if self.solver == "sgd"
            else "full-batch L-BFGS to the loss's minimum"
        )
        rows.append(("probe", f"{self.solver}: {probe}; how each probe stopped: end of the page"))
        rows.append(("probe inputs", PROBE_INPUTS.format(copies=augmented.COPIES)))
        rows += [("data", self.full.provenance if self.full is not None else "–"), ("software", software())]
        return rows

    def header_text(self) -> str:
        """The header's text: the label, the line that reruns the page, its time, and what is missing
        where."""
        where = " (from the repository root)" if self.overrides is not None else ""
        text = (
            self.label()
            + f"\n\nRerun this page{where}: `{self.rerun_line()}`. {KNOBS_LINE}\n\n"
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
                f"Or run the same analysis on a dataset that is here, labelled as not the paper's "
                f"experiment: "
                f"`-p dataset cifar10`."
            )
        return text

    def header(self) -> Shown:
        """The knobs and data of the page, its label, and (when skipped) what is missing and how to get it."""
        rows = self.knob_rows()
        frame = pd.DataFrame([(k, str(v)) for k, v in rows], columns=["knob", "value"])
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
        more = []
        if effnet_stand_in.standing_in(
            self.model, self.config
        ):  # how the stand-in differs from B0 (issue 35)
            caption = f"**{effnet_stand_in.label(self.config)}**: how the two networks differ"
            more.append((caption, effnet_stand_in.comparison(self.config.model)))
        return Shown(frame, self.header_text(), dict(header=meta), more, folded=FOLDED)

    def rerun_line(self) -> str:
        """The shell line that reruns this page: the environment's papermill, the data and cache directories
        when set, and every knob papermill injected that differs from the notebook's default
        (:mod:`helpers.book.knobs`).

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
        rows, fitted = [], {}
        for s in self._studies.values():  # probes of one network may come from several studies of it
            fitted.update(
                {(s.run.key, t): dict(run=s.run.key, tap=t, **p.record()) for t, p in s.probes.items()}
            )
        for r in {s.run.key: s.run for s in self._studies.values()}.values():
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
        return Shown(
            pd.DataFrame(rows),
            f"Cached runs under `{runs.cache_root()}/runs/`:",
            more=[
                (
                    "The FC layers (probes) and how their solver stopped (loss = mean cross-entropy + "
                    "α/2 |W|² on the training features; grad_max = its largest gradient element):",
                    pd.DataFrame(list(fitted.values())),
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
                f"The paper's values are from its {PAPER_DATASET[self.paper_dataset]} experiment "
                f"unless a row "
                f"names another table: a different experiment from this {PAPER_DATASET[self.dataset]} run. "
                + note
            ).strip()
        meta = [dict(page=self.name, quantity=q, paper=_json(p), run=_json(r)) for q, p, r in frame.values]
        return Shown(frame, " ".join(x for x in (self.label(), note) if x), dict(results=meta))

    def show(self, frame: pd.DataFrame, text: str = "") -> Shown:
        """A table that is shown on every page, skipped or not (the paper's own numbers, computed from its
        tables)."""
        return Shown(frame, text)

    def claims(self, *groups: list[claims_mod.Claim] | None) -> Shown:
        """The claims checked on this run (:mod:`helpers.reference.claims`): kind, test, evidence, verdict,
        the paper's sentence.

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
            claims_mod.on(list(getattr(self, "_runs", {})), rows)  # records that name no network: the page's
            if effnet_stand_in.standing_in(
                self.model, self.config
            ):  # decided on the stand-in, which the evidence names
                for r in rows:
                    r.evidence = f"{r.evidence} (on {NAME[self.config.model]}, the stand-in for B0)"
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
        """:func:`summary` of the claims this page showed, with the minutes this page took (and its runs,
        once)."""
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
        """A figure of :mod:`helpers.figures.plots` (or a list of them) shown numbered and captioned: what it
        shows, the paper's figure it reproduces, the profile and scale it was built at; with its alt text.
        ``caption``, ``alt`` and ``paper`` replace the figure's own. ``None`` (a skipped page) shows a line
        saying why no figure is drawn."""
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
        """The caption's last sentence: the profile and scale the figure was built at, and what the data
        is."""
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

    def next_figure_number(self) -> int:
        """The number of the next figure this page shows (one counter per page)."""
        self._figures += 1
        return self._figures
