"""Configuration a project commits: [tool.caliper-schema] in pyproject.toml, --config, and overrides."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from caliper_schema.cli import main
from caliper_schema.configuration import ConfigError, load_policy, policy_from
from caliper_schema.policy import Policy
from caliper_schema.validation.reading import head
from tests.conftest import EXAMPLES

GENERIC = EXAMPLES / "valid" / "caliper-generic-event.json"  # valid, with a caliper.context-missing warning


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(args), stdout=out, stderr=err), out.getvalue(), err.getvalue()


def rules_of(output: str) -> list[tuple[str, str]]:
    [entry] = json.loads(output)["files"]
    return [(issue["severity"], issue["rule"]) for issue in entry["errors"] + entry["warnings"]]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "sub" / "dir").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "sub" / "dir")  # discovery walks up to the project root
    return tmp_path


def test_no_configuration_is_the_default_policy(project: Path) -> None:
    status, out, _ = run("validate", "--format", "json", str(GENERIC))
    assert status == 0 and rules_of(out) == [("warning", "caliper.context-missing")]


def test_pyproject_table_is_found_upwards_and_applied(project: Path) -> None:
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.caliper-schema]\nstrict = true\n')
    status, out, _ = run("validate", "--format", "json", str(GENERIC))
    assert status == 1 and rules_of(out) == [("error", "caliper.context-missing")]


def test_command_line_overrides_the_file(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.caliper-schema]\nstrict = true\n")
    status, out, _ = run(
        "validate", "--format", "json", "--severity", "caliper.context-missing=off", str(GENERIC)
    )
    assert status == 0 and rules_of(out) == []
    status, out, _ = run("validate", "--format", "json", "--disable", "caliper.context-missing", str(GENERIC))
    assert status == 0 and rules_of(out) == []


def test_explicit_config_file_with_keys_at_the_top(project: Path) -> None:
    config = project / "caliper.toml"
    config.write_text('severity = {"caliper.context-missing" = "error"}\n')
    status, out, _ = run("validate", "--format", "json", "--config", str(config), str(GENERIC))
    assert status == 1 and rules_of(out) == [("error", "caliper.context-missing")]


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[tool.caliper-schema]\nstrictness = true\n", "unknown key 'strictness'"),
        ("[tool.caliper-schema]\ndisable = [\"caliper.context-mising\"]\n",
         "unknown rule 'caliper.context-mising'; did you mean 'caliper.context-missing'?"),
        ("[tool.caliper-schema]\nsubjects = \"v7\"\n", "subjects is one of v6, v9, v10"),
        ("[tool.caliper-schema]\nstrict = \"yes\"\n", "strict is true or false"),
        ('[tool.caliper-schema]\nseverity = {"caliper.placeholder" = "fatal"}\n', "error, warning or off"),
        ("[tool.caliper-schema\n", "not valid TOML"),
    ],
)  # fmt: skip
def test_a_bad_configuration_is_a_clean_usage_error(project: Path, toml: str, message: str) -> None:
    (project / "pyproject.toml").write_text(toml)
    status, out, err = run("validate", str(GENERIC))
    assert status == 2 and message in err and out == "" and "Traceback" not in err


def test_a_missing_config_file_is_a_usage_error(project: Path) -> None:
    status, _, err = run("validate", "--config", "nope.toml", str(GENERIC))
    assert status == 2 and "cannot read nope.toml" in err


def test_subject_list_from_configuration(project: Path, tmp_path: Path) -> None:
    event = json.loads((EXAMPLES / "valid" / "timeback-activity-event.json").read_text())
    event["data"][0]["object"]["subject"] = "Other"
    target = tmp_path / "other.json"
    target.write_text(json.dumps(event))
    status, out, _ = run("validate", "--format", "json", str(target))
    assert status == 0 and rules_of(out) == [("warning", "timeback.subject")]
    (project / "pyproject.toml").write_text('[tool.caliper-schema]\nsubjects = "v10"\n')
    status, out, _ = run("validate", "--format", "json", str(target))
    assert status == 0 and rules_of(out) == []


def test_library_loading() -> None:
    assert load_policy(read=head) == Policy()
    policy = policy_from({"severity": {"schema.format": "warning"}}, "here")
    assert policy.severities == {"schema.format": "warning"}
    with pytest.raises(ConfigError, match="here: unknown rule 'nonsense'"):
        policy_from({"disable": ["nonsense"]}, "here")


def test_the_readme_documents_every_rule() -> None:
    from caliper_schema.configuration import known_rules
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    missing = sorted(rule for rule in known_rules() if f"`{rule}`" not in readme)
    assert missing == []


def test_limits_are_configurable(project: Path, tmp_path: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.caliper-schema.limits]\nmax-depth = 2\n")
    status, out, _ = run("validate", "--format", "json", str(GENERIC))  # envelope/data/0/id is 3 deep
    [entry] = json.loads(out)["files"]
    assert status == 1 and entry["errors"][0]["rule"] == "limit.depth"
    (project / "pyproject.toml").write_text("[tool.caliper-schema.limits]\nmax-depht = 3\n")
    status, _, err = run("validate", str(GENERIC))
    assert status == 2 and "unknown limit 'max-depht'" in err
    (project / "pyproject.toml").write_text("[tool.caliper-schema.limits]\nmax-depth = 0\n")
    status, _, err = run("validate", str(GENERIC))
    assert status == 2 and "max_depth is a whole number >= 1" in err
