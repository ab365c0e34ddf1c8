"""The notebooks are a navigable, committed sequence; nbval (see scripts/tasks.py test) runs them.

These checks cover what nbval does not: naming, navigation, the shared first
cells, and that the committed outputs come from one clean, in-order run.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from deconv.hosted import LINK_CELL_ID, SETUP_CELL_ID
from deconv.paths import REPO_ROOT

NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
LINK = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")
# Output that would give away a machine's files or a failed run.
ABSOLUTE_PATH = re.compile(r"(?<![\w.])/(?:home|root|work|tmp|Users|usr)/")
# Committed notebooks show photos; this keeps each refresh from adding megabytes to the history.
MAX_NOTEBOOK_BYTES = 2_500_000


def read(path: Path, hosted: bool = False):
    """The notebook; without the Colab link and setup cell that `tasks.py colab` adds (tests/test_hosted.py
    checks those) unless ``hosted``."""
    notebook = nbformat.read(path, as_version=4)
    if not hosted:
        notebook.cells = [
            cell for cell in notebook.cells if cell.get("id") not in (LINK_CELL_ID, SETUP_CELL_ID)
        ]
    return notebook


def navigation_line(cell) -> str:
    lines = [line for line in cell.source.splitlines() if "[Contents](README.md)" in line]
    assert lines, "no navigation line ('... · [Contents](README.md) · ...')"
    return lines[0]


def test_notebooks_are_numbered_uniquely():
    assert NOTEBOOKS, "notebooks/ holds no NN_topic.ipynb notebooks"
    numbers = [path.name[:2] for path in NOTEBOOKS]
    assert len(set(numbers)) == len(numbers), numbers
    for path in NOTEBOOKS:
        assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name), path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_opens_with_title_and_goals_and_ends_with_summary(path):
    cells = read(path).cells
    assert cells[0].cell_type == "markdown" and cells[-1].cell_type == "markdown"
    assert f"# {path.name[:2]} · " in cells[0].source, "title '# NN · Topic' missing"
    assert "you will" in cells[0].source.lower(), "the opening says what the reader will learn"
    assert "need" in cells[0].source.lower(), "the opening says what the notebook needs"
    # An optional appendix may follow the summary (notebook 02); the main part ends with it.
    appendix = [i for i, cell in enumerate(cells) if cell.source.startswith("## Appendix")]
    assert "## Summary" in cells[(appendix or [len(cells)])[0] - 1].source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_navigation_links_to_the_neighbours_at_both_ends(path):
    cells = read(path).cells
    position = NOTEBOOKS.index(path)
    expected = [NOTEBOOKS[position - 1].name] if position > 0 else []
    expected += ["README.md"]
    expected += [NOTEBOOKS[position + 1].name] if position + 1 < len(NOTEBOOKS) else []
    for cell in (cells[0], cells[-1]):
        targets = [target for _, target in LINK.findall(navigation_line(cell))]
        assert targets == expected
        assert all((NOTEBOOKS_DIR / target).exists() for target in targets)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_cell_checks_the_environment_then_says_which_data(path):
    first = next(cell for cell in read(path).cells if cell.cell_type == "code")
    assert "%matplotlib inline" in first.source
    assert "check_environment()" in first.source
    if "open_dataset()" in first.source:  # the cats and dogs; a notebook that makes its own data says so
        assert first.source.index("check_environment()") < first.source.index("open_dataset()")
    assert "Data: " in first.outputs[0].text, "the first output says which data is used"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_outputs_come_from_one_clean_run(path):
    code = [cell for cell in read(path, hosted=True).cells if cell.cell_type == "code"]
    if code and code[0].get("id") == SETUP_CELL_ID and code[0].execution_count is None:
        code = code[1:]  # the Colab setup cell, stamped after the run (it prints nothing here)
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1)), "run top to bottom"
    assert any(cell.source.startswith("# NBVAL_CHECK_OUTPUT\n") for cell in code), "no checked cell"
    figures = 0
    for cell in code:
        for output in cell.outputs:
            assert output.output_type != "error", f"cell {cell.execution_count} failed"
            assert output.get("name") != "stderr", f"cell {cell.execution_count} wrote to stderr"
            data = output.get("data", {})
            text = output.get("text", "") + str(data.get("text/plain", ""))
            assert not ABSOLUTE_PATH.search(text), f"cell {cell.execution_count} shows a machine's path"
            if "image/jpeg" in data or "image/png" in data:
                figures += 1
            else:  # a figure object returned instead of shown
                assert "<Figure size" not in text, f"cell {cell.execution_count} prints a figure's repr"
    assert figures, "no figure"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_stays_light(path):
    size = path.stat().st_size
    assert size <= MAX_NOTEBOOK_BYTES, f"{size:,} bytes: show photos smaller or fewer of them"


def control_characters(source: str) -> list[str]:
    """Characters below space other than newline: a '\\t' or '\\a' of LaTeX read as a JSON escape."""
    return sorted({repr(char) for char in source if ord(char) < 32 and char != "\n"})


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_cell_sources_hold_no_control_characters(path):
    found = {
        index: control_characters(cell.source) for index, cell in enumerate(read(path, hosted=True).cells)
    }
    assert not {index: chars for index, chars in found.items() if chars}, "write LaTeX's backslashes as \\\\"


@pytest.mark.parametrize("contents", ["README.md", "notebooks/README.md"])
def test_contents_list_every_notebook_in_order(contents):
    text = (NOTEBOOKS_DIR.parent / contents).read_text()
    linked = [Path(target).name for _, target in LINK.findall(text) if target.endswith(".ipynb")]
    first_mentions = list(dict.fromkeys(linked))  # later mentions (in prose) do not reorder the contents
    assert first_mentions == [path.name for path in NOTEBOOKS]
