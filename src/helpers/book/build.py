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
metadata of :class:`helpers.book.page.Shown`), and Jupyter Book 1 renders HTML with Sphinx
warnings as errors.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from helpers.book import overview  # matplotlib and pandas, no torch: the overview's figures
from helpers.book.knobs import defaults
from helpers.infra.cache import LockHeld, owned_lock
from helpers.infra.paths import book_root, data_dir, notebooks_dir

ROOT = Path(__file__).resolve().parents[3]
META = "mechanism_book"  # = helpers.book.page.META (not imported: pages pulls in torch)
TARGET = re.compile(r"\(\S+\)=")  # a MyST target line, "(label)=": each notebook's title carries its page's


def generated_dir() -> Path:
    """Where executed notebooks go: ``book/generated`` under the book's root."""
    return book_root() / "book" / "generated"


def helpers_version() -> str:
    h = hashlib.sha256()
    for p in sorted((ROOT / "src" / "helpers").rglob("*.py")):
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


def data_version() -> str:
    """Names, sizes and modification times of the data files (a changed dataset re-executes the pages)."""
    root = data_dir()
    files = sorted(root.glob("*.npz")) + sorted(root.glob("cifar-*/*")) if root.is_dir() else []
    return json.dumps([(str(p), p.stat().st_size, int(p.stat().st_mtime)) for p in files])


def notebook_key(path: Path, parameters: dict) -> str:
    h = hashlib.sha256(path.read_bytes())
    h.update(json.dumps(parameters, sort_keys=True).encode())
    h.update(helpers_version().encode())
    h.update(data_version().encode())
    return h.hexdigest()[:16]


def parse_value(text: str):
    """``-p epochs 3`` gives 3, ``-p models "['vgg16']"`` a list; anything else stays a string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def placeholder(name: str, why: str) -> None:
    """A stand-in page for a notebook that has not run (or failed), so the book still builds."""
    out = generated_dir()
    (out / f"{name}.md").write_text(f"# {name}\n\n{why}\n")


def _write_json(obj, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(obj, indent=1, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def run_notebook(source: str, output: str, parameters_file: str) -> None:
    """The child process of one notebook: papermill with the parameters in ``parameters_file`` (JSON).

    Exits 0 on success, 1 with a line ``FAILED: <what>`` on stderr when a cell raised or the kernel died (also
    when the build stops it: nbclient then shuts its kernel down and reports it dead), 130 when interrupted before
    the kernel started.
    """
    import papermill as pm

    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)  # also when started in the background, where SIGINT is ignored
    parameters = json.loads(Path(parameters_file).read_text())
    try:
        pm.execute_notebook(
            source,
            output,
            parameters=parameters,
            kernel_name="python3",
            progress_bar=False,
            cwd=str(ROOT),
            stderr_file=sys.stderr,
        )  # the kernel's stderr: the build echoes warnings
    except pm.PapermillExecutionError as err:
        print(
            f"FAILED: cell {err.cell_index} (execution count {err.exec_count}): {err.ename}: {err.evalue}",
            file=sys.stderr,
            flush=True,
        )
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as err:  # a dead kernel, a kernel that would not start, an unreadable notebook
        print(f"FAILED: {type(err).__name__}: {err}".strip(), file=sys.stderr, flush=True)
        sys.exit(1)


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def positive(text: str) -> int:
    """An argparse type: an integer >= 1."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {n}")
    return n


@dataclass
class Job:
    """One notebook executing in its own process (so that a dead kernel or Ctrl-C cannot take the build with it)."""

    path: Path
    key: str
    tmp: (
        Path  # the executed notebook, written by papermill under a unique name, renamed into place at the end
    )
    proc: subprocess.Popen
    slot: int = 0  # which of the --jobs slots runs it (and so which GPU, where there are several)
    started: float = field(default_factory=time.time)
    read: int = 0  # how far the build has read the log (:meth:`echo`)

    def echo(self) -> None:
        """Print the new lines of the notebook's log that a user must see now: warnings (a run projected to take
        days) and waits (for a lock another notebook holds)."""
        log = self.tmp.with_suffix(".log")
        with contextlib.suppress(OSError), open(log, "rb") as f:
            f.seek(self.read)
            text = f.read()
            end = max(text.rfind(b"\n"), text.rfind(b"\r")) + 1  # whole lines only
            self.read += end
            for line in text[:end].decode(errors="replace").replace("\r", "\n").splitlines():
                if "Warning: " in line or "waiting for the lock" in line:
                    print(f"  {self.path.stem}: {line.strip()}", flush=True)

    @property
    def files(self) -> list[Path]:
        return [self.tmp, self.tmp.with_suffix(".json"), self.tmp.with_suffix(".log")]


def cached_status(path: Path, key: str) -> str | None:
    """'cached' or 'skipped' when the notebook's page is in place under ``key``; else ``None``."""
    out_dir = generated_dir()
    out, key_file = out_dir / f"{path.stem}.ipynb", out_dir / f"{path.stem}.key"
    if out.is_file() and key_file.is_file() and key_file.read_text() == key:
        try:
            return "skipped" if skipped_reason(out) else "cached"
        except ValueError:  # a damaged page: execute the notebook again
            return None
    return None


def visible_gpus() -> list[str]:
    """The GPUs this build may hand out: ``$CUDA_VISIBLE_DEVICES`` when set, else those ``nvidia-smi -L`` lists
    (no torch here: the build stays light)."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [g.strip() for g in env.split(",") if g.strip() and g.strip() != "-1"]
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return []
    return (
        [str(i) for i, line in enumerate(out.stdout.splitlines()) if line.startswith("GPU ")]
        if out.returncode == 0
        else []
    )


def slot_env(slot: int, gpus: list[str]) -> dict:
    """The environment of a notebook in ``slot``: with two GPUs or more, ``CUDA_VISIBLE_DEVICES`` names its own one
    (round robin), so ``--jobs N`` notebooks train and probe on N GPUs side by side; else the build's own."""
    env = dict(os.environ)
    if len(gpus) >= 2:
        env["CUDA_VISIBLE_DEVICES"] = gpus[slot % len(gpus)]
    return env


def launch(path: Path, parameters: dict, key: str, slot: int = 0, gpus: list[str] = ()) -> Job:
    """Start executing ``path`` with ``parameters`` in a child process, on ``slot``'s GPU (:func:`slot_env`)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".running.ipynb", dir=generated_dir())
    os.close(fd)
    tmp = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; the page it becomes is not
    tmp.with_suffix(".json").write_text(json.dumps(parameters))
    with open(tmp.with_suffix(".log"), "w") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from helpers.book.build import run_notebook; run_notebook(*sys.argv[1:])",
                str(path),
                str(tmp),
                str(tmp.with_suffix(".json")),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env=slot_env(slot, list(gpus)),
        )
    return Job(path, key, tmp, proc, slot)


def finish(job: Job, rc: int) -> tuple[str, str]:
    """Put a finished notebook's page in place; returns (status, detail): 'ran', 'skipped' or 'failed'.

    A failed notebook keeps its last good page, marked stale (:func:`mark_stale`), and its key is removed so that
    the next build tries it again; the failed execution is kept beside it as ``<name>.failed.ipynb``.
    """
    out_dir, name = generated_dir(), job.path.stem
    out, key_file, failed = (
        out_dir / f"{name}.ipynb",
        out_dir / f"{name}.key",
        out_dir / f"{name}.failed.ipynb",
    )
    try:
        if rc == 0:
            nb = json.loads(job.tmp.read_text())  # complete and readable
            for cell in nb[
                "cells"
            ]:  # the header lists every knob; papermill's cell would repeat the parameters
                tags = cell.setdefault("metadata", {}).setdefault("tags", [])
                if "injected-parameters" in tags and "remove-cell" not in tags:
                    tags.append("remove-cell")
            key_file.unlink(missing_ok=True)  # the key is written only after the notebook is in place
            _write_json(nb, out)
            key_file.write_text(job.key)
            failed.unlink(missing_ok=True)
            (out_dir / f"{name}.md").unlink(missing_ok=True)
            reason = skipped_reason(out)
            return ("skipped", reason) if reason else ("ran", "")
        log = (
            job.tmp.with_suffix(".log").read_text(errors="replace")
            if job.tmp.with_suffix(".log").is_file()
            else ""
        )
        lines = [ln for ln in log.splitlines() if ln.strip()]
        detail = next(
            (ln[len("FAILED: ") :] for ln in reversed(lines) if ln.startswith("FAILED: ")),
            lines[-1] if lines else f"the notebook's process ended with exit status {rc}",
        )
        if job.tmp.is_file() and job.tmp.stat().st_size:
            os.replace(job.tmp, failed)
            detail += (
                f"; see {failed.relative_to(book_root()) if failed.is_relative_to(book_root()) else failed}"
            )
        key_file.unlink(missing_ok=True)
        if out.is_file():
            mark_stale(out, detail)
        else:
            placeholder(name, f"This notebook failed in the last build: {detail}")
        return "failed", detail
    finally:
        for f in job.files:
            f.unlink(missing_ok=True)


STALE = "stale-page"  # the tag of the banner cell, and the notebook metadata key of a stale page


def mark_stale(page: Path, detail: str) -> None:
    """Keep the last good page of a notebook that failed, with a banner that says it is stale and why."""
    nb = json.loads(page.read_text())
    nb["cells"] = [c for c in nb["cells"] if STALE not in c.get("metadata", {}).get("tags", [])]
    when = time.strftime("%Y-%m-%d %H:%M")
    text = detail.replace("`", "'")
    banner = {
        "cell_type": "markdown",
        "metadata": {"tags": [STALE]},
        "source": [
            "```{warning}\n",
            f"**This page is stale.** Its notebook failed in the build of {when}: {text}. What follows is the page of "
            "the last build that succeeded. Fix the cause and run `make book` again: the page is rebuilt.\n",
            "```",
        ],
    }
    if any("id" in c for c in nb["cells"]):
        banner["id"] = STALE
    at = 1 if nb["cells"] and nb["cells"][0]["cell_type"] == "markdown" else 0  # below the title
    nb["cells"].insert(at, banner)
    nb.setdefault("metadata", {})[STALE] = dict(failed=when, detail=detail)
    _write_json(nb, page)


def stop(jobs: list[Job], grace: float = 5.0) -> None:
    """Stop running notebooks (:func:`stop_processes`) and remove their temporary files (the run cache keeps
    every finished epoch, so the next build resumes)."""
    stop_processes([job.proc for job in jobs], grace)
    for job in jobs:
        for f in job.files:
            f.unlink(missing_ok=True)


def stop_processes(children: list[subprocess.Popen], grace: float = 5.0) -> None:
    """SIGINT to each child and all its descendants (a kernel runs in its own session, so a terminal's Ctrl-C does
    not reach it), then SIGKILL whatever is left after ``grace`` seconds."""
    import psutil

    procs = []
    for child in children:
        try:
            parent = psutil.Process(child.pid)
            procs += [parent] + parent.children(recursive=True)
        except psutil.NoSuchProcess:
            pass
    for p in procs:
        with contextlib.suppress(psutil.Error):
            p.send_signal(signal.SIGINT)
    _, alive = psutil.wait_procs(procs, timeout=grace)
    for p in alive:
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(alive, timeout=grace)
    for child in children:
        child.wait()


# --- reading the executed notebooks back -----------------------------------------------------------


def page_metadata(path: Path) -> dict:
    """The metadata helpers.book.page attached to a notebook's outputs, merged by kind, and its title."""
    try:
        nb = json.loads(path.read_text())
    except ValueError as err:
        raise ValueError(
            f"executed page {path} is not a readable notebook ({err}); delete it and its .key "
            f"file, then build again"
        ) from err
    found: dict = {"title": path.stem, "stale": nb.get("metadata", {}).get(STALE)}
    for cell in nb["cells"]:
        if (
            cell["cell_type"] == "markdown" and found["title"] == path.stem
        ):  # the first heading, past its label
            lines = [
                t
                for t in "".join(cell["source"]).splitlines()
                if t.strip() and not TARGET.fullmatch(t.strip())
            ]
            first = lines[0] if lines else ""
            if first.startswith("# "):
                found["title"] = first[2:].strip()
        for o in cell.get("outputs", []):
            for kind, v in o.get("metadata", {}).get(META, {}).items():
                if isinstance(v, list):
                    found.setdefault(kind, []).extend(v)
                else:
                    found.setdefault(kind, []).append(v)
    return found


def skipped_reason(path: Path) -> str:
    headers = page_metadata(path).get("header", [])
    return headers[0].get("skipped") or "" if headers else ""


def _cell(v) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.4g}"
    # "$" would start MyST math: the quotes hold the papers' TeX fragments, which are shown as typed
    return str(v).replace("|", "\\|").replace("\n", " ").replace("$", "\\$")


def _short(title: str) -> str:
    """A page title fit for a link text (no markdown emphasis, no role-breaking characters)."""
    return title.replace("*", "").replace("`", "").replace("<", "").replace(">", "")


KINDS = (
    "paper claim",
    "consistency check",
    "this book's addition",
)  # = helpers.reference.claims.KINDS (no torch import here)
VERDICTS = ("holds", "does not hold", "not testable here")


def _ledger(rows: list[tuple[str, str, dict]], quote: bool) -> list[str]:
    head = "| page | claim | verdict | test | evidence |" + (" the paper says |" if quote else "")
    lines = [head, "|" + " --- |" * (6 if quote else 5)]
    for name, title, c in rows:
        verdict = f"**{c['verdict']}**" + (f" ({_cell(c['reason'])})" if c.get("reason") else "")
        cells = [
            f"{{doc}}`{_short(title)} <{name}>`",
            _cell(c.get("claim")),
            verdict,
            _cell(c.get("test")),
            _cell(c.get("evidence")),
        ]
        if quote:
            cells.append(f"{_cell(c.get('where'))}: “{_cell(c.get('quote'))}”" if c.get("quote") else "–")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def overview_figure(name: str, title: str, rows: list[dict]) -> list[str]:
    """A page's per-layer numbers drawn, the paper's beside this run's (:func:`helpers.figures.plots.overview_figure`), as a
    MyST figure of ``overview.md`` (its PNG in ``overview-figures/``); no lines when the page has none to draw."""
    fig = overview.overview_figure(name, title, rows)
    if fig is None:
        return []
    folder = generated_dir() / "overview-figures"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.png").write_bytes(fig.png())
    one_line = lambda t: " ".join(str(t).replace("$", "").split())
    return [
        f"```{{figure}} overview-figures/{name}.png",
        f":alt: {one_line(fig.alt)}",
        f":name: overview-{name}",
        f":width: {round(fig.get_figwidth() * 96)}px",
        "",
        one_line(fig.what),
        "```",
        "",
    ]


def write_overview(profile: str, statuses: dict[str, str]) -> Path:
    """``overview.md``: the claims ledger (paper claims by verdict first, then our consistency checks and additions)
    and every number the pages compared with the papers."""
    out = generated_dir() / "overview.md"
    pages, unreadable = [], []
    for name in sorted(statuses):
        nb = generated_dir() / f"{name}.ipynb"
        if nb.is_file():
            try:
                pages.append((name, page_metadata(nb)))
            except ValueError as err:
                unreadable.append(str(err))
    claims = [(name, m["title"], c) for name, m in pages for c in m.get("claims", [])]
    skipped = sorted({name for name, _, c in claims if c.get("verdict") == "skipped"})
    by_kind = {k: [x for x in claims if x[2].get("kind") == k] for k in KINDS}
    count = {k: {v: sum(c["verdict"] == v for _, _, c in by_kind[k]) for v in VERDICTS} for k in KINDS}
    paper_counts = count[KINDS[0]]
    lines = [
        "# Results overview and claims ledger",
        "",
        f"Generated by the build from the executed pages (profile `{profile}`, {time.strftime('%Y-%m-%d %H:%M')}); "
        "nothing here is typed in. Each row links to its page, which shows the profile, the knobs and the data.",
        "",
        f"**Paper claims: {paper_counts['holds']} hold, {paper_counts['does not hold']} do not hold, "
        f"{paper_counts['not testable here']} are not testable here**, over {len(pages)} pages"
        + (f" ({len(skipped)} skipped: data missing)" if skipped else "")
        + ". "
        "A claim is *not testable here* when a precondition computed on the run fails (too few labels for it, a "
        "network below 0.8 of the paper's accuracy for the experiment, a confounded comparison): the run cannot "
        "decide it either way. At a reduced profile a claim that does not hold is a statement about this scale, "
        "not about the paper: each page says how its run differs from the paper's experiment.",
        "",
        f"Beside them, not counted as confirmations: {sum(count['consistency check'].values())} consistency checks of "
        f"our own arithmetic ({count['consistency check']['holds']} hold) and "
        f"{sum(count[KINDS[2]].values())} checks this book adds ({count[KINDS[2]]['holds']} hold).",
        "",
        "## Paper claims",
        "",
    ]
    for verdict in VERDICTS:
        rows = [x for x in by_kind["paper claim"] if x[2]["verdict"] == verdict]
        if rows:
            lines += [f"### {verdict.capitalize()} ({len(rows)})", ""] + _ledger(rows, quote=True) + [""]
    lines += ["## This book's additions", ""] + _ledger(by_kind["this book's addition"], quote=False) + [""]
    lines += ["## Consistency checks (our own arithmetic: shown, never counted)", ""]
    lines += _ledger(by_kind["consistency check"], quote=False) + [""]
    if unreadable:
        lines[4:4] = [
            "```{warning}",
            "Pages left out, unreadable: " + "; ".join(map(_cell, unreadable)),
            "```",
            "",
        ]
    stale = [(name, m["stale"]) for name, m in pages if m.get("stale")]
    if stale:
        lines[4:4] = [
            "```{warning}",
            f"{len(stale)} page(s) are stale: their notebook failed in the last build and "
            "they show the results of the build before (see each page's banner): "
            + ", ".join(f"{{doc}}`{n} <{n}>` ({_cell(s['failed'])})" for n, s in stale)
            + ".",
            "```",
            "",
        ]
    if skipped:
        lines += ["## Skipped pages", ""] + [f"- {{doc}}`{n} <{n}>`: data missing" for n in skipped] + [""]
    lines += ["## Every reproduced number beside the paper's", ""]
    for name, m in pages:
        rows = m.get("results", [])
        if not rows:
            continue
        label = (m.get("header") or [{}])[0].get("label", "")
        lines += [f"### {m['title']}", "", f"{{doc}}`Open the page <{name}>`. {label}", ""]
        lines += overview_figure(name, m["title"], rows)
        lines += ["| quantity | paper | this run |", "| --- | --- | --- |"]
        lines += [f"| {_cell(r['quantity'])} | {_cell(r['paper'])} | {_cell(r['run'])} |" for r in rows]
        lines.append("")
    tmp = out.with_suffix(".md.tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, out)
    return out


# --- the command -------------------------------------------------------------------------------------

PROFILES = (
    "smoke",
    "cpu",
    "paper",
)  # = helpers.train.profiles.PROFILES (not imported: it pulls in torch; tested)


def knob_values(notebooks: list[Path], given: list[tuple[str, str]]) -> dict[Path, dict]:
    """The ``-p`` knobs each notebook gets (those it declares); a knob no chosen notebook declares is a ValueError."""
    declared = {p: defaults(p) for p in notebooks}
    known = sorted(set().union(*declared.values())) if declared else []
    unknown = sorted({k for k, _ in given} - set(known))
    if unknown:
        raise ValueError(
            f"unknown knob(s) {unknown}: the chosen notebooks declare {known} (each notebook's "
            'parameters cell; the README\'s "Rerun one notebook" says which knobs each profile exposes)'
        )
    return {p: {k: parse_value(v) for k, v in given if k in declared[p]} for p in notebooks}


def main(argv=None) -> int:
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
            f"error: another build of this book is running ({held}); wait for it to end, or stop it (Ctrl-C in "
            "its terminal), then run this one again",
            file=sys.stderr,
        )
        return 3


def warn_paper_on_cpu(device: str | None = None) -> None:
    """The ``paper`` profile trains for days on a CPU: say so before anything starts."""
    import torch

    if device == "cpu" or not torch.cuda.is_available():
        print(
            "warning: profile paper on a machine without a GPU. It trains the papers' networks at full width for "
            "200-280 epochs each: weeks on a CPU (each run prints its projected time when it starts). Use "
            "--profile cpu here, or a GPU; Ctrl-C stops the build and the next one resumes.",
            file=sys.stderr,
            flush=True,
        )


class Signals:
    """Ctrl-C and SIGTERM set a flag the build's loop checks (also when the build was started in the background,
    where SIGINT is ignored); nothing is interrupted half-way through a step, and a second signal changes nothing."""

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
    """Remove what a killed build left (its temporary notebooks, parameters, logs); called with the build lock held."""
    for f in generated_dir().glob(".*.running.*"):
        f.unlink(missing_ok=True)


def _build(args, notebooks: list[Path], todo: list[Path], knobs: dict[Path, dict]) -> int:
    out_dir = generated_dir()
    sweep_temporary()
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 2) // args.jobs)))
    for p in notebooks:
        if not (out_dir / f"{p.stem}.ipynb").is_file() and not (out_dir / f"{p.stem}.md").is_file():
            placeholder(
                p.stem, f"Not executed yet: run `make book` (or `python -m helpers build --only {p.stem}`)."
            )
    pending = [(p, {"profile": args.profile, **knobs[p]}) for p in todo]
    statuses, failures, running, t_start = {}, [], [], time.time()

    def report(name: str, status: str, detail: str, seconds: float) -> None:
        statuses[name] = status
        brief = detail if status == "failed" else detail.split(":")[0]  # a skipped page's reason, in short
        print(
            f"[{len(statuses)}/{len(todo)}] {name}: {status} ({seconds:.0f} s; {time.time() - t_start:.0f} s in "
            f"all){' - ' + brief if brief else ''}",
            flush=True,
        )
        if status == "failed":
            failures.append((name, detail))

    def interrupted() -> int:
        print(f"interrupted: stopping {len(running)} running notebook(s)", file=sys.stderr, flush=True)
        stop(running)
        left = [j.path.stem for j in running] + [p.stem for p, _ in pending]
        print(
            f"stopped. Not finished: {left}. Nothing half-written is left; run the build again to resume (trained "
            f"epochs are kept in the run cache).",
            file=sys.stderr,
            flush=True,
        )
        return 130

    gpus = visible_gpus() if args.jobs > 1 else []
    free = list(range(args.jobs))  # the slots no notebook runs in
    print(
        f"executing {len(todo)} notebooks at profile {args.profile}, {args.jobs} at a time"
        + (f", each slot on its own GPU of {', '.join(gpus)}" if len(gpus) >= 2 else ""),
        flush=True,
    )
    with Signals() as signals:
        try:
            while pending or running:
                if signals.received:
                    return interrupted()
                while pending and len(running) < args.jobs:
                    path, params = pending.pop(0)
                    try:
                        key = notebook_key(path, params)
                        status = cached_status(path, key)
                        if status:
                            report(path.stem, status, "", 0)
                        else:
                            slot = free.pop(0)
                            try:
                                running.append(launch(path, params, key, slot, gpus))
                            except Exception:
                                free.append(slot)
                                raise
                    except Exception as err:  # the notebook cannot even start: it fails, the others go on
                        report(path.stem, "failed", f"{type(err).__name__}: {err}", 0)
                for job in running:
                    job.echo()
                for job in [j for j in running if j.proc.poll() is not None]:
                    running.remove(job)
                    free.append(job.slot)
                    try:
                        status, detail = finish(job, job.proc.returncode)
                    except Exception as err:
                        status, detail = "failed", f"{type(err).__name__}: {err}"
                    report(job.path.stem, status, detail, time.time() - job.started)
                time.sleep(0.2)
        except BaseException:
            stop(running)  # whatever went wrong in the build itself, no notebook is left running unsupervised
            raise
        for p in notebooks:
            statuses.setdefault(p.stem, "not run")
        write_overview(args.profile, statuses)
        counts = {s: sum(v == s for v in statuses.values()) for s in ("ran", "cached", "skipped", "failed")}
        print(
            "summary: "
            + ", ".join(f"{v} {k}" for k, v in counts.items())
            + "".join(f"\n  skipped {n}" for n, s in statuses.items() if s == "skipped"),
            flush=True,
        )
        rc = 0
        if not args.no_html:
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
                    return 130
                time.sleep(0.2)
            rc = html.returncode
    for name, detail in failures:
        kept = (out_dir / f"{name}.ipynb").is_file()
        print(
            f"FAILED notebook {name}: {detail}"
            + (" (its last good page is kept, marked stale)" if kept else ""),
            file=sys.stderr,
        )
    return 1 if failures or rc else 0


if __name__ == "__main__":
    sys.exit(main())
