"""``python -m helpers scale run``: the width and training-budget ladders of VGG-16 (issue 36), recorded.

    MECH_DATA=../shared/data python -m helpers scale run [--points w0.125-e6-s0 w0.25-e6-s0 ...]
        [--profile cpu] [--record results/scale.json] [--device cuda] [--speed-batches 15]

Each point is VGG-16 on CIFAR-10 with ``profile``'s recipe (``helpers.train.profiles``, the ``cpu`` one by
default: one-cycle SGD) and its width, epochs (a complete schedule each) and seed overridden: an ordinary run
of the cache (:func:`helpers.train.runs.get_run`), trained if missing, so ``w0.25-e6-s0`` and ``-s1`` are the
``cpu`` book's own VGG-16 networks. On each, the whole analysis of the pages runs at the taps of *mechanism*
Fig. 2 (layers 2, 4, 7, 10, 13; the papers' SGD probe, clusters at threshold 0.3; n, N_c, C_s of *mechanism*
and SNR_E of *universal* Eq. (4), :func:`helpers.method.snr.snr_estimates`), and the point is merged into the
record (:mod:`helpers.figures.scale_record`) and written atomically before the next one starts: an interrupted
ladder keeps what it finished and resumes (finished points are skipped unless ``--again``; a half-trained
network resumes from its checkpoint). The points run in :data:`LADDER`'s order, cheapest first.

The group's own scaling study is Tevet et al., *Physica A* 635:129513 (2024), doi:10.1016/j.physa.2024.129513
(error and noise per filter against filters per layer, CIFAR-100); the ladder is its form on CIFAR-10.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time

import torch

from helpers.book import timings
from helpers.figures import scale_record as rec
from helpers.method import fields
from helpers.method import study as method
from helpers.train import data, models, probes, profiles, runs, speed
from helpers.train.loop import pick_device

# (width, epochs, seed), cheapest first: widths 0.125-0.5 at 6 epochs, two seeds at the cpu book's network,
# budgets 6, 12, 24 epochs at width 0.25 (issue 36)
LADDER = ((0.125, 6, 0), (0.25, 6, 0), (0.25, 6, 1), (0.25, 12, 0), (0.5, 6, 0), (0.25, 24, 0))
# the GPU ladder adds the paper's width (``--points``; ``helpers plan --profile paper`` lists it)
GPU_LADDER = LADDER + ((1.0, 6, 0), (1.0, 6, 1), (0.5, 6, 1), (1.0, 24, 0))
MODEL, DATASET = "vgg16", "cifar10"


def config(profile: str, width: float, epochs: int, seed: int):
    """The training configuration of one point: ``profile``'s VGG-16 with width, epochs and seed set."""
    return profiles.train_config(profile, MODEL, dataset=DATASET, width=width, epochs=epochs, seed=seed)


def hour_speed(profile: str, n_batches: int) -> float | None:
    """The hour's training speed (images/s) of ``profile``'s VGG-16 (:func:`helpers.train.speed.
    images_per_second`, channels-last, mini-batches of 100); ``None`` when ``n_batches`` is 0."""
    if n_batches <= 0:
        return None
    return round(speed.images_per_second(profiles.train_config(profile, MODEL), n_batches, True), 1)


def probe_protocol(solver: str = probes.DEFAULT_SOLVER) -> dict:
    """The FC probe every point uses: the papers' SGD (*mechanism* Supplementary), 100 epochs, L2 alpha."""
    hyper = profiles.probe_hyper(MODEL)
    return dict(
        solver=solver,
        epochs=probes.SGD_EPOCHS,
        alpha=hyper.alpha,
        eta=hyper.eta,
        mu=hyper.mu,
        threshold=fields.THRESHOLD,
        rule="greedy",
    )


def measure(
    profile: str, width: float, epochs: int, seed: int, *, full, commit: dict, device=None, speed_batches=15
):
    """One point: its network (cached, or trained now), the analysis at Fig. 2's taps, its provenance
    (``commit``: :func:`helpers.train.runs.git_commit` when the command started, the code that ran)."""
    started = time.perf_counter()
    img_s = hour_speed(profile, speed_batches)
    cfg = config(profile, width, epochs, seed)
    subset = data.subset(full, cfg.K, cfg.n_train, cfg.n_test)
    cached = (runs.cache_root() / "runs" / runs.run_key(cfg, subset) / "model.pt").is_file()
    run = runs.get_run(cfg, subset, device=device, progress=False)
    protocol = probe_protocol()
    taps = [t for t in run.model.taps if t.name in models.tap_names(MODEL)]
    kw = dict(threshold=protocol["threshold"], rule=protocol["rule"], solver=protocol["solver"])
    table = method.study(run, subset, taps=taps, progress=False, device=device, **kw).table()
    table = models.by_depth(table, "tap")
    dev = str(pick_device(device))
    return dict(
        id=rec.point_id(profile, width, epochs, seed, runs.device_name(dev)),
        profile=profile,
        model=MODEL,
        dataset=DATASET,
        width=width,
        epochs=epochs,
        seed=seed,
        run_key=run.key,
        network=run.test_acc,
        train_minutes=round(run.info.get("wall_seconds", float("nan")) / 60, 2),
        trained_now=not cached,
        probe=protocol,
        provenance=dict(
            **commit,
            date=time.strftime("%Y-%m-%d %H:%M %Z"),
            machine=timings.machine(),
            device=runs.device_name(dev),
            host=socket.gethostname(),
            torch=torch.__version__,
            speed_img_s=img_s,
            speed_of=f"{MODEL} at {profile}'s width, channels-last, batches of 100 (helpers.train.speed)",
            point_minutes=round((time.perf_counter() - started) / 60, 2),
        ),
        taps=[
            {k: _plain(v) for k, v in row.items() if k in rec.TAP_FIELDS} for row in table.to_dict("records")
        ],
    )


def _plain(v):
    """A JSON-able scalar (numpy's become Python's)."""
    return v.item() if hasattr(v, "item") else v


def run_ladder(points, *, profile="cpu", path=None, device=None, again=False, speed_batches=15) -> dict:
    """Measure each of ``points`` ((width, epochs, seed)) in turn, merging each into the record at ``path`` as
    soon as it is done. A point already in the record for this device is skipped unless ``again``."""
    full = data.load_cifar(DATASET)
    dev = runs.device_name(str(pick_device(device)))
    record = rec.read(path) or rec.empty()
    commit = runs.git_commit()  # the code that runs, whatever is committed while the ladder trains
    for width, epochs, seed in points:
        pid = rec.point_id(profile, width, epochs, seed, dev)
        if not again and any(p["id"] == pid for p in record["points"]):
            print(f"{pid}: in the record already (--again measures it anew)", flush=True)
            continue
        print(f"{pid}: started {time.strftime('%H:%M:%S')}", flush=True)
        point = measure(
            profile, width, epochs, seed, full=full, commit=commit, device=device, speed_batches=speed_batches
        )
        record = rec.merge(rec.read(path), point)
        rec.write(record, path)
        deep = point["taps"][-1]
        print(
            f"{pid}: network {point['network']:.4f}, layer {deep['tap']} n {deep['n']:.2f} N_c "
            f"{deep['N_c']:.2f} C_s {deep['C_s']:.2f} SNR_E {deep['SNR_E']:.2f}; "
            f"{point['provenance']['point_minutes']:.1f} min ({point['provenance']['speed_img_s']} img/s)",
            flush=True,
        )
    return record


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m helpers scale",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("action", choices=["run", "list"])
    ap.add_argument(
        "--points",
        nargs="+",
        default=[rec.label(*p) for p in LADDER],
        help="w<width>-e<epochs>-s<seed> each (default: the CPU ladder, cheapest first)",
    )
    ap.add_argument("--gpu-ladder", action="store_true", help="the GPU ladder (adds width 1.0)")
    ap.add_argument("--profile", default="cpu", choices=profiles.PROFILES)
    ap.add_argument("--record", default=None, help="default: results/scale.json")
    ap.add_argument("--device", default=None)
    ap.add_argument("--again", action="store_true")
    ap.add_argument("--speed-batches", type=int, default=15, help="0: do not measure the hour's speed")
    args = ap.parse_args(argv)
    points = [rec.parse_label(p) for p in args.points]
    if args.gpu_ladder:
        points = list(GPU_LADDER)
    if args.action == "list":
        for p in points:
            cfg = config(args.profile, *p)
            print(
                rec.label(*p),
                runs.run_key(cfg, data.subset(data.load_cifar(DATASET), None, cfg.n_train, cfg.n_test)),
            )
        return 0
    run_ladder(
        points,
        profile=args.profile,
        path=args.record,
        device=args.device,
        again=args.again,
        speed_batches=args.speed_batches,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
