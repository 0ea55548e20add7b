"""Packaging: the wheel works on its own, offline; the hook works through pre-commit; no GPL at runtime."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import venv
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.conftest import EXAMPLES, ROOT

pytestmark = pytest.mark.slow

NO_NETWORK = textwrap.dedent(
    """
    import socket

    def refuse(*args, **kwargs):
        raise OSError("network access attempted during an offline test")

    socket.socket.connect = refuse
    socket.socket.connect_ex = refuse
    socket.create_connection = refuse
    socket.getaddrinfo = refuse
    """
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    command = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--quiet",
        "--no-deps",
        "--no-build-isolation",
        "-w",
        str(out),
        ".",
    ]
    subprocess.run(command, cwd=ROOT, check=True)
    [built] = out.glob("caliper_schema-*.whl")
    return built


def test_wheel_carries_schemas_models_and_the_console_script(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "caliper_schema/schemas/envelope.json" in names
    assert "caliper_schema/schemas/timeback/activity-event.json" in names
    assert "caliper_schema/models/envelope.py" in names
    entry_points = (
        zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    )
    assert "caliper-schema = caliper_schema.cli:main" in entry_points
    assert "caliper_schema/service/templates/page.html" in names
    assert "[pytest11]\ncaliper_schema = caliper_schema.service.plugin" in entry_points
    # typed for users' type checkers (PEP 561), and st.from_type(Model) through Hypothesis's entry point
    assert "caliper_schema/py.typed" in names
    assert "[hypothesis]\ncaliper_schema = caliper_schema:_hypothesis_setup_hook" in entry_points


def test_installed_wheel_validates_outside_the_repo_with_the_network_blocked(
    wheel: Path, tmp_path: Path
) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True)
    script = NO_NETWORK + textwrap.dedent(
        f"""
        import caliper_schema
        from caliper_schema import validate_file
        assert "{env_dir}" in caliper_schema.__file__, caliper_schema.__file__
        good = validate_file({str(EXAMPLES / "valid" / "mixed-batch.json")!r})
        bad = validate_file({str(EXAMPLES / "invalid" / "timeback-docs-as-printed.json")!r})
        print(good.status, bad.status, sorted(issue.pointer for issue in bad.errors))
        """
    )
    result = subprocess.run([str(python), "-c", script], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "success error ['/data/0/actor/id', '/data/0/object/course/id', '/sendTime']"
    )
    cli = subprocess.run(
        [str(env_dir / "bin" / "caliper-schema"), "validate", str(EXAMPLES / "valid")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 0, cli.stdout + cli.stderr
    # Installed without the service extra: `serve` says how to get it (and so does the fixture, through
    # the same check: tests/test_service_plugin.py).
    serve = subprocess.run(
        [str(env_dir / "bin" / "caliper-schema"), "serve"], cwd=tmp_path, capture_output=True, text=True
    )
    assert serve.returncode == 2 and 'pip install "caliper-schema[service]"' in serve.stderr, serve.stderr
    assert "Traceback" not in serve.stderr
    check = "from caliper_schema.service.settings import missing_extra; print(missing_extra())"
    missing = subprocess.run([str(python), "-c", check], capture_output=True, text=True)
    assert "starlette, uvicorn, jinja2" in missing.stdout, missing.stdout + missing.stderr


def _runtime_distributions() -> set[str]:
    """caliper-schema with its service and Dask extras, and everything they pull in at run time."""
    seen: set[str] = set()
    stack = [("caliper-schema", frozenset({"service", "dask"}))]
    while stack:
        name, extras = stack.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        seen.add(key)
        for line in metadata.requires(name) or []:
            requirement = Requirement(line)
            wanted = (
                [requirement.marker.evaluate({"extra": extra}) for extra in extras or {""}]
                if requirement.marker
                else [True]
            )
            if any(wanted):
                stack.append((requirement.name, frozenset(requirement.extras)))
    return seen


def test_no_gpl_package_in_the_runtime_tree() -> None:
    distributions = _runtime_distributions()
    assert {"jsonschema", "rfc3987-syntax", "rfc3986-validator", "pydantic", "orjson"} <= distributions
    assert {"starlette", "uvicorn", "jinja2"} <= distributions
    assert {"dask", "distributed", "fsspec", "cloudpickle", "tornado"} <= distributions
    assert "rfc3987" not in distributions
    for name in distributions:
        meta = metadata.metadata(name)
        licence = " ".join(
            [
                meta.get("License-Expression") or "",
                meta.get("License") or "",
                *(c for c in meta.get_all("Classifier") or [] if c.startswith("License")),
            ]
        )
        assert "GPL" not in licence, f"{name}: {licence}"


def test_the_hook_runs_through_pre_commit_in_one_process(tmp_path: Path) -> None:
    repo = tmp_path / "consumer"
    (repo / "samples").mkdir(parents=True)
    for name in (
        "valid/timeback-activity-event.json",
        "valid/events.jsonl",
        "invalid/timeback-docs-as-printed.json",
    ):
        (repo / "samples" / Path(name).name).write_bytes((EXAMPLES / name).read_bytes())
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "GIT_CONFIG_GLOBAL": "/dev/null"}
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True, env=env)
    subprocess.run([*git, "add", "."], cwd=repo, check=True, env=env)
    pre_commit = [
        sys.executable,
        "-m",
        "pre_commit",
        "try-repo",
        str(ROOT),
        "caliper-validate",
        "--all-files",
    ]
    result = subprocess.run(pre_commit, cwd=repo, capture_output=True, text=True, env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "samples/timeback-docs-as-printed.json:3:15: error schema.format /sendTime" in output
    assert output.count("files checked") == 1 and "3 files checked: 2 valid, 1 invalid" in output
