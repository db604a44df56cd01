"""The plan as text (``python -m helpers plan``): every run with its status and GPU-hours, the hours per
page, and, for runs planned without their data, where the data must be."""

from __future__ import annotations

from helpers.book.plan import NO_DATA, Plan, PlannedRun
from helpers.infra.paths import data_dir


def describe(r: PlannedRun) -> str:
    c = r.config
    extra = "".join(
        [
            f" K={c.K}" if c.K else "",
            f" draw={c.label_draw}" if c.label_draw is not None else "",
            f" seed={c.seed}" if c.seed else "",
            f" blocks={list(map(list, c.blocks))}" if c.blocks else "",
            f" {c.input_size}px" if c.input_size else "",
        ]
    )
    return f"{c.model} w{c.width:g} {c.epochs}ep {r.data}{extra}"


def format_plan(p: Plan) -> str:
    """The plan as a table: every run (status, GPU-hours, pages), then the hours per page and in all."""
    lines = [
        f"profile {p.profile}: {len(p.runs)} distinct training(s) for {len(p.pages)} page(s); speed: "
        f"{p.speed['source']}",
        "",
        f"{'run key':16}  {'network':66}  {'status':22}  {'GPU-h':>7}  pages",
    ]
    for r in p.runs:
        status = r.status if r.status != "partial" else f"partial ({r.done_epochs}/{r.config.epochs} ep)"
        status = status if r.status != "claimed" else f"claimed ({r.claimed_by})"
        key = "(with the data)" if r.status == NO_DATA else r.key
        lines.append(
            f"{key:16}  {describe(r)[:66]:66}  {status[:22]:22}  {r.hours:7.2f}  {len(r.pages)}: "
            + ", ".join(r.pages)
        )
    lines += ["", "GPU-hours per page (a shared run counted on every page that uses it):"]
    for name, hours in p.page_hours().items():
        why = f"  (trains nothing here: {p.skipped[name].split(':')[0]})" if name in p.skipped else ""
        lines.append(f"  {name:40} {hours:8.2f}  {len(p.pages[name])} run(s){why}")
    total, left = sum(r.hours for r in p.runs), sum(r.remaining_hours for r in p.runs)
    n_left = len(p.missing()) + len(p.without_data())
    lines += [
        "",
        f"in all: {total:.2f} GPU-hours for {len(p.runs)} run(s); to train: {left:.2f} GPU-hours for "
        f"{n_left} run(s) (submit: python -m helpers submit --profile {p.profile} ...)",
    ]
    if p.retraining:
        lines.append(
            f"and {sum(p.retraining.values()):.2f} GPU-hours the pages train themselves, outside the run "
            "cache (not submitted; counted in their page's hours above): "
            + ", ".join(f"{name} {h:.2f}" for name, h in p.retraining.items())
            + " (the whole network retrained under the AFCC mask and a random one)"
        )
    return "\n".join(lines + _where_the_data_must_be(p))


def _where_the_data_must_be(p: Plan) -> list[str]:
    """For the runs planned without their data: which datasets, and where the build and ``submit`` look."""
    absent = sorted({r.data.split("-")[0] for r in p.without_data()})
    if not absent:
        return []
    return [
        f"{len(p.without_data())} run(s) were planned without their data ({', '.join(absent)} not here): "
        f"their sizes and GPU-hours are the datasets', their cache keys are made where the data is. Run the "
        f"build or submit on a machine whose data directory ({data_dir()}, or $MECH_DATA) holds "
        + ", ".join(f"{d}.npz or torchvision's {d} folder" for d in absent)
        + "."
    ]
