"""Sphinx settings for the book: the committed notebooks, with their saved outputs, as a static site.

`python3 scripts/tasks.py book` builds it (book/build.py gathers the pages, then runs Sphinx with this
file). Nothing is executed and nothing is fetched: the theme, the search and MathJax ship with the
site, so it reads offline. notebook_pages.py, beside this file, hides the solutions.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

project = "Deconvoluting convolutions"
author = "The deconvoluting-convolutions authors"
copyright = "2026 The deconvoluting-convolutions authors (MIT License)"

extensions = ["myst_nb", "notebook_pages"]
root_doc = "index"
exclude_patterns = ["README.md"]  # the repository's README: only its sections are included

# The notebooks as they are committed, outputs and all.
nb_execution_mode = "off"
# The widgets of notebook 02 need JavaScript from the web: show their saved text instead.
nb_ipywidgets_js = {}
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]
# $...$ and $$...$$ as Jupyter reads them; MathJax comes from the jupyter-server-mathjax package.
myst_enable_extensions = ["dollarmath"]
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"
# That package ships MathJax 2 with the STIX-Web fonts only, as Jupyter Notebook used it. MathJax 2
# reads the whole page (outside code), so MyST need not mark where math may be: that marking is
# MathJax 3's.
myst_update_mathjax = False
mathjax2_config = {
    "HTML-CSS": {
        "availableFonts": [],
        "webFont": "STIX-Web",
        "imageFont": None,
        # Its font test loads url('about:blank'), which fails on purpose and which browsers now report
        # as an error: a local font that no one has fails the same way, quietly.
        "styles": {"@font-face": {"font-family": "MathJax_Blank", "src": "local('MathJax_Blank')"}},
    },
    "fast-preview": {"disabled": True},
}

# Links between notebooks use Jupyter's anchors: the heading's text with spaces turned into '-'
# (02_build_the_cnn.ipynb#Sidebar-3:-why-...). The book gives each heading the same slug.
myst_heading_anchors = 4

myst_heading_slug_func = "notebook_pages.jupyter_anchor"

html_theme = "furo"
html_title = "Deconvoluting convolutions"
html_show_sourcelink = False
html_copy_source = False
