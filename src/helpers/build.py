"""Build the book: execute every notebook with papermill, write the results overview, render HTML.

    python -m helpers.build [--profile cpu] [-p knob value ...] [--only NAME ...] [--jobs N] [--no-html]

Each executed notebook is written to ``book/generated/<name>.ipynb`` through a temporary file
and renamed into place, with a key (notebook source, parameters, helpers' source, data files)
beside it: an unchanged notebook is not executed again, and an interrupted build resumes where
it stopped. Independent notebooks run ``--jobs`` at a time (default: one per two cores). A
failing notebook names itself and its failing cell; the others still build; the command exits
non-zero. A notebook whose dataset is missing renders a skipped page and is listed as skipped.
Then ``book/generated/overview.md`` gathers every number and claim the pages tagged (the
metadata of :class:`helpers.pages.Shown`), and Jupyter Book 1 renders HTML with Sphinx
warnings as errors.
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
META = "mechanism_book"  # = helpers.pages.META (not imported: pages pulls in torch)


def book_root() -> Path:
    """The book's root (``_config.yml``, ``_toc.yml``, ``book/``): ``$MECH_BOOK_ROOT``, else the repository."""
    return Path(os.environ.get("MECH_BOOK_ROOT", ROOT))


def generated_dir() -> Path:
    """Where executed notebooks go: ``book/generated`` under the book's root."""
    return book_root() / "book" / "generated"


def helpers_version() -> str:
    h = hashlib.sha256()
    for p in sorted((ROOT / "src" / "helpers").glob("*.py")):
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


def data_version() -> str:
    """Names, sizes and modification times of the data files (a changed dataset re-executes the pages)."""
    root = Path(os.environ.get("MECH_DATA", "data"))
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


def execute(path: Path, parameters: dict) -> tuple[str, str]:
    """Run one notebook; returns (status, detail), status 'ran', 'cached', 'skipped' or 'failed'."""
    import papermill as pm

    out_dir = generated_dir()
    out, key_file = out_dir / f"{path.stem}.ipynb", out_dir / f"{path.stem}.key"
    failed = out_dir / f"{path.stem}.failed.ipynb"
    key = notebook_key(path, parameters)
    if out.is_file() and key_file.is_file() and key_file.read_text() == key:
        return ("skipped" if skipped_reason(out) else "cached"), ""
    tmp = out_dir / f".{path.stem}.running.ipynb"
    try:
        pm.execute_notebook(str(path), str(tmp), parameters=parameters, kernel_name="python3", progress_bar=False,
                            cwd=str(ROOT))
    except pm.PapermillExecutionError as err:
        os.replace(tmp, failed)
        detail = (f"cell {err.cell_index} (execution count {err.exec_count}): {err.ename}: {err.evalue}; "
                  f"see {failed}")
        out.unlink(missing_ok=True)
        key_file.unlink(missing_ok=True)
        placeholder(path.stem, f"This notebook failed in the last build: {detail}")
        return "failed", detail
    except BaseException:
        tmp.unlink(missing_ok=True)  # interrupted: leave no half-written notebook behind
        raise
    key_file.unlink(missing_ok=True)  # the key is written only after the notebook is in place
    os.replace(tmp, out)
    key_file.write_text(key)
    failed.unlink(missing_ok=True)
    (out_dir / f"{path.stem}.md").unlink(missing_ok=True)
    reason = skipped_reason(out)
    return ("skipped", reason) if reason else ("ran", "")


# --- reading the executed notebooks back -----------------------------------------------------------

def page_metadata(path: Path) -> dict:
    """The metadata helpers.pages attached to a notebook's outputs, merged by kind, and its title."""
    nb = json.loads(path.read_text())
    found: dict = {"title": path.stem}
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown" and found["title"] == path.stem:
            first = "".join(cell["source"]).strip().splitlines()[0]
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
    # "$" would start MyST math (the quotes hold the papers' TeX), and MathJax is not loaded offline
    return str(v).replace("|", "\\|").replace("\n", " ").replace("$", "\\$")


def _short(title: str) -> str:
    """A page title fit for a link text (no markdown emphasis, no role-breaking characters)."""
    return title.replace("*", "").replace("`", "").replace("<", "").replace(">", "")


KINDS = ("paper claim", "consistency check", "this book's addition")  # = helpers.claims.KINDS (no torch import here)
VERDICTS = ("holds", "does not hold", "not testable here")


def _ledger(rows: list[tuple[str, str, dict]], quote: bool) -> list[str]:
    head = "| page | claim | verdict | test | evidence |" + (" the paper says |" if quote else "")
    lines = [head, "|" + " --- |" * (6 if quote else 5)]
    for name, title, c in rows:
        verdict = f"**{c['verdict']}**" + (f" ({_cell(c['reason'])})" if c.get("reason") else "")
        cells = [f"{{doc}}`{_short(title)} <{name}>`", _cell(c.get("claim")), verdict, _cell(c.get("test")),
                 _cell(c.get("evidence"))]
        if quote:
            cells.append(f"{_cell(c.get('where'))}: “{_cell(c.get('quote'))}”" if c.get("quote") else "–")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def write_overview(profile: str, statuses: dict[str, str]) -> Path:
    """``overview.md``: the claims ledger (paper claims by verdict first, then our consistency checks and additions)
    and every number the pages compared with the papers."""
    out = generated_dir() / "overview.md"
    pages = []
    for name in sorted(statuses):
        nb = generated_dir() / f"{name}.ipynb"
        if nb.is_file():
            pages.append((name, page_metadata(nb)))
    claims = [(name, m["title"], c) for name, m in pages for c in m.get("claims", [])]
    skipped = sorted({name for name, _, c in claims if c.get("verdict") == "skipped"})
    by_kind = {k: [x for x in claims if x[2].get("kind") == k] for k in KINDS}
    count = {k: {v: sum(c["verdict"] == v for _, _, c in by_kind[k]) for v in VERDICTS} for k in KINDS}
    paper_counts = count[KINDS[0]]
    lines = [
        "# Results overview and claims ledger", "",
        f"Generated by the build from the executed pages (profile `{profile}`, {time.strftime('%Y-%m-%d %H:%M')}); "
        "nothing here is typed in. Each row links to its page, which shows the profile, the knobs and the data.", "",
        f"**Paper claims: {paper_counts['holds']} hold, {paper_counts['does not hold']} do not hold, "
        f"{paper_counts['not testable here']} are not testable here**, over {len(pages)} pages"
        + (f" ({len(skipped)} skipped: data missing)" if skipped else "") + ". "
        "A claim is *not testable here* when a precondition computed on the run fails (too few labels for it, a "
        "network below 0.8 of the paper's accuracy for the experiment, a confounded comparison): the run cannot "
        "decide it either way. At a reduced profile a claim that does not hold is a statement about this scale, "
        "not about the paper: each page says how its run differs from the paper's experiment.", "",
        f"Beside them, not counted as confirmations: {sum(count['consistency check'].values())} consistency checks of "
        f"our own arithmetic ({count['consistency check']['holds']} hold) and "
        f"{sum(count[KINDS[2]].values())} checks this book adds ({count[KINDS[2]]['holds']} hold).", "",
        "## Paper claims", ""]
    for verdict in VERDICTS:
        rows = [x for x in by_kind["paper claim"] if x[2]["verdict"] == verdict]
        if rows:
            lines += [f"### {verdict.capitalize()} ({len(rows)})", ""] + _ledger(rows, quote=True) + [""]
    lines += ["## This book's additions", ""] + _ledger(by_kind["this book's addition"], quote=False) + [""]
    lines += ["## Consistency checks (our own arithmetic: shown, never counted)", ""]
    lines += _ledger(by_kind["consistency check"], quote=False) + [""]
    if skipped:
        lines += ["## Skipped pages", ""] + [f"- {{doc}}`{n} <{n}>`: data missing" for n in skipped] + [""]
    lines += ["## Every reproduced number beside the paper's", ""]
    for name, m in pages:
        rows = m.get("results", [])
        if not rows:
            continue
        label = (m.get("header") or [{}])[0].get("label", "")
        lines += [f"### {m['title']}", "", f"{{doc}}`Open the page <{name}>`. {label}", "",
                  "| quantity | paper | this run |", "| --- | --- | --- |"]
        lines += [f"| {_cell(r['quantity'])} | {_cell(r['paper'])} | {_cell(r['run'])} |" for r in rows]
        lines.append("")
    tmp = out.with_suffix(".md.tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, out)
    return out


# --- the command -------------------------------------------------------------------------------------

def main(argv=None) -> int:
    import papermill as pm

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default=os.environ.get("PROFILE", "cpu"))
    ap.add_argument("-p", nargs=2, action="append", default=[], metavar=("KNOB", "VALUE"),
                    help="override a knob of every notebook that has it")
    ap.add_argument("--only", nargs="*", help="notebook names (without .ipynb) to execute")
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("JOBS", max(1, (os.cpu_count() or 2) // 2))),
                    help="notebooks executed at once (default: one per two cores)")
    ap.add_argument("--no-html", action="store_true", help="execute the notebooks only")
    args = ap.parse_args(argv)
    out_dir = generated_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    notebooks = sorted(NOTEBOOKS.glob("*.ipynb"))
    unknown = sorted(set(args.only or []) - {p.stem for p in notebooks})
    if unknown:
        print(f"unknown notebook(s) {unknown}: choose from {[p.stem for p in notebooks]}", file=sys.stderr)
        return 2
    todo = [p for p in notebooks if not args.only or p.stem in args.only]
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 2) // args.jobs)))
    for p in notebooks:
        if not (out_dir / f"{p.stem}.ipynb").is_file() and not (out_dir / f"{p.stem}.md").is_file():
            placeholder(p.stem, f"Not executed yet: run `make book` (or `python -m helpers.build --only {p.stem}`).")
    jobs = {}
    for path in todo:
        declared = set(pm.inspect_notebook(str(path)))
        jobs[path] = {"profile": args.profile, **{k: parse_value(v) for k, v in args.p if k in declared}}
    statuses, failures, t_start = {}, [], time.time()
    print(f"executing {len(todo)} notebooks at profile {args.profile}, {args.jobs} at a time", flush=True)
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        started = {pool.submit(_timed, execute, path, params): path for path, params in jobs.items()}
        for i, fut in enumerate(as_completed(started), 1):
            path = started[fut]
            (status, detail), seconds = fut.result()
            statuses[path.stem] = status
            brief = detail if status == "failed" else detail.split(":")[0]  # a skipped page's reason, in short
            print(f"[{i}/{len(todo)}] {path.stem}: {status} ({seconds:.0f} s; {time.time() - t_start:.0f} s in all)"
                  f"{' - ' + brief if brief else ''}", flush=True)
            if status == "failed":
                failures.append((path.stem, detail))
    for p in notebooks:
        statuses.setdefault(p.stem, "not run")
    write_overview(args.profile, statuses)
    counts = {s: sum(v == s for v in statuses.values()) for s in ("ran", "cached", "skipped", "failed")}
    print("summary: " + ", ".join(f"{v} {k}" for k, v in counts.items()) +
          "".join(f"\n  skipped {n}" for n, s in statuses.items() if s == "skipped"), flush=True)
    rc = 0
    if not args.no_html:
        jb = Path(sys.executable).parent / "jupyter-book"
        rc = subprocess.call([str(jb), "build", str(book_root()), "--warningiserror", "--nitpick", "--keep-going"])
    for name, detail in failures:
        print(f"FAILED notebook {name}: {detail}", file=sys.stderr)
    return 1 if failures or rc else 0


def _timed(fn, *a):
    t0 = time.time()
    return fn(*a), time.time() - t0


if __name__ == "__main__":
    sys.exit(main())
