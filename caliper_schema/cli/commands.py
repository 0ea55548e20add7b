"""The sub-commands: each takes the parsed arguments and the output streams, and returns the exit status.

:func:`main` is the console script ``caliper-schema`` and ``python -m caliper_schema``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from caliper_schema import hints
from caliper_schema.cli.arguments import INVALID, OK, USAGE, build_parser
from caliper_schema.cli.inputs import SUFFIXES, Unreadable, expand
from caliper_schema.cli.output import REPORTERS, UNREADABLE, Output, Reporter
from caliper_schema.cli.parallel import (
    Settings,
    WorkerFailed,
    auto_jobs,
    is_long_lines,
    judged_items,
    out_of_memory,
    pooled,
    sequential,
    size_of,
    unread,
)
from caliper_schema.cli.progress import Progress, wanted
from caliper_schema.configuration import ConfigError, load_policy, policy_from
from caliper_schema.policy import Policy
from caliper_schema.registry import BASE_URI, load
from caliper_schema.reporting import Issue, Report, printable
from caliper_schema.validation.reading import head
from caliper_schema.validation.statistics import Coverage

if TYPE_CHECKING:  # the stream rules (and sqlite3) are imported by --stream alone: a tenth of the imports
    from caliper_schema.validation.streams import Finding, Item, Judged


def _io_report(reason: str) -> Report:
    return Report.from_issues([Issue("", UNREADABLE, "error", reason)])


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
    flags = {"strict": args.strict, "best-practice": args.best_practice, "subjects": args.subjects,
             "xp-tolerance": args.xp_tolerance}  # fmt: skip
    overrides.update({key: value for key, value in flags.items() if value is not None})
    grades = dict(item.partition("=")[::2] for item in args.severity)
    if grades:
        overrides["severity"] = grades
    return policy_from(overrides, "the command line", base=policy)


STDIN = "<stdin>"
SEARCHED = ", ".join(SUFFIXES[:-1]) + f" or {SUFFIXES[-1]}"

Target = Path | None | str
"""A file to check, standard input (None), or why what was named cannot be checked (a str)."""


def _targets(args: argparse.Namespace, stderr: TextIO) -> Iterator[tuple[str, Target]]:
    """(name, target) for each file the arguments name, in order: files, folders searched, globs, stdin."""
    for argument in args.paths:
        if argument == "-":
            yield STDIN, None
            continue
        found = False
        try:
            for path in expand(argument):
                found = True
                if isinstance(path, Unreadable):
                    yield str(path.path), f"cannot read {str(path.path)!r}: {path.reason}"
                else:
                    yield str(path), path
        except OSError as error:
            yield argument, str(error)
            continue
        if not found:  # a folder with nothing to check: a mistyped path would otherwise pass in silence
            reason = f"no {SEARCHED} file in {argument!r}"
            if not args.allow_empty:
                yield argument, reason
            else:
                stderr.write(f"caliper-schema: {printable(reason)}\n")


def _sizes(targets: list[tuple[str, Target]]) -> list[int]:
    """Each target's bytes, as far as known (0: standard input, a device, one that could not be found)."""
    return [0 if isinstance(target, str) else size_of(target) for _, target in targets]


def _unreadable(reason: str, stderr: TextIO | Progress) -> Report:
    """Not read: an I/O error, named on stderr and in the report."""
    stderr.write(f"caliper-schema: {printable(reason)}\n")
    return _io_report(reason)


def _each_file(args: argparse.Namespace, policy: Policy, reporter: Reporter, stderr: TextIO) -> int:
    """Every file on its own: one report a file, in this process or over ``--jobs`` worker processes."""
    settings = Settings(policy, jsonl=args.jsonl, statistics=args.statistics)
    coverage = settings.coverage()
    targets = list(_targets(args, stderr))
    sizes = _sizes(targets)
    jobs = args.jobs or auto_jobs(sizes)
    total = None if any(target is None for _, target in targets) else sum(sizes)
    enabled = wanted(stderr, asked=not args.no_progress and args.format != "json")
    status = OK
    with Progress(stderr, total=total, files=len(targets), enabled=enabled) as progress:
        outcomes = (
            sequential(targets, settings, coverage, progress.advance)
            if jobs == 1
            else pooled(targets, settings, coverage, jobs, progress.advance)
        )
        try:
            for name, outcome in outcomes:
                if isinstance(outcome, str):
                    report, status = _unreadable(outcome, progress), USAGE
                else:
                    report = outcome
                    status = max(status, OK if report.ok else INVALID)
                reporter.file(name, report)
        except WorkerFailed as error:  # no verdict without every file judged
            progress.write(f"caliper-schema: {printable(str(error))}; the run is incomplete\n")
            return USAGE
    reporter.finish(statistics=None if coverage is None else coverage.to_dict())
    return status


def _items(target: Path | None, args: argparse.Namespace, settings: Settings,
           jobs: int) -> Iterator[tuple[Item, Judged | None]]:  # fmt: skip
    """The documents of one file of a stream, read as they are checked (raises OSError), each with its own
    verdict when worker processes reached it (a long JSON Lines file, with ``jobs`` above 1)."""
    from caliper_schema.validation.streams import from_file, from_reader

    limits = settings.policy.limits
    if target is None:
        if sys.stdin is None:
            raise OSError("standard input is closed")
        return (
            (item, None) for item in from_reader(sys.stdin.buffer, STDIN, lines=args.jsonl, limits=limits)
        )
    if jobs > 1 and is_long_lines(target):
        return judged_items(target, settings, jobs)
    return ((item, None) for item in from_file(target, limits=limits))


def _one_stream(args: argparse.Namespace, policy: Policy, reporter: Reporter, stderr: TextIO) -> int:
    """Every file as part of one app's stream: each finding reported as it is found, none kept."""
    from caliper_schema.validation.streams import StreamChecker

    coverage = Coverage(policy.subjects) if args.statistics else None
    checker = StreamChecker(policy, coverage=coverage)
    settings = Settings(policy)
    targets = list(_targets(args, stderr))
    jobs = args.jobs or auto_jobs(_sizes(targets))
    status = OK

    def report(findings: Iterable[Finding]) -> None:
        nonlocal status
        for finding in findings:
            if finding.issue.severity == "error":
                status = max(status, INVALID)
            reporter.finding(finding.source or STDIN, finding.issue)

    for name, target in targets:
        reporter.source(name)
        problem = target if isinstance(target, str) else None
        if not isinstance(target, str):
            try:
                for item, judged in _items(target, args, settings, jobs):
                    report(checker.feed(item, judged=judged))
            except OSError as error:
                problem = unread(target, error)
            except MemoryError:
                problem = out_of_memory(target)
            except WorkerFailed as error:  # as a file that fails part way: what was read stands, exit 2
                problem = f"{error}; the run is incomplete"
        if problem is not None:
            [issue] = _unreadable(problem, stderr).issues
            reporter.finding(name, issue)
            status = USAGE
    report(checker.finish())
    held = {"documents": checker.documents, "events": checker.events, "runs": checker.runs}
    reporter.finish(stream=held, statistics=None if coverage is None else coverage.to_dict())
    return status


def _validate(args: argparse.Namespace, stdout: Output, stderr: TextIO) -> int:
    try:
        policy = _policy(args)
    except ConfigError as error:
        stderr.write(f"caliper-schema: {printable(str(error))}\n")
        return USAGE
    if not args.paths:
        if args.allow_empty:  # pre-commit runs a hook with no file names when none matched: nothing to say
            return OK
        stderr.write("caliper-schema: validate: name what to check: files, folders, globs, or - for standard"
                     " input (--allow-empty: none is not an error)\n")  # fmt: skip
        return USAGE
    if args.paths.count("-") > 1:
        stderr.write("caliper-schema: validate: standard input (-) can be read once\n")
        return USAGE
    if args.xp_tolerance is not None and not args.stream:
        stderr.write(
            "caliper-schema: --xp-tolerance goes with --stream: a run's XP is judged across events\n"
        )
        return USAGE
    reporter = REPORTERS[args.format](stdout)
    check = _one_stream if args.stream else _each_file
    return check(args, policy, reporter, stderr)


def _schema(args: argparse.Namespace, stdout: Output, stderr: TextIO) -> int:
    catalogue = load()
    names = sorted(uri.removeprefix(BASE_URI).removesuffix(".json") for uri in catalogue.schemas)
    if args.list or not args.name:
        stdout.write("\n".join(names) + "\n")
        return OK
    uri = catalogue.find(args.name)
    if uri is None:  # the nearest of every name it takes (paths, titles, document types), one a schema
        titles = [schema.get("title") for schema in catalogue.schemas.values()]
        close: dict[str | None, str] = {}
        for name in hints.closest(args.name, [*names, *titles, *catalogue.types]):
            close.setdefault(catalogue.find(name), name)
        hint = hints.nearest(args.name, close.values()) or "list them with: caliper-schema schema --list"
        stderr.write(f"caliper-schema: no bundled schema named {printable(repr(args.name))}; {hint}\n")
        return USAGE
    stdout.write(json.dumps(catalogue.schemas[uri], indent=2, ensure_ascii=False) + "\n")
    return OK


def _generate(args: argparse.Namespace, stdout: Output, stderr: TextIO) -> int:
    from caliper_schema.generation import generating  # the validator's commands need none of the generator

    problem = None
    if args.force and args.output is None:
        problem = "--force goes with -o DIR: standard output is never refused"
    elif args.strict and not args.invalid:
        problem = "--strict goes with --invalid: it adds the mistakes only strict validation rejects"
    elif args.sessions is not None and (args.types or args.profile or args.count is not None):
        problem = (
            "--sessions writes whole runs of Timeback events: --type, --profile and --count do not apply"
        )
    if problem is None and args.sessions is None:
        try:
            generating.types_for(args.types, args.profile)
        except ValueError as error:
            problem = str(error)
    if problem is not None:
        stderr.write(f"caliper-schema: {problem}\n")
        return USAGE
    try:
        if args.sessions is not None:
            _write_sessions(args, stdout)
        else:
            fixtures = generating.generate(
                args.types, profile=args.profile, count=10 if args.count is None else args.count,
                seed=args.seed, invalid=args.invalid, strict=args.strict, envelope=args.envelope,
            )  # fmt: skip
            if args.output is not None:
                generating.write_folder(fixtures, args.output, force=args.force)
            else:
                generating.write_lines(fixtures, stdout)  # type: ignore[arg-type] # an Output writes as a TextIO
    except OSError as error:
        if isinstance(error, BrokenPipeError):
            raise
        stderr.write(f"caliper-schema: {_unwritten(args.output, error)}\n")
        return USAGE
    return OK


def _write_sessions(args: argparse.Namespace, stdout: Output) -> None:
    from caliper_schema.generation import sessions

    runs = sessions.generate_sessions(
        args.sessions, seed=args.seed, invalid=args.invalid, strict=args.strict, envelope=args.envelope
    )
    if args.output is not None:
        sessions.write_session_folder(runs, args.output, force=args.force)
    else:
        sessions.write_session_lines(runs, stdout)  # type: ignore[arg-type] # an Output writes as a TextIO


def _unwritten(folder: Path | None, error: OSError) -> str:
    """Why the fixtures could not be written, and what to do."""
    where = "standard output" if folder is None else repr(str(folder))
    reason = f"cannot write {printable(where)}: {error.strerror or error}"
    if folder is not None and isinstance(error, FileExistsError) and folder.is_dir():  # refused: not empty
        reason += " (or --force to write into it: files of the same names are replaced)"
    return reason


def _serve(args: argparse.Namespace, stdout: Output, stderr: TextIO) -> int:
    from caliper_schema.service import settings  # plain data: tells whether the service's extra is there

    problem = settings.missing_extra()
    if problem is None and (args.client_id is None) != (args.client_secret is None):
        problem = "--client-id and --client-secret go together"
    try:
        if problem is not None:
            raise ConfigError(problem)
        # The flags' values were checked as they were parsed (arguments.py), each naming its flag.
        config = settings.Settings(
            policy=_policy(args), client_id=args.client_id, client_secret=args.client_secret,
            auth=not args.no_auth, token_ttl=args.token_ttl, faults=dict(args.fault), latency_ms=args.latency,
            seed=args.seed, job_delay=args.job_delay, db=args.db,
        )  # fmt: skip
        from caliper_schema.service import serving, storage

        service = serving.Foreground(config, args.host, args.port)
    except (ConfigError, ValueError) as error:
        stderr.write(f"caliper-schema: {printable(str(error))}\n")
        return USAGE
    except storage.StoreError as error:
        stderr.write(f"caliper-schema: --db: {printable(str(error))}\n")
        return USAGE
    except OSError as error:
        where = printable(f"{args.host}:{args.port}")
        stderr.write(f"caliper-schema: cannot listen on {where}: {error.strerror or error}\n")
        return USAGE
    service.run(stdout)
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
        what = "the documents" if args.command == "generate" else "the report"
        err.write(f"caliper-schema: standard output is closed: nowhere to write {what}\n")
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
