"""The Colab link and the Colab/Kaggle setup cell of each notebook, and the README's Colab links."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest

from deconv import hosted
from deconv.paths import REPO_ROOT

NOTEBOOKS = hosted.notebook_paths()
REPOSITORY, REF = hosted.project_settings()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_each_notebook_holds_a_fresh_stamp(path):
    notebook = nbformat.read(path, as_version=4)
    found = hosted.hosted_cells(notebook)
    fresh = hosted.stamped(copy.deepcopy(notebook), hosted.relative(path), REPOSITORY, REF)
    assert found == hosted.hosted_cells(fresh), (
        f"{path.name}: its Colab link or setup cell differs from a fresh stamp; "
        "run python3 scripts/tasks.py colab"
    )
    assert [cell_id for _, cell_id, _ in found] == [hosted.LINK_CELL_ID, hosted.SETUP_CELL_ID]
    setup = notebook.cells[found[1][0]]
    assert "check_environment()" in notebook.cells[found[1][0] + 1].source  # set up before the check
    assert setup.outputs == []  # it prints nothing off Colab and Kaggle


def test_a_stamp_twice_changes_nothing_and_keeps_the_rest_of_the_notebook():
    notebook = nbformat.read(REPO_ROOT / "notebooks" / "06_convolutions_on_dna.ipynb", as_version=4)
    others = [
        cell for cell in notebook.cells if cell.get("id") not in (hosted.LINK_CELL_ID, hosted.SETUP_CELL_ID)
    ]
    once = hosted.stamped(copy.deepcopy(notebook), "notebooks/06.ipynb", REPOSITORY, "v1")
    twice = hosted.stamped(copy.deepcopy(once), "notebooks/06.ipynb", REPOSITORY, "v1")
    assert nbformat.writes(once) == nbformat.writes(twice)
    assert [
        cell for cell in once.cells if cell.id not in (hosted.LINK_CELL_ID, hosted.SETUP_CELL_ID)
    ] == others
    assert once.cells[0].id == hosted.LINK_CELL_ID
    nbformat.validate(once)


def test_link_and_setup_cell_name_the_repository_and_ref_of_pyproject():
    assert REPOSITORY.startswith("https://github.com/") and REF
    link = hosted.link_source("notebooks/01_x.ipynb", REPOSITORY, REF, photos=True)
    owner_and_name = REPOSITORY.removeprefix("https://github.com/")
    assert f"colab.research.google.com/github/{owner_and_name}/blob/{REF}/notebooks/01_x.ipynb" in link
    source = hosted.setup_source(REPOSITORY, REF, photos=True)
    assert f'REPOSITORY, REF = "{REPOSITORY}", "{REF}"' in source
    assert "scripts/download_data.py" in source
    assert "download_data" not in hosted.setup_source(REPOSITORY, REF, photos=False)


def test_setup_cell_installs_the_declared_libraries_and_leaves_the_hosts_jupyter_alone():
    libraries = hosted.declared_libraries()
    assert "keras>=3.15,<4" in libraries and any(line.startswith("tensorflow>=") for line in libraries)
    assert not any(line.startswith(hosted.HOST_PROVIDES) for line in libraries)


def test_readme_links_every_notebook_it_lists_to_colab():
    readme = (REPO_ROOT / "README.md").read_text()
    listed = [path for path in NOTEBOOKS if f"]({hosted.relative(path)})" in readme]
    assert listed
    for path in listed:
        assert hosted.colab_url(hosted.relative(path), REPOSITORY, REF) in readme, path.name


def test_setup_cell_does_nothing_and_prints_nothing_elsewhere():
    environment = {name: value for name, value in os.environ.items() if not name.startswith("KAGGLE")}
    code = "\n".join(
        ["before = set(dir())", hosted.setup_source(REPOSITORY, REF, photos=True), "after = set(dir())"]
    )
    code += "\nprint(sorted(after - before - {'before', 'os', 'sys'}))"
    result = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, cwd=REPO_ROOT
    )
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout == "[]\n"  # no output of its own, and no names left behind but os and sys


@pytest.mark.parametrize("host", ["colab", "kaggle"])
def test_setup_cell_on_colab_and_kaggle_clones_installs_and_downloads(host, monkeypatch):
    commands, directories = [], []
    monkeypatch.setattr(subprocess, "run", lambda command, **kwargs: commands.append(list(map(str, command))))
    monkeypatch.setattr(os, "chdir", directories.append)
    monkeypatch.setattr(sys, "path", list(sys.path))
    if host == "colab":
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.setenv("KAGGLE_KERNEL_RUN_TYPE", "Interactive")
    exec(hosted.setup_source(REPOSITORY, REF, photos=True), {})

    checkout = Path("/content" if host == "colab" else "/kaggle/working") / REPOSITORY.rsplit("/", 1)[-1]
    clone, libraries, project, download = commands
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    assert clone[:2] == ["git", "clone"] and clone[-3:] == [REF, REPOSITORY, str(checkout)]
    assert libraries == [*pip, *hosted.declared_libraries()]
    assert project == [*pip, "--no-deps", "-e", str(checkout)]
    assert download == [sys.executable, "scripts/download_data.py"]
    assert sys.path[0] == str(checkout / "src") and directories == [checkout / "notebooks"]
