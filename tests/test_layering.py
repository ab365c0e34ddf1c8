"""The package's layers, read from its import statements, and the size of its modules.

Four layers: the foundation (paths, layout, environment, cli), the modules the
notebooks teach with (the rest of the top level), ``deconv.data`` (getting the
photos) and ``deconv.benchmark`` (notebook 07 and scripts/benchmark.py).
Teaching modules may use data, never the benchmark; data uses only the
foundation; the foundation uses nothing else of the package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from deconv.paths import REPO_ROOT

PACKAGE_DIR = REPO_ROOT / "src" / "deconv"
FOUNDATION = {"deconv", "deconv.paths", "deconv.layout", "deconv.environment", "deconv.cli"}
MAX_LINES = 400
# What each layer may import from the package, besides itself.
ALLOWED = {
    "foundation": {"foundation"},
    "data": {"foundation"},
    "teaching": {"foundation", "data"},
    "benchmark": {"foundation", "data", "teaching"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> str:
    if module in FOUNDATION:
        return "foundation"
    for sub_package in ("data", "benchmark"):
        if module == f"deconv.{sub_package}" or module.startswith(f"deconv.{sub_package}."):
            return sub_package
    return "teaching"


def imported_modules(source: str, module: str, is_package: bool) -> set[str]:
    """Every module of the package that ``source`` imports, anywhere in it (inside functions too)."""
    package = module if is_package else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module
            found.add(origin)
            # `from . import training` imports a module; `from .paths import REPO_ROOT` a name.
            found |= {f"{origin}.{alias.name}" for alias in node.names}
    known = set(MODULES)
    return {name for name in found if name in known and name != module}


def violations(module: str, imports: set[str]) -> list[str]:
    own = layer(module)
    return [
        f"{module} ({own}) imports {name} ({layer(name)})"
        for name in sorted(imports)
        if layer(name) != own and layer(name) not in ALLOWED[own]
    ]


MODULES = {module_name(path): path for path in sorted(PACKAGE_DIR.rglob("*.py"))}


def test_every_layer_is_present():
    layers = {layer(module) for module in MODULES}
    assert layers == set(ALLOWED), layers


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_follow_the_layers(module):
    path = MODULES[module]
    imports = imported_modules(path.read_text(), module, path.name == "__init__.py")
    assert violations(module, imports) == []


def test_no_module_is_longer_than_the_cap():
    lengths = {path: len(path.read_text().splitlines()) for path in (REPO_ROOT / "src").rglob("*.py")}
    assert lengths, "no modules found"
    assert {str(path): n for path, n in lengths.items() if n > MAX_LINES} == {}
