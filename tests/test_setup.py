"""The project's own files agree with each other: pyproject / environment.yml / README / CI / notebooks."""
import re
import tomllib

import nbformat
import yaml
from conftest import ROOT


def pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_environment_yml_in_step_with_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    assert any(str(d).startswith("python=3.11") for d in deps) and "pip" in deps
    pip = next(d["pip"] for d in deps if isinstance(d, dict))
    project = pyproject()["project"]
    pinned = [d for d in project["dependencies"] if "==" in d]
    assert sorted(pinned) == sorted(p for p in pip if "==" in p)  # torch/torchvision pins agree
    extras = set(project["optional-dependencies"])
    local = [p for p in pip if p.startswith("-e .")]
    assert local and set(re.findall(r"\[(.*)\]", local[0])[0].split(",")) == extras


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
                assert not cell.outputs and cell.execution_count is None, f"{path.name} is committed with outputs"
        params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(params) == 1, f"{path.name} needs one cell tagged 'parameters'"
        first = params[0].source.strip().splitlines()[0]
        assert first.startswith("profile = "), f"{path.name}: the first knob must be profile"
        assert f"book/generated/{path.stem}" in toc, f"{path.name} is not in _toc.yml"
