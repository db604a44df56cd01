"""One notebook executing in a child process of the build (papermill and its kernel), so that a dead kernel
or Ctrl-C cannot take the build with it: starting it on its slot's GPU, echoing what its log must show now,
putting its page in place when it ends, stopping it.

The page is written by papermill under a uniquely named temporary file and renamed into place
(:func:`finish`); a failed notebook keeps its last good page, marked stale, and its failed execution beside
it. No torch here: the build imports it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from helpers.book.generated import generated_dir, mark_stale, placeholder, skipped_reason, write_json
from helpers.book.result_first import result_first
from helpers.infra.paths import book_root

ROOT = Path(__file__).resolve().parents[3]


def run_notebook(source: str, output: str, parameters_file: str) -> None:
    """The child process of one notebook: papermill with the parameters in ``parameters_file`` (JSON).

    Exits 0 on success, 1 with a line ``FAILED: <what>`` on stderr when a cell raised or the kernel died (also
    when the build stops it: nbclient then shuts its kernel down and reports it dead), 130 when interrupted
    before the kernel started.
    """
    import papermill as pm

    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)  # also when started in the background, where SIGINT is ignored
    parameters = json.loads(Path(parameters_file).read_text())
    try:
        pm.execute_notebook(
            source,
            output,
            parameters=parameters,
            kernel_name="python3",
            progress_bar=False,
            cwd=str(ROOT),
            stderr_file=sys.stderr,
        )  # the kernel's stderr: the build echoes warnings
    except pm.PapermillExecutionError as err:
        print(
            f"FAILED: cell {err.cell_index} (execution count {err.exec_count}): {err.ename}: {err.evalue}",
            file=sys.stderr,
            flush=True,
        )
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as err:  # a dead kernel, a kernel that would not start, an unreadable notebook
        print(f"FAILED: {type(err).__name__}: {err}".strip(), file=sys.stderr, flush=True)
        sys.exit(1)


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@dataclass
class Job:
    """One notebook executing in its own process (so that a dead kernel or Ctrl-C cannot take the build with
    it)."""

    path: Path
    key: str
    # the executed notebook, written by papermill under a unique name, renamed into place at the end
    tmp: Path
    proc: subprocess.Popen
    slot: int = 0  # which of the --jobs slots runs it (and so which GPU, where there are several)
    started: float = field(default_factory=time.time)
    read: int = 0  # how far the build has read the log (:meth:`echo`)

    def echo(self) -> None:
        """Print the new lines of the notebook's log that a user must see now: warnings (a run projected to
        take days) and waits (for a lock another notebook holds)."""
        log = self.tmp.with_suffix(".log")
        with contextlib.suppress(OSError), open(log, "rb") as f:
            f.seek(self.read)
            text = f.read()
            end = max(text.rfind(b"\n"), text.rfind(b"\r")) + 1  # whole lines only
            self.read += end
            for line in text[:end].decode(errors="replace").replace("\r", "\n").splitlines():
                if "Warning: " in line or "waiting for the lock" in line:
                    print(f"  {self.path.stem}: {line.strip()}", flush=True)

    @property
    def files(self) -> list[Path]:
        return [self.tmp, self.tmp.with_suffix(".json"), self.tmp.with_suffix(".log")]


def visible_gpus() -> list[str]:
    """The GPUs this build may hand out: ``$CUDA_VISIBLE_DEVICES`` when set, else those ``nvidia-smi -L``
    lists (no torch here: the build stays light)."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [g.strip() for g in env.split(",") if g.strip() and g.strip() != "-1"]
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return []
    return (
        [str(i) for i, line in enumerate(out.stdout.splitlines()) if line.startswith("GPU ")]
        if out.returncode == 0
        else []
    )


def slot_env(slot: int, gpus: list[str]) -> dict:
    """The environment of a notebook in ``slot``: with two GPUs or more, ``CUDA_VISIBLE_DEVICES`` names its
    own one (round robin), so ``--jobs N`` notebooks train and probe on N GPUs side by side; else the build's
    own."""
    env = dict(os.environ)
    if len(gpus) >= 2:
        env["CUDA_VISIBLE_DEVICES"] = gpus[slot % len(gpus)]
    return env


def launch(path: Path, parameters: dict, key: str, slot: int = 0, gpus: list[str] = ()) -> Job:
    """Start executing ``path`` with ``parameters`` in a child process, on ``slot``'s GPU
    (:func:`slot_env`)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".running.ipynb", dir=generated_dir())
    os.close(fd)
    tmp = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; the page it becomes is not
    tmp.with_suffix(".json").write_text(json.dumps(parameters))
    with open(tmp.with_suffix(".log"), "w") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from helpers.book.execute import run_notebook; run_notebook(*sys.argv[1:])",
                str(path),
                str(tmp),
                str(tmp.with_suffix(".json")),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env=slot_env(slot, list(gpus)),
        )
    return Job(path, key, tmp, proc, slot)


def finish(job: Job, rc: int) -> tuple[str, str]:
    """Put a finished notebook's page in place; returns (status, detail): 'ran', 'skipped' or 'failed'.

    A failed notebook keeps its last good page, marked stale (:func:`mark_stale`), and its key is removed so
    that the next build tries it again; the failed execution is kept beside it as ``<name>.failed.ipynb``.
    """
    try:
        return _put_in_place(job) if rc == 0 else _keep_failed(job, rc)
    finally:
        for f in job.files:
            f.unlink(missing_ok=True)


def _put_in_place(job: Job) -> tuple[str, str]:
    """The notebook ``job`` executed becomes its page, with its key beside it: ('ran', '') or ('skipped',
    why)."""
    out_dir, name = generated_dir(), job.path.stem
    out, key_file = out_dir / f"{name}.ipynb", out_dir / f"{name}.key"
    nb = json.loads(job.tmp.read_text())  # complete and readable
    for cell in nb["cells"]:  # the header lists every knob; papermill's cell would repeat the parameters
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    nb = result_first(nb)  # the page opens with its verdicts and first figure
    key_file.unlink(missing_ok=True)  # the key is written only after the notebook is in place
    write_json(nb, out)
    key_file.write_text(job.key)
    (out_dir / f"{name}.failed.ipynb").unlink(missing_ok=True)
    (out_dir / f"{name}.md").unlink(missing_ok=True)
    reason = skipped_reason(out)
    return ("skipped", reason) if reason else ("ran", "")


def _keep_failed(job: Job, rc: int) -> tuple[str, str]:
    """A notebook that failed (exit status ``rc``): what its log says, its execution kept as
    ``<name>.failed.ipynb``, its key removed, its last good page marked stale (or a stand-in page)."""
    out_dir, name = generated_dir(), job.path.stem
    out, failed = out_dir / f"{name}.ipynb", out_dir / f"{name}.failed.ipynb"
    log_file = job.tmp.with_suffix(".log")
    log = log_file.read_text(errors="replace") if log_file.is_file() else ""
    lines = [ln for ln in log.splitlines() if ln.strip()]
    detail = next(
        (ln[len("FAILED: ") :] for ln in reversed(lines) if ln.startswith("FAILED: ")),
        lines[-1] if lines else f"the notebook's process ended with exit status {rc}",
    )
    if job.tmp.is_file() and job.tmp.stat().st_size:
        os.replace(job.tmp, failed)
        detail += f"; see {failed.relative_to(book_root()) if failed.is_relative_to(book_root()) else failed}"
    (out_dir / f"{name}.key").unlink(missing_ok=True)
    if out.is_file():
        mark_stale(out, detail)
    else:
        placeholder(name, f"This notebook failed in the last build: {detail}")
    return "failed", detail


def stop(jobs: list[Job], grace: float = 5.0) -> None:
    """Stop running notebooks (:func:`stop_processes`) and remove their temporary files (the run cache keeps
    every finished epoch, so the next build resumes)."""
    stop_processes([job.proc for job in jobs], grace)
    for job in jobs:
        for f in job.files:
            f.unlink(missing_ok=True)


def stop_processes(children: list[subprocess.Popen], grace: float = 5.0) -> None:
    """SIGINT to each child and all its descendants (a kernel runs in its own session, so a terminal's Ctrl-C
    does not reach it), then SIGKILL whatever is left after ``grace`` seconds."""
    import psutil

    procs = []
    for child in children:
        try:
            parent = psutil.Process(child.pid)
            procs += [parent] + parent.children(recursive=True)
        except psutil.NoSuchProcess:
            pass
    for p in procs:
        with contextlib.suppress(psutil.Error):
            p.send_signal(signal.SIGINT)
    _, alive = psutil.wait_procs(procs, timeout=grace)
    for p in alive:
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(alive, timeout=grace)
    for child in children:
        child.wait()
