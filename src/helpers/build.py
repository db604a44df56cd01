"""Build the book: execute every notebook with papermill, then render HTML with Jupyter Book 1.

    python -m helpers.build [--profile cpu] [-p knob value ...] [--only NAME ...] [--no-html]

Each executed notebook is written to ``book/generated/<name>.ipynb`` through a temporary file
and renamed into place, with a key (notebook source, parameters, helpers' source) beside it:
an unchanged notebook is not executed again, and an interrupted build resumes. A failing
notebook names itself and its failing cell; the others still build; the command exits non-zero.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
GENERATED = ROOT / "book" / "generated"


def helpers_version() -> str:
    h = hashlib.sha256()
    for p in sorted((ROOT / "src" / "helpers").glob("*.py")):
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


def notebook_key(path: Path, parameters: dict) -> str:
    h = hashlib.sha256(path.read_bytes())
    h.update(json.dumps(parameters, sort_keys=True).encode())
    h.update(helpers_version().encode())
    return h.hexdigest()[:16]


def parse_value(text: str):
    """``-p epochs 3`` gives 3, ``-p models "['vgg16']"`` a list; anything else stays a string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def execute(path: Path, parameters: dict) -> tuple[str, str]:
    """Run one notebook; returns (status, detail) with status 'ran', 'cached' or 'failed'."""
    import papermill as pm

    out = GENERATED / f"{path.stem}.ipynb"
    key_file = GENERATED / f"{path.stem}.key"
    key = notebook_key(path, parameters)
    if out.is_file() and key_file.is_file() and key_file.read_text() == key:
        return "cached", ""
    tmp = GENERATED / f".{path.stem}.running.ipynb"
    try:
        pm.execute_notebook(str(path), str(tmp), parameters=parameters, kernel_name="python3", progress_bar=False,
                            cwd=str(ROOT))
    except pm.PapermillExecutionError as err:
        failed = GENERATED / f"{path.stem}.failed.ipynb"
        os.replace(tmp, failed)
        return "failed", f"cell {err.cell_index} (execution count {err.exec_count}): {err.ename}: {err.evalue}; " \
                         f"see {failed.relative_to(ROOT)}"
    except BaseException:
        tmp.unlink(missing_ok=True)  # interrupted: leave no half-written notebook behind
        raise
    os.replace(tmp, out)
    key_file.write_text(key)
    (GENERATED / f"{path.stem}.failed.ipynb").unlink(missing_ok=True)
    return "ran", ""


def main(argv=None) -> int:
    import papermill as pm

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default=os.environ.get("PROFILE", "cpu"))
    ap.add_argument("-p", nargs=2, action="append", default=[], metavar=("KNOB", "VALUE"),
                    help="override a knob of every notebook that has it")
    ap.add_argument("--only", nargs="*", help="notebook names (without .ipynb) to execute")
    ap.add_argument("--no-html", action="store_true", help="execute the notebooks only")
    args = ap.parse_args(argv)
    GENERATED.mkdir(parents=True, exist_ok=True)
    notebooks = sorted(NOTEBOOKS.glob("*.ipynb"))
    if args.only:
        notebooks = [p for p in notebooks if p.stem in args.only]
    failures = []
    for i, path in enumerate(notebooks, 1):
        declared = {p for p in pm.inspect_notebook(str(path))}
        parameters = {"profile": args.profile, **{k: parse_value(v) for k, v in args.p if k in declared}}
        t0 = time.time()
        status, detail = execute(path, parameters)
        print(f"[{i}/{len(notebooks)}] {path.stem}: {status} ({time.time() - t0:.0f} s) {detail}", flush=True)
        if status == "failed":
            failures.append((path.stem, detail))
    rc = 0
    if not args.no_html:
        jb = Path(sys.executable).parent / "jupyter-book"
        rc = subprocess.call([str(jb), "build", str(ROOT), "--warningiserror", "--nitpick", "--keep-going"])
    for name, detail in failures:
        print(f"FAILED notebook {name}: {detail}", file=sys.stderr)
    return 1 if failures or rc else 0


if __name__ == "__main__":
    sys.exit(main())
