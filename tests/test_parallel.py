"""``validate --jobs N``: the same bytes as one process writes, whatever the split; and the progress bar.

The merge of chunk reports is checked first where it is made (``Cap.absorb``, ``Coverage.absorb``) against
the report of one pass, over every way Hypothesis finds to cut a file into chunks; then the command line
with ``--jobs 2`` against ``--jobs 1`` on the IMS corpus, the examples and a generated JSON Lines file
with a per-file cap reached, oversized, broken and blank lines, in every format, with statistics.
"""

from __future__ import annotations

import fcntl
import gc
import io
import json
import os
import pty
import random
import re
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caliper_schema import Policy
from caliper_schema.cli import main, parallel, progress
from caliper_schema.policy import Limits
from caliper_schema.reporting import Cap
from caliper_schema.validation import statistics
from caliper_schema.validation.parsing import parse_lines
from caliper_schema.validation.pipeline import validate_reader
from caliper_schema.validation.reading import read_lines
from caliper_schema.validation.statistics import Coverage, check_documents, check_reader
from tests.clirun import run_cli, run_shell, without_privilege
from tests.conftest import EXAMPLES

SHARED = Path(os.environ.get("CALIPER_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
CORPUS = SHARED / "conformance" / "caliper-v1p2"
ENVELOPE = json.loads((EXAMPLES / "valid" / "timeback-activity-event.json").read_text())
MAX_ISSUES, MAX_BYTES = 7, 4096
CONFIG = f"[tool.caliper-schema.limits]\nmax-issues = {MAX_ISSUES}\nmax-bytes = {MAX_BYTES}\n"
POLICY = Policy(limits=Limits(max_issues=MAX_ISSUES, max_bytes=MAX_BYTES))


def _envelope(n: int, **changes: object) -> bytes:
    event = {**ENVELOPE["data"][0], "id": f"urn:uuid:5b1f6a2e-8c43-4d1e-9a7b-{n:012x}", **changes}
    return json.dumps({**ENVELOPE, "data": [event]}).encode()


FIRST_ERROR = {"wrong action": ("/data/0/action", "schema.const"), "syntax": ("", "json.syntax"),
               "oversized": ("", "limit.size"), "bare event": ("", "schema.required")}  # fmt: skip
"""The kinds of line that hold an error: the pointer and rule of the first."""
KINDS = ("valid", "wrong action", "no milliseconds", "syntax", "blank", "oversized", "bare event")


def _line(kind: str, n: int) -> bytes:
    if kind == "wrong action":
        return _envelope(n, action=f"Exploded{n % 5}")  # /data/0/action schema.const, an error
    if kind == "no milliseconds":
        return _envelope(n, eventTime="2024-01-01T00:00:00Z")  # /data/0/eventTime caliper.datetime-form
    if kind == "syntax":
        return b'{"type": '
    if kind == "blank":
        return b"   "
    if kind == "oversized":
        return b'{"pad": "' + b"x" * MAX_BYTES + b'"}'  # over max-bytes: limit.size
    if kind == "bare event":
        return b'{"type": "Event"}'
    return _envelope(n)


def _lines(count: int, seed: int) -> tuple[list[bytes], dict[str, list[int]]]:
    """``count`` JSON Lines, mostly valid; and the line numbers of each kind."""
    rng = random.Random(seed)
    lines: list[bytes] = []
    where: dict[str, list[int]] = {kind: [] for kind in KINDS}
    for n in range(count):
        kind = rng.choices(KINDS, weights=(70, 8, 8, 3, 3, 3, 5))[0]
        lines.append(_line(kind, n))
        where[kind].append(n + 1)
    return lines, where


# --- the merge, where it is made -----------------------------------------------------------------------


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10**6),
    cap=st.integers(1, 6),
    cuts=st.lists(st.integers(0, 60), max_size=8),
    slack=st.integers(0, 3),
)
def test_chunks_absorbed_give_the_report_of_one_pass(
    seed: int, cap: int, cuts: list[int], slack: int
) -> None:
    """However a file is cut into chunks, and whatever room each chunk is given (never more than the
    report still has), the absorbed caps and coverage are those of one pass over the whole file (the
    coverage's tables bounded to 3 values: the bounded tables are merged exactly too)."""
    with mock.patch.object(statistics, "MAX_VALUES", 3):
        _cut_and_merge(seed, cap, cuts, slack)


def _cut_and_merge(seed: int, cap: int, cuts: list[int], slack: int) -> None:
    lines, _ = _lines(60, seed)
    at = random.Random(seed).randrange(len(lines))  # five actions: past the bound of 3, somewhere
    lines[at:at] = [_line("wrong action", n) for n in range(1, 5)]
    data = b"\n".join(lines) + b"\n"
    policy = Policy(limits=Limits(max_issues=cap, max_bytes=MAX_BYTES))
    whole_coverage = Coverage()
    whole = check_reader(io.BytesIO(data), whole_coverage, lines=True, policy=policy)
    assert whole == validate_reader(io.BytesIO(data), lines=True, policy=policy)

    read = list(read_lines(io.BytesIO(data), MAX_BYTES))
    merged, coverage, documents, start = Cap(cap), Coverage(), 0, 1
    for end in [*sorted(set(cuts)), len(read)]:
        chunk = read[start - 1 : end] if end >= start - 1 else []
        room = max(cap - max(merged.errors_found - slack, 0), 0)  # what the parent knows, or less
        part_coverage = Coverage(bounded=False)
        part, count = check_documents(
            parse_lines(chunk, policy.limits, start=start, whole=False), policy, part_coverage, limit=room
        )
        merged.absorb(part)
        coverage.absorb(part_coverage)
        documents += count
        start += len(chunk)
    assert merged.report(documents) == whole
    assert coverage.to_dict() == whole_coverage.to_dict()
    assert whole.issues, "the sample holds issues"
    assert statistics.OTHER in whole_coverage.to_dict()["actions"]["ActivityEvent"], "the bound is reached"


# --- a file cut into spans that the workers read themselves ------------------------------------------------


def _read_spans(target: Path, chunk: int, scan: int, limit: int) -> list[tuple[int, bytes | object]]:
    """Every line of ``target`` as the workers read it, numbered as they number it: span by span."""
    read: list[tuple[int, bytes | object]] = []
    with (
        mock.patch.object(parallel, "CHUNK_BYTES", chunk),
        mock.patch.object(parallel, "SCAN", scan),
        target.open("rb") as stream,
    ):
        spans = list(parallel._spans(stream, jobs=2))
    for span in spans:
        with target.open("rb") as stream:
            stream.seek(span.start)
            lines = read_lines(parallel._Slice(stream, span.start, span.end), limit)
            read += list(enumerate(lines, start=span.line))
    ends = [span.end for span in spans]
    assert ends[-1] is None and all(end is not None for end in ends[:-1])
    assert [span.start for span in spans] == [0, *ends[:-1]], "the spans follow one another"
    return read


LINES = [b"{}", b'{"a": 1}', b"x" * 40, b"y" * 300, b"", b" "]
"""Lines of every kind for a size limit of 100 bytes: short, long, over it, blank."""


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(
        st.tuples(st.sampled_from(LINES), st.sampled_from([b"\n", b"\r\n"])),
        max_size=40,
    ),
    last=st.sampled_from([b"", b"{}", b"z" * 300, b"\r"]),
    chunk=st.integers(16, 400),
    scan=st.integers(1, 64),
)
def test_spans_read_the_lines_of_one_reader(
    lines: list[tuple[bytes, bytes]],
    last: bytes,
    chunk: int,
    scan: int,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Cut anywhere (chunks and scanning blocks from a few bytes: a boundary next to each kind of line),
    the spans give the lines one reader of the whole file gives, each at its number: CRLF or LF endings,
    lines over the size limit (one longer than a chunk and than a scanning block), blank lines, no final
    line end."""
    target = tmp_path_factory.mktemp("spans") / "cut.jsonl"
    target.write_bytes(b"".join(text + end for text, end in lines) + last)
    with target.open("rb") as stream:
        whole = list(enumerate(read_lines(stream, 100), start=1))
    assert _read_spans(target, chunk, scan, limit=100) == whole


@pytest.mark.parametrize("ending", [b"\n", b"\r\n"])
@pytest.mark.parametrize("final", [True, False], ids=["final-newline", "no-final-newline"])
def test_a_line_beyond_max_bytes_at_each_boundary(
    ending: bytes, final: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks of 16 KiB scanned in blocks of 1 KiB, lines over max-bytes (4 KiB, and one of 40 KiB: more
    than a chunk) placed around each boundary: --jobs 2 writes the bytes --jobs 1 writes, each oversized
    line refused at its own line."""
    monkeypatch.setattr(parallel, "CHUNK_BYTES", 16 * 1024)
    monkeypatch.setattr(parallel, "SCAN", 1024)
    lines, where = _lines(600, seed=5)
    huge = 300
    lines[huge] = b'{"pad": "' + b"x" * (40 * 1024) + b'"}'
    data = ending.join(lines) + (ending if final else b"")
    target = tmp_path / "edges.jsonl"
    target.write_bytes(data)
    config = tmp_path / "pyproject.toml"
    config.write_text(f"[tool.caliper-schema.limits]\nmax-issues = 5000\nmax-bytes = {MAX_BYTES}\n")
    args = ["validate", "--config", str(config), "--format", "json", "--statistics", str(target)]
    one = _cli(*args[:1], "--jobs", "1", *args[1:])
    assert _cli(*args[:1], "--jobs", "2", *args[1:]) == one
    [report] = json.loads(one[1])["files"]
    refused = sorted(issue["line"] for issue in report["errors"] if issue["rule"] == "limit.size")
    assert refused == sorted([*where["oversized"], huge + 1])
    assert len(data) > 10 * parallel.CHUNK_BYTES  # cut in many spans


class _Changing:
    """``parallel._spans`` that changes the file once the spans are cut, before any worker reads them."""

    def __init__(self, change: object) -> None:
        self.change, self.cut = change, parallel._spans

    def __call__(self, stream: object, jobs: int) -> object:
        spans = list(self.cut(stream, jobs))  # type: ignore[arg-type]
        self.change()  # type: ignore[operator]
        return iter(spans)


def test_a_file_that_changes_while_it_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No crash and no false pass: cut short in the middle of a line, the file gets the report of what it
    holds then (the line cut short is a syntax error); grown, the last span reads to its new end (the
    invalid line added is judged); replaced by another file, it cannot be read (exit status 2)."""
    monkeypatch.setattr(parallel, "CHUNK_BYTES", 16 * 1024)
    lines = [_envelope(n) for n in range(400)]
    data = b"\n".join(lines) + b"\n"
    target = tmp_path / "moving.jsonl"
    cut = len(data) // 2 + 100

    target.write_bytes(data)
    monkeypatch.setattr(parallel, "_spans", _Changing(lambda: os.truncate(target, cut)))
    status, out, err = _cli("validate", "--jobs", "2", "--format", "json", str(target))
    assert (status, err) == (1, "")
    monkeypatch.undo()
    monkeypatch.setattr(parallel, "CHUNK_BYTES", 16 * 1024)
    assert _cli("validate", "--jobs", "1", "--format", "json", str(target)) == (status, out, err)
    [report] = json.loads(out)["files"]
    line = data[:cut].count(b"\n") + 1
    assert [(issue["line"], issue["rule"]) for issue in report["errors"]] == [(line, "json.syntax")]

    target.write_bytes(data)
    grown = data + _envelope(400, action="Exploded") + b"\n"
    monkeypatch.setattr(parallel, "_spans", _Changing(lambda: target.write_bytes(grown)))
    status, out, err = _cli("validate", "--jobs", "2", "--format", "json", str(target))
    [report] = json.loads(out)["files"]
    assert (status, err) == (1, "")
    assert [(i["line"], i["pointer"], i["rule"]) for i in report["errors"]] == [
        (401, "/data/0/action", "schema.const")
    ]

    target.write_bytes(data)
    other = tmp_path / "other.jsonl"
    other.write_bytes(data)
    monkeypatch.setattr(parallel, "_spans", _Changing(lambda: other.replace(target)))
    status, out, err = _cli("validate", "--jobs", "2", str(target))
    assert status == 2 and "Traceback" not in err
    assert f"cannot read {str(target)!r}: it was replaced while it was read" in err


# --- the command line: --jobs 2 writes what --jobs 1 writes ------------------------------------------------


_TOKEN = re.compile(r"(?<=::stop-commands::)[0-9a-f]{32}$|^::[0-9a-f]{32}::$", re.MULTILINE)


def same_but_token(text: str) -> str:
    """GitHub output with its random stop-commands token (a new one each run, by design) made constant."""
    return _TOKEN.sub("TOKEN", text)


def _cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(args), stdout=out, stderr=err), same_but_token(out.getvalue()), err.getvalue()


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, list[int]]]:
    """A JSON Lines file of 2,500 lines (about 3 MiB: three chunks of the real size) and a config with a
    small cap and size limit."""
    folder = tmp_path_factory.mktemp("jobs")
    lines, where = _lines(2500, seed=16)
    target = folder / "events.jsonl"
    target.write_bytes(b"\n".join(lines) + b"\n")
    config = folder / "pyproject.toml"
    config.write_text(CONFIG)
    return target, config, where


@pytest.mark.parametrize("form", ["text", "json", "github"])
def test_small_chunks_write_the_bytes_of_one_process(
    generated: tuple[Path, Path, dict[str, list[int]]], form: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks of 16 KiB (about 150 of them): every boundary merged, the cap reached in the first."""
    target, config, where = generated
    monkeypatch.setattr(parallel, "CHUNK_BYTES", 16 * 1024)
    common = ["validate", "--config", str(config), "--format", form, "--statistics", str(target)]
    one = _cli(*common[:1], "--jobs", "1", *common[1:])
    two = _cli(*common[:1], "--jobs", "2", *common[1:])
    assert two == one
    status, out, _ = one
    assert status == 1
    if form == "json":
        [report] = json.loads(out)["files"]
        first = report["errors"][0]  # the first error of the file, found by reading the input
        line, kind = min((where[kind][0], kind) for kind in FIRST_ERROR)
        assert (first["line"], first["pointer"], first["rule"]) == (line, *FIRST_ERROR[kind])
        notice = report["errors"][-1]
        assert notice["rule"] == "limit.issues" and len(report["errors"]) == MAX_ISSUES + 1
        statistics = json.loads(out)["statistics"]
        assert statistics["issues"]["schema.const"]["errors"] == len(where["wrong action"])
        assert statistics["issues"]["limit.size"]["errors"] == len(where["oversized"])
        assert statistics["documents"]["total"] == 2500 - len(where["blank"])


def test_the_collector_is_the_callers_again_after_a_pooled_run(
    generated: tuple[Path, Path, dict[str, list[int]]],
) -> None:
    """The pool freezes what its workers inherit (their collections skip it) and unfreezes it at the end:
    a program that calls ``main`` and goes on keeps a collector that can free what it made before."""
    target, config, _ = generated
    assert gc.get_freeze_count() == 0
    status, _, _ = _cli("validate", "--jobs", "2", "--config", str(config), str(target))
    assert status == 1
    assert gc.get_freeze_count() == 0


def test_real_chunks_in_every_format_and_the_exit_status(
    generated: tuple[Path, Path, dict[str, list[int]]],
) -> None:
    """The command line in its own process, chunks of the real size, every format with statistics."""
    target, config, _ = generated
    assert target.stat().st_size > 2 * parallel.CHUNK_BYTES  # split in three
    for form in ("text", "json", "github"):
        args = ["validate", "--config", str(config), "--format", form, "--statistics", str(target)]
        one, two = run_cli(*args[:1], "--jobs", "1", *args[1:]), run_cli(*args[:1], "--jobs", "2", *args[1:])
        assert (two.status, same_but_token(two.text), two.err) == (
            one.status,
            same_but_token(one.text),
            one.err,
        )
        assert one.status == 1 and one.clean()
    text = run_cli("validate", "--config", str(config), "--jobs", "2", str(target)).text
    hidden = re.search(r'error limit\.issues "" (\d+) more issues not shown', text)
    assert hidden is not None and int(hidden.group(1)) > 100


@pytest.mark.parametrize("form", ["text", "json", "github"])
@pytest.mark.parametrize("folder", ["examples", "corpus"])
def test_the_examples_and_the_ims_corpus(folder: str, form: str) -> None:
    path = EXAMPLES if folder == "examples" else CORPUS
    if not path.is_dir():
        pytest.skip(f"the IMS conformance corpus is not at {CORPUS}: set CALIPER_SHARED_DIR")
    args = ["validate", "--format", form, "--statistics", str(path)]
    one = _cli(*args[:1], "--jobs", "1", *args[1:])
    assert _cli(*args[:1], "--jobs", "2", *args[1:]) == one
    assert one[0] == 1  # both folders hold invalid documents on purpose
    if form == "json":
        files = json.loads(one[1])["files"]
        assert len(files) >= (8 if folder == "examples" else 50)
        mistakes = next(entry for entry in files if entry["path"].endswith("activity-event-mistakes.json")
                        or entry["status"] == "error")  # fmt: skip
        assert all(issue["pointer"].startswith("/") or issue["pointer"] == "" for issue in mistakes["errors"])
        assert {issue["rule"] for issue in mistakes["errors"]}


def test_an_unreadable_file_among_others(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    for n in range(6):
        (folder / f"{n}-valid.json").write_bytes(_envelope(n))
    (folder / "3-secret.json").write_bytes(_envelope(99))
    (folder / "3-secret.json").chmod(0)
    (folder / "4-wrong.json").write_bytes(_envelope(7, action="Exploded"))
    for form in ("text", "json"):
        args = ["validate", "--format", form, str(folder)]
        one = run_cli(*args[:1], "--jobs", "1", *args[1:], prefix=without_privilege())
        two = run_cli(*args[:1], "--jobs", "2", *args[1:], prefix=without_privilege())
        assert (two.status, two.out, two.err) == (one.status, one.out, one.err)
        assert one.status == 2 and one.clean()
        assert "3-secret.json" in one.err and "Permission denied" in one.err
    report = json.loads(one.out)
    entries = {Path(entry["path"]).name: entry for entry in report["files"]}
    assert entries["3-secret.json"]["errors"][0]["rule"] == "io.unreadable"
    [wrong] = entries["4-wrong.json"]["errors"]
    assert (wrong["pointer"], wrong["rule"]) == ("/data/0/action", "schema.const")
    assert report["summary"]["files"] == 8


def test_standard_input_in_chunks(generated: tuple[Path, Path, dict[str, list[int]]], tmp_path: Path) -> None:
    """Three chunks from a pipe; a cap high enough to show every error, each at its line of the input."""
    target, _, where = generated
    config = tmp_path / "pyproject.toml"
    config.write_text(f"[tool.caliper-schema.limits]\nmax-issues = 5000\nmax-bytes = {MAX_BYTES}\n")
    runs = []
    for jobs in ("1", "2"):
        with target.open("rb") as stdin:
            runs.append(
                run_cli("validate", "--jsonl", "--jobs", jobs, "--config", str(config), "-", stdin=stdin)
            )
    one, two = runs
    assert (two.status, two.out, two.err) == (one.status, one.out, one.err)
    for line in where["oversized"]:
        assert f'<stdin>:{line}:1: error limit.size "" ' in one.text
    for line in where["syntax"]:
        assert f"<stdin>:{line}:" in one.text and "json.syntax" in one.text
    for line in where["wrong action"]:
        assert re.search(rf"<stdin>:{line}:\d+: error schema.const /data/0/action ", one.text)


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated sessions with mistakes across documents (the stream rules' findings), about 700 KiB."""
    target = tmp_path_factory.mktemp("sessions") / "sessions.jsonl"
    out = io.StringIO()
    assert main(["generate", "--sessions", "20", "--seed", "31", "--invalid", "--strict"], stdout=out) == 0
    target.write_text(out.getvalue())
    return target


@pytest.mark.parametrize(("form", "budget"), [("text", 10_000), ("json", 10_000), ("github", 10_000),
                                              ("json", 3), ("text", 0)])  # fmt: skip
def test_a_stream_judged_in_workers_writes_the_bytes_of_one_process(
    generated: tuple[Path, Path, dict[str, list[int]]],
    sessions: Path,
    form: str,
    budget: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``--stream --jobs 2``: the documents judged in workers, in spans of 16 KiB (every kind of line of
    ``generated`` at some boundary: oversized, blank, broken), the stream rules here; the same bytes. With a
    small ``STREAM_ISSUES`` budget, the documents of a span past it are judged here: the same bytes too."""
    target, config, where = generated
    monkeypatch.setattr(parallel, "CHUNK_BYTES", 16 * 1024)
    monkeypatch.setattr(parallel, "STREAM_ISSUES", budget)
    common = ["--stream", "--statistics", "--config", str(config), "--format", form]
    common += [str(sessions), str(target)]
    one = _cli("validate", "--jobs", "1", *common)
    two = _cli("validate", "--jobs", "2", *common)
    assert two == one
    status, out, _ = one
    assert status == 1
    if form == "json":
        findings = json.loads(out)["findings"]
        rules = {finding["rule"] for finding in findings}
        assert {"stream.duplicate-id", "limit.size", "json.syntax", "schema.const"} <= rules
        oversized = [f["line"] for f in findings if f["rule"] == "limit.size" and f["path"] == str(target)]
        assert oversized == where["oversized"]


def _broken_span(target: Path, span: parallel.Span) -> list[object]:
    raise RuntimeError("boom")  # at module level: the workers find it by name, as they find the real one


def test_a_stream_whose_worker_fails_is_exit_2_never_a_pass(
    sessions: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "CHUNK_BYTES", 16 * 1024)
    monkeypatch.setattr(parallel, "_judge_span", _broken_span)
    status, out, err = _cli("validate", "--stream", "--jobs", "2", "--format", "json", str(sessions))
    assert status == 2
    assert f"caliper-schema: a worker process failed on '{sessions}': RuntimeError('boom')" in err
    assert json.loads(out)["findings"][-1]["rule"] == "io.unreadable"  # the output stays one JSON document


# --- a worker that dies, Ctrl-C ----------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(each) for each in (task / "children").read_text().split()]
    return found


def _start(args: list[str], tmp_path: Path) -> tuple[subprocess.Popen[bytes], list[int]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "caliper_schema", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, cwd=tmp_path,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        workers = _children(process.pid)
        if len(workers) >= 2:
            return process, workers
        assert process.poll() is None, process.communicate()
        time.sleep(0.01)
    raise AssertionError("no worker process started")


@pytest.fixture(scope="module")
def long_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("long") / "long.jsonl"
    lines, _ = _lines(400, seed=3)
    target.write_bytes((b"\n".join(lines) + b"\n") * 40)  # ~20 MiB: several seconds of work
    return target


@pytest.mark.slow
def test_a_worker_killed_is_an_error_never_a_pass(long_file: Path, tmp_path: Path) -> None:
    process, workers = _start(["validate", "--jobs", "2", str(long_file)], tmp_path)
    os.kill(workers[0], signal.SIGKILL)
    out, err = process.communicate(timeout=120)
    text = err.decode()
    assert process.returncode == 2, text
    assert "caliper-schema: a worker process died" in text and "Traceback" not in text
    assert b"checked" not in out  # no verdict written


@pytest.mark.slow
def test_ctrl_c_stops_the_workers(long_file: Path, tmp_path: Path) -> None:
    process, workers = _start(["validate", "--jobs", "2", str(long_file)], tmp_path)
    time.sleep(0.2)
    os.killpg(process.pid, signal.SIGINT)  # the terminal signals the whole foreground group
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert err.decode().strip() == "caliper-schema: interrupted"
    time.sleep(0.2)
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists() and _state(pid) != "Z"]


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


# --- the progress bar ---------------------------------------------------------------------------------------


@pytest.fixture
def terminal_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setattr(progress, "DELAY", 0.0)  # a long run's bar, at once, and each step drawn
    monkeypatch.setattr(progress, "REDRAW", 0.0)


def _on_terminal(*args: str) -> tuple[int, str, str]:
    """The command line with standard error a pseudo-terminal: status, stdout, what the terminal got."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # as a window has
    try:
        with open(terminal, "w", closefd=False) as stderr:
            out = io.StringIO()
            status = main(list(args), stdout=out, stderr=stderr)
            stderr.flush()
        os.set_blocking(controller, False)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            shown += chunk
        return status, out.getvalue(), shown.decode("utf-8", "replace")
    finally:
        os.close(controller)
        os.close(terminal)


@pytest.mark.usefixtures("terminal_env")
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_bar_shows_on_a_terminal_and_stdout_is_unchanged(
    generated: tuple[Path, Path, dict[str, list[int]]], jobs: str
) -> None:
    target, config, _ = generated
    args = ["validate", "--jobs", jobs, "--config", str(config), str(target), str(EXAMPLES)]
    status, out, shown = _on_terminal(*args)
    assert "checking:" in shown and "B/s" in shown and "files" in shown
    quiet = _cli(*args)
    assert (status, out) == quiet[:2]
    assert quiet[2] == ""  # a StringIO is no terminal: no bar


@pytest.mark.usefixtures("terminal_env")
@pytest.mark.parametrize(
    ("flags", "env"),
    [(["--no-progress"], {}), (["--format", "json"], {}), ([], {"CI": "true"}), ([], {"TERM": "dumb"})],
)
def test_no_bar_when_turned_off_in_ci_or_for_json(
    flags: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    status, out, shown = _on_terminal("validate", *flags, str(EXAMPLES))
    assert status == 1 and out
    assert shown == ""


def test_no_bar_in_a_pipe_nor_for_a_short_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    read, write = os.pipe()
    with open(write, "w") as stderr, open(read) as pipe:  # noqa: PTH123 - descriptors
        monkeypatch.setattr(progress, "DELAY", 0.0)
        status = main(["validate", str(EXAMPLES)], stdout=io.StringIO(), stderr=stderr)
        stderr.close()
        assert (status, pipe.read()) == (1, "")
    monkeypatch.setattr(progress, "DELAY", 1.0)
    status, _, shown = _on_terminal("validate", str(EXAMPLES))  # well under a second
    assert (status, shown) == (1, "")


@pytest.mark.slow
def test_a_broken_pipe_or_a_full_disk_keeps_the_verdict(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    for n in range(1500):  # ~100 KB of report: more than a pipe holds
        (folder / f"{n:04}.json").write_text('{"type": "Event"}')
    result = run_shell("$CS validate --jobs 2 bad | head -n 1", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (1, "")
    assert result.stdout == "bad/0000.json:1:1: error schema.required /id missing required property 'id'\n"
    result = run_shell("$CS validate --jobs 2 bad > /dev/full", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "caliper-schema: cannot write the report: No space left on device\n"


@pytest.mark.parametrize("text", [b"", b"\n" * (parallel.CHUNK_BYTES + 10)], ids=["empty", "blank-chunks"])
def test_json_lines_with_no_document_fail_in_chunks_as_in_one_process(text: bytes, tmp_path: Path) -> None:
    """A chunk of blank lines is no error of its own; a whole input of them (or nothing) is json.empty."""
    target = tmp_path / "nothing.jsonl"
    target.write_bytes(text)
    for args in (["--format", "json", str(target)], ["--format", "json", "--jsonl", "-"]):
        runs = []
        for jobs in ("1", "2"):
            with target.open("rb") as stdin:
                runs.append(run_cli("validate", "--jobs", jobs, *args, stdin=stdin))
        one, two = runs
        assert (two.status, two.out, two.err) == (one.status, one.out, one.err)
        [entry] = json.loads(one.out)["files"]
        assert one.status == 1 and [(i["pointer"], i["rule"], i["line"]) for i in entry["errors"]] == [
            ("", "json.empty", 1)
        ]
