"""Generated code: models and hook file match their sources, codegen is deterministic, models are usable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from codegen import generate, hooks
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def test_committed_generated_files_match_codegen() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "codegen", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_codegen_twice_gives_identical_bytes(tmp_path: Path) -> None:
    generate.generate(tmp_path / "one")
    generate.generate(tmp_path / "two")
    first, second = generate.snapshot(tmp_path / "one"), generate.snapshot(tmp_path / "two")
    assert first and first == second


def test_drift_is_reported_as_a_diff() -> None:
    lines = generate.drift({"a.py": "x = 1\n"}, {"a.py": "x = 2\n", "b.py": "y = 1\n"})
    assert "-x = 1\n" in lines and "+x = 2\n" in lines and "+++ generated/b.py\n" in lines


def test_generated_files_say_so() -> None:
    for path in (ROOT / "caliper_schema" / "models").rglob("*.py"):
        assert path.read_text(encoding="utf-8").startswith(generate.HEADER), path


def test_hook_file_is_rendered_from_the_catalogue() -> None:
    assert yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text()) == hooks.HOOKS
