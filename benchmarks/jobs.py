"""``python -m benchmarks.jobs`` (a step of ``make bench``): ``validate --jobs 2`` against ``--jobs 1``.

The same JSON Lines file of ``--count`` envelopes (20,000 by default, one event each, from the seeded
benchmark data: mostly Timeback events) is checked by fresh ``caliper-schema validate`` processes with
``--jobs 1`` and ``--jobs 2``, taken in turn (1, 2, 1, 2, ...: a change in the machine's load falls on both),
and the speed-up is the median of each pair's ratio (target: at least 1.7 on 2 cores), shown with the ratio
of the best of each. The same for the broken copy of each envelope (every document invalid: the cap shows 200
issues, all are judged). The target is judged on the median: the best of each can pair one lucky moment of
one with none of the other (one run measured a best of 1.36x where the pairs' median was 1.87x: one
``--jobs 1`` run a third faster than its four others).

The processes run the package as pip installs it, its bytecode compiled: from a copy compiled into the
temporary folder (``-m`` imports it from the working directory). An editable install under
``PYTHONDONTWRITEBYTECODE`` (set on this machine) compiles the package's source at every start instead,
about 0.2 s before any work, the same for both; ``--source`` times that.

Then the threshold of the default (``--jobs`` not given: every core once the files hold
``parallel.AUTO_BYTES``): both over the first 128 KiB to 4 MiB of the file, where the pool's start stops
costing more than it saves.
"""

from __future__ import annotations

import argparse
import compileall
import shutil
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import orjson

from benchmarks import data, report
from benchmarks.timing import run_process
from caliper_schema.cli.parallel import AUTO_BYTES, usable_cores

ROOT = Path(__file__).resolve().parent.parent
COMMAND = [sys.executable, "-m", "caliper_schema", "validate"]


def _compiled(folder: Path) -> str:
    """A folder holding a copy of the package with its bytecode compiled, as pip installs it."""
    site = folder / "site"
    package = ROOT / "caliper_schema"
    shutil.copytree(package, site / package.name, ignore=shutil.ignore_patterns("__pycache__"))
    if not compileall.compile_dir(site / package.name, quiet=1):
        raise SystemExit("the package's copy did not compile")
    return str(site)


def _time(path: Path, jobs: int, expect: int, cwd: str | None) -> float:
    return run_process([*COMMAND, "--jobs", str(jobs), str(path)], expect=expect, cwd=cwd).seconds


def _interleaved(path: Path, expect: int, rounds: int, cwd: str | None) -> tuple[float, float, float]:
    """The best wall time of ``--jobs 1`` and of ``--jobs 2``, taken in turn, and the median of the ratios
    of each pair: this machine's speed varies by a third from one run to the next, so that a best run
    of one may fall where the other had none."""
    one: list[float] = []
    two: list[float] = []
    for _ in range(rounds):
        one.append(_time(path, 1, expect, cwd))
        two.append(_time(path, 2, expect, cwd))
    return min(one), min(two), statistics.median(a / b for a, b in zip(one, two, strict=True))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.jobs", description=__doc__)
    parser.add_argument("--count", type=int, default=20_000, help="envelopes in the file (20,000)")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each, in turn (5)")
    parser.add_argument("--seed", type=int, default=data.SEED)
    parser.add_argument(
        "--source", action="store_true", help="run the package as installed here, not compiled"
    )
    args = parser.parse_args(argv)
    dataset = data.generate(args.count, args.seed)
    lines = [
        "## validate --jobs",
        "",
        f"- cores usable: {usable_cores()}; load average before: {report.load_average()}",
    ]
    with tempfile.TemporaryDirectory() as folder:
        cwd = None if args.source else _compiled(Path(folder))
        lines.append(
            "- the package as installed here (its source compiled at each start, bytecode not written)"
            if args.source
            else "- the package with its bytecode compiled, as pip installs it"
        )
        valid, invalid = Path(folder) / "valid.jsonl", Path(folder) / "invalid.jsonl"
        valid.write_bytes(b"".join(orjson.dumps(sample.document) + b"\n" for sample in dataset.valid))
        invalid.write_bytes(b"".join(orjson.dumps(sample.document) + b"\n" for sample in dataset.invalid))
        lines += [
            "",
            "| file | size | --jobs 1, best | --jobs 2, best | ratio of the bests"
            " | speed-up, median of the pairs (target >= 1.7) |",
            "|---|---|---|---|---|---|",
        ]
        for name, path, expect in (("valid", valid, 0), ("invalid", invalid, 1)):
            one, two, pairs = _interleaved(path, expect, args.rounds, cwd)
            verdict = "PASS" if pairs >= 1.7 else "MISS"
            lines.append(
                f"| {args.count:,} envelopes, {name} | {path.stat().st_size / 2**20:.1f} MiB | {one:.2f} s |"
                f" {two:.2f} s | {one / two:.2f}x | {pairs:.2f}x {verdict} |"
            )
        lines += [
            "",
            f"Where the pool starts to pay (the default uses it from {AUTO_BYTES // 1024} KiB):",
            "",
        ]
        lines += ["| first bytes of the valid file | --jobs 1 | --jobs 2 | ratio |", "|---|---|---|---|"]
        content = valid.read_bytes()
        for size in (128 * 1024, 512 * 1024, 1024 * 1024, 4 * 1024 * 1024):
            part = Path(folder) / f"first-{size}.jsonl"
            part.write_bytes(content[: content.rfind(b"\n", 0, size) + 1])
            one, two, _ = _interleaved(part, 0, args.rounds, cwd)
            lines.append(f"| {size // 1024:,} KiB | {one:.2f} s | {two:.2f} s | {one / two:.2f}x |")
    lines += ["", f"- load average after: {report.load_average()}"]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
