"""The paths a user names, expanded to the files to check: directories searched, globs matched.

>>> [path.name for path in expand("examples/valid")][:2]
['caliper-generic-event.json', 'events.jsonl']
"""

from __future__ import annotations

import glob
from collections.abc import Iterator
from pathlib import Path

from caliper_schema.validation.pipeline import JSON_LINES_SUFFIXES

SUFFIXES = (".json", *JSON_LINES_SUFFIXES)
"""What a directory is searched for."""


def expand(argument: str) -> Iterator[Path]:
    """The files ``argument`` names: itself, the matching files under a directory, or a glob's matches."""
    path = Path(argument)
    if path.is_dir():
        for candidate in sorted(path.rglob("*")):
            hidden = any(part.startswith(".") for part in candidate.relative_to(path).parts)
            if candidate.suffix.lower() in SUFFIXES and candidate.is_file() and not hidden:
                yield candidate
    elif not path.exists() and glob.has_magic(argument):
        matches = sorted(glob.glob(argument, recursive=True))  # noqa: PTH207 - Path.glob takes no absolute pattern
        if not matches:
            raise FileNotFoundError(f"no file matches {argument!r}")
        yield from (Path(match) for match in matches if Path(match).is_file())
    else:
        yield path
