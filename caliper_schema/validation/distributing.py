"""Beyond one machine: an event archive in JSON Lines shards, validated on a Dask cluster.

An archive too large for one machine is kept as many JSON Lines files (shards), on storage every worker
reads: a shared file system, or any store `fsspec <https://filesystem-spec.readthedocs.io>`_ opens (with
its driver installed on the workers: ``s3fs`` for ``s3://``, ...); ``.gz``, ``.bz2`` and ``.xz`` shards
are read compressed. :func:`verdicts` maps each shard, as one Dask task, to one :class:`Verdict` per line
(an event, or an envelope of events); :func:`audit` sums them up: documents, invalid ones, and how many
issues each rule raised. The verdict on each line is :func:`~caliper_schema.validate`'s, so an archive
validated here and the same lines validated one by one agree.

Dask is an optional extra (``pip install 'caliper-schema[dask]'``), imported only when a bag is built:
importing this module, or :mod:`caliper_schema`, does not import it. :func:`check_shard` (one shard, in
this process) needs none of Dask but ``fsspec``, which comes with it.

>>> import tempfile, pathlib
>>> shard = pathlib.Path(tempfile.mkdtemp()) / "events-0001.jsonl"
>>> _ = shard.write_text('{"type": "Event"}\\n\\nnot json\\n')
>>> [(verdict.line, verdict.status, verdict.errors[:1]) for verdict in check_shard(shard)]
[(1, 'error', ('schema.required',)), (3, 'error', ('json.syntax',))]
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from caliper_schema.policy import DEFAULT, Policy
from caliper_schema.reporting import Report
from caliper_schema.validation.parsing import parse_lines
from caliper_schema.validation.pipeline import document_issues

if TYPE_CHECKING:
    import dask.bag

Shard = str | os.PathLike[str]
"""A shard's path, or a URL ``fsspec`` opens (``s3://archive/2024/05/events-0001.jsonl.gz``)."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """The verdict on one line of a shard: an event, or an envelope of events."""

    shard: str
    line: int
    """The line of the document in its shard (1-based; blank lines are skipped, not counted out)."""
    status: Literal["success", "error"]
    errors: tuple[str, ...]
    """The rule id of each of its errors, in report order (a rule can repeat: one issue each)."""
    warnings: tuple[str, ...]
    id: str | None = None
    """The document's ``id`` when it has one as a string (an event's ``urn:uuid:...``), to join on."""


@dataclass(frozen=True)
class Audit:
    """What :func:`audit` found in an archive."""

    documents: int
    invalid: int
    rules: dict[str, int] = field(default_factory=dict)
    """Issues raised by each rule (errors and warnings), the most frequent first."""

    @property
    def valid(self) -> int:
        """Documents without an error."""
        return self.documents - self.invalid


def check_shard(shard: Shard, *, policy: Policy = DEFAULT) -> list[Verdict]:
    """The verdict on each line of one shard, read a line at a time (what each Dask task runs).

    Raises :class:`OSError` when the shard cannot be read: a Dask computation then fails, and says which
    shard, rather than leave it out of the audit.
    """
    import fsspec  # a dependency of Dask; imported here so that the module imports without it

    name = os.fspath(shard)
    with fsspec.open(name, "rb", compression="infer") as stream:
        return list(_verdicts(name, stream, policy))


def _verdicts(name: str, stream: Iterable[bytes], policy: Policy) -> Iterator[Verdict]:
    for document in parse_lines(stream, policy.limits):
        report = Report.from_issues(document_issues(document, policy))
        value = document.value
        found = value.get("id") if isinstance(value, dict) else None
        yield Verdict(
            name,
            document.first_line,
            report.status,
            tuple(issue.rule for issue in report.errors),
            tuple(issue.rule for issue in report.warnings),
            found if isinstance(found, str) else None,
        )


def verdicts(shards: Iterable[Shard], *, strict: bool = False, policy: Policy | None = None) -> dask.bag.Bag:
    """A Dask bag of the :class:`Verdict` on every line of every shard, one partition per shard (lazy:
    nothing runs before it is computed, on the scheduler in force, such as a ``distributed.Client``).

    Filter it, count it, or write it out as any bag, e.g. the invalid lines of a large archive:
    ``verdicts(shards).filter(lambda v: v.status == "error").map(dataclasses.asdict).to_textfiles(...)``.
    """
    import dask.bag

    policy = policy or DEFAULT
    if strict and not policy.strict:
        policy = replace(policy, strict=True)
    names = [os.fspath(shard) for shard in shards]
    if not names:
        raise ValueError("no shards to validate")
    return dask.bag.from_sequence(names, npartitions=len(names)).map(check_shard, policy=policy).flatten()


def rule_counts(bag: dask.bag.Bag) -> dask.bag.Bag:
    """The issues each rule raised across a bag of verdicts, as ``(rule, count)`` pairs (lazy)."""
    return bag.map(_rules).flatten().frequencies()


def _rules(verdict: Verdict) -> tuple[str, ...]:
    return verdict.errors + verdict.warnings


def _invalid(verdict: Verdict) -> bool:
    return verdict.status == "error"


def audit(shards: Iterable[Shard], *, strict: bool = False, policy: Policy | None = None) -> Audit:
    """Validate every line of every shard on the scheduler in force and sum up the verdicts; each shard
    is read once (the counts share one computation of the verdicts).

    With a ``distributed.Client`` created first, the shards are validated on its cluster::

        from dask.distributed import Client
        from caliper_schema.validation.distributing import audit

        with Client("tcp://scheduler:8786"):
            found = audit(sorted(glob.glob("/archive/2024/*.jsonl.gz")))
        print(found.invalid, "of", found.documents, "invalid;", found.rules)
    """
    from dask.base import compute

    bag = verdicts(shards, strict=strict, policy=policy)
    documents, invalid, counts = compute(bag.count(), bag.filter(_invalid).count(), rule_counts(bag))
    return Audit(int(documents), int(invalid), _ranked(dict(counts)))


def tally(found: Iterable[Verdict]) -> Audit:
    """:func:`audit`'s sums over verdicts already computed (a shard checked in this process, say).

    >>> tally([Verdict("s", 1, "error", ("schema.required",), ()), Verdict("s", 2, "success", (), ())])
    Audit(documents=2, invalid=1, rules={'schema.required': 1})
    """
    documents = invalid = 0
    counts: Counter[str] = Counter()
    for verdict in found:
        documents += 1
        invalid += verdict.status == "error"
        counts.update(_rules(verdict))
    return Audit(documents, invalid, _ranked(counts))


def _ranked(counts: dict[str, int]) -> dict[str, int]:
    return {rule: int(counts[rule]) for rule in sorted(counts, key=lambda rule: (-counts[rule], rule))}


__all__ = ["Audit", "Shard", "Verdict", "audit", "check_shard", "rule_counts", "tally", "verdicts"]
