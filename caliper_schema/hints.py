"""Hints: how to fix what an issue reports. Small pure functions, each answering one question.

>>> placeholder("https://api.example.com/users/<user-id>")
'`<user-id>` looks like an unfilled template placeholder: replace it with a real value'
>>> nearest("Maths", ["Math", "Reading", "Science"])
'did you mean `Math`?'
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

PLACEHOLDER_MARKERS = ("<", "{{", "${", "your-app-url", "YOUR", "\\u")
"""Substrings, one of which is in the JSON text of any value :func:`placeholder` flags."""
_PLACEHOLDER = re.compile(
    r"<[^<>\s]{1,80}>|\{\{[^{}]{0,80}\}\}|\$\{[^{}]{1,80}\}|your-app-url|YOUR[_-][A-Z_-]+"
)


def placeholder(value: object) -> str | None:
    """A hint when ``value`` still holds a template placeholder such as ``<user-id>`` or ``{{id}}``."""
    if not isinstance(value, str):
        return None
    match = _PLACEHOLDER.search(value)
    if match is None:
        return None
    return f"`{match.group(0)}` looks like an unfilled template placeholder: replace it with a real value"


def _fold(word: str) -> str:
    return word.replace("_", "").replace("-", "").casefold()


def nearest(value: object, choices: Iterable[object]) -> str | None:
    """``did you mean `X`?`` for the allowed string values closest to ``value``."""
    if not isinstance(value, str):
        return None
    strings = [choice for choice in choices if isinstance(choice, str)]
    folded = {_fold(choice): choice for choice in strings}
    close = [folded[_fold(value)]] if _fold(value) in folded else []  # math → Math, sub_type → subType
    close = close or difflib.get_close_matches(value, strings, n=3, cutoff=0.6)
    if not close:
        return None
    return "did you mean " + " or ".join(f"`{choice}`" for choice in close) + "?"


def listing(choices: Iterable[object], limit: int = 12) -> str:
    """The allowed values, or the first ``limit`` of them."""
    items = [f"`{choice}`" for choice in choices]
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return "allowed: " + ", ".join(items[:limit]) + more
