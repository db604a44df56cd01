"""A simulated schedule of the whole ``paper`` profile on 1, 4 and 16 GPUs (book page "cluster",
bench/README.md).

    .venv/bin/python bench/cluster_schedule.py [--gpus 1 4 16] [--with-cifar100] [-p seeds 4] [--tflops 20]

The runs are ``python -m helpers.train.runs plan --profile paper``'s (every page, deduplicated by run key).
Two costs per run: the plan's (FLOPs over one rate, ``--tflops``, for every network), and the cost measured
here at small scale and scaled by FLOPs: a few training mini-batches of each network at its ``cpu``-profile
width give this machine's FLOP/s per network (:func:`helpers.book.flops.measured_tflops`, best of ``--rounds``
interleaved rounds), so the networks that use their FLOPs badly (EfficientNet-B0's depthwise convolutions)
keep that handicap at full size; one factor then maps this CPU's VGG-16 rate to ``--tflops`` (the GPU's,
assumed: no GPU was measured). The schedule is ``submit``'s: one run per GPU, longest first (greedy list
scheduling, as a Slurm array with ``slurm_array_parallelism`` = GPUs runs it), beside the plan's own order for
comparison.

``--with-cifar100`` plans as if CIFAR-100 were here (a generated stand-in of its shape in a temporary data
directory, for the plan only: the CIFAR-100 pages then plan the paper's CIFAR-100 runs instead of the CIFAR-10
stand-ins they train on these machines). ``-p seeds 4`` trains the papers' four samples where a page has the
knob.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_speed import images_per_second  # noqa: E402  (the hour's speed, as bench/README.md records it)

from helpers.book import flops  # noqa: E402
from helpers.book import plan as plan_mod
from helpers.infra import paths
from helpers.train import data, profiles


def schedule(hours: list[float], gpus: int) -> float:
    """Makespan of greedy list scheduling: each run, in the given order, starts on the GPU that frees
    first."""
    free = [0.0] * gpus
    for h in hours:
        i = min(range(gpus), key=free.__getitem__)
        free[i] += h
    return max(free) if hours else 0.0


def cpu_rates(plan: plan_mod.Plan, steps: int, rounds: int) -> dict[str, float]:
    """This CPU's training TFLOP/s per network at its cpu-profile width: ``steps`` mini-batches of 100, in
    ``rounds`` interleaved rounds, the best round kept (this machine's load varies from minute to minute)."""
    nets = {r.config.model: r.num_classes for r in plan.runs}
    found = {m: [] for m in nets}
    for _ in range(rounds):
        for m, nc in nets.items():
            found[m].append(
                flops.measured_tflops(profiles.train_config("cpu", m), nc, torch.device("cpu"), steps)
            )
    for m, nc in nets.items():
        cfg = profiles.train_config("cpu", m)
        print(
            f"  {m:18} width {cfg.width:g}, {cfg.input_size or 32}px, {flops.train_flops(cfg, nc) / 1e9:.3f} "
            f"GFLOP an image: {max(found[m]) * 1e3:6.1f} GFLOP/s (rounds: "
            f"{', '.join(f'{x * 1e3:.1f}' for x in found[m])})",
            flush=True,
        )
    return {m: max(v) for m, v in found.items()}


def with_cifar100(tmp: Path) -> None:
    """A data directory with this machine's CIFAR-10 and a generated CIFAR-100 of the real shape (plan
    only)."""
    import numpy as np

    here = paths.data_dir()
    (tmp / "cifar10.npz").symlink_to((here / "cifar10.npz").resolve())
    ds = data.synthetic_cifar(100, n_train=50_000, n_test=10_000, seed=0)
    np.savez(
        tmp / "cifar100.npz",
        x_train=ds.x_train.permute(0, 2, 3, 1).numpy(),
        y_train=ds.y_train.numpy(),
        x_test=ds.x_test.permute(0, 2, 3, 1).numpy(),
        y_test=ds.y_test.numpy(),
        class_names=np.array(ds.class_names),
        provenance=np.array(ds.provenance),
    )
    os.environ["MECH_DATA"] = str(tmp)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gpus", nargs="+", type=int, default=[1, 4, 16])
    ap.add_argument(
        "--tflops",
        type=float,
        default=flops.ASSUMED_TFLOPS,
        help="the GPU's training TFLOP/s on VGG-16 (assumed; default %(default)s)",
    )
    ap.add_argument("--with-cifar100", action="store_true")
    ap.add_argument("-p", nargs=2, action="append", default=[], metavar=("KNOB", "VALUE"))
    ap.add_argument("--steps", type=int, default=5, help="timed mini-batches per network and round")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds (the best is kept)")
    args = ap.parse_args()
    torch.set_num_threads(os.cpu_count() or 2)
    print(
        f"{time.strftime('%Y-%m-%d %H:%M')}, torch {torch.__version__}, {torch.get_num_threads()} "
        f"threads; the "
        f"hour's speed (bench/train_speed.py, VGG-16 cpu profile, channels_last): "
        f"{images_per_second(profiles.train_config('cpu', 'vgg16'), 8, True):.0f} img/s",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        if args.with_cifar100:
            with_cifar100(Path(tmp))
        os.environ.setdefault("MECH_CACHE", str(Path(tmp) / "empty-cache"))  # every run counted as to train
        plan = plan_mod.plan("paper", None, args.p, tflops=args.tflops)
    print(
        f"plan: {len(plan.runs)} runs, {sum(r.hours for r in plan.runs):.1f} GPU-hours at "
        f"{args.tflops:g} TFLOP/s "
        "for every network (FLOPs only)"
    )
    rates = cpu_rates(plan, args.steps, args.rounds)
    gpu_per_cpu = args.tflops / rates["vgg16"]  # this CPU's VGG-16 rate -> the GPU's
    costs = {
        "FLOPs only": {r.key: r.hours for r in plan.runs},
        "FLOPs at this CPU's rate per network": {
            r.key: plan_mod.run_flops(r) / (rates[r.config.model] * gpu_per_cpu * 1e12) / 3600
            for r in plan.runs
        },
    }
    measured = costs["FLOPs at this CPU's rate per network"]
    print(f"\n{'run':60} {'GFLOP/img':>9} {'epochs':>6} {'GPU-h (FLOPs)':>13} {'GPU-h (rate)':>12}")
    for r in sorted(plan.runs, key=lambda r: -measured[r.key]):
        print(
            f"{plan_mod.describe(r)[:60]:60} {r.train_flops / 1e9:9.2f} {r.config.epochs:6d} {r.hours:13.2f} "
            f"{measured[r.key]:12.2f}"
        )
    for name, hours in costs.items():
        total, longest = sum(hours.values()), max(hours.values())
        lpt = sorted(hours.values(), reverse=True)
        fifo = [hours[r.key] for r in plan.runs]
        print(
            f"\n{name}: {total:.2f} GPU-hours in all, the longest run {longest:.2f} h (no schedule beats it)"
        )
        print(
            f"{'GPUs':>4} {'wall (h), longest first':>24} {'speed-up':>9} {'efficiency':>10} "
            f"{'wall (h), plan order':>21}"
        )
        for g in args.gpus:
            w = schedule(lpt, g)
            print(f"{g:4d} {w:24.2f} {total / w:9.2f} {total / w / g:10.2f} {schedule(fifo, g):21.2f}")


if __name__ == "__main__":
    main()
