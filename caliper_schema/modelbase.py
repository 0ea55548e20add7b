"""The base class of the generated models (``caliper_schema.models``) and the types their code names, by hand.

What makes the generated models cheap to import, natural to build and valid when dumped lives here, so that
the generated code only names it (``codegen/rewriting.py`` says where each name is put):

* :class:`CaliperModel`: ``defer_build`` (a model's validator is built on its first use, not at import);
  fields are accepted by name or alias (``context=`` or ``"@context"``) and dumped by alias; a declared
  field holding ``None`` is left out of every dump (no Caliper property admits ``null``).
* :class:`ByType`: a slot that admits many entity types (up to 70) is checked by the object's ``type``,
  with the validator of that one model. Pydantic would otherwise build every member into every model that
  has such a slot: seconds at the first use.
* :data:`CaliperDateTime`: a DateTime field takes an aware :class:`~datetime.datetime` and writes it in
  the Caliper form; a string passes through unchanged.

>>> from datetime import datetime, timezone
>>> from caliper_schema.models.timeback.user import TimebackUser
>>> user = TimebackUser(id="https://example.edu/users/1", email="ada@example.edu",
...                     context="http://purl.imsglobal.org/ctx/caliper/v1p2")
>>> user.model_dump_json()
'{"@context":"http://purl.imsglobal.org/ctx/caliper/v1p2","id":"https://example.edu/users/1","type":"TimebackUser","email":"ada@example.edu"}'
>>> caliper_form(datetime(2024, 4, 24, 14, 12, tzinfo=timezone.utc))
'2024-04-24T14:12:00.000Z'
"""

from __future__ import annotations

import importlib
import sys
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    PlainSerializer,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    model_serializer,
)
from pydantic_core import CoreSchema, PydanticCustomError, core_schema
from typing_extensions import TypeAliasType


class CaliperModel(BaseModel):
    """Base of every generated model.

    ``model_dump_json()`` and ``model_dump(mode="json")`` give Caliper JSON as they are: aliases
    (``@context``), and no ``null`` for an optional property left unset.
    """

    model_config = ConfigDict(
        defer_build=True,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )

    @model_serializer(mode="wrap")
    def _without_nulls(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        fields = type(self).__pydantic_fields__
        for name, value in self.__dict__.items():
            if value is None:  # a declared field; extra keys live in __pydantic_extra__ and keep their nulls
                data.pop(name, None)
                alias = fields[name].serialization_alias if name in fields else None
                if alias is not None:
                    data.pop(alias, None)
        return data

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "hypothesis.strategies" in sys.modules:  # Hypothesis is in use: st.from_type(cls) should work
            _register(cls)


# --- slots admitting many entity types ---------------------------------------------------------------------


class ByType:
    """``Annotated`` metadata for a union of IRI strings and models: validate by the object's ``type``.

    Each model's validator is built the first time an object of its type is met, once per process, and
    reused by every slot; a model instance of a member type is taken as it is. As metadata (``ByType()``)
    it reads the members off the annotated union, and a union it cannot dispatch (a member that is not a
    model with a one-value ``type``, two members with the same ``type``) gets Pydantic's own union schema.
    :meth:`alias` names the members by type instead, so that their modules are imported only when an
    object of their type is first met.

    Pydantic cannot write a JSON Schema for such a slot (``model_json_schema()``): the JSON Schemas are
    the ones in ``schemas/`` (``caliper-schema schema NAME``).
    """

    def __init__(self, members: _Dispatcher | None = None) -> None:
        self.members = members

    @classmethod
    def alias(cls, name: str, models: Mapping[str, str], types: Sequence[str], *, text: bool) -> Any:
        """The run-time form of a generated slot alias: ``types`` are the document types it admits,
        ``models`` maps each to ``"module:Class"``, ``text`` says whether an IRI string is admitted. Type
        checkers see the union of those classes instead (the generated ``if TYPE_CHECKING`` branch).
        """
        dispatcher = _Dispatcher(text, {tag: models[tag] for tag in types})
        return TypeAliasType(name, Annotated[Any, cls(dispatcher)])

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        dispatcher = self.members or _Dispatcher.of(typing.get_args(source) or (source,))
        if dispatcher is None:
            return handler(source)
        return core_schema.with_info_plain_validator_function(dispatcher)


class _Dispatcher:
    """The validator of a :class:`ByType` slot: a string, a member instance, or an object of a member type."""

    def __init__(self, text: bool, models: Mapping[str, type[CaliperModel] | str]) -> None:
        self.text = text
        self.models = dict(models)
        """Document type → its model, or ``"module:Class"`` until an object of that type is first met."""
        self.expected = ", ".join(repr(tag) for tag in models)

    @classmethod
    def of(cls, members: tuple[Any, ...]) -> _Dispatcher | None:
        models: dict[str, type[CaliperModel] | str] = {}
        for member in members:
            if member is str:
                continue
            tag = _type_tag(member)
            if tag is None or tag in models:
                return None
            models[tag] = member
        return cls(str in members, models) if models else None

    def model(self, tag: Any) -> type[CaliperModel] | None:
        found = self.models.get(tag) if isinstance(tag, str) else None
        if isinstance(found, str):
            module, name = found.split(":")
            found = self.models[tag] = getattr(importlib.import_module(module), name)
        return found

    def __call__(self, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str) and self.text:
            return value
        if isinstance(value, CaliperModel):  # built by the caller: taken as it is if its type belongs here
            tag = _type_tag(type(value))
        elif isinstance(value, Mapping):
            tag = value.get("type")
        else:
            expected = "an IRI string or an object" if self.text else "an object"
            raise PydanticCustomError("model_type", "Input should be {expected}", {"expected": expected})
        if tag is None:
            raise PydanticCustomError(
                "union_tag_not_found",
                "Unable to extract tag using discriminator {discriminator}",
                {"discriminator": "'type'"},
            )
        model = self.model(tag)
        if model is None:
            raise PydanticCustomError(
                "union_tag_invalid",
                "Input tag '{tag}' found using {discriminator} does not match any of the expected tags: "
                "{expected_tags}",
                {"discriminator": "'type'", "tag": str(tag), "expected_tags": self.expected},
            )
        if isinstance(value, CaliperModel):
            return value
        return model.model_validate(value, context=info.context)


def _type_tag(member: Any) -> str | None:
    """The one value a model's ``type`` admits, or ``None`` when ``member`` is not such a model."""
    if not (isinstance(member, type) and issubclass(member, CaliperModel)):
        return None
    field = member.__pydantic_fields__.get("type")
    values = typing.get_args(field.annotation) if field is not None else ()
    return values[0] if len(values) == 1 and isinstance(values[0], str) else None


# --- DateTime -------------------------------------------------------------------------------------------


def caliper_form(moment: datetime) -> str:
    """``moment`` in the Caliper DateTime form: UTC, milliseconds, ``Z`` (``2024-04-24T14:12:00.000Z``)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


CaliperDateTime = Annotated[AwareDatetime, PlainSerializer(caliper_form, return_type=str)]
"""An aware datetime, dumped in the Caliper form; the generated ``DateTime`` is ``str | CaliperDateTime``."""


# --- Hypothesis: st.from_type(Model) without importing caliper_schema.strategies first ------------------


def register_strategies() -> None:
    """Register a lazy strategy for every model class created so far (Hypothesis's entry point calls this
    when the models were imported first; later classes register themselves as they are created)."""
    for model in _subclasses(CaliperModel):
        _register(model)


def _subclasses(base: type[CaliperModel]) -> Iterator[type[CaliperModel]]:
    for model in base.__subclasses__():
        yield model
        yield from _subclasses(model)


def _register(model: type[CaliperModel]) -> None:
    from hypothesis import strategies as st

    st.register_type_strategy(model, _strategy)


def _strategy(model: type[Any]) -> Any:
    """Resolved when a test first asks for ``model``: only then are the strategies imported."""
    from caliper_schema import strategies

    resolve: Callable[[type[Any]], Any] = strategies.for_model
    return resolve(model)
