"""The package depends on what it imports, and only on that: click, pyroute2 and rich at run
time; pyelftools only in the tests (the reference the ELF reader is held against).

tests/packaging/test_install.py runs the installed commands without pyelftools.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def name_of(requirement: str) -> str:
    found = re.match(r"[A-Za-z0-9_.-]+", requirement)
    assert found
    return found.group(0).lower()


def imported_distributions() -> set[str]:
    """imported_distributions: the top-level modules the package imports, outside the
    standard library and itself."""
    found = set()
    for source in (ROOT / "pybpftool").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"pybpftool", "__future__"}


def test_runtime_dependencies_are_what_the_package_imports() -> None:
    assert imported_distributions() == {"click", "pyroute2", "rich"}
    assert sorted(name_of(r) for r in PROJECT["dependencies"]) == ["click", "pyroute2", "rich"]


def test_pyelftools_is_a_test_dependency_the_package_never_names() -> None:
    assert "pyelftools" in {name_of(r) for r in PROJECT["optional-dependencies"]["test"]}
    named = []
    for source in (ROOT / "pybpftool").rglob("*.py"):
        tree = ast.parse(source.read_text())
        docstrings = {
            id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)
        }  # prose (elf.py says why it is not used), not code
        named += [
            f"{source.relative_to(ROOT)}:{node.lineno}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and "elftools" in node.value
            and id(node) not in docstrings
        ]
    assert named == []  # not even imported by name through importlib
