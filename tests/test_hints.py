"""Hints: each answers one question, and the cheap screens in front of them never miss."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from caliper_schema import hints


@settings(max_examples=300, derandomize=True)
@given(st.text(alphabet=st.sampled_from("<>{}$_-YOURyour-app-url abc1/:"), max_size=40))
def test_placeholder_markers_screen_every_flagged_text(text: str) -> None:
    if hints.placeholder(text) is not None:
        encoded = json.dumps(text)  # the screen reads the JSON text, escapes included
        assert any(marker in encoded for marker in hints.PLACEHOLDER_MARKERS)


def test_escaped_placeholders_pass_the_screen() -> None:
    encoded = json.dumps({"id": "https://x.example/<user-id>"}).replace("<", "\\u003c")
    assert any(marker in encoded for marker in hints.PLACEHOLDER_MARKERS)
    assert hints.placeholder(json.loads(encoded)["id"]) is not None


def test_nearest_folds_case_and_snake_case() -> None:
    assert hints.nearest("math", ["Math", "Reading"]) == "did you mean `Math`?"
    assert hints.nearest("sub_type", ["subType", "type"]) == "did you mean `subType`?"
    assert hints.nearest("zzz", ["Math"]) is None
    assert hints.listing(range(15), limit=3) == "allowed: `0`, `1`, `2` and 12 more"
