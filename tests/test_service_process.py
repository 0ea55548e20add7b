"""``caliper-schema serve`` as a user runs it: a process, restarted on its ``--db``, its logs, its errors."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
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


def test_serve_refuses_a_port_in_use_and_bad_flags_cleanly() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        command = [sys.executable, "-m", "caliper_schema", "serve", "--port", port]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in result.stderr
    for flags, says in (
        (["--fault", "503=2"], "from 0 to 1"),
        (["--client-id", "x"], "--client-id and --client-secret go together"),
        (["--disable", "no.such-rule"], "unknown rule"),
        (["--job-delay", "-1"], "job_delay"),
    ):
        result = subprocess.run(
            [sys.executable, "-m", "caliper_schema", "serve", "--port", "0", *flags],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert result.returncode == 2 and says in result.stderr and "Traceback" not in result.stderr, flags


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
