"""The "Run it in Colab" page (``book/generated/colab.md``, written by the build; issue 37): what each page
costs in Colab's free tier, measured where this project measured it, estimated otherwise, and labelled so.

Its numbers come from ``book/page-times.json`` (:mod:`helpers.book.timings`), never typed: each page's last
``cpu`` build time on this project's 2-core machine (Colab's free CPU runtime has 2 cores too, so about the
same, but not measured there), and the ``paper`` profile's GPU-hours from the plan's FLOPs
(``python -m helpers plan --profile paper --json``, recorded with ``helpers.book.timings --from-plan``),
rescaled from the plan's assumed speed to Colab's free GPU. Colab's limits are its own published figures
(:data:`COLAB`), not measurements.
"""

from __future__ import annotations

import re
from pathlib import Path

from helpers.book import timings
from helpers.book.generated import generated_dir
from helpers.infra.paths import notebooks_dir

# Colab's free tier as Google describes it (colab.research.google.com/signup, FAQ; 2026): not measured here
COLAB = dict(cpu_cores=2, gpu="NVIDIA T4 (16 GB)", gpu_tflops=8.1, session_hours=12)


def _assumed_tflops(speed: str) -> float | None:
    """The TFLOP/s a plan's GPU-hours were computed at (its speed line: ``ASSUMED 20 TFLOP/s ...``)."""
    found = re.search(r"([\d.]+) TFLOP/s", speed or "")
    return float(found.group(1)) if found else None


def rows(times: dict | None = None) -> list[dict]:
    """Per page: its measured ``cpu`` minutes (with date and machine) and its ``paper`` hours on Colab's GPU
    (the plan's GPU-hours x its assumed speed / the T4's), ``None`` where nothing was measured or planned."""
    times = timings.load() if times is None else times
    cpu, paper = times.get("cpu", {}), times.get("paper", {})
    out = []
    for page in sorted((set(cpu) | set(paper)) & {p.stem for p in notebooks_dir().glob("*.ipynb")}):
        c, p = cpu.get(page), paper.get(page)
        rate = _assumed_tflops(p.get("speed", "")) if p else None
        out.append(
            dict(
                page=page,
                cpu_minutes=None if c is None else c["seconds"] / 60,
                measured=None if c is None else f"{c['date']}, {c['machine']}",
                empty_cache=None if c is None else c.get("empty_cache"),
                paper_t4_hours=None if rate is None else p["gpu_hours"] * rate / COLAB["gpu_tflops"],
            )
        )
    return out


def _fmt(v, unit: str) -> str:
    return "–" if v is None else f"{v:.1f} {unit}"


def text(times: dict | None = None) -> str:
    """The page's Markdown: the set-up, the limits, and the table of :func:`rows` with their sums."""
    r = rows(times)
    cpu_sum = sum(x["cpu_minutes"] for x in r if x["cpu_minutes"] is not None)
    t4_sum = sum(x["paper_t4_hours"] for x in r if x["paper_t4_hours"] is not None)
    lines = [
        "# Run it in Colab",
        "",
        "Every result page has a Colab button once the book's repository is set in `_config.yml` "
        "(`python -m helpers launch`); the notebook's first cell installs `helpers` there and keeps Colab's "
        "torch. The data must come with you: CIFAR-10 and CIFAR-100 download there by torchvision "
        "(`MECH_DATA` names the folder), ImageNet does not.",
        "",
        f"Colab's free tier, as Google describes it (not measured here): {COLAB['cpu_cores']} CPU cores, a "
        f"{COLAB['gpu']} when one is free (about {COLAB['gpu_tflops']:g} TFLOP/s in float32), sessions of at "
        f"most {COLAB['session_hours']} hours, the disk wiped after each. Runs are cached on the session's "
        "disk only: a new session trains again unless `MECH_CACHE` points at a mounted Google Drive folder.",
        "",
        "| page | `cpu`, measured here | measured (when, where) | `paper` on Colab's T4, estimated |",
        "| --- | --- | --- | --- |",
    ]
    for x in r:
        cache = {True: ", empty cache", False: ", networks cached", None: ""}[x["empty_cache"]]
        lines.append(
            f"| {{doc}}`{x['page']}` | {_fmt(x['cpu_minutes'], 'min')} | {x['measured'] or '–'}{cache} | "
            f"{_fmt(x['paper_t4_hours'], 'h')} |"
        )
    lines += [
        f"| **the whole book** | **{cpu_sum:.0f} min** | | **{t4_sum:.0f} h** |",
        "",
        "**At `cpu`** (measured on this project's 2-core machine; Colab's CPU runtime has "
        f"{COLAB['cpu_cores']} cores too, so expect about the same, not measured there): a page whose "
        "networks another page has trained takes only its analysis, so the times depend on the order the "
        "build ran the pages in (each record keeps it). One page in a fresh session trains its own networks "
        "first: the times of the pages that ran first in the build are the cost of a cold start.",
        "",
        "**At `paper`** (estimated: the plan's FLOPs per training image times images and epochs, "
        f"`python -m helpers plan --profile paper`, rescaled to {COLAB['gpu_tflops']:g} TFLOP/s): a page "
        f"whose estimate passes {COLAB['session_hours']} hours cannot finish in one free session; its runs "
        "resume from their last epoch in the next session when `MECH_CACHE` is on a mounted Drive.",
    ]
    if not r:
        lines += ["", "No times are recorded yet: build the book at `cpu` (`make book`)."]
    return "\n".join(lines) + "\n"


def write_colab() -> Path:
    """``book/generated/colab.md`` from the recorded times."""
    out = generated_dir() / "colab.md"
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(text())
    tmp.replace(out)
    return out
