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


def _imports(path: Path, runtime_only: bool = False) -> set[str]:
    """Top-level packages ``path`` imports (``runtime_only``: not under ``TYPE_CHECKING``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in _runtime_nodes(tree) if runtime_only else ast.walk(tree):
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


# --------------------------------------------------------------------------- storage layer
#: SQLAlchemy names that build or run SQL (types such as Engine/Connection are allowed).
SQL_NAMES = {
    "select",
    "insert",
    "update",
    "delete",
    "text",
    "func",
    "and_",
    "or_",
    "not_",
    "bindparam",
    "literal",
    "case",
    "exists",
    "union",
    "union_all",
    "Table",
    "MetaData",
}
#: Method calls that send SQL to a database.
SQL_CALLS = {"execute", "exec_driver_sql", "executemany", "scalar", "scalars"}
#: Modules whose ``.scalar()`` is not SQL (``pa.scalar(None)`` makes an Arrow scalar).
NOT_SQL_RECEIVERS = {"pa", "pc", "np"}
STORE = ROOT / "geo" / "store"


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node except those inside ``if TYPE_CHECKING:`` blocks."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for b in node.body for n in ast.walk(b))
    return [n for n in ast.walk(tree) if id(n) not in skip]


def _runtime_imports(path: Path) -> set[str]:
    return _imports(path, runtime_only=True)


def _sql_uses(path: Path) -> list[str]:
    """Places where ``path`` builds or runs SQL (SQLAlchemy constructs, SQL strings)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            found += [f"{node.lineno}: {a.name}" for a in node.names if a.name in SQL_NAMES]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver = node.func.value
            arrow = isinstance(receiver, ast.Name) and receiver.id in NOT_SQL_RECEIVERS
            if node.func.attr in SQL_CALLS and not arrow:
                found.append(f"{node.lineno}: .{node.func.attr}()")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            head = node.value.lstrip().upper()
            if head.startswith(("SELECT ", "INSERT INTO", "UPDATE ", "DELETE FROM", "PRAGMA ")):
                found.append(f"{node.lineno}: SQL string")
    return found


def _writes_report(path: Path) -> list[str]:
    """Places where ``path`` inserts, updates or deletes rows of the ``report`` table."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = {"report"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("geo.store"):
            names.update(a.asname or a.name for a in node.names if a.name == "report")
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        method = isinstance(f, ast.Attribute) and f.attr in ("insert", "update", "delete")
        if method and isinstance(f.value, ast.Name) and f.value.id in names:  # type: ignore[attr-defined]
            found.append(f"{node.lineno}: {f.value.id}.{f.attr}()")  # type: ignore[attr-defined]
        if isinstance(f, ast.Name) and f.id in ("insert", "update", "delete") and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Name) and arg.id in names:
                found.append(f"{node.lineno}: {f.id}({arg.id})")
        for arg in node.args:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                text = " ".join(arg.value.upper().split())
                if any(k in text for k in ("INSERT INTO REPORT ", "UPDATE REPORT ")):
                    found.append(f"{node.lineno}: SQL writing report")
    return found


def _is_view(path: Path) -> bool:
    return "Blueprint(" in path.read_text(encoding="utf-8")


def _services() -> list[Path]:
    """Modules of webmap/services/ plus the Flask-free rule modules of webmap."""
    return sorted((ROOT / "webmap" / "services").rglob("*.py")) + [
        ROOT / "webmap" / name for name in SERVICE_MODULES
    ]


#: webmap modules that hold business rules and must stay usable without Flask.
SERVICE_MODULES = (
    "auth/apikeys.py",
    "citizen/kommun_geo.py",
    "citizen/photos.py",
    "citizen/runtime.py",
    "citizen/submissions.py",
    "cli/demo_actions.py",
    "db.py",
    "mail/citizen.py",
    "mail/coverage.py",
    "mail/sender.py",
    "patrol/observations.py",
    "patrol/plan.py",
    "planner/actions.py",
    "planner/forecast_choice.py",
    "planner/moderation_service.py",
    "planner/weekly.py",
    "render/patrol_svg.py",
    "results.py",
)


def test_views_import_no_sqlalchemy() -> None:
    views = [p for p in _modules("webmap") if _is_view(p)]
    assert len(views) > 10
    offenders = [str(p.relative_to(ROOT)) for p in views if "sqlalchemy" in _runtime_imports(p)]
    assert not offenders, "views must call the store, not SQLAlchemy:\n" + "\n".join(offenders)


def test_services_import_no_flask() -> None:
    flask = {"flask", "flask_login", "flask_wtf", "flask_limiter", "werkzeug"}
    offenders = [
        f"{p.relative_to(ROOT)} imports {sorted(_runtime_imports(p) & flask)}"
        for p in _services()
        if _runtime_imports(p) & flask
    ]
    assert not offenders, "services must run without Flask:\n" + "\n".join(offenders)


def test_only_geo_store_contains_sql() -> None:
    offenders = []
    for pkg in PACKAGES:
        for p in _modules(pkg):
            rel = str(p.relative_to(ROOT))
            if p.is_relative_to(STORE):
                continue
            offenders += [f"{rel}:{use}" for use in _sql_uses(p)]
    assert not offenders, "SQL belongs in geo/store:\n" + "\n".join(offenders)


def test_only_geo_writes_the_report_table() -> None:
    offenders = []
    for pkg in PACKAGES:
        for p in _modules(pkg):
            if p.is_relative_to(STORE):
                continue
            offenders += [f"{p.relative_to(ROOT)}:{w}" for w in _writes_report(p)]
    assert not offenders, "only geo/store writes report:\n" + "\n".join(offenders)


def test_storage_checks_detect_violations(tmp_path: Path) -> None:
    view = tmp_path / "view.py"
    view.write_text(
        "from typing import TYPE_CHECKING\n"
        "from flask import Blueprint\n"
        "if TYPE_CHECKING:\n    from sqlalchemy import Engine\n"
        "bp = Blueprint('x', __name__)\n",
        encoding="utf-8",
    )
    assert _is_view(view) and "sqlalchemy" not in _runtime_imports(view)
    view.write_text("import sqlalchemy\nfrom flask import Blueprint\n", encoding="utf-8")
    assert "sqlalchemy" in _runtime_imports(view) and "flask" in _runtime_imports(view)
    sql = tmp_path / "sql.py"
    sql.write_text(
        "from sqlalchemy import Engine, select, update\n"
        "from geo.store.tables import report as r\n"
        "def f(conn):\n"
        "    conn.execute(update(r).values(status='x'))\n"
        "    conn.exec_driver_sql('UPDATE report SET status = 1')\n"
        "    r.delete()\n"
        "    return 'select 1'\n",
        encoding="utf-8",
    )
    uses = _sql_uses(sql)
    assert "1: select" in uses and "1: update" in uses and "1: Engine" not in uses
    assert "4: .execute()" in uses and "5: .exec_driver_sql()" in uses and "5: SQL string" in uses
    writes = sorted(_writes_report(sql))
    assert writes == ["4: update(r)", "5: SQL writing report", "6: r.delete()"]
    clean = tmp_path / "clean.py"
    clean.write_text("from sqlalchemy import Engine\ndef f(e: Engine) -> None: ...\n")
    assert _sql_uses(clean) == [] and _writes_report(clean) == []
