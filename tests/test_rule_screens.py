"""The rule screens (``Rule.screen``) never accept what their rule flags.

A unit that jsonschema-rs finds valid under its lint-hardened schema plus the screens of its rules skips
those rules (``pipeline.check_document``). So every unit on which a screened rule finds something must
fail that rule's screen: checked here rule by rule on payloads that break each rule, on values drawn by
Hypothesis at each rule's edges, and on every unit of the generator's valid and invalid documents, the
examples and the IMS corpus, where the screened run of the rule layer must also equal the full one.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caliper_schema.generation.generating import generate
from caliper_schema.policy import DEFAULT, Policy
from caliper_schema.validation import pipeline, rules
from caliper_schema.validation.dispatching import Unit, dispatch
from caliper_schema.validation.fastpath import DRAFT
from caliper_schema.validation.parsing import parse
from tests.conftest import CONTEXT, CORPUS, EXAMPLES
from tests.test_rules import BROKEN, KEPT, activity, time_spent

SCREENED = sorted(name for name, each in rules.RULES.items() if each.screen is not None)


def _screen(rule: str) -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for({"$schema": DRAFT, **rules.RULES[rule].screen})  # type: ignore[dict-item]


def _flagged(rule: str, unit: Unit) -> bool:
    each = rules.RULES[rule]
    subject = rules.Subject(unit)
    return each.unit is not None and each.fits(unit.kind, subject.type) and any(each.unit(subject))


def _agree(unit: Unit) -> int:
    """Assert no screen of a rule that flags ``unit`` accepts it; the number of (rule, unit) flagged."""
    flagged = 0
    for rule in SCREENED:
        if _flagged(rule, unit):
            flagged += 1
            assert not _screen(rule).is_valid(unit.value), (rule, unit.pointer, unit.value)
    return flagged


def test_the_screened_rules_are_those_json_schema_can_decide() -> None:
    # The comparisons between values, and the rules over whole documents, stay in Python alone.
    assert SCREENED == [
        "caliper.context-missing", "caliper.context-order", "caliper.copied-without-generated",
        "caliper.uuid", "timeback.count-not-whole", "timeback.pct-complete-range",
        "timeback.question-pairing", "timeback.time-range", "timeback.xp-earned-missing",
    ]  # fmt: skip
    assert all(rules.RULES[rule].unit is not None for rule in SCREENED)


@pytest.mark.parametrize(
    ("rule", "document"),
    [(rule, document) for rule, document, _, _ in BROKEN if rule in SCREENED],
    ids=[rule for rule, *_ in BROKEN if rule in SCREENED],
)
def test_each_screen_rejects_the_payloads_breaking_its_rule(rule: str, document: dict[str, Any]) -> None:
    units = [unit for unit in dispatch(document)[0] if _flagged(rule, unit)]
    assert units  # the payload does break the rule
    for unit in units:
        assert not _screen(rule).is_valid(unit.value)
        screened = pipeline._screen(DEFAULT, unit)
        assert screened is not None and not screened.is_valid(unit.value)


@pytest.mark.parametrize("rule", SCREENED)
def test_each_screen_accepts_the_clean_events_it_checks(rule: str) -> None:
    # Not a screen that rejects everything: the valid examples' units the rule leaves alone pass it.
    checked = 0
    for path in sorted((EXAMPLES / "valid").glob("*.json")):
        for unit in dispatch(json.loads(path.read_bytes()))[0]:
            if rules.RULES[rule].fits(unit.kind, unit.value.get("type")) and not _flagged(rule, unit):
                assert _screen(rule).is_valid(unit.value), (rule, path.name, unit.pointer)
                checked += 1
    assert checked or rule == "caliper.copied-without-generated"  # no example is a ResourceManagementEvent


def test_the_copied_screen_at_its_edge() -> None:
    copied = dict(BROKEN[-1][1])
    assert BROKEN[-1][0] == "caliper.copied-without-generated"
    screen = _screen("caliper.copied-without-generated")
    assert not screen.is_valid(copied)
    assert screen.is_valid(copied | {"generated": "https://example.edu/resources/124"})
    assert screen.is_valid(copied | {"action": "Created"})


CONSERVATIVE = {"caliper.context-order"}
"""Screens that also reject some units their rule leaves alone (Python decides those): JSON Schema cannot
say "the last item is", so an @context array that names the Caliper context goes to the rule."""


@pytest.mark.parametrize(("rule", "document"), [case for case in KEPT if case[0] in SCREENED])
def test_the_screens_pass_the_payloads_at_each_rules_edge(rule: str, document: dict[str, Any]) -> None:
    for unit in dispatch(document)[0]:
        assert not _flagged(rule, unit)
        if rules.RULES[rule].fits(unit.kind, unit.value.get("type")):
            assert _screen(rule).is_valid(unit.value) != (rule in CONSERVATIVE), unit.value


# --- values at the edges, drawn ------------------------------------------------------------------------

NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from(
        [0, -0.0, 0.5, 1.0, 99.999, 100, 100.0, 100.5, 86400, 86400.0, 86400.5, 86401, 1e300, -1e-300]
    ),
    st.floats(allow_nan=False, allow_infinity=False),
)
VALUES = st.one_of(NUMBERS, st.booleans(), st.none(), st.text(max_size=3), st.just([1]), st.just({"a": 1}))
METRIC_TYPES = st.one_of(
    st.sampled_from(
        ["xpEarned", "totalQuestions", "correctQuestions", "masteredUnits", "active", "inactive"]
    ),
    st.integers(),
    st.none(),
)
ITEMS = st.lists(
    st.one_of(
        st.fixed_dictionaries({"type": METRIC_TYPES}, optional={"value": VALUES}),
        st.fixed_dictionaries({}, optional={"value": VALUES}),
        VALUES,
    ),
    max_size=5,
)
CONTEXTS = st.one_of(
    st.just(CONTEXT),
    st.lists(st.sampled_from([CONTEXT, {"q": "http://schema.org/q"}, "http://example.com/ctx"]), max_size=3),
    VALUES,
)
UUID_HEX = st.text(alphabet="0123456789abcdefABCDEF", min_size=1, max_size=1)
IDS = st.one_of(
    st.builds(lambda v, w: f"urn:uuid:5b1f6a2e-8c43-{v}d1e-{w}a7b-0c2d3e4f5a6b", UUID_HEX, UUID_HEX),
    st.builds(
        lambda v: f"urn:uuid:5b1f6a2e-8c43-4d1e-8a7b-0c2d3e4f5a6b{v}", st.sampled_from(["", "\n", "0"])
    ),
    VALUES,
)


EDGES = [0, -0.0, -1, -1e-300, 1e-300, 0.5, 1.0, 99.999, 100, 100.0, 100.5, 101, 86400, 86400.0, 86400.5,
         86401, 1e300, -(2**70), 2**70, 2**63, True, False, None, "5", [1], {"a": 1}]  # fmt: skip


@pytest.mark.parametrize("value", EDGES, ids=repr)
def test_no_screen_accepts_an_edge_value_its_rule_flags(value: Any) -> None:
    flagged = 0
    for base in (activity, time_spent):
        for index in range(len(base()["generated"]["items"])):
            event = copy.deepcopy(base())
            event["generated"]["items"][index]["value"] = value
            flagged += sum(_agree(unit) for unit in dispatch(event)[0])
        event = copy.deepcopy(base())
        event["generated"].setdefault("extensions", {})["pctCompleteApp"] = value
        flagged += sum(_agree(unit) for unit in dispatch(event)[0])
    assert flagged or value in (0, -0.0, 1.0, 100, 100.0)  # every other edge breaks one rule somewhere


@settings(max_examples=400, deadline=None, derandomize=True)
@given(
    base=st.sampled_from([activity, time_spent]),
    items=st.one_of(ITEMS, VALUES),
    generated=st.booleans(),
    extensions=st.one_of(st.none(), st.fixed_dictionaries({}, optional={"pctCompleteApp": VALUES}), VALUES),
    context=st.one_of(st.none(), CONTEXTS),
    event_id=IDS,
)
def test_no_screen_accepts_a_drawn_value_its_rule_flags(
    base: Any, items: Any, generated: bool, extensions: Any, context: Any, event_id: Any
) -> None:
    event = copy.deepcopy(base())
    event["id"] = event_id
    if context is None:
        event.pop("@context")
    else:
        event["@context"] = context
    if not generated:
        event["generated"] = items  # not an object: no metrics at all
    else:
        event["generated"] = {**event["generated"], "items": items}
        if extensions is not None:
            event["generated"]["extensions"] = extensions
    for unit in dispatch(event)[0]:
        _agree(unit)


# --- every unit of the generator's documents, the examples and the corpus ------------------------------


def _documents() -> Iterator[Any]:
    for invalid in (False, True):
        for envelope in (False, True):
            for fixture in generate(count=150, seed=21, invalid=invalid, envelope=envelope):
                yield fixture.document
    for fixture in generate(count=150, seed=22, invalid=True, strict=True, profile="TimebackProfile"):
        yield fixture.document
    for path in sorted(EXAMPLES.rglob("*.json")):
        yield path.read_bytes()
    if CORPUS.is_dir():
        for path in sorted(CORPUS.rglob("*.json")):
            yield path.read_bytes()


@pytest.mark.parametrize("best_practice", [False, True])
def test_the_screened_rule_layer_finds_what_the_full_one_finds(best_practice: bool) -> None:
    policy = Policy(best_practice=best_practice)
    units_seen = flagged = passed = 0
    for source in _documents():
        document = parse(source) if isinstance(source, bytes) else parse(json.dumps(source))
        if not document.parsed:
            continue
        units = dispatch(document.value)[0]
        screened = []
        for unit in units:
            flagged += _agree(unit)
            screen = pipeline._screen(policy, unit)
            screened.append(screen is not None and screen.is_valid(unit.value))
        units_seen += len(units)
        passed += sum(screened)
        full = rules.run(units, document.text, best_practice=best_practice)
        assert rules.run(units, document.text, best_practice=best_practice, screened=screened) == full
    # Enough of each: units that skip their screened rules, and units a screened rule flags.
    assert units_seen >= 1500 and passed >= 300 and flagged >= 20, (units_seen, passed, flagged)
