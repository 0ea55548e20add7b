"""Building events with the models, as an app developer would: by keyword, typed, valid when dumped.

An ActivityEvent and a TimeSpentEvent envelope are built with keyword arguments only (``context=``, no
``type``/``action``/``profile``/``dataVersion``, aware datetimes); their natural dumps and the models
themselves pass ``validate()`` with no error and no warning. mypy, with no plugin, accepts the same code
and rejects a misspelt subject and an unknown keyword. Hypothesis draws model instances through its entry
point, without ``caliper_schema.strategies`` imported and without importing anything until it draws.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from caliper_schema import validate
from caliper_schema.models.envelope import Envelope
from caliper_schema.models.timeback.activity_context import TimebackActivityContext, TimebackReference
from caliper_schema.models.timeback.activity_event import TimebackActivityEvent
from caliper_schema.models.timeback.activity_metric import TimebackActivityMetric
from caliper_schema.models.timeback.activity_metrics_collection import TimebackActivityMetricsCollection
from caliper_schema.models.timeback.time_spent_event import TimebackTimeSpentEvent
from caliper_schema.models.timeback.time_spent_metric import TimebackTimeSpentMetric
from caliper_schema.models.timeback.time_spent_metrics_collection import TimebackTimeSpentMetricsCollection
from caliper_schema.models.timeback.user import TimebackUser
from tests.conftest import CONTEXT, ROOT

pytestmark = pytest.mark.slow  # the first use of each model builds its validator; mypy runs

ONEROSTER = "https://api.alpha-1edtech.com/ims/oneroster/rostering/v1p2"
FINISHED = datetime(2025, 7, 22, 21, 25, 40, 250000, tzinfo=UTC)
EVENT_ID = "urn:uuid:5b1f6a2e-8c43-4d1e-9a7b-0c2d3e4f5a6b"


def student() -> TimebackUser:
    return TimebackUser(id=f"{ONEROSTER}/users/3f2b9c1e", email="ada.lovelace@example.com", role="student")


def quiz() -> TimebackActivityContext:
    return TimebackActivityContext(
        id="https://reading.example.com/activities/reading-g3/unit-4/quiz-2",
        subject="Reading",
        app=TimebackReference(name="Reading Coach", id="https://reading.example.com"),
        course=TimebackReference(name="Reading G3", id=f"{ONEROSTER}/courses/reading-g3"),
    )


def activity_envelope() -> Envelope:
    completed = TimebackActivityEvent(
        context=CONTEXT,
        id=EVENT_ID,
        actor=student(),
        object=quiz(),
        eventTime=FINISHED,
        generated=TimebackActivityMetricsCollection(
            id="https://reading.example.com/metrics/activity/5b1f6a2e",
            items=[
                TimebackActivityMetric(type="xpEarned", value=12),
                TimebackActivityMetric(type="totalQuestions", value=10),
                TimebackActivityMetric(type="correctQuestions", value=8),
            ],
        ),
        extensions={"runId": "9d2c4e6f-1a3b-4c5d-8e7f-6a5b4c3d2e1f"},
    )
    return Envelope(sensor="https://reading.example.com", sendTime=FINISHED + timedelta(seconds=30),
                    data=[completed])  # fmt: skip


def time_spent_envelope() -> Envelope:
    spent = TimebackTimeSpentEvent(
        context=CONTEXT,
        id="urn:uuid:7e3a9b1c-2d4f-4a6b-8c0d-1e2f3a4b5c6d",
        actor=student(),
        object=quiz(),
        eventTime=FINISHED,
        generated=TimebackTimeSpentMetricsCollection(
            id="https://reading.example.com/metrics/time-spent/7e3a9b1c",
            items=[
                TimebackTimeSpentMetric(
                    type="active", value=540, startDate=FINISHED - timedelta(minutes=9), endDate=FINISHED
                ),
                TimebackTimeSpentMetric(type="inactive", value=60),
            ],
        ),
    )
    return Envelope(sensor="https://reading.example.com", sendTime=FINISHED + timedelta(seconds=30),
                    data=[spent])  # fmt: skip


@pytest.mark.parametrize("build", [activity_envelope, time_spent_envelope], ids=lambda f: f.__name__)
def test_an_envelope_built_by_keyword_is_valid_three_ways(build: Any) -> None:
    envelope = build()
    for payload in (envelope.model_dump_json(), envelope.model_dump(mode="json"), envelope):
        report = validate(payload)
        assert report.issues == (), [(issue.rule, issue.pointer, issue.message) for issue in report.issues]


def test_the_natural_dump_is_the_caliper_payload() -> None:
    [event] = json.loads(activity_envelope().model_dump_json())["data"]
    assert event["@context"] == CONTEXT and "context" not in event
    constants = (event["type"], event["action"], event["profile"])
    assert constants == ("ActivityEvent", "Completed", "TimebackProfile")
    assert event["eventTime"] == "2025-07-22T21:25:40.250Z"
    assert event["actor"] == {"id": f"{ONEROSTER}/users/3f2b9c1e", "type": "TimebackUser",
                              "email": "ada.lovelace@example.com", "role": "student"}  # fmt: skip
    assert "null" not in activity_envelope().model_dump_json()


def test_a_datetime_is_written_in_the_caliper_form_and_a_string_as_given() -> None:
    from pydantic import ValidationError

    def sent(value: Any) -> str:
        envelope = Envelope(sensor="https://a.example", sendTime=value, data=[quiz()])
        return str(envelope.model_dump()["sendTime"])

    assert sent(datetime(2024, 4, 24, 16, 12, 0, 7000, tzinfo=timezone(timedelta(hours=2)))) == (
        "2024-04-24T14:12:00.007Z"
    )
    assert sent(datetime(999, 1, 2, tzinfo=UTC)) == "0999-01-02T00:00:00.000Z"
    assert sent("2024-04-24T16:12:00+02:00") == "2024-04-24T16:12:00+02:00"  # not the model's to reform
    with pytest.raises(ValidationError) as raised:
        sent(datetime(2024, 4, 24, 14, 12))  # naive: which time zone?
    assert {error["type"] for error in raised.value.errors()} >= {"timezone_aware"}


def test_context_is_read_under_both_names_and_written_as_at_context() -> None:
    by_alias = TimebackUser.model_validate({"@context": CONTEXT, "id": "https://a.example/u/1",
                                            "type": "TimebackUser", "email": "a@example.com"})  # fmt: skip
    by_name = TimebackUser.model_validate({"context": CONTEXT, "id": "https://a.example/u/1",
                                           "email": "a@example.com"})  # fmt: skip
    assert by_alias == by_name and by_alias.context == CONTEXT
    assert json.loads(by_name.model_dump_json())["@context"] == CONTEXT
    assert by_name.model_dump(by_alias=False)["context"] == CONTEXT  # the Python names on request


def test_an_unset_field_is_left_out_and_an_extension_keeps_its_null() -> None:
    event = TimebackActivityEvent.model_validate(
        json.loads(activity_envelope().model_dump_json())["data"][0] | {"extensions": {"note": None}}
    )
    dumped = json.loads(event.model_dump_json())
    assert "edApp" not in dumped and "session" not in dumped and dumped["extensions"] == {"note": None}
    # an optional field set to None is not written: no Caliper property admits null
    unnamed = TimebackUser(id="https://a.example/u/1", email="a@example.com", name=None)
    assert unnamed.name is None and "name" not in unnamed.model_dump()


def _one_value(schema: dict[str, Any]) -> Any:
    """The value a property schema admits when it admits one: a ``const`` or an ``enum`` of one."""
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    return enum[0] if isinstance(enum, list) and len(enum) == 1 else None


def test_every_one_value_property_defaults_to_its_value_in_the_models() -> None:
    # The schemas give such a property its value as `default` (so a new schema without it fails here), and
    # the model of each document type defaults to it (codegen writes it where dmcg 0.89 drops it).
    from caliper_schema.registry import load
    from tests.test_models import model_for

    catalogue = load()
    missing, checked = [], 0
    for uri, schema in catalogue.schemas.items():
        for owner in [schema, *schema.get("$defs", {}).values()]:
            for name, property_schema in owner.get("properties", {}).items():
                one = _one_value(property_schema)
                if one is not None and property_schema.get("default") != one:
                    missing.append((uri, name))
    assert missing == []
    for type_name, uri in catalogue.types.items():
        model = model_for({"type": type_name})
        for name, property_schema in catalogue.resolve(uri).get("properties", {}).items():
            if (one := _one_value(property_schema)) is not None:
                assert model.model_fields[name].default == one, (type_name, name)
                checked += 1
    assert Envelope.model_fields["dataVersion"].default == CONTEXT
    assert checked >= 100 + 4 + 5  # every type; a Timeback event's action and profile; 5 one-action events


# --- mypy, with no plugin, on a user's script ----------------------------------------------------------


def readme_example() -> str:
    """The code of the README's "Building events with the models": what a user copies."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Building events with the models") :]
    code = section[section.index("```python\n") + len("```python\n") :]
    return code[: code.index("```")] + "print(validate(envelope).status, len(body) > 0)\n"


def _mypy(folder: Path, *scripts: str) -> subprocess.CompletedProcess[str]:
    """mypy --strict with no plugin and no project configuration, on the installed (typed) package."""
    (folder / "mypy.ini").write_text("[mypy]\n")
    command = [sys.executable, "-m", "mypy", "--strict", "--config-file", "mypy.ini", "--cache-dir",
               str(folder / ".mypy_cache"), *scripts]  # fmt: skip
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)


def test_construction_type_checks_without_a_plugin_and_mistakes_do_not(tmp_path: Path) -> None:
    # The README's example, as written: mypy --strict without plugin accepts it and it runs; the same
    # with a misspelt subject or an unknown keyword does not type-check, at that line.
    script = readme_example()
    (tmp_path / "clean.py").write_text(script)
    misspelt = script.replace('subject="Reading"', 'subject="Maths"')
    (tmp_path / "misspelt.py").write_text(misspelt)
    (tmp_path / "unknown.py").write_text(script.replace('role="student"', 'role="student", nickname="Ada"'))
    done = _mypy(tmp_path, "clean.py", "misspelt.py", "unknown.py")
    lines = sorted(line for line in done.stdout.splitlines() if ": error:" in line)
    subject_line = next(n for n, line in enumerate(misspelt.splitlines(), 1) if 'subject="Maths"' in line)
    call_line = next(n for n, line in enumerate(script.splitlines(), 1) if "= TimebackUser(" in line)
    assert len(lines) == 2, done.stdout + done.stderr
    assert lines[0].startswith(f"misspelt.py:{subject_line}: error:") and "Maths" in lines[0]
    assert lines[1].startswith(f"unknown.py:{call_line}: error:") and '"nickname"' in lines[1]
    ran = subprocess.run([sys.executable, "clean.py"], cwd=tmp_path, capture_output=True, text=True)
    assert ran.stdout == "success True\n", ran.stderr


# --- Hypothesis: st.from_type(Model) through the entry point -------------------------------------------

_FROM_TYPE = """
import sys
{first}
costs = sorted(m for m in ("pydantic", "caliper_schema.strategies", "caliper_schema.validation")
               if m in sys.modules)
from hypothesis import given, settings, strategies as st
from caliper_schema.models.timeback.activity_event import TimebackActivityEvent
from caliper_schema.models.caliper.entities.person import Person
loaded = "caliper_schema.strategies" in sys.modules

@given(st.from_type(TimebackActivityEvent), st.from_type(Person))
@settings(max_examples=5, deadline=None, database=None)
def drawn(event, person):
    assert isinstance(event, TimebackActivityEvent) and isinstance(person, Person)
    assert event.model_dump()["type"] == "ActivityEvent"

drawn()
print(costs, loaded)
"""


@pytest.mark.parametrize(
    ("first", "imported_with_hypothesis"),
    [("import hypothesis", []), ("import caliper_schema.models.caliper.entities.person", ["pydantic"])],
    ids=["hypothesis-first", "models-first"],
)
def test_from_type_works_through_the_entry_point_and_loads_nothing_until_drawn(
    first: str, imported_with_hypothesis: list[str]
) -> None:
    # `import hypothesis` runs the entry point: it must not import pydantic, the strategies or the validator.
    code = _FROM_TYPE.format(first=first)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{imported_with_hypothesis} False\n"
