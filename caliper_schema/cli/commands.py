"""The sub-commands: each takes the parsed arguments and the output streams, and returns the exit status.

:func:`main` is the console script ``caliper-schema`` and ``python -m caliper_schema``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from caliper_schema import hints
from caliper_schema.cli.arguments import INVALID, OK, USAGE, build_parser
from caliper_schema.cli.inputs import expand
from caliper_schema.cli.output import REPORTERS
from caliper_schema.configuration import ConfigError, load_policy, policy_from
from caliper_schema.policy import Policy
from caliper_schema.registry import BASE_URI, load
from caliper_schema.reporting import Issue, Report
from caliper_schema.validation.pipeline import validate, validate_file


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
            paths = list(expand(argument))
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
            generating.write_lines(fixtures, stdout)
    except OSError as error:
        if isinstance(error, BrokenPipeError):
            raise
        stderr.write(f"caliper-schema: cannot write {str(args.output)!r}: {error.strerror or error}\n")
        return USAGE
    return OK


def _serve(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
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
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args, out, err)
    except KeyboardInterrupt:
        err.write("caliper-schema: interrupted\n")
        return 130
    except BrokenPipeError:  # `caliper-schema validate ... | head`
        return OK
