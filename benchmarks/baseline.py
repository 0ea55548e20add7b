"""The common baseline: jsonschema's ``Draft202012Validator``, formats checked, over the envelope schema.

This is what a user does with the project's schemas and nothing else: every file of ``schemas/`` in a
``referencing.Registry`` under its ``$id``, the envelope schema at the top, the validator's own
``FORMAT_CHECKER``. jsonschema ignores the OpenAPI ``discriminator`` keyword, so each ``oneOf`` (the
100-branch document union, the entity slots) is tried branch by branch, and its ``iri`` format checker
(rfc3987-syntax) runs a lark Earley parser on every IRI of every branch: one document takes seconds to
minutes. The whole data set cannot be timed in a few minutes, so the baseline is timed on a stratified
sample (the first documents of each event type), each event type in a child process cut off at a time
cap; the events/s of the mix is then weighted by the share of each type. When a type hits the cap, its
cost is at least the cap, and the rate is reported as an upper bound ("<="): ratios against it are then
lower bounds, which is what a target of "at least N times" needs.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from benchmarks.data import Dataset, Sample
from benchmarks.timing import Rate

ENVELOPE_ID = "https://caliper-schema.invalid/schemas/envelope.json"


def load_schemas(schemas_dir: Path) -> dict[str, Any]:
    """Every schema file of the repository's ``schemas/``, by ``$id``."""
    schemas = {}
    for path in sorted(schemas_dir.rglob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        schemas[schema["$id"]] = schema
    return schemas


def baseline_validator(schemas_dir: Path) -> Any:
    """``Draft202012Validator`` over the envelope schema, formats checked, ``$ref`` resolved offline."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    schemas = load_schemas(schemas_dir)
    registry: Registry[Any] = (
        Registry()
        .with_resources(
            (uri, Resource.from_contents(schema, default_specification=DRAFT202012))
            for uri, schema in schemas.items()
        )
        .crawl()
    )
    return Draft202012Validator(
        schemas[ENVELOPE_ID], registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def warm_up(validator: Any) -> None:
    """Resolve every ``$ref`` once and load the IRI grammar, so no sample pays for it."""
    trivial = {"sensor": "https://example.com", "sendTime": "2025-01-01T00:00:00.000Z",
               "dataVersion": "http://purl.imsglobal.org/ctx/caliper/v1p2", "data": [1]}  # fmt: skip
    validator.is_valid(trivial)
    validator.format_checker.conforms("https://example.com/a", "iri")


@dataclass(frozen=True)
class KindCost:
    """Seconds per document for one event type; ``censored`` when the first document hit the cap."""

    kind: str
    seconds: float
    documents: int
    censored: bool

    def show(self) -> str:
        return f">= {self.seconds:.1f}" if self.censored else f"{self.seconds:.2f}"


Check = Callable[[Any, Any], object]


def _is_valid(validator: Any, document: Any) -> object:
    return validator.is_valid(document)


def _all_errors(validator: Any, document: Any) -> object:
    return list(validator.iter_errors(document))


def _child(validator: Any, check: Check, documents: list[Any], conn: Connection) -> None:
    for document in documents:
        start = time.perf_counter()
        check(validator, document)
        conn.send(time.perf_counter() - start)
    conn.close()


def time_kind(validator: Any, check: Check, kind: str, documents: list[Any], cap: float) -> KindCost:
    """Seconds per document over up to ``len(documents)`` documents of one type, within ``cap`` seconds.

    A forked child validates them one by one and reports each time; it is killed at the cap. Forking
    inherits the warmed-up validator, so no child pays for building it.
    """
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(validator, check, documents, send), daemon=True)
    child.start()
    send.close()
    times: list[float] = []
    deadline = time.perf_counter() + cap
    while len(times) < len(documents):
        remaining = deadline - time.perf_counter()
        if remaining <= 0 or not receive.poll(remaining):
            break
        times.append(receive.recv())
    child.kill()
    child.join()
    if not times:
        return KindCost(kind, cap, 0, censored=True)
    return KindCost(kind, sum(times) / len(times), len(times), censored=False)


@dataclass(frozen=True)
class Baseline:
    valid: Rate
    invalid_all: Rate
    valid_costs: list[KindCost]
    invalid_costs: list[KindCost]


def stratified(samples: list[Sample], per_kind: int) -> dict[str, list[Any]]:
    """The first ``per_kind`` documents of each event type, in data set order."""
    chosen: dict[str, list[Any]] = {}
    for sample in samples:
        group = chosen.setdefault(sample.kind, [])
        if len(group) < per_kind:
            group.append(sample.document)
    return chosen


def mix_rate(costs: list[KindCost], shares: Counter[str]) -> Rate:
    """Events/s of the whole mix: each type's seconds per document weighted by its share of the data."""
    total = sum(shares.values())
    seconds = sum(cost.seconds * shares[cost.kind] / total for cost in costs)
    censored = [cost.kind for cost in costs if cost.censored]
    note = f"{sum(cost.documents for cost in costs)} docs timed"
    if censored:
        note += f"; {len(censored)} of {len(costs)} event types cut off at the cap"
    return Rate(1 / seconds, bound=bool(censored), note=note)


def measure(dataset: Dataset, schemas_dir: Path, cap: float, per_kind: int) -> Baseline:
    validator = baseline_validator(schemas_dir)
    warm_up(validator)
    shares = Counter(sample.kind for sample in dataset.valid)
    valid_costs = [
        time_kind(validator, _is_valid, kind, documents, cap)
        for kind, documents in stratified(dataset.valid, per_kind).items()
    ]
    invalid_costs = [
        time_kind(validator, _all_errors, kind, documents, cap)
        for kind, documents in stratified(dataset.invalid, per_kind).items()
    ]
    return Baseline(
        mix_rate(valid_costs, shares), mix_rate(invalid_costs, shares), valid_costs, invalid_costs
    )
