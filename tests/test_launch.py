"""Launching the book's notebooks outside the repository (helpers.book.launch): the repository URL, set once
in _config.yml, gives the book its repository, Binder and Colab buttons, and only then; every notebook's first
code cell carries that URL; and a notebook copied out of the repository installs helpers in a fresh
environment."""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest
import yaml
from conftest import ROOT, write_npz

from helpers.book import launch
from helpers.train import data

URL = "https://github.com/example-owner/mechanism-book"  # a repository URL of the right form (never fetched)


def final_theme_options(config: dict) -> dict:
    """The html_theme_options Sphinx gets from ``config`` (a _config.yml): Jupyter Book 1's conversion, then
    helpers.book.launch's gate, as its ``config-inited`` hook applies it."""
    from jupyter_book.config import get_final_config

    sphinx_config, _ = get_final_config(
        user_yaml=config,
        cli_config={"latex_individualpages": False},
        sourcedir=ROOT,
        validate=True,
        raise_on_invalid=True,
    )
    assert "helpers.book.launch" in sphinx_config["extensions"], (
        "_config.yml must load the helpers.book.launch extension"
    )
    return launch.gate(sphinx_config["html_theme_options"])


def book_config(url: str | None) -> dict:
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    if url is not None:
        config["repository"]["url"] = url
    return config


def test_buttons_are_configured_when_the_repository_url_is_set_and_absent_when_unset():
    config = book_config(None)
    assert config["repository"]["url"] == "", "the committed _config.yml must leave the repository URL unset"
    unset = final_theme_options(config)
    assert "launch_buttons" not in unset and not unset.get("repository_url")
    assert not any(
        unset.get(k) for k in ("use_repository_button", "use_issues_button", "use_edit_page_button")
    )

    opts = final_theme_options(book_config(URL))
    assert opts["repository_url"] == URL and opts["repository_branch"] == config["repository"]["branch"]
    assert opts["use_repository_button"] is True
    buttons = opts["launch_buttons"]
    assert buttons["binderhub_url"] == "https://mybinder.org"
    assert buttons["colab_url"] == "https://colab.research.google.com"
    assert buttons["notebook_interface"] in ("classic", "jupyterlab")


def test_launch_links_of_an_executed_page_open_its_source_notebook(tmp_path):
    def context(page):  # the header buttons sphinx-book-theme builds for a page (its launch.py)
        return {
            "header_buttons": [
                {
                    "label": "launch-buttons",
                    "buttons": [
                        {
                            "text": "Binder",
                            "url": f"https://mybinder.org/v2/gh/o/r/main?urlpath=lab/tree/{page}.ipynb",
                        },
                        {
                            "text": "Colab",
                            "url": f"https://colab.research.google.com/github/o/r/blob/main/{page}.ipynb",
                        },
                    ],
                },
                {"label": "download-buttons", "buttons": [{"url": f"../_sources/{page}.ipynb"}]},
            ]
        }

    class App:  # what the hook reads of Sphinx: where a page's source is
        class env:
            doc2path = staticmethod(lambda name: str(tmp_path / f"{name}.ipynb"))

    (tmp_path / "book" / "generated").mkdir(parents=True)
    # a page of a notebook with another name, as papermill records it
    page = "book/generated/your-model-resnet18"
    (tmp_path / f"{page}.ipynb").write_text(
        json.dumps(
            {
                "metadata": {"papermill": {"input_path": str(ROOT / "notebooks" / "your-model.ipynb")}},
                "cells": [],
            }
        )
    )
    for name, source in (
        (page, "your-model"),
        ("book/generated/mechanism-fig2-layer-accuracy", "mechanism-fig2-layer-accuracy"),
    ):  # no page file: by its name
        ctx = context(name)
        launch.point_launch_at_sources(App, name, "page.html", ctx, None)
        assert [b["url"] for g in ctx["header_buttons"] for b in g["buttons"]] == [
            f"https://mybinder.org/v2/gh/o/r/main?urlpath=lab/tree/notebooks/{source}.ipynb",
            f"https://colab.research.google.com/github/o/r/blob/main/notebooks/{source}.ipynb",
            f"../_sources/{name}.ipynb",
        ]  # the download stays the executed page
    other = context("book/method")
    launch.point_launch_at_sources(App, "book/method", "page.html", other, None)
    assert other == context("book/method")


def test_every_notebook_starts_with_the_install_cell_for_the_configured_repository():
    source = launch.bootstrap_source(*launch.repository(ROOT))
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code[0].metadata.get("tags") == launch.TAGS, (
            f"{path.name}: the first code cell must be the install cell"
        )
        assert "parameters" in code[1].metadata.get("tags", []), (
            f"{path.name}: the parameters cell must follow it"
        )
        assert code[0].source == source.rstrip("\n"), (
            f"{path.name}: its install cell is not the one for _config.yml's repository; run "
            "`.venv/bin/python -m helpers.book.launch`"
        )
    assert launch.sync(ROOT, check=True) == []


def test_sync_writes_the_configured_url_into_the_install_cells_and_nothing_else(tmp_path):
    config = book_config(URL)
    config["repository"]["branch"] = "book"
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(config))
    (tmp_path / "notebooks").mkdir()
    names = ["mechanism-fig2-layer-accuracy.ipynb", "universal-table1-vgg16-cifar100.ipynb"]
    for name in names:
        shutil.copy(ROOT / "notebooks" / name, tmp_path / "notebooks" / name)
    assert [p.name for p in launch.sync(tmp_path)] == names
    assert launch.sync(tmp_path) == []  # idempotent
    for name in names:
        before, after = (
            json.loads((d / name).read_text()) for d in (ROOT / "notebooks", tmp_path / "notebooks")
        )
        changed = [i for i, (a, b) in enumerate(zip(before["cells"], after["cells"])) if a != b]
        assert len(before["cells"]) == len(after["cells"]) and len(changed) == 1
        cell = after["cells"][changed[0]]
        assert (
            f'REPOSITORY, BRANCH = "{URL}", "book"' in "".join(cell["source"])
            and launch.TAG in cell["metadata"]["tags"]
        )


def test_install_cell_does_nothing_where_helpers_is_importable_and_says_what_to_do_without_a_repository(
    monkeypatch,
):
    here = {}
    exec(launch.bootstrap_source(URL, "main"), here)  # this environment has helpers: no pip, no install
    assert "pip" not in here and "source" not in here
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "helpers" else find_spec(name, *a)
    )
    with pytest.raises(ModuleNotFoundError, match="no repository is named"):
        exec(launch.bootstrap_source("", "main"), {})


def fresh_environment(tmp_path):
    """A new virtual environment without helpers: the project environment's other packages (torch, papermill,
    ipykernel, pip, setuptools) reach it through a .pth file listing a folder of links to them, with helpers'
    editable install left out, so nothing gigabytes large is installed. Returns its python."""
    site = sysconfig.get_paths()["purelib"]
    base = tmp_path / "base-packages"
    base.mkdir()
    for entry in sorted(Path(site).iterdir()):
        if (
            entry.suffix != ".pth"
            and "mechanism_book_helpers" not in entry.name
            and entry.name != "__pycache__"
        ):
            (base / entry.name).symlink_to(entry)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(purelib) / "project-packages.pth").write_text(f"{base}\n")
    subprocess.run(
        [python, "-m", "ipykernel", "install", "--prefix", str(venv), "--name", "fresh-helpers"],
        check=True,
        capture_output=True,
    )
    return python


def spec(python, module: str, env) -> str:
    """Where ``module`` is found by ``python`` ('' when it is not importable)."""
    code = f"import importlib.util as u; s = u.find_spec({module!r}); print(s.origin if s else '')"
    return subprocess.run(
        [python, "-c", code], capture_output=True, text=True, check=True, env=env, cwd="/"
    ).stdout.strip()


@pytest.mark.slow
def test_a_notebook_copied_out_of_the_repository_installs_helpers_and_runs_in_a_fresh_environment(tmp_path):
    name = "mechanism-fig2-layer-accuracy"
    # the repository, as a local git repository of the package's current sources (no network here)
    repo = tmp_path / "repo"
    shutil.copytree(
        ROOT / "src" / "helpers", repo / "src" / "helpers", ignore=shutil.ignore_patterns("__pycache__")
    )
    for f in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / f, repo / f)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", "-C", str(repo)]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "the package"]):
        subprocess.run(git + args, check=True)
    # the notebook, copied out, its first cell naming that repository as `python -m helpers.book.launch`
    # writes it
    away = tmp_path / "elsewhere"
    away.mkdir()
    nb = launch.with_bootstrap(
        json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text()),
        launch.bootstrap_source(repo.as_uri(), "main"),
    )
    (away / f"{name}.ipynb").write_text(json.dumps(nb))
    write_npz(tmp_path / "cifar10.npz", data.synthetic_cifar(10, n_train=600, n_test=300, seed=0))

    python = fresh_environment(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MECH_BOOK_ROOT")}
    env.update(
        JUPYTER_PATH=str(tmp_path / "venv" / "share" / "jupyter"),
        MECH_DATA=str(tmp_path),
        MECH_CACHE=str(tmp_path / "cache"),
        MECH_DOWNLOAD="0",
        MECH_DEVICE="cpu",
        PIP_NO_INDEX="1",
        PIP_NO_BUILD_ISOLATION="0",
    )  # offline: build with this environment's setuptools
    assert spec(python, "helpers", env) == "", "helpers must not be importable in the fresh environment"
    assert spec(python, "torch", env), "the fresh environment must reach the project's torch"

    run = subprocess.run(
        [
            python,
            "-m",
            "papermill",
            f"{name}.ipynb",
            "out.ipynb",
            "-k",
            "fresh-helpers",
            "-p",
            "profile",
            "smoke",
        ],
        cwd=away,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = json.loads((away / "out.ipynb").read_text())
    first = [c for c in out["cells"] if c["cell_type"] == "code"][0]
    said = "".join("".join(o.get("text", "")) for o in first["outputs"])
    venv_site = str(tmp_path / "venv")
    assert "installing helpers' requirements (keeping this kernel's torch, torchvision)" in said, said
    assert "installed helpers 0.1.0 in " + venv_site in said, said
    assert spec(python, "helpers", env).startswith(venv_site)  # installed into the fresh environment
    summary = [
        o
        for c in out["cells"]
        for o in c.get("outputs", [])
        if "summary" in o.get("metadata", {}).get("mechanism_book", {})
    ]
    assert summary, "the notebook did not run to its summary"
