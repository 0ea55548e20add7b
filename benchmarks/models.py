"""The generated models as an app meets them: import, then the first use, in fresh interpreters.

Each measurement is a fresh ``python -c`` process, its CPU time and its wall clock, the best of ``repeat``
runs (the targets are judged on CPU time: see :func:`_timed`); the runs of all the measurements are taken in
turn (run 1 of each, then run 2 of each, ...) so that the ratios compare processes started under the same
load. The caller runs them with bytecode caches
(``commands.bytecode_cache``), as after a pip install. The baselines are Pydantic's own import
(``import pydantic``) and, for the strategies, ``import hypothesis, pydantic``: what any app or test session
using them pays anyway.

The phases (an in-process clock in one more set of fresh interpreters) say where the time of the first use
of an Envelope goes: Pydantic's import, the first model class (Pydantic's schema machinery), the generated
modules (class creation), the first ``model_validate`` (the validators of the models it meets).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.timing import UnexpectedStatus

PROGRAMS: dict[str, str] = {
    "pydantic": "import pydantic",
    "floor": "from pydantic import BaseModel\n"
    "class One(BaseModel):\n"
    "    x: int\n"
    "One.model_validate({'x': 1})",
    "envelope": "import json, sys\n"
    "from caliper_schema.models.envelope import Envelope\n"
    "Envelope.model_validate(json.load(open(sys.argv[1])))",
    "event": "import json, sys\n"
    "from caliper_schema.models.timeback.activity_event import TimebackActivityEvent\n"
    "TimebackActivityEvent.model_validate(json.load(open(sys.argv[1]))['data'][0])",
    "hypothesis": "import hypothesis, pydantic",
    "strategies": "import caliper_schema.strategies",
}

LABELS = {
    "pydantic": '`python -c "import pydantic"` (baseline)',
    "floor": "a one-field Pydantic model: its class, then its first `model_validate` (Pydantic's own floor)",
    "envelope": "import `Envelope`, first `model_validate` of a Timeback envelope",
    "event": "import `TimebackActivityEvent`, first `model_validate` of its event",
    "hypothesis": '`python -c "import hypothesis, pydantic"` (baseline of the strategies)',
    "strategies": '`python -c "import caliper_schema.strategies"`',
}

# (measurement, baseline, at most this many times the baseline): the targets
TARGETS = (("envelope", "pydantic", 5.0), ("event", "pydantic", 3.0), ("strategies", "hypothesis", 5.0))

_PHASES = """
import json, sys, time
start = time.perf_counter()
import pydantic
pydantic_done = time.perf_counter()
import caliper_schema.modelbase  # the first model class: Pydantic's schema machinery is imported here
base_done = time.perf_counter()
from caliper_schema.models.envelope import Envelope
models_done = time.perf_counter()
Envelope.model_validate(json.load(open(sys.argv[1])))
first_done = time.perf_counter()
print(json.dumps([pydantic_done - start, base_done - pydantic_done, models_done - base_done,
                  first_done - models_done]))
"""

PHASES = (
    "`import pydantic`",
    "the first model class (`caliper_schema.modelbase`: Pydantic's schema machinery is imported)",
    "`from caliper_schema.models.envelope import Envelope` (5 small modules; no model is built)",
    "the first `Envelope.model_validate`: Pydantic's plugin discovery (`importlib.metadata`, every installed"
    " distribution's entry points), the Timeback event's modules imported, the validators of the Envelope"
    " and of the 6 models of a Timeback ActivityEvent built",
)


@dataclass(frozen=True)
class ModelStarts:
    """Best wall-clock and CPU seconds of each program, and the best in-process seconds of each phase."""

    seconds: dict[str, float]
    cpu: dict[str, float]
    phases: list[float]

    def ratio(self, name: str, baseline: str) -> float:
        """The targets' ratio: CPU time, which other work on the machine disturbs least."""
        return self.cpu[name] / self.cpu[baseline]

    def wall_ratio(self, name: str, baseline: str) -> float:
        return self.seconds[name] / self.seconds[baseline]


def measure(envelope: Path, repeat: int) -> ModelStarts:
    """Each program ``repeat`` times, in turn, after an untimed round; ``envelope``: a Timeback envelope."""
    argv = {name: [sys.executable, "-c", code, str(envelope)] for name, code in PROGRAMS.items()}
    for command in argv.values():  # fills the OS and bytecode caches
        _timed(command)
    wall = dict.fromkeys(argv, float("inf"))
    cpu = dict.fromkeys(argv, float("inf"))
    for _ in range(repeat):
        for name, command in argv.items():
            seconds, used = _timed(command)
            wall[name], cpu[name] = min(wall[name], seconds), min(cpu[name], used)
    return ModelStarts(wall, cpu, phases(envelope, repeat))


def _timed(command: list[str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (user + system) of one process, which must succeed.

    The CPU time is what the program costs; the wall clock adds whatever else the machine runs meanwhile,
    which on a shared machine varies more than the programs compared here differ.
    """
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise UnexpectedStatus(
            f"{command[2][:60]!r} exited with {process.returncode}: {errors.decode()[-500:]}"
        )
    return wall, usage.ru_utime + usage.ru_stime


def phases(envelope: Path, repeat: int) -> list[float]:
    """The best in-process seconds of each phase of an Envelope's first use, over ``repeat`` interpreters."""
    runs = [
        json.loads(subprocess.run([sys.executable, "-c", _PHASES, str(envelope)], check=True,
                                  capture_output=True, text=True).stdout)
        for _ in range(repeat)
    ]  # fmt: skip
    return [min(run[index] for run in runs) for index in range(len(PHASES))]


def table(starts: ModelStarts) -> list[str]:
    """Markdown lines: the programs with their ratio to their baseline, then the phases."""
    lines = ["| measurement (fresh processes, best of runs) | CPU s | x baseline | wall s | x baseline |",
             "| --- | ---: | ---: | ---: | ---: |"]  # fmt: skip
    baselines = {"floor": "pydantic", "envelope": "pydantic", "event": "pydantic", "strategies": "hypothesis"}
    for name, label in LABELS.items():
        cpu = f"{starts.ratio(name, baselines[name]):.1f}x" if name in baselines else ""
        wall = f"{starts.wall_ratio(name, baselines[name]):.1f}x" if name in baselines else ""
        lines.append(f"| {label} | {starts.cpu[name]:.3f} | {cpu} | {starts.seconds[name]:.3f} | {wall} |")
    lines += ["", "| where an Envelope's first use goes (in-process clock, best of runs) | seconds |",
              "| --- | ---: |"]  # fmt: skip
    lines += [f"| {name} | {seconds:.3f} |" for name, seconds in zip(PHASES, starts.phases, strict=True)]
    return lines


def target_rows(starts: ModelStarts) -> list[tuple[str, str, bool]]:
    """(target, measured, passed) for each of the issue's targets on the models."""
    names = {"envelope": "import of `Envelope` + first `model_validate` of a Timeback envelope",
             "event": "import of one Timeback event model + its first validation",
             "strategies": "`import caliper_schema.strategies`"}  # fmt: skip
    bases = {"pydantic": "`import pydantic`", "hypothesis": "`import hypothesis, pydantic`"}
    return [
        (f"{names[name]}: at most {limit:g}x {bases[baseline]} (CPU time; wall clock in the table)",
         f"{starts.ratio(name, baseline):.1f}x", starts.ratio(name, baseline) <= limit)
        for name, baseline, limit in TARGETS
    ]  # fmt: skip
