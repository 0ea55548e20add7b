"""Configuration a project commits: [tool.caliper-schema] in pyproject.toml, --config, and overrides."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from caliper_schema.cli import main
from caliper_schema.configuration import ConfigError, load_policy, policy_from
from caliper_schema.policy import Policy
from caliper_schema.reporting import Issue
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


# --- Policy takes the configuration's names; every rule id it is given exists ---------------------------


def test_policy_takes_the_names_of_the_configuration() -> None:
    named = Policy(disable=["caliper.placeholder"], severity={"timeback.subject": "error"})
    assert named == Policy(severities={"caliper.placeholder": "off", "timeback.subject": "error"})
    assert named.disable == ("caliper.placeholder",)
    assert named.severity == {"caliper.placeholder": "off", "timeback.subject": "error"}
    assert replace(named, strict=True).severities == named.severities  # dataclasses.replace keeps them
    issue = Issue("/object/subject", "timeback.subject", "warning", "'Art' is not in the subject list")
    placeholder = Issue("/id", "caliper.placeholder", "warning", "looks like a placeholder")
    assert [i.severity for i in named.judge([issue, placeholder])] == ["error"]
    # severity wins over disable, as the configuration file's severity table does
    assert Policy(disable=["timeback.subject"], severity={"timeback.subject": "warning"}).severities == {
        "timeback.subject": "warning"
    }


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"disable": ["caliper.placehodler"]},
         "unknown rule 'caliper.placehodler'; did you mean 'caliper.placeholder'?"),
        ({"severity": {"caliper.uid": "error"}}, "unknown rule 'caliper.uid'; did you mean 'caliper.uuid'?"),
        ({"severities": {"nonsense": "off"}}, "unknown rule 'nonsense'"),
        ({"disable": "caliper.uuid"}, "disable is a list of rule ids, not the string 'caliper.uuid'"),
        ({"disable": ["json.syntax"]}, "json.syntax cannot be turned off or lowered"),
    ],
)  # fmt: skip
def test_an_unknown_rule_given_to_policy_is_a_value_error(given: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Policy(**given)


def test_policy_from_keeps_what_the_table_does_not_set() -> None:
    base = Policy(
        strict=True, subjects="v10", best_practice=True, xp_tolerance=0.75, disable=["caliper.uuid"]
    )
    kept = policy_from({"severity": {"timeback.subject": "error"}}, "here", base=base)
    assert (kept.strict, kept.subjects, kept.best_practice, kept.xp_tolerance) == (True, "v10", True, 0.75)
    assert kept.severities == {"caliper.uuid": "off", "timeback.subject": "error"}
    over = policy_from({"best-practice": False, "xp-tolerance": 2, "strict": False}, "here", base=base)
    assert (over.strict, over.best_practice, over.xp_tolerance) == (False, False, 2)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[tool.caliper_schema]\nstrict = true\n",
         "[tool.caliper_schema] is not read; did you mean [tool.caliper-schema]?"),
        ("[tool.Caliper-Schema]\nstrict = true\n",
         "[tool.Caliper-Schema] is not read; did you mean [tool.caliper-schema]?"),
        ("[tool.caliper-shema]\nstrict = true\n", "did you mean [tool.caliper-schema]?"),
        ("[tool.caliper-schema]\n[tool.caliper_schema]\nstrict = true\n",
         "[tool.caliper_schema] is not read"),  # beside the right one, still not read: said
        ("[tool.caliper-schema]\nbest_practice = true\n",
         "unknown key 'best_practice'; did you mean 'best-practice'? the keys are strict, best-practice"),
        ("[tool.caliper-schema]\nstirct = true\n", "unknown key 'stirct'; did you mean 'strict'?"),
        ("[tool.caliper-schema.limits]\nmax_bytes = 10\n",
         "unknown limit 'max_bytes'; did you mean 'max-bytes'?"),
        ("[tool.caliper-schema]\nbest-practice = \"yes\"\n", "best-practice is true or false, not 'yes'"),
        ("[tool.caliper-schema]\nxp-tolerance = -1\n", "xp-tolerance is a number >= 0"),
        ("[tool.caliper-schema]\nxp-tolerance = \"a lot\"\n", "xp-tolerance is a number >= 0"),
    ],
)  # fmt: skip
def test_a_near_name_gets_did_you_mean(project: Path, toml: str, message: str) -> None:
    (project / "pyproject.toml").write_text(toml)
    status, out, err = run("validate", str(GENERIC))
    assert (status, out) == (2, "") and message in err and str(project / "pyproject.toml") in err, err


def test_another_tools_table_is_not_taken_for_this_one(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.caliper]\nstrict = true\n\n[tool.schema]\nx = 1\n")
    status, out, _ = run("validate", "--format", "json", str(GENERIC))
    assert status == 0 and rules_of(out) == [("warning", "caliper.context-missing")]


def test_no_strict_overrides_strict_from_the_file(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.caliper-schema]\nstrict = true\n")
    status, out, _ = run("validate", "--format", "json", str(GENERIC))
    assert status == 1 and rules_of(out) == [("error", "caliper.context-missing")]
    status, out, _ = run("validate", "--format", "json", "--no-strict", str(GENERIC))
    assert status == 0 and rules_of(out) == [("warning", "caliper.context-missing")]


def test_best_practice_from_the_flag_or_the_file_and_not_from_strict(project: Path) -> None:
    # GENERIC's event names no profile: bestpractice.profile, a SHOULD of the spec, at /data/0/profile.
    def pointers(*args: str) -> tuple[int, list[tuple[str, str, str]]]:
        status, out, _ = run("validate", "--format", "json", *args, str(GENERIC))
        [entry] = json.loads(out)["files"]
        found = [(i["severity"], i["rule"], i["pointer"]) for i in entry["errors"] + entry["warnings"]]
        return status, [issue for issue in found if issue[1].startswith("bestpractice.")]

    assert pointers() == (0, [])
    assert pointers("--strict") == (1, [])  # certification grade is the MUSTs: strict alone adds none
    assert pointers("--best-practice") == (0, [("warning", "bestpractice.profile", "/data/0/profile")])
    assert pointers("--best-practice", "--strict") == (
        1,
        [("error", "bestpractice.profile", "/data/0/profile")],
    )
    (project / "pyproject.toml").write_text("[tool.caliper-schema]\nbest-practice = true\n")
    assert pointers() == (0, [("warning", "bestpractice.profile", "/data/0/profile")])
    assert pointers("--no-best-practice") == (0, [])


def test_serve_takes_the_same_policy_flags(project: Path) -> None:
    from caliper_schema.cli.arguments import build_parser
    from caliper_schema.cli.commands import _policy

    (project / "pyproject.toml").write_text("[tool.caliper-schema]\nxp-tolerance = 0.5\nstrict = true\n")
    args = build_parser().parse_args(["serve", "--best-practice", "--no-strict"])
    assert (_policy(args).best_practice, _policy(args).strict, _policy(args).xp_tolerance) == (
        True,
        False,
        0.5,
    )
    args = build_parser().parse_args(["serve", "--xp-tolerance", "2"])
    assert _policy(args).xp_tolerance == 2
