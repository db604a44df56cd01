"""Build the book: execute every notebook with papermill, write the results overview, render HTML.

    python -m helpers build [--profile cpu] [-p knob value ...] [--only NAME ...] [--jobs N] [--no-html]

Each notebook runs in its own process (papermill and its kernel), ``--jobs`` at a time (default: one
per two cores); on a machine with several GPUs each of the ``--jobs`` slots gets its own
(``CUDA_VISIBLE_DEVICES``, round robin when there are more slots than GPUs). Its page is written to
``book/generated/<name>.ipynb`` through a uniquely named temporary file and renamed into place, with
a key (notebook source, parameters, helpers' source, data files) beside it: an unchanged notebook is
not executed again. Ctrl-C or SIGTERM stops the build within seconds (kernels shut down, temporary
files removed) and the next build resumes where it stopped. A failing notebook (a cell's error, a
dead kernel) names itself and its failing cell, keeps its last good page marked stale, and the
others still build; the command exits non-zero. A notebook whose dataset is missing renders a
skipped page and is listed as skipped. One build at a time per book root; a ``-p`` knob that no
chosen notebook declares is an error.
Then ``book/generated/overview.md`` gathers every number and claim the pages tagged (the
metadata of :class:`helpers.book.show.Shown`), and Jupyter Book 1 renders HTML with Sphinx
warnings as errors.
"""

from __future__ import annotations

import argparse
import ast
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from helpers.book import timings
from helpers.book.colab import write_colab
from helpers.book.execute import Job, finish, launch, stop, stop_processes, visible_gpus
from helpers.book.generated import cached_status, generated_dir, notebook_key, placeholder
from helpers.book.knobs import defaults
from helpers.book.overview import write_overview
from helpers.infra.locks import LockHeld, owned_lock
from helpers.infra.paths import book_root, cache_root, notebooks_dir

PROFILES = (
    "smoke",
    "cpu",
    "paper",
)  # = helpers.train.profiles.PROFILES (not imported: it pulls in torch; tested)


def parse_value(text: str):
    """``-p epochs 3`` gives 3, ``-p models "['vgg16']"`` a list; anything else stays a string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def positive(text: str) -> int:
    """An argparse type: an integer >= 1."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {n}")
    return n


def knob_values(notebooks: list[Path], given: list[tuple[str, str]]) -> dict[Path, dict]:
    """The ``-p`` knobs each notebook gets (those it declares); a knob no chosen notebook declares is a
    ValueError."""
    declared = {p: defaults(p) for p in notebooks}
    known = sorted(set().union(*declared.values())) if declared else []
    unknown = sorted({k for k, _ in given} - set(known))
    if unknown:
        raise ValueError(
            f"unknown knob(s) {unknown}: the chosen notebooks declare {known} (each notebook's "
            'parameters cell; the README\'s "Rerun one notebook" says which knobs each profile exposes)'
        )
    return {p: {k: parse_value(v) for k, v in given if k in declared[p]} for p in notebooks}


# --- the command -------------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default=os.environ.get("PROFILE", "cpu"), choices=PROFILES)
    ap.add_argument(
        "-p",
        nargs=2,
        action="append",
        default=[],
        metavar=("KNOB", "VALUE"),
        help="override a knob of every notebook that declares it",
    )
    ap.add_argument("--only", nargs="*", help="notebook names (without .ipynb) to execute")
    ap.add_argument(
        "--jobs",
        type=positive,
        default=os.environ.get("JOBS", str(max(1, (os.cpu_count() or 2) // 2))),
        help="notebooks executed at once (default: $JOBS, else one per two cores)",
    )
    ap.add_argument("--no-html", action="store_true", help="execute the notebooks only")
    return ap


def main(argv=None) -> int:
    ap = _parser()
    args = ap.parse_args(argv)
    if args.profile not in PROFILES:  # argparse does not check a default (here $PROFILE)
        ap.error(f"argument --profile: invalid choice: {args.profile!r} (choose from {', '.join(PROFILES)})")
    if any(k == "profile" for k, _ in args.p):
        ap.error("the profile is chosen with --profile (or PROFILE=...), not -p profile")
    notebooks = sorted(notebooks_dir().glob("*.ipynb"))
    unknown = sorted(set(args.only or []) - {p.stem for p in notebooks})
    if unknown:
        ap.error(f"unknown notebook(s) {unknown}: choose from {[p.stem for p in notebooks]}")
    todo = [p for p in notebooks if not args.only or p.stem in args.only]
    try:
        knobs = knob_values(todo, args.p)
    except ValueError as err:
        ap.error(str(err))
    out_dir = generated_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    if args.profile == "paper":
        warn_paper_on_cpu(dict(args.p).get("device"))
    try:  # one build at a time per book root: a second one stops at once and names the first
        with owned_lock(out_dir / ".build.lock", wait=False):
            return _build(args, notebooks, todo, knobs)
    except LockHeld as held:
        print(
            f"error: another build of this book is running ({held}); wait for it to end, or stop it (Ctrl-C "
            "in its terminal), then run this one again",
            file=sys.stderr,
        )
        return 3


def warn_paper_on_cpu(device: str | None = None) -> None:
    """The ``paper`` profile trains for days on a CPU: say so before anything starts."""
    import torch

    if device == "cpu" or not torch.cuda.is_available():
        print(
            "warning: profile paper on a machine without a GPU. It trains the papers' networks at full width "
            "for 200-280 epochs each: weeks on a CPU (each run prints its projected time when it starts). "
            "Use --profile cpu here, or a GPU; Ctrl-C stops the build and the next one resumes.",
            file=sys.stderr,
            flush=True,
        )


class Signals:
    """Ctrl-C and SIGTERM set a flag the build's loop checks (also when the build was started in the
    background, where SIGINT is ignored); nothing is interrupted half-way through a step, and a second signal
    changes nothing."""

    def __init__(self):
        self.received: list[int] = []

    def __enter__(self):
        self.previous = {
            sig: signal.signal(sig, lambda signum, frame: self.received.append(signum))
            for sig in (signal.SIGINT, signal.SIGTERM)
        }
        return self

    def __exit__(self, *exc):
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


def sweep_temporary() -> None:
    """Remove what a killed build left (its temporary notebooks, parameters, logs); called with the build lock
    held."""
    for f in generated_dir().glob(".*.running.*"):
        f.unlink(missing_ok=True)


class Schedule:
    """The notebooks of one build: those waiting, those running (each in one of the ``--jobs`` slots, on its
    own GPU where there are several), and what each came to."""

    def __init__(self, pending: list[tuple[Path, dict]], jobs: int, profile: str | None = None):
        self.pending, self.total, self.jobs = pending, len(pending), jobs
        # the pages' measured times go to book/page-times.json (helpers.book.timings) at the cpu profile
        self.timed = profile if profile == "cpu" else None
        self.empty_cache = not any((cache_root() / "runs").glob("*"))
        self.running: list[Job] = []
        self.statuses: dict[str, str] = {}
        self.failures: list[tuple[str, str]] = []
        self.t_start = time.time()
        self.gpus = visible_gpus() if jobs > 1 else []
        self.free = list(range(jobs))  # the slots no notebook runs in

    def run(self, signals: Signals) -> int | None:
        """Execute every pending notebook, ``jobs`` at a time; 130 when a signal stopped the build."""
        try:
            while self.pending or self.running:
                if signals.received:
                    return self.interrupted()
                self.start_pending()
                for job in self.running:
                    job.echo()
                self.collect_finished()
                time.sleep(0.2)
        except BaseException:
            stop(
                self.running
            )  # whatever went wrong in the build itself, no notebook is left running unsupervised
            raise
        return None

    def start_pending(self) -> None:
        """Fill the free slots: a notebook whose page is in place under its key is reported at once."""
        while self.pending and len(self.running) < self.jobs:
            path, params = self.pending.pop(0)
            try:
                key = notebook_key(path, params)
                status = cached_status(path, key)
                if status:
                    self.report(path.stem, status, "", 0)
                else:
                    slot = self.free.pop(0)
                    try:
                        self.running.append(launch(path, params, key, slot, self.gpus))
                    except Exception:
                        self.free.append(slot)
                        raise
            except Exception as err:  # the notebook cannot even start: it fails, the others go on
                self.report(path.stem, "failed", f"{type(err).__name__}: {err}", 0)

    def collect_finished(self) -> None:
        """Put the pages of the notebooks that ended in place (:func:`helpers.book.execute.finish`)."""
        for job in [j for j in self.running if j.proc.poll() is not None]:
            self.running.remove(job)
            self.free.append(job.slot)
            try:
                status, detail = finish(job, job.proc.returncode)
            except Exception as err:
                status, detail = "failed", f"{type(err).__name__}: {err}"
            self.report(job.path.stem, status, detail, time.time() - job.started)

    def report(self, name: str, status: str, detail: str, seconds: float) -> None:
        self.statuses[name] = status
        brief = detail if status == "failed" else detail.split(":")[0]  # a skipped page's reason, in short
        print(
            f"[{len(self.statuses)}/{self.total}] {name}: {status} ({seconds:.0f} s; "
            f"{time.time() - self.t_start:.0f} s in all){' - ' + brief if brief else ''}",
            flush=True,
        )
        if status == "failed":
            self.failures.append((name, detail))
        if status == "ran" and self.timed:
            timings.record(self.timed, name, seconds, order=len(self.statuses), empty_cache=self.empty_cache)

    def interrupted(self) -> int:
        print(f"interrupted: stopping {len(self.running)} running notebook(s)", file=sys.stderr, flush=True)
        stop(self.running)
        left = [j.path.stem for j in self.running] + [p.stem for p, _ in self.pending]
        print(
            f"stopped. Not finished: {left}. Nothing half-written is left; run the build again to resume "
            f"(trained epochs are kept in the run cache).",
            file=sys.stderr,
            flush=True,
        )
        return 130


def _build(args, notebooks: list[Path], todo: list[Path], knobs: dict[Path, dict]) -> int:
    out_dir = generated_dir()
    sweep_temporary()
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 2) // args.jobs)))
    for p in notebooks:
        if not (out_dir / f"{p.stem}.ipynb").is_file() and not (out_dir / f"{p.stem}.md").is_file():
            placeholder(
                p.stem, f"Not executed yet: run `make book` (or `python -m helpers build --only {p.stem}`)."
            )
    schedule = Schedule([(p, {"profile": args.profile, **knobs[p]}) for p in todo], args.jobs, args.profile)
    gpus = schedule.gpus
    print(
        f"executing {len(todo)} notebooks at profile {args.profile}, {args.jobs} at a time"
        + (f", each slot on its own GPU of {', '.join(gpus)}" if len(gpus) >= 2 else ""),
        flush=True,
    )
    with Signals() as signals:
        stopped = schedule.run(signals)
        if stopped is not None:
            return stopped
        statuses = schedule.statuses
        for p in notebooks:
            statuses.setdefault(p.stem, "not run")
        write_overview(args.profile, statuses)
        write_colab()  # what each page costs in Colab, from book/page-times.json
        counts = {s: sum(v == s for v in statuses.values()) for s in ("ran", "cached", "skipped", "failed")}
        print(
            "summary: "
            + ", ".join(f"{v} {k}" for k, v in counts.items())
            + "".join(f"\n  skipped {n}" for n, s in statuses.items() if s == "skipped"),
            flush=True,
        )
        rc = 0
        if not args.no_html:
            rc = _render_html(signals)
            if rc is None:
                return 130
    for name, detail in schedule.failures:
        kept = (out_dir / f"{name}.ipynb").is_file()
        print(
            f"FAILED notebook {name}: {detail}"
            + (" (its last good page is kept, marked stale)" if kept else ""),
            file=sys.stderr,
        )
    return 1 if schedule.failures or rc else 0


def _render_html(signals: Signals) -> int | None:
    """Jupyter Book renders the pages as HTML (Sphinx warnings as errors); its exit status, or ``None`` when
    a signal stopped it."""
    jb = Path(sys.executable).parent / "jupyter-book"
    html = subprocess.Popen(
        [str(jb), "build", str(book_root()), "--warningiserror", "--nitpick", "--keep-going"]
    )
    while html.poll() is None:
        if signals.received:
            stop_processes([html])
            print(
                "interrupted while rendering HTML: run the build again (pages are in place)",
                file=sys.stderr,
                flush=True,
            )
            return None
        time.sleep(0.2)
    return html.returncode


if __name__ == "__main__":
    sys.exit(main())
