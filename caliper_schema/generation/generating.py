"""Fixture generation: seeded documents, valid or invalid, written as JSON Lines or one file each.

The same schema walk as the Hypothesis strategies (:mod:`~caliper_schema.generation.building`), answered by a
:class:`~caliper_schema.generation.drawing.RandomDraw` seeded per document with ``"<seed>:<index>"``: the same
seed and arguments give byte-identical output on any machine, and document ``i`` does not depend on how many
follow it. Types are taken round-robin, so ``count >= len(types)`` covers each.

>>> [fixture.document["type"] for fixture in generate(["ViewEvent", "ActivityEvent"], count=3, seed=11)]
['ViewEvent', 'ActivityEvent', 'ViewEvent']
>>> dumps(next(generate(["Person"], seed=1)).document)[:46]
'{"@context":"http://purl.imsglobal.org/ctx/cal'
"""

from __future__ import annotations

import errno
import json
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from caliper_schema import hints
from caliper_schema.generation.building import Builder, resolve_types, with_profile
from caliper_schema.generation.drawing import RandomDraw
from caliper_schema.generation.mutating import Mutant, mutate

ATTEMPTS = 20
"""Fresh documents tried for an invalid fixture before giving up (a type no chosen mutation applies to)."""
MANIFEST = "mutations.tsv"


@dataclass(frozen=True)
class Fixture:
    """One generated document; for an invalid one, the mutation it carries."""

    index: int
    type: str
    """The document type (for an envelope, that of its first item)."""
    document: dict[str, Any]
    mutant: Mutant | None = None

    @property
    def name(self) -> str:
        """A file name: ``00007-ViewEvent.json``, ``00007-ViewEvent-bad-format.json``."""
        label = f"-{self.mutant.label.replace(':', '-')}" if self.mutant else ""
        return f"{self.index:05d}-{self.type}{label}.json"


def types_for(types: Sequence[str] | None, profile: str | None) -> tuple[str, ...]:
    """The document types to generate: those named (checked), or every event type; with ``profile``,
    those named that admit it, or the event types the profile covers. Raises
    :class:`~caliper_schema.generation.building.UnknownType` with the nearest names.

    >>> types_for(None, "MediaProfile")
    ('MediaEvent', 'NavigationEvent', 'ViewEvent')
    """
    names = resolve_types(types, "event") if types else None
    if profile:
        return with_profile(names, profile)
    return names or resolve_types(None, "event")


def generate(
    types: Sequence[str] | None = None,
    *,
    profile: str | None = None,
    count: int = 10,
    seed: int = 0,
    invalid: bool = False,
    strict: bool = False,
    envelope: bool = False,
    mutations: Iterable[str] | None = None,
) -> Iterator[Fixture]:
    """``count`` documents of ``types`` taken in turn, reproducible from ``seed``.

    ``envelope`` wraps each in an Envelope (one to three events, the first of the turn's type);
    ``invalid`` mutates each once (``strict`` adds the mutations only strict validation rejects;
    ``mutations`` keeps labels matching its patterns).
    """
    names = types_for(types, profile)
    overrides = {"profile": profile} if profile else None
    labels = list(mutations) if mutations is not None else None
    for index in range(count):
        type_name = names[index % len(names)]
        draw = RandomDraw(random.Random(f"{seed}:{index}"))
        for _ in range(ATTEMPTS if invalid else 1):
            builder = Builder(draw, record_sites=invalid)
            if envelope:
                document = builder.envelope([type_name, *names], item_overrides=overrides)
            else:
                document = builder.document(type_name, overrides)
            if not invalid:
                yield Fixture(index, type_name, document)
                break
            mutant = mutate(document, builder, draw, strict=strict, labels=labels)
            if mutant is not None:
                yield Fixture(index, type_name, mutant.document, mutant)
                break
        else:
            raise ValueError(
                f"no chosen mutation applies to {hints.article(type_name)}: choose other types or mutations"
            )


def dumps(document: Any) -> str:
    """One document on one line: compact, keys in the order generated, UTF-8 text as is."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def write_lines(fixtures: Iterable[Fixture], stream: TextIO) -> int:
    """Write JSON Lines, one document a line; returns how many."""
    written = 0
    for fixture in fixtures:
        stream.write(dumps(fixture.document) + "\n")
        written += 1
    return written


def prepare_folder(folder: Path, *, force: bool = False) -> None:
    """Create ``folder``, or refuse (:class:`FileExistsError`) one that already holds files unless ``force``:
    fixtures of another run left beside these would be taken for theirs, and a same-named file overwritten."""
    if not force and folder.is_dir() and any(folder.iterdir()):
        reason = "it already holds files; choose an empty or new folder"
        raise FileExistsError(errno.EEXIST, reason, str(folder))
    folder.mkdir(parents=True, exist_ok=True)


def write_folder(fixtures: Iterable[Fixture], folder: Path, *, force: bool = False) -> int:
    """Write one indented ``.json`` file per document into ``folder`` (created if need be) and, for invalid
    fixtures, ``mutations.tsv``: each file's mutation label, pointer, rule and whether only strict
    validation rejects it. Returns how many documents.

    A folder that already holds files is refused (:class:`FileExistsError`) unless ``force``: fixtures of
    another run left beside these would be taken for theirs, and a same-named file would be overwritten.
    """
    prepare_folder(folder, force=force)
    rows = ["file\tlabel\tpointer\trule\tstrict"]
    written = 0
    for fixture in fixtures:
        text = json.dumps(fixture.document, ensure_ascii=False, indent=2) + "\n"
        (folder / fixture.name).write_text(text, encoding="utf-8")
        if fixture.mutant is not None:
            m = fixture.mutant
            rows.append(f"{fixture.name}\t{m.label}\t{m.pointer}\t{m.rule or ''}\t{str(m.strict).lower()}")
        written += 1
    if len(rows) > 1:
        (folder / MANIFEST).write_text("\n".join(rows) + "\n", encoding="utf-8")
    return written
