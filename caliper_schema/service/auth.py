"""OAuth2 client credentials: the token endpoint's grant, and the bearer check on every API request.

Tokens are signed, not remembered: ``cs1.<claims>.<signature>``, the claims (client id, expiry) in
base64url JSON and the signature an HMAC-SHA256 under a key the store keeps, so a service restarted on
the same ``--db`` still honours the tokens it issued. Written here rather than taken from a JWT library:
nothing outside this service reads the tokens, and the whole scheme is twenty lines of the stdlib.

Tokens are secrets: nothing here logs them, and answers never repeat them.

>>> tokens = Tokens(b"k" * 32, ttl=60)
>>> grant = tokens.issue("my-app", now=1000.0)
>>> grant["token_type"], grant["expires_in"]
('Bearer', 60)
>>> tokens.check(f"Bearer {grant['access_token']}", now=1030.0).client_id
'my-app'
>>> tokens.check(f"Bearer {grant['access_token']}", now=1061.0).reason
'expired'
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import time
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl

PREFIX = "cs1"
MAX_FORM_BYTES = 64 * 1024
"""A token request is a few hundred bytes; a larger body is refused unread."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Verdict:
    """The outcome of a bearer check: the client on success, else why not."""

    client_id: str | None = None
    reason: Literal["missing", "invalid", "expired"] | None = None

    @property
    def ok(self) -> bool:
        """True when the token is valid."""
        return self.reason is None


class GrantError(Exception):
    """A refused token request: RFC 6749 §5.2 ``error`` code, a description, and the HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


class Tokens:
    """Issues and checks bearer tokens signed with ``key``, valid ``ttl`` seconds."""

    def __init__(self, key: bytes, ttl: float) -> None:
        self._key = key
        self.ttl = ttl

    def _sign(self, claims: str) -> str:
        return _b64(hmac.new(self._key, claims.encode("ascii"), hashlib.sha256).digest())

    def issue(self, client_id: str, *, now: float | None = None) -> dict[str, Any]:
        """The token response of RFC 6749 §5.1 for ``client_id``."""
        expiry = (time.time() if now is None else now) + self.ttl
        claims = _b64(json.dumps({"c": client_id, "e": expiry}, separators=(",", ":")).encode())
        token = f"{PREFIX}.{claims}.{self._sign(claims)}"
        return {"access_token": token, "token_type": "Bearer", "expires_in": math.ceil(self.ttl)}

    def check(self, authorization: str | None, *, now: float | None = None) -> Verdict:
        """The verdict on an ``Authorization`` header value."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return Verdict(reason="missing")
        if not token.isascii():
            return Verdict(reason="invalid")  # a header is read as latin-1: not a token of ours
        prefix, _, rest = token.strip().partition(".")
        claims, _, signature = rest.partition(".")
        if prefix != PREFIX or not hmac.compare_digest(self._sign(claims), signature):
            return Verdict(reason="invalid")
        try:
            data = json.loads(_unb64(claims))
            client_id, expiry = str(data["c"]), float(data["e"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            return Verdict(reason="invalid")
        if (time.time() if now is None else now) >= expiry:
            return Verdict(client_id, reason="expired")
        return Verdict(client_id)


def _basic(authorization: str | None) -> tuple[str, str] | None:
    scheme, _, value = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sign, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        raise GrantError("invalid_client", "the Basic credentials are not base64 of id:secret", 401) from None
    return (user, password) if sign else None


def client_of(
    form: bytes, content_type: str, authorization: str | None, *, client_id: str | None, secret: str | None
) -> str:
    """The client a token request authenticates (RFC 6749 §4.4), or a :class:`GrantError`.

    Credentials come from HTTP Basic or from the form's ``client_id``/``client_secret``. With no
    configured ``client_id`` any non-empty id (and any secret) is accepted.

    >>> client_of(b"grant_type=client_credentials&client_id=app&client_secret=s",
    ...           "application/x-www-form-urlencoded", None, client_id=None, secret=None)
    'app'
    """
    if content_type.split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        raise GrantError("invalid_request", "the body must be application/x-www-form-urlencoded")
    try:
        fields = dict(parse_qsl(form.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
    except UnicodeDecodeError:
        raise GrantError("invalid_request", "the body is not UTF-8") from None
    grant = fields.get("grant_type")
    if not grant:
        raise GrantError("invalid_request", "grant_type is missing: send grant_type=client_credentials")
    if grant != "client_credentials":
        raise GrantError("unsupported_grant_type", "only grant_type=client_credentials is supported")
    given = _basic(authorization) or (fields.get("client_id", ""), fields.get("client_secret", ""))
    if not given[0]:
        raise GrantError("invalid_client", "no client_id: send it in the form or as HTTP Basic", 401)
    if client_id is not None and not (
        hmac.compare_digest(given[0].encode(), client_id.encode())
        and hmac.compare_digest(given[1].encode(), (secret or "").encode())
    ):
        raise GrantError("invalid_client", "unknown client_id or wrong client_secret", 401)
    return given[0]
