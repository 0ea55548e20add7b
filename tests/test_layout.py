"""The package's layout is its architecture: imports point one way, and each wing's ``__init__`` is a map.

Validation uses only the shared core; generation may use validation; the service uses validation and the
core; the command line uses them all; nothing imports the command line but ``python -m caliper_schema``.
Imports inside functions count too.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = Path(__file__).resolve().parent.parent / "caliper_schema"
WINGS = ("validation", "generation", "service", "cli")
CORE = ("registry", "policy", "configuration", "reporting", "hints", "locating", "modelbase", "strategies")

FORBIDDEN = {
    "validation": (
        "caliper_schema.generation",
        "caliper_schema.cli",
        "caliper_schema.strategies",
        "caliper_schema.service",
    ),
    "generation": ("caliper_schema.cli", "caliper_schema.service"),
    "service": ("caliper_schema.cli", "caliper_schema.generation", "caliper_schema.strategies"),
    "core": ("caliper_schema.cli", "caliper_schema.service"),
}
"""Where a module lives → the packages it must never import."""


def _part(module: Path) -> str:
    relative = module.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else "core"


def _imports(module: Path) -> set[str]:
    """Every module name ``module`` imports, absolute, at any depth of its code."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{module}: use absolute imports"
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _sources() -> list[Path]:
    return [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if "models" not in path.relative_to(PACKAGE).parts and path.name != "__main__.py"
    ]


def _violations(module: Path, imports: set[str]) -> list[str]:
    banned = FORBIDDEN.get(_part(module), ())
    return [name for name in sorted(imports) if name.startswith(banned)]


@pytest.mark.parametrize("module", _sources(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_imports_point_one_way(module: Path) -> None:
    assert _violations(module, _imports(module)) == []


def test_the_direction_check_catches_a_wrong_import(tmp_path: Path) -> None:
    # The check above must be able to fail: the same function on modules that break each rule.
    checking, building = PACKAGE / "validation" / "checking.py", PACKAGE / "generation" / "building.py"
    wrong = {"caliper_schema.generation.building", "caliper_schema.registry"}
    assert _violations(checking, wrong) == ["caliper_schema.generation.building"]
    assert _violations(checking, {"caliper_schema.cli.output"}) == ["caliper_schema.cli.output"]
    assert _violations(building, {"caliper_schema.cli"}) == ["caliper_schema.cli"]
    assert _violations(building, {"caliper_schema.validation.rules"}) == []
    assert _violations(PACKAGE / "policy.py", {"caliper_schema.cli.output"}) == ["caliper_schema.cli.output"]
    app = PACKAGE / "service" / "app.py"
    assert _violations(app, {"caliper_schema.cli.commands"}) == ["caliper_schema.cli.commands"]
    assert _violations(app, {"caliper_schema.validation.pipeline"}) == []
    assert _violations(checking, {"caliper_schema.service.app"}) == ["caliper_schema.service.app"]
    late = tmp_path / "late.py"
    late.write_text("def f():\n    from caliper_schema.cli import main\n")
    assert "caliper_schema.cli.main" in _imports(late)


def test_the_package_root_is_the_shared_core_and_the_wings() -> None:
    modules = sorted(path.stem for path in PACKAGE.glob("*.py"))
    assert len(modules) <= 10, modules
    assert set(modules) == {"__init__", "__main__", *CORE}
    packages = sorted(path.name for path in PACKAGE.iterdir() if (path / "__init__.py").is_file())
    assert packages == sorted([*WINGS, "models"])


@pytest.mark.parametrize("wing", WINGS)
def test_each_wing_init_lists_its_modules(wing: str) -> None:
    """The docstring of a wing's ``__init__`` names every module of the wing, as a map to read by."""
    package = importlib.import_module(f"caliper_schema.{wing}")
    modules = sorted(path.stem for path in (PACKAGE / wing).glob("*.py") if path.stem != "__init__")
    assert modules
    doc = package.__doc__ or ""
    missing = [name for name in modules if f"caliper_schema.{wing}.{name}`" not in doc]
    assert missing == []


def test_the_public_api_is_where_it_was() -> None:
    import caliper_schema
    from caliper_schema.cli import main
    from caliper_schema.validation import pipeline

    assert caliper_schema.__all__ == ["Issue", "Limits", "Policy", "Report", "validate", "validate_file"]
    assert caliper_schema.validate is pipeline.validate
    assert caliper_schema.validate_file is pipeline.validate_file
    # The console script's entry point: it loads the commands under a Ctrl-C guard and runs theirs.
    assert main.__module__ == "caliper_schema.cli"
    assert 'caliper-schema = "caliper_schema.cli:main"' in (ROOT / "pyproject.toml").read_text()
