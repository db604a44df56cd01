"""The project's own files agree with each other: pyproject / environment.yml / README / CI / notebooks."""

import re

import nbformat
import tomllib
import yaml
from conftest import ROOT


def pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_environment_yml_installs_the_lock_and_then_this_package():
    text = (ROOT / "environment.yml").read_text()
    env = yaml.safe_load(text)
    deps = env["dependencies"]
    assert any(str(d).startswith("python=3.11") for d in deps) and "pip" in deps
    pip = next(d["pip"] for d in deps if isinstance(d, dict))
    assert pip == ["-r requirements.lock"]  # hashed: nothing unhashed may sit beside it
    assert "pip install --no-deps -e ." in text.splitlines()[0]


def test_readme_commands_are_the_makefile_and_ci_uses_the_test_one():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## The two commands\s+```bash\n(.*?)```", readme, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make book", "make test"]
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^book: venv", makefile, re.M) and re.search(r"^test: venv", makefile, re.M)
    assert "torch==2.14.1" in makefile and "torchvision==0.29.1" in makefile
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M)


def test_notebooks_are_clean_and_parameterized():
    books = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert books
    toc = (ROOT / "_toc.yml").read_text()
    for path in books:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, (
                    f"{path.name} is committed with outputs"
                )
        params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(params) == 1, f"{path.name} needs one cell tagged 'parameters'"
        first = params[0].source.strip().splitlines()[0]
        assert first.startswith("profile = "), f"{path.name}: the first knob must be profile"
        assert f"book/generated/{path.stem}" in toc, f"{path.name} is not in _toc.yml"


def test_public_api_resolves_documented_and_light():
    import subprocess
    import sys

    import helpers

    for name in helpers.__all__:
        obj = getattr(helpers, name)
        assert callable(obj) and obj.__doc__ and f"``{name}(" in helpers.__doc__, name
    out = subprocess.run(
        [sys.executable, "-c", "import sys, helpers, helpers.book.build; print('torch' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "False"  # the build and `import helpers` do not pull in torch


def test_notebooks_import_only_what_they_use():
    import ast

    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        tree = ast.parse("\n".join(c.source for c in nb.cells if c.cell_type == "code"))
        imported = {
            (a.asname or a.name).split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, (ast.Import, ast.ImportFrom))
            for a in n.names
        }
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        assert imported <= used, f"{path.name} imports {sorted(imported - used)} and never uses them"


def test_sibling_notebooks_share_their_code_after_the_parameters():
    """Tables 1/2 and 4/5/6 differ only in their parameters cell (their table's constants) and their text."""
    from helpers.book import knobs
    from helpers.figures import universal_layer_tables as layer_tables

    def body(name):
        nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        at = next(i for i, c in enumerate(code) if "parameters" in c.metadata.get("tags", []))
        return [
            c.source for c in code[at + 1 :]
        ]  # after the parameters (the install cell before it is shared)

    for group in (("table1", "table2"), ("table4", "table5", "table6")):
        names = [layer_tables.PAGE_OF[t] for t in group]
        assert all(body(n) == body(names[0]) for n in names), group
        for t, n in zip(group, names):
            assert knobs.defaults(ROOT / "notebooks" / f"{n}.ipynb")["table"] == t
    yours = sorted(
        p.stem for p in (ROOT / "notebooks").glob("your-model-*.ipynb")
    )  # the "beyond the papers" pages
    assert len(yours) >= 2 and all(body(n) == body(yours[0]) for n in yours)
    for n in yours:
        assert knobs.defaults(ROOT / "notebooks" / f"{n}.ipynb")["page_name"] == n


def test_lock_pins_every_requirement_within_its_range():
    """requirements.lock (python -m helpers.infra.lock) pins every package pyproject asks for, extras
    included, at a version its range allows, each with a sha256; make installs it by hash, then this package
    without dependencies, and checks the result."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    from helpers.infra import lock

    lines = [
        ln for ln in (ROOT / "requirements.lock").read_text().splitlines() if ln and not ln.startswith("#")
    ]
    assert lines and all(re.fullmatch(r"[\w.-]+==[\w.+-]+ --hash=sha256:[0-9a-f]{64}", ln) for ln in lines)
    pins = {canonicalize_name(k): v for k, v in lock.read().items()}
    assert len(pins) == len(lines)
    project = pyproject()["project"]
    extras = project["optional-dependencies"].values()
    wanted = project["dependencies"] + [r for extra in extras for r in extra]
    for text in wanted:
        req = Requirement(text)
        if canonicalize_name(req.name) == canonicalize_name(project["name"]):
            continue  # an extra naming another extra
        assert canonicalize_name(req.name) in pins, f"{req.name} is not in requirements.lock: run make lock"
        assert req.specifier.contains(pins[canonicalize_name(req.name)], prereleases=True), text
    assert set(lock.PINNED) <= {f"{k}=={v}" for k, v in pins.items()}
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install -q --require-hashes --no-deps -r requirements.lock" in makefile
    assert 'pip install -q --no-deps -e ".[book,test]"' in makefile and "pip check" in makefile
    assert re.search(r"^lock: venv\n\t\$\(PY\) -m helpers.infra.lock", makefile, re.M)
