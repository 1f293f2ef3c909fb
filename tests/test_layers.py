"""The shape of the code: only storage/ and catalog/ run statements, and the project's modules import
each other without a circle (import-linter, in pyproject.toml, checks the direction of the layers)."""
import ast
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "catalog", "pricing", "storage")
# What a module above catalog/ may take from SQLAlchemy: a Connection to pass on, URLs, exceptions.
ALLOWED_SQLALCHEMY = {"sqlalchemy.engine", "sqlalchemy.exc"}
# Building or running statements: storage/ and catalog/ only.
STATEMENT_MODULES = {"storage.tables", "storage.prepared"}
RUNNING = {"execute", "exec_driver_sql", "scalar", "scalars", "driver_connection", "dbapi_connection"}


def _above_catalog():
    for package in ("bot", "handlers"):
        yield from sorted((ROOT / package).rglob("*.py"))


def _imported(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


@pytest.mark.parametrize("path", list(_above_catalog()), ids=lambda p: str(p.relative_to(ROOT)))
def test_only_storage_and_catalog_build_or_run_statements(path):
    tree = ast.parse(path.read_text(), str(path))
    for module in _imported(tree):
        if module == "sqlalchemy" or module.startswith("sqlalchemy."):
            assert module in ALLOWED_SQLALCHEMY, f"{path.name} imports {module}"
        assert module not in STATEMENT_MODULES, f"{path.name} imports {module}"
    used = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    assert not used & RUNNING, f"{path.name} runs statements itself ({', '.join(sorted(used & RUNNING))})"


def test_the_scan_above_sees_a_statement_run_in_a_handler():
    tree = ast.parse("def h(ctx):\n    ctx.conn.execute(q)\n")
    assert {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)} & RUNNING == {"execute"}


def test_no_module_of_the_project_imports_itself_round_a_circle():
    graph = grimp.build_graph(*PACKAGES)
    project = [m for m in graph.modules if m.split(".")[0] in PACKAGES]
    circles = []
    for module in sorted(project):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported.split(".")[0] not in PACKAGES:
                continue
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back is not None:
                circles.append((module,) + tuple(back))
    assert circles == []
