"""What the book adds to MyST-NB: Jupyter's heading anchors, solutions that open on a click, MathJax."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jupyter_server_mathjax
from docutils import nodes
from myst_nb.sphinx_ import HideCodeCellNode
from sphinx.util.docutils import SphinxDirective

MATHJAX = Path(jupyter_server_mathjax.__file__).parent / "static"


def jupyter_anchor(heading: str) -> str:
    """The anchor Jupyter gives a heading: its text with every space turned into '-'."""
    return heading.replace(" ", "-")


SHOW, HIDE = "Show the solution", "Hide the solution"
# An image from the web, such as a "Run in Colab" badge: the book shows its text, loads nothing from outside.
REMOTE_IMAGE = re.compile(r"!\[([^\]]*)\]\(https?://[^)\s]+(?:\s+\"[^\"]*\")?\)")


def without_remote_images(markdown: str) -> str:
    return REMOTE_IMAGE.sub(lambda match: match.group(1), markdown)


def prepare_page(app, docname: str, source: list[str]) -> None:
    """Every cell tagged 'solution' opens on a click: code cells by MyST-NB's 'hide-cell', text here.

    Also: the guide's link to the README, and images from the web, as the book needs them.
    """
    if docname == "notebooks/README":
        # The guide sends readers to the repository's README for the notebooks' one-line summaries:
        # in the book, the contents page shows that table.
        source[0] = source[0].replace("](../README.md)", "](../index.md)")
    if not str(app.env.doc2path(docname)).endswith(".ipynb"):
        source[0] = without_remote_images(source[0])
        return
    notebook = json.loads(source[0])
    for cell in notebook["cells"]:
        metadata = cell.setdefault("metadata", {})
        tags = metadata.get("tags", [])
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "markdown":
            cell["source"] = text = without_remote_images(text)
        if "solution" not in tags:
            continue
        if cell["cell_type"] == "markdown":
            fence = "`" * max([3, *map(len, re.findall(r"`+", text))]) + "`"
            cell["source"] = f"{fence}{{solution-text}}\n{text}\n{fence}\n"
        else:
            metadata["tags"] = [*tags, "hide-cell"] if "hide-cell" not in tags else tags
            metadata.setdefault("mystnb", {}).update(
                code_prompt_show="Show the solution's code", code_prompt_hide="Hide the solution's code"
            )
    source[0] = json.dumps(notebook)


class SolutionText(SphinxDirective):
    """The text of a solution, behind the same click-to-open bar as the solution's code."""

    has_content = True

    def run(self) -> list[nodes.Node]:
        toggle = HideCodeCellNode(prompt_show=SHOW, prompt_hide=HIDE, classes=["above-input"])
        toggle.extend(self.parse_content_to_nodes())
        return [nodes.container("", toggle, classes=["cell", "tag_solution", "solution-text"])]


def copy_mathjax(app, exception) -> None:
    if exception is None and app.builder.format == "html":
        shutil.copytree(MATHJAX, Path(app.outdir) / "_static" / "mathjax", dirs_exist_ok=True)


def setup(app):
    app.add_directive("solution-text", SolutionText)
    app.connect("source-read", prepare_page)
    app.connect("build-finished", copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
