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
