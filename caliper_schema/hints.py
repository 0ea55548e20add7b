"""Hints: how to fix what an issue reports. Small pure functions, each answering one question.

>>> placeholder("https://api.example.com/users/<user-id>")
'`<user-id>` looks like an unfilled template placeholder: replace it with a real value'
>>> nearest("Maths", ["Math", "Reading", "Science"])
'did you mean `Math`?'
>>> article("Entity"), article("Person")
('an Entity', 'a Person')
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable

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


def closest(value: object, choices: Iterable[object]) -> list[str]:
    """The allowed string values closest to ``value``, closest first (at most three)."""
    if not isinstance(value, str):
        return []
    strings = [choice for choice in choices if isinstance(choice, str)]
    folded = {_fold(choice): choice for choice in strings}
    if _fold(value) in folded:  # math → Math, sub_type → subType
        return [folded[_fold(value)]]
    return difflib.get_close_matches(value, strings, n=3, cutoff=0.6)


def nearest(
    value: object, choices: Iterable[object], *, fits: Callable[[str], bool] | None = None
) -> str | None:
    """``did you mean `X`?`` for the allowed string values closest to ``value`` (those ``fits`` accepts).

    >>> nearest("attempts", ["attempt", "comment"], fits=lambda name: name != "attempt") is None
    True
    """
    close = [choice for choice in closest(value, choices) if fits is None or fits(choice)]
    if not close:
        return None
    return "did you mean " + " or ".join(f"`{choice}`" for choice in close) + "?"


def article(word: str) -> str:
    """``word`` after the indefinite article it takes: ``an Entity``, ``a Person``, ``an LtiLink``."""
    spoken_vowel = word[:1] in "AEIOaeio" or word.startswith(("Lti", "LTI"))  # "el-tee-eye"
    return f"{'an' if spoken_vowel and word else 'a'} {word}"


def listing(choices: Iterable[object], limit: int = 12) -> str:
    """The allowed values, or the first ``limit`` of them."""
    items = [f"`{choice}`" for choice in choices]
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return "allowed: " + ", ".join(items[:limit]) + more
