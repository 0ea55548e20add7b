"""Coverage-guided fuzzing of the validator and the command line with atheris (longer runs than the suite's).

    make fuzz                                   # FUZZ_SECONDS (600 by default), corpus in .fuzz-corpus/
    FUZZ_SECONDS=3600 make fuzz

Each input is used whole, and also shaped by its first bytes into what short random bytes rarely are:
several megabytes (a piece repeated, an envelope of thousands of events, JSON Lines of as many lines),
nesting around every depth threshold, keys holding surrogates and control characters. Every shape is
validated by the library (bytes, JSON Lines, and the parsed value when there is one) and by the command
line, from a file, in each output format. Any of these is a bug, and stops the run:

- an exception out of ``validate`` or ``main`` (a traceback), an exit status other than 0 or 1;
- a report that ``orjson`` cannot write (a lone surrogate, say) or whose status disagrees with its errors;
- a capped report whose verdict or counts differ from the uncapped one's;
- output that is not UTF-8, JSON output that is not JSON or disagrees with the exit status, text or
  GitHub output with a line that is not one of the reporter's own (a forged line).
"""

import io
import json
import re
import sys
import tempfile
from pathlib import Path

import atheris
import orjson

with atheris.instrument_imports(include=["caliper_schema"]):  # the toolkit's code, not the stdlib's
    from caliper_schema import Limits, Policy, Report, validate
    from caliper_schema.cli import main

FOLDER = Path(tempfile.mkdtemp(prefix="caliper-fuzz-"))
CONFIG = FOLDER / "caliper.toml"  # the default policy, named: no pyproject.toml looked for per input
CONFIG.write_text("strict = false\n")
HIDDEN = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""What must never reach text or GitHub output raw: controls but the newline, separators, overrides."""
GITHUB_LINE = re.compile(r"::(error|warning) file=[^,:\n]*(,line=\d+,col=\d+)?,title=[a-z]+(\.[a-z-]+)+::.*")
EVENT = (
    b'{"@context": "http://purl.imsglobal.org/ctx/caliper/v1p2", "id": "urn:uuid:c51570e4-f8ed-4c18-bb3a-'
    b'dfe51b2cc594", "type": "Event", "actor": "https://example.edu/u/1", "action": "Created", "object": '
    b'"https://example.edu/x", "eventTime": "2023-08-15T14:12:00.000Z"'
)
THRESHOLDS = (64, 200, 201, 254, 255, 990, 1023, 1024)


def _shape(data: bytes) -> tuple[bytes, bool]:
    """The payload an input stands for, and whether it is JSON Lines. One input in 16 is scaled up to
    megabytes, the others a few times at most, so that runs stay many a second."""
    provider = atheris.FuzzedDataProvider(data)
    mode = provider.ConsumeIntInRange(0, 7)
    lines = provider.ConsumeBool()
    big = provider.ConsumeIntInRange(0, 15) == 0
    scale = 1 << provider.ConsumeIntInRange(0, 22 if big else 4)
    rest = provider.ConsumeBytes(len(data))
    if mode == 0:
        return data, lines  # the input as it is
    if mode == 1:  # one piece many times: up to ~4 MB
        return rest * min(scale, 4_000_000 // max(len(rest), 1)), lines
    if mode == 2:  # an envelope of many events, each with the fuzzed bytes as a member
        member = json.dumps(rest.decode("latin-1")).encode()  # any bytes, as a JSON string
        item = EVENT + b', "extensions": {"x": ' + member + b"}}"
        count = min(scale, 12_000, 4_000_000 // len(item))
        if lines:
            return b"\n".join([item] * count), True
        head = b'{"sensor": "https://s.example", "sendTime": "2023-08-15T14:12:01.000Z", '
        head += b'"dataVersion": "http://purl.imsglobal.org/ctx/caliper/v1p2", "data": ['
        return head + b", ".join([item] * count) + b"]}", False
    if mode == 3:  # nesting around a threshold
        depth = THRESHOLDS[scale.bit_length() % len(THRESHOLDS)] + (rest[:1] or b"\x00")[0] % 7 - 3
        opener, closer = (b"[", b"]") if len(rest) % 2 else (b'{"a": ', b"}")
        return opener * depth + rest[:64] + closer * depth, lines
    if mode == 4:  # keys that hold surrogates, controls, escapes
        keys = [rest[i : i + 8].hex().encode() for i in range(0, min(len(rest), 256), 8)]
        members = [b'"\\ud8' + key[:2] + b"\\n\\u001b[2J\\u202e" + key + b'": 1' for key in keys]
        return EVENT + b"".join(b", " + member for member in members) + b"}", lines
    if mode == 5:  # JSON Lines of many lines, each a fuzzed fragment
        pieces = b"\n".join(rest[i : i + 40] for i in range(0, len(rest), 40))
        return pieces * min(scale, 4_000_000 // max(len(pieces), 1)), True
    if mode == 6:  # a valid event with the bytes spliced in somewhere
        at = len(rest) % len(EVENT)
        return EVENT[:at] + rest + EVENT[at:] + b"}", lines
    return rest, lines


def _check_report(report: Report) -> None:
    if not isinstance(report, Report):
        raise TypeError(f"validate returned {type(report).__name__}")
    orjson.dumps(report.to_response())  # raises on a lone surrogate: the report must be UTF-8
    if (report.status == "error") != (report.error_count > 0):
        raise AssertionError(f"status {report.status} with {report.error_count} errors")


def _check_library(payload: bytes, lines: bool) -> None:
    report = validate(payload, lines=lines)
    _check_report(report)
    capped = validate(payload, lines=lines, policy=Policy(limits=Limits(max_issues=3)))
    _check_report(capped)
    same = (capped.status, capped.error_count, capped.warning_count)
    if same != (report.status, report.error_count, report.warning_count):
        raise AssertionError(f"the cap changed the verdict: {same}")
    if not lines and len(payload) < 100_000:
        try:
            value = json.loads(payload)
        except (ValueError, RecursionError):
            return
        _check_report(validate(value))


def _run(form: str, target: Path) -> tuple[int, str, bytes]:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8", errors="strict", newline="\n")
    err = io.StringIO()
    arguments = ["validate", "--config", str(CONFIG), "--format", form, str(target)]
    status = main(arguments, stdout=out, stderr=err)  # type: ignore[arg-type]
    out.flush()
    if status not in (0, 1) or "Traceback" in err.getvalue():
        raise AssertionError(f"{form}: exit {status}: {err.getvalue()}")
    return status, raw.getvalue().decode("utf-8"), raw.getvalue()  # strict: not UTF-8 is a bug


def _check_cli(payload: bytes, lines: bool) -> None:
    """Each format says the same as the JSON one, in as many lines as it has issues (and hints): a value
    that could forge a line of its own would show as one line too many."""
    target = FOLDER / ("input.jsonl" if lines else "input.json")
    target.write_bytes(payload)
    status, _, raw = _run("json", target)
    [entry] = orjson.loads(raw)["files"]
    if (entry["status"] == "error") != (status == 1):
        raise AssertionError(f"json status {entry['status']} with exit {status}")
    issues = entry["errors"] + entry["warnings"]
    hints = sum("hint" in issue for issue in issues)
    for form, expected in (("text", len(issues) + hints + 1), ("github", len(issues) + 1)):
        again, text, _ = _run(form, target)
        if again != status or len(text.splitlines()) != expected or HIDDEN.search(text):
            raise AssertionError(f"{form}: exit {again}, {len(text.splitlines())} lines, not {expected}")
        if form == "github" and not all(map(GITHUB_LINE.fullmatch, text.splitlines()[:-1])):
            raise AssertionError("github output has a line that is not an annotation")


def test_one_input(data: bytes) -> None:
    """One input, shaped, through the library and the command line."""
    payload, lines = _shape(data)
    _check_library(payload, lines)
    _check_cli(payload, lines)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
