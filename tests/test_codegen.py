"""Generated code: models and hook file match their sources, codegen is deterministic, models are usable."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from codegen import generate, hooks
from tests.conftest import EXAMPLES, ROOT

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


def _round_trip(model: Any, document: dict[str, Any]) -> dict[str, Any]:
    dumped: dict[str, Any] = model.model_validate(document).model_dump(
        mode="json", by_alias=True, exclude_unset=True
    )
    return dumped


@pytest.mark.parametrize("path", sorted((EXAMPLES / "valid").glob("*.json")), ids=lambda p: p.name)
def test_valid_examples_round_trip_through_the_envelope_model(path: Path) -> None:
    from caliper_schema.models.envelope import Envelope

    document = json.loads(path.read_text())
    assert _round_trip(Envelope, document) == document


def test_models_give_typed_access() -> None:
    from caliper_schema.models.envelope import Envelope
    from caliper_schema.models.timeback.activity_event import TimebackActivityEvent

    envelope = Envelope.model_validate(
        json.loads((EXAMPLES / "valid" / "timeback-activity-event.json").read_text())
    )
    [event] = envelope.data
    assert isinstance(event, TimebackActivityEvent)
    assert event.object.subject == "Reading"
    assert [item.type for item in event.generated.items][:1] == ["xpEarned"]


def test_models_reject_what_the_schema_rejects_structurally() -> None:
    from pydantic import ValidationError

    from caliper_schema.models.timeback.user import TimebackUser

    with pytest.raises(ValidationError) as raised:
        TimebackUser.model_validate(
            {"id": "https://x.example/u/1", "type": "TimebackUser", "email": "a@b.c", "x": 1}
        )
    assert raised.value.errors()[0]["loc"] == ("x",)
