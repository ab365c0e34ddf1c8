"""The package's exported modules are their notebooks' cells tagged "export", as they are now."""

import json
import shutil

from deconv import export


def test_every_exported_module_matches_a_fresh_export():
    stale = export.stale_modules()
    assert stale == [], f"{stale} differ from their notebooks: run 'python3 scripts/tasks.py export'"


def test_an_edited_cell_makes_its_module_stale_until_exported(tmp_path):
    notebooks, package = tmp_path / "notebooks", tmp_path / "package"
    notebooks.mkdir()
    package.mkdir()
    for notebook, module in export.EXPORTS.items():
        shutil.copy(export.NOTEBOOKS_DIR / notebook, notebooks / notebook)
        shutil.copy(export.PACKAGE_DIR / module, package / module)
    assert export.stale_modules(notebooks, package) == []
    notebook, module = next(iter(export.EXPORTS.items()))
    cells = json.loads((notebooks / notebook).read_text())
    exported = next(cell for cell in cells["cells"] if export.TAG in cell["metadata"].get("tags", []))
    exported["source"].append("\nEDITED = True\n")
    (notebooks / notebook).write_text(json.dumps(cells))
    assert export.stale_modules(notebooks, package) == [module]
    assert export.write_modules(notebooks, package) == [package / module]
    assert "EDITED = True" in (package / module).read_text()
    assert export.stale_modules(notebooks, package) == []


def test_only_tagged_cells_go_in():
    text = export.module_text(export.NOTEBOOKS_DIR / "08_beyond_the_blog.ipynb")
    assert "def train_recipe(" in text and "def image_datasets(" in text
    for untagged in ('train("blog")', "trained = {}", "NBVAL_CHECK_OUTPUT", "dataset.root"):
        assert untagged not in text
