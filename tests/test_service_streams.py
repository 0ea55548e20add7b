"""The local service shows the stream rules' findings across everything it accepted, over real HTTP.

Runs are generated sessions sent as the SDK sends them (one envelope per event); which envelope holds the
mistake, and where, comes from the session's own label, and the envelope's id from the order this test
posted them in.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator

import httpx
import pytest

from caliper_schema.generation.sessions import Session, generate_sessions
from caliper_schema.policy import Policy
from caliper_schema.service.serving import Background
from tests.service_support import client, in_thread, token_for


@pytest.fixture(scope="module")
def server() -> Iterator[Background]:
    with in_thread() as running:
        yield running


@pytest.fixture
def api(server: Background) -> Iterator[httpx.Client]:
    with client(server.url, token_for(server.url)) as http:
        assert http.post("/_control/reset").status_code == 200
        yield http


def send(api: httpx.Client, session: Session) -> list[int]:
    """Post each envelope of a session; the ids the service gave them (it numbers envelopes from 1)."""
    before = len(api.get("/_control/envelopes").json()["envelopes"])
    for document in session.documents:
        answer = api.post("/caliper/event", content=json.dumps(document).encode())
        assert answer.status_code == 200, answer.text
    return list(range(before + 1, before + 1 + len(session.documents)))


def stream(api: httpx.Client) -> dict:
    answer = api.get("/_control/stream")
    assert answer.status_code == 200
    return dict(answer.json())


def test_a_valid_run_has_no_finding_across_its_envelopes(api: httpx.Client) -> None:
    [session] = generate_sessions(1, seed=3, envelope=True)
    ids = send(api, session)
    body = stream(api)
    assert body["status"] == "success" and body["findings"] == []
    assert (body["envelopes"], body["events"], body["runs"]) == (len(ids), len(ids), 1)


@pytest.mark.parametrize("rule", ["stream.window-overlap", "stream.xp-beyond-time", "stream.duplicate-id"])
def test_a_mistake_between_envelopes_is_shown_in_the_envelope_that_has_it(
    api: httpx.Client, rule: str
) -> None:
    [clean] = generate_sessions(1, seed=3, envelope=True)
    [bad] = generate_sessions(1, seed=4, envelope=True, invalid=True, strict=True, mutations=[f"rule:{rule}"])
    assert bad.mistake is not None
    send(api, clean)
    ids = send(api, bad)
    body = stream(api)
    where = ids[bad.mistake.document]
    assert [(f["envelope"], f["rule"], f["pointer"]) for f in body["findings"]] == [
        (where, rule, bad.mistake.pointer)
    ]
    [finding] = body["findings"]
    assert finding["severity"] == ("warning" if bad.mistake.strict else "error")
    assert body["status"] == ("success" if bad.mistake.strict else "error") and body["runs"] == 2
    with client(str(api.base_url)) as browser:
        html = browser.get("/").text
    across = html[html.index('<section class="across"') : html.index("</section>")]
    assert f"<code>{rule}</code>" in across and f"<code>{bad.mistake.pointer}</code>" in across
    assert f"open={where}#e{where}" in across  # a link to the envelope, opened, on its page
    opened = browser_page(api, f"/?page=1&open={where}")
    assert f'<details id="e{where}" open>' in opened


def browser_page(api: httpx.Client, path: str) -> str:
    with client(str(api.base_url)) as browser:
        return browser.get(path).text


def test_refused_envelopes_are_not_part_of_the_stream(api: httpx.Client) -> None:
    [session] = generate_sessions(1, seed=3, envelope=True)
    send(api, session)
    again = copy.deepcopy(session.documents[0])
    again["sendTime"] = "<dynamic-timestamp>"  # refused: the service would not take its event
    assert api.post("/caliper/event", content=json.dumps(again).encode()).status_code == 400
    assert stream(api)["findings"] == []
    # accepted, the same event is one id used twice
    assert api.post("/caliper/event", content=json.dumps(session.documents[0]).encode()).status_code == 200
    [finding] = stream(api)["findings"]
    assert (finding["rule"], finding["pointer"]) == ("stream.duplicate-id", "/data/0/id")
    assert api.post("/_control/reset").status_code == 200
    assert stream(api) | {"message": ""} == {
        "status": "success",
        "message": "",
        "envelopes": 0,
        "events": 0,
        "runs": 0,
        "findings": [],
    }
    assert "No finding across the events accepted" in browser_page(api, "/")


def test_the_service_policy_weighs_the_stream_rules_too() -> None:
    with in_thread(auth=False, policy=Policy(severities={"stream.duplicate-id": "warning"})) as running:
        [session] = generate_sessions(1, seed=3, envelope=True)
        with client(running.url) as http:
            for document in [*session.documents, session.documents[-1]]:
                assert http.post("/caliper/event", content=json.dumps(document).encode()).status_code == 200
            body = http.get("/_control/stream").json()
    assert [(f["rule"], f["severity"]) for f in body["findings"]] == [("stream.duplicate-id", "warning")]
    assert body["status"] == "success"
