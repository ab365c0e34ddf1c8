"""Reading times: counted by deconv.course from what a reader reads, and quoted the same everywhere.

The guide's table, each session's "Reading:" line and each notebook's opening must agree with the
count of the notebooks as they are saved. After the notebooks are re-run, `python -m deconv.course
--write` refreshes all of them.
"""

from __future__ import annotations

import nbformat
import pytest

from deconv import course

GUIDE = course.GUIDE.read_text()
NOTEBOOKS = course.notebooks()


def notebook_file(tmp_path, cells):
    notebook = nbformat.v4.new_notebook(cells=cells)
    path = tmp_path / "made_up.ipynb"
    nbformat.write(notebook, path)
    return path


def test_the_count_follows_the_stated_rule(tmp_path):
    text = nbformat.v4.new_markdown_cell("# Title\n\nSee [the docs](https://example.org/x) - now.")
    figure = nbformat.v4.new_code_cell("plot()\n\nshow()")
    figure.outputs = [
        nbformat.v4.new_output("display_data", data={"image/png": "AAAA", "text/plain": "<Figure>"}),
        nbformat.v4.new_output("stream", text="one\ntwo\n"),
    ]
    solution = [
        nbformat.v4.new_markdown_cell("#### Solution\n\nmany words here"),
        nbformat.v4.new_code_cell("hidden = 1"),
    ]
    after = nbformat.v4.new_markdown_cell("### Exercise 2: On")
    counted = course.reading(notebook_file(tmp_path, [text, figure, *solution, after]))
    # "#", "-" and the link target are not words; the solution's cells are left out
    assert (counted.words, counted.code_lines, counted.output_lines, counted.figures) == (8, 2, 2, 1)
    assert counted.solution_cells == 2
    exact = 8 / 200 + 2 / 15 + 2 / 40 + 0.5
    assert counted.exact_minutes == pytest.approx(exact)
    assert counted.minutes == 5


def test_minutes_round_up_to_five():
    assert course.Reading(200 * 10, 0, 0, 0, 0).minutes == 10
    assert course.Reading(200 * 10 + 1, 0, 0, 0, 0).minutes == 15
    assert course.Reading(0, 0, 0, 0, 0).minutes == 5


def test_the_guide_parsers_find_every_session():
    numbers = [path.name[:2] for path in NOTEBOOKS]
    assert list(course.table_rows(GUIDE)) == numbers
    assert list(course.session_readings(GUIDE)) == numbers


def test_an_optional_appendix_is_counted_on_its_own(tmp_path):
    main = [nbformat.v4.new_markdown_cell("## Summary\n\none two three"), nbformat.v4.new_code_cell("a = 1")]
    appendix = [
        nbformat.v4.new_markdown_cell("## Appendix (optional): more\n\nfour five"),
        nbformat.v4.new_code_cell("b = 2\nc = 3"),
    ]
    path = notebook_file(tmp_path, [*main, *appendix])
    assert (course.reading(path).words, course.reading(path).code_lines) == (4, 1)
    assert (course.appendix_reading(path).words, course.appendix_reading(path).code_lines) == (5, 2)
    assert course.appendix_reading(notebook_file(tmp_path, main)) is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_guide_quotes_the_counted_reading_time(path):
    counted = course.reading(path)
    minutes, _, _ = course.table_rows(GUIDE)[path.name[:2]]
    assert minutes == counted.minutes, "run python -m deconv.course --write"
    session_minutes, counts = course.session_readings(GUIDE)[path.name[:2]]
    assert (session_minutes, counts) == (counted.minutes, counted.counts()), (
        "run python -m deconv.course --write"
    )
    appendix = course.appendix_reading(path)
    quoted = course.session_appendices(GUIDE).get(path.name[:2])
    assert quoted == (None if appendix is None else (appendix.minutes, appendix.counts())), (
        "a notebook with an appendix has an 'Optional appendix:' line in its session; "
        "run python -m deconv.course --write"
    )


def opening_times(path):
    first = course.opening_cell(nbformat.read(path, as_version=4).cells)
    return course.OPENING.findall(first.source)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_opening_states_reading_and_run_time_as_the_guide(path):
    found = opening_times(path)
    assert len(found) == 1, "one statement of the times in the first markdown cell"
    minutes, sample, photos = found[0]
    _, table_sample, table_photos = course.table_rows(GUIDE)[path.name[:2]]
    assert int(minutes) == course.reading(path).minutes, "run python -m deconv.course --write"
    assert (" ".join(sample.split()), " ".join(photos.split())) == (table_sample, table_photos)
