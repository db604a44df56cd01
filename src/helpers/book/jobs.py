"""Beyond one machine: every training the book's pages need, listed, estimated and trained on GPUs or a Slurm
cluster.

    python -m helpers plan --profile paper [--only PAGE ...] [-p KNOB VALUE ...] [--json] [--measure]
    python -m helpers submit --profile paper --executor slurm|local [--only PAGE ...] [-p KNOB VALUE ...]
        [--partition P] [--account A] [--time MIN] [--array-parallelism N] [--gpus 0,1,2,3] [--workers N]
        [--wait]

``plan`` asks each chosen page which networks it trains, keys them as the run cache does (deduplicated across
pages: the *mechanism* VGG-16 serves nine pages), and says for each what the cache holds (cached, stopped
after epoch k, claimed by a running job, missing) and its GPU-hours: FLOPs per image
(``torch.utils.flop_counter``, 3x the forward pass) times images and epochs, over a speed that is measured
where it can be (``--measure`` times a few mini-batches of each network on this machine's device; else the
runs already trained on a GPU in the cache) and otherwise assumed (said so in the output);
:mod:`helpers.book.plan` has it.

``submit`` trains the missing runs through submitit: on Slurm as one job array, one GPU and one run per array
task (longest first), requeued on preemption or timeout (:class:`Trainer` is checkpointable: the run resumes
from its last finished epoch, ``checkpoint.pt``); locally as one worker process per GPU
(``CUDA_VISIBLE_DEVICES`` set to its GPU, as this machine numbers it: under ``CUDA_VISIBLE_DEVICES=2,3`` the
workers get 2 and 3), each walking the whole list and training every run no other worker holds. Every job
then walks again what it found held or what failed, waiting for the holder this time (a holder that dies is
taken over), and its result says for every run what happened (trained, cached, failed and why: one failure
does not stop the others). The run cache (``$MECH_CACHE``, on a filesystem every node shares) is the meeting
point: its locks (:func:`helpers.infra.locks.locked`) let one job train a run and every other job or page
wait for it or move on, and once the runs are in it ``make book PROFILE=paper`` only analyses. Book page
``cluster`` has the commands and the hours per page.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path

from helpers.book.build import PROFILES
from helpers.book.execute import visible_gpus
from helpers.book.flops import ASSUMED_TFLOPS
from helpers.book.plan import plan
from helpers.book.plan_text import describe, format_plan
from helpers.book.worker import RunSpec, Trainer
from helpers.infra.paths import cache_root


def rotated(items: list, k: int) -> list:
    """``items`` starting at position ``k`` (worker k takes run k first, then helps with the others)."""
    return items[k % len(items) :] + items[: k % len(items)] if items else []


def _submitit():
    try:
        import submitit
    except ImportError:
        raise SystemExit(
            "error: submitit is not installed in this environment; install the cluster extra: "
            ".venv/bin/python -m pip install -e '.[cluster]' (make venv does it)"
        ) from None
    return submitit


def submit_slurm(
    specs: list[RunSpec],
    folder: Path,
    *,
    partition=None,
    account=None,
    time_min=24 * 60,
    array_parallelism=16,
    cpus_per_task=8,
    mem_gb=32,
    gpus_per_task=1,
    max_requeue=10,
    setup=(),
) -> list:
    """One Slurm job array, one run and ``gpus_per_task`` GPU(s) per task, at most ``array_parallelism`` at
    once; ``--requeue`` and submitit's USR2 handler bring a preempted or timed-out task back where it
    stopped."""
    submitit = _submitit()
    ex = submitit.SlurmExecutor(folder, max_num_timeout=max_requeue)
    ex.update_parameters(
        job_name="mech-runs",
        partition=partition,
        account=account,
        time=int(time_min),
        nodes=1,
        ntasks_per_node=1,
        gpus_per_node=gpus_per_task,
        cpus_per_task=cpus_per_task,
        mem=f"{mem_gb}GB",
        array_parallelism=array_parallelism,
        signal_delay_s=120,
        additional_parameters=dict(requeue=True),
        setup=list(setup) or None,
    )
    return ex.map_array(Trainer(), [[s] for s in specs])


def submit_local(
    specs: list[RunSpec], folder: Path, *, gpus: list[str], workers: int | None = None, time_min=24 * 60
) -> list:
    """One worker process per GPU of ``gpus`` (``CUDA_VISIBLE_DEVICES`` set to it: entries as the machine
    numbers them, :func:`local_gpus`), or ``workers`` CPU processes without GPUs; each walks the whole list
    from its own starting point and trains what no other worker holds."""
    submitit = _submitit()
    n = len(gpus) if gpus else (workers or 1)
    jobs = []
    for k in range(min(n, len(specs))):
        ex = submitit.LocalExecutor(folder)
        ex.update_parameters(timeout_min=time_min, **(_one_gpu(gpus[k]) if gpus else dict(gpus_per_node=0)))
        jobs.append(ex.submit(Trainer(), rotated(specs, k)))
    return jobs


def _one_gpu(gpu: str) -> dict:
    """submitit's local parameters that give a worker ``gpu`` alone: its index (submitit takes integers), or a
    UUID (``GPU-...``, ``MIG-...``) exported by the worker's shell."""
    if gpu.isdigit():
        return dict(gpus_per_node=1, visible_gpus=(int(gpu),))
    return dict(gpus_per_node=0, setup=[f"export CUDA_VISIBLE_DEVICES={shlex.quote(gpu)}"])


def local_gpus(asked: str | None = None) -> list[str]:
    """The GPUs the local workers get, one each, as ``CUDA_VISIBLE_DEVICES`` entries of this machine: every
    GPU this process may use (:func:`helpers.book.execute.visible_gpus`: its own ``CUDA_VISIBLE_DEVICES`` when
    set, so under ``2,3`` the workers get GPUs 2 and 3), or those that ``asked`` names by this process's CUDA
    indices ("0,1": cuda:0 and cuda:1 here, mapped the same way)."""
    visible = visible_gpus()
    if not asked:
        return visible
    idx = [int(g) for g in asked.split(",") if g.strip()]
    bad = [i for i in idx if not 0 <= i < len(visible)]
    if bad:
        raise ValueError(
            f"--gpus {asked}: no GPU {bad} here; this process sees {len(visible)} GPU(s) "
            f"({', '.join(visible) or 'none'}: CUDA_VISIBLE_DEVICES or nvidia-smi), numbered from 0"
        )
    return [visible[i] for i in idx]


def report(jobs) -> int:
    """Wait for ``jobs`` and print what each run came to; the number of runs that failed (or jobs, when a
    whole job failed: its log says why)."""
    failed = 0
    for job in jobs:
        try:
            results = job.result()
        except Exception as err:  # noqa: BLE001 (a job that died: its log says why)
            failed += 1
            print(
                f"  job {job.job_id} FAILED: {type(err).__name__}: {str(err)[-2000:]}\n"
                f"  logs: {job.paths.stderr}",
                file=sys.stderr,
            )
            continue
        for res in results:
            if res["status"] == "failed":
                failed += 1
                print(
                    f"  {res['key']}: FAILED in job {job.job_id}: {res['error']}\n{res.get('traceback', '')}"
                    f"  logs: {job.paths.stderr}",
                    file=sys.stderr,
                )
                continue
            print(
                f"  {res['key']}: {res['status']}"
                + (
                    f", test accuracy {res['test_acc']:.4f} in {res['seconds']:.0f} s on {res['device']}"
                    if "test_acc" in res
                    else ""
                ),
                flush=True,
            )
    return failed


# --- the command ----------------------------------------------------------------------------------------


def _common_options() -> argparse.ArgumentParser:
    """The options of both ``plan`` and ``submit``: the profile, the pages, their knobs, the speed."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--profile", default=os.environ.get("PROFILE", "paper"), choices=PROFILES)
    common.add_argument(
        "--only", nargs="*", help="page names (notebooks without .ipynb); default: every page"
    )
    common.add_argument(
        "-p",
        nargs=2,
        action="append",
        default=[],
        metavar=("KNOB", "VALUE"),
        help="a knob of every chosen page that declares it, as for the build (-p seeds 4)",
    )
    common.add_argument(
        "--tflops",
        type=float,
        help="the training speed to assume, TFLOP/s (default: measured "
        f"from the cache's GPU runs, else {ASSUMED_TFLOPS:g} assumed)",
    )
    common.add_argument("--measure", action="store_true", help="time a few mini-batches of each network here")
    common.add_argument("--device", help="device to train and measure on (default: CUDA when present)")
    return common


def _submit_options(s: argparse.ArgumentParser) -> None:
    """The options of ``submit``: the executor, Slurm's resources, the local GPUs."""
    s.add_argument("--executor", choices=("slurm", "local"), required=True)
    s.add_argument(
        "--folder",
        default=None,
        help="submitit's folder: scripts, pickles, logs (default: $MECH_CACHE/submitit/<date>)",
    )
    s.add_argument("--partition")
    s.add_argument("--account")
    s.add_argument(
        "--time",
        type=int,
        default=24 * 60,
        help="minutes per job before Slurm's timeout (the job is then requeued and resumes); default 1440",
    )
    s.add_argument("--array-parallelism", type=int, default=16, help="array tasks running at once (GPUs)")
    s.add_argument("--cpus-per-task", type=int, default=8)
    s.add_argument("--mem-gb", type=int, default=32)
    s.add_argument("--max-requeue", type=int, default=10, help="timeouts a job may be requeued after")
    s.add_argument(
        "--setup",
        action="append",
        default=[],
        help="a shell line each Slurm job runs first (module load ..., source .venv/bin/activate)",
    )
    s.add_argument(
        "--gpus",
        help="local: this process's CUDA indices (0,1 ...: of CUDA_VISIBLE_DEVICES when set), "
        "one worker each (default: every GPU here)",
    )
    s.add_argument("--workers", type=int, help="local, without GPUs: processes side by side (default 1)")
    s.add_argument("--wait", action="store_true", help="wait for the jobs and print what each did")
    s.add_argument("--dry-run", action="store_true", help="print what would be submitted, submit nothing")


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m helpers", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = ap.add_subparsers(dest="command", required=True)
    common = _common_options()
    p = sub.add_parser(
        "plan", parents=[common], help="list the runs the pages need, cached or not, and their hours"
    )
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    _submit_options(
        sub.add_parser("submit", parents=[common], help="train the missing runs through submitit")
    )
    return ap


def main(argv=None) -> int:
    ap = _parser()
    args = ap.parse_args(argv)
    if any(k == "profile" for k, _ in args.p):
        ap.error("the profile is chosen with --profile, not -p profile")
    try:
        p = plan(
            args.profile, args.only, args.p, measure=args.measure, tflops=args.tflops, device=args.device
        )
    except ValueError as err:
        ap.error(str(err))
    if args.command == "plan":
        print(json.dumps(p.record(), indent=1) if args.json else format_plan(p))
        return 0
    return _submit(ap, args, p)


def _submit(ap: argparse.ArgumentParser, args, p) -> int:
    """``submit``: the missing runs of the plan ``p`` through submitit's executor (or, with ``--dry-run``,
    what would be)."""
    todo = p.missing()
    held = [r for r in p.runs if r.status == "claimed"]
    print(
        f"{len(p.runs)} run(s) planned: {sum(r.status == 'cached' for r in p.runs)} cached, {len(held)} held "
        f"by running jobs (left to them), {len(todo)} to train ({sum(r.remaining_hours for r in todo):.2f} "
        "GPU-hours)"
    )
    if not todo:
        print(f"nothing to submit; build the book: make book PROFILE={args.profile}")
        return 0
    specs = [RunSpec.of(r, args.device) for r in todo]
    folder = Path(args.folder or cache_root() / "submitit" / time.strftime("%Y%m%d-%H%M%S")).resolve()
    if args.dry_run:
        for r in todo:
            print(f"  would train {r.key}  {describe(r)}  {r.remaining_hours:.2f} GPU-h")
        return 0
    if args.executor == "slurm":
        jobs = submit_slurm(
            specs,
            folder,
            partition=args.partition,
            account=args.account,
            time_min=args.time,
            array_parallelism=args.array_parallelism,
            cpus_per_task=args.cpus_per_task,
            mem_gb=args.mem_gb,
            max_requeue=args.max_requeue,
            setup=args.setup,
        )
    else:
        try:
            gpus = local_gpus(args.gpus)
        except ValueError as err:
            ap.error(str(err))
        jobs = submit_local(specs, folder, gpus=gpus, workers=args.workers, time_min=args.time)
    print(
        f"submitted {len(jobs)} job(s) for {len(specs)} run(s) through submitit's {args.executor} executor: "
        f"{', '.join(j.job_id for j in jobs[:8])}{' ...' if len(jobs) > 8 else ''}; scripts and logs in "
        f"{folder}"
    )
    print(
        f"progress: python -m helpers plan --profile {args.profile}; when every run is cached: "
        f"make book PROFILE={args.profile}"
    )
    if not args.wait:
        return 0
    return 1 if report(jobs) else 0


if __name__ == "__main__":
    sys.exit(main())
