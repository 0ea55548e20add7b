"""The ASGI application (Starlette): the service's routes, each a thin handler over the modules before it.

The API, with the Timeback Caliper service's paths and bodies (``shared/reference``: facts §1 and §5,
``caliper-api.yaml``, ``timeback-events-api.yaml``), each behind a bearer token and the injected faults:

- ``POST /caliper/event``: the validator's verdict; valid → stored, queued, ``{status, message, jobId}``;
- ``POST /caliper/event/validate``: the same verdict, nothing stored;
- ``GET /jobs/{jobId}/status``, ``GET /caliper/events`` (filters, pagination), ``GET /caliper/events/{id}``;

and, without a token: ``POST /oauth2/token`` (client credentials), the page at ``/``, and the control
endpoints under ``/_control/`` that tests use (reset, faults, everything received, and the stream rules'
findings across it: ``GET /_control/stream``).

>>> app = create_app(Settings())
>>> sorted(route.path for route in app.routes)[:3]
['/', '/_control/envelopes', '/_control/events']
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from caliper_schema.reporting import Issue, Report, counted
from caliper_schema.service import page
from caliper_schema.service.auth import MAX_FORM_BYTES, GrantError, Tokens, client_of
from caliper_schema.service.faults import Faults
from caliper_schema.service.receiving import (
    Across,
    TooLarge,
    across,
    events_of,
    judge,
    read_bounded,
    refused_for_size,
)
from caliper_schema.service.settings import Settings
from caliper_schema.service.storage import Filters, Store, epoch

Handler = Callable[[Request], Awaitable[Response]]
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
THREADED_BYTES = 256 * 1024
"""Bodies this large are validated in a worker thread, so that the page and small requests still answer."""

EXPIRED = "The incoming token has expired"
UNAUTHORIZED = {
    "missing": "Unauthorized: send Authorization: Bearer <token>, from POST /oauth2/token",
    "invalid": "Unauthorized: the bearer token is not one this service issued",
    "expired": EXPIRED,
}


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"status": "error", "message": message, "errors": None}, status, headers)


class Service:
    """The state of one running service: settings, store, tokens, faults."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings.db)
        self.tokens = Tokens(self.store.signing_key(), settings.token_ttl)
        self.faults = Faults(
            settings.faults,
            latency_ms=settings.latency_ms,
            seed=settings.seed,
            retry_after=settings.retry_after,
        )
        self._resets = 0
        self._across: tuple[tuple[int, int, int], Across] | None = None

    def across(self) -> Across:
        """The stream rules' findings over every envelope accepted so far (computed again only when an
        envelope has come in, or the store was emptied, since the last time)."""
        state = (self._resets, *self.store.state())
        if self._across is None or self._across[0] != state:
            self._across = (state, across(self.store.accepted(), self.settings.policy))
        return self._across[1]

    # -- the gate every API request passes: latency, an injected fault, the bearer token ---------------

    def api(self, handler: Handler) -> Handler:
        """``handler`` behind the latency, the faults and the bearer check."""

        async def gated(request: Request) -> Response:
            if self.faults.latency_ms:
                await asyncio.sleep(self.faults.latency_ms / 1000)
            fault = self.faults.draw()
            if fault is not None:
                return JSONResponse(fault.body(), fault.status, fault.headers)
            if self.settings.auth:
                verdict = self.tokens.check(request.headers.get("authorization"))
                if not verdict.ok:
                    challenge = 'Bearer realm="caliper"'
                    if verdict.reason != "missing":
                        description = "The access token expired" if verdict.reason == "expired" else "invalid"
                        challenge += f', error="invalid_token", error_description="{description}"'
                    reason = verdict.reason or "invalid"
                    return _error(401, UNAUTHORIZED[reason], {"WWW-Authenticate": challenge})
                request.state.client_id = verdict.client_id
            else:
                request.state.client_id = None
            return await handler(request)

        return gated

    # -- the token endpoint ----------------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        """``POST /oauth2/token``: client credentials → a bearer token (RFC 6749 §4.4)."""
        try:
            form = await read_bounded(request.stream(), MAX_FORM_BYTES, _declared(request))
            client = client_of(
                form, request.headers.get("content-type", ""), request.headers.get("authorization"),
                client_id=self.settings.client_id, secret=self.settings.client_secret,
            )  # fmt: skip
        except TooLarge:
            return JSONResponse(
                {"error": "invalid_request", "error_description": "the body is too large"}, 413
            )
        except GrantError as refused:
            headers = {"WWW-Authenticate": 'Basic realm="caliper"'} if refused.status == 401 else None
            body = {"error": refused.error, "error_description": refused.description}
            return JSONResponse(body, refused.status, headers)
        return JSONResponse(
            self.tokens.issue(client), headers={"Cache-Control": "no-store", "Pragma": "no-cache"}
        )

    # -- the event endpoints ---------------------------------------------------------------------------

    async def _received(self, request: Request) -> tuple[bytes, Any] | Response:
        policy = self.settings.policy
        try:
            body = await read_bounded(request.stream(), policy.limits.max_bytes, _declared(request))
        except TooLarge as refused:
            return JSONResponse(refused_for_size(refused.size, policy).to_response(), 413)
        if len(body) >= THREADED_BYTES:
            return body, await run_in_threadpool(judge, body, policy)
        return body, judge(body, policy)

    async def send(self, request: Request) -> Response:
        """``POST /caliper/event``: validate; when valid, store the envelope's events and queue a job."""
        received = await self._received(request)
        if isinstance(received, Response):
            return received
        body, verdict = received
        report: Report = verdict.report
        now = time.time()
        common = {
            "received_at": now, "client_id": request.state.client_id, "sensor": verdict.sensor,
            "status": report.status, "report": report.to_dict(), "body": body, "actors": verdict.actors,
        }  # fmt: skip
        if not report.ok:
            self.store.add(**common)
            return JSONResponse(report.to_response(), 400)
        due = now + self.settings.job_delay
        events = events_of(verdict.value)
        _, job_id = self.store.add(
            **common,
            job=(due, self.faults.job_fails()),
            events=events,
            send_time=verdict.value.get("sendTime"),
        )
        return JSONResponse({**report.to_response(), "jobId": str(job_id)})

    async def validate(self, request: Request) -> Response:
        """``POST /caliper/event/validate``: the verdict alone; nothing is stored."""
        received = await self._received(request)
        if isinstance(received, Response):
            return received
        report: Report = received[1].report
        return JSONResponse(report.to_response(), 200 if report.ok else 400)

    async def job(self, request: Request) -> Response:
        """``GET /jobs/{jobId}/status``."""
        job_id = request.path_params["job_id"]
        job = self.store.job(int(job_id)) if job_id.isdigit() and len(job_id) < 19 else None
        if job is None:
            return _error(404, f"Job {job_id} not found")
        return JSONResponse(job.to_response(time.time()))

    async def events(self, request: Request) -> Response:
        """``GET /caliper/events``: stored events, filtered, a page at a time."""
        parsed = _list_query(request.query_params)
        if isinstance(parsed, Report):
            body = {
                **parsed.to_response(),
                "message": f"The query is invalid: {counted(len(parsed.errors), 'error')}.",
            }
            return JSONResponse(body, 400)
        filters, limit, offset = parsed
        events, total = self.store.events(filters, now=time.time(), limit=limit, offset=offset)
        pagination = {
            "total": total, "totalPages": math.ceil(total / limit), "currentPage": offset // limit + 1,
            "limit": limit,
        }  # fmt: skip
        message = f"{len(events)} of {total} events"
        return JSONResponse(
            {"status": "success", "message": message, "events": events, "pagination": pagination}
        )

    async def event(self, request: Request) -> Response:
        """``GET /caliper/events/{externalId}``."""
        external_id = request.path_params["external_id"]
        event = self.store.event(external_id, now=time.time())
        if event is None:
            return _error(404, f"Event {external_id} not found")
        return JSONResponse({"event": event})

    # -- the page and the control endpoints (no token: loopback, for the developer and the tests) ------

    async def page(self, request: Request) -> Response:
        """``GET /``: the envelopes received, newest first."""
        query = request.query_params
        verdict = query.get("verdict", "")
        actor = query.get("actor", "")[:200]
        number = int(query["page"]) if query.get("page", "").isdigit() and len(query["page"]) < 7 else 1
        envelopes, total = self.store.envelopes(
            status=page.VERDICTS.get(verdict), actor=actor or None, limit=page.PAGE_SIZE,
            offset=(max(1, number) - 1) * page.PAGE_SIZE,
        )  # fmt: skip
        opened = query.get("open", "")
        job_ids = [envelope.job_id for envelope in envelopes if envelope.job_id is not None]
        newest = envelopes[0].id if envelopes else None
        stream = await run_in_threadpool(self.across)
        shown = {finding["envelope"] for finding in stream.findings[: page.MAX_FINDINGS]}
        pages = {envelope: self.store.newer_than(envelope) // page.PAGE_SIZE + 1 for envelope in shown}
        html = page.render(
            envelopes, total=total, states=self.store.job_states(job_ids, time.time()),
            query={"verdict": verdict if verdict in page.VERDICTS else "", "actor": actor},
            page=max(1, number), about=self.about(request),
            opened=int(opened) if opened.isdigit() and len(opened) < 19 else newest,
            stream=stream, pages=pages,
        )  # fmt: skip
        return HTMLResponse(html)

    def about(self, request: Request) -> dict[str, Any]:
        """What the page's header says about this service."""
        settings, faults = self.settings, self.faults
        policy = settings.policy
        described = (
            ", ".join(f"{key}={rate:g}" for key, rate in sorted(faults.rates.items()) if rate) or "none"
        )
        if faults.latency_ms:
            described += f"; latency {faults.latency_ms:g} ms"
        auth = "off" if not settings.auth else ("any client" if settings.client_id is None else "one client")
        return {
            "url": str(request.base_url).rstrip("/"), "auth": auth, "faults": described,
            "policy": ("strict" if policy.strict else "default") + f", subjects {policy.subjects}",
            "job_delay": f"{settings.job_delay:g} s",
            "storage": str(settings.db) if settings.db else "in memory",
        }  # fmt: skip

    async def reset(self, request: Request) -> Response:
        """``POST /_control/reset``: empty the store and restore the faults the service started with."""
        self.store.reset()
        self._resets += 1
        self.faults.reset(self.settings.faults, self.settings.latency_ms)
        return JSONResponse({"status": "success", "message": "The store is empty."})

    async def control_faults(self, request: Request) -> Response:
        """``GET``/``POST``/``DELETE /_control/faults``: the faults, changed at run time.

        POST ``{"next": {"status": 503, "times": 2}}`` forces failures; ``{"rates": {"429": 0.1},
        "latency": 50}`` sets rates and latency; DELETE turns every fault off.
        """
        try:
            if request.method == "DELETE":
                self.faults.reset({}, 0.0)
            elif request.method == "POST":
                self._change_faults(json.loads(await read_bounded(request.stream(), MAX_FORM_BYTES) or b"{}"))
        except (ValueError, TypeError, KeyError, AttributeError, TooLarge) as error:
            return _error(400, f"cannot change the faults: {error}")
        faults = self.faults
        return JSONResponse({"rates": faults.rates, "latency": faults.latency_ms, "next": faults.pending()})

    def _change_faults(self, change: dict[str, Any]) -> None:
        if not isinstance(change, dict):
            raise TypeError("the body is a JSON object")
        if "rates" in change or "latency" in change:
            rates = change.get("rates", self.faults.rates)
            self.faults.configure(rates, latency_ms=change.get("latency"))
        forced = change.get("next")
        for one in [forced] if isinstance(forced, dict) else forced or []:
            self.faults.fail_next(int(one["status"]), int(one.get("times", 1)))

    async def control_events(self, request: Request) -> Response:
        """``GET /_control/events``: every stored event, whatever its job's state, oldest first."""
        return JSONResponse({"events": self.store.all_events()})

    async def control_stream(self, request: Request) -> Response:
        """``GET /_control/stream``: the stream rules (``stream.*``) over every envelope accepted, oldest
        first: ids used twice, heartbeat windows that overlap or repeat, XP beyond the time, ..."""
        return JSONResponse((await run_in_threadpool(self.across)).to_response())

    async def control_envelopes(self, request: Request) -> Response:
        """``GET /_control/envelopes``: every envelope received by ``POST /caliper/event``, oldest first."""
        envelopes, _ = self.store.envelopes()
        states = self.store.job_states([e.job_id for e in envelopes if e.job_id is not None], time.time())
        entries = [e.to_dict(states.get(e.job_id) if e.job_id else None) for e in reversed(envelopes)]
        return JSONResponse({"envelopes": entries})


def _declared(request: Request) -> int | None:
    length = request.headers.get("content-length", "")
    return int(length) if length.isdigit() and len(length) < 19 else None


def _list_query(query: Any) -> tuple[Filters, int, int] | Report:
    """The list endpoint's query, or the issues that make it unusable. An empty value (``?sensor=``, as URL
    builders write an unset field) is no filter."""
    issues: list[Issue] = []
    query = {name: value for name, value in query.items() if value != ""}

    def whole(name: str, default: int, low: int, high: int) -> int:
        text = query.get(name)
        if text is None:
            return default
        if text.strip().isdigit() and len(text.strip()) < 10 and low <= int(text) <= high:
            return int(text)
        issues.append(Issue(f"/{name}", "request.query", "error",
                            f"{name} is a whole number from {low} to {high}, not {text!r}"))  # fmt: skip
        return default

    def moment(name: str) -> float | None:
        text = query.get(name)
        if text is None:
            return None
        found = epoch(text)
        if found is None:
            message = f"{name} is an ISO 8601 date-time (2025-07-23T00:10:22.328Z), not {text!r}"
            issues.append(Issue(f"/{name}", "request.query", "error", message))
        return found

    limit = whole("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = whole("offset", 0, 0, 10**9)
    filters = Filters(
        sensor=query.get("sensor"), start=moment("startDate"), end=moment("endDate"),
        actor_id=query.get("actorId"), actor_email=query.get("actorEmail"),
    )  # fmt: skip
    if issues:
        return Report.from_issues(issues)
    return filters, limit, offset


async def _http_error(request: Request, error: Exception) -> Response:
    """Unknown paths and methods answer in the service's error shape, not plain text."""
    assert isinstance(error, HTTPException)
    return _error(error.status_code, error.detail, error.headers)


def create_app(settings: Settings) -> Starlette:
    """The service's ASGI application, with its own store (closed when the app shuts down)."""
    service = Service(settings)
    api = service.api
    routes = [
        Route("/", service.page, methods=["GET"]),
        Route("/oauth2/token", service.token, methods=["POST"]),
        Route("/caliper/event", api(service.send), methods=["POST"]),
        Route("/caliper/event/validate", api(service.validate), methods=["POST"]),
        Route("/caliper/events", api(service.events), methods=["GET"]),
        Route("/caliper/events/{external_id:path}", api(service.event), methods=["GET"]),
        Route("/jobs/{job_id}/status", api(service.job), methods=["GET"]),
        Route("/_control/reset", service.reset, methods=["POST"]),
        Route("/_control/faults", service.control_faults, methods=["GET", "POST", "DELETE"]),
        Route("/_control/events", service.control_events, methods=["GET"]),
        Route("/_control/envelopes", service.control_envelopes, methods=["GET"]),
        Route("/_control/stream", service.control_stream, methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    app.state.service = service
    return app
