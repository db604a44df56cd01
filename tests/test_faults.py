"""Each fault a user can meet, tried: bad knobs from every entry point, Ctrl-C during a build, a kernel killed
mid-notebook, two builds at once, damaged data and cache files, the rerun line a page prints. Each gives its
clear error or the promised recovery, with nothing lost and nothing half-written (book/rerun.md, "When
something goes wrong")."""

import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import psutil
import pytest
import torch
from conftest import ROOT, write_npz

from helpers.book import build, generated, knobs
from helpers.book import page as pages
from helpers.infra import locks, paths
from helpers.train import data, profiles, runs, taps
from helpers.train import loop as train

FIG4, FIG5 = "mechanism-fig4-field-matrices", "mechanism-fig5-cluster-statistics"


@pytest.fixture
def book(tmp_path, monkeypatch):
    """An empty book root (generated pages only), generated CIFAR-10, a private cache."""
    root = tmp_path / "book-root"
    (root / "book" / "generated").mkdir(parents=True)
    d = tmp_path / "data"
    d.mkdir()
    write_npz(d / "cifar10.npz", data.synthetic_cifar(10, n_train=600, n_test=300, seed=0))
    monkeypatch.setenv("MECH_BOOK_ROOT", str(root))
    monkeypatch.setenv("MECH_DATA", str(d))
    return root / "book" / "generated"


def start_build(*args):
    """The build in its own process group, as a terminal starts it (Ctrl-C reaches the whole group)."""
    return subprocess.Popen(
        [sys.executable, "-m", "helpers.book.build", "--profile", "smoke", "--no-html", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def run_build(*args, timeout=600):
    proc = start_build(*args)
    log = proc.communicate(timeout=timeout)[0]
    return proc.returncode, log


def kernels_of(proc) -> list[psutil.Process]:
    try:
        return [
            p
            for p in psutil.Process(proc.pid).children(recursive=True)
            if "ipykernel_launcher" in " ".join(p.cmdline())
        ]
    except psutil.NoSuchProcess:
        return []


def wait_for(condition, proc, seconds=120):
    deadline = time.time() + seconds
    while not condition():
        assert proc.poll() is None and time.time() < deadline, proc.stdout.read() if proc.stdout else ""
        time.sleep(0.1)


# --- knobs ------------------------------------------------------------------------------------------


def test_unknown_knob_from_the_build_lists_the_declared_ones(book, capsys):
    with pytest.raises(SystemExit) as stop:
        build.main(["--profile", "smoke", "--only", FIG4, "-p", "treshold", "0.4", "--no-html"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "unknown knob(s) ['treshold']" in err and "'threshold'" in err
    with pytest.raises(SystemExit):
        build.main(["--profile", "gpu"])
    assert "invalid choice: 'gpu'" in capsys.readouterr().err
    assert not list(book.iterdir())  # nothing written, nothing wiped
    assert build.PROFILES == profiles.PROFILES


def test_unknown_knob_from_python_lists_the_page_knobs(data_dir, monkeypatch):
    monkeypatch.setenv("MECH_DATA", str(data_dir))
    with pytest.raises(ValueError, match=r"unknown knob\(s\) \['treshold'\].*threshold"):
        pages.Page("x", "smoke", treshold=0.4)
    page = pages.Page("x", "smoke", taps=["13"], threshold=0.4, eta=0.1)
    again = eval(page.rerun_line(), {"pages": pages})  # built from Python: the line is the Python call
    assert (again.config, again.taps, again.threshold) == (page.config, page.taps, page.threshold)


def test_knobs_papermill_injected_are_checked_and_nothing_else():
    params = '# Parameters\nprofile = "smoke"\ntreshold = 0.4\n'
    with pytest.raises(
        ValueError, match=r"unknown knob\(s\) \['treshold'\] for page mechanism-fig4.*'threshold'"
    ):
        knobs.overrides(FIG4, dict(In=["", "profile = 'cpu'", params], profile="smoke", treshold=0.4))
    params = '# Parameters\nprofile = "smoke"\ntaps = ["13"]\nthreshold = 0.3\n'
    namespace = dict(In=["", params], profile="smoke", taps=["13"], threshold=0.3, x=3, page=1)
    assert knobs.overrides(FIG4, namespace) == dict(
        profile="smoke", taps=["13"]
    )  # scratch names are not knobs
    namespace.update(
        In=["", params, "Ks = [3, 6]"], taps=["10"]
    )  # rebound later in Jupyter: the injected values
    assert knobs.overrides(FIG4, namespace) == dict(profile="smoke", taps=["13"])
    edited = dict(In=["", "profile = 'smoke'\nthreshold = 0.5"], profile="smoke", threshold=0.5, x=3)
    assert knobs.overrides(FIG4, edited) == dict(
        profile="smoke", threshold=0.5
    )  # no papermill: the declared ones


def test_rerun_flags_read_back_as_the_same_values(monkeypatch):
    """papermill's -p, -r and -y give back exactly the values the rerun line was written from."""
    from click.testing import CliRunner
    from papermill import cli

    values = dict(
        profile="smoke",
        taps=["13", "10"],
        threshold=1e-05,
        seeds=2,
        device=None,
        stand_in=False,
        Ks=[2, 5],
        tap="10",
        eta=0.25,
    )
    monkeypatch.setenv("MECH_DATA", "../elsewhere/data")
    line = knobs.rerun_line("x", values)
    words = shlex.split(line)
    assert words[:2] == ["MECH_DATA=../elsewhere/data", f"MECH_CACHE={os.environ['MECH_CACHE']}"]
    assert words[2] == knobs.papermill_command() and words[3:5] == ["notebooks/x.ipynb", "/tmp/x.ipynb"]
    got = {}
    monkeypatch.setattr(cli, "execute_notebook", lambda *a, parameters, **kw: got.update(parameters))
    result = CliRunner().invoke(cli.papermill, words[3:])
    assert result.exit_code == 0, result.output
    assert got == values and type(got["tap"]) is str


def test_filter_index_out_of_range_is_caught_before_training(data_dir, monkeypatch):
    monkeypatch.setenv("MECH_DATA", str(data_dir))
    page = pages.Page("x", "smoke", taps=["10"])
    page.check_filter("10", 0)
    with pytest.raises(ValueError, match=r"filter_index=64 is out of range: layer 10 .* N_f = 64 filters"):
        page.check_filter("10", 64)
    assert not (runs.cache_root() / "runs").exists()  # nothing was trained to find out


# --- paths, locks, provenance ----------------------------------------------------------------------


def test_without_mech_data_every_entry_point_finds_the_shared_copy(tmp_path, monkeypatch, synth10):
    """The Makefile's fallback lives in helpers.infra.paths (issue 37): without $MECH_DATA the data is
    data/ where it holds CIFAR, else ../shared/data where that does, so that papermill and python run from
    the repository find what make finds."""
    repo, shared = tmp_path / "repo", tmp_path / "shared" / "data"
    (repo / "data").mkdir(parents=True)
    (repo / "pyproject.toml").write_text("")
    monkeypatch.delenv("MECH_DATA", raising=False)
    monkeypatch.setattr(paths, "REPO", repo)
    assert paths.data_dir() == repo / "data"  # nothing anywhere: data/, where the error says to put it
    shared.mkdir(parents=True)
    np.savez(shared / "cifar10.npz", x_train=np.zeros((1, 32, 32, 3), np.uint8))
    assert paths.data_dir() == repo / paths.SHARED_DATA and paths.data_dir().resolve() == shared
    (repo / "data" / "cifar-10-batches-py").mkdir()
    assert paths.data_dir() == repo / "data"  # the repository's own copy first
    monkeypatch.setenv("MECH_DATA", str(tmp_path))
    assert paths.data_dir() == tmp_path


def test_cache_and_data_are_anchored_to_the_repository(tmp_path, monkeypatch):
    monkeypatch.delenv("MECH_CACHE")
    monkeypatch.delenv("MECH_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    assert runs.cache_root() == ROOT / ".cache" and data.data_dir() == paths.default_data_dir()
    assert paths.default_data_dir() in (ROOT / "data", ROOT / paths.SHARED_DATA)
    assert " MECH_" not in " " + knobs.rerun_line("x", dict(profile="cpu"))  # the defaults need no prefix
    monkeypatch.setenv("MECH_DATA", str(paths.default_data_dir()))  # named, but where it would be anyway
    assert " MECH_DATA" not in " " + knobs.rerun_line("x", dict(profile="cpu"))
    monkeypatch.delenv("MECH_DATA")
    monkeypatch.setenv("MECH_CACHE", "../elsewhere")  # relative: from the repository's root, not from here
    monkeypatch.setenv("MECH_DATA", str(tmp_path))
    assert runs.cache_root() == paths.cache_root() == ROOT / "../elsewhere" and data.data_dir() == tmp_path
    assert knobs.rerun_line("x", dict(profile="cpu")).startswith(
        f"MECH_DATA={tmp_path} MECH_CACHE=../elsewhere "
    )


def test_a_waiting_process_says_who_holds_the_lock(tmp_path, capfd):
    held, release = threading.Event(), threading.Event()

    def holder():
        with locks.locked(tmp_path / "run"):
            held.set()
            release.wait(10)

    t = threading.Thread(target=holder)
    t.start()
    held.wait(10)
    threading.Timer(0.5, release.set).start()
    with locks.locked(tmp_path / "run"):
        pass
    t.join()
    err = capfd.readouterr().err
    assert f"waiting for the lock on {tmp_path / 'run'}, held by pid {os.getpid()}" in err


def test_two_builds_at_once(book):
    with locks.owned_lock(book / ".build.lock", wait=False):  # as a first build holds it
        code, log = run_build("--only", FIG4)
    assert code == 3 and f"another build of this book is running (pid {os.getpid()}" in log
    assert not list(book.glob("*.ipynb")) and not list(book.glob("*.md"))  # the second build touched nothing


def test_run_records_provenance_and_every_random_state(synth10):
    cfg = profiles.train_config("smoke", "vgg16", epochs=2)
    states = []
    model = runs.build_model(cfg, 10)
    train.train(model, synth10, cfg, progress=False, on_epoch=states.append)
    assert {"rng", "numpy", "python", "generator"} <= set(states[0])
    run = runs.get_run(cfg, synth10, progress=False)
    prov = run.info["provenance"]
    assert len(prov["commit"]) == 40 and isinstance(prov["dirty"], bool)
    assert (
        prov["device"] == "cpu"
        and prov["device_name"]
        and prov["host"]
        and prov["torch"] == torch.__version__
    )


def test_long_cpu_run_warns_with_an_estimate_and_leaves_the_run_untouched(synth10, monkeypatch):
    cfg = profiles.train_config("paper", "vgg16", n_train=None)
    model = runs.build_model(cfg, 10)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.get_rng_state()
    monkeypatch.setattr(runs, "LONG_RUN_HOURS", 1e-6)
    with pytest.warns(UserWarning, match=r"200 more epochs on 500 images is projected to take .* hours"):
        seconds = runs._warn_if_long(model, synth10, cfg)
    assert seconds > 0 and torch.equal(rng, torch.get_rng_state())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    monkeypatch.setattr(runs, "LONG_RUN_HOURS", 1e9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        runs._warn_if_long(model, synth10, cfg)


# --- damaged files --------------------------------------------------------------------------------


def test_truncated_or_damaged_data_files_name_the_file_and_the_fix(tmp_path, synth10):
    path = write_npz(tmp_path / "cifar10.npz", synth10)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(
        data.DataCorruptError, match=f"{path} is not a readable .npz file.*truncated.*good copy"
    ):
        data.load_cifar("cifar10", tmp_path)
    path.unlink()
    layout = tmp_path / "cifar-10-batches-py"
    layout.mkdir()
    for f in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (layout / f).write_bytes(b"\x80\x04garbage")
    with pytest.raises(
        data.DataCorruptError, match=f"{layout / 'data_batch_1'} cannot be read.*Delete its folder"
    ):
        data.load_cifar("cifar10", tmp_path)


def test_missing_data_message_names_the_directory_as_given_and_the_network(tmp_path, monkeypatch):
    from urllib.error import URLError

    monkeypatch.setenv("MECH_DATA", "../somewhere/data")  # relative, as the Makefile exports it
    monkeypatch.setattr(
        data, "_torchvision_download", lambda root, name: (_ for _ in ()).throw(URLError("dns"))
    )
    with pytest.raises(data.DataNotFoundError) as err:
        data.load_cifar("cifar100", download=True)
    message = str(err.value)
    assert "the data directory ../somewhere/data (MECH_DATA)" in message and "no network here" in message
    assert "URLError" not in message and str(ROOT) not in message
    monkeypatch.setattr(
        data, "_torchvision_download", lambda root, name: (_ for _ in ()).throw(PermissionError("ro"))
    )
    with pytest.raises(
        data.DataNotFoundError, match="PermissionError: ro"
    ):  # not mistaken for a network problem
        data.load_cifar("cifar100", download=True)


def test_damaged_run_files_name_the_file_and_the_fix(synth10):
    cfg = profiles.train_config("smoke", "vgg16")
    run = runs.get_run(cfg, synth10, progress=False)
    (run.path / "run.json").write_text('{"key": ')
    with pytest.raises(runs.CorruptCacheError, match=f"{run.path / 'run.json'} is corrupt.*delete"):
        runs.get_run(cfg, synth10, progress=False)
    (run.path / "model.pt").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(runs.CorruptCacheError, match=f"cached model {run.path / 'model.pt'} is corrupt.*rm "):
        runs.get_run(cfg, synth10, progress=False)


def test_damaged_cache_files_name_the_file_and_the_fix(synth10):
    model = runs.build_model(profiles.train_config("smoke", "vgg16"), 10)
    chosen = model.taps[:1]
    taps.cached_features("k", lambda: ({chosen[0].name: torch.ones(3, 2)}, torch.zeros(3)), chosen, "test")
    bad = runs.cache_root() / "taps" / "k" / f"test-{chosen[0].name}.npy"
    bad.write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(runs.CorruptCacheError, match=f"cached features {bad} are corrupt.*rm -r"):
        taps.cached_features("k", None, chosen, "test")
    page = runs.cache_root() / "page.ipynb"
    page.write_text('{"cells": [')
    with pytest.raises(ValueError, match="not a readable notebook.*delete it"):
        generated.page_metadata(page)


# --- builds -----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_rerun_line_from_a_built_page_reproduces_it(book, tmp_path):
    code, log = run_build("--only", FIG4, "-p", "threshold", "0.4", "-p", "taps", "['13', '10']")
    assert code == 0, log
    first = json.loads((book / f"{FIG4}.ipynb").read_text())
    line = generated.page_metadata(book / f"{FIG4}.ipynb")["header"][0]["rerun"]
    assert "-p threshold 0.4" in line and '-y \'taps: ["13", "10"]\'' in line and "-r profile smoke" in line
    assert f"{knobs.papermill_command()} notebooks/{FIG4}.ipynb" in line
    line = line.replace(f"/tmp/{FIG4}.ipynb", str(tmp_path / "again.ipynb"))
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MECH_") or k in ("MECH_DOWNLOAD", "MECH_DEVICE")
    }
    done = subprocess.run(
        ["bash", "-c", line], cwd=ROOT, capture_output=True, text=True, timeout=300, env=clean
    )
    assert done.returncode == 0, done.stderr[-3000:]
    again = json.loads((tmp_path / "again.ipynb").read_text())
    assert again["metadata"]["papermill"]["parameters"] == first["metadata"]["papermill"]["parameters"]
    m1, m2 = (
        generated.page_metadata(book / f"{FIG4}.ipynb"),
        generated.page_metadata(tmp_path / "again.ipynb"),
    )
    assert m1["results"] == m2["results"] and m1["claims"] == m2["claims"]
    assert m1["header"][0]["knobs"] == m2["header"][0]["knobs"]


@pytest.mark.slow
@pytest.mark.parametrize("how", ["Ctrl-C", "SIGTERM"])
def test_ctrl_c_stops_the_build_and_the_next_one_resumes(book, how):
    proc = start_build("--only", FIG4, FIG5, "--jobs", "2")
    wait_for(lambda: len(kernels_of(proc)) == 2, proc)
    family = [psutil.Process(proc.pid)] + psutil.Process(proc.pid).children(recursive=True)
    time.sleep(1)
    t0 = time.time()
    if how == "Ctrl-C":  # a terminal sends SIGINT to the whole foreground group, twice when the user insists
        os.killpg(proc.pid, signal.SIGINT)
        time.sleep(0.3)
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGTERM)
    log = proc.communicate(timeout=30)[0]
    assert proc.returncode == 130 and time.time() - t0 < 15, log
    assert "run the build again to resume" in log
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in family)  # kernels too
    assert not [f for f in book.iterdir() if f.name.startswith(".") and "running" in f.name]
    assert not (book / f"{FIG4}.key").exists() and not (book / f"{FIG5}.key").exists()
    assert not list(runs.cache_root().rglob("*.tmp"))
    code, log = run_build("--only", FIG4, FIG5)
    assert code == 0 and f"{FIG4}: ran" in log and f"{FIG5}: ran" in log, log


@pytest.mark.slow
def test_dead_kernel_fails_its_notebook_only_and_keeps_the_last_good_page(book):
    code, log = run_build("--only", FIG4, FIG5, "--jobs", "1")
    assert code == 0, log
    good = json.loads((book / f"{FIG4}.ipynb").read_text())
    proc = start_build("--only", FIG4, FIG5, "--jobs", "1", "-p", "threshold", "0.35")
    wait_for(lambda: kernels_of(proc), proc)
    kernels_of(proc)[0].kill()  # the kernel of the first notebook dies (out of memory, killed)
    log = proc.communicate(timeout=300)[0]
    assert proc.returncode == 1, log
    assert f"{FIG4}: failed" in log and "Kernel died" in log and f"{FIG5}: ran" in log
    stale = json.loads((book / f"{FIG4}.ipynb").read_text())
    assert generated.STALE in stale["cells"][1]["metadata"]["tags"] and "This page is stale" in "".join(
        stale["cells"][1]["source"]
    )
    assert [c for c in stale["cells"] if c["cell_type"] == "code"] == [
        c for c in good["cells"] if c["cell_type"] == "code"
    ]
    assert not (book / f"{FIG4}.key").exists() and (book / f"{FIG4}.failed.ipynb").is_file()
    assert "1 page(s) are stale" in (book / "overview.md").read_text()
    code, log = run_build("--only", FIG4, FIG5, "--jobs", "1", "-p", "threshold", "0.35")
    assert code == 0 and f"{FIG4}: ran" in log and f"{FIG5}: cached" in log, log
    assert generated.STALE not in json.loads((book / f"{FIG4}.ipynb").read_text())["metadata"]
    code, log = run_build("--only", FIG5, "-p", "threshold", "1.5")  # a cell raises
    assert code == 1 and f"FAILED notebook {FIG5}: cell" in log
    assert "threshold must lie strictly between 0 and 1" in log and "marked stale" in log
    assert (book / f"{FIG5}.failed.ipynb").is_file() and generated.STALE in json.loads(
        (book / f"{FIG5}.ipynb").read_text()
    )["metadata"]


def test_build_echoes_a_notebooks_warnings_and_lock_waits(book):
    """A run projected to take days, or a wait for another notebook's lock, reaches the build's terminal (the
    kernel's stderr is in neither the page nor papermill's output)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('profile = "cpu"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        params,
        nbformat.v4.new_code_cell(
            "import sys, warnings\nfor i in range(3):\n    print(f'\\rprogress {i}', end='', "
            "file=sys.stderr)\n"
            "warnings.warn('projected to take 9 hours')\n"
            "print('waiting for the lock on X, held by pid 1', file=sys.stderr)"
        ),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (book.parents[1] / "notebooks").mkdir()
    nbformat.write(nb, book.parents[1] / "notebooks" / "warns.ipynb")
    code, log = run_build()
    assert code == 0, log
    echoed = [line for line in log.splitlines() if line.startswith("  warns: ")]
    assert len(echoed) == 2 and "UserWarning: projected to take 9 hours" in echoed[0]
    assert echoed[1] == "  warns: waiting for the lock on X, held by pid 1"
