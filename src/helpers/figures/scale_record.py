"""The scale record: what ``python -m helpers scale run`` measured, per network and tap, with its provenance.

The ladders of issue 36 (VGG-16 on CIFAR-10 at several widths and training budgets, the ``cpu`` recipe
otherwise) take hours on a CPU, too long for ``make book``; one command (:mod:`helpers.book.scale`) trains
them as ordinary cached runs, runs the whole analysis of the pages at the taps of *mechanism* Fig. 2 (the
papers' SGD probes, clusters at threshold 0.3, *universal* Eqs. (1)-(4) for SNR_E) and writes this small
committed file (``results/scale.json``, no weights). The scale page reads it
(:mod:`helpers.figures.scale_verdicts`).

A record holds a list of *points*, one per trained network: its recipe (profile, width, epochs, seed), run
key, the network's test accuracy, the probe protocol, the provenance (commit, date, machine, the hour's
training speed, minutes taken) and one row per tap (``N_f``, accuracy, ``n``, ``N_c``, ``C_s``, ``SNR_E``
...). A point is identified by its profile, recipe and device (:func:`point_id`): measuring it again on the
same kind of device replaces it, a GPU's measurement of the same recipe sits beside this CPU's. Nothing in it
is typed by hand.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from helpers.infra.cache import atomic_path
from helpers.infra.paths import repo_root

SCHEMA = 1
TAP_FIELDS = ("tap", "N_f", "F_s", "accuracy", "n", "N_c", "C_s", "signal", "noise_E", "SNR_E")
POINT_FIELDS = ("id", "profile", "model", "dataset", "width", "epochs", "seed", "run_key", "network")
PROVENANCE_FIELDS = ("commit", "dirty", "date", "machine", "device", "speed_img_s", "point_minutes")
PROBE_FIELDS = ("solver", "epochs", "alpha", "threshold", "rule")
_LABEL = re.compile(r"^w(?P<width>[0-9.]+)-e(?P<epochs>[0-9]+)-s(?P<seed>[0-9]+)$")


def default_path() -> Path:
    """``results/scale.json`` in the repository."""
    return repo_root() / "results" / "scale.json"


def label(width: float, epochs: int, seed: int) -> str:
    """A point's recipe as text: ``w0.25-e6-s0``."""
    return f"w{width:g}-e{int(epochs)}-s{int(seed)}"


def parse_label(text: str) -> tuple[float, int, int]:
    """``"w0.25-e6-s0"`` -> ``(0.25, 6, 0)``."""
    m = _LABEL.match(text.strip())
    if not m:
        raise ValueError(f"point {text!r} is not w<width>-e<epochs>-s<seed>, e.g. w0.25-e6-s0")
    return float(m["width"]), int(m["epochs"]), int(m["seed"])


def point_id(profile: str, width: float, epochs: int, seed: int, device: str) -> str:
    """The identity of a point in the record: profile, recipe and the device that measured it."""
    return f"{profile}/{label(width, epochs, seed)}/{device}"


def empty() -> dict:
    return dict(schema=SCHEMA, command="python -m helpers scale run", points=[])


def read(path: str | Path | None = None) -> dict | None:
    """The record at ``path`` (default :func:`default_path`), ``None`` where there is none."""
    path = Path(path or default_path())
    if not path.is_file():
        return None
    record = json.loads(path.read_text())
    check(record)
    return record


def merge(record: dict | None, point: dict) -> dict:
    """``record`` with ``point`` added, replacing a point of the same :func:`point_id`; points in the order of
    their recipe (profile, width, epochs, seed)."""
    out = dict(record or empty())
    points = [p for p in out["points"] if p["id"] != point["id"]] + [point]
    out["points"] = sorted(points, key=lambda p: (p["profile"], p["width"], p["epochs"], p["seed"], p["id"]))
    return out


def write(record: dict, path: str | Path | None = None) -> Path:
    """Write ``record`` atomically (a temporary file renamed into place: an interrupted run never leaves half
    a record)."""
    check(record)
    path = Path(path or default_path())
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(record, indent=1, sort_keys=False) + "\n")
    return path


def check(record: dict) -> None:
    """Raise ``ValueError`` where ``record`` lacks a field of its schema: each point's recipe, run key,
    probe protocol, provenance (commit, date, machine, speed, minutes) and every tap's statistics."""
    if record.get("schema") != SCHEMA:
        raise ValueError(f"scale record: schema {record.get('schema')!r}, expected {SCHEMA}")
    for p in record["points"]:
        missing = [f for f in POINT_FIELDS if f not in p]
        missing += [f"provenance.{f}" for f in PROVENANCE_FIELDS if f not in p.get("provenance", {})]
        missing += [f"probe.{f}" for f in PROBE_FIELDS if f not in p.get("probe", {})]
        if not p.get("taps"):
            missing.append("taps")
        missing += sorted({f"taps.{f}" for t in p.get("taps", []) for f in TAP_FIELDS if f not in t})
        if missing:
            raise ValueError(f"scale record: point {p.get('id')!r} lacks {', '.join(missing)}")


def frame(record: dict | None) -> pd.DataFrame | None:
    """One row per (point, tap): the recipe, the network's accuracy, the tap's statistics and the point's
    provenance (``date``, ``machine``, ``device``, ``commit``); ``None`` for no record or no point."""
    if not record or not record["points"]:
        return None
    rows = [
        {
            **{f: p[f] for f in POINT_FIELDS},
            **{f: p["provenance"][f] for f in ("date", "machine", "device", "commit")},
            **t,
        }
        for p in record["points"]
        for t in p["taps"]
    ]
    return pd.DataFrame(rows)
