"""The paths a user names, expanded to the files to check: directories searched, globs matched.

A directory is searched for ``*.json``, ``*.jsonl`` and ``*.ndjson`` files, hidden names skipped,
symbolic links to folders followed, each folder entered once (a link back up the tree is not followed
again). Nothing found is dropped silently: a folder that cannot be listed, a dangling link or a file that
is not a regular one (a pipe, a device) is an :class:`Unreadable` in its place, which the command reports
as an I/O error while the rest is still checked.

>>> [path.name for path in expand("examples/valid")][:2]
['caliper-generic-event.json', 'events.jsonl']
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from caliper_schema.validation.pipeline import JSON_LINES_SUFFIXES

SUFFIXES = (".json", *JSON_LINES_SUFFIXES)
"""What a directory is searched for."""


@dataclass(frozen=True)
class Unreadable:
    """Something a directory search met but could not check, and why."""

    path: Path
    reason: str


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def expand(argument: str) -> Iterator[Path | Unreadable]:
    """The files ``argument`` names: itself, the matching files under a directory, or a glob's matches."""
    path = Path(argument)
    try:
        is_dir = path.is_dir()
    except OSError as error:  # a folder on the way that cannot be searched
        yield Unreadable(path, _reason(error))
        return
    if is_dir:
        yield from _search(path)
    elif not path.exists() and glob.has_magic(argument):
        matches = sorted(glob.glob(argument, recursive=True))  # noqa: PTH207 - Path.glob takes no absolute pattern
        if not matches:
            raise FileNotFoundError(f"no file matches {argument!r}")
        yield from (Path(match) for match in matches if Path(match).is_file())
    else:
        yield path


def _listing(folder: Path, seen: set[tuple[int, int]]) -> list[os.DirEntry[str]] | Unreadable | None:
    """The entries of ``folder`` by name, an Unreadable, or None for a folder already searched."""
    try:
        status = folder.stat()
        if (status.st_dev, status.st_ino) in seen:
            return None
        seen.add((status.st_dev, status.st_ino))
        with os.scandir(folder) as entries:
            return sorted(entries, key=lambda entry: entry.name)
    except OSError as error:
        return Unreadable(folder, f"cannot list this folder: {_reason(error)}")


def _search(root: Path) -> Iterator[Path | Unreadable]:
    """Depth first, entries by name: the order of sorting every path found."""
    seen: set[tuple[int, int]] = set()
    first = _listing(root, seen)
    if isinstance(first, Unreadable):
        yield first
        return
    stack = [iter(first or [])]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        try:
            is_dir, is_file = entry.is_dir(), entry.is_file()  # both follow symbolic links
        except OSError as error:
            yield Unreadable(path, _reason(error))
            continue
        if is_dir:
            listing = _listing(path, seen)
            if isinstance(listing, Unreadable):
                yield listing
            elif listing is not None:
                stack.append(iter(listing))
        elif path.suffix.lower() in SUFFIXES:
            yield path if is_file else Unreadable(path, _not_a_file(path))


def _not_a_file(path: Path) -> str:
    try:
        path.stat()
    except OSError as error:
        return f"{_reason(error)} (a dangling symbolic link?)"
    return "not a regular file (a pipe, a socket or a device): not read"
