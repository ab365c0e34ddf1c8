"""The course around the lessons: exercises with hidden solutions, discussion, further reading, links.

No network: links are checked for their form, relative links for their target, and anchors into a
notebook for a heading of that notebook.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
WITH_EXERCISES = [path for path in NOTEBOOKS if path.name[:2] != "07"]  # 07 is an appendix
MARKDOWN_FILES = [REPO / "README.md", NOTEBOOKS_DIR / "README.md"]

LINK = re.compile(r"\[((?:[^\[\]]|\[[^\]]*\])*)\]\(([^)]*)\)")  # [text](target); text may hold [brackets]
BARE_URL = re.compile(r"(?<![(<\w])https?://[^\s)>\]`'\"]+")
AUTOLINK = re.compile(r"<(https?://[^>]*)>")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
EXERCISE = re.compile(r"### Exercise (\d+): \S")
MIN_EXERCISES, MAX_EXERCISES = 3, 5


def read(path: Path):
    return nbformat.read(path, as_version=4)


def markdown_sources(path: Path) -> list[str]:
    if path.suffix == ".ipynb":
        return [cell.source for cell in read(path).cells if cell.cell_type == "markdown"]
    return [path.read_text()]


def without_code(text: str) -> str:
    """Markdown with fenced code blocks removed: a link inside code is not a link."""
    return re.sub(r"^```.*?^```", "", text, flags=re.DOTALL | re.MULTILINE)


def links(path: Path) -> list[str]:
    """Targets of markdown links and bare web addresses in a markdown file or a notebook's markdown."""
    found = []
    for source in map(without_code, markdown_sources(path)):
        found += [target for _, target in LINK.findall(source)]
        found += AUTOLINK.findall(source)
        found += [address.rstrip(".,;:") for address in BARE_URL.findall(LINK.sub("", source))]
    return found


def heading_text(markdown_heading: str) -> str:
    """The text a reader sees in a heading: code marks, emphasis and link targets gone."""
    text = LINK.sub(lambda match: match.group(1), markdown_heading)
    return re.sub(r"`|\*\*|\*", "", text).strip()


def headings(path: Path) -> list[str]:
    found = []
    for source in map(without_code, markdown_sources(path)):
        for line in source.splitlines():
            match = HEADING.match(line)
            if match:
                found.append(heading_text(match.group(2)))
    return found


def jupyter_anchor(heading: str) -> str:
    """The id Jupyter gives a rendered heading: its text with every space replaced by '-'."""
    return heading.replace(" ", "-")


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading in a markdown file: lower case, punctuation dropped, spaces to '-'."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    make = jupyter_anchor if path.suffix == ".ipynb" else github_anchor
    return {make(heading) for heading in headings(path)}


def all_documents() -> list[Path]:
    return MARKDOWN_FILES + NOTEBOOKS


# ---- links ----


def web_link_problems(target: str) -> list[str]:
    parts = urlsplit(target)
    problems = []
    if parts.scheme not in ("https", "http"):
        problems.append("scheme is not https or http")
    if "." not in (parts.hostname or ""):
        problems.append("no host with a dot")
    if any(character.isspace() for character in target):
        problems.append("contains a space")
    return problems


@pytest.mark.parametrize("path", all_documents(), ids=lambda p: str(p.relative_to(REPO)))
def test_web_links_are_well_formed(path):
    web = [target for target in links(path) if re.match(r"[a-z][a-z0-9+.-]*:", target, re.IGNORECASE)]
    problems = {target: web_link_problems(target) for target in web if not target.startswith("mailto:")}
    assert not {target: found for target, found in problems.items() if found}


@pytest.mark.parametrize("path", all_documents(), ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_and_anchors_point_to_what_exists(path):
    broken = []
    for target in links(path):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
            continue  # a web address: its form is checked above
        if any(character.isspace() for character in target):
            broken.append(f"{target}: contains a space")
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / unquote(file_part)).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix in (".ipynb", ".md") and unquote(anchor) not in anchors(linked):
            broken.append(f"{target}: no heading with that anchor in {linked.name}")
    assert not broken


def test_where_this_comes_from_is_credited():
    readme = (REPO / "README.md").read_text()
    first_notebook = "\n".join(markdown_sources(NOTEBOOKS[0]))
    for text in (readme, first_notebook):
        assert "Where this comes from" in text
        assert "https://charlesreid1.github.io/deconvoluting-convolutional-neural-networks.html" in text
        assert "https://github.com/charlesreid1/deconvoluting-convolutions" in text
        assert (
            "https://blog.keras.io/building-powerful-image-classification-models-using-very-little-data.html"
            in text
        )
        table_rows = [line for line in text.splitlines() if line.startswith("|") and ".ipynb#" in line]
        assert len(table_rows) >= 6, "a table of the six corrections, each linked to its proof"


# ---- exercises, discussion, further reading ----


def sections(cells) -> dict[str, list[int]]:
    """Level-2 headings of the markdown cells that start with one, with the cell indices they span."""
    starts = [
        (index, cell.source.lstrip().splitlines()[0][3:].strip())
        for index, cell in enumerate(cells)
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("## ")
    ]
    return {
        title: list(range(start, starts[n + 1][0] if n + 1 < len(starts) else len(cells)))
        for n, (start, title) in enumerate(starts)
    }


def exercise_problems(cells) -> list[str]:
    """What is wrong with the exercises of a notebook's cells, in words; empty when nothing is."""
    spans = sections(cells)
    if "Exercises" not in spans:
        return ["no '## Exercises' section"]
    section = spans["Exercises"]
    exercise_cells = [
        i for i in section if cells[i].cell_type == "markdown" and EXERCISE.match(cells[i].source.lstrip())
    ]
    numbers = [int(EXERCISE.match(cells[i].source.lstrip()).group(1)) for i in exercise_cells]
    problems = []
    if not MIN_EXERCISES <= len(numbers) <= MAX_EXERCISES:
        problems.append(
            f"{len(numbers)} exercises headed '### Exercise N: title', not {MIN_EXERCISES} to {MAX_EXERCISES}"
        )
    if numbers != list(range(1, len(numbers) + 1)):
        problems.append(f"exercises numbered {numbers}, not 1, 2, ...")
    for n, start in enumerate(exercise_cells):
        end = exercise_cells[n + 1] if n + 1 < len(exercise_cells) else section[-1] + 1
        body = list(range(start + 1, end))
        solution_cells = [
            i
            for i in body
            if cells[i].cell_type == "markdown" and cells[i].source.lstrip().startswith("#### Solution")
        ]
        if len(solution_cells) != 1:
            problems.append(f"exercise {numbers[n]}: {len(solution_cells)} '#### Solution' cells, not 1")
            continue
        solution_code = [cells[i] for i in body if i > solution_cells[0] and cells[i].cell_type == "code"]
        if not solution_code:
            problems.append(f"exercise {numbers[n]}: the solution has no code cell")
        shown = [cell for cell in solution_code if not cell.metadata.get("jupyter", {}).get("source_hidden")]
        if shown:
            problems.append(f"exercise {numbers[n]}: {len(shown)} solution code cells not hidden")
    return problems


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.name)
def test_exercises_have_hidden_solutions(path):
    problems = exercise_problems(read(path).cells)
    assert not problems


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.name)
def test_discussion_and_further_reading_come_before_the_summary(path):
    cells = read(path).cells
    spans = sections(cells)
    order = [title for title in spans if title in ("Exercises", "Discussion questions", "Further reading")]
    assert order == ["Exercises", "Discussion questions", "Further reading"]
    main_part = [title for title in spans if not title.startswith("Appendix")]
    assert main_part[-1] == "Summary", "the summary and navigation end the main part"
    assert "](" in cells[-1].source and "Contents" in cells[-1].source, "the last cell navigates"
    discussion = "\n".join(cells[i].source for i in spans["Discussion questions"])
    assert len(re.findall(r"^\d+\. ", discussion, re.MULTILINE)) >= 2, "at least two numbered questions"
    reading = "\n".join(cells[i].source for i in spans["Further reading"])
    assert re.search(r"\]\(https?://", reading), "no link in 'Further reading'"


def test_notebook_02_reads_as_a_core_lesson_and_an_optional_appendix():
    """The lesson up to its exercises fits a session; the sidebars live in an appendix after the summary."""
    cells = read(NOTEBOOKS_DIR / "02_build_the_cnn.ipynb").cells
    spans = sections(cells)
    assert len(range(spans["Exercises"][0])) <= 60, "02's lesson, before its exercises, is at most 60 cells"
    appendix = [title for title in spans if title.startswith("Appendix")]
    assert appendix and list(spans).index(appendix[0]) == list(spans).index("Summary") + 1
    main_text = "\n".join(cells[i].source for i in range(spans[appendix[0]][0]))
    assert "Sidebar" not in main_text


# ---- solutions stay folded until asked for ----


# The heading cell of a solution stays visible: room for how to open it, not for the answer.
MAX_HEADING_WORDS = 20


def solution_hiding_problems(cells) -> list[str]:
    """Cells after a '#### Solution' heading, up to the next heading of level 3 or higher, not folded,
    and heading cells that give the answer away."""
    problems, inside = [], False
    for index, cell in enumerate(cells):
        heading = HEADING.match(cell.source.lstrip().splitlines()[0]) if cell.source.strip() else None
        if cell.cell_type == "markdown" and heading:
            if cell.source.lstrip().startswith("#### Solution"):
                inside = True
                words = len(cell.source.split()) - len(cell.source.lstrip().splitlines()[0].split())
                if words > MAX_HEADING_WORDS:
                    problems.append(
                        f"cell {index}: the solution's heading cell shows {words} words of answer"
                    )
                continue
            if len(heading.group(1)) <= 3:
                inside = False
        if not inside:
            continue
        folded = cell.metadata.get("jupyter", {})
        missing = [] if "solution" in cell.metadata.get("tags", []) else ["tag 'solution'"]
        missing += [] if folded.get("source_hidden") else ["source_hidden"]
        if cell.cell_type == "code" and not folded.get("outputs_hidden"):
            missing.append("outputs_hidden")
        if missing:
            problems.append(f"cell {index} ({cell.cell_type}): no {', '.join(missing)}")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_solutions_are_folded_and_tagged(path):
    assert not solution_hiding_problems(read(path).cells)


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.name)
def test_exercises_say_how_to_open_a_solution(path):
    spans = sections(read(path).cells)
    intro = read(path).cells[spans["Exercises"][0]].source
    for words in ("JupyterLab", "Show code cell", "GitHub"):
        assert words in intro, f"the first cell of '## Exercises' does not mention {words}"
