"""Running the application with uvicorn: in the foreground (``caliper-schema serve``) or in a thread.

The listening socket is bound here, before uvicorn starts, so the address (a free port when 0 is asked
for) is known and printed at once, and a port in use is a clean error rather than a log line.

>>> with Background(Settings(job_delay=0)) as server:
...     server.url.startswith("http://127.0.0.1:")
True
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Protocol

import uvicorn
from starlette.applications import Starlette

from caliper_schema.service.app import create_app
from caliper_schema.service.settings import Settings


class Writer(Protocol):
    """Where the banner goes: a text stream, or the command line's guarded output."""

    def write(self, text: str, /) -> object: ...

    def flush(self) -> object: ...


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (0: a free port). Raises :class:`OSError`."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
    # without it every answer waits out the peer's delayed ACK (40 ms a request on Linux).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


def url_of(sock: socket.socket) -> str:
    """The base URL a bound socket answers at."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _server(app: Starlette, *, quiet: bool) -> uvicorn.Server:
    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        app.state.service.store.close()

    app.router.lifespan_context = lifespan
    config = uvicorn.Config(
        app, lifespan="on", proxy_headers=False, server_header=False, access_log=not quiet,
        log_level="warning" if quiet else "info", timeout_graceful_shutdown=5,
    )  # fmt: skip
    return uvicorn.Server(config)


def banner(url: str, settings: Settings) -> str:
    """What ``caliper-schema serve`` prints when it starts (never a secret)."""
    auth = "off (--no-auth)" if not settings.auth else "any client id and secret"
    if settings.auth and settings.client_id is not None:
        auth = f"client id {settings.client_id!r} and its secret"
    store = str(settings.db) if settings.db is not None else "in memory (--db PATH to keep it)"
    return (
        f"caliper-schema serve: the local Timeback Caliper service at {url}\n"
        f"  page    {url}/  (the envelopes received, no token needed)\n"
        f"  token   POST {url}/oauth2/token  (client credentials: {auth})\n"
        "  API     POST /caliper/event, /caliper/event/validate;"
        " GET /caliper/events, /caliper/events/{externalId}, /jobs/{jobId}/status\n"
        f"  store   {store}\n"
        "Press Ctrl+C to stop.\n"
    )


class Foreground:
    """``caliper-schema serve``: the store opened and the address listened on when this is made, so that
    either failing is an error before anything is announced; then :meth:`run` until interrupted.

    Raises :class:`~caliper_schema.service.storage.StoreError` (the ``db`` file cannot be the store) or
    :class:`OSError` (nothing can listen on ``host``:``port``).
    """

    def __init__(self, settings: Settings, host: str, port: int) -> None:
        self.settings = settings
        # The address first: a port in use then leaves no new store file behind.
        self.sock = bind(host, port)
        try:
            self.app = create_app(settings)  # opens the store
        except BaseException:
            self.sock.close()
            raise

    def run(self, out: Writer) -> None:
        """Announce where the service listens, then serve until interrupted."""
        out.write(banner(url_of(self.sock), self.settings))
        out.flush()
        _server(self.app, quiet=False).run(sockets=[self.sock])


class Background:
    """The service in a daemon thread of this process, on a free loopback port (the pytest fixture's)."""

    def __init__(self, settings: Settings, host: str = "127.0.0.1") -> None:
        self.settings = settings
        self._sock = bind(host, 0)
        self.url = url_of(self._sock)
        self.app = create_app(settings)
        self._server = _server(self.app, quiet=True)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name="caliper-service", daemon=True
        )

    def start(self, timeout: float = 30.0) -> Background:
        """Start serving; returns once the server accepts requests."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not self._server.started:
            raise RuntimeError("the local Caliper service did not start")
        return self

    def stop(self) -> None:
        """Stop serving and close the store."""
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> Background:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()
