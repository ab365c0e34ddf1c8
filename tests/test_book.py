"""The book (`tasks.py book`) builds from the committed notebooks and reads well in a real browser.

The site is built into a temporary folder, served on 127.0.0.1 and opened page by page in Debian's
headless Chromium, driven by Playwright (never `playwright install`: it would download a browser of
its own). Every request outside 127.0.0.1 is refused and reported: the book must work offline. A
screenshot of notebook 04 lands in results/book-screenshot.png.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_HINT = (
    f"Chromium is not installed at {CHROMIUM}: install it with `apt-get install chromium` (Debian, as root; "
    ".ci/run does this in CI)"
)
SCREENSHOT = REPO / "results" / "book-screenshot.png"
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))

pytestmark = pytest.mark.slow  # builds the whole book and opens every page


def solution_cells(notebook: Path) -> int:
    cells = nbformat.read(notebook, as_version=4).cells
    return sum("solution" in cell.metadata.get("tags", []) for cell in cells)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("book")
    command = [sys.executable, "book/build.py", "--output", str(work / "site"), "--work", str(work / "build")]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return work / "site"


@pytest.fixture(scope="module")
def server(site):
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not CHROMIUM.exists():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(INSTALL_HINT)  # CI must run the browser, never skip it unnoticed
        pytest.skip(INSTALL_HINT)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        yield context
        context.close()


class Visit:
    """A page opened in the browser, with what went wrong while it loaded."""

    def __init__(self, context, server: str, path: str):
        self.problems: list[str] = []
        self.page = page = context.new_page()
        page.on("console", lambda message: self.console(message))
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.route("**/*", self.only_local)
        self.server = server
        page.goto(f"{server}/{path}", wait_until="load")
        page.wait_for_load_state("networkidle")

    def console(self, message) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text} ({message.location.get('url')})")

    def only_local(self, route) -> None:
        if route.request.url.startswith(self.server + "/"):
            route.continue_()
        else:
            self.problems.append(f"request outside the book: {route.request.url}")
            route.abort()

    def broken_images(self) -> list[str]:
        return self.page.evaluate(
            """async () => {
                const images = Array.from(document.images);
                for (const image of images) image.loading = "eager";
                await Promise.all(images.map((image) => image.decode().catch(() => null)));
                return images.filter((image) => image.naturalWidth === 0).map((image) => image.src);
            }"""
        )

    def links(self) -> list[str]:
        return self.page.eval_on_selector_all("a[href]", "links => links.map(link => link.href)")

    def ids(self) -> set[str]:
        return set(self.page.eval_on_selector_all("[id]", "nodes => nodes.map(node => node.id)"))


@pytest.fixture(scope="module")
def visits(browser, site, server) -> dict[str, Visit]:  # no build when there is no browser
    pages = sorted(path.relative_to(site).as_posix() for path in site.rglob("*.html"))
    pages = [page for page in pages if not page.startswith(("_static/", "_sources/"))]
    return {page: Visit(browser, server, page) for page in pages}


def test_the_book_has_a_page_for_each_notebook_the_guide_and_where_this_comes_from(visits):
    notebook_pages = {f"notebooks/{path.stem}.html" for path in NOTEBOOKS}
    expected = {"index.html", "search.html", "notebooks/README.html", "where-this-comes-from.html"}
    assert notebook_pages | expected <= visits.keys()
    contents = visits["index.html"].links()
    first = [
        next(n for n, link in enumerate(contents) if link.endswith(page)) for page in sorted(notebook_pages)
    ]
    assert first == sorted(first), "the contents list the notebooks in order"
    assert (
        visits["where-this-comes-from.html"].page.get_by_text("Six statements in the notes are wrong").count()
    )


def test_every_page_loads_without_errors_and_with_every_image(visits):
    problems = {}
    for path, visit in visits.items():
        found = visit.problems + [f"image not loaded: {src}" for src in visit.broken_images()]
        if found:
            problems[path] = found
    assert not problems


def test_every_internal_link_and_anchor_resolves(site, server, visits):
    ids = {path: visit.ids() for path, visit in visits.items()}
    broken = []
    for path, visit in visits.items():
        for link in visit.links():
            if not link.startswith(server + "/"):
                continue
            address = urlsplit(link)
            target = unquote(address.path).lstrip("/") or "index.html"
            if target.endswith("/"):
                target += "index.html"
            if not (site / target).is_file():
                broken.append(f"{path}: {link} (no such file)")
            elif address.fragment and target.endswith(".html"):
                if unquote(address.fragment) not in ids.get(target, set()):
                    broken.append(f"{path}: {link} (no element with that id)")
    assert not broken


def test_notebook_links_and_jupyter_anchors_become_book_links(visits):
    links = visits["where-this-comes-from.html"].links()
    into_notebooks = [link for link in links if "/notebooks/" in link and "#" in link]
    assert len(into_notebooks) >= 6, "the six corrections link to the cells that prove them"
    page = visits["notebooks/01_explore_the_data.html"]
    own_links = [link for link in page.links() if link.startswith(page.server + "/")]
    assert any(link.endswith("02_build_the_cnn.html") for link in own_links), "the link to notebook 02"
    assert not [link for link in own_links if ".ipynb" in link]


def test_previous_and_next_links_follow_the_notebooks(visits):
    for before, after in zip(NOTEBOOKS, NOTEBOOKS[1:], strict=False):
        page = visits[f"notebooks/{before.stem}.html"].page
        assert page.locator("a.next-page").get_attribute("href").endswith(f"{after.stem}.html")
        following = visits[f"notebooks/{after.stem}.html"].page
        assert following.locator("a.prev-page").get_attribute("href").endswith(f"{before.stem}.html")


def test_search_finds_a_word_of_the_notebooks(browser, server):
    visit = Visit(browser, server, "search.html?q=flow_from_directory")
    results = visit.page.locator("#search-results li")
    results.first.wait_for(timeout=20_000)
    assert results.count() >= 2
    assert not visit.problems


@pytest.mark.parametrize("path", [path for path in NOTEBOOKS if solution_cells(path)], ids=lambda p: p.stem)
def test_every_solution_cell_is_folded(visits, path):
    page = visits[f"notebooks/{path.stem}.html"].page
    cells = page.locator("div.cell.tag_solution")
    assert cells.count() == solution_cells(path)
    assert page.locator("div.cell.tag_solution > details:not([open])").count() == cells.count()


def test_a_solution_shows_only_after_a_click(visits):
    page = visits["notebooks/03_the_image_transformer.html"].page
    for kind in ("div.cell.tag_solution.solution-text", "div.cell.tag_solution:not(.solution-text)"):
        toggle = page.locator(f"{kind} > details").first
        content = toggle.locator(":scope > :not(summary)").first
        toggle.scroll_into_view_if_needed()
        assert not content.is_visible(), kind
        toggle.locator("summary").click()
        content.wait_for(state="visible", timeout=5_000)
        assert content.is_visible(), kind
    heading = page.locator("h4", has_text="Solution").first
    assert heading.is_visible(), "the heading of a solution stays visible"


def test_formulas_are_typeset(visits):
    page = visits["notebooks/02_build_the_cnn.html"].page
    page.wait_for_function("() => window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0")
    assert page.evaluate("MathJax.Hub.getAllJax().length") > 10
    assert "\\(" not in page.locator("article").inner_text(), "a formula left as TeX source"


def test_screenshot_of_a_notebook_page(tmp_path, visits):
    """A look at a notebook page with its first figure, for a person to check (results/)."""
    page = visits["notebooks/04_train_and_evaluate.html"].page
    figure = page.locator("article img").first
    figure.scroll_into_view_if_needed()
    shot = tmp_path / "book-screenshot.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    SCREENSHOT.parent.mkdir(exist_ok=True)
    shutil.copyfile(shot, SCREENSHOT)
