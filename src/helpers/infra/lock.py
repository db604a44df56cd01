"""``requirements.lock``: every package the book installs, at one version, with the hash of its file.

    python -m helpers.infra.lock            # resolve again (pip's resolver, no install) and rewrite the lock

The lock is what ``make`` installs (``pip install --require-hashes --no-deps -r requirements.lock``, then this
package itself with ``--no-deps``): the set the book was last built and tested with, so that a reader in two
years gets the same files, checked by hash. It is resolved by ``pip install --dry-run --ignore-installed
--report`` for torch and torchvision (the pins of ``pyproject.toml``) and this package with its ``book`` and
``test`` extras; ``pyproject.toml`` keeps the ranges the code supports, for anyone installing ``helpers`` into
an environment of their own. The hashes are those of the files for this platform (Linux x86-64, CPython 3.11:
the project's machines and CI); elsewhere install from ``pyproject.toml``'s ranges. Rewrite the lock after an
upgrade has passed ``make test`` and ``make book``.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
LOCK = ROOT / "requirements.lock"
EXTRAS = "book,test"
PINNED = (
    "torch==2.14.1",
    "torchvision==0.29.1",
)  # as pyproject.toml and the Makefile (tests check they agree)


def resolve() -> list[dict]:
    """pip's resolution of :data:`PINNED` and this package with :data:`EXTRAS`, without installing: one
    ``{name, version, sha256}`` per package, this package left out, sorted by name."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--dry-run", "--ignore-installed"]
            + ["--report", str(report), *PINNED, "-e", f"{ROOT}[{EXTRAS}]"],
            check=True,
        )
        items = json.loads(report.read_text())["install"]
    out = []
    for item in items:
        meta, info = item["metadata"], item["download_info"]
        if "dir_info" in info:  # this package, installed from the working tree
            continue
        out.append(
            dict(name=meta["name"], version=meta["version"], sha256=info["archive_info"]["hashes"]["sha256"])
        )
    return sorted(out, key=lambda p: p["name"].lower())


def text(packages: list[dict]) -> str:
    """The lock file: a header saying what it is and how to rewrite it, then one hashed line per package."""
    head = [
        "# Every package of the book's environment, one version each, with its file's hash for Linux x86-64",
        f"# and CPython 3.11 ({platform.python_version()} here). make installs exactly these (pip "
        "--require-hashes --no-deps), then",
        "# helpers itself. Rewrite with python -m helpers.infra.lock after make test and make book pass.",
    ]
    return (
        "\n".join(head + [f"{p['name']}=={p['version']} --hash=sha256:{p['sha256']}" for p in packages])
        + "\n"
    )


def read(path: Path = LOCK) -> dict[str, str]:
    """The lock's versions: ``{name: version}``."""
    lines = [ln.split(" --hash")[0] for ln in path.read_text().splitlines() if ln and not ln.startswith("#")]
    return dict(ln.split("==") for ln in lines)


def main() -> int:
    packages = resolve()
    tmp = LOCK.with_suffix(".lock.new")
    tmp.write_text(text(packages))
    tmp.replace(LOCK)
    print(f"wrote {LOCK.name}: {len(packages)} packages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
