"""Reading times of the notebooks, counted from what a reader reads, and the guide's table of them.

The rule, stated once here and in notebooks/README.md:

- prose: the words of the markdown cells, at 200 words a minute (a word is a run of characters without
  spaces holding a letter or a digit; link targets and HTML comments are not read);
- code: the non-blank lines of the code cells, at 15 lines a minute;
- output: the lines of text the saved outputs print, at 40 lines a minute;
- figures: half a minute for each image in the saved outputs.

The Colab link and setup cell (deconv.hosted) are not counted: they are for running elsewhere.

Solutions do not count: everything from a "#### Solution" heading to the next heading of level 3 or
higher (### , ## , #) belongs to working through the exercises, which comes on top. The total is
rounded up to a multiple of five minutes. An optional appendix (a level-2 heading that starts with
"Appendix", after the summary) is counted on its own: the reading time is that of the main part.

``python -m deconv.course`` prints the guide's table rows and each session's "Reading:" line from the
notebooks as they are saved; ``python -m deconv.course --write`` puts those numbers into
notebooks/README.md and each notebook's opening, so that they can be refreshed in one command after
the notebooks are re-run.
"""

from __future__ import annotations

import json
import math
import re
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

from .hosted import LINK_CELL_ID, SETUP_CELL_ID
from .paths import REPO_ROOT

NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
GUIDE = NOTEBOOKS_DIR / "README.md"

WORDS_PER_MINUTE = 200
CODE_LINES_PER_MINUTE = 15
OUTPUT_LINES_PER_MINUTE = 40
MINUTES_PER_FIGURE = 0.5
ROUND_TO_MINUTES = 5

IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")
HEADING = re.compile(r"^(#{1,6})\s")
# The guide's table row of a session, and its "Reading:" line; the opening statement of a notebook.
TABLE_ROW = re.compile(r"^\| (\d+) \| (\d\d) [^|]*\| (\d+) min \| ([^|]+?) \| ([^|]+?) \|$", re.MULTILINE)
READING_LINE = re.compile(r"\*\*Reading:\*\* about (\d+) minutes \(([^)]*)\)\.")
APPENDIX_LINE = re.compile(r"\*\*Optional appendix:\*\* about (\d+) more minutes \(([^)]*)\)\.")
APPENDIX_HEADING = re.compile(r"^##\s+Appendix")
# The Colab link and setup cell (deconv.hosted) are for running elsewhere, not part of the lesson.
HOSTED_CELLS = (LINK_CELL_ID, SETUP_CELL_ID)
OPENING = re.compile(
    r"\*\*Time:\*\*\s+about\s+(\d+)\s+minutes\s+to\s+read;\s+a\s+run\s+takes\s+(.+?)\s+on\s+the\s+sample\s+"
    r"and\s+(.+?)\s+on\s+the\s+photos,\s+on\s+two\s+CPU\s+cores\.",
    re.DOTALL,
)


@dataclass(frozen=True)
class Reading:
    """What a reader reads in one notebook, solutions left out, and the minutes it takes."""

    words: int
    code_lines: int
    output_lines: int
    figures: int
    solution_cells: int  # left out of the counts above

    @property
    def exact_minutes(self) -> float:
        return (
            self.words / WORDS_PER_MINUTE
            + self.code_lines / CODE_LINES_PER_MINUTE
            + self.output_lines / OUTPUT_LINES_PER_MINUTE
            + self.figures * MINUTES_PER_FIGURE
        )

    @property
    def minutes(self) -> int:
        """The exact minutes rounded up to a multiple of five (at least five)."""
        return max(ROUND_TO_MINUTES, ROUND_TO_MINUTES * math.ceil(self.exact_minutes / ROUND_TO_MINUTES))

    def counts(self) -> str:
        """The counts as the guide's "Reading:" line gives them."""
        return (
            f"{self.words:,} words, {self.code_lines:,} lines of code, "
            f"{self.output_lines:,} lines of output, {self.figures} figures"
        )


def cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def solution_cells(cells: list[dict]) -> set[int]:
    """Indices of the cells of solutions: from a "#### Solution" heading to the next heading of level <= 3."""
    inside, found = False, set()
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "markdown":
            match = HEADING.match(cell_source(cell).lstrip())
            if match and cell_source(cell).lstrip().startswith("#### Solution"):
                inside = True
            elif match and len(match.group(1)) <= 3:
                inside = False
        if inside:
            found.add(index)
    return found


def prose_words(markdown: str) -> int:
    markdown = re.sub(r"<!--.*?-->", " ", markdown, flags=re.DOTALL)
    markdown = re.sub(r"\]\([^)]*\)", "]", markdown)  # [text](target): the target is not read
    return sum(1 for token in markdown.split() if re.search(r"\w", token))


def output_counts(outputs: list[dict]) -> tuple[int, int]:
    """Lines of text and figures in a code cell's saved outputs."""
    lines = figures = 0
    for output in outputs:
        if output.get("output_type") == "stream":
            lines += len("".join(output.get("text", "")).splitlines())
        elif output.get("output_type") == "error":
            lines += len(output.get("traceback", []))
        else:
            data = output.get("data", {})
            if any(kind in data for kind in IMAGE_TYPES):
                figures += 1
            elif "text/plain" in data:
                lines += len("".join(data["text/plain"]).splitlines())
    return lines, figures


def appendix_start(cells: list[dict]) -> int:
    """The index of the cell that opens an optional appendix, or the number of cells when there is none."""
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "markdown" and APPENDIX_HEADING.match(cell_source(cell).lstrip()):
            return index
    return len(cells)


def reading(path: Path, part: str = "main") -> Reading:
    """What a reader reads in the notebook at ``path``, as it is saved (with its outputs).

    ``part`` is "main" (everything before an optional appendix) or "appendix" (the appendix alone).
    """
    cells = json.loads(Path(path).read_text())["cells"]
    solutions = solution_cells(cells)
    start = appendix_start(cells)
    wanted = range(start) if part == "main" else range(start, len(cells))
    words = code_lines = output_lines = figures = 0
    for index, cell in enumerate(cells):
        if index in solutions or index not in wanted or cell.get("id") in HOSTED_CELLS:
            continue
        if cell["cell_type"] == "markdown":
            words += prose_words(cell_source(cell))
        elif cell["cell_type"] == "code":
            code_lines += sum(1 for line in cell_source(cell).splitlines() if line.strip())
            lines, images = output_counts(cell.get("outputs", []))
            output_lines += lines
            figures += images
    return Reading(words, code_lines, output_lines, figures, len(solutions))


def reading_minutes(path: Path) -> int:
    return reading(path).minutes


def appendix_reading(path: Path) -> Reading | None:
    """What the optional appendix of a notebook holds, or None when it has none."""
    cells = json.loads(Path(path).read_text())["cells"]
    return reading(path, "appendix") if appendix_start(cells) < len(cells) else None


def notebooks() -> list[Path]:
    return sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def notebook_numbered(number: str) -> Path:
    (path,) = [path for path in notebooks() if path.name.startswith(number)]
    return path


def table_rows(guide: str) -> dict[str, tuple[int, str, str]]:
    """The guide's table: notebook number -> (reading minutes, run time on the sample, on the photos)."""
    return {
        number: (int(minutes), sample, photos)
        for _, number, minutes, sample, photos in TABLE_ROW.findall(guide)
    }


def session_appendices(guide: str) -> dict[str, tuple[int, str]]:
    """Each session's "Optional appendix:" line, where it has one: notebook number -> (minutes, counts)."""
    found = {}
    for section in re.split(r"^### Session ", guide, flags=re.MULTILINE)[1:]:
        number = re.search(r"\[(\d\d) ", section).group(1)
        match = APPENDIX_LINE.search(section)
        if match:
            found[number] = (int(match.group(1)), match.group(2))
    return found


def session_readings(guide: str) -> dict[str, tuple[int, str]]:
    """Each session's "Reading:" line: notebook number -> (minutes, the counts in brackets)."""
    found = {}
    for section in re.split(r"^### Session ", guide, flags=re.MULTILINE)[1:]:
        number = re.search(r"\[(\d\d) ", section).group(1)
        match = READING_LINE.search(section)
        if match:
            found[number] = (int(match.group(1)), match.group(2))
    return found


def refreshed_guide(guide: str) -> str:
    """The guide with every reading time and count recomputed from the notebooks."""

    def row(match: re.Match) -> str:
        minutes = reading(notebook_numbered(match.group(2))).minutes
        return match.group(0).replace(f"| {match.group(3)} min |", f"| {minutes} min |", 1)

    def session(section: str) -> str:
        number = re.search(r"\[(\d\d) ", section)
        if not number:
            return section
        counted = reading(notebook_numbered(number.group(1)))
        line = f"**Reading:** about {counted.minutes} minutes ({counted.counts()})."
        section = READING_LINE.sub(lambda _: line, section, count=1)
        appendix = appendix_reading(notebook_numbered(number.group(1)))
        if appendix is not None:
            line = f"**Optional appendix:** about {appendix.minutes} more minutes ({appendix.counts()})."
            section = APPENDIX_LINE.sub(lambda _: line, section, count=1)
        return section

    guide = TABLE_ROW.sub(row, guide)
    head, *sessions = re.split(r"(?=^### Session )", guide, flags=re.MULTILINE)
    return head + "".join(session(section) for section in sessions)


def opening_cell(cells: list) -> dict:
    """The notebook's opening: its first markdown cell, after the Colab link."""
    return next(
        cell for cell in cells if cell["cell_type"] == "markdown" and cell.get("id") not in HOSTED_CELLS
    )


def opening_statement(path: Path, guide: str) -> str:
    minutes = reading(path).minutes
    _, sample, photos = table_rows(guide)[path.name[:2]]
    return (
        f"**Time:** about {minutes} minutes to read; a run takes {sample} on the sample and {photos} "
        "on the photos, on two CPU cores."
    )


def refresh_openings(guide: str) -> list[Path]:
    """Rewrite the time statement in each notebook's first markdown cell that has one; the changed ones."""
    changed = []
    for path in notebooks():
        notebook = json.loads(path.read_text())
        first = opening_cell(notebook["cells"])
        source = cell_source(first)
        match = OPENING.search(source)
        if not match:
            continue
        statement = opening_statement(path, guide)
        if re.sub(r"\s+", " ", match.group(0)) == statement:
            continue
        wrapped = textwrap.fill(statement, width=105, break_long_words=False, break_on_hyphens=False)
        updated = source[: match.start()] + wrapped + source[match.end() :]
        first["source"] = updated.splitlines(keepends=True)
        path.write_text(json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
        changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    guide = GUIDE.read_text()
    if argv == ["--write"]:
        refreshed = refreshed_guide(guide)
        if refreshed != guide:
            GUIDE.write_text(refreshed)
            print(f"rewrote the reading times in {GUIDE.relative_to(REPO_ROOT)}")
        for path in refresh_openings(refreshed):
            print(f"rewrote the time statement of {path.relative_to(REPO_ROOT)}")
        return 0
    if argv:
        print("usage: python -m deconv.course [--write]", file=sys.stderr)
        return 2
    print(f"{'notebook':<34} {'minutes':>7} {'exact':>6}  counts (solutions left out)")
    for path in notebooks():
        counted = reading(path)
        print(f"{path.stem:<34} {counted.minutes:>7} {counted.exact_minutes:>6.1f}  {counted.counts()}")
        appendix = appendix_reading(path)
        if appendix is not None:
            print(
                f"{'  its optional appendix':<34} {appendix.minutes:>7} {appendix.exact_minutes:>6.1f}  "
                f"{appendix.counts()}"
            )
    print("\nThe guide's table as the notebooks are saved now:")
    for line in refreshed_guide(guide).splitlines():
        if TABLE_ROW.match(line):
            print(line)
    print("'python -m deconv.course --write' puts these numbers into the guide and the notebooks' openings.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
