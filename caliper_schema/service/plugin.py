"""The pytest plugin (entry point ``pytest11``): a ``caliper_service`` fixture, the real service for a test.

pytest loads this module in every session where caliper-schema is installed, so it imports nothing but
pytest and the stdlib at load time; the service (and its optional dependencies) is imported when a test
first asks for the fixture, and a missing ``service`` extra is then an error that says how to install it.

The service runs once per session, in a thread, on a free loopback port, and is emptied before each test::

    def test_my_app_sends_valid_events(caliper_service):
        my_app = MyApp(caliper_url=caliper_service.url, client_id="test", client_secret="test")
        my_app.finish_lesson()
        assert [event["type"] for event in caliper_service.events()] == ["ActivityEvent"]
        assert all(envelope["status"] == "success" for envelope in caliper_service.envelopes())

The service judges with the project's ``[tool.caliper-schema]`` settings (the nearest ``pyproject.toml``
from pytest's root directory). Override the ``caliper_service_settings`` fixture (session scope) to change
the service: it returns keyword arguments of :class:`~caliper_schema.service.settings.Settings`, such as
``{"job_delay": 0.5, "client_id": "test", "client_secret": "s3cret"}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from caliper_schema.service.serving import Background


class CaliperService:
    """A running local Caliper service, as a test sees it."""

    def __init__(self, url: str, client_id: str = "pytest", client_secret: str = "pytest") -> None:
        self.url = url
        """The base URL, such as ``http://127.0.0.1:40123``: give it to the app as the Caliper endpoint."""
        self.client_id, self.client_secret = client_id, client_secret

    def _call(self, method: str, path: str, body: bytes | None = None, content_type: str = "") -> Any:
        import urllib.request  # only once a test talks to the service

        request = urllib.request.Request(self.url + path, data=body, method=method)
        if content_type:
            request.add_header("Content-Type", content_type)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never a proxy
        with opener.open(request, timeout=30) as response:
            return json.loads(response.read())

    def token(self) -> str:
        """A fresh bearer token, from the service's own ``POST /oauth2/token``."""
        from urllib.parse import urlencode

        form = urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            }
        )
        answer = self._call("POST", "/oauth2/token", form.encode(), "application/x-www-form-urlencoded")
        return str(answer["access_token"])

    def headers(self) -> dict[str, str]:
        """``{"Authorization": "Bearer <a fresh token>"}``."""
        return {"Authorization": f"Bearer {self.token()}"}

    def events(self) -> list[dict[str, Any]]:
        """Every event stored since the test began, oldest first, as ``GET /caliper/events`` shows them."""
        return list(self._call("GET", "/_control/events")["events"])

    def envelopes(self) -> list[dict[str, Any]]:
        """Every envelope posted to ``/caliper/event`` since the test began, valid or not, oldest first:
        ``status``, ``errors``, ``warnings`` (the issues), ``jobId``, ``jobState``, ``body``..."""
        return list(self._call("GET", "/_control/envelopes")["envelopes"])

    def stream(self) -> list[dict[str, Any]]:
        """The stream rules' findings across every envelope accepted since the test began (ids used twice,
        heartbeat windows that overlap or repeat, XP beyond the run's time...): each an issue with the
        ``envelope`` id it is in. Empty when the app's events hold together."""
        return list(self._call("GET", "/_control/stream")["findings"])

    def fail_next(self, status: int, times: int = 1) -> None:
        """Answer the next ``times`` API requests with ``status`` (``Retry-After`` on 429 and 503)."""
        change = json.dumps({"next": {"status": status, "times": times}}).encode()
        self._call("POST", "/_control/faults", change, "application/json")

    def reset(self) -> None:
        """Empty the store and restore the faults the service started with (done before each test)."""
        self._call("POST", "/_control/reset", b"")


@pytest.fixture(scope="session")
def caliper_service_settings() -> dict[str, Any]:
    """Keyword arguments of the service's Settings; override this fixture to change them."""
    return {}


@pytest.fixture(scope="session")
def _caliper_service_server(
    caliper_service_settings: dict[str, Any], pytestconfig: pytest.Config
) -> Iterator[Background]:
    from caliper_schema.service.settings import missing_extra

    problem = missing_extra()
    if problem is not None:
        pytest.fail(f"the caliper_service fixture: {problem}", pytrace=False)
    from caliper_schema.configuration import ConfigError, load_policy
    from caliper_schema.service.serving import Background
    from caliper_schema.service.settings import Settings
    from caliper_schema.validation.reading import head

    try:
        policy = load_policy(start=pytestconfig.rootpath, read=head)
        settings = Settings(**{"policy": policy, "job_delay": 0.0, **caliper_service_settings})
    except (ConfigError, TypeError, ValueError) as error:
        pytest.fail(f"the caliper_service fixture: {error}", pytrace=False)
    server = Background(settings).start()
    yield server
    server.stop()


@pytest.fixture
def caliper_service(_caliper_service_server: Background) -> CaliperService:
    """The local Caliper service, emptied for this test."""
    settings = _caliper_service_server.settings
    service = CaliperService(
        _caliper_service_server.url, settings.client_id or "pytest", settings.client_secret or "pytest"
    )
    service.reset()
    return service
