"""The ``caliper-schema`` command: a thin layer over the library.

Exit status: 0 when every document is valid, 1 when any is invalid, 2 on a usage or I/O error.

    caliper-schema validate [--strict] [--format text|json|github] [--config FILE] PATH... | -
    caliper-schema schema NAME | --list
    caliper-schema generate [--type T]... [--profile P] [--count N] [--seed S] [--invalid] [--envelope]
                            [-o DIR]
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from caliper_schema import hints
from caliper_schema.configuration import ConfigError, load_policy, policy_from
from caliper_schema.output import REPORTERS
from caliper_schema.policy import SUBJECT_LISTS, Policy
from caliper_schema.registry import BASE_URI, load
from caliper_schema.reporting import Issue, Report
from caliper_schema.validation import JSON_LINES_SUFFIXES, validate, validate_file

SUFFIXES = (".json", *JSON_LINES_SUFFIXES)
OK, INVALID, USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(USAGE, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    from caliper_schema import __version__

    parser = _Parser(
        prog="caliper-schema", description="Offline checks for IMS Caliper 1.2 and Timeback events."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    check = commands.add_parser("validate", help="validate JSON and JSON Lines payloads")
    check.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="files, directories (searched for *.json, *.jsonl), globs, or - for stdin",
    )
    check.add_argument("--strict", action="store_true", help="certification grade: warnings are errors")
    check.add_argument("--config", type=Path, metavar="FILE",
                       help="settings: a pyproject.toml or TOML file (default: the nearest pyproject.toml"
                       " with a [tool.caliper-schema] table)")  # fmt: skip
    check.add_argument("--subjects", choices=SUBJECT_LISTS, help="the Timeback subject list in force")
    check.add_argument("--disable", action="append", default=[], metavar="RULE", help="turn a rule off")
    check.add_argument("--severity", action="append", default=[], metavar="RULE=LEVEL",
                       help="re-grade a rule: error, warning or off")  # fmt: skip
    check.add_argument("--format", choices=sorted(REPORTERS), default="text", help="output format")
    check.add_argument("--jsonl", action="store_true", help="read standard input as JSON Lines")

    show = commands.add_parser("schema", help="print a bundled JSON Schema")
    show.add_argument("name", nargs="?", help="a path (timeback/activity-event), title or document type")
    show.add_argument("--list", action="store_true", help="list the bundled schemas")
    _generate_parser(commands.add_parser("generate", help="write realistic fixture documents, seeded"))
    return parser


def _generate_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--type", action="append", dest="types", metavar="T",
                        help="a document type, repeatable (default: every event type)")  # fmt: skip
    parser.add_argument("--profile", metavar="P", help="the profile of every event (e.g. GradingProfile)")
    parser.add_argument("--count", type=_count, default=10, metavar="N", help="how many documents (10)")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="same seed, same bytes (0)")
    parser.add_argument("--invalid", action="store_true", help="mutate each document once, labelled")
    parser.add_argument("--strict", action="store_true",
                        help="with --invalid: also mutations only --strict validation rejects")  # fmt: skip
    parser.add_argument("--envelope", action="store_true", help="wrap each in an Envelope of 1-3 events")
    parser.add_argument("-o", "--output", type=Path, metavar="DIR",
                        help="a .json file per document (and mutations.tsv), not JSON Lines")  # fmt: skip


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def _expand(argument: str) -> Iterator[Path]:
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


def _io_report(reason: str) -> Report:
    return Report.from_issues([Issue("", "io.unreadable", "error", reason)])


def _policy(args: argparse.Namespace) -> Policy:
    """The configuration file's policy, with the command line's overrides on top."""
    policy = load_policy(args.config, start=Path.cwd())
    overrides: dict[str, object] = {"disable": args.disable}
    if args.strict:
        overrides["strict"] = True
    if args.subjects:
        overrides["subjects"] = args.subjects
    grades = dict(item.partition("=")[::2] for item in args.severity)
    if grades:
        overrides["severity"] = grades
    return policy_from(overrides, "the command line", base=policy)


def _validate(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    try:
        policy = _policy(args)
    except ConfigError as error:
        stderr.write(f"caliper-schema: {error}\n")
        return USAGE
    reporter = REPORTERS[args.format](stdout)
    status = OK
    for argument in args.paths:
        if argument == "-":
            report = validate(sys.stdin.buffer.read(), lines=args.jsonl, policy=policy)
            reporter.file("<stdin>", report)
            status = max(status, OK if report.ok else INVALID)
            continue
        try:
            paths = list(_expand(argument))
        except OSError as error:
            stderr.write(f"caliper-schema: {error}\n")
            reporter.file(argument, _io_report(str(error)))
            status = USAGE
            continue
        for path in paths:
            try:
                report = validate_file(path, policy=policy)
            except OSError as error:
                reason = f"cannot read {str(path)!r}: {error.strerror or error}"
                stderr.write(f"caliper-schema: {reason}\n")
                reporter.file(str(path), _io_report(reason))
                status = USAGE
                continue
            reporter.file(str(path), report)
            if status != USAGE and not report.ok:
                status = INVALID
    reporter.finish()
    return status


def _schema(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    catalogue = load()
    names = sorted(uri.removeprefix(BASE_URI).removesuffix(".json") for uri in catalogue.schemas)
    if args.list or not args.name:
        stdout.write("\n".join(names) + "\n")
        return OK
    uri = catalogue.find(args.name)
    if uri is None:
        hint = hints.nearest(args.name, names) or "list them with: caliper-schema schema --list"
        stderr.write(f"caliper-schema: no bundled schema named {args.name!r}; {hint}\n")
        return USAGE
    stdout.write(json.dumps(catalogue.schemas[uri], indent=2, ensure_ascii=False) + "\n")
    return OK


def _generate(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from caliper_schema import generating  # the validator's commands need none of the generator

    try:
        generating.types_for(args.types, args.profile)
    except ValueError as error:
        stderr.write(f"caliper-schema: {error}\n")
        return USAGE
    fixtures = generating.generate(
        args.types, profile=args.profile, count=args.count, seed=args.seed,
        invalid=args.invalid, strict=args.strict, envelope=args.envelope,
    )  # fmt: skip
    try:
        if args.output is not None:
            generating.write_folder(fixtures, args.output)
        else:
            generating.write_lines(fixtures, stdout)
    except OSError as error:
        if isinstance(error, BrokenPipeError):
            raise
        stderr.write(f"caliper-schema: cannot write {str(args.output)!r}: {error.strerror or error}\n")
        return USAGE
    return OK


COMMANDS = {"validate": _validate, "schema": _schema, "generate": _generate}


def main(
    argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the command line; returns the exit status."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    # jsonschema imports rfc3987-syntax, which compiles 38 lark grammars (1.3 s) for an "iri" checker this
    # project replaces with jsonschema-rs's. This process is ours, so it can decline that import; a library
    # must not, since it would change jsonschema's format checking for the rest of the application.
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args, out, err)
    except KeyboardInterrupt:
        err.write("caliper-schema: interrupted\n")
        return 130
    except BrokenPipeError:  # `caliper-schema validate ... | head`
        return OK
