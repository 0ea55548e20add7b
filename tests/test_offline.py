"""Offline by construction: every schema compiles and every example validates with sockets refused."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from caliper_schema import registry, validate_file
from caliper_schema.registry import ENVELOPE_SHELL
from caliper_schema.validation import authority, fastpath
from tests.conftest import CORPUS, EXAMPLES


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    for name in ("connect", "connect_ex"):
        monkeypatch.setattr(socket.socket, name, refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.mark.usefixtures("no_network")
def test_every_schema_compiles_and_every_example_validates_offline() -> None:
    catalogue = registry.build()
    fast = fastpath.FastEngine(catalogue)
    for schema in [ENVELOPE_SHELL, *catalogue.types.values(), *catalogue.schemas]:
        authority.authority(schema, catalogue).is_valid({})
        fast.is_valid(schema, {})
    statuses = {path.name: validate_file(path).status for path in sorted(EXAMPLES.rglob("*.json*"))}
    assert statuses and set(statuses.values()) == {"success", "error"}


@pytest.mark.usefixtures("no_network")
def test_the_whole_conformance_corpus_validates_offline() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"the IMS corpus is absent at {CORPUS}")
    paths = sorted(CORPUS.rglob("*.json"))
    statuses = [validate_file(path).status for path in paths]
    assert (
        len(paths) == 424 and statuses.count("success") == 144 + 4
    )  # the valid ones, and 4 decimal warnings


@pytest.mark.usefixtures("no_network")
def test_the_guard_itself_refuses() -> None:
    with pytest.raises(AssertionError, match="network access attempted"):
        socket.create_connection(("example.com", 80))


def test_examples_exist() -> None:
    assert len(list(Path(EXAMPLES).rglob("*.json*"))) >= 8
