"""Running the notebooks on Google Colab and Kaggle: the link at the top of each, and its setup cell.

Both come from the repository address in pyproject.toml ([project.urls] Repository) and one ref of it
(a branch or a tag, [tool.deconv] hosted-ref), so the link opens the notebook of the code that its
setup cell installs. The setup cell comes before the cell that checks the environment. On Colab or
Kaggle it clones the repository at that ref, installs the project with the ranges pyproject.toml
declares (the hosted Python and its preinstalled TensorFlow are not the ones requirements.lock pins)
and downloads the photos if the notebook reads them; anywhere else it does nothing and prints nothing.

    python3 scripts/tasks.py colab                     # stamp every notebook
    python3 scripts/tasks.py colab -- notebooks/06_convolutions_on_dna.ipynb

tests/test_hosted.py fails when a notebook's link or setup cell differs from a fresh stamp.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

from .paths import REPO_ROOT

NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
LINK_CELL_ID = "hosted-link"
SETUP_CELL_ID = "hosted-setup"
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
# A rendered book has no use for the setup cell (Jupyter Book and MyST-NB drop cells with this tag).
SETUP_CELL_TAGS = ["remove-cell"]
# Declared dependencies that Colab and Kaggle provide themselves: upgrading them there can break the host.
HOST_PROVIDES = ("ipywidgets", "jupyterlab", "ipykernel", "nbformat", "nbclient")

SETUP_TEMPLATE = """\
# On Google Colab or Kaggle this cell fetches and installs the tutorial{photos_note}.
# Anywhere else it does nothing: there, set up with `python3 scripts/tasks.py lab` (see the README).
import os
import sys

if "google.colab" in sys.modules or "KAGGLE_KERNEL_RUN_TYPE" in os.environ:
    import subprocess
    from pathlib import Path

    REPOSITORY, REF = "{repository}", "{ref}"
    home = Path("/content" if "google.colab" in sys.modules else "/kaggle/working")
    checkout = home / "{name}"
    if not checkout.exists():
        clone = ["git", "clone", "--quiet", "--depth", "1", "--branch", REF, REPOSITORY, checkout]
        subprocess.run(clone, check=True)
    # What the notebooks import, in the ranges pyproject.toml declares (not the lock: the host has its
    # own Python and TensorFlow); the host's own Jupyter and ipywidgets stay as they are.
    libraries = [
{libraries}    ]
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, *libraries], check=True)
    subprocess.run([*pip, "--no-deps", "-e", checkout], check=True)
    sys.path.insert(0, str(checkout / "src"))  # this kernel started before the install
{photos}    os.chdir(checkout / "notebooks")
"""
PHOTOS = """\
    subprocess.run([sys.executable, "scripts/download_data.py"], cwd=checkout, check=True)
"""


def project_settings(pyproject: Path = REPO_ROOT / "pyproject.toml") -> tuple[str, str]:
    """(the repository's address, the ref that links and setup cells name), from pyproject.toml."""
    settings = tomllib.loads(pyproject.read_text())
    repository = settings["project"]["urls"]["Repository"].removesuffix("/").removesuffix(".git")
    return repository, settings["tool"]["deconv"]["hosted-ref"]


def declared_libraries(pyproject: Path = REPO_ROOT / "pyproject.toml") -> list[str]:
    """The dependencies pyproject.toml declares, with their ranges, less what the hosts provide."""
    declared = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    return [line for line in declared if re.split(r"[\s<>=!~;\[]", line, maxsplit=1)[0] not in HOST_PROVIDES]


def colab_url(notebook: str, repository: str, ref: str) -> str:
    """Colab's address for a notebook in the repository; ``notebook`` is relative to its root."""
    owner_and_name = repository.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{owner_and_name}/blob/{ref}/{notebook}"


def colab_link(notebook: str, repository: str, ref: str) -> str:
    """The markdown badge that opens ``notebook`` in Colab."""
    return f"[![Run in Colab]({COLAB_BADGE})]({colab_url(notebook, repository, ref)})"


def link_source(notebook: str, repository: str, ref: str, photos: bool) -> str:
    what = "installs the tutorial and downloads the photos" if photos else "installs the tutorial"
    return (
        f"{colab_link(notebook, repository, ref)} On Colab or Kaggle the first code cell {what}; "
        "anywhere else it does nothing."
    )


def setup_source(repository: str, ref: str, photos: bool, libraries: list[str] | None = None) -> str:
    """The first code cell: set up on Colab and Kaggle, nothing elsewhere."""
    libraries = declared_libraries() if libraries is None else libraries
    return SETUP_TEMPLATE.format(
        libraries="".join(f'        "{line}",\n' for line in libraries),
        repository=repository,
        ref=ref,
        name=repository.rsplit("/", 1)[-1],
        photos_note=" and downloads the photos" if photos else "",
        photos=PHOTOS if photos else "",
    ).rstrip("\n")


def reads_photos(notebook) -> bool:
    """Whether the notebook opens the dataset (notebook 06 makes its own data)."""
    return any(
        cell.cell_type == "code" and "open_dataset(" in cell.source and cell.get("id") != SETUP_CELL_ID
        for cell in notebook.cells
    )


def stamped(notebook, path: str, repository: str, ref: str):
    """``notebook`` with its link cell first and its setup cell before the first other code cell.

    A cell stamped before keeps its metadata, and its outputs and execution count if its source is
    unchanged; a new one has none.
    """
    import nbformat

    cells = [cell for cell in notebook.cells if cell.get("id") not in (LINK_CELL_ID, SETUP_CELL_ID)]
    old = {cell.get("id"): cell for cell in notebook.cells}
    photos = reads_photos(notebook)
    link = nbformat.v4.new_markdown_cell(link_source(path, repository, ref, photos), id=LINK_CELL_ID)
    setup = nbformat.v4.new_code_cell(
        setup_source(repository, ref, photos),
        id=SETUP_CELL_ID,
        metadata={"tags": list(SETUP_CELL_TAGS)},
    )
    for new in (link, setup):
        previous = old.get(new.id)
        if previous is None:
            continue
        new.metadata = {**previous.metadata, **new.metadata}
        if new.cell_type == "code" and previous.source == new.source:
            new.outputs, new.execution_count = previous.outputs, previous.execution_count
    first_code = next((index for index, cell in enumerate(cells) if cell.cell_type == "code"), len(cells))
    cells.insert(first_code, setup)
    cells.insert(0, link)
    notebook.cells = cells
    return notebook


def hosted_cells(notebook) -> list[tuple[int, str, str]]:
    """(position, id, source) of the link and setup cells: what a stamp decides."""
    return [
        (index, cell.id, cell.source)
        for index, cell in enumerate(notebook.cells)
        if cell.get("id") in (LINK_CELL_ID, SETUP_CELL_ID)
    ]


def notebook_paths() -> list[Path]:
    return sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def relative(path: Path) -> str:
    return path.resolve().relative_to(REPO_ROOT).as_posix()


def stamp(path: Path, repository: str, ref: str) -> bool:
    """Write the link and setup cell into the notebook at ``path``; True if the file changed."""
    import nbformat

    before = path.read_text(encoding="utf-8")
    notebook = stamped(nbformat.reads(before, as_version=4), relative(path), repository, ref)
    after = nbformat.writes(notebook)
    if after.rstrip("\n") == before.rstrip("\n"):
        return False
    nbformat.write(notebook, path)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deconv.hosted",
        description="Write the Colab link and the Colab/Kaggle setup cell into the notebooks.",
    )
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/NN_*.ipynb")
    args = parser.parse_args(argv)
    repository, ref = project_settings()
    for path in args.notebooks or notebook_paths():
        changed = stamp(path, repository, ref)
        print(f"{relative(path)}: {'stamped' if changed else 'already up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
