"""The generated models: every valid document round-trips through the natural dump; slots dispatch by type.

Reading: ``model_validate`` on a document, then ``model_dump_json()`` with no argument, gives the document
back (as JSON: number types included), and the validator accepts what the models wrote. Generated documents
of every event type and envelopes do the same (the property test). Slots that admit many entity types are
checked by ``type``, building one model's validator at a time.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from caliper_schema import strategies as cs
from caliper_schema import validate
from caliper_schema.generation.building import event_types
from tests.conftest import CORPUS, EXAMPLES, ROOT

pytestmark = pytest.mark.slow  # the first use of each model builds its validator


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


def model_for(document: dict[str, Any]) -> Any:
    """The model class of a document: the Envelope, or the model its ``type`` names (``document_types``)."""
    from caliper_schema.models.document_types import MODELS
    from caliper_schema.models.envelope import Envelope

    if "dataVersion" in document:
        return Envelope
    module, name = MODELS[document["type"]].split(":")
    return getattr(importlib.import_module(module), name)


def test_the_document_types_name_each_model_that_reads_its_type() -> None:
    from caliper_schema.generation.building import entity_types
    from caliper_schema.models.document_types import MODELS

    assert set(MODELS) == set(event_types()) | set(entity_types(bare=False))
    for type_name in MODELS:
        field = model_for({"type": type_name}).model_fields["type"]
        assert typing.get_args(field.annotation) == (type_name,) and field.default == type_name


def natural_round_trip(document: dict[str, Any]) -> tuple[Any, str]:
    """The model of ``document`` and its dump with no argument."""
    model = model_for(document).model_validate(document)
    return model, model.model_dump_json()


def valid_documents() -> list[Path]:
    examples = sorted((EXAMPLES / "valid").glob("*.json"))
    if not CORPUS.is_dir():
        return examples
    return examples + sorted(
        p for p in CORPUS.glob("*.json") if p.name != "caliperEndpointConfigPayload.json"
    )


@pytest.mark.parametrize("path", valid_documents(), ids=lambda p: p.name)
def test_valid_documents_round_trip_through_the_natural_dump(path: Path) -> None:
    document = json.loads(path.read_text())
    model, dumped = natural_round_trip(document)
    assert same_json(json.loads(dumped), document)
    assert same_json(model.model_dump(mode="json"), document)


def test_the_corpus_is_in_the_round_trip() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"the IMS corpus is absent at {CORPUS}")
    assert len(valid_documents()) >= 144


# --- generated documents: model_validate -> model_dump_json() -> validate() --------------------------

GENERATED = settings(
    derandomize=True,
    deadline=None,  # each model's validator is built on its first use
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


def _through_the_models(document: dict[str, Any]) -> None:
    _, dumped = natural_round_trip(document)
    report = validate(dumped)
    assert report.errors == (), [(issue.rule, issue.pointer, issue.message) for issue in report.errors]
    assert same_json(json.loads(dumped), document), (dumped, document)


@pytest.mark.parametrize("event_type", event_types())
def test_generated_events_of_every_type_survive_the_models(event_type: str) -> None:
    @settings(GENERATED, max_examples=12)
    @given(cs.events(event_type))
    def each(event: dict[str, Any]) -> None:
        _through_the_models(event)

    each()


def test_all_24_event_types_are_in_the_property_test() -> None:
    assert len(event_types()) == 24


@settings(GENERATED, max_examples=40)
@given(cs.envelopes(max_size=4))
def test_generated_envelopes_survive_the_models(envelope: dict[str, Any]) -> None:
    _through_the_models(envelope)


@settings(GENERATED, max_examples=30)
@given(cs.entities())
def test_generated_entities_survive_the_models(entity: dict[str, Any]) -> None:
    _through_the_models(entity)


# --- dispatch by type ---------------------------------------------------------------------------------


def test_document_union_dispatches_by_type_to_typed_models() -> None:
    from pydantic import TypeAdapter

    from caliper_schema.models.caliper.entities.person import Person
    from caliper_schema.models.caliper.events.view_event import ViewEvent
    from caliper_schema.models.document import CaliperDocument

    event = TypeAdapter(CaliperDocument).validate_python({
        "id": "urn:uuid:3a648e68-f00d-4c08-aa59-8738e1884f2c", "type": "ViewEvent", "action": "Viewed",
        "actor": {"id": "https://example.edu/users/554433", "type": "Person"},
        "object": "https://example.edu/etexts/201.epub", "eventTime": "2016-11-15T10:15:00.000Z",
    })  # fmt: skip
    assert isinstance(event, ViewEvent) and isinstance(event.actor, Person)
    assert event.object == "https://example.edu/etexts/201.epub"


def test_models_reject_an_unknown_type_an_unknown_property_and_a_wrong_slot_type() -> None:
    from pydantic import TypeAdapter, ValidationError

    from caliper_schema.models.caliper.entities.person import Person
    from caliper_schema.models.caliper.events.view_event import ViewEvent
    from caliper_schema.models.document import CaliperDocument

    with pytest.raises(ValidationError) as raised:
        TypeAdapter(CaliperDocument).validate_python({"id": "https://example.edu/x", "type": "Persn"})
    assert [(error["type"], error["loc"]) for error in raised.value.errors()] == [("union_tag_invalid", ())]
    with pytest.raises(ValidationError) as raised:
        Person.model_validate({"id": "https://example.edu/x", "type": "Person", "nickname": "Ada"})
    assert [error["loc"] for error in raised.value.errors()] == [("nickname",)]
    event = {"id": "urn:uuid:3a648e68-f00d-4c08-aa59-8738e1884f2c", "type": "ViewEvent",
             "actor": {"id": "https://example.edu/c/1", "type": "CourseSection"},
             "object": {"id": "https://example.edu/u/1", "type": "Person", "name": 7},
             "eventTime": "2016-11-15T10:15:00.000Z"}  # fmt: skip
    with pytest.raises(ValidationError) as raised:
        ViewEvent.model_validate(event)
    found = {(error["type"], error["loc"]) for error in raised.value.errors()}
    # the nested error keeps its path; an entity of a type the slot does not admit is named by its tag
    assert found == {("union_tag_invalid", ("actor",)), ("string_type", ("object", "name"))}


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


_LAZY = """
import json, sys
from caliper_schema.models.envelope import Envelope
assert "caliper_schema.validation" not in sys.modules, "importing a model imported the validator"
assert not Envelope.__pydantic_complete__, "a model was built at import"
Envelope.model_validate(json.load(open(sys.argv[1])))
from caliper_schema.models.timeback.activity_event import TimebackActivityEvent
loaded = sorted(name.rsplit(".", 1)[1] for name in sys.modules if name.startswith("caliper_schema.models."))
print(json.dumps([Envelope.__pydantic_complete__, TimebackActivityEvent.__pydantic_complete__, loaded]))
"""


def test_a_model_is_built_and_even_imported_on_its_first_use_only() -> None:
    # A fresh interpreter: importing the Envelope builds nothing; a Timeback envelope imports and builds the
    # Timeback event's models, not the 140 entity models nor the 22 Caliper events its union could hold.
    example = EXAMPLES / "valid" / "timeback-activity-event.json"
    done = subprocess.run([sys.executable, "-c", _LAZY, str(example)], cwd=ROOT, capture_output=True,
                          text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    built, event_built, loaded = json.loads(done.stdout)
    assert built and event_built
    assert "_internal" not in loaded and "view_event" not in loaded and "person" not in loaded
    assert {"activity_event", "user", "activity_context", "event", "refs"} <= set(loaded)
