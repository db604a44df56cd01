"""Beyond one machine (helpers.book.plan and helpers.book.jobs, `python -m helpers.train.runs plan|submit`),
without a GPU or Slurm: the plan lists exactly the runs the pages then use; the local executor trains them in
parallel processes and a following build trains nothing; the Slurm path writes submitit's sbatch script and
calls a stand-in sbatch; a job killed mid-training resumes from its checkpoint when resubmitted; the lease
files keep one run to one job across hosts; the build gives each --jobs slot its own GPU; the probes run on
the device they are given."""

import errno
import fcntl
import json
import os
import pickle
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import filelock
import pytest
import torch
from conftest import ROOT, write_npz

from helpers.book import execute, flops, jobs, plan_text, worker
from helpers.book import plan as plan_mod
from helpers.infra import locks
from helpers.train import data, probes, profiles, runs

SMOKE_PAGES = ["mechanism-dilution-filters", "universal-table6-vgg16-cifar-k10"]
# knobs that keep the pages cheap here (two smoke runs: a VGG-16 on CIFAR-3/10 and the full one, which both
# pages use)
# while exercising a model list (dilution) and a K sweep (K = 10 is the full run, not a K-label one)
SMOKE_KNOBS = [("models", "['vgg16']"), ("Ks", "[3, 10]")]


@pytest.fixture
def cifar(tmp_path, monkeypatch):
    """Generated CIFAR-10 (and no CIFAR-100: those pages plan their stand-in) in MECH_DATA, an empty book
    root."""
    d = tmp_path / "data"
    d.mkdir()
    write_npz(d / "cifar10.npz", data.synthetic_cifar(10, n_train=600, n_test=300, seed=0))
    monkeypatch.setenv("MECH_DATA", str(d))
    root = tmp_path / "book-root"
    (root / "book" / "generated").mkdir(parents=True)
    monkeypatch.setenv("MECH_BOOK_ROOT", str(root))
    return d


def command(capsys, *args):
    """``python -m helpers.train.runs ...`` (its ``main``, in this process); what it printed."""
    capsys.readouterr()
    assert jobs.main(list(args)) == 0
    return capsys.readouterr().out


def test_runs_module_is_the_command():
    out = subprocess.run(
        [sys.executable, "-m", "helpers.train.runs", "plan", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0 and "--measure" in out.stdout and "--json" in out.stdout, out.stderr


def knob_args(knobs=SMOKE_KNOBS):
    return [a for k, v in knobs for a in ("-p", k, v)]


def run_dirs() -> dict:
    """Finished runs in the cache: key -> model.pt's mtime."""
    return {
        p.parent.name: p.stat().st_mtime_ns
        for p in (Path(os.environ["MECH_CACHE"]) / "runs").glob("*/model.pt")
    }


# --- the plan ------------------------------------------------------------------------------------------

# helpers a notebook may hand its page to without training anything beyond the page's own run per seed
ONE_RUN_PER_SEED = {
    "fig2.layer_accuracy",
    "fig5.seed_statistics",
    "after_pooling.statistics",  # the same networks read at more taps: FC layers only
    "robustness.threshold_sweep",
    "layer_tables.reference_rows",
    "layer_tables.layer_table",
    "layer_tables.table_notes",
    "k_tables.Ks_for",
    "table3.dry_run_frame",
    "dynamics.over_training",
}  # the page's own run; its snapshots are kept by that run's training


def test_every_page_not_listed_trains_one_run_per_seed():
    """The plan's default (``plan_mod.runs_of``): a notebook outside ``PAGE_RUNS`` asks its page for no other
    model, K or blocks, and hands the page only to helpers that train nothing more; a new kind of page must be
    listed."""
    books = {p.stem: p for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert set(plan_mod.PAGE_RUNS) <= set(books)  # no entry for a page that is gone
    for name, path in books.items():
        if name in plan_mod.PAGE_RUNS:
            continue
        cells = json.loads(path.read_text())["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        assert not re.search(r"page\.(study|run)\([^)]*\b(model|K|blocks)=", code), name
        handed = set(re.findall(r"([\w.]+)\((?:[^()]*,\s*)?page\s*[,)]", code))
        assert handed <= ONE_RUN_PER_SEED, (
            f"{name} hands its page to {handed - ONE_RUN_PER_SEED}: list it in helpers.book.plan.PAGE_RUNS"
        )


def test_plan_covers_every_page_and_deduplicates(cifar):
    p = plan_mod.plan("smoke")
    assert set(p.pages) == {p.stem for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert len({r.key for r in p.runs}) == len(p.runs)
    vgg16 = [r for r in p.runs if r.config.model == "vgg16" and r.config.K is None and not r.config.seed]
    assert (
        len(vgg16) == 1 and len(vgg16[0].pages) >= 10
    )  # the mechanism and universal VGG-16 pages share one run
    assert p.pages["architectures-taps"] == [] and "universal-table3-effnet-imagenet" in p.skipped
    assert all(r.status == "missing" and r.hours > 0 for r in p.runs)
    assert sorted(p.pages["universal-effnet-afcc"]) == sorted(
        r.key for r in p.runs if r.config.model == "efficientnet_b0" and r.config.K is None
    )  # full + 2 shortened
    assert len(p.pages["universal-effnet-afcc"]) == 3
    with pytest.raises(ValueError, match="unknown knob"):
        plan_mod.plan("smoke", ["mechanism-fig7-vgg6"], [("seeeds", "2")])
    with pytest.raises(ValueError, match="unknown page"):
        plan_mod.plan("smoke", ["mechanism-fig99"])


def test_plan_counts_the_afcc_page_whole_network_retraining(cifar):
    """The EfficientNet AFCC page retrains the entire network twice (AFCC mask, random mask) for
    ``network_epochs`` epochs, outside the run cache: the plan adds those hours to the page and says so, and
    lists no run for them (submit cannot train them)."""
    name = "universal-effnet-afcc"
    one, three = (plan_mod.plan("smoke", [name], [("network_epochs", str(e))]) for e in (1, 3))
    full = next(r for r in one.runs if not r.config.blocks)
    epoch_hours = full.hours * full.train_flops * full.n_train / plan_mod.run_flops(full)
    assert one.retraining[name] == pytest.approx(2 * epoch_hours)
    assert three.retraining[name] == pytest.approx(3 * one.retraining[name])
    assert one.page_hours()[name] == pytest.approx(sum(r.hours for r in one.runs) + one.retraining[name])
    assert len(three.runs) == len(one.runs) == 3 and one.record()["retraining_hours"] == one.retraining
    assert "the pages train themselves" in plan_text.format_plan(one)
    assert plan_mod.plan("smoke", ["mechanism-fig2-layer-accuracy"]).retraining == {}


def test_a_plan_made_where_no_data_is_lists_the_runs_and_says_where_the_data_must_be(tmp_path, monkeypatch):
    """Issue 37: a login node or a laptop without CIFAR plans the paper's runs from the datasets' shapes
    (sizes and GPU-hours right, no cache key, nothing to submit from here) and names the data directory."""
    empty = tmp_path / "no-data"
    empty.mkdir()
    monkeypatch.setenv("MECH_DATA", str(empty))
    names = ["mechanism-fig2-layer-accuracy", "universal-table1-vgg16-cifar100"]
    p = plan_mod.plan("paper", names)
    assert p.runs and not p.skipped and p.missing() == []
    assert {r.status for r in p.runs} == {plan_mod.NO_DATA} and all(r.hours > 0 for r in p.runs)
    assert {r.data for r in p.runs} == {"cifar10", "cifar100"}  # the paper's datasets, no stand-in
    assert {r.num_classes for r in p.runs} == {10, 100} and {r.n_train for r in p.runs} == {50_000}
    assert all(run["key"] is None for run in p.record()["runs"])
    text = plan_text.format_plan(p)
    assert "cifar10, cifar100 not here" in text and str(empty) in text and "(with the data)" in text
    # where CIFAR-10 is here, the CIFAR-100 page plans its stand-in, as the build here trains it
    write_npz(empty / "cifar10.npz", data.synthetic_cifar(10, n_train=600, n_test=300, seed=0))
    here = plan_mod.plan("cpu", names)
    assert here.without_data() == [] and {r.data for r in here.runs} == {"cifar10"}
    assert all(r.status == "missing" for r in here.runs)


def test_fig7_plans_vgg16_per_seed_as_fig2_trains_it(cifar):
    """Fig. 7's accuracy gap sets VGG-6 against as many VGG-16 as Fig. 2 trains at the profile (shared runs),
    never more than its own VGG-6: at `cpu` 2 of each, the same VGG-16 runs as Fig. 2's."""
    p = plan_mod.plan("cpu", ["mechanism-fig7-vgg6", "mechanism-fig2-layer-accuracy"])
    fig7 = [r for r in p.runs if r.key in p.pages["mechanism-fig7-vgg6"]]
    assert sorted((r.config.model, r.config.seed) for r in fig7) == [
        ("vgg16", 0),
        ("vgg16", 1),
        ("vgg6", 0),
        ("vgg6", 1),
    ]
    vgg16 = {r.key for r in fig7 if r.config.model == "vgg16"}
    assert vgg16 == set(p.pages["mechanism-fig2-layer-accuracy"])
    one = plan_mod.plan("cpu", ["mechanism-fig7-vgg6"], [("seeds", "1")])
    assert sorted(r.config.model for r in one.runs) == ["vgg16", "vgg6"]


def test_trend_pages_plan_the_vgg16_seeds_fig2_trains_and_no_other(cifar):
    """Fig. 5 and the layer tables decide their trends over every VGG-16 on CIFAR-10 the book trains anyway
    (Fig. 2's, one per seed): the same runs, shared; EfficientNet-B0's table keeps its one network (a second
    would be new training)."""
    names = [
        "mechanism-fig2-layer-accuracy",
        "mechanism-fig5-cluster-statistics",
        "universal-table1-vgg16-cifar100",
        "universal-table6-vgg16-cifar-k10",
        "universal-table2-effnet-cifar100",
    ]
    p = plan_mod.plan("cpu", names)
    fig2 = set(p.pages["mechanism-fig2-layer-accuracy"])
    assert len(fig2) == 2 and set(p.pages["mechanism-fig5-cluster-statistics"]) == fig2
    assert set(p.pages["universal-table1-vgg16-cifar100"]) == fig2  # the CIFAR-10 stand-in: Fig. 2's VGG-16
    assert fig2 <= set(p.pages["universal-table6-vgg16-cifar-k10"])  # K = 10 is the full CIFAR-10
    assert len(p.pages["universal-table2-effnet-cifar100"]) == 1


def test_plan_speed_is_measured_when_asked_and_said_to_be_assumed_otherwise(cifar):
    p = plan_mod.plan("smoke", ["mechanism-fig6-signal-noise"])
    assert p.speed["source"].startswith("ASSUMED")
    measured = plan_mod.plan("smoke", ["mechanism-fig6-signal-noise"], measure=True, device="cpu")
    assert measured.speed["source"].startswith("measured now") and measured.speed["tflops"]["vgg16"] > 0
    r = p.runs[
        0
    ]  # FLOPs: 3x the forward pass, times images and epochs, plus the test set after the last epoch
    assert plan_mod.run_flops(r) == pytest.approx(r.train_flops * (r.n_train + r.n_test / 3))
    assert r.hours == pytest.approx(plan_mod.run_flops(r) / flops.ASSUMED_TFLOPS / 1e12 / 3600)


@pytest.mark.slow
def test_submit_local_trains_in_parallel_and_the_build_then_trains_nothing(cifar, tmp_path, capsys):
    planned = json.loads(
        command(capsys, "plan", "--profile", "smoke", "--only", *SMOKE_PAGES, *knob_args(), "--json")
    )
    keys = {r["key"] for r in planned["runs"]}
    assert len(keys) == 2 and all(r["status"] == "missing" for r in planned["runs"])
    assert (
        planned["pages"]["mechanism-dilution-filters"]["runs"][0] in planned["pages"][SMOKE_PAGES[1]]["runs"]
    )
    out = command(
        capsys,
        "submit",
        "--profile",
        "smoke",
        "--only",
        *SMOKE_PAGES,
        *knob_args(),
        "--executor",
        "local",
        "--workers",
        "2",
        "--wait",
        "--folder",
        str(tmp_path / "submitit"),
    )
    assert "submitted 2 job(s) for 2 run(s)" in out and out.count(": trained") == 2, out
    trained = run_dirs()
    assert set(trained) == keys
    infos = [json.loads((Path(os.environ["MECH_CACHE"]) / "runs" / k / "run.json").read_text()) for k in keys]
    pids = {i["segments"][0]["pid"] for i in infos}
    assert len(pids) == 2 and os.getpid() not in pids  # two worker processes, not this one
    # side by side: each worker's results carry its pid and each attempt's start and end (time.time())
    results = [
        r for p in (tmp_path / "submitit").glob("*_result.pkl") for r in pickle.loads(p.read_bytes())[1]
    ]
    spans = {
        pid: (
            min(r["started"] for r in results if r["pid"] == pid),
            max(r["ended"] for r in results if r["pid"] == pid),
        )
        for pid in pids
    }
    (a0, a1), (b0, b1) = spans.values()
    assert max(a0, b0) < min(a1, b1), spans  # the two workers' intervals overlap
    again = json.loads(
        command(capsys, "plan", "--profile", "smoke", "--only", *SMOKE_PAGES, *knob_args(), "--json")
    )
    assert {r["status"] for r in again["runs"]} == {"cached"} and {r["key"] for r in again["runs"]} == keys
    # the build of those pages uses exactly the planned runs, and trains none
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "helpers.book.build",
            "--profile",
            "smoke",
            "--no-html",
            "--jobs",
            "1",
            "--only",
            *SMOKE_PAGES,
            *knob_args(),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert run_dirs() == trained  # no run trained again, no other run trained
    generated = Path(os.environ["MECH_BOOK_ROOT"]) / "book" / "generated"
    for page, info in again["pages"].items():
        text = (generated / f"{page}.ipynb").read_text()
        assert all(k in text for k in info["runs"]), page  # its runs table lists every run the plan gave it


# --- Slurm, through a stand-in sbatch ---------------------------------------------------------------

SBATCH = """#!/bin/sh
echo "$@" >> "{log}"
cp "$1" "{log}.script"
echo "Submitted batch job 4242"
"""


def test_slurm_submission_is_one_array_with_the_resources_asked(cifar, tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "sbatch.log"
    (bin_dir / "sbatch").write_text(SBATCH.format(log=log))
    (bin_dir / "srun").write_text(
        "#!/bin/sh\nexit 1\n"
    )  # submitit looks for it; the job's script would call it
    for tool in ("sbatch", "srun"):
        (bin_dir / tool).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    folder = tmp_path / "submitit"
    rc = jobs.main(
        [
            "submit",
            "--profile",
            "smoke",
            "--only",
            *SMOKE_PAGES,
            *knob_args(),
            "--executor",
            "slurm",
            "--partition",
            "gpu-a100",
            "--account",
            "kanter-lab",
            "--time",
            "720",
            "--array-parallelism",
            "1",
            "--folder",
            str(folder),
            "--setup",
            "module load cuda",
        ]
    )
    assert rc == 0
    args = log.read_text().split()
    assert len(args) == 1 and args[0].endswith(".sh") and str(folder) in args[0]  # sbatch <submitit's script>
    script = (tmp_path / "sbatch.log.script").read_text()
    for line in (
        "#SBATCH --array=0-1%1",
        "#SBATCH --partition=gpu-a100",
        "#SBATCH --account=kanter-lab",
        "#SBATCH --time=720",
        "#SBATCH --gpus-per-node=1",
        "#SBATCH --ntasks-per-node=1",
        "#SBATCH --requeue",
        "#SBATCH --signal=USR2@120",
        "#SBATCH --mem=32GB",
        "module load cuda",
    ):
        assert line in script, line
    assert f"{sys.executable} -u -m submitit.core._submit {folder}" in script and "srun" in script
    # one pickled task per run, each the Trainer on one planned run, longest first
    tasks = sorted(folder.glob("4242_*_submitted.pkl"), key=lambda p: int(p.name.split("_")[1]))
    delayed = [pickle.loads(p.read_bytes()) for p in tasks]
    assert all(isinstance(d.function, worker.Trainer) for d in delayed)
    specs = [d.args[0] for d in delayed]
    assert all(len(s) == 1 for s in specs)
    planned = plan_mod.plan("smoke", SMOKE_PAGES, [tuple(k) for k in SMOKE_KNOBS])
    assert [s[0].key for s in specs] == [r.key for r in planned.missing()]
    assert all(s[0].cache_dir == str(Path(os.environ["MECH_CACHE"]).resolve()) for s in specs)
    assert not run_dirs()  # nothing trained here


# --- killed and resubmitted ------------------------------------------------------------------------------


def wait_until(condition, seconds=300):
    deadline = time.time() + seconds
    while not condition():
        assert time.time() < deadline
        time.sleep(0.1)


@pytest.mark.slow
def test_job_killed_mid_training_resumes_from_its_checkpoint(cifar, tmp_path):
    p = plan_mod.plan("smoke", ["mechanism-fig7-vgg6"], [("epochs", "8")])
    r = next(r for r in p.runs if r.config.model == "vgg6")
    run_dir = Path(os.environ["MECH_CACHE"]) / "runs" / r.key
    job = jobs.submit_local([worker.RunSpec.of(r)], tmp_path / "submitit", gpus=[])[0]
    wait_until(lambda: (run_dir / "progress.json").is_file())
    holder = json.loads((run_dir / ".lease").read_text())
    assert holder["pid"] != os.getpid()
    os.kill(holder["pid"], signal.SIGKILL)  # the training process dies (preempted, out of memory) mid-run
    wait_until(lambda: job.done())
    done = json.loads((run_dir / "progress.json").read_text())["epoch"]
    assert 1 <= done < 8 and not (run_dir / "model.pt").exists() and (run_dir / "checkpoint.pt").is_file()
    after = {x.key: x for x in plan_mod.plan("smoke", ["mechanism-fig7-vgg6"], [("epochs", "8")]).runs}[r.key]
    assert after.status == "partial" and after.done_epochs == done  # the dead process's lease does not count
    again = jobs.submit_local([worker.RunSpec.of(r)], tmp_path / "submitit", gpus=[])[0]
    (res,) = again.result()
    assert res["status"] == "trained" and res["resumed_from_epoch"] >= done
    info = json.loads((run_dir / "run.json").read_text())
    assert len(info["metrics"]) == 8 and [s["pid"] for s in info["segments"]][0] == holder["pid"]
    assert info["segments"][0]["first_epoch"] == 1 and info["segments"][-1]["last_epoch"] == 8
    assert len({s["pid"] for s in info["segments"]}) == 2
    assert not (run_dir / ".lease").exists() and not (run_dir / "checkpoint.pt").exists()


def test_trainer_is_checkpointable_and_requeues_with_its_runs():
    spec = worker.RunSpec("k", {}, "/d", "/c")
    delayed = worker.Trainer().checkpoint([spec])
    assert isinstance(delayed.function, worker.Trainer) and delayed.args == ([spec],)


def test_a_worker_records_each_failure_and_walks_again_what_was_held_or_failed(monkeypatch):
    """One failing run does not stop a worker's list; each run's result says what happened; a run held by
    another process, or failed, is tried once more at the end, waiting for a holder this time (taken over if
    it died)."""
    calls, failures = [], {"broken": 2, "flaky": 1}

    def train_spec(spec, loaded, wait=False):  # stand-in: no training
        calls.append((spec.key, wait))
        if failures.get(spec.key, 0) > 0:
            failures[spec.key] -= 1
            raise RuntimeError(f"CUDA out of memory ({spec.key})")
        if spec.key == "held" and not wait:
            return dict(key=spec.key, status="held by pid 7 on node-3: left to it", seconds=0.0)
        return dict(key=spec.key, status="trained", test_acc=0.5, seconds=1.0, device="cpu")

    monkeypatch.setattr(worker, "train_spec", train_spec)
    specs = [worker.RunSpec(k, {}, "/d", "/c") for k in ("broken", "flaky", "held", "fine")]
    results = {r["key"]: r for r in worker.Trainer()(specs)}
    assert calls == [
        ("broken", False),
        ("flaky", False),
        ("held", False),
        ("fine", False),
        ("broken", True),
        ("flaky", True),
        ("held", True),
    ]
    assert (
        results["broken"]["status"] == "failed"
        and "RuntimeError: CUDA out of memory (broken)" in results["broken"]["error"]
        and "train_spec" in results["broken"]["traceback"]
    )
    assert results["flaky"]["status"] == "trained" and results["flaky"]["first_pass"] == "failed"
    assert results["held"]["status"] == "trained" and results["held"]["first_pass"].startswith("held by")
    assert results["fine"]["status"] == "trained" and "first_pass" not in results["fine"]
    assert all(r["pid"] == os.getpid() and r["started"] <= r["ended"] for r in results.values())


def test_report_counts_failed_runs_and_failed_jobs(capsys):
    class Job:
        def __init__(self, job_id, results):
            self.job_id, self.results, self.paths = (
                job_id,
                results,
                type("P", (), {"stderr": f"{job_id}.err"}),
            )

        def result(self):
            if isinstance(self.results, Exception):
                raise self.results
            return self.results

    ok = dict(key="a", status="trained", test_acc=0.5, seconds=3.0, device="cpu")
    bad = dict(key="b", status="failed", error="RuntimeError: boom", traceback="...")
    assert jobs.report([Job("1", [ok]), Job("2", [ok, bad]), Job("3", RuntimeError("killed"))]) == 2
    out = capsys.readouterr()
    assert (
        "a: trained" in out.out
        and "b: FAILED in job 2: RuntimeError: boom" in out.err
        and "job 3 FAILED" in out.err
    )
    assert jobs.report([Job("1", [ok])]) == 0


# --- leases across hosts -------------------------------------------------------------------------------


@pytest.fixture
def quick_leases(monkeypatch):
    monkeypatch.setattr(locks, "LEASE_STALE_S", 0.6)
    monkeypatch.setattr(locks, "LEASE_POLL_S", 0.05)
    monkeypatch.setattr(locks, "LEASE_BEAT_S", 0.1)


def foreign_lease(directory, **holder):
    """A lease file as another machine's process writes it (``holder`` overrides its fields); its path."""
    directory.mkdir(parents=True, exist_ok=True)
    record = dict(
        host="node-17",
        pid=4321,
        job=None,
        procid=None,
        restart=0,
        boot="boot-of-node-17",
        pidns="pid:[4026531836]",
        token="theirs",
        since="then",
    )
    (directory / ".lease").write_text(json.dumps(dict(record, **holder)))
    return directory / ".lease"


def here(**holder) -> dict:
    """A lease's fields naming a process of this host, boot and pid namespace (``holder`` overrides them)."""
    return dict(
        dict(
            host=socket.gethostname(),
            boot=Path("/proc/sys/kernel/random/boot_id").read_text().strip(),
            pidns=os.readlink("/proc/self/ns/pid"),
        ),
        **holder,
    )


def age(path, seconds):
    """Make ``path``'s mtime ``seconds`` old (a heartbeat that stopped that long ago)."""
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_a_lease_from_another_host_holds_until_its_heartbeat_stops(tmp_path, quick_leases, capfd):
    foreign_lease(tmp_path / "run")
    with pytest.raises(locks.LockHeld, match="pid 4321 on node-17"):
        with locks.locked(tmp_path / "run", wait=False):
            pass
    t0 = time.monotonic()
    with locks.locked(
        tmp_path / "run"
    ):  # waits, then takes over once the mtime stood still for LEASE_STALE_S
        assert json.loads((tmp_path / "run" / ".lease").read_text())["pid"] == os.getpid()
    assert time.monotonic() - t0 >= 0.6
    err = capfd.readouterr().err
    assert "waiting for the lock on" in err and "heartbeat stopped" in err
    assert not (tmp_path / "run" / ".lease").exists()


def test_a_live_lease_keeps_its_heartbeat_and_is_never_taken_over(tmp_path, quick_leases):
    held, release, got = threading.Event(), threading.Event(), threading.Event()

    def holder():
        with locks.lease(tmp_path / "run"):
            held.set()
            release.wait(10)

    def waiter():
        with locks.lease(tmp_path / "run"):
            got.set()

    first = threading.Thread(target=holder)
    first.start()
    held.wait(10)
    mtime = (tmp_path / "run" / ".lease").stat().st_mtime_ns
    second = threading.Thread(target=waiter)
    second.start()
    time.sleep(1.5)  # beyond LEASE_STALE_S: only the heartbeat keeps the lease
    assert not got.is_set() and (tmp_path / "run" / ".lease").stat().st_mtime_ns > mtime
    release.set()
    first.join()
    second.join(5)
    assert got.is_set()  # released: the waiter has it at once


def test_a_requeued_job_and_a_dead_process_lose_their_leases_at_once(tmp_path, quick_leases, monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "4242_3")
    monkeypatch.setenv("SLURM_RESTART_COUNT", "1")
    foreign_lease(tmp_path / "run", job="4242_3")  # this job before Slurm requeued it on another node
    with locks.lease(tmp_path / "run", wait=False):
        pass
    monkeypatch.delenv("SLURM_JOB_ID")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    foreign_lease(tmp_path / "run", **here(pid=dead.pid))  # killed on this host
    with locks.lease(tmp_path / "run", wait=False):
        pass


def test_a_dead_lease_from_another_host_is_taken_over_at_one_look(tmp_path, quick_leases):
    """Submit's workers lock with wait=False: a lease whose heartbeat is older than LEASE_STALE_S by this
    host's clock (its job SIGKILLed by scancel or the OOM killer, its node crashed: no `finally` ran) is taken
    over at once, as plan (lease_holder) judges it; a fresh one raises LockHeld."""
    path = foreign_lease(tmp_path / "run")
    with pytest.raises(locks.LockHeld, match="pid 4321 on node-17"):
        with locks.locked(tmp_path / "run", wait=False):
            pass
    age(path, 60)
    assert locks.lease_holder(tmp_path / "run") is None
    with locks.locked(tmp_path / "run", wait=False):
        assert json.loads(path.read_text())["pid"] == os.getpid()
    assert not path.exists()


def test_a_live_task_of_the_same_allocation_keeps_its_lease(tmp_path, quick_leases, monkeypatch):
    """Two live processes of one multi-node allocation share SLURM_JOB_ID: only a lower restart count of the
    same task (SLURM_PROCID) marks the holder as this job before a requeue."""
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    monkeypatch.setenv("SLURM_PROCID", "1")
    for other in (
        dict(procid="0"),
        dict(procid="1"),
    ):  # another task of this allocation; this task, same life
        foreign_lease(tmp_path / "run", job="4242", **other)
        with pytest.raises(locks.LockHeld, match="node-17, job 4242"):
            with locks.lease(tmp_path / "run", wait=False):
                pass
    monkeypatch.setenv("SLURM_RESTART_COUNT", "2")
    foreign_lease(
        tmp_path / "run", job="4242", procid="0", restart=1
    )  # another task, even of an earlier life
    with pytest.raises(locks.LockHeld):
        with locks.lease(tmp_path / "run", wait=False):
            pass
    foreign_lease(tmp_path / "run", job="4242", procid="1", restart=1)  # this task before Slurm requeued it
    with locks.lease(tmp_path / "run", wait=False):
        pass


def test_a_pid_is_trusted_only_in_the_same_boot_and_pid_namespace(tmp_path, quick_leases):
    """Containers may share a hostname but not a pid namespace: a lease naming this host and a pid that does
    not exist here is taken over at once only when its boot id and pid namespace are this process's."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    for other in (dict(boot="another-boot"), dict(pidns="pid:[1]")):
        path = foreign_lease(tmp_path / "run", **here(pid=dead.pid, **other))
        with pytest.raises(
            locks.LockHeld
        ):  # its process may be alive in another container: its heartbeat decides
            with locks.lease(tmp_path / "run", wait=False):
                pass
        age(path, 60)
        with locks.lease(tmp_path / "run", wait=False):
            pass


def test_takeovers_are_serialized_and_remove_only_the_lease_judged_stale(tmp_path, quick_leases):
    path = foreign_lease(tmp_path / "run")
    age(path, 60)
    guard = tmp_path / "run" / ".lease.takeover"
    guard.write_text(
        json.dumps(dict(host="node-9", pid=99, token="t9"))
    )  # another process is taking it over now
    with pytest.raises(locks.LockHeld, match="being taken over"):
        with locks.lease(tmp_path / "run", wait=False):
            pass
    assert json.loads(path.read_text())["pid"] == 4321  # left to that taker
    age(guard, 60)  # that taker died in the middle: its guard is removed, and this process takes over
    with locks.lease(tmp_path / "run", wait=False):
        assert json.loads(path.read_text())["pid"] == os.getpid()
    assert not guard.exists() and not path.exists()
    # a lease that beats again after it was judged stale (a paused holder) is put back, not deleted
    me = dict(locks.whoami(), token="mine")
    foreign_lease(tmp_path / "run")
    holder, mtime = locks._read_lease(path)
    os.utime(path, (mtime + 5, mtime + 5))  # its heartbeat, between the judgment and the takeover
    assert not locks._take_over(path, holder, mtime, me)
    assert json.loads(path.read_text())["pid"] == 4321 and sorted(p.name for p in path.parent.iterdir()) == [
        ".lease"
    ]
    assert locks._take_over(path, holder, mtime + 5, me) and not path.exists()


def test_a_holder_learns_that_its_lease_was_taken_over(tmp_path, quick_leases, capfd):
    with locks.locked(tmp_path / "run") as held:
        held.check()  # still its own
        foreign_lease(tmp_path / "run")  # judged dead while it was paused, and taken over
        wait_until(lambda: held.lost, seconds=10)  # its heartbeat notices
        with pytest.raises(locks.LeaseLost, match="taken over by another process .pid 4321 on node-17"):
            held.check()
    assert (
        json.loads((tmp_path / "run" / ".lease").read_text())["pid"] == 4321
    )  # the new holder's lease stays
    assert "LOST the lease" in capfd.readouterr().err


def test_a_run_whose_lease_was_lost_writes_no_checkpoint(tmp_path, quick_leases, monkeypatch):
    """The training loop's per-epoch save checks the lease first: a process whose lease another took over
    stops with a clear error instead of writing checkpoint.pt and progress.json over the new holder's."""
    cfg = profiles.train_config("smoke", "vgg16", n_train=None, n_test=None, epochs=2)
    ds = data.synthetic_cifar(10, n_train=100, n_test=50, seed=0)

    def train(model, ds, cfg, *, device, state, on_epoch, progress):  # stand-in: one epoch, then the save
        foreign_lease(run_dir)  # meanwhile another process took the run over
        on_epoch(dict(epoch=1, model=model.state_dict()))

    run_dir = Path(os.environ["MECH_CACHE"]) / "runs" / runs.run_key(cfg, ds)
    monkeypatch.setattr(runs.train_mod, "train", train)
    with pytest.raises(locks.LeaseLost, match="Stopping without writing"):
        runs.get_run(cfg, ds, progress=False)
    assert not (run_dir / "checkpoint.pt").exists() and not (run_dir / "progress.json").exists()
    assert json.loads((run_dir / ".lease").read_text())["pid"] == 4321


def test_filelock_is_a_version_that_falls_back_to_a_soft_lock_without_flock(tmp_path, monkeypatch):
    """The cache's docstring relies on filelock turning flock's ENOSYS (some network filesystems) into a soft
    lock: filelock 3.24.0 and later do (earlier ones raise NotImplementedError); pyproject.toml asks for one
    of them."""
    floor = re.search(r'"filelock>=([\d.]+)"', (ROOT / "pyproject.toml").read_text()).group(1)
    assert tuple(map(int, floor.split("."))) >= (3, 24, 0)
    assert tuple(map(int, filelock.__version__.split(".")[:3])) >= tuple(map(int, floor.split(".")))

    def no_flock(fd, op):
        raise OSError(errno.ENOSYS, "Function not implemented")

    monkeypatch.setattr(fcntl, "flock", no_flock)
    with pytest.warns(UserWarning, match="SoftFileLock"), locks.owned_lock(tmp_path / "nfs" / ".lock"):
        with pytest.raises(locks.LockHeld):  # still exclusive
            with locks.owned_lock(tmp_path / "nfs" / ".lock", wait=False):
                pass


def test_plan_does_not_count_a_lease_whose_heartbeat_is_old(tmp_path, quick_leases):
    foreign_lease(tmp_path / "run")
    assert locks.lease_holder(tmp_path / "run")["host"] == "node-17"  # fresh: a running job holds it
    old = time.time() - 60
    os.utime(tmp_path / "run" / ".lease", (old, old))
    assert locks.lease_holder(tmp_path / "run") is None  # a crashed node's: submit trains the run again


# --- devices -------------------------------------------------------------------------------------------


def test_build_gives_each_slot_its_own_gpu(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,5")
    gpus = execute.visible_gpus()
    assert gpus == ["2", "5"]
    assert [execute.slot_env(s, gpus)["CUDA_VISIBLE_DEVICES"] for s in range(3)] == ["2", "5", "2"]
    assert execute.slot_env(0, ["7"])["CUDA_VISIBLE_DEVICES"] == "2,5"  # one GPU: the build's own setting
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert execute.visible_gpus() == []


def fake_submitit(made: list):
    """A stand-in for submitit whose LocalExecutor records its parameters (into ``made``) and starts
    nothing."""

    class LocalExecutor:
        def __init__(self, folder):
            self.params = {}
            made.append(self.params)

        def update_parameters(self, **kw):
            self.params.update(kw)

        def submit(self, fn, specs):
            return SimpleNamespace(job_id=str(len(made)))

    return SimpleNamespace(LocalExecutor=LocalExecutor)


def test_local_workers_get_the_gpus_this_process_may_use(cifar, tmp_path, monkeypatch, capsys):
    """Under CUDA_VISIBLE_DEVICES=2,3 the local workers get physical GPUs 2 and 3 (submitit sets each worker's
    CUDA_VISIBLE_DEVICES to what it is given), and --gpus names this process's CUDA indices."""
    made = []
    monkeypatch.setattr(jobs, "_submitit", lambda: fake_submitit(made))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    args = [
        "submit",
        "--profile",
        "smoke",
        "--only",
        *SMOKE_PAGES,
        *knob_args(),
        "--executor",
        "local",
        "--folder",
        str(tmp_path / "submitit"),
    ]
    command(capsys, *args)
    assert [(m["gpus_per_node"], m["visible_gpus"]) for m in made] == [(1, (2,)), (1, (3,))]
    made.clear()
    command(capsys, *args, "--gpus", "1")  # cuda:1 here is physical GPU 3
    assert [m["visible_gpus"] for m in made] == [(3,)]
    assert jobs.local_gpus() == execute.visible_gpus() == ["2", "3"]  # one function maps them
    with pytest.raises(ValueError, match="no GPU \\[2\\] here; this process sees 2 GPU"):
        jobs.local_gpus("2")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-5e1c,MIG-0a7f")  # UUIDs: submitit takes integers only
    assert jobs._one_gpu("MIG-0a7f") == dict(gpus_per_node=0, setup=["export CUDA_VISIBLE_DEVICES=MIG-0a7f"])


def test_each_probe_has_a_lock_of_its_own(tmp_path, monkeypatch):
    """A process reading or training one probe does not hold up another probe; one wanting the same probe
    waits for it and then reads it instead of training it again."""
    X, y = torch.randn(60, 4, 1, generator=torch.Generator().manual_seed(0)), torch.arange(60) % 3
    monkeypatch.setattr(probes.taps_mod, "run_features", lambda *a, **kw: ({"a": X, "b": X}, y))
    trained = []
    real = probes.train_probe
    monkeypatch.setattr(probes, "train_probe", lambda *a, **kw: trained.append(1) or real(*a, **kw))
    tap_a, tap_b = (SimpleNamespace(name=n) for n in "ab")
    run = SimpleNamespace(
        key="run", config=SimpleNamespace(model="vgg16"), model=SimpleNamespace(taps=[tap_a, tap_b])
    )
    ds = SimpleNamespace(fingerprint=lambda: "data", num_classes=3)
    path_a = probes.probe_path(
        run, ds, "a", solver="sgd", hyper=profiles.probe_hyper("vgg16"), seed=0, epochs=2, copies=0, l2="mean"
    )
    held, release, done = threading.Event(), threading.Event(), {}

    def holder():  # another process, training probe a
        with locks.locked(path_a.parent, name=path_a.stem):
            held.set()
            release.wait(30)

    def want(tap):
        done[tap.name] = probes.layer_probes(run, ds, taps=[tap], epochs=2, copies=0, progress=False)[
            tap.name
        ]

    threads = [threading.Thread(target=holder)]
    threads[0].start()
    held.wait(10)
    for tap in (tap_b, tap_a):
        threads.append(threading.Thread(target=want, args=(tap,)))
        threads[-1].start()
    threads[1].join(30)
    assert "b" in done and "a" not in done  # b went on; a waits for its holder
    probes.save_torch(vars(done["b"]), path_a)  # the holder's result
    release.set()
    threads[2].join(30)
    assert done["a"].W.equal(done["b"].W) and len(trained) == 1  # read, not trained again


def test_probe_runs_on_the_device_given_and_returns_cpu_weights(monkeypatch):
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(300, 4, 2, generator=g), torch.arange(300) % 3
    a = probes.train_probe(X, y, X, y, 3, epochs=3, device="cpu", progress=False)
    b = probes.train_probe(X, y, X, y, 3, epochs=3, progress=False)  # MECH_DEVICE=cpu: the same
    assert a.device == "cpu" and a.W.device.type == "cpu" and torch.equal(a.W, b.W)
    assert (
        probes.Probe(**{k: v for k, v in vars(a).items() if k != "device"}).device == "cpu"
    )  # old cache entries
    if torch.cuda.is_available():  # where a GPU is lent: the same probe on it, within float32 rounding
        c = probes.train_probe(X, y, X, y, 3, epochs=3, device="cuda", progress=False)
        assert (
            c.device.startswith("cuda") and c.W.device.type == "cpu" and torch.allclose(a.W, c.W, atol=1e-4)
        )
    # the device given reaches the solver: a stand-in device picker (the CPU named as a GPU) records what it
    # is asked
    asked, solved_on, real_sgd = [], [], probes._sgd
    monkeypatch.setattr(
        probes, "pick_device", lambda device=None: asked.append(device) or torch.device("cpu")
    )
    monkeypatch.setattr(
        probes,
        "_sgd",
        lambda W, X, copies, y, *rest: (
            solved_on.append((W.device, X.device, y.device)) or real_sgd(W, X, copies, y, *rest)
        ),
    )
    c = probes.train_probe(X, y, X, y, 3, epochs=3, device="cuda:1", progress=False)
    assert asked == ["cuda:1"] and solved_on == [(torch.device("cpu"),) * 3] and torch.equal(c.W, a.W)
