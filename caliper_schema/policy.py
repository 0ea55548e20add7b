"""The policy a report is judged by: strictness, rules turned off or re-graded, the subject list.

A :class:`Policy` is plain data a project can commit (``[tool.caliper-schema]`` in ``pyproject.toml``, read
by :mod:`~caliper_schema.configuration`). The validator finds issues at their default severity; the policy
decides what each one weighs.

>>> from caliper_schema.reporting import Issue
>>> issue = Issue("/object/subject", "timeback.subject", "warning", "is not in the subject list")
>>> Policy(strict=True).judge([issue])[0].severity
'error'
>>> Policy(severities={"timeback.subject": "off"}).judge([issue])
[]
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from caliper_schema.reporting import Issue

Grade = Literal["error", "warning", "off"]
SUBJECT_LISTS = ("v6", "v9", "v10")
"""The Timeback subject lists in circulation: the OpenAPI copy's 6, the 2025-09 spec's 9, the SDKs' 10."""
DEEPEST = 200
"""The highest ``max_depth`` allowed: the parsers and validators under the pipeline recurse in C (orjson
writes at most 254 levels, Python's own parser stops near its recursion limit), and every document is
checked to be within this depth before any of them sees it."""
UNREAD = ("json.", "limit.", "document.")
"""Families of rules whose error means a document, or an item of an envelope, was not read further: turned
off or lowered to a warning, they would let it pass unchecked, so a policy cannot weaken them (``json.bom``
alone is a plain warning about a document read in full)."""


@dataclass(frozen=True)
class Limits:
    """Bounds on what one document may make the validator do; beyond them it says so and stops.

    The defaults are far above any real Caliper payload (a Timeback event is about 1 KB, 6 levels deep)
    and low enough that a hostile file is answered in seconds and bounded memory.
    """

    max_bytes: int = 16 * 1024 * 1024
    """The size of one document (a whole .json file, or one line of a .jsonl file)."""
    max_depth: int = 64
    """How deeply objects and arrays may nest."""
    max_string: int = 1024 * 1024
    """The length of one string, in characters."""
    max_items: int = 10_000
    """The number of events and entities in one envelope's data."""
    max_issues: int = 200
    """Issues shown per report (one document, or one file of JSON Lines), errors first; the rest are
    counted in one closing issue, and still weigh in the verdict."""

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} is a whole number >= 1, not {value!r}")
        if self.max_depth > DEEPEST:
            raise ValueError(f"max_depth is at most {DEEPEST}, not {self.max_depth!r}")


@functools.cache
def known_rules() -> frozenset[str]:
    """Every rule id a policy can name (parse, dispatch, ``schema.<keyword>``, the schemas' ``x-rule`` and
    ``x-lint`` ids, the rule layer's), as the validation pipeline lists them."""
    from caliper_schema.validation.pipeline import rule_ids  # the one place that knows them all

    return rule_ids()


def check_rule(rule: object) -> str:
    """``rule`` when it is a rule id some issue can carry; else a ValueError naming the nearest one.

    >>> check_rule("caliper.uuid")
    'caliper.uuid'
    >>> check_rule("caliper.uid")
    Traceback (most recent call last):
    ValueError: unknown rule 'caliper.uid'; did you mean 'caliper.uuid'?
    """
    if not isinstance(rule, str):
        raise ValueError(f"a rule id is a string, not {rule!r}")
    if rule in known_rules():
        return rule
    close = difflib.get_close_matches(rule, sorted(known_rules()), n=1)
    raise ValueError(f"unknown rule {rule!r}" + (f"; did you mean {close[0]!r}?" if close else ""))


@dataclass(frozen=True, init=False)
class Policy:
    """How issues are weighed; the keywords are the configuration's (``[tool.caliper-schema]``).

    ``strict`` makes every warning an error (certification grade); ``disable`` turns rules off by id and
    ``severity`` re-grades them (``"error"``, ``"warning"`` or ``"off"``), winning over ``strict``;
    ``subjects`` picks the Timeback subject list; ``limits`` bounds the work one document can cause;
    ``best_practice`` runs the rules of the spec's SHOULDs (``bestpractice.*``, warnings), which
    ``strict`` alone does not; ``xp_tolerance`` is how far a run's XP may exceed its active minutes. A
    rule id no issue can carry is a ValueError (naming the nearest one), not a setting silently unused.

    ``severities=`` (the grades as one mapping, what :attr:`severities` holds) is still taken, under
    ``disable`` and ``severity``.

    >>> Policy(disable=["caliper.placeholder"], severity={"timeback.subject": "error"}).severities
    {'caliper.placeholder': 'off', 'timeback.subject': 'error'}
    """

    strict: bool = False
    severities: Mapping[str, Grade] = field(default_factory=dict)
    """Every rule re-graded, by id: ``disable`` and ``severity`` together."""
    subjects: str = "v9"
    limits: Limits = field(default_factory=Limits)
    best_practice: bool = False
    xp_tolerance: float = 0.25
    """How far a run's xpEarned may exceed its active minutes before ``stream.xp-beyond-time`` (0.25: a
    quarter more, plus one XP for rounding)."""

    def __init__(
        self,
        strict: bool = False,
        severities: Mapping[str, Grade] | None = None,
        subjects: str = "v9",
        limits: Limits | None = None,
        best_practice: bool = False,
        xp_tolerance: float = 0.25,
        *,
        disable: Iterable[str] = (),
        severity: Mapping[str, Grade] | None = None,
    ) -> None:
        if isinstance(disable, str):  # a lone rule id would be read as its letters
            raise ValueError(f"disable is a list of rule ids, not the string {disable!r}")
        grades: dict[str, Grade] = dict(severities or {})
        grades.update(dict.fromkeys(disable, "off"))
        grades.update(severity or {})
        for name, value in (
            ("strict", strict), ("severities", grades), ("subjects", subjects),
            ("limits", limits if limits is not None else Limits()), ("best_practice", best_practice),
            ("xp_tolerance", xp_tolerance),
        ):  # fmt: skip
            object.__setattr__(self, name, value)
        self._check()

    @property
    def disable(self) -> tuple[str, ...]:
        """The rules turned off."""
        return tuple(rule for rule, grade in self.severities.items() if grade == "off")

    @property
    def severity(self) -> Mapping[str, Grade]:
        """The grade of every rule re-graded or turned off (the same mapping as :attr:`severities`)."""
        return self.severities

    def _check(self) -> None:
        for name in ("strict", "best_practice"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} is True or False, not {getattr(self, name)!r}")
        tolerance = self.xp_tolerance
        if isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or not 0 <= tolerance < 1e9:
            raise ValueError(f"xp_tolerance is a number >= 0, not {self.xp_tolerance!r}")
        if self.subjects not in SUBJECT_LISTS:
            raise ValueError(f"subjects must be one of {', '.join(SUBJECT_LISTS)}, not {self.subjects!r}")
        if not isinstance(self.limits, Limits):
            raise ValueError(f"limits is a Limits, not {self.limits!r}")
        for rule, grade in self.severities.items():
            check_rule(rule)
            if grade not in ("error", "warning", "off"):
                raise ValueError(f"severity of {rule} must be error, warning or off, not {grade!r}")
            if grade != "error" and rule.startswith(UNREAD) and rule != "json.bom":
                raise ValueError(
                    f"{rule} cannot be turned off or lowered: what it rejects is not read any further,"
                    " so it would pass unchecked"
                )

    def judge(self, issues: Iterable[Issue]) -> list[Issue]:
        """The issues as this policy weighs them (re-graded, escalated, or dropped)."""
        return [judged for judged in map(self.weigh, issues) if judged is not None]

    def weigh(self, issue: Issue) -> Issue | None:
        """One issue as this policy weighs it: re-graded, escalated, or None when it is turned off."""
        grade = self.severities.get(issue.rule)
        if grade == "off":
            return None
        if grade is not None:
            return issue if issue.severity == grade else replace(issue, severity=grade)
        return issue.escalated() if self.strict else issue


DEFAULT = Policy()
