"""The local service, driven over HTTP with a real client (httpx) against a running uvicorn server.

Expected verdicts come from the examples' known mistakes (the Timeback docs' unfilled placeholders and
``<dynamic-timestamp>``), expected lists and pages from what each test itself sent.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from caliper_schema import validate
from caliper_schema.policy import Limits, Policy
from caliper_schema.service.serving import Background
from caliper_schema.service.settings import Settings
from tests.conftest import EXAMPLES
from tests.service_support import activity, client, in_thread, token_for

GENERIC = EXAMPLES / "valid" / "caliper-generic-event.json"
AS_PRINTED = EXAMPLES / "invalid" / "timeback-docs-as-printed.json"


@pytest.fixture(scope="module")
def server() -> Iterator[Background]:
    with in_thread() as running:
        yield running


@pytest.fixture
def api(server: Background) -> Iterator[httpx.Client]:
    """A client with a valid token, on an emptied service."""
    with client(server.url, token_for(server.url)) as http:
        assert http.post("/_control/reset").status_code == 200
        yield http


def _control(http: httpx.Client, what: str) -> list[dict[str, Any]]:
    return list(http.get(f"/_control/{what}").json()[what])


def test_the_generic_event_example_is_accepted_stored_and_queued(api: httpx.Client) -> None:
    sent = json.loads(GENERIC.read_bytes())
    answer = api.post("/caliper/event", content=GENERIC.read_bytes())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "success" and body["errors"] is None and body["jobId"]
    assert set(body) == {"status", "message", "errors", "jobId"}
    listed = api.get("/caliper/events").json()
    [event] = listed["events"]
    assert event["externalId"] == sent["data"][0]["id"]
    assert (event["sensor"], event["type"], event["action"]) == (sent["sensor"], "Event", "Created")
    assert (event["actor"], event["object"]) == (sent["data"][0]["actor"], sent["data"][0]["object"])
    assert (event["eventTime"], event["sendTime"]) == (sent["data"][0]["eventTime"], sent["sendTime"])
    assert event["clientAppId"] == "tests" and event["deleted_at"] is None
    [envelope] = _control(api, "envelopes")
    assert (envelope["status"], envelope["jobId"], envelope["jobState"]) == (
        "success",
        body["jobId"],
        "completed",
    )
    assert json.loads(envelope["body"]) == sent


def test_the_timeback_example_as_printed_is_refused_with_its_mistakes(api: httpx.Client) -> None:
    answer = api.post("/caliper/event", content=AS_PRINTED.read_bytes())
    assert answer.status_code == 400
    body = answer.json()
    assert body["status"] == "error" and set(body) == {"status", "message", "errors"}
    found = {(issue["pointer"], issue["rule"]) for issue in body["errors"]}
    assert found == {
        ("/sendTime", "schema.format"),  # "<dynamic-timestamp>"
        ("/data/0/actor/id", "schema.format"),  # .../users/<user-id>
        ("/data/0/object/course/id", "schema.format"),  # .../courses/<course-id>
    }
    assert all("placeholder" in issue["hint"] for issue in body["errors"])
    assert body == validate(AS_PRINTED.read_bytes()).to_response()  # the validator's verdict, as it is
    assert api.get("/caliper/events").json()["pagination"]["total"] == 0
    assert _control(api, "events") == []
    [envelope] = _control(api, "envelopes")
    assert (envelope["status"], envelope["jobId"]) == ("error", None)
    assert {issue["rule"] for issue in envelope["warnings"]} >= {"caliper.placeholder"}


def test_validate_only_gives_the_same_verdicts_and_stores_nothing(api: httpx.Client) -> None:
    good = api.post("/caliper/event/validate", content=GENERIC.read_bytes())
    bad = api.post("/caliper/event/validate", content=AS_PRINTED.read_bytes())
    assert (good.status_code, bad.status_code) == (200, 400)
    assert good.json() == validate(GENERIC.read_bytes()).to_response()
    assert "jobId" not in good.json()
    assert {issue["pointer"] for issue in bad.json()["errors"]} == {
        "/sendTime", "/data/0/actor/id", "/data/0/object/course/id",
    }  # fmt: skip
    assert _control(api, "envelopes") == [] and _control(api, "events") == []
    assert api.get("/caliper/events").json()["pagination"]["total"] == 0


@pytest.mark.parametrize(
    ("body", "rule", "pointer"),
    [
        (b'{"sensor": "https://a.example.com", "sendTime": ', "json.syntax", ""),
        (b'{"sensor": "a", "sensor": "b"}', "json.duplicate-key", "/sensor"),
        (b"\xff\xfe{}", "json.encoding", ""),
        (b"", "json.empty", ""),
    ],
)
def test_malformed_json_is_a_400_with_the_json_issue(
    api: httpx.Client, body: bytes, rule: str, pointer: str
) -> None:
    answer = api.post("/caliper/event", content=body)
    assert answer.status_code == 400
    assert (pointer, rule) in {(issue["pointer"], issue["rule"]) for issue in answer.json()["errors"]}
    assert [envelope["status"] for envelope in _control(api, "envelopes")] == ["error"]


# What the validator says to a command-line user of files, told as an HTTP client can follow it.
JSON_LINES = (json.dumps(activity()) + "\n" + json.dumps(activity()) + "\n").encode()
HTTP_HINTS = [
    (JSON_LINES, "json.trailing-data", "send one envelope per request: put the events in its data array"),
    (b'{"sensor": "caf\xe9"}', "json.encoding", "send the body encoded as UTF-8"),
]


def _only_the_hint_differs(body: bytes, rule: str, told: dict[str, Any]) -> None:
    """``told`` is the validator's own issue of ``rule`` but for its hint: the same pointer, rule, message,
    line and column, and not a word about files or command-line flags."""
    report = validate(body)
    [own] = [issue.to_dict() for issue in (*report.errors, *report.warnings) if issue.rule == rule]
    assert own["hint"] != told["hint"]
    assert {**own, "hint": told["hint"]} == told
    assert not any(word in told["hint"] for word in ("--", "jsonl", "file"))


@pytest.mark.parametrize(("body", "rule", "hint"), HTTP_HINTS)
@pytest.mark.parametrize("path", ["/caliper/event/validate", "/caliper/event"])
def test_json_issues_hint_what_an_http_client_can_do(
    api: httpx.Client, path: str, body: bytes, rule: str, hint: str
) -> None:
    answer = api.post(path, content=body)
    assert answer.status_code == 400
    [told] = [issue for issue in answer.json()["errors"] if issue["rule"] == rule]
    assert (told["pointer"], told["hint"]) == ("", hint)
    _only_the_hint_differs(body, rule, told)
    if path == "/caliper/event":  # stored so, and so shown on the page
        [envelope] = _control(api, "envelopes")
        assert [issue for issue in envelope["errors"] if issue["rule"] == rule] == [told]


def test_a_byte_order_mark_is_a_warning_hinting_what_an_http_client_can_do(api: httpx.Client) -> None:
    body = b"\xef\xbb\xbf" + GENERIC.read_bytes()
    assert api.post("/caliper/event", content=body).status_code == 200  # a warning: accepted
    [envelope] = _control(api, "envelopes")
    [told] = [issue for issue in envelope["warnings"] if issue["rule"] == "json.bom"]
    assert (told["pointer"], told["line"], told["column"]) == ("", 1, 1)
    assert told["hint"] == "RFC 8259: JSON text MUST NOT begin with a BOM; send the body as UTF-8 without one"
    _only_the_hint_differs(body, "json.bom", told)


def test_bad_timings_are_refused_naming_the_setting_in_code_and_at_run_time(api: httpx.Client) -> None:
    for given, says in (
        ({"token_ttl": 0}, "token_ttl is a number of seconds > 0 (below 1e9), not 0"),
        ({"latency_ms": -5}, "latency_ms is a number of milliseconds >= 0 (below 1e9), not -5"),
        ({"job_delay": math.inf}, "job_delay is a number of seconds >= 0 (below 1e9), not inf"),
        ({"retry_after": -1}, "retry_after is a number of seconds >= 0 (below 1e9), not -1"),
    ):
        with pytest.raises(ValueError) as refused:
            Settings(**given)
        assert str(refused.value) == says
    for latency in (b"NaN", b"-1", b"1e300"):
        answer = api.post("/_control/faults", content=b'{"latency": ' + latency + b"}")
        assert answer.status_code == 400, latency
        assert "latency is a number of milliseconds >= 0 (below 1e9)" in answer.json()["message"]
    assert api.get("/_control/faults").json()["latency"] == 0.0
    assert api.get("/caliper/events").status_code == 200


def test_a_bare_event_is_refused_since_the_endpoint_takes_an_envelope(api: httpx.Client) -> None:
    event = json.loads(GENERIC.read_bytes())["data"][0]
    assert validate(event).ok  # valid Caliper, but not what this endpoint takes
    answer = api.post("/caliper/event", json=event)
    assert answer.status_code == 400
    assert [(i["pointer"], i["rule"]) for i in answer.json()["errors"]] == [("", "document.not-an-envelope")]


def test_a_body_over_the_size_limit_is_a_413_unread() -> None:
    with in_thread(policy=Policy(limits=Limits(max_bytes=2000))) as small:
        body = json.dumps(activity(events=5)).encode()
        assert len(body) > 2000
        with client(small.url, token_for(small.url)) as http:
            declared = http.post("/caliper/event", content=body)

            def chunks() -> Iterator[bytes]:  # no Content-Length: read until the limit, then refused
                for start in range(0, len(body), 500):
                    yield body[start : start + 500]

            streamed = http.post("/caliper/event/validate", content=chunks())
            fits = http.post("/caliper/event", content=GENERIC.read_bytes())
            assert (declared.status_code, streamed.status_code, fits.status_code) == (413, 413, 200)
            for answer in (declared, streamed):
                [issue] = answer.json()["errors"]
                assert (issue["pointer"], issue["rule"]) == ("", "limit.size")
            assert [e["status"] for e in _control(http, "envelopes")] == ["success"]


def test_a_job_waits_turns_active_then_completes_with_each_external_id() -> None:
    with in_thread(job_delay=1.2) as slow, client(slow.url, token_for(slow.url)) as http:
        sent = activity(events=3)
        job_id = http.post("/caliper/event", json=sent).json()["jobId"]
        seen = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status = http.get(f"/jobs/{job_id}/status").json()["job"]
            if not seen or seen[-1] != status["state"]:
                seen.append(status["state"])
                if status["state"] != "completed":  # not listed until processed
                    assert http.get("/caliper/events").json()["pagination"]["total"] == 0
            if status["state"] == "completed":
                break
            time.sleep(0.05)
        assert seen == ["waiting", "active", "completed"]
        assert status["id"] == job_id and status["processedOn"]
        assert status["returnValue"]["status"] == "success"
        results = status["returnValue"]["results"]
        assert [r["externalId"] for r in results] == [event["id"] for event in sent["data"]]
        listed = http.get("/caliper/events").json()["events"]
        assert [str(event["id"]) for event in listed] == [r["allocatedId"] for r in results]
        missing = http.get("/jobs/999999/status")
        assert missing.status_code == 404 and missing.json()["status"] == "error"
        assert http.get("/jobs/not-a-number/status").status_code == 404


def test_the_list_filters_and_pages(api: httpx.Client) -> None:
    sent = [
        activity(sensor="https://a.example.com", actor_id="https://example.edu/u/1", email="one@example.edu",
                 event_time="2025-01-01T10:00:00.000Z", events=3),
        activity(sensor="https://b.example.com", actor_id="https://example.edu/u/2", email="two@example.edu",
                 event_time="2025-02-01T10:00:00.000Z", events=4),
        activity(sensor="https://a.example.com", actor_id="https://example.edu/u/2", email="two@example.edu",
                 event_time="2025-03-01T10:00:00.000Z", events=5),
    ]  # fmt: skip
    for envelope in sent:
        assert api.post("/caliper/event", json=envelope).status_code == 200
    everything = [(envelope, event) for envelope in sent for event in envelope["data"]]

    def ids(**query: Any) -> list[str]:
        answer = api.get("/caliper/events", params={"limit": 1000, **query})
        assert answer.status_code == 200, answer.text
        return [event["externalId"] for event in answer.json()["events"]]

    def expected(keep: Any) -> list[str]:
        return [event["id"] for envelope, event in everything if keep(envelope, event)]

    assert ids() == expected(lambda envelope, event: True)
    assert ids(sensor="https://a.example.com") == expected(
        lambda envelope, _: envelope["sensor"].startswith("https://a")
    )
    assert ids(actorId="https://example.edu/u/2") == expected(
        lambda _, event: event["actor"]["id"].endswith("/2")
    )
    assert ids(actorEmail="one@example.edu") == expected(
        lambda _, event: event["actor"]["email"] == "one@example.edu"
    )
    assert ids(startDate="2025-02-01T10:00:00.000Z") == expected(
        lambda _, event: event["eventTime"] >= "2025-02"
    )
    assert ids(endDate="2025-01-31T00:00:00Z") == expected(lambda _, event: event["eventTime"] < "2025-02")
    assert ids(
        startDate="2025-01-15T00:00:00Z", endDate="2025-02-15T00:00:00Z", sensor="https://b.example.com"
    ) == [event["id"] for event in sent[1]["data"]]
    assert ids(actorId="https://example.edu/u/3") == []

    pages, offset = [], 0
    while True:
        answer = api.get("/caliper/events", params={"limit": 5, "offset": offset}).json()
        pages.append(answer["pagination"])
        offset += 5
        if not answer["events"]:
            break
        assert len(answer["events"]) <= 5
        assert [e["externalId"] for e in answer["events"]] == [e["id"] for _, e in everything][
            offset - 5 : offset
        ]
    assert pages[0] == {"total": 12, "totalPages": 3, "currentPage": 1, "limit": 5}
    assert [page["currentPage"] for page in pages] == [1, 2, 3, 4]

    for query, pointer in (
        ({"limit": "0"}, "/limit"),
        ({"offset": "-1"}, "/offset"),
        ({"startDate": "soon"}, "/startDate"),
    ):
        refused = api.get("/caliper/events", params=query)
        assert refused.status_code == 400
        assert [(i["pointer"], i["rule"]) for i in refused.json()["errors"]] == [(pointer, "request.query")]


def test_an_event_is_got_by_its_external_id(api: httpx.Client) -> None:
    sent = activity(events=2)
    api.post("/caliper/event", json=sent)
    wanted = sent["data"][1]
    answer = api.get(f"/caliper/events/{wanted['id']}")
    assert answer.status_code == 200
    event = answer.json()["event"]
    assert event["externalId"] == wanted["id"]
    assert (event["actor"], event["object"], event["generated"]) == (
        wanted["actor"], wanted["object"], wanted["generated"],
    )  # fmt: skip
    assert (event["profile"], event["extensions"]) == ("TimebackProfile", wanted["extensions"])
    missing = api.get(f"/caliper/events/urn:uuid:{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.json()["status"] == "error"


def test_the_api_needs_a_valid_token(server: Background) -> None:
    with client(server.url) as anonymous, client(server.url, "cs1.forged.token") as forged:
        anonymous.post("/_control/reset")
        for odd in ("cs1.\u00e9t\u00e9.x", "Bearer", "cs1..", "cs1.e30.", "Basic dXNlcjpwYXNz"):
            header = odd if odd.startswith(("Bearer", "Basic")) else f"Bearer {odd}"
            answer = anonymous.get("/caliper/events", headers={"Authorization": header.encode("latin-1")})
            assert answer.status_code == 401, odd
        for http in (anonymous, forged):
            for method, path in (("POST", "/caliper/event"), ("POST", "/caliper/event/validate"),
                                 ("GET", "/caliper/events"), ("GET", "/jobs/1/status")):  # fmt: skip
                answer = http.request(
                    method, path, content=GENERIC.read_bytes() if method == "POST" else None
                )
                assert answer.status_code == 401, (method, path)
                assert answer.json()["status"] == "error"
                assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        assert "expired" not in forged.get("/caliper/events").json()["message"]
        assert anonymous.get("/").status_code == 200  # the page needs none
        assert _control(anonymous, "envelopes") == []  # nothing refused was recorded


def test_an_expired_token_gets_a_401_that_says_so() -> None:
    with in_thread(token_ttl=0.5) as short:
        grant = client(short.url).post(
            "/oauth2/token", data={"grant_type": "client_credentials", "client_id": "a"}
        )
        assert grant.json()["expires_in"] == 1 and grant.json()["token_type"] == "Bearer"
        with client(short.url, grant.json()["access_token"]) as http:
            assert http.get("/caliper/events").status_code == 200
            time.sleep(0.6)
            expired = http.get("/caliper/events")
        assert expired.status_code == 401
        assert "expired" in expired.json()["message"]
        assert 'error="invalid_token"' in expired.headers["WWW-Authenticate"]
        assert "expired" in expired.headers["WWW-Authenticate"]


def test_the_token_endpoint_takes_client_credentials_only() -> None:
    with in_thread(client_id="app", client_secret="right") as locked, client(locked.url) as http:
        good = http.post("/oauth2/token", data={"grant_type": "client_credentials", "client_id": "app",
                                                "client_secret": "right"})  # fmt: skip
        basic = http.post("/oauth2/token", data={"grant_type": "client_credentials"}, auth=("app", "right"))
        assert (good.status_code, basic.status_code) == (200, 200)
        assert good.headers["Cache-Control"] == "no-store"
        wrong = http.post("/oauth2/token", data={"grant_type": "client_credentials", "client_id": "app",
                                                 "client_secret": "wrong"})  # fmt: skip
        assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
        grant = http.post("/oauth2/token", data={"grant_type": "password", "client_id": "app"})
        assert (grant.status_code, grant.json()["error"]) == (400, "unsupported_grant_type")
        as_json = http.post("/oauth2/token", json={"grant_type": "client_credentials", "client_id": "app"})
        assert (as_json.status_code, as_json.json()["error"]) == (400, "invalid_request")
        assert "right" not in wrong.text and "right" not in good.text


def test_no_auth_lets_every_request_through() -> None:
    with in_thread(auth=False) as open_, client(open_.url) as http:
        assert http.post("/caliper/event", content=GENERIC.read_bytes()).status_code == 200
        [event] = http.get("/caliper/events").json()["events"]
        assert event["clientAppId"] is None


@pytest.mark.parametrize("status", [400, 408, 429, 500, 502, 503, 504])
def test_every_fault_status_can_be_forced_on_the_next_requests(api: httpx.Client, status: int) -> None:
    changed = api.post("/_control/faults", json={"next": {"status": status, "times": 2}})
    assert changed.json()["next"] == [{"status": status, "times": 2}]
    first = api.post("/caliper/event", content=GENERIC.read_bytes())
    second = api.get("/caliper/events")
    third = api.post("/caliper/event", content=GENERIC.read_bytes())
    assert (first.status_code, second.status_code, third.status_code) == (status, status, 200)
    for answer in (first, second):
        assert answer.json()["status"] == "error" and "injected" in answer.json()["message"]
        assert (answer.headers.get("Retry-After") == "1") is (status in (429, 503))
    assert len(_control(api, "envelopes")) == 1  # the failed sends were not received


def test_fault_rates_are_reproducible_with_a_seed() -> None:
    def statuses(seed: int) -> list[int]:
        with (
            in_thread(faults={"503": 0.3, "429": 0.2}, seed=seed) as faulty,
            client(faulty.url, token_for(faulty.url)) as http,
        ):
            return [http.get("/caliper/events").status_code for _ in range(40)]

    first, again, other = statuses(7), statuses(7), statuses(8)
    assert first == again and first != other
    assert {200, 429, 503} == set(first)


def test_a_job_fault_ends_jobs_failed_and_their_events_unlisted() -> None:
    with in_thread(faults={"job": 1.0}) as failing, client(failing.url, token_for(failing.url)) as http:
        job_id = http.post("/caliper/event", content=GENERIC.read_bytes()).json()["jobId"]
        job = http.get(f"/jobs/{job_id}/status").json()["job"]
        assert (job["state"], job["returnValue"]) == ("failed", None) and job["failedReason"]
        assert http.get("/caliper/events").json()["pagination"]["total"] == 0


def test_faults_and_latency_are_changed_at_run_time(api: httpx.Client) -> None:
    api.post("/_control/faults", json={"rates": {"500": 1.0}, "latency": 150})
    started = time.monotonic()
    assert api.get("/caliper/events").status_code == 500
    assert time.monotonic() - started >= 0.15  # the configured delay is a floor, not a timing claim
    assert api.delete("/_control/faults").json() == {"rates": {}, "latency": 0.0, "next": []}
    assert api.get("/caliper/events").status_code == 200
    bad = api.post("/_control/faults", json={"rates": {"200": 1}})
    assert bad.status_code == 400 and "400 to 599" in bad.json()["message"]


def test_the_page_lists_envelopes_with_their_issues_beside_the_marked_payload(api: httpx.Client) -> None:
    api.post("/caliper/event", content=GENERIC.read_bytes())
    api.post("/caliper/event", content=AS_PRINTED.read_bytes())
    hostile = activity(
        actor_id="https://example.edu/users/<script>alert(1)</script>", email="eve@example.edu"
    )
    api.post("/caliper/event", content=json.dumps(hostile).encode())  # one line: shown indented
    with client(str(api.base_url)) as browser:  # no token
        page = browser.get("/")
        invalid_only = browser.get("/", params={"verdict": "invalid"}).text
        by_actor = browser.get("/", params={"actor": "EVE@example"}).text
        first = browser.get("/", params={"open": "2"}).text
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert html.count("<details") == 3 and "<script>" not in html and "&lt;script&gt;" in html
    assert html.index('id="e3"') < html.index('id="e2"') < html.index('id="e1"')  # newest first
    assert "https://alpharead.alpha.school" in html and "https://example.edu/sensors/1" in html
    assert "src=" not in html and "<link" not in html  # nothing loaded from elsewhere
    # The opened envelope (#2, the docs as printed): its issues, and its payload's line 3 marked.
    assert '<details id="e2" open>' in first
    assert "<code>/sendTime</code>" in first and "looks like an unfilled template placeholder" in first
    assert '<tr id="e2-L3" class="error">' in first and "schema.format" in first
    assert invalid_only.count("<details") == 2 and 'id="e1"' not in invalid_only
    assert by_actor.count("<details") == 1 and 'id="e3"' in by_actor
    # The hostile one-line payload is shown indented, its invalid actor id's line marked.
    assert '<tr id="e3-L' in html and 'class="error"><td class="n">' in html


def test_the_page_shows_every_example_and_broken_bodies(api: httpx.Client) -> None:
    bodies = [path.read_bytes() for path in sorted(EXAMPLES.rglob("*.json*"))]
    bodies += [b"", b"\xff\xfe", b'{"a": ' * 100, b"[1, 2]", b"null", b'"text"']
    for body in bodies:
        assert api.post("/caliper/event", content=body).status_code in (200, 400)
    with client(str(api.base_url)) as browser:
        for query in ({}, {"verdict": "invalid"}, {"verdict": "valid"}, {"actor": "x"}, {"page": "2"}):
            for opened in range(1, len(bodies) + 1):
                answer = browser.get("/", params={**query, "open": str(opened)})
                assert answer.status_code == 200, (query, opened)
        assert browser.get("/", params={"open": "99999999999999999999", "page": "-1"}).status_code == 200


def test_a_bare_event_with_more_issues_than_shown_keeps_its_hidden_counts() -> None:
    policy = Policy(limits=Limits(max_issues=2))
    event = {"type": "Event"}  # no id, actor, action, object or eventTime
    told = validate(event, policy=policy)
    assert told.hidden_errors >= 3  # more issues than a report shows
    with in_thread(policy=policy) as small, client(small.url, token_for(small.url)) as http:
        answer = http.post("/caliper/event/validate", json=event)
    assert answer.status_code == 400
    errors = answer.json()["errors"]
    assert (errors[0]["pointer"], errors[0]["rule"]) == ("", "document.not-an-envelope")
    assert errors[-1]["rule"] == "limit.issues"
    hidden = told.hidden_errors + told.hidden_warnings
    assert errors[-1]["message"].startswith(f"{hidden} more issues not shown ({told.hidden_errors} errors")
    assert answer.json()["message"] != "The payload is valid."
