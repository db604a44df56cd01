"""The cache's locks: one process computes a cached thing while the others wait for it, on one host or on many
sharing the cache over a network filesystem.

:func:`locked` is two locks, each enough where it works: ``flock`` on ``.lock`` (:func:`owned_lock`: instant,
released by the kernel when a process dies; filelock >= 3.24 falls back to a soft lock where flock is
missing), and the lease file ``.lease`` (:func:`lease`), which holds where flock is local to each host
(Lustre's ``localflock``, NFS mounted with ``local_lock=flock``): it is created with ``O_CREAT | O_EXCL``,
atomic on NFSv3+, Lustre, GPFS and BeeGFS, names its holder (:func:`whoami`: host, pid, boot id, pid
namespace, Slurm job, task and restart count) and is kept fresh by a heartbeat (its mtime, every
:data:`LEASE_BEAT_S`). Another process takes a lease over (:func:`_why_stale`) only when it is its own job's
from before a requeue, when its process is gone (same host, boot and pid namespace), or when its heartbeat
stopped: older than :data:`LEASE_STALE_S` by the taker's clock (one look, as ``wait=False`` and ``plan`` see
it), or standing still that long by the waiter's own clock. Takeovers are serialized (a ``.lease.takeover``
file) and delete the lease only if it is still the one judged stale; a holder whose lease was taken over
anyway (it had stood still, paused) learns it from its heartbeat and :meth:`Lease.check`, which the run cache
calls before each checkpoint, and stops with :class:`LeaseLost`. No torch here (the build uses the locks).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import threading
import time
import uuid
from pathlib import Path

from filelock import FileLock, Timeout


class LockHeld(RuntimeError):
    """The lock is held by another process; the message names it (pid, host, since when)."""


@contextlib.contextmanager
def owned_lock(path: Path, wait: bool = True):
    """An exclusive lock file ``path`` (on any OS) with a sidecar ``<path>.owner`` naming its holder. When
    another process holds it: wait, saying who holds it, or (``wait=False``) raise :class:`LockHeld` at
    once."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock, owner = FileLock(path), path.with_name(path.name + ".owner")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        held = owner.read_text().strip() if owner.is_file() else "another process"
        if not wait:
            raise LockHeld(held) from None
        print(
            f"waiting for the lock on {path.parent}, held by {held} (it is computing what this call needs; "
            f"this call then reads its result)",
            file=sys.stderr,
            flush=True,
        )
        lock.acquire()
    try:
        owner.write_text(
            f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%Y-%m-%d %H:%M:%S')}"
        )
        yield
    finally:
        owner.unlink(missing_ok=True)
        lock.release()


# The lease's heartbeat and how long a silent one is trusted (seconds; the environment overrides them, e.g.
# in tests).
LEASE_BEAT_S = float(os.environ.get("MECH_LEASE_BEAT_S", 60))
LEASE_STALE_S = float(os.environ.get("MECH_LEASE_STALE_S", 600))
LEASE_POLL_S = float(os.environ.get("MECH_LEASE_POLL_S", 5))


class LeaseLost(RuntimeError):
    """Another process took this process's lease over (its heartbeat stood still long enough to be judged
    dead)."""


def job_id() -> str | None:
    """This process's batch job: Slurm's job id (one per array task, kept when Slurm requeues it), else
    submitit's local job id, else ``None``."""
    return os.environ.get("SLURM_JOB_ID") or os.environ.get("SUBMITIT_LOCAL_JOB_ID") or None


def _read_or_none(read):
    try:
        return read()
    except OSError:
        return None


def whoami() -> dict:
    """This process as a lease names it: host and pid, the kernel's boot id and pid namespace (a hostname and
    a pid name one process only within them: containers may share a hostname, never a pid namespace), and its
    Slurm job, task (``SLURM_PROCID``) and life (``SLURM_RESTART_COUNT``: 0, then 1, 2 ... each time Slurm
    requeues the job)."""
    return dict(
        host=socket.gethostname(),
        pid=os.getpid(),
        job=job_id(),
        procid=os.environ.get("SLURM_PROCID"),
        restart=int(os.environ.get("SLURM_RESTART_COUNT") or 0),
        boot=_read_or_none(lambda: Path("/proc/sys/kernel/random/boot_id").read_text().strip()),
        pidns=_read_or_none(lambda: os.readlink("/proc/self/ns/pid")),
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _describe(holder: dict) -> str:
    job = f", job {holder['job']}" if holder.get("job") else ""
    task = f" task {holder['procid']}" if holder.get("procid") not in (None, "0") else ""
    life = f" (requeued {holder['restart']}x)" if holder.get("restart") else ""
    return f"pid {holder.get('pid')} on {holder.get('host')}{job}{task}{life} since {holder.get('since')}"


def _read_lease(path: Path) -> tuple[dict | None, float | None]:
    """The lease's holder and mtime; ``(None, None)`` when it is gone, ``({}, mtime)`` while it is being
    written."""
    try:
        mtime, text = path.stat().st_mtime, path.read_text()
    except FileNotFoundError:
        return None, None
    try:
        return json.loads(text), mtime
    except ValueError:
        return {}, mtime


def _why_stale(holder: dict, mtime: float, me: dict, watch: dict | None = None) -> str:
    """Why a lease may be taken over ('' while its holder may be alive):

    - it is this job's own from an earlier life: the same Slurm job and task with a lower restart count
      (Slurm requeued it; two live tasks of one allocation share the job id and the count, never the task);
    - its process is gone: the same host, boot and pid namespace, and no such pid;
    - its heartbeat stopped: its mtime is older than :data:`LEASE_STALE_S` by this host's clock (one look: a
      job SIGKILLed by scancel or the OOM killer, a crashed node), or, with ``watch`` (a waiter's, which
      remembers since when by this process's own clock the mtime has not moved), it stood still for
      :data:`LEASE_STALE_S`.
    """
    if (
        me["job"]
        and holder.get("job") == me["job"]
        and holder.get("procid") == me["procid"]
        and int(holder.get("restart") or 0) < me["restart"]
    ):
        return f"it is this job's own ({me['job']}), from before Slurm requeued it"
    if (
        all(holder.get(k) == me[k] for k in ("host", "boot", "pidns"))
        and isinstance(holder.get("pid"), int)
        and not _alive(holder["pid"])
    ):
        return f"its process {holder['pid']} is gone"
    age = time.time() - mtime
    if age > LEASE_STALE_S:
        return (
            f"its heartbeat stopped: last beat {age:.0f} s ago by this host's clock (> {LEASE_STALE_S:.0f} s)"
        )
    if watch is not None:
        if watch.get("mtime") != mtime:
            watch.update(mtime=mtime, since=time.monotonic())
        elif time.monotonic() - watch["since"] >= LEASE_STALE_S:
            return f"its heartbeat stopped {LEASE_STALE_S:.0f} s ago"
    return ""


def _files(directory: str | os.PathLike, name: str = "") -> tuple[Path, Path]:
    """The lock file and the lease file of ``directory`` (``.lock``, ``.lease``), or of the thing ``name`` in
    it."""
    prefix = f".{name}." if name else "."
    return Path(directory) / f"{prefix}lock", Path(directory) / f"{prefix}lease"


def lease_holder(directory: str | os.PathLike, name: str = "") -> dict | None:
    """Who holds the lease on ``directory`` (or ``name`` in it) now, by the rules a taker applies at one
    look: ``None`` when nobody does, or when the lease may be taken over (:func:`_why_stale`: submit then
    trains the run again)."""
    holder, mtime = _read_lease(_files(directory, name)[1])
    return None if holder is None or _why_stale(holder, mtime, whoami()) else holder


def _create(path: Path, record: dict) -> bool:
    """Create ``path`` naming ``record`` if it does not exist (``O_CREAT | O_EXCL``: one creator wins); False
    if it does."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(record))
        f.flush()
        os.fsync(f.fileno())
    return True


def _remove_if(path: Path, judge) -> bool:
    """Delete ``path`` if ``judge(holder, mtime)`` holds for what it names, safely against others doing the
    same: it is first renamed to a name of this call's own (of two renames, one moves it), judged there, then
    deleted, or put back (a hard link, which fails if a new one was created meanwhile)."""
    aside = path.with_name(f"{path.name}.{uuid.uuid4().hex}.aside")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return False
    holder, mtime = _read_lease(aside)
    if holder is not None and judge(holder, mtime):
        aside.unlink(missing_ok=True)
        return True
    try:
        os.link(aside, path)
    except FileExistsError:
        pass  # a new one was created meanwhile: the one set aside lost its place (its holder learns it)
    except OSError:  # no hard links on this filesystem
        if not path.exists():
            os.rename(aside, path)
    aside.unlink(missing_ok=True)
    return False


def _take_over(path: Path, holder: dict, mtime: float, me: dict) -> bool:
    """Delete the lease ``path`` judged stale as ``holder`` with ``mtime``, so that this process may create
    its own; False when another process is taking it over, or the lease changed since it was judged (a paused
    holder that beats again). Takers are serialized by ``<lease>.takeover`` (``O_EXCL``, held for a moment;
    one older than :data:`LEASE_STALE_S` is a dead taker's and is removed), and the lease is removed by
    :func:`_remove_if` only if it is still the one judged."""
    guard = path.with_name(path.name + ".takeover")
    if not _create(guard, me) and not (
        _remove_if(guard, lambda h, m: time.time() - m > LEASE_STALE_S) and _create(guard, me)
    ):
        return False
    try:
        return _remove_if(path, lambda h, m: h == holder and m == mtime)
    finally:
        _remove_if(guard, lambda h, m: h.get("token") == me["token"])


class Lease:
    """A lease this process holds (:func:`lease`): its file and record, and ``lost``, set (to why) by the
    heartbeat or :meth:`check` once the file names another process."""

    def __init__(self, path: Path, me: dict):
        self.path, self.me, self.lost = path, me, ""

    def _look(self) -> str:
        """'' while the lease file names this lease, else what it names now."""
        holder, _ = _read_lease(self.path)
        if holder is not None and holder.get("token") == self.me["token"]:
            return ""
        return f"{_describe(holder)} holds it now" if holder else "its file is gone"

    def beat(self) -> bool:
        """One heartbeat: refresh the file's mtime if it still names this lease, else mark it lost; False once
        lost (a filesystem error skips the beat: the next one tries again)."""
        try:
            self.lost = self.lost or self._look()
        except OSError:
            return True
        if not self.lost:
            with contextlib.suppress(OSError):
                os.utime(self.path)
        return not self.lost

    def check(self) -> None:
        """Raise :class:`LeaseLost` unless this process still holds the lease (call before writing what it
        guards)."""
        self.lost = self.lost or self._look()
        if self.lost:
            raise LeaseLost(
                f"the lease on {self.path.parent} was taken over by another process ({self.lost}): this "
                f"process's heartbeat stood still for {LEASE_STALE_S:.0f} s or more (paused, or its "
                "filesystem hung), so it was judged dead. Stopping without writing, so that two "
                "processes never write one result; run again: the call waits for the new holder or "
                "resumes from the last checkpoint."
            )


def _acquire(path: Path, me: dict, wait: bool) -> None:
    """Create the lease file ``path`` naming ``me``, taking over a stale one (:func:`_why_stale`); while a
    live process holds it, wait (saying who, once) or, with ``wait=False``, raise :class:`LockHeld`."""
    watch, said = {}, False
    while not _create(path, me):
        holder, mtime = _read_lease(path)
        if holder is None:
            continue  # released meanwhile
        why = _why_stale(holder, mtime, me, watch)
        if why and _take_over(path, holder, mtime, me):
            print(
                f"took over the lease on {path.parent} of {_describe(holder)}: {why}",
                file=sys.stderr,
                flush=True,
            )
            continue
        if not wait:
            raise LockHeld(
                _describe(holder) + (" (being taken over by another process)" if why else "")
            ) from None
        if not said:
            print(
                f"waiting for the lock on {path.parent}, held by {_describe(holder)} (its lease file; this "
                "call then reads its result)",
                file=sys.stderr,
                flush=True,
            )
            said = True
        time.sleep(LEASE_POLL_S)


@contextlib.contextmanager
def lease(directory: str | os.PathLike, wait: bool = True, name: str = ""):
    """A lease on ``directory`` (or on ``name`` in it) that holds across hosts (the module's docstring has
    the scheme), yielded as a :class:`Lease`: its file is created atomically, kept fresh while held (the
    heartbeat also checks that it still names this process), removed on exit if it still does. When another
    live process holds it: wait, saying who, or (``wait=False``) raise :class:`LockHeld` at once."""
    path = _files(directory, name)[1]
    path.parent.mkdir(parents=True, exist_ok=True)
    me = dict(whoami(), token=uuid.uuid4().hex, since=time.strftime("%Y-%m-%d %H:%M:%S"))
    _acquire(path, me, wait)
    held, stop = Lease(path, me), threading.Event()

    def beat():
        while not stop.wait(LEASE_BEAT_S) and held.beat():
            pass
        if held.lost and not stop.is_set():
            print(
                f"LOST the lease on {path.parent}: {held.lost}; this process stops before its next write",
                file=sys.stderr,
                flush=True,
            )

    heart = threading.Thread(target=beat, daemon=True, name=f"lease {path.parent.name}")
    heart.start()
    try:
        yield held
    finally:
        stop.set()
        heart.join()
        _remove_if(
            path, lambda h, m: h.get("token") == me["token"]
        )  # not another's that took it over meanwhile


@contextlib.contextmanager
def locked(directory: Path, wait: bool = True, name: str = ""):
    """An exclusive lock on ``directory``, or on the thing ``name`` in it: its lock file (flock) and its lease
    (:func:`lease`, for hosts where flock is not shared), yielded as the :class:`Lease` (its
    :meth:`Lease.check` before each write). A second process waits, saying who holds it; ``wait=False``
    raises :class:`LockHeld` instead."""
    lock, _ = _files(directory, name)
    with owned_lock(lock, wait=wait), lease(directory, wait=wait, name=name) as held:
        yield held
