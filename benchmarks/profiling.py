"""Where the time goes (``python -m benchmarks --profile``): per-stage timings and a cProfile breakdown.

The stage timings call the pipeline's modules one by one (``parsing``, ``dispatching``, ``checking``,
``linting``, ``rules``), without a profiler, on the same data as the benchmark; they use internal
functions, so a stage whose signature changed is reported as unavailable rather than failing the run.
The cProfile breakdown then sums each function's own time by the module it belongs to. cProfile slows
Python code much more than C code (orjson, jsonschema-rs), so its shares overstate pure-Python stages:
read them for ranking, the stage timings for magnitudes.
"""

from __future__ import annotations

import cProfile
import json
import pstats
import sysconfig
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from benchmarks.data import generate
from benchmarks.report import table
from benchmarks.timing import interleaved_rates

STDLIB = sysconfig.get_paths()["stdlib"] + "/"


def _stage_functions(raws: list[bytes]) -> dict[str, tuple[Callable[[Any], object], list[Any]]]:
    """Each pipeline stage as a one-argument function, with its inputs prepared by the stages before it."""
    from caliper_schema import validate
    from caliper_schema.locating import Locator
    from caliper_schema.policy import DEFAULT
    from caliper_schema.reporting import Report
    from caliper_schema.validation import checking, fastpath, linting, rules, tracing
    from caliper_schema.validation.dispatching import dispatch
    from caliper_schema.validation.fastpath import fast_engine
    from caliper_schema.validation.parsing import parse

    documents = [parse(raw) for raw in raws]
    dispatched = [dispatch(document.value)[0] for document in documents]
    units = [unit for group in dispatched for unit in group]
    issues = [checking.check(unit) + linting.lint(unit) for unit in units]
    with_text = [(group, document.text) for group, document in zip(dispatched, documents, strict=True)]
    engine = fast_engine()
    stages: dict[str, tuple[Callable[[Any], object], list[Any]]] = {
        "orjson.loads(bytes) (the floor)": (orjson.loads, raws),
        "json.loads(bytes), stdlib, no hooks": (json.loads, raws),
        "parsing.parse(bytes)": (parse, raws),
        "dispatching.dispatch(value)": (dispatch, [document.value for document in documents]),
        "fast_engine().is_valid (jsonschema-rs, x-dispatch callbacks included)": (
            lambda unit: engine.is_valid(unit.schema, unit.value), units),
        "checking.check(unit): jsonschema-rs's errors, traced and explained": (checking.check, units),
        "tracing.failures(unit): jsonschema-rs's errors as jsonschema's (in check)": (
            lambda unit: tracing.failures(unit.schema, unit.value), units),
        "checking.check_by_authority(unit): jsonschema's errors (the reference)": (
            checking.check_by_authority, units),
        "linting.lint(unit): the Python walk": (linting.lint, units),
        "rules.run(units, text)": (lambda pair: rules.run(*pair), with_text),
        "locating.Locator(text): the full scan, the fallback of Document.locate": (
            Locator, [document.text for document in documents]),
        "Report.from_issues(issues)": (Report.from_issues, issues),
        "validate(bytes), the whole pipeline": (validate, raws),
        "validate(parsed dict), the whole pipeline": (validate, [document.value for document in documents]),
    }  # fmt: skip
    clean_engine = getattr(fastpath, "clean_engine", None)
    if clean_engine is not None:  # the lint-hardened engine: when it accepts a unit, the lint walk is skipped
        clean = clean_engine(DEFAULT.subjects)
        stages["fastpath.clean_engine().is_valid: lints as constraints (skips the walk)"] = (
            lambda unit: clean.is_valid(unit.schema, unit.value), units)  # fmt: skip
    return stages


def stages(raws: list[bytes], title: str) -> list[str]:
    """Microseconds per document for each stage, over ``raws``, the stages timed in interleaved passes."""
    try:
        functions = _stage_functions(raws)
    except Exception as error:  # the library is being edited: say so, do not fail the run
        return [f"stage timings unavailable: {type(error).__name__}: {error}"]
    failed: dict[str, str] = {}
    for name, (function, payloads) in functions.items():
        try:
            for payload in payloads:
                function(payload)
        except Exception as error:
            failed[name] = f"n/a ({type(error).__name__})"
    rates = interleaved_rates({name: job for name, job in functions.items() if name not in failed})
    rows = []
    for name, (_, payloads) in functions.items():
        # Per document: a stage run once per unit costs its per-call time times the units of a document.
        cost = failed.get(name) or f"{1e6 / rates[name].per_second * len(payloads) / len(raws):,.1f}"
        rows.append([name, cost])
    return table([f"stage, {title}", "us per document"], rows)


def _category(filename: str, function: str) -> str:
    """The module (or library) a profiled function belongs to."""
    if "caliper_schema/" in filename:
        return "caliper_schema." + filename.rsplit("caliper_schema/", 1)[1].removesuffix(".py").replace(
            "/", "."
        )
    for library in ("jsonschema_rs", "jsonschema", "referencing", "lark", "rfc3987_syntax", "orjson"):
        if f"/{library}/" in filename or library in function:
            return library
    if filename.startswith(STDLIB):
        return "stdlib " + filename.removeprefix(STDLIB).removesuffix(".py").replace("/__init__", "").replace(
            "/", "."
        )
    if filename == "~":  # a builtin: name it by the function (isinstance, dict.get, re.search, ...)
        return "builtin " + function.removeprefix("<built-in method ").removeprefix("<method ").rstrip(">")
    return "other: " + filename.rsplit("/", 1)[-1]


def _breakdown(function: Callable[[Any], object], payloads: Sequence[Any], top: int) -> list[str]:
    for payload in payloads:  # warm: lazy compilation is not what this profile is about
        function(payload)
    profiler = cProfile.Profile()
    profiler.enable()
    for payload in payloads:
        function(payload)
    profiler.disable()
    stats = pstats.Stats(profiler)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]  # pstats keeps its table untyped
    by_category: dict[str, float] = defaultdict(float)
    total = 0.0
    for (filename, _, name), (_, _, own, _, _) in raw.items():
        by_category[_category(filename, name)] += own
        total += own
    ranked = sorted(by_category.items(), key=lambda item: -item[1])[:top]
    per_doc = 1e6 / len(payloads)
    rows = [[name, f"{seconds * per_doc:,.1f}", f"{seconds / total:.0%}"] for name, seconds in ranked]
    return table(["module (own time under cProfile)", "us per document", "share"], rows)


def _top_functions(function: Callable[[Any], object], payloads: Sequence[Any], top: int) -> list[str]:
    profiler = cProfile.Profile()
    profiler.enable()
    for payload in payloads:
        function(payload)
    profiler.disable()
    raw: dict[Any, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    ranked = sorted(raw.items(), key=lambda item: -item[1][3])[:top]
    per_doc = 1e6 / len(payloads)
    rows = [
        [f"{'/'.join(filename.rsplit('/', 2)[-2:])}:{line}({name})", f"{own * per_doc:,.1f}",
         f"{cumulative * per_doc:,.1f}"]
        for (filename, line, name), (_, _, own, cumulative, _) in ranked
    ]  # fmt: skip
    return table(["function (by cumulative time under cProfile)", "own us/doc", "cumulative us/doc"], rows)


def profile(count: int, seed: int) -> str:
    from caliper_schema import validate

    dataset = generate(count, seed)
    valid = [sample.raw for sample in dataset.valid]
    invalid = [sample.raw for sample in dataset.invalid[: max(count // 4, 1)]]
    lines = ["## Stages, no profiler", "", *stages(valid, "valid documents, bytes in"), ""]
    lines += [*stages(invalid, "invalid documents, bytes in"), ""]
    lines += ["## cProfile: valid documents, bytes in", "", *_breakdown(validate, valid, 15), ""]
    lines += [*_top_functions(validate, valid, 25), ""]
    lines += [
        "## cProfile: invalid documents, bytes in, all issues",
        "",
        *_breakdown(validate, invalid, 15),
        "",
    ]
    lines += [*_top_functions(validate, invalid, 25), ""]
    return "\n".join(lines)
