"""The machine, the tables and the targets, printed as Markdown so the README can quote them as they are."""

from __future__ import annotations

import os
import platform
import subprocess
from collections import Counter
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from benchmarks.baseline import Baseline
from benchmarks.commands import CheckJsonschema, ColdStart, JsonLines
from benchmarks.data import MIX
from benchmarks.library import FirstCall, FirstPair, LibraryRates
from benchmarks.models import ModelStarts, target_rows
from benchmarks.models import table as models_table
from benchmarks.streams import StreamRates
from benchmarks.timing import Rate, Run

PACKAGES = ("caliper-schema", "jsonschema", "jsonschema-rs", "orjson", "referencing", "rfc3987-syntax",
            "check-jsonschema")  # fmt: skip


# --- the machine ---------------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


def _git(root: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return ""
    return done.stdout.strip()


def load_average() -> str:
    """Other work on the machine shows here: the figures of a loaded machine are lower and noisier."""
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def machine(root: Path) -> list[str]:
    """Lines describing what the figures were measured on, and on which state of the code."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    commit = _git(root, "rev-parse", "--short", "HEAD") or "unknown"
    if _git(root, "status", "--porcelain", "--", "caliper_schema", "schemas"):
        commit += " plus uncommitted changes in caliper_schema/ or schemas/"
    return [
        f"- CPU: {cpu_model()}, {cores} cores available; {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()} ({platform.python_implementation()})",
        "- " + ", ".join(f"{name} {_version(name)}" for name in PACKAGES),
        f"- code: commit {commit}",
        f"- load average (1, 5, 15 min) at the start: {load_average()}",
    ]


# --- formatting ----------------------------------------------------------------------------------------


def table(header: list[str], rows: list[list[str]], align: str = "") -> list[str]:
    """A Markdown table; ``align``: ``l`` or ``r`` per column (default: the first left, the rest right)."""
    align = align or "l" + "r" * (len(header) - 1)
    rule = ["---:" if side == "r" else "---" for side in align]
    return ["| " + " | ".join(cells) + " |" for cells in [header, rule, *rows]]


def times(value: float, *, at_least: bool = False) -> str:
    """A ratio such as ``92x``; ``>= 92x`` when it is a lower bound."""
    text = f"{value:,.0f}x" if value >= 100 else f"{value:,.1f}x"
    return f">= {text}" if at_least else text


def seconds(value: Run | float, *, at_least: bool = False) -> str:
    number = value.seconds if isinstance(value, Run) else value
    text = f"{number:,.0f}" if number >= 100 else f"{number:.3f}" if number >= 0.01 else f"{number:.4f}"
    return f">= {text}" if at_least else text


# --- the results ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Results:
    count: int
    files: int
    mean_bytes: float
    shares: Counter[str]
    library: LibraryRates
    first: FirstCall
    pairs: list[FirstPair]
    cli_valid: Run
    cli_invalid: Run
    cold: ColdStart
    baseline: Baseline
    check_jsonschema: CheckJsonschema
    cap: float
    passes: int
    models: ModelStarts
    streams: StreamRates | None = None
    jsonl: JsonLines | None = None

    def files_rate(self, run: Run) -> Rate:
        return Rate(self.files / run.seconds, note="1 process, wall clock")

    @property
    def check_jsonschema_rate(self) -> Rate:
        estimate = self.check_jsonschema
        return Rate(self.files / estimate.estimate_seconds, estimate.bound, "estimated, see the tables below")


def throughput(results: Results) -> list[str]:
    lib, base = results.library, results.baseline
    floor = lib.parse_floor.per_second
    files = f"{results.files:,}"

    def row(name: str, rate: Rate, against: Rate | None, vs_floor: bool = True) -> list[str]:
        versus = times(rate.per_second / against.per_second, at_least=against.bound) if against else ""
        slower = times(floor / rate.per_second) if vs_floor else ""
        return [name, rate.show(), versus, slower, rate.note]

    rows = [row("orjson.loads, same bytes (parse-only floor)", lib.parse_floor, None, vs_floor=False)]
    if lib.schema_floor is not None:
        name = "orjson.loads + jsonschema-rs `is_valid` of the dispatched schemas (schema-check floor)"
        rows.append(row(name, lib.schema_floor, base.valid))
    rows += [
        row("`validate(bytes)`, valid", lib.valid_bytes, base.valid),
        *(
            [
                row(
                    "`validate(bytes)`, valid, the rule layer switched off (for the decomposition)",
                    lib.valid_no_rules,
                    base.valid,
                )
            ]
            if lib.valid_no_rules is not None
            else []
        ),
        row("`validate(parsed dict)`, valid", lib.valid_parsed, base.valid),
        row("`validate(bytes)`, invalid, all issues", lib.invalid_bytes, base.invalid_all),
        row("`validate(parsed dict)`, invalid, all issues", lib.invalid_parsed, base.invalid_all),
        row("jsonschema `is_valid`, valid (baseline)", base.valid, None, vs_floor=False),
        row("jsonschema `list(iter_errors())`, invalid (baseline)", base.invalid_all, None, vs_floor=False),
        row(
            f"`caliper-schema validate DIR`, {files} valid files",
            results.files_rate(results.cli_valid),
            base.valid,
        ),
        row(
            f"`caliper-schema validate DIR`, {files} invalid files",
            results.files_rate(results.cli_invalid),
            base.invalid_all,
        ),
        row(f"check-jsonschema, {files} valid files", results.check_jsonschema_rate, None, vs_floor=False),
    ]
    header = ["measurement", "events/s", "x jsonschema", "x slower than the floor", "how"]
    return table(header, rows, "lrrrl")


def streams(results: Results) -> list[str]:
    """``validate_stream`` next to plain ``validate`` on the same lines (generated sessions)."""
    rates = results.streams
    if rates is None:
        return ["(not measured)"]
    plain = rates.plain.per_second

    def row(name: str, rate: Rate) -> list[str]:
        return [name, rate.show(), times(rate.per_second / plain), rate.note]

    rows = [
        row("`validate(line)`, each line of the stream alone", rates.plain),
        row(
            "`validate_stream(from_lines(...))`: every document, and the stream rules across them",
            rates.stream,
        ),
        row("`validate_stream(..., per_document=False)`: the stream rules alone", rates.rules_only),
    ]
    return table(["measurement", "events/s", "x plain validate", "how"], rows, "lrrl")


def latencies(results: Results) -> list[str]:
    cold, cj, first = results.cold, results.check_jsonschema, results.first
    files = f"{results.files:,}"
    rows = [
        ["`import caliper_schema`, fresh interpreter (in-process clock)", seconds(first.import_seconds)],
        ["first `validate()` of a process (compiles the schemas it needs)", seconds(first.first_seconds)],
        ["second `validate()` of the same document", seconds(first.second_seconds)],
        *first_rows(results.pairs),
        ["`caliper-schema validate one.json`, valid file (bytecode cached)", seconds(cold.validate_one)],
        ["same, no bytecode cache for the project (as this environment runs)", seconds(cold.uncached)],
        ["`caliper-schema validate one.json`, invalid file", seconds(cold.invalid_one)],
        ['`python -c "import caliper_schema"`', seconds(cold.import_package)],
        ['`python -c "pass"` (interpreter floor)', seconds(cold.interpreter)],
        [f"`caliper-schema validate DIR`, {files} valid files", seconds(results.cli_valid)],
        [f"`caliper-schema validate DIR`, {files} invalid files", seconds(results.cli_invalid)],
        ["check-jsonschema start-up (one trivially invalid file)", seconds(cj.startup)],
        [
            f"check-jsonschema, {files} valid files (estimated)",
            seconds(cj.estimate_seconds, at_least=cj.bound),
        ],
    ]
    return table(["measurement (wall clock, fresh processes: best of runs)", "seconds"], rows)


def per_kind(results: Results) -> list[str]:
    base, cj = results.baseline, results.check_jsonschema
    valid = {cost.kind: cost for cost in base.valid_costs}
    invalid = {cost.kind: cost for cost in base.invalid_costs}
    total = sum(results.shares.values())
    rows = []
    for kind in (kind for kind in MIX if kind in valid):
        per_file = f"{'>= ' if kind in cj.censored else ''}{cj.per_kind.get(kind, 0.0):.1f}"
        share = f"{results.shares[kind] / total:.0%}"
        rows.append([kind, share, valid[kind].show(), invalid[kind].show(), per_file])
    header = ["event type", "share", "jsonschema `is_valid`", "jsonschema `iter_errors`, invalid",
              "check-jsonschema, per file"]  # fmt: skip
    return table(header, rows)


def first_rows(pairs: list[FirstPair]) -> list[list[str]]:
    """The first call of a process on an invalid document, against a valid one (the worst event type)."""
    if not pairs:
        return []
    worst = max(pairs, key=lambda pair: pair.ratio)
    return [
        [f"first `validate()`, valid {worst.kind} (the event type of the worst ratio below), wall clock",
         seconds(worst.valid.first_seconds)],
        ["first `validate()`, the same document with its mistakes, every issue explained, wall clock",
         seconds(worst.invalid.first_seconds)],
    ]  # fmt: skip


def first_table(pairs: list[FirstPair]) -> list[str]:
    """The first ``validate()`` of fresh processes, by event type."""
    rows = [
        [pair.kind, seconds(pair.valid.first_cpu), seconds(pair.invalid.first_cpu), times(pair.ratio),
         seconds(pair.valid.first_seconds), seconds(pair.invalid.first_seconds),
         "yes" if pair.loads_jsonschema else "no"]
        for pair in pairs
    ]  # fmt: skip
    header = ["event type", "valid, CPU s", "invalid, CPU s", "ratio (CPU)", "valid, wall s",
              "invalid, wall s", "imports jsonschema"]  # fmt: skip
    return table(header, rows)


def invalid_rows(lib: LibraryRates, pairs: list[FirstPair]) -> list[tuple[str, str, bool]]:
    """This round's targets on the invalid path: (target, measured, passed)."""
    invalid_x = lib.valid_bytes.per_second / lib.invalid_bytes.per_second
    rows = [("invalid, all issues, bytes in: at most 6x a valid document (same run, interleaved)",
             times(invalid_x), invalid_x <= 6)]  # fmt: skip
    if pairs:
        worst = max(pair.ratio for pair in pairs)
        loads = any(pair.loads_jsonschema for pair in pairs)
        rows.append(("first invalid `validate()` of a fresh process: at most 2x the first valid one (CPU "
                     "time, worst event type)", times(worst), worst <= 2 and not loads))  # fmt: skip
    return rows


def library_section(lib: LibraryRates, pairs: list[FirstPair]) -> list[str]:
    """``--library``: the library's rates, its first calls and their targets."""
    floor = lib.parse_floor.per_second
    rows = [[name, rate.show(), times(floor / rate.per_second), rate.note] for name, rate in (
        ("orjson.loads, same bytes (parse-only floor)", lib.parse_floor),
        ("orjson + jsonschema-rs (schema-check floor)", lib.schema_floor),
        ("`validate(bytes)`, valid", lib.valid_bytes),
        ("`validate(bytes)`, valid, the rule layer switched off", lib.valid_no_rules),
        ("`validate(parsed dict)`, valid", lib.valid_parsed),
        ("`validate(bytes)`, invalid, all issues", lib.invalid_bytes),
        ("`validate(parsed dict)`, invalid, all issues", lib.invalid_parsed),
    ) if rate is not None]  # fmt: skip
    checks = [[name, measured, _verdict(passed)] for name, measured, passed in invalid_rows(lib, pairs)]
    return ["## Library", "", *table(["measurement", "events/s", "x slower than the floor", "how"], rows,
            "lrrl"), "", "## First calls", "", *first_table(pairs), "", "## Targets", "",
            *table(["target", "measured", "verdict"], checks, "lrl")]  # fmt: skip


# --- the targets ---------------------------------------------------------------------------------------


def _verdict(passed: bool, decided: bool = True) -> str:
    return "PASS" if passed else "MISS" if decided else "UNDECIDED (raise --cap)"


def targets(results: Results) -> list[str]:
    lib, base, cj = results.library, results.baseline, results.check_jsonschema
    floor_x = lib.parse_floor.per_second / lib.valid_bytes.per_second
    valid_x = lib.valid_bytes.per_second / base.valid.per_second
    invalid_x = lib.invalid_bytes.per_second / base.invalid_all.per_second
    cli_x = cj.estimate_seconds / results.cli_valid.seconds
    cold = results.cold.validate_one.seconds
    # (target, measured ratio or time, passed, decided: False when a bound is too weak to tell)
    checks = [
        ("valid, bytes in: at most 3x the parse-only floor", times(floor_x), floor_x <= 3, True),
        ("valid, bytes in: at least 500x the jsonschema baseline",
         times(valid_x, at_least=base.valid.bound), valid_x >= 500, not base.valid.bound),
        ("invalid, all issues: at least 20x the jsonschema baseline",
         times(invalid_x, at_least=base.invalid_all.bound), invalid_x >= 20, not base.invalid_all.bound),
        (f"{results.files:,} files through the CLI: at least 5x faster than check-jsonschema",
         times(cli_x, at_least=cj.bound), cli_x >= 5, not cj.bound),
        ("cold start, `caliper-schema validate one.json`: under 0.3 s", f"{cold:.3f} s", cold < 0.3, True),
    ]  # fmt: skip
    if lib.schema_floor is not None:
        schema_x = lib.schema_floor.per_second / lib.valid_bytes.per_second
        checks.append(("valid, bytes in: at most 2x the schema-check floor (same run, interleaved)",
                       times(schema_x), schema_x <= 2, True))  # fmt: skip
    if results.jsonl is not None:
        lines = results.jsonl
        checks.append((f"CLI end to end, {lines.lines:,} Timeback envelopes in JSON Lines: at most 5x an"
                       " orjson-only process", times(lines.ratio), lines.ratio <= 5, True))  # fmt: skip
    rows = [[name, measured, _verdict(passed, decided)] for name, measured, passed, decided in checks]
    more = [*target_rows(results.models), *invalid_rows(lib, results.pairs)]
    rows += [[name, measured, _verdict(passed)] for name, measured, passed in more]
    if lib.schema_floor is not None and lib.valid_no_rules is not None:  # not a target: the decomposition
        rest = lib.schema_floor.per_second / lib.valid_no_rules.per_second
        rules_x = lib.schema_floor.per_second / lib.valid_bytes.per_second - rest
        name = "(for reference) valid, bytes in, the rule layer switched off, against the schema-check floor;"
        rows.append([f"{name} the rule layer's own share", f"{times(rest)}; {times(rules_x)}", ""])
    if results.jsonl is not None:  # not a target: what the floor of the CLI target itself is
        floor = results.jsonl.schema_check.seconds / results.jsonl.orjson_only.seconds
        rows.append(["(for reference) an orjson + jsonschema-rs process over the same lines, against the"
                     " orjson-only one", times(floor), ""])  # fmt: skip
    return table(["target", "measured", "verdict"], rows, "lrl")


def json_lines(results: Results) -> list[str]:
    """The CLI over one JSON Lines file, next to processes that only parse, or parse and schema-check."""
    lines = results.jsonl
    if lines is None:
        return ["(not measured)"]
    base = lines.orjson_only.seconds
    processes = (
        ("a process that only parses each line with orjson (baseline)", lines.orjson_only),
        ("a process that parses each line with orjson and checks it with jsonschema-rs (schema-check floor)",
         lines.schema_check),
        ("`caliper-schema validate FILE.jsonl`", lines.validate),
    )  # fmt: skip
    rows = [[name, seconds(run), f"{lines.lines / run.seconds:,.0f}", times(run.seconds / base)]
            for name, run in processes]  # fmt: skip
    intro = (f"{lines.lines:,} valid Timeback envelopes (`caliper-schema generate --envelope --profile"
             f" TimebackProfile`), {lines.events:,} events, mean {lines.mean_bytes:,.0f} bytes a line; fresh"
             " processes with bytecode caches, wall clock, the best of runs taken in turn.")  # fmt: skip
    return [intro, "", *table(["process", "seconds", "lines/s", "x baseline"], rows)]


def render(results: Results, machine_lines: list[str]) -> str:
    data = (
        f"Data: {results.count:,} envelopes of one event each (mean {results.mean_bytes:,.0f} bytes), "
        f"and the same {results.count:,} with one or two mistakes each. Library rows: each chunk of 100 "
        f"documents' best of {results.passes} interleaved passes, after a warm-up pass. CLI rows: the first "
        f"{results.files:,} documents "
        f"of each set, one file each. Baselines: cut off at {results.cap:g} s per event type "
        "('>=' marks a cut-off: a bound)."
    )
    sections = [
        ("Machine", [*machine_lines, "", data]),
        ("Throughput", throughput(results)),
        (
            "Streams: validate_stream next to validate (see also python -m benchmarks.streams)",
            streams(results),
        ),
        ("Latency", latencies(results)),
        ("CLI end to end over JSON Lines", json_lines(results)),
        (
            "First calls by event type (fresh processes, best of runs; the target is judged on CPU time)",
            first_table(results.pairs),
        ),
        ("Baselines by event type, seconds per document (stratified sample)", per_kind(results)),
        ("Models: import and first use", models_table(results.models)),
        ("Targets", targets(results)),
    ]
    return "\n".join(line for title, body in sections for line in (f"## {title}", "", *body, ""))
