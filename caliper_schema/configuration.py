"""Project configuration: a ``[tool.caliper-schema]`` table in ``pyproject.toml``, read into a Policy.

```toml
[tool.caliper-schema]
strict = false                                  # certification grade: every warning is an error
best-practice = false                           # the spec's SHOULDs too (bestpractice.*), as warnings
subjects = "v10"                                # the Timeback subject list in force: v6, v9 (default), v10
disable = ["caliper.context-missing"]           # rules to turn off
severity = {"timeback.xp-earned-missing" = "error", "caliper.placeholder" = "off"}
xp-tolerance = 0.25                             # stream.xp-beyond-time: XP beyond active minutes allowed

[tool.caliper-schema.limits]                   # what one document may make the validator do
max-bytes = 16777216                            # a .json file, or one line of a .jsonl file
max-depth = 64                                  # nesting of objects and arrays (at most 200)
max-string = 1048576                            # characters in one string
max-items = 10000                               # events and entities in one envelope
max-issues = 200                                # issues a report shows (the rest counted; all weigh)
```

The command line and the pre-commit hook look for the nearest ``pyproject.toml`` upwards from the working
directory (or read ``--config PATH``: a ``pyproject.toml``, or a file holding the keys at its top level).
An unknown key, a rule id that is not one of this toolkit's, a table under a near name
(``[tool.caliper_schema]``), or a shape TOML allows but this table does not (``tool = "x"``, ``[[tool]]``) is
a :class:`ConfigError` naming the file (and the nearest right name), rather than silently ignored.

Files are read through the ``read`` function the caller gives (the command line gives the validation
wing's bounded reader, :func:`caliper_schema.validation.reading.head`): this module parses and judges
what it is given, so the shared core reads nothing itself and a configuration can never be larger than
:data:`MAX_BYTES` in memory, even when it names a device.

>>> policy_from({"strict": True, "disable": ["caliper.placeholder"]}, "example").severities
{'caliper.placeholder': 'off'}
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from caliper_schema import hints
from caliper_schema.policy import SUBJECT_LISTS, Grade, Limits, Policy, known_rules

TABLE = "caliper-schema"
KEYS = ("strict", "best-practice", "subjects", "disable", "severity", "xp-tolerance", "limits")
LIMITS = {"max-bytes": "max_bytes", "max-depth": "max_depth", "max-string": "max_string",
          "max-items": "max_items", "max-issues": "max_issues"}  # fmt: skip
MAX_BYTES = 1024 * 1024
"""The size of a configuration file, far above any real ``pyproject.toml``."""

Reader = Callable[[Path, int], bytes]
"""Reads a file: ``read(path, limit)`` gives its first ``limit`` + 1 bytes at most, or raises OSError."""


class ConfigError(ValueError):
    """The configuration cannot be used as written."""


__all__ = ["ConfigError", "discover", "known_rules", "load_policy", "policy_from"]


def _unknown(kind: str, name: str, known: tuple[str, ...] | list[str]) -> str:
    close = hints.closest(name, known)
    nearest = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown {kind} {name!r}; {nearest}the {kind}s are {', '.join(known)}"


def _flag(table: dict[str, Any], key: str, where: str, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: {key} is true or false, not {value!r}")
    return value


def policy_from(table: dict[str, Any], where: str, base: Policy | None = None) -> Policy:
    """A Policy from a configuration table (``where`` names it in error messages), over ``base``: what the
    table does not set is ``base``'s.

    >>> policy_from({"xp-tolerance": 0.5}, "here", base=Policy(best_practice=True)).best_practice
    True
    """
    base = base or Policy()
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ConfigError(f"{where}: {_unknown('key', unknown[0], KEYS)}")
    strict = _flag(table, "strict", where, base.strict)
    best_practice = _flag(table, "best-practice", where, base.best_practice)
    subjects = table.get("subjects", base.subjects)
    if subjects not in SUBJECT_LISTS:
        raise ConfigError(f"{where}: subjects is one of {', '.join(SUBJECT_LISTS)}, not {subjects!r}")
    tolerance = table.get("xp-tolerance", base.xp_tolerance)
    if isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or not 0 <= tolerance < 1e9:
        raise ConfigError(
            f"{where}: xp-tolerance is a number >= 0 (0.25: a quarter more XP), not {tolerance!r}"
        )
    disable = table.get("disable", [])
    if not isinstance(disable, list):
        raise ConfigError(f"{where}: disable is a list of rule ids")
    grades = table.get("severity", {})
    if not isinstance(grades, dict):
        raise ConfigError(f'{where}: severity is a table of rule id = "error" | "warning" | "off"')
    for rule, grade in grades.items():
        if grade not in ("error", "warning", "off"):
            raise ConfigError(f"{where}: severity of {rule!r} is error, warning or off, not {grade!r}")
    limits = _limits(table, where, base)
    try:
        return Policy(
            strict=strict, severities=base.severities, subjects=subjects, limits=limits,
            best_practice=best_practice, xp_tolerance=tolerance,
            disable=disable, severity=cast(dict[str, Grade], grades),
        )  # fmt: skip
    except ValueError as error:
        raise ConfigError(f"{where}: {error}") from None


def _limits(table: dict[str, Any], where: str, base: Policy) -> Limits:
    given = table.get("limits", {})
    if not isinstance(given, dict):
        raise ConfigError(f"{where}: limits is a table")
    unknown = sorted(set(given) - set(LIMITS))
    if unknown:
        raise ConfigError(f"{where}: {_unknown('limit', unknown[0], list(LIMITS))}")
    try:
        return replace(base.limits, **{LIMITS[name]: value for name, value in given.items()})
    except ValueError as error:
        raise ConfigError(f"{where}: limits: {error}") from None


def _kind(value: object) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", int: "an integer", float: "a number"}.get(
        type(value), type(value).__name__
    )


def _table(path: Path, read: Reader, *, explicit: bool) -> dict[str, Any] | None:
    try:
        data = read(path, MAX_BYTES)
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror or error}") from None
    if len(data) > MAX_BYTES:
        raise ConfigError(f"{path}: more than {MAX_BYTES:,} bytes, too large for a configuration file")
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    tool = document.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{path}: tool is a table ([tool]), not {_kind(tool)}")
    _near_names(path, tool)
    table = tool.get(TABLE)
    if table is None and explicit and path.name != "pyproject.toml":
        table = document  # a dedicated file holds the keys at its top level
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.{TABLE}] is a table, not {_kind(table)}")
    return table


def _near_names(path: Path, tool: dict[str, Any]) -> None:
    """A ``[tool.X]`` table meant for this one under another spelling (``caliper_schema``, ``Caliper-Schema``,
    ``caliper-shema``) would be silently unused: a ConfigError naming the right one."""

    def folded(name: str) -> str:
        return "".join(char for char in name.casefold() if char.isalnum())

    for name in tool:
        if name != TABLE and difflib.SequenceMatcher(None, folded(name), folded(TABLE)).ratio() >= 0.85:
            raise ConfigError(f"{path}: [tool.{name}] is not read; did you mean [tool.{TABLE}]?")


def discover(start: Path, read: Reader) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start`` that has a ``[tool.caliper-schema]`` table."""
    for folder in [start, *start.parents]:
        candidate = folder / "pyproject.toml"
        try:
            found = candidate.is_file()
        except OSError as error:  # a folder on the way that cannot be searched
            raise ConfigError(f"cannot read {candidate}: {error.strerror or error}") from None
        if found and _table(candidate, read, explicit=False) is not None:
            return candidate
    return None


def load_policy(path: Path | None = None, *, start: Path | None = None, read: Reader) -> Policy:
    """The Policy of ``path``, or of the configuration found from ``start`` (default: no configuration).

    >>> from caliper_schema.validation.reading import head
    >>> load_policy(read=head) == Policy()
    True
    """
    if path is None and start is not None:
        path = discover(start, read)
    if path is None:
        return Policy()
    table = _table(path, read, explicit=True)
    return policy_from(table or {}, f"{path} [tool.{TABLE}]" if path.name == "pyproject.toml" else str(path))
