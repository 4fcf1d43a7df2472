"""The policy engine stays pure and layered: no database, no clock, no import circles."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

POLICY = Path(__file__).resolve().parents[2] / "billing" / "policy"
MODULES = sorted(p.stem for p in POLICY.glob("*.py") if p.stem != "__init__")


def _tree(module: str) -> ast.Module:
    return ast.parse((POLICY / f"{module}.py").read_text(encoding="utf-8"))


def _policy_imports(module: str) -> set[str]:
    found = set()
    for node in ast.walk(_tree(module)):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level == 1 and node.module is None:  # from . import engine
            found.update(alias.name for alias in node.names)
        elif node.level == 1:
            found.add(node.module.split(".")[0])
        elif node.module and node.module.startswith("billing.policy."):
            found.add(node.module.split(".")[2])
    return found


@pytest.mark.parametrize("module", MODULES)
def test_policy_module_imports_no_django_and_reads_no_clock(module):
    source = (POLICY / f"{module}.py").read_text(encoding="utf-8")
    for node in ast.walk(_tree(module)):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        assert not any(name.split(".")[0] == "django" for name in names), module
    for clock in (".now(", ".utcnow(", ".today(", "time.time("):
        assert clock not in source, f"{module} reads the clock ({clock})"


def test_policy_modules_import_no_circle():
    graph = {module: _policy_imports(module) for module in MODULES}
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, " -> ".join((*path, module))
        if module in done:
            return
        for dependency in graph.get(module, ()):
            visit(dependency, (*path, module))
        done.add(module)

    for module in MODULES:
        visit(module, ())


def test_engine_entry_point_keeps_its_names():
    from billing.policy import engine

    for name in ("quote_cancellation", "quote_plan_change", "add_months", "unused_fraction"):
        assert callable(getattr(engine, name))
