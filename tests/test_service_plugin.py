"""The pytest plugin: the ``caliper_service`` fixture, as a user's test suite gets it through ``pytest11``."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from caliper_schema.service.plugin import CaliperService
from tests.conftest import EXAMPLES, ROOT

GENERIC = EXAMPLES / "valid" / "caliper-generic-event.json"
AS_PRINTED = EXAMPLES / "invalid" / "timeback-docs-as-printed.json"


def test_the_plugin_is_registered_by_its_entry_point(pytestconfig: pytest.Config) -> None:
    plugin = pytestconfig.pluginmanager.get_plugin("caliper_schema")
    assert plugin is not None and plugin.__name__ == "caliper_schema.service.plugin"


def test_the_fixture_is_a_running_service(caliper_service: CaliperService) -> None:
    headers = {"Authorization": f"Bearer {caliper_service.token()}"}
    with httpx.Client(base_url=caliper_service.url, headers=headers, trust_env=False) as http:
        assert http.post("/caliper/event", content=GENERIC.read_bytes()).status_code == 200
        assert http.post("/caliper/event", content=AS_PRINTED.read_bytes()).status_code == 400
        caliper_service.fail_next(503, times=2)
        retried = [http.get("/caliper/events") for _ in range(3)]
    assert [answer.status_code for answer in retried] == [503, 503, 200]
    assert retried[0].headers["Retry-After"] == "1"
    [event] = caliper_service.events()
    assert event["externalId"] == json.loads(GENERIC.read_bytes())["data"][0]["id"]
    assert [envelope["status"] for envelope in caliper_service.envelopes()] == ["success", "error"]
    assert {issue["pointer"] for issue in caliper_service.envelopes()[1]["errors"]} == {
        "/sendTime", "/data/0/actor/id", "/data/0/object/course/id",
    }  # fmt: skip
    assert caliper_service.stream() == []
    with httpx.Client(base_url=caliper_service.url, headers=headers, trust_env=False) as http:
        assert http.post("/caliper/event", content=GENERIC.read_bytes()).status_code == 200  # sent again
    assert [(f["envelope"], f["rule"], f["pointer"]) for f in caliper_service.stream()] == [
        (3, "stream.duplicate-id", "/data/0/id")
    ]


def test_the_fixture_is_emptied_for_each_test(caliper_service: CaliperService) -> None:
    # Runs after the test above (file order): what it sent and the faults it forced are gone.
    assert caliper_service.events() == [] and caliper_service.envelopes() == []
    with httpx.Client(base_url=caliper_service.url, trust_env=False) as http:
        answer = http.get("/caliper/events", headers={"Authorization": f"Bearer {caliper_service.token()}"})
    assert answer.status_code == 200


def test_loading_the_plugin_imports_neither_the_service_nor_the_validator() -> None:
    script = (
        "import sys, caliper_schema.service.plugin\n"
        "heavy = ['starlette', 'uvicorn', 'jinja2', 'jsonschema', 'caliper_schema.validation']\n"
        "print([name for name in heavy if name in sys.modules])\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


USER_TEST = """
import httpx

ENVELOPE = {
    "sensor": "https://my-app.example.com",
    "sendTime": "2025-07-23T00:10:22.328Z",
    "dataVersion": "http://purl.imsglobal.org/ctx/caliper/v1p2",
    "data": [{
        "@context": "http://purl.imsglobal.org/ctx/caliper/v1p2",
        "id": "urn:uuid:c51570e4-f8ed-4c18-bb3a-dfe51b2cc594", "type": "Event", "profile": "GeneralProfile",
        "actor": "https://my-app.example.com/users/1", "action": "Created",
        "object": "https://my-app.example.com/docs/1", "eventTime": "2025-07-23T00:10:20.000Z",
    }],
}


def test_my_app_sends_what_the_service_accepts(caliper_service):
    headers = {"Authorization": f"Bearer {caliper_service.token()}"}
    answer = httpx.post(f"{caliper_service.url}/caliper/event", json=ENVELOPE, headers=headers)
    assert answer.status_code == 200
    assert [event["externalId"] for event in caliper_service.events()] == [ENVELOPE["data"][0]["id"]]
"""


def _pytest_in(folder: Path, conftest: str = "") -> subprocess.CompletedProcess[str]:
    (folder / "test_user.py").write_text(USER_TEST, encoding="utf-8")
    (folder / "conftest.py").write_text(conftest, encoding="utf-8")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)]
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_a_users_suite_gets_the_fixture_with_no_configuration(tmp_path: Path) -> None:
    result = _pytest_in(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


@pytest.mark.slow
def test_without_the_service_extra_the_fixture_says_how_to_install_it(tmp_path: Path) -> None:
    conftest = textwrap.dedent(
        """
        import sys
        sys.modules["starlette"] = None  # as if the service extra were not installed
        """
    )
    result = _pytest_in(tmp_path, conftest)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 error" in result.stdout
    assert 'pip install "caliper-schema[service]"' in result.stdout
