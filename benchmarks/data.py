"""The benchmark data: deterministic envelopes, each holding one event, and a broken copy of each.

The documents are built in code (no fixture is copied into the repository), modelled on
``examples/valid/*.json`` and on the IMS Caliper 1.2 valid fixtures: Timeback ``ActivityEvent`` and
``TimeSpentEvent`` for most of the mix, and Caliper events with nested entities (``ViewEvent``,
``NavigationEvent``, ``AssessmentItemEvent``, ``GradeEvent``, ``SessionEvent``) for the rest. Every id,
name, time and metric varies with a fixed :class:`random.Random` seed, so two runs time the same bytes.

The invalid set is the valid set with one or two realistic mistakes per document (a bad date, a misspelt
subject or action, an entity of the wrong type in a slot, a missing required property).
:func:`verify` proves both sets are what they claim before anything is timed.
"""

from __future__ import annotations

import copy
import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

SEED = 20250722
CALIPER = "http://purl.imsglobal.org/ctx/caliper/v1p2"
ONEROSTER = "https://api.alpha-1edtech.com/ims/oneroster/rostering/v1p2"

Json = dict[str, Any]

# The share of each event type in the mix: mostly the Timeback profile, which is what this toolkit is for,
# and enough Caliper events with nested entities to exercise the entity dispatch.
MIX: dict[str, float] = {
    "ActivityEvent": 0.35,
    "TimeSpentEvent": 0.30,
    "ViewEvent": 0.07,
    "NavigationEvent": 0.07,
    "AssessmentItemEvent": 0.07,
    "GradeEvent": 0.07,
    "SessionEvent": 0.07,
}

SUBJECTS = ["Reading", "Language", "Vocabulary", "Social Studies", "Writing", "Science", "FastMath", "Math"]
APPS = ["reading", "mathacademy", "vocab", "writing-lab", "science-quest", "fastmath"]
FIRST = ["Ada", "Alan", "Grace", "Katherine", "Edsger", "Barbara", "Donald", "Margaret", "Tim", "Radia"]
LAST = ["Lovelace", "Turing", "Hopper", "Johnson", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Lee"]


@dataclass(frozen=True)
class Sample:
    """One benchmark document: its event type, the parsed envelope and its serialized bytes."""

    kind: str
    document: Json
    raw: bytes
    mistakes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dataset:
    """The valid samples and, index for index, the same documents with mistakes."""

    valid: list[Sample]
    invalid: list[Sample]

    @property
    def mean_bytes(self) -> float:
        return sum(len(sample.raw) for sample in self.valid) / len(self.valid)


def serialize(document: Json) -> bytes:
    # Indented like a fixture committed to a repository: the CLI and check-jsonschema read these same
    # bytes from files, so every row of the table times the same input.
    return json.dumps(document, indent=2, ensure_ascii=False).encode()


# --- building blocks ---------------------------------------------------------------------------------


class _Maker:
    """Random but realistic values, all drawn from one seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def hex(self, length: int) -> str:
        return f"{self.rng.getrandbits(4 * length):0{length}x}"

    def instant(self) -> datetime:
        start = datetime(2025, 1, 6, 7, 0, tzinfo=UTC)
        return start + timedelta(
            seconds=self.rng.randrange(0, 300 * 86400), milliseconds=self.rng.randrange(1000)
        )

    def person_name(self) -> str:
        return f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"


def stamp(moment: datetime) -> str:
    """The Caliper DateTime form: ``YYYY-MM-DDTHH:mm:ss.SSSZ``, UTC."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def envelope(make: _Maker, event: Json, event_time: datetime, sensor: str) -> Json:
    sent = event_time + timedelta(seconds=make.rng.randrange(1, 120))
    return {"sensor": sensor, "sendTime": stamp(sent), "dataVersion": CALIPER, "data": [event]}


# --- the Timeback profile ----------------------------------------------------------------------------


def _timeback_user(make: _Maker) -> Json:
    name = make.person_name()
    user = {
        "id": f"{ONEROSTER}/users/{make.uuid()}",
        "type": "TimebackUser",
        "email": f"{name.lower().replace(' ', '.')}{make.rng.randrange(100)}@example.com",
        "name": name,
        "role": make.rng.choice(["student", "student", "student", "teacher", "guide"]),
    }
    if make.rng.random() < 0.2:
        del user["name"]
    return user


def _activity_context(make: _Maker, app: str) -> Json:
    subject = make.rng.choice(SUBJECTS)
    grade = make.rng.randrange(1, 9)
    slug = f"{subject.lower().replace(' ', '-')}-g{grade}"
    unit, quiz = make.rng.randrange(1, 12), make.rng.randrange(1, 6)
    context: Json = {
        "id": f"https://{app}.example.com/activities/{slug}/unit-{unit}/quiz-{quiz}",
        "type": "TimebackActivityContext",
        "subject": subject,
        "app": {"name": app.replace("-", " ").title(), "id": f"https://{app}.example.com"},
        "course": {"id": f"{ONEROSTER}/courses/{slug}", "name": f"{subject} G{grade}"},
        "activity": {"name": f"Unit {unit} quiz {quiz}"},
    }
    if make.rng.random() < 0.5:
        context["process"] = make.rng.random() < 0.2
    return context


def _timeback_event(make: _Maker, type_: str, action: str) -> tuple[Json, datetime, str]:
    app = make.rng.choice(APPS)
    happened = make.instant()
    event: Json = {
        "@context": CALIPER,
        "id": f"urn:uuid:{make.uuid()}",
        "type": type_,
        "profile": "TimebackProfile",
        "actor": _timeback_user(make),
        "action": action,
        "object": _activity_context(make, app),
        "eventTime": stamp(happened),
    }
    return event, happened, f"https://{app}.example.com"


def activity_event(make: _Maker) -> Json:
    event, happened, sensor = _timeback_event(make, "ActivityEvent", "Completed")
    total = make.rng.randrange(1, 30)
    items: list[Json] = [
        {"type": "xpEarned", "value": make.rng.choice([make.rng.randrange(0, 40), 1.5, 2.5])}
    ]
    if make.rng.random() < 0.8:
        items += [
            {"type": "totalQuestions", "value": total},
            {"type": "correctQuestions", "value": make.rng.randrange(0, total + 1)},
        ]
    if make.rng.random() < 0.4:
        items.append({"type": "masteredUnits", "value": make.rng.randrange(0, 3)})
    generated: Json = {
        "id": f"{sensor}/metrics/activity/{make.hex(8)}",
        "type": "TimebackActivityMetricsCollection",
        "items": items,
    }
    if make.rng.random() < 0.5:
        generated["extensions"] = {"pctCompleteApp": make.rng.randrange(0, 101)}
    event["generated"] = generated
    if make.rng.random() < 0.3:
        event["extensions"] = {"runId": make.uuid()}
    return envelope(make, event, happened, sensor)


def time_spent_event(make: _Maker) -> Json:
    event, happened, sensor = _timeback_event(make, "TimeSpentEvent", "SpentTime")
    active = make.rng.randrange(15, 900)
    items: list[Json] = [
        {
            "type": "active",
            "value": active,
            "startDate": stamp(happened - timedelta(seconds=active)),
            "endDate": stamp(happened),
        }
    ]
    for category in ("inactive", "waste", "unknown"):
        if make.rng.random() < 0.4:
            item: Json = {"type": category, "value": make.rng.randrange(0, 300)}
            if category == "waste" and make.rng.random() < 0.5:
                item["subType"] = make.rng.choice(["eating", "talking", "off-task"])
            items.append(item)
    event["generated"] = {
        "id": f"{sensor}/metrics/time-spent/{make.hex(8)}",
        "type": "TimebackTimeSpentMetricsCollection",
        "items": items,
    }
    return envelope(make, event, happened, sensor)


# --- Caliper 1.2 events with nested entities -----------------------------------------------------------


@dataclass(frozen=True)
class _Course:
    """The context shared by a Caliper event's slots: one learner in one course section."""

    base: str
    section: str
    user: str
    term: str


def _course(make: _Maker) -> _Course:
    base = f"https://{make.rng.choice(['example.edu', 'lms.example.org', 'learn.example.ac.uk'])}"
    term = f"{make.rng.choice([2024, 2025])}{make.rng.choice(['01', '06', '09'])}"
    section = f"{base}/terms/{term}/courses/{make.rng.randrange(1, 400)}/sections/{make.rng.randrange(1, 9)}"
    return _Course(base, section, f"{base}/users/{make.rng.randrange(100000, 999999)}", term)


def _caliper_event(
    make: _Maker, type_: str, profile: str, action: str, course: _Course
) -> tuple[Json, datetime]:
    happened = make.instant()
    event: Json = {
        "@context": CALIPER,
        "id": f"urn:uuid:{make.uuid()}",
        "type": type_,
        "profile": profile,
        "actor": {"id": course.user, "type": "Person"},
        "action": action,
    }
    return event, happened


def _group(course: _Course, make: _Maker) -> Json:
    return {
        "id": course.section,
        "type": "CourseSection",
        "courseNumber": f"CPS {make.rng.randrange(100, 500)}-0{make.rng.randrange(1, 9)}",
        "academicSession": f"{make.rng.choice(['Spring', 'Fall'])} {course.term[:4]}",
    }


def _membership(course: _Course, make: _Maker, started: datetime) -> Json:
    return {
        "id": f"{course.section}/rosters/{make.rng.randrange(1, 5)}",
        "type": "Membership",
        "member": course.user,
        "organization": course.section,
        "roles": ["Learner"],
        "status": "Active",
        "dateCreated": stamp(started - timedelta(days=make.rng.randrange(10, 90))),
    }


def _session(course: _Course, make: _Maker, started: datetime) -> Json:
    return {
        "id": f"{course.base}/sessions/{make.hex(40)}",
        "type": "Session",
        "startedAtTime": stamp(started - timedelta(minutes=make.rng.randrange(1, 60))),
    }


def _with_context(event: Json, course: _Course, make: _Maker, happened: datetime) -> Json:
    event["eventTime"] = stamp(happened)
    event["edApp"] = course.base
    event["group"] = _group(course, make)
    event["membership"] = _membership(course, make, happened)
    event["session"] = _session(course, make, happened)
    return envelope(make, event, happened, f"{course.base}/sensors/{make.rng.randrange(1, 4)}")


def view_event(make: _Maker) -> Json:
    course = _course(make)
    event, happened = _caliper_event(make, "ViewEvent", "ReadingProfile", "Viewed", course)
    event["object"] = {
        "id": f"{course.base}/etexts/{make.rng.randrange(100, 999)}.epub",
        "type": make.rng.choice(["Document", "Chapter", "WebPage"]),
        "name": make.rng.choice(["IMS Caliper Implementation Guide", "Learning Analytics", "Unit notes"]),
        "dateCreated": stamp(happened - timedelta(days=make.rng.randrange(30, 400))),
        "version": f"1.{make.rng.randrange(0, 5)}",
    }
    return _with_context(event, course, make, happened)


def navigation_event(make: _Maker) -> Json:
    course = _course(make)
    event, happened = _caliper_event(make, "NavigationEvent", "ReadingProfile", "NavigatedTo", course)
    page = make.rng.randrange(2, 40)
    event["object"] = {
        "id": f"{course.section}/pages/{page}",
        "type": "WebPage",
        "name": f"Page {page}",
        "description": "Overview of Learning Analytics Specifications, with emphasis on IMS Caliper.",
        "dateCreated": stamp(happened - timedelta(days=make.rng.randrange(30, 400))),
    }
    event["referrer"] = {"id": f"{course.section}/pages/{page - 1}", "type": "WebPage"}
    return _with_context(event, course, make, happened)


def assessment_item_event(make: _Maker) -> Json:
    course = _course(make)
    event, happened = _caliper_event(make, "AssessmentItemEvent", "AssessmentProfile", "Completed", course)
    assessment = f"{course.section}/assess/{make.rng.randrange(1, 9)}"
    item = f"{assessment}/items/{make.rng.randrange(1, 30)}"
    attempt = f"{item}/users/{course.user.rsplit('/', 1)[-1]}/attempts/1"
    began = happened - timedelta(seconds=make.rng.randrange(5, 600))
    event["object"] = {
        "id": item,
        "type": "AssessmentItem",
        "name": f"Assessment Item {item.rsplit('/', 1)[-1]}",
        "isPartOf": {"id": assessment, "type": "Assessment"},
        "maxAttempts": 2,
        "maxSubmits": 2,
        "maxScore": 1.0,
        "isTimeDependent": False,
        "version": "1.0",
    }
    event["generated"] = {
        "id": f"{attempt}/responses/1",
        "type": "FillinBlankResponse",
        "attempt": {
            "id": attempt,
            "type": "Attempt",
            "assignee": course.user,
            "assignable": item,
            "count": 1,
            "dateCreated": stamp(began),
            "startedAtTime": stamp(began),
            "endedAtTime": stamp(happened),
        },
        "dateCreated": stamp(happened),
        "startedAtTime": stamp(began),
        "endedAtTime": stamp(happened),
        "values": make.rng.sample(["subject", "object", "predicate", "verb", "noun"], k=3),
    }
    document = _with_context(event, course, make, happened)
    event["edApp"] = {"id": course.base, "type": "SoftwareApplication", "version": "v2"}
    return document


def grade_event(make: _Maker) -> Json:
    course = _course(make)
    event, happened = _caliper_event(make, "GradeEvent", "GradingProfile", "Graded", course)
    event["actor"] = {"id": f"{course.base}/autograder", "type": "SoftwareApplication", "version": "v2"}
    assessment = f"{course.section}/assess/{make.rng.randrange(1, 9)}"
    attempt = f"{assessment}/users/{course.user.rsplit('/', 1)[-1]}/attempts/{make.rng.randrange(1, 3)}"
    began = happened - timedelta(minutes=make.rng.randrange(10, 90))
    maximum = float(make.rng.choice([10, 15, 20, 100]))
    event["object"] = {
        "id": attempt,
        "type": "Attempt",
        "assignee": {"id": course.user, "type": "Person"},
        "assignable": {"id": assessment, "type": "Assessment"},
        "count": 1,
        "dateCreated": stamp(began),
        "startedAtTime": stamp(began),
        "endedAtTime": stamp(happened - timedelta(minutes=1)),
        "duration": f"PT{int((happened - began).total_seconds()) - 60}S",
    }
    event["generated"] = {
        "id": f"{attempt}/scores/1",
        "type": "Score",
        "attempt": attempt,
        "maxScore": maximum,
        "scoreGiven": float(make.rng.randrange(0, int(maximum) + 1)),
        "scoredBy": f"{course.base}/autograder",
        "comment": "auto-graded exam",
        "dateCreated": stamp(happened),
    }
    event["eventTime"] = stamp(happened)
    event["edApp"] = course.base
    event["group"] = _group(course, make)
    return envelope(make, event, happened, f"{course.base}/sensors/1")


def session_event(make: _Maker) -> Json:
    course = _course(make)
    action = make.rng.choice(["LoggedIn", "LoggedOut"])
    event, happened = _caliper_event(make, "SessionEvent", "SessionProfile", action, course)
    began = happened - timedelta(minutes=make.rng.randrange(1, 120)) if action == "LoggedOut" else happened
    session: Json = {
        "id": f"{course.base}/sessions/{make.hex(40)}",
        "type": "Session",
        "user": course.user,
        "dateCreated": stamp(began),
        "startedAtTime": stamp(began),
    }
    if action == "LoggedOut":
        session["endedAtTime"] = stamp(happened)
        session["duration"] = f"PT{int((happened - began).total_seconds())}S"
    event["object"] = {"id": course.base, "type": "SoftwareApplication", "version": "v2"}
    event["eventTime"] = stamp(happened)
    event["edApp"] = course.base
    event["session"] = session
    return envelope(make, event, happened, f"{course.base}/sensors/1")


BUILDERS: dict[str, Callable[[_Maker], Json]] = {
    "ActivityEvent": activity_event,
    "TimeSpentEvent": time_spent_event,
    "ViewEvent": view_event,
    "NavigationEvent": navigation_event,
    "AssessmentItemEvent": assessment_item_event,
    "GradeEvent": grade_event,
    "SessionEvent": session_event,
}


# --- mistakes ------------------------------------------------------------------------------------------

Mistake = Callable[[random.Random, Json], str]
"""Breaks one envelope in place and says how."""

_MISSPELT_SUBJECTS = {
    "Math": "Maths",
    "Reading": "reading",
    "Science": "Sciense",
    "Social Studies": "SocialStudies",
}
_MISSPELT_ACTIONS = {"Viewed": "Veiwed", "NavigatedTo": "NavigatedTO", "LoggedIn": "Loggedin",
                     "LoggedOut": "LogedOut", "Graded": "Grade", "Completed": "Complete"}  # fmt: skip
# A realistic wrong type for an entity slot: what a developer confuses it with.
_WRONG_TYPES = {"TimebackUser": "Person", "TimebackActivityContext": "DigitalResource", "Person": "Group",
                "Attempt": "Score", "Score": "Result", "SoftwareApplication": "Person", "Document": "Person",
                "Chapter": "Membership", "WebPage": "Session", "AssessmentItem": "Assessment"}  # fmt: skip


def bad_date(rng: random.Random, document: Json) -> str:
    event = document["data"][0]
    target, key = rng.choice([(document, "sendTime"), (event, "eventTime")])
    good = target[key]
    target[key] = rng.choice(
        [
            good[:10],
            good[:19].replace("T", " "),
            f"{good[:5]}13{good[7:]}",
            f"{good[8:10]}/{good[5:7]}/{good[:4]}",
        ]
    )
    return f"bad date in {key}"


def misspelling(rng: random.Random, document: Json) -> str:
    event = document["data"][0]
    subject = event["object"].get("subject") if isinstance(event["object"], dict) else None
    if subject is not None:
        event["object"]["subject"] = _MISSPELT_SUBJECTS.get(subject, subject.upper())
        return "misspelt subject"
    event["action"] = _MISSPELT_ACTIONS.get(event["action"], event["action"].lower())
    return "misspelt action"


def wrong_entity_type(rng: random.Random, document: Json) -> str:
    event = document["data"][0]
    slots = [slot for slot in ("actor", "object", "generated") if isinstance(event.get(slot), dict)]
    slot = rng.choice(slots)
    current = event[slot]["type"]
    if current not in _WRONG_TYPES:
        slot, current = "actor", event["actor"]["type"]
    event[slot]["type"] = _WRONG_TYPES[current]
    return f"wrong entity type in {slot}"


def missing_property(rng: random.Random, document: Json) -> str:
    event = document["data"][0]
    choices: list[tuple[Json, str]] = [
        (event, "eventTime"),
        (event, "actor"),
        (event, "id"),
        (document, "sensor"),
    ]
    if event["type"] in ("ActivityEvent", "TimeSpentEvent"):
        choices += [(event, "generated"), (event["actor"], "email"), (event["object"], "subject")]
    target, key = rng.choice(choices)
    del target[key]
    return f"missing {key}"


MISTAKES: list[Mistake] = [bad_date, misspelling, wrong_entity_type, missing_property]


def break_document(rng: random.Random, document: Json) -> tuple[Json, tuple[str, ...]]:
    broken = copy.deepcopy(document)
    count = 1 if rng.random() < 0.7 else 2
    # In list order, so that a property is removed only after the other mistake had its chance to use it.
    chosen = sorted(rng.sample(range(len(MISTAKES)), k=count))
    return broken, tuple(MISTAKES[index](rng, broken) for index in chosen)


# --- the data set --------------------------------------------------------------------------------------


def kinds(count: int, rng: random.Random) -> list[str]:
    """``count`` event types in the proportions of :data:`MIX`, shuffled."""
    names = list(MIX)
    quotas = [round(MIX[name] * count) for name in names]
    quotas[0] += count - sum(quotas)
    chosen = [name for name, quota in zip(names, quotas, strict=True) for _ in range(quota)]
    rng.shuffle(chosen)
    return chosen


def generate(count: int, seed: int = SEED) -> Dataset:
    """``count`` valid envelopes, one event each, and the same envelopes with mistakes."""
    rng = random.Random(seed)
    make = _Maker(rng)
    valid: list[Sample] = []
    invalid: list[Sample] = []
    for kind in kinds(count, rng):
        document = BUILDERS[kind](make)
        valid.append(Sample(kind, document, serialize(document)))
        broken, mistakes = break_document(rng, document)
        invalid.append(Sample(kind, broken, serialize(broken), mistakes))
    return Dataset(valid, invalid)


class DataError(AssertionError):
    """A "valid" document the validator rejects or warns about, or an "invalid" one it accepts."""


def verify(dataset: Dataset) -> None:
    """Every valid document is valid without a warning, every invalid one is rejected, bytes and dict alike.

    A benchmark on wrong data is worthless: this runs before anything is timed.
    """
    from caliper_schema import validate

    for number, sample in enumerate(dataset.valid):
        for payload in (sample.raw, sample.document):
            report = validate(payload)
            if report.status != "success" or report.warnings:
                issues = [(issue.pointer, issue.rule, issue.message) for issue in report.issues][:5]
                raise DataError(f"valid sample {number} ({sample.kind}) is not clean: {issues}")
    for number, sample in enumerate(dataset.invalid):
        for payload in (sample.raw, sample.document):
            if validate(payload).status != "error":
                raise DataError(f"invalid sample {number} ({sample.kind}, {sample.mistakes}) was accepted")
