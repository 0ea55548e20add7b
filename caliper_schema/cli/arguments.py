"""What the command line takes: its sub-commands, their options, and the exit statuses it answers with.

Exit status: 0 when every document is valid, 1 when any is invalid, 2 on a usage or I/O error.

    caliper-schema validate [--stream] [--statistics] [--strict] [--best-practice] [--format text|json|github]
                            [--jobs N] [--no-progress] [--config FILE] PATH... | -
    caliper-schema schema NAME | --list
    caliper-schema generate [--type T]... [--profile P] [--count N] [--seed S] [--invalid] [--envelope]
                            [-o DIR [--force]]
    caliper-schema generate --sessions N [--seed S] [--invalid [--strict]] [--envelope] [-o DIR [--force]]
    caliper-schema serve [--host H] [--port P] [--db PATH] [--client-id ID --client-secret S] [--no-auth]
                         [--fault STATUS=RATE]... [--latency MS] [--seed S] [--job-delay S] [policy flags]
"""

from __future__ import annotations

import argparse
import difflib
import math
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import NoReturn

from caliper_schema.cli.inputs import SUFFIXES
from caliper_schema.cli.output import REPORTERS
from caliper_schema.policy import SUBJECT_LISTS

OK, INVALID, USAGE = 0, 1, 2
POLICY_FLAGS = ("strict", "best_practice", "config", "subjects", "disable", "severity", "xp_tolerance")
"""The options of ``validate`` that make its policy, which ``serve`` takes too."""


class _Parser(argparse.ArgumentParser):
    """argparse's parser, with "did you mean" for a mistyped option or choice, and an unknown option of a
    sub-command reported with that sub-command's usage. (argparse suggests only from Python 3.14 on.)"""

    commands: Mapping[str, argparse.ArgumentParser] | None = None

    def parse_args(  # type: ignore[override] # the one signature this program calls
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:  # reported by the sub-command named, whose options they were meant to be
            chosen = (self.commands or {}).get(getattr(parsed, "command", None) or "", self)
            chosen.error(f"unrecognized arguments: {' '.join(extras)}{_nearest_option(extras, chosen)}")
        return parsed

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(USAGE, f"{self.prog}: error: {message}{_nearest_choice(message)}\n")


def _nearest_option(extras: Sequence[str], parser: argparse.ArgumentParser) -> str:
    """ "; did you mean --strict?" for the first unknown option that is near one of ``parser``'s."""
    options = [option for action in parser._actions for option in action.option_strings]
    for extra in extras:
        if extra.startswith("-"):
            close = difflib.get_close_matches(extra.partition("=")[0], options, n=1, cutoff=0.6)
            if close:
                return f"; did you mean {close[0]}?"
    return ""


_CHOICE = re.compile(r"invalid choice: '(?P<given>[^']*)' \(choose from (?P<choices>.*)\)")


def _nearest_choice(message: str) -> str:
    """ "; did you mean 'validate'?" after argparse's invalid-choice message, when one is near."""
    found = _CHOICE.search(message)
    if found is None:
        return ""
    choices = re.findall(r"'([^']*)'", found["choices"])
    close = difflib.get_close_matches(found["given"], choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def build_parser() -> argparse.ArgumentParser:
    """The parser of `caliper-schema` and its sub-commands."""
    from caliper_schema import __version__

    parser = _Parser(
        prog="caliper-schema", description="Offline checks for IMS Caliper 1.2 and Timeback events."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    parser.commands = commands.choices

    check = commands.add_parser(
        "validate",
        help="validate JSON and JSON Lines payloads",
        description="Validate Caliper 1.2 and Timeback payloads: each document on its own, or with --stream"
        " all of them as one app's stream too.",
    )
    searched = ", ".join(f"*{suffix}" for suffix in SUFFIXES)
    check.add_argument("paths", nargs="*", metavar="PATH",
                       help=f"files, directories (searched for {searched}), globs, or - for standard input"
                       " (.jsonl and .ndjson files are read as JSON Lines)")  # fmt: skip
    check.add_argument("--stream", action="store_true",
                       help="the documents of this run are one app's stream: check them across each other"
                       " too (duplicate ids, heartbeat windows, XP against time, ...)")  # fmt: skip
    check.add_argument("--statistics", action="store_true",
                       help="also print what the payloads cover (event types, actions, profiles, subjects,"
                       " metric types) and their issues by rule")  # fmt: skip
    check.add_argument("--strict", action=argparse.BooleanOptionalAction, default=None,
                       help="certification grade: warnings are errors (--no-strict: not, whatever the"
                       " configuration says)")  # fmt: skip
    check.add_argument("--best-practice", action=argparse.BooleanOptionalAction, default=None,
                       help="also the spec's SHOULDs (bestpractice.* rules), as warnings")  # fmt: skip
    check.add_argument("--config", type=Path, metavar="FILE",
                       help="settings: a pyproject.toml or TOML file (default: the nearest pyproject.toml"
                       " with a [tool.caliper-schema] table)")  # fmt: skip
    check.add_argument("--subjects", choices=SUBJECT_LISTS, help="the Timeback subject list in force")
    check.add_argument("--disable", action="append", default=[], metavar="RULE", help="turn a rule off")
    check.add_argument("--severity", action="append", default=[], metavar="RULE=LEVEL", type=_grade,
                       help="re-grade a rule: error, warning or off")  # fmt: skip
    check.add_argument("--xp-tolerance", type=_tolerance, metavar="X",
                       help="with --stream: how far a run's XP may exceed its active minutes (0.25: a"
                       " quarter more)")  # fmt: skip
    check.add_argument("--format", choices=sorted(REPORTERS), default="text", help="output format")
    check.add_argument("--jobs", "-j", type=_jobs, metavar="N",
                       help="check in N processes: files, and long JSON Lines files in chunks of lines (with"
                       " --stream, their documents; the stream rules stay in order here); the output is the"
                       " same (default: every core when the files hold 1 MiB or more, else 1)")  # fmt: skip
    check.add_argument("--no-progress", action="store_true",
                       help="no progress bar (otherwise shown on a terminal's standard error when a run"
                       " lasts over a second; never in CI, in a pipe or with --format json)")  # fmt: skip
    check.add_argument("--jsonl", action="store_true", help="read standard input as JSON Lines")
    check.add_argument("--allow-empty", action="store_true",
                       help="no file to check is not an error (for file lists that may be empty, as"
                       " pre-commit's)")  # fmt: skip

    show = commands.add_parser("schema", help="print a bundled JSON Schema")
    show.add_argument("name", nargs="?", help="a path (timeback/activity-event), title or document type")
    show.add_argument("--list", action="store_true", help="list the bundled schemas")
    _generate_parser(commands.add_parser("generate", help="write realistic fixture documents, seeded"))
    _serve_parser(commands.add_parser("serve", help="run a local Timeback Caliper service"), check)
    return parser


def _generate_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--type", action="append", dest="types", metavar="T",
                        help="a document type, repeatable (default: every event type)")  # fmt: skip
    parser.add_argument("--profile", metavar="P", help="the profile of every event (e.g. GradingProfile)")
    parser.add_argument("--count", type=_count, metavar="N", help="how many documents (10)")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="same seed, same bytes (0)")
    parser.add_argument("--invalid", action="store_true",
                        help="mutate each document (each session) once, labelled")  # fmt: skip
    parser.add_argument("--strict", action="store_true",
                        help="with --invalid: also mutations only --strict validation rejects")  # fmt: skip
    parser.add_argument("--envelope", action="store_true",
                        help="wrap each in an Envelope of 1-3 events"
                        " (a session's: one event an envelope)")  # fmt: skip
    parser.add_argument("--sessions", type=_count, metavar="N",
                        help="N whole runs of one app's stream instead (heartbeats, then a completion),"
                        " as JSON Lines")  # fmt: skip
    parser.add_argument("-o", "--output", type=Path, metavar="DIR",
                        help="a .json file per document (a .jsonl file per session), and mutations.tsv"
                        " with --invalid; not JSON Lines on standard output")  # fmt: skip
    parser.add_argument("--force", action="store_true", help="with -o: write into a folder that holds files")


def _grade(text: str) -> str:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"RULE=LEVEL (error, warning or off), not {text!r}")
    return text


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def _jobs(text: str) -> int:
    value = _count(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _tolerance(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number >= 0, not {text!r}") from None
    if not 0 <= value < 1e9:
        raise argparse.ArgumentTypeError(f"a number >= 0, not {text}")
    return value


def _serve_parser(parser: argparse.ArgumentParser, validate: argparse.ArgumentParser) -> None:
    # The policy flags are validate's own actions, shared rather than declared twice.
    for action in validate._actions:
        if action.dest in POLICY_FLAGS:
            parser._add_action(action)
    parser.add_argument(
        "--host", type=_host, default="127.0.0.1", help="the address to listen on (127.0.0.1)"
    )
    parser.add_argument("--port", type=_port, default=8765, help="the port (8765; 0 picks a free one)")
    parser.add_argument("--db", type=Path, metavar="PATH", help="a SQLite file to keep (default: in memory)")
    parser.add_argument(
        "--client-id", type=_client_id, help="the only client id the token endpoint accepts (default: any)"
    )
    parser.add_argument("--client-secret", help="its secret")
    parser.add_argument("--no-auth", action="store_true", help="no token needed on the API")
    parser.add_argument(
        "--token-ttl", type=_duration("token_ttl"), default=3600.0, metavar="S", help="token lifetime (3600)"
    )
    parser.add_argument("--fault", action="append", type=_fault, default=[], metavar="STATUS=RATE",
                        help="answer a share of API requests with STATUS (429, 500, 503...; job=RATE fails"
                        " jobs); repeatable")  # fmt: skip
    parser.add_argument(
        "--latency", type=_duration("latency_ms"), default=0.0, metavar="MS", help="delay every API answer"
    )
    parser.add_argument("--seed", type=int, metavar="S", help="the same seed, the same faults")
    parser.add_argument("--job-delay", type=_duration("job_delay"), default=1.0, metavar="S",
                        help="seconds from queued to completed (1; waiting, then active)")  # fmt: skip


def _host(text: str) -> str:
    # An empty host would listen on every interface: never by accident.
    if not text.strip() or "\0" in text:
        raise argparse.ArgumentTypeError(f"an address or host name, such as 127.0.0.1, not {text!r}")
    return text


def _port(text: str) -> int:
    if not (text.strip().isdecimal() and len(text.strip()) <= 5 and int(text) <= 65535):
        shown = text if text.strip().lstrip("-").isdecimal() else repr(text)
        raise argparse.ArgumentTypeError(f"a whole number from 0 to 65535 (0 picks a free port), not {shown}")
    return int(text)


def _client_id(text: str) -> str:
    if not text:  # the token endpoint refuses an empty client_id: no client could ever get a token
        raise argparse.ArgumentTypeError("a client id that is not empty, not ''")
    return text


def _duration(name: str) -> Callable[[str], float]:
    """The type of the flag for the timing setting ``name``, with the rule of :data:`DURATIONS`."""
    from caliper_schema.service.settings import DURATIONS, within  # plain data: no optional dependency

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not within(name, value):
            shown = text if math.isfinite(value) else repr(text)
            raise argparse.ArgumentTypeError(f"{DURATIONS[name][0]}, not {shown}")
        return value

    return parse


def _fault(text: str) -> tuple[str, float]:
    from caliper_schema.service.settings import parse_fault  # plain data: no optional dependency

    try:
        return parse_fault(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
