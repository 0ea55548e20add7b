"""Step 1, reading: the bytes of a file, a device, a pipe or standard input, never more than a limit.

A size given by the file system is not trusted: ``st_size`` is 0 for a device, a pipe or standard input,
and a file can grow while it is read. Every input the toolkit reads goes through this module, which stops
at the limit + 1 byte (enough to know the input is over the limit) whatever the file claims. JSON Lines
are bounded the same way a line at a time: a line longer than the limit is passed over to its end in
fixed-size chunks, its length counted but its bytes not kept, so the lines after it are still read.

>>> import io
>>> read_at_most(io.BytesIO(b"0123456789"), 4)
b'01234'
>>> list(read_lines(io.BytesIO(b'{"a": 1}\\n' + b"x" * 9 + b"\\r\\n[]"), 8))
[b'{"a": 1}\\n', Oversized(size=9, exact=True), b'[]']
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

CHUNK = 1 << 20
"""How much is read at a time past a limit: memory stays bounded whatever the input's length."""


@dataclass(frozen=True)
class Oversized:
    """An input, or one line of JSON Lines, longer than the limit: not kept, only measured.

    ``exact`` is False when reading stopped at the limit + 1 byte (a device, a pipe), so ``size`` is only
    how far it was read.
    """

    size: int
    exact: bool


def read_at_most(stream: BinaryIO, limit: int) -> bytes:
    """The first ``limit`` + 1 bytes of ``stream`` at most, read in chunks (a pipe may give fewer a read)."""
    data = bytearray()
    while len(data) <= limit:
        chunk = stream.read(min(CHUNK, limit + 1 - len(data)))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def read_document(stream: BinaryIO, limit: int) -> bytes | Oversized:
    """The whole of ``stream``, or what it is when it holds more than ``limit`` bytes.

    A regular file whose size is known to be over the limit is not read at all.
    """
    try:
        status = os.fstat(stream.fileno())
    except (OSError, ValueError):  # io.BytesIO and other streams without a file descriptor
        status = None
    if status is not None and stat.S_ISREG(status.st_mode) and status.st_size > limit:
        return Oversized(status.st_size, exact=True)
    data = read_at_most(stream, limit)
    return Oversized(len(data), exact=False) if len(data) > limit else data


def head(path: Path, limit: int) -> bytes:
    """The first ``limit`` + 1 bytes of the file at ``path`` at most (a configuration file, say).

    Raises :class:`OSError` when it cannot be opened or read.
    """
    with path.open("rb") as stream:
        return read_at_most(stream, limit)


class LineSource(Protocol):
    """What :func:`read_lines` reads from: a binary stream's ``readline`` (or a part of a file's)."""

    def readline(self, size: int = -1, /) -> bytes: ...


def read_lines(stream: LineSource, limit: int) -> Iterator[bytes | Oversized]:
    """Each line of ``stream`` with its line ending, or an :class:`Oversized` for a line whose content
    (without ``\\n`` or ``\\r\\n``) is over ``limit`` bytes: one item a line, so numbering is unchanged."""
    while True:
        line = stream.readline(limit + 2)  # the content and a \r\n
        if not line:
            return
        if line.endswith(b"\n") or len(line) < limit + 2:
            yield line
            continue
        size, last = len(line), line[-2:]
        while not last.endswith(b"\n"):  # pass over the rest of the line without keeping it
            rest = stream.readline(CHUNK)
            if not rest:
                break
            size, last = size + len(rest), (last + rest)[-2:]
        yield Oversized(size - (len(last) - len(last.removesuffix(b"\n").removesuffix(b"\r"))), exact=True)
