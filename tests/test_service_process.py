"""``caliper-schema serve`` as a user runs it: a process, restarted on its ``--db``, its logs, its errors."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, ROOT
from tests.service_support import activity, client, serve, token_for

pytestmark = pytest.mark.slow

GENERIC = EXAMPLES / "valid" / "caliper-generic-event.json"
AS_PRINTED = EXAMPLES / "invalid" / "timeback-docs-as-printed.json"


def test_a_restart_on_the_same_db_keeps_everything(tmp_path: Path) -> None:
    db = tmp_path / "caliper.sqlite"
    sent = activity(events=3)
    with serve("--db", str(db), "--job-delay", "0") as first:
        token = token_for(first.url, client_secret="never-logged-secret")
        with client(first.url, token) as http:
            job_id = http.post("/caliper/event", json=sent).json()["jobId"]
            assert http.post("/caliper/event", content=AS_PRINTED.read_bytes()).status_code == 400
            before = {
                "events": http.get("/caliper/events").json(),
                "one": http.get(f"/caliper/events/{sent['data'][2]['id']}").json(),
                "job": http.get(f"/jobs/{job_id}/status").json(),
                "envelopes": http.get("/_control/envelopes").json(),
            }
    log = first.output
    assert before["events"]["pagination"]["total"] == 3
    with serve("--db", str(db)) as second, client(second.url, token) as http:  # the old token still works
        after = {
            "events": http.get("/caliper/events").json(),
            "one": http.get(f"/caliper/events/{sent['data'][2]['id']}").json(),
            "job": http.get(f"/jobs/{job_id}/status").json(),
            "envelopes": http.get("/_control/envelopes").json(),
        }
        page = http.get("/").text
        next_job = http.post("/caliper/event", content=GENERIC.read_bytes()).json()["jobId"]
    assert after == before
    assert [e["externalId"] for e in after["events"]["events"]] == [event["id"] for event in sent["data"]]
    assert [e["status"] for e in after["envelopes"]["envelopes"]] == ["success", "error"]
    assert page.count("<details") == 2 and "&lt;dynamic-timestamp&gt;" in page
    assert int(next_job) == int(job_id) + 1  # ids go on from where they were
    # Tokens and secrets are never logged, though every request was.
    log += second.output
    assert "POST /caliper/event HTTP/1.1" in log and "/oauth2/token" in log
    assert token not in log and token.split(".")[2] not in log and "never-logged-secret" not in log


def test_serve_without_the_service_extra_says_how_to_install_it() -> None:
    script = (
        "import sys\n"
        "sys.modules['uvicorn'] = None  # as if the extra were not installed\n"
        "from caliper_schema.cli import main\n"
        "sys.exit(main(['serve']))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2
    assert 'pip install "caliper-schema[service]"' in result.stderr and "uvicorn" in result.stderr
    assert "Traceback" not in result.stderr


def _refused(*flags: Sequence[str]) -> list[subprocess.Popen[str]]:
    """``caliper-schema serve --port 0 FLAGS`` for each tuple of flags, started together (each is a new
    interpreter: run side by side, they cost one start-up's wait)."""
    return [
        subprocess.Popen(
            [sys.executable, "-m", "caliper_schema", "serve", "--port", "0", *one],
            cwd=ROOT,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for one in flags
    ]


def _ended(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:  # it started serving: the bad value was taken
        process.kill()
        out, err = process.communicate()
    return process.returncode, out, err


def test_serve_refuses_a_port_in_use_cleanly() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        command = [sys.executable, "-m", "caliper_schema", "serve", "--port", port]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in result.stderr


# Each serve option's bad values, and what the error must say: the flag as the user typed it, and its rule.
BAD_FLAGS = [
    (("--port", "99999"), "argument --port: a whole number from 0 to 65535 (0 picks a free port), not 99999"),
    (("--port", "-1"), "argument --port: a whole number from 0 to 65535 (0 picks a free port), not -1"),
    (("--port", "80.5"), "argument --port: a whole number from 0 to 65535 (0 picks a free port), not '80.5'"),
    (("--latency", "-5"), "argument --latency: a number of milliseconds >= 0 (below 1e9), not -5"),
    (("--latency", "nan"), "argument --latency: a number of milliseconds >= 0 (below 1e9), not 'nan'"),
    (("--token-ttl", "0"), "argument --token-ttl: a number of seconds > 0 (below 1e9), not 0"),
    (("--token-ttl", "inf"), "argument --token-ttl: a number of seconds > 0 (below 1e9), not 'inf'"),
    (("--job-delay", "-1"), "argument --job-delay: a number of seconds >= 0 (below 1e9), not -1"),
    (("--job-delay", "1e300"), "argument --job-delay: a number of seconds >= 0 (below 1e9), not 1e300"),
    (("--host", ""), "argument --host: an address or host name, such as 127.0.0.1, not ''"),
    (("--host", "no-such-host.invalid"), "cannot listen on no-such-host.invalid:0"),
    (("--client-id", "", "--client-secret", "s"), "argument --client-id: a client id that is not empty"),
    (("--client-id", "x"), "--client-id and --client-secret go together"),
    (("--client-secret", "x"), "--client-id and --client-secret go together"),
    (("--fault", "503=2"), "argument --fault: the rate of fault 503 is a number from 0 to 1, not '2'"),
    (("--fault", "200=0.5"), "argument --fault: a fault is an HTTP status from 400 to 599, or job"),
    (("--fault", "503"), "argument --fault: a fault is STATUS=RATE"),
    (("--seed", "x"), "argument --seed: invalid int value: 'x'"),
    (("--subjects", "nope"), "argument --subjects: invalid choice: 'nope'"),
    # The policy flags are validate's, with its messages.
    (("--disable", "no.such-rule"), "unknown rule 'no.such-rule'"),
    (
        ("--severity", "schema.required=loud"),
        "severity of 'schema.required' is error, warning or off, not 'loud'",
    ),
    (("--config", "/nonexistent/pyproject.toml"), "cannot read /nonexistent/pyproject.toml"),
    (("--xp-tolerance", "-1"), "argument --xp-tolerance: a number >= 0, not -1"),
]


def test_every_serve_option_refuses_its_bad_values_naming_the_flag_and_its_rule() -> None:
    processes = _refused(*(flags for flags, _ in BAD_FLAGS))
    for (flags, says), process in zip(BAD_FLAGS, processes, strict=True):
        status, out, err = _ended(process)
        assert status == 2, (flags, status, err)
        assert says in err.splitlines()[-1], (flags, err)
        assert "Traceback" not in err and "Error:" not in err, (flags, err)
        assert out == "", (flags, out)  # no banner: nothing is served


def test_serve_refuses_a_db_it_cannot_use_before_announcing_and_leaves_it_as_it_was(tmp_path: Path) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    noise = tmp_path / "noise.sqlite"
    noise.write_bytes(bytes(range(256)) * 16)  # not SQLite: no header
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    other = tmp_path / "other.db"
    with contextlib.closing(sqlite3.connect(other)) as db:  # another program's database
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        db.execute("INSERT INTO notes (text) VALUES ('keep me')")
        db.commit()
    cases = [
        (tmp_path / "no-such-folder" / "x.sqlite", "the folder"),
        (folder, "is a folder, not a file"),
        (pipe, "is not a regular file"),
        (noise, "it is not a SQLite database"),
        (other, "a SQLite database this service did not make (tables: notes)"),
    ]
    before = {path: path.read_bytes() for path in (noise, other)}
    listing = sorted(tmp_path.rglob("*"))
    processes = _refused(*(("--db", str(path)) for path, _ in cases))
    for (path, says), process in zip(cases, processes, strict=True):
        status, out, err = _ended(process)
        assert status == 2, (path, err)
        assert err.splitlines() == [err.strip()] and err.startswith("caliper-schema: --db: "), err
        assert str(path) in err and says in err, err
        assert out == "", out  # the banner is printed only once the store is open
    assert {path: path.read_bytes() for path in (noise, other)} == before
    assert sorted(tmp_path.rglob("*")) == listing  # no file made: no store, no -wal or -shm beside one


def test_serve_with_a_port_in_use_leaves_no_store_file_behind(tmp_path: Path) -> None:
    db = tmp_path / "new.sqlite"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        command = [sys.executable, "-m", "caliper_schema", "serve", "--port", port, "--db", str(db)]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    expected = f"caliper-schema: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    assert result.returncode == 2 and result.stderr == expected
    assert result.stdout == "" and list(tmp_path.iterdir()) == []


def test_serve_judges_with_the_policy_flags(tmp_path: Path) -> None:
    envelope = json.loads(GENERIC.read_bytes())  # valid, with a caliper.context-missing warning
    with serve("--strict", "--job-delay", "0") as strict, client(strict.url, token_for(strict.url)) as http:
        refused = http.post("/caliper/event", json=envelope)
    assert refused.status_code == 400
    assert [(i["pointer"], i["rule"]) for i in refused.json()["errors"]] == [
        ("/data/0/@context", "caliper.context-missing")
    ]
    config = tmp_path / "policy.toml"
    config.write_text('strict = true\ndisable = ["caliper.context-missing"]\n', encoding="utf-8")
    with serve("--config", str(config)) as relaxed, client(relaxed.url, token_for(relaxed.url)) as http:
        assert http.post("/caliper/event/validate", json=envelope).status_code == 200
