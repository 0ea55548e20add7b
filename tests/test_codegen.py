"""Generated code: models and hook file match their sources, codegen is deterministic, models are usable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from codegen import generate, hooks, rewriting
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def test_committed_generated_files_match_codegen() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "codegen", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_codegen_twice_gives_identical_bytes(tmp_path: Path) -> None:
    generate.generate(tmp_path / "one")
    generate.generate(tmp_path / "two")
    first, second = generate.snapshot(tmp_path / "one"), generate.snapshot(tmp_path / "two")
    assert first and first == second


def test_drift_is_reported_as_a_diff() -> None:
    lines = generate.drift({"a.py": "x = 1\n"}, {"a.py": "x = 2\n", "b.py": "y = 1\n"})
    assert "-x = 1\n" in lines and "+x = 2\n" in lines and "+++ generated/b.py\n" in lines


def test_generated_files_say_so() -> None:
    for path in (ROOT / "caliper_schema" / "models").rglob("*.py"):
        assert path.read_text(encoding="utf-8").startswith(generate.HEADER), path


def test_hook_file_is_rendered_from_the_catalogue() -> None:
    assert yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text()) == hooks.HOOKS


# --- the rewrites of datamodel-codegen's output (codegen/rewriting.py) ------------------------------------

SAMPLE = """from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import ConfigDict, Field
from typing_extensions import TypeAliasType

PersonRef = TypeAliasType(
    "PersonRef",
    Annotated[Union[str, "Person", "Group"], Field(discriminator="type", title="PersonRef")],
)
Kind = TypeAliasType("Kind", Annotated[Literal["Viewed"], Field(title="Kind")])
Context = TypeAliasType("Context", Annotated[Literal["a"] | Mapping[str, Any], Field(title="C")])


class Person(CaliperModel):
    context: Annotated[Context | None, Field(alias="@context")] = None
    type: Literal["Person"]
    action: Annotated[Kind, Field(title="Kind")]
    role: Literal["a", "b"]
    friend: PersonRef | None = None


Person.model_rebuild()
"""


def test_each_rewrite_edits_what_its_docstring_says() -> None:
    module = rewriting.Module("caliper/entities/sample.py", SAMPLE.encode())
    counts = {function.__name__: function(module) for function in rewriting.REWRITES}
    assert counts == {"drop_rebuilds": 1, "context_alias": 1, "one_value_defaults": 2, "datetime_type": 0,
                      "dispatch_unions": 1}  # fmt: skip
    text = module.text()
    assert "model_rebuild" not in text
    assert 'Field(validation_alias="@context", serialization_alias="@context")' in text
    assert 'type: Literal["Person"] = "Person"' in text and 'Field(title="Kind")] = "Viewed"' in text
    assert 'role: Literal["a", "b"]\n' in text  # two values: no default
    assert "Field(title='PersonRef'), ByType()]" in text and "discriminator" not in text
    assert 'Mapping[str, Any], Field(title="C")])' in text  # not a union of models: left alone
    assert "from caliper_schema.modelbase import ByType\n" in text
    compile(text, "sample", "exec")


def test_the_datetime_rewrite_admits_an_aware_datetime() -> None:
    source = (
        'from __future__ import annotations\nDateTime = TypeAliasType("DateTime", Annotated[str, Field()])\n'
    )
    module = rewriting.Module("common/date_time.py", source.encode())
    assert rewriting.datetime_type(module) == 1
    assert "Annotated[str | CaliperDateTime, Field()]" in module.text()


def test_a_rewrite_that_finds_nothing_fails_the_generation(tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text("from __future__ import annotations\n\nX = 1\n")
    with pytest.raises(RuntimeError, match=r"drop_rebuilds, context_alias, .*, lazy_unions"):
        rewriting.rewrite(tmp_path, "# HEADER")


def test_every_definition_is_named_by_its_title() -> None:
    names = generate.titles(ROOT / "schemas")
    assert names["caliper/entities/person.json#/$defs/ref"] == "PersonRef"
    assert len(names) >= 140


ENTITIES = """from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field
from typing_extensions import TypeAliasType

from . import text_position_selector

AgentRef = TypeAliasType(
    "AgentRef", Annotated[Union[str, "Agent", "Person", text_position_selector.Selector], Field(title="A")]
)


class Agent(CaliperModel):
    type: Literal["Agent"]
    friend: AgentRef | None = None


class Person(Agent):
    type: Literal["Person"]
"""
SELECTOR = """from __future__ import annotations

from typing import Literal


class Selector(CaliperModel):
    type: Literal["Selector"]
"""
EVENT = """from __future__ import annotations

from ..entities._internal import AgentRef, Person


class Event(CaliperModel):
    type: Literal["Event"]
    actor: AgentRef
    object: str | Person | Agent
"""
DOCUMENT = """from __future__ import annotations

from typing import Annotated

from .caliper.entities._internal import Agent, Person
from .caliper.events import event

CaliperDocument = TypeAliasType(
    "CaliperDocument", Annotated[Agent | Person | event.Event, Field(discriminator="type")]
)
"""


def test_slots_become_lazy_and_move_out_of_the_entities_module() -> None:
    sources = {
        "caliper/entities/_internal.py": ENTITIES,
        "caliper/entities/text_position_selector.py": SELECTOR,
        "caliper/events/event.py": EVENT,
        "document.py": DOCUMENT,
    }
    modules = {path: rewriting.Module(path, text.encode()) for path, text in sources.items()}
    created = rewriting.lazy_unions(modules, "# HEADER")
    assert created[rewriting.REGISTRY].startswith("# HEADER")
    namespace: dict[str, Any] = {}
    exec(created[rewriting.REGISTRY].split("\n\n", 2)[2], namespace)
    assert namespace["MODELS"] == {
        "Agent": "caliper_schema.models.caliper.entities._internal:Agent",
        "Person": "caliper_schema.models.caliper.entities._internal:Person",
        "Selector": "caliper_schema.models.caliper.entities.text_position_selector:Selector",
        "Event": "caliper_schema.models.caliper.events.event:Event",
    }
    refs = created[rewriting.REFS]
    imports = "    from ._internal import Agent, Person\n    from . import text_position_selector\n"
    assert f"if TYPE_CHECKING:\n{imports}" in refs
    assert 'AgentRef = ByType.alias(\'AgentRef\', MODELS, ("Agent", "Person", "Selector"), text=True)' in refs
    compile(refs, "refs", "exec")
    entities = modules["caliper/entities/_internal.py"].text()
    assert "AgentRef = " not in entities and "from .refs import AgentRef\n" in entities
    event = modules["caliper/events/event.py"].text()
    assert "from ..entities._internal import Person\nfrom ..entities.refs import AgentRef\n" in event
    document = modules["document.py"].text()
    type_checking, runtime = document.split("else:\n")
    assert "    from .caliper.events import event\n" in type_checking and "discriminator" in type_checking
    assert 'ByType.alias(\'CaliperDocument\', MODELS, ("Agent", "Person", "Event"), text=False)' in runtime
    compile(document, "document", "exec")
