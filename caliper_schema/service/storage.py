"""Everything the service received, in SQLite (stdlib ``sqlite3``): envelopes, jobs, events, its signing key.

In memory by default; with ``--db PATH`` a file in WAL mode, each envelope written in one transaction, so
a restarted service has every envelope, job, event and still-valid token it had. One connection, used
under a lock: the service's requests are short, and one writer is what SQLite wants anyway.

>>> store = Store()
>>> store.add(received_at=1.0, client_id="app", sensor="https://app.example.com", status="success",
...           report={"errors": [], "warnings": []}, body=b"{}", actors=(), job=(3.0, False),
...           events=[{"id": "urn:uuid:a", "type": "Event", "action": "Created", "eventTime": "x"}],
...           send_time="2025-01-01T00:00:00.000Z")
(1, 1)
>>> store.job(1).results
(('1', 'urn:uuid:a'),)
>>> store.events(now=2.0)[1], store.events(now=3.0)[1]
(0, 1)
"""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from caliper_schema.service.jobs import Job, iso
from caliper_schema.service.receiving import SLOTS, actor_keys

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS envelopes (
    id INTEGER PRIMARY KEY AUTOINCREMENT, received_at REAL NOT NULL, client_id TEXT, sensor TEXT,
    status TEXT NOT NULL, errors INTEGER NOT NULL, warnings INTEGER NOT NULL, report TEXT NOT NULL,
    body BLOB NOT NULL, actors TEXT NOT NULL, job_id INTEGER);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, envelope_id INTEGER NOT NULL, created REAL NOT NULL,
    due REAL NOT NULL, failed INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, job_id INTEGER NOT NULL, envelope_id INTEGER NOT NULL,
    external_id TEXT NOT NULL, sensor TEXT, send_time TEXT, event_epoch REAL, actor_id TEXT,
    actor_email TEXT COLLATE NOCASE, client_app_id TEXT, created_at REAL NOT NULL, event TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_external_id ON events (external_id);
CREATE INDEX IF NOT EXISTS events_job ON events (job_id);
"""


def epoch(text: str | None) -> float | None:
    """A date-time string as POSIX seconds (naive ones read as UTC), or None when it is not one.

    >>> epoch("1970-01-01T00:01:00.000Z"), epoch("soon")
    (60.0, None)
    """
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


@dataclass(frozen=True)
class Filters:
    """The list endpoint's filters; ``None`` leaves one out."""

    sensor: str | None = None
    start: float | None = None
    end: float | None = None
    actor_id: str | None = None
    actor_email: str | None = None


@dataclass(frozen=True)
class Envelope:
    """One received envelope as the page and the fixture show it."""

    id: int
    received_at: float
    client_id: str | None
    sensor: str | None
    status: str
    errors: int
    warnings: int
    report: dict[str, Any]
    body: bytes
    job_id: int | None

    def to_dict(self, job_state: str | None) -> dict[str, Any]:
        """The JSON form of the control endpoint ``GET /_control/envelopes``."""
        return {
            "id": self.id, "receivedAt": iso(self.received_at), "clientId": self.client_id,
            "sensor": self.sensor, "status": self.status, "errors": self.report["errors"],
            "warnings": self.report["warnings"], "jobId": None if self.job_id is None else str(self.job_id),
            "jobState": job_state, "body": self.body.decode("utf-8", errors="replace"),
        }  # fmt: skip


class StoreError(Exception):
    """The database file cannot be the store; the message says why, for the user who named it."""


def _tables(db: sqlite3.Connection) -> dict[str, list[tuple[str, str]]]:
    """Each table of ``db`` (SQLite's own left out) with its columns' names and types."""
    names = db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    ).fetchall()
    columns = "SELECT name, type FROM pragma_table_info(?)"
    return {
        name: [(str(column), str(kind)) for column, kind in db.execute(columns, (name,))] for (name,) in names
    }


def _expected_tables() -> dict[str, list[tuple[str, str]]]:
    with contextlib.closing(sqlite3.connect(":memory:")) as db:
        db.executescript(SCHEMA)
        return _tables(db)


def check_file(path: Path) -> None:
    """Refuse (:class:`StoreError`) a file that cannot be the store: in a folder that does not exist, a
    folder, not SQLite, or another program's database. It is only read, so a refused file is left as it was
    (opening it read-write would already turn on WAL and add this store's tables)."""
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a file")
    if not path.parent.is_dir():
        raise StoreError(f"{path}: the folder {path.parent} does not exist")
    if path.exists() and not path.is_file():
        raise StoreError(f"{path} is not a regular file (a device, a pipe...)")
    if not path.exists() or path.stat().st_size == 0:
        return  # a new store
    try:
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            found = _tables(db)
    except sqlite3.DatabaseError as error:
        reason = "it is not a SQLite database" if "not a database" in str(error) else str(error)
        raise StoreError(f"cannot read {path}: {reason}") from None
    if found and found != _expected_tables():
        named = ", ".join(found)
        raise StoreError(
            f"{path} is a SQLite database this service did not make (tables: {named}); give a new file"
        )


class Store:
    """The service's SQLite database.

    Raises :class:`StoreError` when ``path`` cannot be the store (see :func:`check_file`).
    """

    def __init__(self, path: Path | None = None) -> None:
        self._lock = threading.Lock()
        if path is not None:
            check_file(path)
        try:
            # One connection shared by the server's threads under the lock; autocommit, explicit transactions.
            self._db = sqlite3.connect(
                ":memory:" if path is None else str(path), check_same_thread=False, isolation_level=None
            )
        except sqlite3.Error as error:  # unreadable or unwritable: permissions, a read-only file system
            raise StoreError(f"cannot open {path}: {error}") from None
        try:
            if path is not None:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")  # WAL: a commit survives a crash of the process
            self._db.executescript(SCHEMA)
        except sqlite3.Error as error:
            self._db.close()
            raise StoreError(f"cannot open {path}: {error}") from None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, parameters).fetchall()

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def signing_key(self) -> bytes:
        """The key tokens are signed with: made on first use, then kept (in the file, with ``--db``)."""
        with self._transaction() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'signing-key'").fetchone()
            if row is None:
                row = (secrets.token_bytes(32),)
                db.execute("INSERT INTO meta VALUES ('signing-key', ?)", row)
        return bytes(row[0])

    def add(
        self,
        *,
        received_at: float,
        client_id: str | None,
        sensor: str | None,
        status: str,
        report: dict[str, Any],
        body: bytes,
        actors: Sequence[str],
        job: tuple[float, bool] | None = None,
        events: Sequence[dict[str, Any]] = (),
        send_time: str | None = None,
    ) -> tuple[int, int | None]:
        """Record an envelope; with ``job`` (due time, fails?), queue it and store its ``events``.

        Returns the envelope's id and the job's.
        """
        with self._transaction() as db:
            envelope_id = db.execute(
                "INSERT INTO envelopes (received_at, client_id, sensor, status, errors, warnings, report,"
                " body, actors) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (received_at, client_id, sensor, status, len(report["errors"]), len(report["warnings"]),
                 orjson.dumps(report).decode(), body, "\n".join(actors)),
            ).lastrowid  # fmt: skip
            if job is None:
                return int(envelope_id or 0), None
            due, failed = job
            job_id = db.execute(
                "INSERT INTO jobs (envelope_id, created, due, failed) VALUES (?, ?, ?, ?)",
                (envelope_id, received_at, due, int(failed)),
            ).lastrowid
            db.execute("UPDATE envelopes SET job_id = ? WHERE id = ?", (job_id, envelope_id))
            db.executemany(
                "INSERT INTO events (job_id, envelope_id, external_id, sensor, send_time, event_epoch,"
                " actor_id, actor_email, client_app_id, created_at, event) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,"
                " ?, ?)",
                [(job_id, envelope_id, event["id"], sensor, send_time, epoch(event.get("eventTime")),
                  *actor_keys(event), client_id, received_at, orjson.dumps(event).decode())
                 for event in events],
            )  # fmt: skip
        return int(envelope_id or 0), int(job_id or 0)

    def job(self, job_id: int) -> Job | None:
        """A job by id."""
        rows = self._query("SELECT id, created, due, failed FROM jobs WHERE id = ?", (job_id,))
        if not rows:
            return None
        results = self._query("SELECT id, external_id FROM events WHERE job_id = ? ORDER BY id", (job_id,))
        id_, created, due, failed = rows[0]
        return Job(id_, created, due, bool(failed), tuple((str(row[0]), row[1]) for row in results))

    def job_states(self, job_ids: Sequence[int], now: float) -> dict[int, str]:
        """The state of each of ``job_ids`` at ``now``."""
        marks = ",".join("?" * len(job_ids))
        rows = self._query(f"SELECT id, created, due, failed FROM jobs WHERE id IN ({marks})", job_ids)
        return {row[0]: Job(row[0], row[1], row[2], bool(row[3]), ()).state(now) for row in rows}

    _EVENT_COLUMNS = "e.id, e.external_id, e.sensor, e.send_time, e.client_app_id, e.created_at, e.event"

    @staticmethod
    def _stored(row: tuple[Any, ...]) -> dict[str, Any]:
        id_, external_id, sensor, send_time, client_app_id, created_at, text = row
        event = orjson.loads(text)
        stored: dict[str, Any] = {
            "id": id_, "externalId": external_id, "sensor": sensor, "type": event.get("type"),
            "profile": event.get("profile"), "action": event.get("action"),
            "eventTime": event.get("eventTime"),
            "sendTime": send_time, "created_at": iso(created_at), "updated_at": iso(created_at),
            "deleted_at": None,
        }  # fmt: skip
        stored.update({slot: event.get(slot) for slot in SLOTS})
        stored["extensions"] = event.get("extensions")
        stored["clientAppId"] = client_app_id
        return stored

    def events(
        self, filters: Filters = Filters(), *, now: float, limit: int = -1, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        """Stored events of completed jobs, oldest first, filtered, one page; and how many match."""
        where = ["j.due <= ?", "j.failed = 0"]
        parameters: list[Any] = [now]
        for clause, value in (
            ("e.sensor = ?", filters.sensor), ("e.event_epoch >= ?", filters.start),
            ("e.event_epoch <= ?", filters.end), ("e.actor_id = ?", filters.actor_id),
            ("e.actor_email = ?", filters.actor_email),
        ):  # fmt: skip
            if value is not None:
                where.append(clause)
                parameters.append(value)
        tail = f"FROM events e JOIN jobs j ON j.id = e.job_id WHERE {' AND '.join(where)}"
        total = self._query(f"SELECT count(*) {tail}", parameters)[0][0]
        rows = self._query(
            f"SELECT {self._EVENT_COLUMNS} {tail} ORDER BY e.id LIMIT ? OFFSET ?",
            [*parameters, limit, offset],
        )
        return [self._stored(row) for row in rows], int(total)

    def event(self, external_id: str, *, now: float) -> dict[str, Any] | None:
        """The first stored event with this ``externalId`` whose job has completed."""
        rows = self._query(
            f"SELECT {self._EVENT_COLUMNS} FROM events e JOIN jobs j ON j.id = e.job_id"
            " WHERE e.external_id = ? AND j.due <= ? AND j.failed = 0 ORDER BY e.id LIMIT 1",
            (external_id, now),
        )
        return self._stored(rows[0]) if rows else None

    def all_events(self) -> list[dict[str, Any]]:
        """Every stored event, whatever its job's state, oldest first (for tests)."""
        rows = self._query(f"SELECT {self._EVENT_COLUMNS} FROM events e ORDER BY e.id")
        return [self._stored(row) for row in rows]

    def envelopes(
        self, *, status: str | None = None, actor: str | None = None, limit: int = -1, offset: int = 0
    ) -> tuple[list[Envelope], int]:
        """Received envelopes, newest first, filtered by verdict and by a part of an actor id or email."""
        where, parameters = ["1"], []
        if status is not None:
            where.append("status = ?")
            parameters.append(status)
        if actor:
            where.append("instr(lower(actors), lower(?)) > 0")
            parameters.append(actor)
        tail = f"FROM envelopes WHERE {' AND '.join(where)}"
        total = self._query(f"SELECT count(*) {tail}", parameters)[0][0]
        rows = self._query(
            "SELECT id, received_at, client_id, sensor, status, errors, warnings, report, body, job_id"
            f" {tail} ORDER BY id DESC LIMIT ? OFFSET ?",
            [*parameters, limit, offset],
        )
        envelopes = [
            Envelope(
                id_,
                received,
                client,
                sensor,
                status,
                errors,
                warnings,
                orjson.loads(report),
                bytes(body),
                job,
            )
            for id_, received, client, sensor, status, errors, warnings, report, body, job in rows
        ]
        return envelopes, int(total)

    def accepted(self, chunk: int = 200) -> Iterator[tuple[int, bytes]]:
        """(id, body) of every envelope accepted (``status`` success), oldest first: the app's stream as the
        service took it. Read a chunk at a time, so that the lock is never held for long."""
        last = 0
        while True:
            rows = self._query(
                "SELECT id, body FROM envelopes WHERE status = 'success' AND id > ? ORDER BY id LIMIT ?",
                (last, chunk),
            )
            for id_, body in rows:
                yield id_, bytes(body)
            if len(rows) < chunk:
                return
            last = rows[-1][0]

    def state(self) -> tuple[int, int]:
        """How many envelopes there are and the latest id: it changes whenever one is received."""
        count, latest = self._query("SELECT count(*), coalesce(max(id), 0) FROM envelopes")[0]
        return int(count), int(latest)

    def newer_than(self, envelope_id: int) -> int:
        """How many envelopes came after ``envelope_id``: where it sits on the page, newest first."""
        return int(self._query("SELECT count(*) FROM envelopes WHERE id > ?", (envelope_id,))[0][0])

    def reset(self) -> None:
        """Forget every envelope, job and event (the signing key stays: issued tokens remain valid)."""
        with self._transaction() as db:
            for table in ("envelopes", "jobs", "events"):
                db.execute(f"DELETE FROM {table}")
            db.execute("DELETE FROM sqlite_sequence")
