"""Issues and reports: what the validator says about a payload.

An :class:`Issue` is data, in the manner of jsonschema's errors: a JSON Pointer into the payload, a stable
rule id, a severity, a message, and where it helps a hint and a line and column. A :class:`Report` gathers
the issues of one payload (or one file) and answers the question a sender asks: will it be accepted?

>>> report = Report.from_issues([Issue("/sendTime", "schema.format", "error", "is not a date-time")])
>>> report.status, len(report.errors)
('error', 1)
>>> report.to_response()["status"]
'error'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding about a payload.

    ``pointer`` is an RFC 6901 JSON Pointer to the offending value (or to where a missing property
    belongs); ``rule`` is a stable id such as ``schema.required`` or ``timeback.xp-earned-missing``.

    >>> Issue("/data/0/actor/id", "schema.format", "error", "is not a valid IRI").to_dict()["pointer"]
    '/data/0/actor/id'
    """

    pointer: str
    rule: str
    severity: Severity
    message: str
    hint: str | None = None
    line: int | None = None
    column: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form used by ``--format json`` and ``Report.to_response()``; absent fields are omitted."""
        out: dict[str, Any] = {
            "pointer": self.pointer,
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
        }
        for key in ("hint", "line", "column"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    def escalated(self) -> Issue:
        """This issue as an error: what ``strict`` does to warnings."""
        return self if self.severity == "error" else replace(self, severity="error")


def counted(n: int, word: str) -> str:
    """``n`` and ``word``, in the plural unless ``n`` is 1.

    >>> counted(1, "error"), counted(0, "warning")
    ('1 error', '0 warnings')
    """
    return f"{n} {word}{'' if n == 1 else 's'}"


@dataclass(frozen=True, slots=True)
class Report:
    """The verdict on one payload: ``status`` is ``"success"`` when there is no error (warnings allowed).

    >>> Report.from_issues([]).to_response()
    {'status': 'success', 'message': 'The payload is valid.', 'errors': None}
    """

    errors: tuple[Issue, ...] = ()
    warnings: tuple[Issue, ...] = ()
    documents: int = 1

    @classmethod
    def from_issues(cls, issues: Iterable[Issue], *, documents: int = 1) -> Report:
        """Sort issues, as a :class:`~caliper_schema.policy.Policy` weighed them, into errors and warnings."""
        errors: list[Issue] = []
        warnings: list[Issue] = []
        for issue in issues:
            (errors if issue.severity == "error" else warnings).append(issue)
        return cls(tuple(errors), tuple(warnings), documents)

    @property
    def ok(self) -> bool:
        """True when the payload has no error."""
        return not self.errors

    @property
    def status(self) -> Literal["success", "error"]:
        """``"success"`` or ``"error"``, as the Timeback validate endpoint says it."""
        return "success" if self.ok else "error"

    @property
    def issues(self) -> tuple[Issue, ...]:
        """Errors then warnings."""
        return self.errors + self.warnings

    @property
    def message(self) -> str:
        """A one-line human summary."""
        if self.ok:
            tail = f" ({counted(len(self.warnings), 'warning')})" if self.warnings else ""
            return f"The payload is valid{tail}."
        tail = f" and {counted(len(self.warnings), 'warning')}" if self.warnings else ""
        return f"The payload is invalid: {counted(len(self.errors), 'error')}{tail}."

    def to_response(self) -> dict[str, Any]:
        """Exactly the body of ``POST /caliper/event/validate``: ``{"status", "message", "errors"}``.

        ``errors`` is ``null`` on success, as in the service's documented 200 response.
        """
        errors = [issue.to_dict() for issue in self.errors] if self.errors else None
        return {"status": self.status, "message": self.message, "errors": errors}

    def to_dict(self) -> dict[str, Any]:
        """The report with its warnings: the per-file object of ``--format json`` without the path."""
        return {
            "status": self.status,
            "errors": [issue.to_dict() for issue in self.errors],
            "warnings": [issue.to_dict() for issue in self.warnings],
        }
