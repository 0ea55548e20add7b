"""Shared test helpers: where the shared reference data lives, and how to read a report compactly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from caliper_schema import Report

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SHARED = Path(os.environ.get("CALIPER_SHARED_DIR", ROOT.parent / "shared"))
CORPUS = Path(os.environ.get("CALIPER_CONFORMANCE_DIR", SHARED / "conformance" / "caliper-v1p2"))
REFERENCE = SHARED / "reference"
CONTEXT = "http://purl.imsglobal.org/ctx/caliper/v1p2"


def findings(report: Report) -> set[tuple[str, str, str]]:
    """Every issue of a report as (severity, rule, pointer)."""
    return {(issue.severity, issue.rule, issue.pointer) for issue in report.issues}


def shared_file(path: Path) -> Path:
    """A file of ../shared, or a skip that says how to provide it."""
    if not path.exists():
        pytest.skip(f"{path} is absent: set CALIPER_SHARED_DIR to the shared reference folder")
    return path


MILLION = "tests/test_stream_memory.py"


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Start the million-event stream of tests/test_stream_memory.py as soon as the session knows it will
    run: in child processes, on the other core, while the rest of the suite runs."""
    if any(item.nodeid.startswith(MILLION) for item in items):
        from tests import test_stream_memory

        test_stream_memory.start()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A session that ends before the stream has (``-x``, Ctrl+C) ends its child too."""
    from benchmarks.streams import stop

    stop()
