"""A page's knobs: the defaults of its notebook's parameters cell, the values papermill injected, the line
that reruns the page with them.

papermill only logs "Passed unknown parameter" for a knob the notebook does not declare, so a typo
(``-p treshold 0.4``) would silently do nothing; :func:`overrides`, called in each page's first cell,
makes it an error that lists the knobs the notebook declares. No torch here: the build imports it.

>>> overrides("mechanism-fig5-cluster-statistics", globals())   # in a notebook, after its parameters
{'threshold': 0.4}
>>> rerun_line("mechanism-fig4-field-matrices", {"profile": "cpu", "threshold": 0.4})
'.venv/bin/papermill notebooks/mechanism-fig4-field-matrices.ipynb /tmp/... -p profile cpu -p threshold 0.4'
"""

from __future__ import annotations

import ast
import json
import os
import shlex
import sys
from pathlib import Path

from helpers.infra.paths import cache_root, data_dir, default_data_dir, notebooks_dir, repo_root

# Where the page's data and runs came from, when not the defaults (relative to the repository's root, as
# :mod:`helpers.infra.paths` reads them; MECH_DEVICE is the device knob).
ENVIRONMENT = ("MECH_DATA", "MECH_CACHE")


def _code_cells(path: Path) -> list[dict]:
    try:
        nb = json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        raise ValueError(
            f"notebook {path} cannot be read ({err}); restore it with `git checkout {path}`"
        ) from err
    return [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]


def defaults(path: str | os.PathLike) -> dict:
    """``{knob: default}`` from the notebook's cell tagged ``parameters`` (its simple assignments)."""
    for cell in _code_cells(Path(path)):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            return _assignments("".join(cell["source"]))
    return {}


def _assignments(source: str) -> dict:
    out = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            out[node.targets[0].id] = ast.literal_eval(node.value)
    return out


INJECTED = "# Parameters\n"  # how papermill's Python translator begins the cell it injects


def injected(namespace: dict) -> dict | None:
    """The parameters papermill injected into this kernel (read from IPython's input history ``In``, where the
    injected cell is the latest one starting with ``# Parameters``); ``None`` when nothing was injected."""
    history = namespace.get("In")
    if not isinstance(history, list):
        return None
    for source in reversed(history):
        if isinstance(source, str) and source.startswith(INJECTED):
            return _assignments(source)
    return None


def overrides(name: str, namespace: dict) -> dict:
    """The knobs of notebook ``name`` that differ from its defaults: those papermill injected, else (a
    notebook edited and run in Jupyter) the values of the declared knobs in ``namespace``, the notebook's
    globals.

    An injected name the notebook does not declare is a ``ValueError`` listing the knobs it does. A notebook
    that is not in ``notebooks/`` (a copy run elsewhere) is not checked: ``{}``.
    """
    path = notebooks_dir() / f"{name}.ipynb"
    if not path.is_file():
        return {}
    declared = defaults(path)
    given = injected(namespace)
    if given is None:
        given = {k: namespace[k] for k in declared if k in namespace}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ValueError(
            f"unknown knob(s) {unknown} for page {name}: its knobs are {sorted(declared)} "
            f"(the notebook's parameters cell). Check the spelling of the -p options."
        )
    return {k: v for k, v in given.items() if v != declared[k]}


def _yaml(v) -> str:
    """A value as YAML that papermill reads back to the same Python value (PyYAML needs '1.0e-05', not
    '1e-05')."""
    if isinstance(v, float):
        r = repr(v)
        return r.replace("e", ".0e", 1) if "e" in r and "." not in r else r
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_yaml(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {_yaml(x)}" for k, x in v.items()) + "}"
    return json.dumps(v)


def _flags(knob: str, v) -> list[str]:
    if isinstance(v, str):
        return ["-r", knob, v]  # raw: "13" stays the string "13"
    if v is None or isinstance(v, (bool, int, float)):
        return ["-p", knob, repr(v)]  # papermill reads True, False, None and numbers back
    return ["-y", f"{knob}: {_yaml(v)}"]


def papermill_command() -> str:
    """The papermill of the environment running this code, relative to the repository when it is inside it."""
    exe = Path(sys.executable).parent / "papermill"
    try:
        return str(exe.relative_to(repo_root()))
    except ValueError:
        return str(exe) if exe.exists() else "papermill"


def rerun_line(name: str, values: dict) -> str:
    """The shell line (from the repository's root) that reruns page ``name`` with ``values``, data and
    cache."""
    moved = {
        "MECH_DATA": data_dir().resolve() != default_data_dir().resolve(),
        "MECH_CACHE": cache_root() != repo_root() / ".cache",
    }
    env = [f"{k}={shlex.quote(os.environ[k])}" for k in ENVIRONMENT if os.environ.get(k) and moved[k]]
    args = [papermill_command(), f"notebooks/{name}.ipynb", f"/tmp/{name}.ipynb"]
    for k, v in values.items():
        args += _flags(k, v)
    return " ".join(env + [shlex.quote(a) for a in args])
