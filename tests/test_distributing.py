"""An archive of JSON Lines shards validated on a real Dask cluster (a ``LocalCluster`` of two worker
processes on 127.0.0.1), against the same lines validated one by one in this process.

The expectations come from the generator (each invalid document's mutation names the rule it breaks)
and from :func:`caliper_schema.validate` line by line: the distributed verdicts must be the same.
"""

from __future__ import annotations

import gzip
import json
import logging
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from caliper_schema import validate
from caliper_schema.generation.generating import generate
from caliper_schema.validation.distributing import Audit, Verdict, audit, check_shard, tally, verdicts

pytestmark = pytest.mark.slow  # starts a scheduler and two worker processes

distributed = pytest.importorskip("distributed", reason="the dask extra: pip install 'caliper-schema[dask]'")


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
        silence_logs=logging.ERROR,
    )  # fmt: skip
    with cluster, distributed.Client(cluster) as connected:
        yield connected


def _lines(fixtures: Any) -> list[bytes]:
    return [json.dumps(fixture.document).encode() for fixture in fixtures]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], dict[tuple[str, int], str]]:
    """Three shards: valid events with a blank and a broken line, invalid events (gzipped), envelopes and
    an event with a warning (a date-time not in the Caliper form). Returns them and, for each invalid
    generated line, the rule its mutation breaks."""
    folder = tmp_path_factory.mktemp("archive")
    valid = _lines(generate(count=30, seed=1))
    mutants = list(generate(count=30, seed=2, invalid=True))
    envelopes = _lines(generate(count=15, seed=3, envelope=True)) + _lines(
        generate(count=15, seed=4, envelope=True, invalid=True)
    )
    shards = [folder / "events-0001.jsonl", folder / "events-0002.jsonl.gz", folder / "envelopes.jsonl"]
    shards[0].write_bytes(b"\n".join([*valid[:10], b"", *valid[10:], b'{"type": "Event",']) + b"\n")
    shards[1].write_bytes(gzip.compress(b"\n".join(_lines(mutants)) + b"\n"))
    warned = next(generate(count=1, seed=5))
    warned.document["eventTime"] = "2024-05-01T10:00:00Z"  # no milliseconds: a warning, an error if strict
    shards[2].write_bytes(b"\r\n".join([*envelopes, *_lines([warned])]))
    broken = {(str(shards[1]), line): mutant.mutant.rule for line, mutant in enumerate(mutants, start=1)
              if mutant.mutant and mutant.mutant.rule and not mutant.mutant.strict}  # fmt: skip
    return shards, broken


@cache
def one_by_one(shards: tuple[Path, ...]) -> list[Verdict]:
    """Each line of each shard through ``validate()`` in this process: the expectation."""
    expected = []
    for shard in shards:
        data = shard.read_bytes()
        data = gzip.decompress(data) if shard.suffix == ".gz" else data
        for number, line in enumerate(data.split(b"\n"), start=1):
            line = line.removesuffix(b"\r")
            if not line.strip():
                continue
            report = validate(line)
            try:
                value = json.loads(line)
            except ValueError:
                value = None
            found = value.get("id") if isinstance(value, dict) else None
            expected.append(Verdict(
                str(shard), number, report.status, tuple(issue.rule for issue in report.errors),
                tuple(issue.rule for issue in report.warnings), found if isinstance(found, str) else None,
            ))  # fmt: skip
    return expected


def test_the_cluster_gives_each_line_its_own_verdict(client: Any, archive: Any) -> None:
    shards, broken = archive
    computed = sorted(verdicts(shards).compute(), key=lambda verdict: (verdict.shard, verdict.line))
    expected = one_by_one(tuple(shards))
    assert computed == sorted(expected, key=lambda verdict: (verdict.shard, verdict.line))
    assert len(computed) == 30 + 1 + 30 + 31  # the blank line is no document; the broken one is
    by_place = {(verdict.shard, verdict.line): verdict for verdict in computed}
    assert by_place[(str(shards[0]), 32)].errors == ("json.syntax",)  # line 11 is the blank one
    assert all(
        by_place[(str(shards[0]), line)].status == "success" for line in (*range(1, 11), *range(12, 32))
    )
    assert len(broken) >= 20
    for place, rule in broken.items():
        assert by_place[place].status == "error" and rule in by_place[place].errors, (place, rule)
    assert {verdict.id for verdict in computed if verdict.shard == str(shards[0])} >= {None} | {
        json.loads(line)["id"] for line in _lines(generate(count=30, seed=1))
    }


def test_an_audit_sums_the_verdicts_on_the_cluster(client: Any, archive: Any) -> None:
    shards, broken = archive
    expected = one_by_one(tuple(shards))
    found = audit(shards)
    assert found == tally(expected)
    assert found.documents == 92 and found.invalid == sum(verdict.status == "error" for verdict in expected)
    assert found.valid == found.documents - found.invalid > 30
    rules = Counter(rule for verdict in expected for rule in verdict.errors + verdict.warnings)
    assert found.rules == dict(rules) and list(found.rules.values()) == sorted(rules.values(), reverse=True)
    assert set(broken.values()) <= set(found.rules)


def test_strict_is_applied_on_the_workers(client: Any, archive: Any) -> None:
    shards, _ = archive
    default, strict = audit(shards), audit(shards, strict=True)
    warned = sum(
        bool(verdict.warnings) and verdict.status == "success" for verdict in one_by_one(tuple(shards))
    )
    assert warned >= 1
    assert strict.invalid == default.invalid + warned
    assert strict.rules == default.rules  # the same issues, weighed otherwise


def test_an_unreadable_shard_fails_the_audit_rather_than_dropping_out(client: Any, tmp_path: Path) -> None:
    shard = tmp_path / "events.jsonl"
    shard.write_bytes(b'{"type": "Event"}\n')
    with pytest.raises(FileNotFoundError):
        audit([shard, tmp_path / "missing.jsonl"])
    with pytest.raises(ValueError, match="no shards"):
        verdicts([])


def test_a_shard_is_checked_in_process_too(archive: Any) -> None:
    shards, _ = archive
    assert check_shard(shards[1]) == [
        verdict for verdict in one_by_one(tuple(shards)) if verdict.shard == str(shards[1])
    ]
    assert tally(check_shard(shards[0])) == Audit(31, 1, {"json.syntax": 1})


def test_importing_the_package_imports_no_dask() -> None:
    script = (
        "import sys, caliper_schema, caliper_schema.validation, caliper_schema.validation.distributing;"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in ('dask', 'distributed')))"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
