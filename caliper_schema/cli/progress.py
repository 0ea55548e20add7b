"""A progress bar on standard error for long runs of ``validate``: bytes checked of the total, files done,
rate and time left, drawn by tqdm.

Only for a person watching: standard error must be a terminal, and not in CI (``CI`` set), on a dumb
terminal (``TERM=dumb``), with ``--format json`` or with ``--no-progress``; and only once the run has lasted
:data:`DELAY` seconds, so short runs never show it. It is cleared when the run ends; standard output is never
touched. Messages written to standard error meanwhile clear it first, so they are not cut by it.
"""

from __future__ import annotations

import os
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from tqdm import tqdm

DELAY = 1.0
"""Seconds before the bar appears."""
REDRAW = 0.2
"""Seconds at least between two drawings of the bar."""


def wanted(stream: TextIO, *, asked: bool) -> bool:
    """True when a bar belongs on ``stream``: ``asked`` (not --no-progress, not JSON output), a terminal,
    and neither CI nor a dumb terminal.

    >>> import io
    >>> wanted(io.StringIO(), asked=True)
    False
    """
    if not asked or os.environ.get("CI") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):  # closed, or not a real stream
        return False


class Progress:
    """The bar, or nothing when it is not wanted; a context manager that clears it at the end.

    ``total`` is the bytes to check (None: unknown, as for standard input), ``files`` how many files.
    """

    def __init__(self, stream: TextIO, *, total: int | None, files: int, enabled: bool) -> None:
        self.stream, self.files, self.done_files = stream, files, 0
        self.bar: tqdm[Any] | None = None
        if enabled:
            from tqdm import tqdm

            tqdm.monitor_interval = 0  # no monitor thread: worker processes are forked after the bar starts
            self.bar = tqdm(total=total or None, unit="B", unit_scale=True, unit_divisor=1024, file=stream,
                            delay=DELAY, mininterval=REDRAW, miniters=1, leave=False, dynamic_ncols=True,
                            desc="checking")  # fmt: skip

    def advance(self, size: int, file_done: bool) -> None:
        """``size`` more bytes checked; ``file_done``: and one more file."""
        if self.bar is None:
            return
        if file_done:
            self.done_files += 1
            self.bar.set_postfix_str(f"{self.done_files}/{self.files} files", refresh=False)
        self.bar.update(size)

    def write(self, text: str) -> None:
        """Write a message to the stream, the bar cleared first (and drawn again after)."""
        if self.bar is None:
            self.stream.write(text)
            return
        with self.bar.external_write_mode(file=self.stream):
            self.stream.write(text)

    def flush(self) -> None:
        """Flush the stream."""
        self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self.bar is not None:
            self.bar.close()
