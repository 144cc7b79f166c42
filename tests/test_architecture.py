"""Structural rules of the code base, checked on the source (AST), not by convention."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("geo", "analysis", "webmap")
#: A package may import only the packages listed for it (imports flow webmap → analysis → geo).
ALLOWED = {"geo": {"geo"}, "analysis": {"analysis", "geo"}, "webmap": {"webmap", "analysis", "geo"}}
H3_MODULES = {"h3", "polars_h3", "h3ronpy"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_flow_one_way(package: str) -> None:
    offenders = []
    for path in _modules(package):
        bad = (_imports(path) & set(PACKAGES)) - ALLOWED[package]
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not offenders, "imports must flow webmap → analysis → geo:\n" + "\n".join(offenders)


def test_only_cells_module_imports_h3() -> None:
    users = [
        str(p.relative_to(ROOT))
        for pkg in PACKAGES
        for p in _modules(pkg)
        if _imports(p) & H3_MODULES
    ]
    assert users == ["geo/cells.py"]


def test_architecture_check_detects_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "x.py"
    bad.write_text("from webmap.app import create_app\nimport analysis.cube\n", encoding="utf-8")
    assert _imports(bad) == {"webmap", "analysis"}


def _metadata_objects(path: Path) -> list[int]:
    """Lines where ``path`` creates a SQLAlchemy ``MetaData``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id == "MetaData")
            or (isinstance(node.func, ast.Attribute) and node.func.attr == "MetaData")
        )
    ]


def test_exactly_one_metadata_in_geo_store() -> None:
    found = [
        f"{p.relative_to(ROOT)}:{line}"
        for pkg in PACKAGES
        for p in _modules(pkg)
        for line in _metadata_objects(p)
    ]
    assert len(found) == 1 and found[0].startswith("geo/store/tables.py:"), found


def test_metadata_check_detects_a_second_one(tmp_path: Path) -> None:
    bad = tmp_path / "tables.py"
    bad.write_text("import sqlalchemy as sa\nm = sa.MetaData()\nn = MetaData()\n", encoding="utf-8")
    assert _metadata_objects(bad) == [2, 3]
