"""This toolkit as a library: ``validate()`` on bytes and on parsed documents, and the parse-only floor."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from benchmarks.data import Dataset
from benchmarks.timing import Rate, interleaved_rates


@dataclass(frozen=True)
class LibraryRates:
    valid_bytes: Rate
    valid_parsed: Rate
    invalid_bytes: Rate
    invalid_parsed: Rate
    parse_floor: Rate
    schema_floor: Rate | None
    """orjson plus the jsonschema-rs calls of the fast path alone: what any design on them pays."""
    valid_no_rules: Rate | None = None
    """``validate(bytes)`` on the valid set with the rule layer switched off: the rest of the pipeline."""


def measure(dataset: Dataset, passes: int) -> LibraryRates:
    """Warm throughput of ``validate()``; the first calls (lazy schema compilation) are the warm-up pass.

    The floors and the toolkit's loops are timed in interleaved passes, so that their ratios compare like
    with like on a machine whose load varies.
    """
    from caliper_schema import validate

    valid_raw = [sample.raw for sample in dataset.valid]
    invalid_raw = [sample.raw for sample in dataset.invalid]
    jobs: dict[str, tuple[Callable[[Any], object], Sequence[Any]]] = {
        "valid_bytes": (validate, valid_raw),
        "valid_parsed": (validate, [sample.document for sample in dataset.valid]),
        "invalid_bytes": (validate, invalid_raw),
        "invalid_parsed": (validate, [sample.document for sample in dataset.invalid]),
        "parse_floor": (orjson.loads, valid_raw),
    }
    floor = schema_floor_check(valid_raw)
    if floor is not None:
        jobs["schema_floor"] = (floor, valid_raw)
    no_rules = without_rules()
    if no_rules is not None:
        jobs["valid_no_rules"] = (no_rules, valid_raw)
    rates = interleaved_rates(jobs, passes)
    return LibraryRates(
        rates["valid_bytes"],
        rates["valid_parsed"],
        rates["invalid_bytes"],
        rates["invalid_parsed"],
        rates["parse_floor"],
        rates.get("schema_floor"),
        rates.get("valid_no_rules"),
    )


def schema_floor_check(raws: list[bytes]) -> Callable[[bytes], bool] | None:
    """orjson.loads, then jsonschema-rs on the envelope shell and on each item's own schema, nothing else.

    The irreducible cost of checking with jsonschema-rs on Python objects (no lints, rules, locating or
    report). It reaches into the fast path's internals, so it is skipped (``None``) if they change.
    """
    try:
        from caliper_schema.registry import ENVELOPE_SHELL, load
        from caliper_schema.validation.fastpath import fast_engine

        engine, types = fast_engine(), load().types
    except (ImportError, AttributeError):
        return None

    def check(raw: bytes) -> bool:
        value = orjson.loads(raw)
        valid = engine.is_valid(ENVELOPE_SHELL, value)
        for item in value["data"]:
            valid = engine.is_valid(types[item["type"]], item) and valid
        return valid

    try:
        if not all(check(raw) for raw in raws):
            return None  # not the same verdict as validate(): not a floor of it
    except (AttributeError, KeyError, TypeError):
        return None
    return check


def without_rules() -> Callable[[bytes], object] | None:
    """``validate()`` with the rule layer's ``run`` swapped for one that finds nothing, for the time of each
    call: what the pipeline costs without its rules (strict parse, dispatch, the clean jsonschema-rs pass,
    the report). For the decomposition of the valid path in the README; it reaches into the pipeline's
    internals, so it is skipped (``None``) if they change. The valid set has no rule finding to lose."""
    try:
        from caliper_schema import validate
        from caliper_schema.validation import rules

        real = rules.run
    except (ImportError, AttributeError):
        return None

    def nothing(*args: object, **kwargs: object) -> list[object]:
        return []

    def check(raw: bytes) -> object:
        rules.run = nothing  # type: ignore[assignment]
        try:
            return validate(raw)
        finally:
            rules.run = real

    return check


# Run in a fresh interpreter: in this process the schemas are compiled already.
_FIRST_CALL = """
import sys, time
start = time.perf_counter()
from caliper_schema import validate
imported = time.perf_counter()
payload = open(sys.argv[1], "rb").read()
cpu = time.process_time()
report = validate(payload)
first_cpu = time.process_time() - cpu
first = time.perf_counter()
validate(payload)
second = time.perf_counter()
print(f'{{"import": {imported - start}, "first": {first - imported}, "second": {second - first},'
      f' "first_cpu": {first_cpu}, "status": "{report.status}",'
      f' "jsonschema": {str("jsonschema" in sys.modules).lower()}}}')
"""


@dataclass(frozen=True)
class FirstCall:
    """Seconds to import the package, for the first ``validate()`` of a process and for the second."""

    import_seconds: float
    first_seconds: float
    second_seconds: float
    first_cpu: float = 0.0
    """The first call's CPU time (user + system): what the first-call target is judged on."""


@dataclass(frozen=True)
class FirstPair:
    """The first ``validate()`` of a fresh process on a valid document, and on the same document with its
    mistakes (every issue explained): what an application's first invalid payload costs it."""

    kind: str
    valid: FirstCall
    invalid: FirstCall
    loads_jsonschema: bool
    """True when explaining the invalid one imported jsonschema (it should not: see ``tracing``)."""

    @property
    def ratio(self) -> float:
        """The invalid first call's CPU time over the valid one's: on this shared machine the wall clock
        of a 0.1 s call moves by half from one process to the next, its CPU time much less."""
        return self.invalid.first_cpu / self.valid.first_cpu


def _fresh(path: Path, expect: str) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, "-c", _FIRST_CALL, str(path)], check=True, capture_output=True, text=True
    ).stdout
    run: dict[str, Any] = json.loads(output)
    if run["status"] != expect:
        raise RuntimeError(f"{path}: validate() said {run['status']}, the data set says {expect}")
    return run


def _best(runs: list[dict[str, Any]]) -> FirstCall:
    best = min(runs, key=lambda run: run["import"] + run["first"])
    cpu = min(run["first_cpu"] for run in runs)
    return FirstCall(best["import"], best["first"], best["second"], cpu)


def first_call(path: Path, repeat: int) -> FirstCall:
    """The lazy compilation cost a process pays once: best of ``repeat`` fresh interpreters."""
    return _best([_fresh(path, "success") for _ in range(repeat)])


def first_pairs(pairs: Sequence[tuple[str, Path, Path]], repeat: int) -> list[FirstPair]:
    """For each (event type, valid file, the same with mistakes): the first ``validate()`` of fresh
    interpreters, the valid and the invalid one in turn, best of ``repeat`` each."""
    found = []
    for kind, valid, invalid in pairs:
        runs: dict[str, list[dict[str, Any]]] = {"success": [], "error": []}
        for _ in range(repeat):
            runs["success"].append(_fresh(valid, "success"))
            runs["error"].append(_fresh(invalid, "error"))
        loads = any(run["jsonschema"] for run in runs["error"])
        found.append(FirstPair(kind, _best(runs["success"]), _best(runs["error"]), loads))
    return found
