"""The generated models: every valid document round-trips; unions dispatch by type; access is typed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CORPUS, EXAMPLES

pytestmark = pytest.mark.slow  # importing the models builds ~100 Pydantic classes


def same_json(left: Any, right: Any) -> bool:
    """Equal as JSON values, number types included (``25`` is not ``25.0``); object key order is free."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(same_json(left[key], right[key]) for key in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(same_json(a, b) for a, b in zip(left, right, strict=True))
    return bool(left == right)


def test_same_json_is_strict_about_number_types() -> None:
    assert same_json({"a": [1, 2.5]}, {"a": [1, 2.5]})
    assert not same_json({"a": 25}, {"a": 25.0})
    assert not same_json({"a": 1}, {"a": 1, "b": 2})


def _round_trip(document: dict[str, Any]) -> Any:
    from caliper_schema.models.document import CaliperDocument
    from caliper_schema.models.envelope import Envelope

    model = Envelope if "dataVersion" in document else CaliperDocument
    return model.model_validate(document).model_dump(mode="json", by_alias=True, exclude_unset=True)


def valid_documents() -> list[Path]:
    examples = sorted((EXAMPLES / "valid").glob("*.json"))
    if not CORPUS.is_dir():
        return examples
    return examples + sorted(
        p for p in CORPUS.glob("*.json") if p.name != "caliperEndpointConfigPayload.json"
    )


@pytest.mark.parametrize("path", valid_documents(), ids=lambda p: p.name)
def test_valid_documents_round_trip_through_the_models(path: Path) -> None:
    document = json.loads(path.read_text())
    assert same_json(_round_trip(document), document)


def test_the_corpus_is_in_the_round_trip() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"the IMS corpus is absent at {CORPUS}")
    assert len(valid_documents()) >= 144


def test_document_union_dispatches_by_type_to_typed_models() -> None:
    from caliper_schema.models.caliper.entities.person import Person
    from caliper_schema.models.caliper.events.view_event import ViewEvent
    from caliper_schema.models.document import CaliperDocument

    event = CaliperDocument.model_validate({
        "id": "urn:uuid:3a648e68-f00d-4c08-aa59-8738e1884f2c", "type": "ViewEvent", "action": "Viewed",
        "actor": {"id": "https://example.edu/users/554433", "type": "Person"},
        "object": "https://example.edu/etexts/201.epub", "eventTime": "2016-11-15T10:15:00.000Z",
    }).root  # fmt: skip
    assert isinstance(event, ViewEvent) and isinstance(event.actor, Person)
    assert event.object == "https://example.edu/etexts/201.epub"


def test_models_reject_an_unknown_type_and_an_unknown_property() -> None:
    from pydantic import ValidationError

    from caliper_schema.models.caliper.entities.person import Person
    from caliper_schema.models.document import CaliperDocument

    with pytest.raises(ValidationError) as raised:
        CaliperDocument.model_validate({"id": "https://example.edu/x", "type": "Persn"})
    assert raised.value.errors()[0]["type"] == "union_tag_invalid"
    with pytest.raises(ValidationError) as raised:
        Person.model_validate({"id": "https://example.edu/x", "type": "Person", "nickname": "Ada"})
    assert raised.value.errors()[0]["loc"] == ("nickname",)


def test_timeback_models_give_typed_access() -> None:
    from caliper_schema.models.envelope import Envelope
    from caliper_schema.models.timeback.activity_event import TimebackActivityEvent

    envelope = Envelope.model_validate(
        json.loads((EXAMPLES / "valid" / "timeback-activity-event.json").read_text())
    )
    [event] = envelope.data
    assert isinstance(event, TimebackActivityEvent)
    assert event.object.subject == "Reading"
    assert [item.type for item in event.generated.items][:1] == ["xpEarned"]
