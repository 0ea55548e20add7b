"""Whole processes, timed by wall clock: the ``caliper-schema`` CLI, check-jsonschema, cold starts.

The pre-commit case: one process is given every file. ``caliper-schema validate DIR`` over 1,000 small
files is timed directly (best of a few runs). check-jsonschema, validating the same files with the same
schema as a pre-commit user would (``--schemafile schemas/envelope.json``, ``--base-uri`` so the
relative ``$ref``s resolve to the local files), spends seconds to minutes on each file (the same
jsonschema engine and IRI checker as :mod:`benchmarks.baseline`), so a run over the 1,000 files would
take hours. It is timed instead on its start-up (one trivially invalid file) and on one file of each
event type (each a fresh process, cut off at a cap); the 1,000-file time is start-up plus, for each
type, its number of files times its per-file cost. A cut-off type makes that a lower bound.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.data import CALIPER, Sample
from benchmarks.timing import Run, best_run, run_process

BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """A console script of this virtual environment."""
    return str(BIN / name)


def write_files(samples: list[Sample], folder: Path) -> list[Path]:
    """One ``.json`` file per sample, named so that directory order is data set order."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, sample in enumerate(samples):
        path = folder / f"{number:05d}-{sample.kind}.json"
        path.write_bytes(sample.raw)
        paths.append(path)
    return paths


VALID, INVALID = 0, 1
"""Exit statuses of both CLIs: every file valid, some file invalid."""


def cli_over(folder: Path, repeat: int, expect: int) -> Run:
    """``caliper-schema validate DIR``: one process over every file in the folder (best of ``repeat``)."""
    return best_run([tool("caliper-schema"), "validate", str(folder)], repeat, expect=expect)


# --- check-jsonschema --------------------------------------------------------------------------------


def check_jsonschema_argv(schemas_dir: Path, files: list[Path]) -> list[str]:
    schema = (schemas_dir / "envelope.json").resolve()
    options = ["--schemafile", str(schema), "--base-uri", schema.as_uri()]
    return [tool("check-jsonschema"), *options, *map(str, files)]


@dataclass(frozen=True)
class CheckJsonschema:
    startup: Run
    """One process over one trivially invalid file: interpreter, imports, schema loading."""
    per_kind: dict[str, float]
    """Seconds one file of each event type adds to a run (at least this when censored)."""
    censored: list[str]
    estimate_seconds: float
    """Start-up plus the per-file cost of every file of the set."""

    @property
    def bound(self) -> bool:
        return bool(self.censored)


def trivial_file(folder: Path) -> Path:
    """An envelope whose one data item is not an object: every branch fails on its first keyword."""
    path = folder / "trivial.json"
    path.write_text(
        '{"sensor": "https://example.com", "sendTime": "2025-01-01T00:00:00.000Z",'
        f' "dataVersion": "{CALIPER}", "data": [1]}}'
    )
    return path


def check_jsonschema(
    schemas_dir: Path, samples: list[Sample], paths: list[Path], cap: float
) -> CheckJsonschema:
    """Estimate check-jsonschema's time over ``paths`` (the files of ``samples``) from a stratified sample.

    Each event type gets ``cap`` seconds of validation on top of the start-up.
    """
    with tempfile.TemporaryDirectory(prefix="caliper-bench-") as scratch:
        startup = best_run(
            check_jsonschema_argv(schemas_dir, [trivial_file(Path(scratch))]), 3, expect=INVALID
        )
    first: dict[str, Path] = {}
    for sample, path in zip(samples, paths, strict=True):
        first.setdefault(sample.kind, path)
    per_kind: dict[str, float] = {}
    censored = []
    for kind, path in first.items():
        # A valid file must pass: a quick exit 1 would mean the schema did not load, not a fast validator.
        run = run_process(check_jsonschema_argv(schemas_dir, [path]), cap=startup.seconds + cap, expect=VALID)
        per_kind[kind] = max(run.seconds - startup.seconds, 0.0)
        if run.status is None:
            censored.append(kind)
            per_kind[kind] = cap
    counts = Counter(sample.kind for sample in samples)
    estimate = startup.seconds + sum(per_kind[kind] * count for kind, count in counts.items())
    return CheckJsonschema(startup, per_kind, censored, estimate)


# --- cold start ----------------------------------------------------------------------------------------


@contextmanager
def environment(**changes: str | None) -> Iterator[None]:
    """Environment variables for the processes started inside the block (``None`` unsets one)."""
    saved = dict(os.environ)
    for name, value in changes.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def bytecode_cache() -> Iterator[None]:
    """Processes started inside the block keep their bytecode in a scratch cache.

    This environment sets ``PYTHONDONTWRITEBYTECODE``, so the repository's modules have no
    ``__pycache__`` and every process would compile them afresh. An installed package has its bytecode
    (pip compiles it): point Python at a scratch cache instead, so start-up is measured in that steady
    state and nothing is written into the repository.
    """
    with (
        tempfile.TemporaryDirectory(prefix="caliper-bench-pycache-") as pycache,
        environment(PYTHONDONTWRITEBYTECODE=None, PYTHONPYCACHEPREFIX=pycache),
    ):
        yield


@dataclass(frozen=True)
class ColdStart:
    validate_one: Run
    """``caliper-schema validate one.json``, a valid file, with bytecode caches (as after a pip install)."""
    uncached: Run
    """The same with no bytecode for the project's modules: this environment as it is."""
    invalid_one: Run
    """One invalid file: the slow path imports jsonschema to explain the errors."""
    import_package: Run
    interpreter: Run


def cold_start(valid: Path, invalid: Path, repeat: int) -> ColdStart:
    """Fresh processes, best of ``repeat`` each, after one untimed run fills the OS and bytecode caches.

    Called inside :func:`bytecode_cache`.
    """
    command = [tool("caliper-schema"), "validate"]
    with environment(PYTHONDONTWRITEBYTECODE="1", PYTHONPYCACHEPREFIX=None):
        uncached = best_run([*command, str(valid)], repeat, expect=VALID)
    run_process([*command, str(invalid)], expect=INVALID)
    return ColdStart(
        validate_one=best_run([*command, str(valid)], repeat, expect=VALID),
        uncached=uncached,
        invalid_one=best_run([*command, str(invalid)], repeat, expect=INVALID),
        import_package=best_run([sys.executable, "-c", "import caliper_schema"], repeat, expect=0),
        interpreter=best_run([sys.executable, "-c", "pass"], repeat, expect=0),
    )


# --- JSON Lines end to end -----------------------------------------------------------------------------

# The two reference processes read the same file a line at a time, as the CLI does. The schema-check one
# reaches into the fast path (as library.schema_floor_check does): what any CLI built on orjson and
# jsonschema-rs would pay, start-up and compilation included.
_ORJSON_ONLY = """
import sys, orjson
with open(sys.argv[1], "rb") as lines:
    for line in lines:
        orjson.loads(line)
"""
_SCHEMA_CHECK = """
import sys, orjson
from caliper_schema.registry import ENVELOPE_SHELL, load
from caliper_schema.validation.fastpath import fast_engine
engine, types = fast_engine(), load().types
valid = True
with open(sys.argv[1], "rb") as lines:
    for line in lines:
        value = orjson.loads(line)
        valid = engine.is_valid(ENVELOPE_SHELL, value) and valid
        for item in value["data"]:
            valid = engine.is_valid(types[item["type"]], item) and valid
sys.exit(0 if valid else 1)
"""


@dataclass(frozen=True)
class JsonLines:
    """``caliper-schema validate FILE.jsonl`` against processes that only parse, or parse and schema-check,
    the same lines: each the best of its runs, the runs taken in turn."""

    lines: int
    mean_bytes: float
    events: int
    orjson_only: Run
    schema_check: Run
    validate: Run

    @property
    def ratio(self) -> float:
        return self.validate.seconds / self.orjson_only.seconds


def generate_lines(path: Path, count: int, seed: int) -> None:
    """``count`` valid Timeback envelopes (1-3 events each) from the CLI's own generator, as JSON Lines."""
    argv = [tool("caliper-schema"), "generate", "--envelope", "--profile", "TimebackProfile",
            "--count", str(count), "--seed", str(seed)]  # fmt: skip
    with path.open("wb") as out:
        subprocess.run(argv, stdout=out, check=True)


def json_lines(path: Path, repeat: int) -> JsonLines:
    """The three processes over the file at ``path``, in turn, ``repeat`` times each (best kept)."""
    import orjson

    raw = path.read_bytes().splitlines()
    events = sum(len(orjson.loads(line)["data"]) for line in raw)
    commands = {
        "orjson_only": ([sys.executable, "-c", _ORJSON_ONLY, str(path)], 0),
        "schema_check": ([sys.executable, "-c", _SCHEMA_CHECK, str(path)], VALID),
        "validate": ([tool("caliper-schema"), "validate", str(path)], VALID),
    }
    runs: dict[str, list[Run]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, (argv, expect) in commands.items():
            runs[name].append(run_process(argv, expect=expect))
    best = {name: min(each, key=lambda run: run.seconds) for name, each in runs.items()}
    return JsonLines(len(raw), sum(map(len, raw)) / len(raw), events, **best)
