"""Build the book: the committed notebooks, with their saved outputs, as a static site.

    .venv/bin/python book/build.py [--output results/book] [--work results/book-build]

(`python3 scripts/tasks.py book` runs this.) The pages are gathered into WORK/source, where Sphinx
reads them with book/conf.py: book/*.md, the notebooks and their guide (notebooks/README.md) in
notebooks/, and README.md, whose sections the pages include. Nothing is executed and nothing is
fetched, and every build starts afresh. Any Sphinx warning (a broken link, a missing anchor) fails the build.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

BOOK = Path(__file__).resolve().parent
REPO = BOOK.parent


def gather(source: Path) -> None:
    """Copy the pages into source/, laid out as in the repository (file times kept)."""
    if source.exists():
        shutil.rmtree(source)
    (source / "notebooks").mkdir(parents=True)
    for page in BOOK.glob("*.md"):
        shutil.copy2(page, source / page.name)
    shutil.copy2(REPO / "README.md", source / "README.md")
    for page in [*sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")), REPO / "notebooks" / "README.md"]:
        shutil.copy2(page, source / "notebooks" / page.name)


def build(output: Path, work: Path, quiet: bool = True) -> int:
    from sphinx.cmd.build import build_main

    gather(work / "source")
    arguments = ["-b", "html", "-E", "-c", str(BOOK), "-d", str(work / "doctrees"), "-W", "--keep-going"]
    return build_main([*arguments, *(["-q"] if quiet else []), str(work / "source"), str(output)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=REPO / "results" / "book", help="the site")
    parser.add_argument("--work", type=Path, default=REPO / "results" / "book-build", help="scratch")
    parser.add_argument("--verbose", action="store_true", help="Sphinx's progress, not only warnings")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    status = build(args.output.resolve(), args.work.resolve(), quiet=not args.verbose)
    if status == 0:
        print(f"Book built in {time.perf_counter() - started:.0f} s: open {args.output / 'index.html'}")
    else:
        print("Building the book failed: see Sphinx's warnings above.", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
