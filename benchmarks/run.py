"""One benchmark run: generate and verify the data, time every row on it, print the tables."""

from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from benchmarks import baseline, commands, data, library, models, report, streams

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"


@dataclass(frozen=True)
class Options:
    count: int = 2000
    files: int = 1000
    passes: int = 3
    cap: float = 5.0
    per_kind: int = 3
    repeat: int = 5
    seed: int = data.SEED
    lines: int = 20_000


class Progress:
    """Says on stderr what is being timed, so a run of a few minutes is not silent."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        print(f"[{time.perf_counter() - self.start:6.1f} s] {message}", file=sys.stderr, flush=True)


def run(options: Options) -> str:
    say = Progress()
    machine = report.machine(ROOT)
    say(f"generating {options.count} envelopes (seed {options.seed}) and checking them")
    dataset = data.generate(options.count, options.seed)
    data.verify(dataset)
    say("library: validate() on bytes and on parsed documents, and the orjson floor")
    rates = library.measure(dataset, options.passes)
    say("streams: validate_stream against validate, on the same generated sessions")
    stream_rates = streams.rates(options.passes)
    valid_files, invalid_files = dataset.valid[: options.files], dataset.invalid[: options.files]
    with tempfile.TemporaryDirectory(prefix="caliper-bench-") as scratch, commands.bytecode_cache():
        folder = Path(scratch)
        valid_paths = commands.write_files(valid_files, folder / "valid")
        invalid_paths = commands.write_files(invalid_files, folder / "invalid")
        say("cold starts, and the first validate() of a fresh process, valid and invalid")
        cold = commands.cold_start(valid_paths[0], invalid_paths[0], options.repeat)
        first = library.first_call(valid_paths[0], options.repeat)
        pairs = library.first_pairs(first_documents(dataset, folder / "first"), options.repeat)
        say("the models: import and first use, against import pydantic")
        starts = models.measure(timeback_envelope(dataset, folder), 3 * options.repeat)
        say(f"caliper-schema validate over {len(valid_paths)} valid files, then {len(invalid_paths)} invalid")
        cli_valid = commands.cli_over(folder / "valid", options.passes, commands.VALID)
        # Informative only, and seconds a run: once is enough.
        cli_invalid = commands.cli_over(folder / "invalid", 1, commands.INVALID)
        say(f"generating {options.lines:,} Timeback envelopes as JSON Lines (caliper-schema generate)")
        lines_file = folder / "timeback.jsonl"
        commands.generate_lines(lines_file, options.lines, options.seed)
        say("caliper-schema validate FILE.jsonl, an orjson-only process and an orjson + jsonschema-rs one")
        jsonl = commands.json_lines(lines_file, options.passes)
        say(f"jsonschema baseline, stratified, cap {options.cap:g} s per event type")
        base = baseline.measure(dataset, SCHEMAS, options.cap, options.per_kind)
        say(f"check-jsonschema, one file per event type, cap {options.cap:g} s")
        cj = commands.check_jsonschema(SCHEMAS, valid_files, valid_paths, options.cap)
    say("done")
    machine.append("- load average (1, 5, 15 min) at the end: " + report.load_average())
    results = report.Results(
        count=options.count, files=len(valid_files), mean_bytes=dataset.mean_bytes,
        shares=Counter(sample.kind for sample in dataset.valid), library=rates, first=first, pairs=pairs,
        cli_valid=cli_valid, cli_invalid=cli_invalid, cold=cold, baseline=base, check_jsonschema=cj,
        cap=options.cap, passes=options.passes, models=starts, streams=stream_rates, jsonl=jsonl,
    )  # fmt: skip
    return report.render(results, machine)


def first_documents(dataset: data.Dataset, folder: Path) -> list[tuple[str, Path, Path]]:
    """The first document of each event type, valid and with its mistakes, as files."""
    folder.mkdir(parents=True, exist_ok=True)
    pairs: dict[str, tuple[str, Path, Path]] = {}
    for number, (valid, invalid) in enumerate(zip(dataset.valid, dataset.invalid, strict=True)):
        if valid.kind not in pairs:
            paths = folder / f"{number:05d}-{valid.kind}.json", folder / f"{number:05d}-{valid.kind}-bad.json"
            paths[0].write_bytes(valid.raw)
            paths[1].write_bytes(invalid.raw)
            pairs[valid.kind] = (valid.kind, *paths)
    return list(pairs.values())


def run_library(options: Options) -> str:
    """``python -m benchmarks --library``: the library's rows and targets alone (a minute or two)."""
    machine = report.machine(ROOT)
    dataset = data.generate(options.count, options.seed)
    data.verify(dataset)
    rates = library.measure(dataset, options.passes)
    with tempfile.TemporaryDirectory(prefix="caliper-bench-") as scratch, commands.bytecode_cache():
        pairs = library.first_pairs(first_documents(dataset, Path(scratch)), options.repeat)
    machine.append("- load average (1, 5, 15 min) at the end: " + report.load_average())
    return "\n".join(["## Machine", "", *machine, "", *report.library_section(rates, pairs), ""])


def timeback_envelope(dataset: data.Dataset, folder: Path) -> Path:
    """The first Timeback ActivityEvent envelope of the data set, as a file for the models' first use."""
    sample = next(sample for sample in dataset.valid if sample.kind == "ActivityEvent")
    path = folder / "timeback-activity-envelope.json"
    path.write_bytes(sample.raw)
    return path


def run_models(options: Options) -> str:
    """``python -m benchmarks --models``: the models' import and first use alone (half a minute)."""
    machine = report.machine(ROOT)
    dataset = data.generate(50, options.seed)
    with tempfile.TemporaryDirectory(prefix="caliper-bench-") as scratch, commands.bytecode_cache():
        starts = models.measure(timeback_envelope(dataset, Path(scratch)), 3 * options.repeat)
    machine.append("- load average (1, 5, 15 min) at the end: " + report.load_average())
    verdicts = models.target_rows(starts)
    rows = [[name, measured, "PASS" if passed else "MISS"] for name, measured, passed in verdicts]
    return "\n".join(["## Machine", "", *machine, "", "## Models: import and first use", "",
                      *models.table(starts), "", "## Targets", "",
                      *report.table(["target", "measured", "verdict"], rows, "lrl"), ""])  # fmt: skip
