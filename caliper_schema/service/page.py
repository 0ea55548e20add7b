"""The developer's page at ``/``: the envelopes received, newest first, each opening to its issues.

Server-rendered with Jinja2 from the templates shipped in the package (``service/templates``); the page
loads no external asset and needs no JavaScript (an envelope opens as an HTML ``<details>``). Beside the
issues (pointer, rule, message, hint) is the payload with the offending lines marked: as sent when it
was written on several lines, else (an app's one-line JSON) indented, with each issue found again in the
indented text by its JSON Pointer.

>>> view = payload_view(b'{"a": 1, "b": 2}', [{"pointer": "/b", "severity": "error", "rule": "r"}])
>>> [(line.number, line.text, line.severity) for line in view.lines if line.severity]
[(3, '  "b": 2', 'error')]
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jinja2

from caliper_schema.locating import Finder
from caliper_schema.service.jobs import iso
from caliper_schema.service.receiving import Across
from caliper_schema.service.storage import Envelope

MAX_LINES = 2000
"""Payload lines shown; a longer payload is cut, with a note (its issues are all listed)."""
MAX_FINDINGS = 200
"""Findings across envelopes shown; the rest are counted (``GET /_control/stream`` has them all)."""
PAGE_SIZE = 25
VERDICTS = {"valid": "success", "invalid": "error"}


@dataclass
class Line:
    """One payload line, with the worst severity and the rules of the issues on it."""

    number: int
    text: str
    severity: str | None = None
    rules: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PayloadView:
    """A payload as the page shows it."""

    lines: list[Line]
    cut: int
    """Lines not shown."""
    reformatted: bool
    issue_lines: dict[int, int]
    """Where each issue (by its index in errors + warnings) is in the shown text."""


def _pretty(text: str) -> str | None:
    if "\n" in text.strip():
        return None  # written on several lines: shown as sent, where the report's lines and columns point
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return None


def payload_view(body: bytes, issues: Sequence[Mapping[str, Any]]) -> PayloadView:
    """The payload's lines, with each issue's line marked."""
    text = body.decode("utf-8", errors="replace")
    pretty = _pretty(text)
    finder = Finder(pretty) if pretty is not None else None
    shown = pretty if pretty is not None else text.removesuffix("\n")
    where: dict[int, int] = {}
    for index, issue in enumerate(issues):
        found = finder.locate(issue["pointer"]) if finder is not None else None
        line = found[0] if found is not None else issue.get("line")
        if isinstance(line, int):
            where[index] = line
    lines = [Line(number, content) for number, content in enumerate(shown.split("\n")[:MAX_LINES], 1)]
    for index, number in where.items():
        if 1 <= number <= len(lines):
            line, issue = lines[number - 1], issues[index]
            line.rules.append(issue["rule"])
            if line.severity != "error":
                line.severity = issue["severity"]
    return PayloadView(lines, max(0, shown.count("\n") + 1 - MAX_LINES), pretty is not None, where)


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("caliper_schema.service", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(
    envelopes: Sequence[Envelope],
    *,
    total: int,
    states: Mapping[int, str],
    query: Mapping[str, str],
    page: int,
    opened: int | None,
    about: Mapping[str, Any],
    stream: Across | None = None,
    pages: Mapping[int, int] | None = None,
) -> str:
    """The page's HTML for one page of envelopes, and the findings across every envelope accepted
    (``pages``: the page each envelope they name is on)."""
    rows = []
    for envelope in envelopes:
        issues = [*envelope.report["errors"], *envelope.report["warnings"]]
        rows.append({
            "envelope": envelope, "received": iso(envelope.received_at).replace("T", " "),
            "state": states.get(envelope.job_id) if envelope.job_id is not None else None,
            "issues": issues, "open": envelope.id == opened, "view": payload_view(envelope.body, issues),
        })  # fmt: skip
    count = max(1, -(-total // PAGE_SIZE))

    def link(**changes: Any) -> str:
        merged = {**{key: value for key, value in query.items() if value}, **changes}
        return "?" + urlencode({key: value for key, value in merged.items() if value not in (None, "")})

    return (
        _environment()
        .get_template("page.html")
        .render(
            rows=rows,
            total=total,
            page=page,
            pages=count,
            query=query,
            link=link,
            about=about,
            stream=stream,
            shown=stream.findings[:MAX_FINDINGS] if stream else (),
            on_page=pages or {},
        )
    )
