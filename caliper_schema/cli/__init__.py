"""The command line: the only part of the package that talks to a terminal, and a thin one.

Its modules, in the order a run goes through them:

- :mod:`~caliper_schema.cli.arguments`: the sub-commands, their options and the exit statuses;
- :mod:`~caliper_schema.cli.inputs`: the paths given, expanded to the files to check (and what could not
  be searched, named);
- :mod:`~caliper_schema.cli.commands`: ``validate``, ``schema`` and ``generate``, each over the library,
  and the exit status, honest when the output fails;
- :mod:`~caliper_schema.cli.parallel`: ``validate``'s files checked in this process or over ``--jobs``
  worker processes (long JSON Lines in chunks, merged back into the report one process makes);
- :mod:`~caliper_schema.cli.progress`: the progress bar on a terminal's standard error;
- :mod:`~caliper_schema.cli.output`: the reporters (text, JSON, GitHub annotations) behind one interface,
  each escaping what it prints for its format, and the ``Output`` stream they write to.

Nothing else in the package imports it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

__all__ = ["main"]


def main(
    argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the command line; returns the exit status (see :func:`caliper_schema.cli.commands.main`).

    >>> import io
    >>> main(["schema", "--list"], stdout=io.StringIO())
    0
    """
    try:
        from caliper_schema.cli.commands import main as run  # a quarter of a second of imports
    except KeyboardInterrupt:  # Ctrl-C while they load: the same line and status as during a run
        (stderr or sys.stderr).write("caliper-schema: interrupted\n")
        return 130
    return run(argv, stdout, stderr)
