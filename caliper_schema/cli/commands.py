"""The sub-commands: each takes the parsed arguments and the output streams, and returns the exit status.

:func:`main` is the console script ``caliper-schema`` and ``python -m caliper_schema``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from caliper_schema import hints
from caliper_schema.cli.arguments import INVALID, OK, USAGE, build_parser
from caliper_schema.cli.inputs import Unreadable, expand
from caliper_schema.cli.output import REPORTERS, Output
from caliper_schema.configuration import ConfigError, load_policy, policy_from
from caliper_schema.policy import Policy
from caliper_schema.registry import BASE_URI, load
from caliper_schema.reporting import Issue, Report, printable
from caliper_schema.validation.pipeline import validate_file, validate_reader
from caliper_schema.validation.reading import head


def _io_report(reason: str) -> Report:
    return Report.from_issues([Issue("", "io.unreadable", "error", reason)])


def _policy(args: argparse.Namespace) -> Policy:
    """The configuration file's policy, with the command line's overrides on top."""
    start = None
    if args.config is None:
        try:
            start = Path.cwd()
        except OSError as error:
            raise ConfigError(
                f"cannot look for pyproject.toml: the working directory is gone ({error.strerror});"
                " name the configuration with --config"
            ) from None
    policy = load_policy(args.config, start=start, read=head)  # the bounded reader: --config /dev/zero
    overrides: dict[str, object] = {"disable": args.disable}
    if args.strict:
        overrides["strict"] = True
    if args.subjects:
        overrides["subjects"] = args.subjects
    grades = dict(item.partition("=")[::2] for item in args.severity)
    if grades:
        overrides["severity"] = grades
    return policy_from(overrides, "the command line", base=policy)


def _stdin(args: argparse.Namespace, policy: Policy) -> Report:
    if sys.stdin is None:
        raise OSError("standard input is closed")
    return validate_reader(sys.stdin.buffer, lines=args.jsonl, policy=policy)


OUT_OF_MEMORY = "not enough memory to check it (lower max-bytes in [tool.caliper-schema.limits])"


def _reports(argument: str, args: argparse.Namespace, policy: Policy) -> Iterator[tuple[str, Report | str]]:
    """(name, its report or why it could not be checked) for each file ``argument`` names."""
    if argument == "-":
        try:
            yield "<stdin>", _stdin(args, policy)
        except OSError as error:
            yield "<stdin>", f"cannot read standard input: {error.strerror or error}"
        except MemoryError:
            yield "<stdin>", f"standard input: {OUT_OF_MEMORY}"
        return
    try:
        for path in expand(argument):
            if isinstance(path, Unreadable):
                yield str(path.path), f"cannot read {str(path.path)!r}: {path.reason}"
                continue
            try:
                yield str(path), validate_file(path, policy=policy)
            except OSError as error:
                yield str(path), f"cannot read {str(path)!r}: {error.strerror or error}"
            except MemoryError:  # a document within the limits, in a process given less memory than it needs
                yield str(path), f"{str(path)!r}: {OUT_OF_MEMORY}"
    except OSError as error:
        yield argument, str(error)


def _validate(args: argparse.Namespace, stdout: Output, stderr: TextIO) -> int:
    try:
        policy = _policy(args)
    except ConfigError as error:
        stderr.write(f"caliper-schema: {printable(str(error))}\n")
        return USAGE
    reporter = REPORTERS[args.format](stdout)
    status = OK
    for argument in args.paths:
        for name, report in _reports(argument, args, policy):
            if isinstance(report, str):  # not read: an I/O error, named on stderr and in the report
                stderr.write(f"caliper-schema: {printable(report)}\n")
                report, status = _io_report(report), USAGE
            elif not report.ok:
                status = max(status, INVALID)
            reporter.file(name, report)
    reporter.finish()
    return status


def _schema(args: argparse.Namespace, stdout: Output, stderr: TextIO) -> int:
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


def _generate(args: argparse.Namespace, stdout: Output, stderr: TextIO) -> int:
    from caliper_schema.generation import generating  # the validator's commands need none of the generator

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
            generating.write_lines(fixtures, stdout)  # type: ignore[arg-type] # an Output writes as a TextIO
    except OSError as error:
        if isinstance(error, BrokenPipeError):
            raise
        where = "standard output" if args.output is None else repr(str(args.output))
        stderr.write(f"caliper-schema: cannot write {printable(where)}: {error.strerror or error}\n")
        return USAGE
    return OK


def _serve(args: argparse.Namespace, stdout: Output, stderr: TextIO) -> int:
    from caliper_schema.service import settings  # plain data: tells whether the service's extra is there

    problem = settings.missing_extra()
    if problem is None and (args.client_id is None) != (args.client_secret is None):
        problem = "--client-id and --client-secret go together"
    try:
        if problem is not None:
            raise ConfigError(problem)
        config = settings.Settings(
            policy=_policy(args), client_id=args.client_id, client_secret=args.client_secret,
            auth=not args.no_auth, token_ttl=args.token_ttl, faults=dict(args.fault), latency_ms=args.latency,
            seed=args.seed, job_delay=args.job_delay, db=args.db,
        )  # fmt: skip
        from caliper_schema.service import serving

        sock = serving.bind(args.host, args.port)
    except (ConfigError, ValueError) as error:
        stderr.write(f"caliper-schema: {error}\n")
        return USAGE
    except OSError as error:
        stderr.write(f"caliper-schema: cannot listen on {args.host}:{args.port}: {error.strerror or error}\n")
        return USAGE
    serving.serve(config, sock, stdout)
    return OK


COMMANDS = {"validate": _validate, "schema": _schema, "generate": _generate, "serve": _serve}


class _Nowhere:
    """Where messages go when standard error is closed."""

    def write(self, text: str) -> None:
        """Drop ``text``."""

    def flush(self) -> None:
        """Nothing to flush."""


def _quiet(stream: TextIO | None) -> None:
    """After a write to ``stream`` failed: point its descriptor at /dev/null, so that the interpreter's
    own flush at exit neither fails nor prints a traceback of its own."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())  # type: ignore[union-attr]
        os.close(devnull)
    except (AttributeError, OSError, ValueError):
        pass  # not a stream with a descriptor (a StringIO in tests): nothing will flush it at exit


def _finish(status: int, out: Output, err: TextIO) -> int:
    """The exit status once the output is flushed: an invalid run stays non-zero whatever happened to the
    output; a broken pipe (the reader left, as ``| head`` does) is quiet, any other failure exit 2."""
    out.flush()
    if out.failure is None:
        return status
    _quiet(out.stream)
    if isinstance(out.failure, BrokenPipeError):
        return status
    reason = printable(out.failure.strerror or str(out.failure))
    err.write(f"caliper-schema: cannot write the report: {reason}\n")
    return USAGE


def main(
    argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the command line; returns the exit status."""
    err: TextIO = stderr or sys.stderr or _Nowhere()  # type: ignore[assignment]
    stream = stdout or sys.stdout
    # jsonschema imports rfc3987-syntax, which compiles 38 lark grammars (1.3 s) for an "iri" checker this
    # project replaces with jsonschema-rs's. This process is ours, so it can decline that import; a library
    # must not, since it would change jsonschema's format checking for the rest of the application.
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    try:
        args = build_parser().parse_args(argv)
    except SystemExit:  # --help, --version or a usage error: argparse wrote to the real streams
        for real in (sys.stdout, sys.stderr):
            try:
                if real is not None:
                    real.flush()
            except OSError:
                _quiet(real)
        raise
    if stream is None:  # started with standard output closed (>&-)
        err.write("caliper-schema: standard output is closed: nowhere to write the report\n")
        return USAGE
    # A generator stops at a broken pipe; the checks run to the end, so that the exit status is the verdict.
    text = args.command == "validate" and args.format != "json"
    out = Output(stream, json_text=not text, stop=args.command == "generate")
    try:
        status = COMMANDS[args.command](args, out, err)
    except KeyboardInterrupt:
        err.write("caliper-schema: interrupted\n")
        return 130
    except BrokenPipeError:  # `caliper-schema generate ... | head`
        _quiet(stream)
        return OK
    return _finish(status, out, err)
