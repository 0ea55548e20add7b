"""Project configuration: a ``[tool.caliper-schema]`` table in ``pyproject.toml``, read into a Policy.

```toml
[tool.caliper-schema]
strict = false                                  # certification grade: every warning is an error
subjects = "v10"                                # the Timeback subject list in force: v6, v9 (default), v10
disable = ["caliper.context-missing"]           # rules to turn off
severity = {"timeback.xp-earned-missing" = "error", "caliper.placeholder" = "off"}

[tool.caliper-schema.limits]                   # what one document may make the validator do
max-bytes = 16777216                            # a .json file, or one line of a .jsonl file
max-depth = 64                                  # nesting of objects and arrays
max-string = 1048576                            # characters in one string
max-items = 10000                               # events and entities in one envelope
max-issues = 200                                # issues reported per document (the rest are counted)
```

The command line and the pre-commit hook look for the nearest ``pyproject.toml`` upwards from the working
directory (or read ``--config PATH``: a ``pyproject.toml``, or a file holding the keys at its top level).
An unknown key, or a rule id that is not one of this toolkit's, is an error rather than silently ignored.

>>> policy_from({"strict": True, "disable": ["caliper.placeholder"]}, "example").severities
{'caliper.placeholder': 'off'}
"""

from __future__ import annotations

import difflib
import functools
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from caliper_schema.locating import walk
from caliper_schema.policy import SUBJECT_LISTS, Grade, Limits, Policy

TABLE = "caliper-schema"
KEYS = ("strict", "subjects", "disable", "severity", "limits")
LIMITS = {"max-bytes": "max_bytes", "max-depth": "max_depth", "max-string": "max_string",
          "max-items": "max_items", "max-issues": "max_issues"}  # fmt: skip
_RULE_FAMILIES = ("json.", "document.", "schema.", "io.")  # parse, dispatch, schema keyword and I/O issues


class ConfigError(ValueError):
    """The configuration cannot be used as written."""


@functools.cache
def known_rules() -> frozenset[str]:
    """Every named rule id: the rule layer's, and the ``x-rule``/``x-lint`` ids the schemas carry."""
    from caliper_schema.registry import load
    from caliper_schema.validation.rules import RULES

    names = set(RULES)
    for _, node in walk(list(load().schemas.values())):
        if isinstance(node, dict):
            if isinstance(node.get("x-rule"), str):
                names.add(node["x-rule"])
            names.update(entry["rule"] for entry in node.get("x-lint", []))
    return frozenset(names)


def _check_rule(rule: object, where: str) -> str:
    if not isinstance(rule, str):
        raise ConfigError(f"{where}: a rule id is a string, not {rule!r}")
    if rule in known_rules() or rule.startswith(_RULE_FAMILIES):
        return rule
    close = difflib.get_close_matches(rule, sorted(known_rules()), n=1)
    raise ConfigError(f"{where}: unknown rule {rule!r}" + (f"; did you mean {close[0]!r}?" if close else ""))


def policy_from(table: dict[str, Any], where: str, base: Policy | None = None) -> Policy:
    """A Policy from a configuration table (``where`` names it in error messages), over ``base``."""
    base = base or Policy()
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}; the keys are {', '.join(KEYS)}")
    strict = table.get("strict", base.strict)
    if not isinstance(strict, bool):
        raise ConfigError(f"{where}: strict is true or false, not {strict!r}")
    subjects = table.get("subjects", base.subjects)
    if subjects not in SUBJECT_LISTS:
        raise ConfigError(f"{where}: subjects is one of {', '.join(SUBJECT_LISTS)}, not {subjects!r}")
    severities: dict[str, Grade] = dict(base.severities)
    disable = table.get("disable", [])
    if not isinstance(disable, list):
        raise ConfigError(f"{where}: disable is a list of rule ids")
    severities.update({_check_rule(rule, where): "off" for rule in disable})
    grades = table.get("severity", {})
    if not isinstance(grades, dict):
        raise ConfigError(f'{where}: severity is a table of rule id = "error" | "warning" | "off"')
    for rule, grade in grades.items():
        if grade not in ("error", "warning", "off"):
            raise ConfigError(f"{where}: severity of {rule} is error, warning or off, not {grade!r}")
        severities[_check_rule(rule, where)] = cast(Grade, grade)
    return Policy(strict=strict, severities=severities, subjects=subjects, limits=_limits(table, where, base))


def _limits(table: dict[str, Any], where: str, base: Policy) -> Limits:
    given = table.get("limits", {})
    if not isinstance(given, dict):
        raise ConfigError(f"{where}: limits is a table")
    unknown = sorted(set(given) - set(LIMITS))
    if unknown:
        raise ConfigError(f"{where}: unknown limit {unknown[0]!r}; the limits are {', '.join(LIMITS)}")
    try:
        return replace(base.limits, **{LIMITS[name]: value for name, value in given.items()})
    except ValueError as error:
        raise ConfigError(f"{where}: limits: {error}") from None


def _table(path: Path, *, explicit: bool) -> dict[str, Any] | None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    table = data.get("tool", {}).get(TABLE)
    if table is None and explicit and path.name != "pyproject.toml":
        table = data  # a dedicated file holds the keys at its top level
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.{TABLE}] is a table")
    return table


def discover(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start`` that has a ``[tool.caliper-schema]`` table."""
    for folder in [start, *start.parents]:
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and _table(candidate, explicit=False) is not None:
            return candidate
    return None


def load_policy(path: Path | None = None, *, start: Path | None = None) -> Policy:
    """The Policy of ``path``, or of the configuration found from ``start`` (default: no configuration)."""
    if path is None and start is not None:
        path = discover(start)
    if path is None:
        return Policy()
    table = _table(path, explicit=True)
    return policy_from(table or {}, f"{path} [tool.{TABLE}]" if path.name == "pyproject.toml" else str(path))
