"""Realistic leaf values: ids, IRIs, names, emails, times, durations, each from a :class:`Draw`.

The schemas say a value is an IRI or a date-time; this module makes it a plausible one: a version 4 UUID
URN for an event, ``https://example.edu/users/554433`` for a Person, the OneRoster user URL for a Timeback
user, the Caliper DateTime form ``YYYY-MM-DDTHH:mm:ss.SSSZ``. Every function shrinks, under Hypothesis, to
the plainest value of its kind (the all-zero UUID, the first host, 2024-01-01T00:00:00.000Z, ``PT0S``).

>>> import random
>>> from caliper_schema.generation.drawing import RandomDraw
>>> draw = RandomDraw(random.Random(1))
>>> event_id(draw).startswith("urn:uuid:"), timestamp(0)
(True, '2024-01-01T00:00:00.000Z')
>>> duration(3725), duration(0)
('PT1H2M5S', 'PT0S')
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from caliper_schema.generation.drawing import Draw

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
"""Generated times fall in 2024-2025, after this instant."""
YEARS_MS = 2 * 365 * 86_400_000
DAY_MS = 86_400_000

HOSTS = ("https://example.edu", "https://app.example.com", "https://lms.example.org", "https://example.com")
ONEROSTER = "https://api.alpha-1edtech.com/ims/oneroster/rostering/v1p2"

_PATHS = {
    "TimebackUser": ONEROSTER + "/users",
    "TimebackActivityContext": ONEROSTER + "/courses/component-resources",
    "Person": "/users",
    "SoftwareApplication": "/apps",
    "CourseOffering": "/courses",
    "CourseSection": "/sections",
    "LtiSession": "/lti/sessions",
}
"""Where an id of these types lives; other types get their kebab-case plural (``/audio-objects``)."""

FIRST = ("Ada", "Grace", "Alan", "Katherine", "Edsger", "Barbara", "Donald", "Frances", "Tim", "Radia")
LAST = ("Lovelace", "Hopper", "Turing", "Johnson", "Dijkstra", "Liskov", "Knuth", "Allen", "Lee", "Perlman")
TITLES = (
    "Introduction to Algebra", "Fractions", "Photosynthesis", "The Water Cycle", "Reading Comprehension",
    "World History", "Linear Equations", "Poetry", "Cell Biology", "Multiplication Facts",
)  # fmt: skip
WORDS = ("learning", "progress", "lesson", "practice", "review", "quiz", "unit", "skill", "chapter", "goal")

_SAMPLES: dict[str, tuple[str, ...]] = {
    "description": ("A short practice set.", "Covers the key ideas of the unit.", "Weekly review."),
    "host": ("example.edu", "app.example.com"),
    "ipAddress": ("192.0.2.24", "198.51.100.7", "2001:db8::1"),
    "userAgent": ("Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0", "Mozilla/5.0 (Macintosh) Safari/17.4"),
    "version": ("1.0.0", "2.3.1", "v1p2"),
    "mediaType": ("text/html", "video/mp4", "application/epub+zip", "audio/mpeg", "image/png"),
    "storageName": ("lesson-01.epub", "intro.mp4", "worksheet.pdf"),
    "courseNumber": ("MATH-3", "CPS 435", "BIO-101"),
    "academicSession": ("Fall 2024", "Spring 2025"),
    "category": ("lecture", "lab", "seminar"),
    "identifier": ("554433", "ada.lovelace", "sis-10042"),
    "subType": ("eating", "social-media", "idle"),
    "volumeLevel": ("80", "50"),
    "volumeMin": ("0",),
    "volumeMax": ("100",),
    "searchTerms": ("fractions", "photosynthesis", "linear equations"),
    "questionPosed": ("What is 7 x 8?", "Which gas do plants absorb?", "How did you find this unit?"),
    "selectionText": ("the mitochondria is the powerhouse of the cell", "x = 4"),
    "bookmarkNotes": ("Review before the quiz.", "Come back to this."),
    "comment": ("Well done.", "Check step 3.", "Good reasoning."),
    "body": ("Can someone explain question 4?", "Thanks, that helped!"),
    "value": ("true", "B", "The answer is 56."),
    "minLabel": ("Strongly disagree", "Never"),
    "maxLabel": ("Strongly agree", "Always"),
    "messageType": ("LtiResourceLinkRequest",),
}
"""Plausible strings for properties whose schema says only ``string``; others get words."""


def uuid4(draw: Draw) -> str:
    """A random (version 4, RFC 4122 variant) UUID; the all-zero one once shrunk."""
    return str_uuid4(draw.integer(0, (1 << 128) - 1))


def str_uuid4(number: int) -> str:
    """The version 4 UUID of a 128-bit number (its version and variant bits overwritten)."""
    return str(uuid.UUID(int=number, version=4))


def event_id(draw: Draw) -> str:
    """``urn:uuid:`` and a version 4 UUID, as Caliper requires of an event id."""
    return "urn:uuid:" + uuid4(draw)


def instant(draw: Draw) -> int:
    """Milliseconds after :data:`EPOCH`, within two years."""
    return draw.integer(0, YEARS_MS)


def timestamp(milliseconds: int) -> str:
    """The Caliper DateTime form, UTC with milliseconds: ``2024-04-24T14:12:00.000Z``."""
    moment = EPOCH + timedelta(milliseconds=milliseconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def duration(seconds: int) -> str:
    """An ISO 8601 duration of whole seconds: ``PT1H2M5S``, ``PT0S``."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}H" if hours else "", f"{minutes}M" if minutes else "", f"{secs}S" if secs else ""]
    return "PT" + ("".join(parts) or "0S")


@functools.cache
def _plural(type_name: str) -> str:
    kebab = re.sub(r"(?<!^)([A-Z])", r"-\1", type_name).lower()
    return kebab[:-1] + "ies" if kebab.endswith("y") else kebab + "s"


def iri(draw: Draw, type_name: str | None) -> str:
    """An IRI where an entity of ``type_name`` would plausibly live.

    >>> import random
    >>> from caliper_schema.generation.drawing import RandomDraw
    >>> iri(RandomDraw(random.Random(3)), "AudioObject").split("/")[3]
    'audio-objects'
    """
    path = _PATHS.get(type_name or "", "/" + _plural(type_name or "Resource"))
    if path.startswith("https://"):
        return f"{path}/{uuid4(draw)}"
    return f"{draw.choice(HOSTS)}{path}/{draw.integer(1, 999_999)}"


def person(draw: Draw) -> tuple[str, str]:
    """A first and last name."""
    return draw.choice(FIRST), draw.choice(LAST)


def email(draw: Draw) -> str:
    """``first.last@example.edu``."""
    first, last = person(draw)
    return f"{first}.{last}@example.edu".lower()


def text(draw: Draw, name: str, type_name: str | None) -> str:
    """A plausible string for the property ``name`` of an entity of ``type_name``."""
    if name == "name":
        if type_name in ("Person", "TimebackUser"):
            return " ".join(person(draw))
        return draw.choice(TITLES)
    samples = _SAMPLES.get(name)
    if samples:
        return draw.choice(samples)
    return " ".join(draw.choice(WORDS) for _ in range(draw.integer(1, 3)))


def decimal(draw: Draw, high: int = 100) -> float:
    """A decimal with at most two places, always a float (``12.0``, never ``12``)."""
    return draw.integer(0, high * 100) / 100


FREE_ENTRIES: dict[str, list[tuple[str, Callable[[Draw], Any]]]] = {
    "extensions": [
        ("runId", uuid4),
        ("courseId", lambda draw: draw.choice(("MATH-3", "ELA-5", "SCI-7"))),
        ("attemptNumber", lambda draw: draw.integer(1, 3)),
    ],
    "messageParameters": [
        ("lti_version", lambda draw: "1.3.0"),
        ("resource_link_id", lambda draw: str(draw.integer(1, 99_999))),
    ],
}
"""Custom data a free map (``extensions``, ``messageParameters``) may hold: a key and its value maker."""


class Leaves:
    """Leaf values coherent within one document: its times fall before its ``eventTime`` (the *anchor*),
    an envelope's ``sendTime`` after, and its event ids are unique across every document made so far.

    >>> import random
    >>> from caliper_schema.generation.drawing import RandomDraw
    >>> leaves = Leaves(RandomDraw(random.Random(2)))
    >>> leaves.begin_document()
    >>> leaves.text("date-time", "eventTime", None) == timestamp(leaves.anchor)
    True
    """

    def __init__(self, draw: Draw) -> None:
        self.draw = draw
        self.ids: set[str] = set()
        self.anchor = 0
        """The current document's time (ms after the epoch): its ``eventTime``; earlier times precede it."""
        self.sent = 0
        """The current envelope's ``sendTime`` (a bare document's is its anchor)."""

    def begin_document(self) -> None:
        """A bare document: sent when it happens."""
        self.anchor = self.sent = instant(self.draw)

    def begin_envelope(self) -> None:
        """An envelope, sent a minute after some instant; its items happen within that minute."""
        self.sent = instant(self.draw) + 60_000

    def begin_item(self) -> None:
        """The next item of the current envelope, at most a minute before it was sent."""
        self.anchor = self.sent - self.draw.integer(0, 60_000)

    def text(self, form: str, name: str, type_name: str | None) -> str:
        """A string of ``form``, plausible for the property ``name`` of an entity of ``type_name``."""
        if form == "event-id":
            return self.event_id()
        if form == "date-time":
            return timestamp(self.time(name))
        if form == "iri":
            return iri(self.draw, type_name if name == "id" else name[:1].upper() + name[1:])
        if form == "email":
            return email(self.draw)
        if form == "duration":
            return duration(self.draw.integer(0, 7200))
        return text(self.draw, name, type_name)

    def time(self, name: str) -> int:
        """A document's ``eventTime`` is its anchor, an envelope's ``sendTime`` later; the rest precede."""
        if name == "eventTime":
            return self.anchor
        if name == "sendTime":
            return self.sent
        return self.anchor - self.draw.integer(0, 30 * DAY_MS)

    def event_id(self) -> str:
        """A UUID URN not yet used in these documents (shrunk draws would all be zero)."""
        number = self.draw.integer(0, (1 << 128) - 1)
        while (candidate := "urn:uuid:" + str_uuid4(number)) in self.ids:
            number = (number + 1) % (1 << 128)
        self.ids.add(candidate)
        return candidate

    def free_map(self, name: str) -> dict[str, Any]:
        """A small map of custom data (``extensions``, ``messageParameters``)."""
        key, make = self.draw.choice(FREE_ENTRIES.get(name, FREE_ENTRIES["extensions"]))
        return {key: make(self.draw)}
