"""Whole sessions: the runs a Timeback app sends, heartbeat by heartbeat, then the completion.

A *session* is one run as the SDK sends it (``shared/reference/timeback-profile-facts.md`` §3, §7.4): a
TimeSpentEvent every 15 s (its window's active and inactive seconds; a pause, or a hidden tab, counted
inactive), a last shorter window on the final flush, then an ActivityEvent whose XP is at most the run's
active minutes (1 XP = 1 focused minute), with its questions, mastered units and course completion. Every
event of a run has the student, the activity, the ``runId`` (in ``extensions`` and as the ``session``
``urn:uuid:<runId>``, as P3 sends it), and ids and times in order; the windows are stated with
``startDate``/``endDate`` in most sessions and left to ``eventTime`` in the others, as P3 leaves them.

The sessions of one stream share their app and a handful of students, one run after another: together
they pass :func:`~caliper_schema.validation.streams.validate_stream` with no error and no warning. With
``invalid``, each carries exactly one labelled mistake between its events (:data:`MISTAKES`): the rule
the stream rules report, and the document and JSON Pointer where.

Everything is drawn from a :class:`~caliper_schema.generation.drawing.Draw`: :func:`generate_sessions`
seeds one per session from ``"<seed>:session:<index>"`` (byte-identical output for a seed, session ``i``
independent of how many follow), and the ``sessions()`` strategy asks Hypothesis.

>>> [len(s.documents) > 12 for s in generate_sessions(2, seed=7)]
[True, True]
>>> mistake = next(generate_sessions(1, seed=7, invalid=True)).mistake
>>> mistake.label == f"rule:{mistake.rule}", mistake.rule.startswith("stream.")
(True, True)
"""

from __future__ import annotations

import copy
import fnmatch
import math
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from caliper_schema.generation import faking
from caliper_schema.generation.drawing import Draw, RandomDraw
from caliper_schema.generation.generating import MANIFEST, dumps, prepare_folder
from caliper_schema.registry import CALIPER_CONTEXT

CADENCE_MS = 15_000
"""The SDK's heartbeat: one TimeSpentEvent every 15 s (S5, S6)."""
SPACING_MS = 2 * 3_600_000
"""Sessions of one stream start two hours apart (a run here lasts at most about 13 minutes)."""
STUDENTS = 6
DATA_VERSION = "http://purl.imsglobal.org/ctx/caliper/v1p2"


@dataclass(frozen=True)
class App:
    """An app of the generated stream: its name, where it lives, the subjects of its activities."""

    name: str
    host: str
    subjects: tuple[str, ...]
    code: str


APPS = (
    App("Math Raiders", "https://math-raiders.example.com", ("Math", "FastMath"), "MATH"),
    App("Reading Coach", "https://reading.example.com", ("Reading", "Vocabulary", "Language"), "ELA"),
    App("Science Lab", "https://science-lab.example.org", ("Science",), "SCI"),
    App("Writing Studio", "https://writing.example.edu", ("Writing", "Social Studies"), "WRI"),
)


@dataclass(frozen=True)
class Mistake:
    """The one mistake of an invalid session: what was done, the rule that reports it, and where."""

    label: str
    """``rule:<stream rule id>``, as the rule mutations of single documents are labelled."""
    rule: str
    document: int
    """The index, in the session's documents, of the document the rule reports."""
    pointer: str
    strict: bool
    """True when the rule is a warning by default: the stream is invalid under ``strict`` only."""


@dataclass(frozen=True)
class Session:
    """One run: its documents in the order they are sent (bare events, or envelopes of one event each)."""

    index: int
    run_id: str
    documents: tuple[dict[str, Any], ...]
    mistake: Mistake | None = None

    @property
    def name(self) -> str:
        """A file name: ``00007-session.jsonl``, ``00007-session-rule-stream.window-overlap.jsonl``."""
        label = f"-{self.mistake.label.replace(':', '-')}" if self.mistake else ""
        return f"{self.index:05d}-session{label}.jsonl"


@dataclass(frozen=True)
class Setting:
    """What the sessions of one stream share: the app and its students."""

    app: App
    students: tuple[dict[str, Any], ...]


def setting(draw: Draw) -> Setting:
    """An app and :data:`STUDENTS` students (TimebackUsers with their OneRoster ids)."""
    app = draw.choice(APPS)
    students = []
    for _ in range(STUDENTS):
        first, last = faking.person(draw)
        students.append({
            "id": f"{faking.ONEROSTER}/users/{faking.uuid4(draw)}", "type": "TimebackUser",
            "email": f"{first}.{last}@example.edu".lower(), "name": f"{first} {last}", "role": "student",
        })  # fmt: skip
    return Setting(app, tuple(students))


# --- one valid run ---------------------------------------------------------------------------------------


@dataclass
class _Window:
    start: int
    end: int
    active: int
    inactive: int


def _windows(draw: Draw, start: int) -> list[_Window]:
    """Full 15 s windows, some paused (a pause of up to two minutes: the tab hidden, or the SDK paused),
    then the final flush's shorter one."""
    windows, at, paused = [], start, 0
    for _ in range(draw.integer(12, 48)):
        if paused:
            active, paused = 0, paused - 1
        elif draw.boolean(0.08):
            paused = draw.integer(1, 8)
            active = draw.integer(1, 14)  # the pause starts within this window
        else:
            active = 15 if draw.boolean(0.85) else draw.integer(10, 15)
        windows.append(_Window(at, at + CADENCE_MS, active, 15 - active))
        at += CADENCE_MS
    last = draw.integer(1, 14)
    windows.append(_Window(at, at + last * 1000, last, 0))
    return windows


class _Builder:
    """The events of one run, built with what every event of the run shares."""

    def __init__(self, draw: Draw, setting: Setting, run_id: str, dated: bool) -> None:
        self.draw, self.run_id, self.dated = draw, run_id, dated
        self.leaves = faking.Leaves(draw)  # ids unique within the run, even once Hypothesis shrinks them
        app = setting.app
        subject = draw.choice(app.subjects)
        grade = draw.integer(1, 8)
        title = draw.choice(faking.TITLES)
        slug = title.lower().replace(" ", "-")
        self.course_id = f"{app.code}-{grade}"
        self.actor = copy.deepcopy(draw.choice(setting.students))
        self.context = {
            "id": f"{app.host}/activities/{subject.lower().replace(' ', '-')}/g{grade}/{slug}",
            "type": "TimebackActivityContext", "subject": subject,
            "app": {"name": app.name, "id": app.host},
            "course": {"id": f"{faking.ONEROSTER}/courses/{faking.uuid4(draw)}",
                       "name": f"{subject} G{grade}"},
            "activity": {"name": title}, "process": True,
        }  # fmt: skip

    def _event(self, type_: str, action: str, generated: dict[str, Any], time: int) -> dict[str, Any]:
        return {
            "@context": CALIPER_CONTEXT, "id": self.leaves.event_id(), "type": type_,
            "profile": "TimebackProfile",
            "actor": copy.deepcopy(self.actor), "action": action, "object": copy.deepcopy(self.context),
            "generated": generated, "eventTime": faking.timestamp(time), "session": f"urn:uuid:{self.run_id}",
            "extensions": {"runId": self.run_id, "courseId": self.course_id},
        }  # fmt: skip

    def heartbeat(self, window: _Window) -> dict[str, Any]:
        dates = {"startDate": faking.timestamp(window.start), "endDate": faking.timestamp(window.end)}
        items = [{"type": "active", "value": window.active, **(dates if self.dated else {})}]
        if window.inactive:
            items.append({"type": "inactive", "value": window.inactive, **(dates if self.dated else {})})
        generated = {
            "id": self.leaves.event_id(),
            "type": "TimebackTimeSpentMetricsCollection",
            "items": items,
        }
        return self._event("TimeSpentEvent", "SpentTime", generated, window.end)

    def completion(self, time: int, xp: float, windows: int, pct: int | None = None) -> dict[str, Any]:
        draw = self.draw
        items: list[dict[str, Any]] = [{"type": "xpEarned", "value": xp}]
        if draw.boolean(0.8):
            total = draw.integer(1, max(1, windows // 3))
            items += [{"type": "totalQuestions", "value": total},
                      {"type": "correctQuestions", "value": draw.integer(0, total)}]  # fmt: skip
        if draw.boolean(0.5):
            items.append({"type": "masteredUnits", "value": draw.integer(0, 2)})
        collection = "TimebackActivityMetricsCollection"
        generated: dict[str, Any] = {"id": self.leaves.event_id(), "type": collection,
                                     "items": items, "attempt": 1}  # fmt: skip
        pct = pct if pct is not None else draw.integer(0, 100) if draw.boolean(0.7) else None
        if pct is not None:
            generated["extensions"] = {"pctCompleteApp": pct}
        return self._event("ActivityEvent", "Completed", generated, time)


@dataclass
class _Run:
    """A run being made: its events in send order, and what a mistake needs to know of them."""

    builder: _Builder
    windows: list[_Window]
    events: list[dict[str, Any]]

    @property
    def completion(self) -> int:
        return next(i for i, event in enumerate(self.events) if event["type"] == "ActivityEvent")

    def window_pointer(self) -> str:
        return "/generated/items/0/startDate" if self.builder.dated else "/eventTime"


def _run(draw: Draw, setting: Setting, start: int) -> _Run:
    run_id = faking.uuid4(draw)
    builder = _Builder(draw, setting, run_id, dated=draw.boolean(0.7))
    windows = _windows(draw, start)
    events = [builder.heartbeat(window) for window in windows]
    active = sum(window.active for window in windows)
    xp = max(0, active // 60 - draw.integer(0, 1))  # 1 XP = 1 focused minute, whole minutes earned
    events.append(builder.completion(windows[-1].end + draw.integer(0, 800), xp, len(windows)))
    return _Run(builder, windows, events)


# --- one mistake between the events (each found by one stream rule) ----------------------------------

Breaker = Callable[[_Run, Draw], tuple[int, str]]
"""Puts one mistake in a run's events, in place; returns the index of the event reported, and the pointer."""


def _duplicate_id(run: _Run, draw: Draw) -> tuple[int, str]:
    later = draw.integer(1, len(run.events) - 1)
    run.events[later]["id"] = run.events[draw.integer(0, later - 1)]["id"]
    return later, "/id"


def _shift(event: dict[str, Any], by: int) -> None:
    event["eventTime"] = faking.timestamp(_ms(event["eventTime"]) - by)
    for item in event["generated"]["items"]:
        for key in ("startDate", "endDate"):
            if key in item:
                item[key] = faking.timestamp(_ms(item[key]) - by)


def _ms(timestamp: str) -> int:
    """Milliseconds after :data:`~caliper_schema.generation.faking.EPOCH` of a timestamp it wrote."""
    return round((datetime.fromisoformat(timestamp) - faking.EPOCH).total_seconds() * 1000)


def _window_overlap(run: _Run, draw: Draw) -> tuple[int, str]:
    """A heartbeat sent with its window a few seconds early: it overlaps the one before."""
    index = draw.integer(1, len(run.windows) - 2)
    _shift(run.events[index], draw.integer(3, 10) * 1000)
    return index, run.window_pointer()


def _window_repeated(run: _Run, draw: Draw) -> tuple[int, str]:
    """A heartbeat sent again under a new id (a retry that minted a fresh event)."""
    index = draw.integer(0, len(run.windows) - 2)
    again = copy.deepcopy(run.events[index])
    again["id"], again["generated"]["id"] = run.builder.leaves.event_id(), run.builder.leaves.event_id()
    run.events.insert(index + 1, again)
    return index + 1, run.window_pointer()


def _window_too_long(run: _Run, draw: Draw) -> tuple[int, str]:
    """Nine windows sent as one heartbeat of 135 s (a throttled timer's backlog)."""
    index = draw.integer(0, len(run.windows) - 10)
    merged = run.windows[index : index + 9]
    window = _Window(
        merged[0].start, merged[-1].end, sum(w.active for w in merged), sum(w.inactive for w in merged)
    )
    run.events[index : index + 9] = [run.builder.heartbeat(window)]
    return index, run.window_pointer()


def _xp_beyond_time(run: _Run, draw: Draw) -> tuple[int, str]:
    """More XP than the run's active minutes, past the default tolerance (a quarter, plus one)."""
    minutes = sum(window.active for window in run.windows) / 60
    index = run.completion
    run.events[index]["generated"]["items"][0]["value"] = math.ceil(minutes * 1.25 + 1) + draw.integer(5, 30)
    return index, "/generated/items/0/value"


def _completion_before_time(run: _Run, draw: Draw) -> tuple[int, str]:
    """The completion sent in the middle of the run, before the heartbeats that follow it."""
    completion = run.events.pop(run.completion)
    after = draw.integer(2, len(run.windows) - 3)
    completion["eventTime"] = faking.timestamp(run.windows[after].end)
    run.events.insert(after + 1, completion)
    return after + 1, "/eventTime"


def _progress_backwards(run: _Run, draw: Draw) -> tuple[int, str]:
    """A second completion (a correction of no XP) whose course completion is lower than the first's."""
    first = run.events[run.completion]
    extensions = first["generated"].setdefault("extensions", {})
    extensions["pctCompleteApp"] = high = max(extensions.get("pctCompleteApp", 0), draw.integer(10, 100))
    later = run.builder.completion(
        _ms(first["eventTime"]) + draw.integer(1, 5) * 1000, 0, 0, draw.integer(0, high - 1)
    )
    run.events.append(later)
    return len(run.events) - 1, "/generated/extensions/pctCompleteApp"


MISTAKES: dict[str, Breaker] = {
    "stream.duplicate-id": _duplicate_id,
    "stream.window-overlap": _window_overlap,
    "stream.window-repeated": _window_repeated,
    "stream.window-too-long": _window_too_long,
    "stream.xp-beyond-time": _xp_beyond_time,
    "stream.completion-before-time": _completion_before_time,
    "stream.progress-backwards": _progress_backwards,
}
"""Stream rule id → how to break it alone in a run. Every ``stream.*`` rule needs one (a test says so)."""


def mistakes(labels: Iterable[str] | None = None, *, strict: bool = False) -> list[str]:
    """The stream rule ids whose mistake is labelled (``rule:<id>``) to match one of ``labels``' patterns:
    those of the error rules, which default validation rejects; with ``strict``, also those of the warning
    rules (the SDK's conventions), which only strict validation rejects, as single documents' mutations.

    >>> mistakes(["rule:stream.window-*"])
    ['stream.window-overlap', 'stream.window-repeated']
    >>> mistakes(["rule:stream.window-*"], strict=True)
    ['stream.window-overlap', 'stream.window-repeated', 'stream.window-too-long']
    """
    from caliper_schema.validation.rules import RULES

    chosen = [rule for rule in MISTAKES if strict or RULES[rule].severity == "error"]
    if labels is None:
        return chosen
    patterns = list(labels)
    return [rule for rule in chosen if any(fnmatch.fnmatchcase(f"rule:{rule}", p) for p in patterns)]


def no_mistake(labels: Iterable[str] | None, strict: bool) -> str:
    """Why no mistake can be drawn: no label matches, or only those of warning rules without ``strict``."""
    patterns = list(labels or ())
    if not strict and mistakes(patterns, strict=True):
        return f"the stream mistakes {patterns} match are only rejected under strict=True (--strict)"
    return f"no stream mistake matches {patterns}; the labels are " + ", ".join(f"rule:{r}" for r in MISTAKES)


# --- sessions --------------------------------------------------------------------------------------------


def session(
    draw: Draw,
    shared: Setting,
    *,
    index: int = 0,
    start: int | None = None,
    invalid: bool = False,
    strict: bool = False,
    envelope: bool = False,
    labels: Iterable[str] | None = None,
) -> Session:
    """One run of a student of ``shared``, starting at ``start`` (ms after the epoch; drawn if None): valid,
    or with one mistake of those ``labels`` match (:func:`mistakes`, ``strict`` as there)."""
    run = _run(draw, shared, faking.instant(draw) if start is None else start)
    mistake = None
    if invalid:
        chosen = mistakes(labels, strict=strict)
        if not chosen:
            raise ValueError(no_mistake(labels, strict))
        from caliper_schema.validation.rules import RULES

        rule = draw.choice(chosen)
        where, pointer = MISTAKES[rule](run, draw)
        strict = RULES[rule].severity == "warning"
        mistake = Mistake(f"rule:{rule}", rule, where, "/data/0" + pointer if envelope else pointer, strict)
    documents = tuple(_enveloped(draw, shared.app, event) for event in run.events) if envelope else run.events
    return Session(index, run.builder.run_id, tuple(documents), mistake)


def _enveloped(draw: Draw, app: App, event: dict[str, Any]) -> dict[str, Any]:
    """The envelope the SDK sends a heartbeat or a completion in, a moment after it happened."""
    sent = faking.timestamp(_ms(event["eventTime"]) + draw.integer(50, 1500))
    return {"sensor": app.host, "sendTime": sent, "dataVersion": DATA_VERSION, "data": [event]}


def generate_sessions(
    count: int = 10,
    *,
    seed: int = 0,
    invalid: bool = False,
    strict: bool = False,
    envelope: bool = False,
    mutations: Sequence[str] | None = None,
) -> Iterator[Session]:
    """``count`` runs of one app's stream, reproducible from ``seed``, one after another in time.

    ``envelope`` sends each event in an envelope of its own, as the SDK does; ``invalid`` puts one mistake
    in each, of a rule default validation rejects (``strict``: also of the warning rules, which only strict
    validation rejects); ``mutations`` keeps those whose label matches one of its patterns
    (``rule:stream.window-*``).
    """
    shared = setting(RandomDraw(random.Random(f"{seed}:sessions")))
    base = faking.instant(RandomDraw(random.Random(f"{seed}:start")))
    for index in range(count):
        draw = RandomDraw(random.Random(f"{seed}:session:{index}"))
        start = base + index * SPACING_MS + draw.integer(0, 30 * 60_000)
        yield session(draw, shared, index=index, start=start, invalid=invalid, strict=strict,
                      envelope=envelope, labels=mutations)  # fmt: skip


# --- writing them ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """A row of ``mutations.tsv``: the file and line of the document a session's mistake is reported in."""

    file: str
    line: int
    mistake: Mistake

    HEADER = "file\tline\tlabel\tpointer\trule\tstrict"

    def __str__(self) -> str:
        m = self.mistake
        return f"{self.file}\t{self.line}\t{m.label}\t{m.pointer}\t{m.rule}\t{str(m.strict).lower()}"


def write_session_lines(sessions: Iterable[Session], stream: TextIO, *, name: str = "-") -> list[Row]:
    """Write every document of every session as JSON Lines, session after session; the mistakes' rows
    (``name`` as their file, the line in this output)."""
    rows, line = [], 0
    for each in sessions:
        for index, document in enumerate(each.documents):
            line += 1
            stream.write(dumps(document) + "\n")
            if each.mistake is not None and index == each.mistake.document:
                rows.append(Row(name, line, each.mistake))
    return rows


def write_session_folder(sessions: Iterable[Session], folder: Path, *, force: bool = False) -> int:
    """One JSON Lines file per session in ``folder`` (a new or empty one, unless ``force``) and, for
    invalid sessions, ``mutations.tsv``; returns how many sessions."""
    prepare_folder(folder, force=force)
    rows: list[Row] = []
    written = 0
    for each in sessions:
        with (folder / each.name).open("w", encoding="utf-8") as out:
            rows += write_session_lines([each], out, name=each.name)
        written += 1
    if rows:
        (folder / MANIFEST).write_text("\n".join([Row.HEADER, *map(str, rows)]) + "\n", encoding="utf-8")
    return written
