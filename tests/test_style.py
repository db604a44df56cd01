"""The codebase's shape, checked: folders that import only downwards, no cycle, modules and functions of a
size a newcomer can read, and ruff's lint and format clean on the whole tree (CONTRIBUTING.md)."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "helpers"
LAYERS = (
    "infra",
    "reference",
    "train",
    "method",
    "figures",
    "book",
)  # each imports only from itself and below
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _modules() -> dict[str, Path]:
    out = {}
    for p in sorted(SRC.rglob("*.py")):
        parts = p.relative_to(SRC.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = p
    return out


def _imports(path: Path, known: set[str]) -> set[str]:
    """The helpers modules ``path`` imports (``from helpers.x import y`` counts ``helpers.x.y`` when it is
    one)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("helpers"):
            for a in node.names:
                out.add(f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("helpers")}
    return out & known


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def test_every_module_lives_in_a_folder_of_the_method_s_steps():
    loose = [m for m in _modules() if _layer(m) is None and m not in ("helpers", "helpers.__main__")]
    assert not loose, f"modules outside {LAYERS}: {loose}"


def test_folders_import_only_their_own_layer_or_the_ones_below():
    mods = _modules()
    upward = [
        f"{m} -> {i}"
        for m, p in mods.items()
        if _layer(m) is not None
        for i in _imports(p, set(mods))
        if _layer(i) is not None and _layer(i) > _layer(m)
    ]
    assert not upward, "imports from a higher layer:\n" + "\n".join(upward)


def test_the_import_graph_has_no_cycle():
    mods = _modules()
    graph = {m: _imports(p, set(mods)) - {m} for m, p in mods.items()}
    state: dict[str, int] = {}

    def visit(m, path):
        state[m] = 1
        for n in graph[m]:
            if state.get(n) == 1:
                raise AssertionError("import cycle: " + " -> ".join(path + [m, n]))
            if n not in state:
                visit(n, path + [m])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [])


def test_modules_import_helpers_at_the_top_only():
    """No helpers module imports another inside a function, so a reader sees each module's dependencies in its
    import lines (the lazy public API of ``helpers/__init__.py`` and the notebooks' install step aside)."""
    mods = _modules()
    local = []
    for m, p in mods.items():
        if m in ("helpers", "helpers.book.launch"):
            continue
        for fn in ast.walk(ast.parse(p.read_text())):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                body = ast.Module(body=fn.body, type_ignores=[])
                imports = [n for n in ast.walk(body) if isinstance(n, (ast.Import, ast.ImportFrom))]
                for n in imports:
                    names = [n.module or ""] if isinstance(n, ast.ImportFrom) else [a.name for a in n.names]
                    if any(x.startswith("helpers") for x in names) or getattr(n, "level", 0):
                        local.append(f"{m}.{fn.name}")
    assert not local, f"helpers imports inside functions: {sorted(set(local))}"


def test_modules_and_functions_are_of_a_readable_size():
    too_long = []
    for m, p in _modules().items():
        text = p.read_text()
        if len(text.splitlines()) > MAX_MODULE_LINES:
            too_long.append(f"{m}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    too_long.append(f"{m}.{node.name}: {n} lines")
    assert not too_long, (
        f"over {MAX_MODULE_LINES} lines a module or {MAX_FUNCTION_LINES} a function:\n" + "\n".join(too_long)
    )


def _ruff() -> list[str]:
    exe = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if exe is None:
        pytest.skip("ruff is not installed (pip install -e '.[test]' brings it)")
    return [exe]


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff_passes_on_the_whole_tree(command):
    done = subprocess.run(
        _ruff() + command + ["src", "tests", "bench", "notebooks"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


SHOWN = {
    "table",
    "figure",
    "compare",
    "show",
    "claims",
    "summary",
    "runs_used",
    "header",
}  # PageView's displays


def test_a_page_shows_what_a_cell_ends_with_only():
    """A notebook cell displays its last expression only: a ``page.table(...)`` (or figure, compare ...) that
    is not a cell's last statement is computed and never shown, so each goes last in its cell."""
    lost = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for k, cell in enumerate(json.loads(path.read_text())["cells"]):
            if cell["cell_type"] != "code":
                continue
            body = ast.parse("".join(cell["source"])).body
            for stmt in body[:-1]:
                call = stmt.value if isinstance(stmt, ast.Expr) else None
                f = getattr(call, "func", None)
                if isinstance(f, ast.Attribute) and f.attr in SHOWN and getattr(f.value, "id", "") == "page":
                    lost.append(f"{path.stem}, cell {k}: page.{f.attr}(...) at line {stmt.lineno}")
    assert not lost, "shown nowhere (not the cell's last statement): " + "; ".join(lost)
