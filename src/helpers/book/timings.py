"""How long each page takes at each profile, read from a data file that the build writes, never typed by hand.

``book/page-times.json`` (under the book's root) holds, per profile, each page's last measured time: a ``cpu``
build records every page it executes (:func:`record`, from :mod:`helpers.book.build`), with the date, the
machine and whether the build started from an empty cache. ``paper`` holds the plan's estimate in GPU-hours
(``python -m helpers plan --profile paper --json > plan.json``, then ``python -m helpers.book.timings
--from-plan plan.json``). A network is trained once and cached, so a page that shares another page's network
takes only its analysis when that page ran first: the times depend on the order the build ran the pages in,
which each record keeps. ``bench/README.md`` has the history of these figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

from helpers.infra.cache import atomic_path
from helpers.infra.paths import book_root

PROFILES = ("smoke", "cpu", "paper")


def path() -> Path:
    """The data file: ``book/page-times.json`` under the book's root."""
    return book_root() / "book" / "page-times.json"


def load() -> dict:
    """``{profile: {page: record}}`` as measured; ``{}`` where nothing is."""
    try:
        return json.loads(path().read_text())
    except (OSError, ValueError):
        return {}


def _save(times: dict) -> None:
    path().parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path()) as tmp:
        Path(tmp).write_text(json.dumps(times, indent=1, sort_keys=True) + "\n")


def machine() -> str:
    """The processor and its cores, as a record names the machine that measured it."""
    model = platform.processor() or platform.machine()
    try:
        names = re.findall(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        model = names[0].strip() if names else model
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores"


def record(
    profile: str,
    page: str,
    seconds: float,
    *,
    order: int | None = None,
    empty_cache: bool | None = None,
    date: str | None = None,
):
    """Keep ``page``'s measured time at ``profile`` (the build calls this after each page it executed);
    ``date``: when it was measured, now if not given."""
    times = load()
    times.setdefault(profile, {})[page] = dict(
        seconds=round(seconds, 1),
        date=date or time.strftime("%Y-%m-%d %H:%M"),
        machine=machine(),
        order=order,
        empty_cache=empty_cache,
    )
    _save(times)


def record_plan(plan: dict) -> None:
    """Keep the plan's GPU-hours per page (``python -m helpers plan --profile paper --json``) as
    ``paper``'s."""
    speed = plan.get("speed", {}).get("source", "")
    times = load()
    times["paper"] = {
        page: dict(
            gpu_hours=round(p["hours"], 2), runs=len(p["runs"]), speed=speed, date=time.strftime("%Y-%m-%d")
        )
        for page, p in plan["pages"].items()
    }
    _save(times)


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def describe(profile: str, rec: dict | None) -> str:
    """One record in words: the time, and when and where it was measured."""
    if rec is None:
        return "not estimated" if profile == "paper" else "not measured"
    if "gpu_hours" in rec:
        trains = f"{rec['runs']} training(s)" if rec["runs"] else "no training"
        return f"{rec['gpu_hours']:.2f} GPU-hours estimated ({trains}; {rec['date']})"
    cache = {True: ", from an empty cache", False: ", its networks cached", None: ""}[rec.get("empty_cache")]
    return f"{_duration(rec['seconds'])} ({rec['date']}, {rec['machine']}{cache})"


def per_profile(page: str) -> dict[str, str]:
    """The time of ``page`` at each profile, in words (:func:`describe`)."""
    times = load()
    return {p: describe(p, times.get(p, {}).get(page)) for p in PROFILES}


def time_line(page: str, profile: str | None = None) -> str:
    """The Markdown line of a page's header: each profile's time, this build's profile first."""
    times = per_profile(page)
    order = ([profile] if profile in times else []) + [p for p in times if p != profile]
    return (
        "**Time per profile** (the latest build's measurement, `book/page-times.json`; `paper` is the plan's "
        "estimate): "
        + "; ".join(f"`{p}`{' (this page)' if p == profile else ''}: {times[p]}" for p in order)
        + ". The minutes this build took are in the Summary at the end of the page."
    )


def from_log(log: str, profile: str, empty_cache: bool, date: str | None = None) -> int:
    """Record the pages of a build's log (its ``[i/n] name: ran (S s; ...)`` lines), measured at ``date``
    (now if not given); returns how many."""
    found = re.findall(r"^\[(\d+)/\d+\] (\S+): ran \((\d+(?:\.\d+)?) s", log, flags=re.M)
    for order, page, seconds in found:
        record(profile, page, float(seconds), order=int(order), empty_cache=empty_cache, date=date)
    return len(found)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description="Record page times in book/page-times.json from a build's log or a plan."
    )
    ap.add_argument("--from-log", help="a build's output (python -m helpers build ...)")
    ap.add_argument("--profile", choices=PROFILES[:2], help="the profile of that build")
    ap.add_argument("--empty-cache", action="store_true", help="the build started from an empty cache")
    ap.add_argument("--date", help="when that build ran, 'YYYY-MM-DD HH:MM' (default: now)")
    ap.add_argument("--from-plan", help="python -m helpers plan --profile paper --json's output")
    args = ap.parse_args(argv)
    if args.from_log:
        if not args.profile:
            ap.error("--from-log needs --profile")
        n = from_log(Path(args.from_log).read_text(), args.profile, args.empty_cache, args.date)
        print(f"{n} page(s) recorded")
    if args.from_plan:
        record_plan(json.loads(Path(args.from_plan).read_text()))
        print("the plan's GPU-hours per page recorded as paper's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
