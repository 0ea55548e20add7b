"""What datamodel-codegen's flags cannot say, applied to its output before anything compares or copies it.

Each rewrite reads the generated modules with :mod:`ast` and edits the text at the nodes it found, so the
result is deterministic and independent of formatting; :func:`rewrite` then has ruff sort the imports and
format the files again. Each rewrite counts its edits, and :func:`rewrite` fails when one finds nothing to do:
a new datamodel-codegen that changed its output must not silently undo one.

1. **No forced builds** (``drop_rebuilds``): the ``Model.model_rebuild()`` calls datamodel-codegen appends to
   a module of mutually referencing models build every model's validator at import (seconds, and the reason
   ``defer_build`` deferred nothing). Pydantic resolves the forward references itself on a model's first use.
2. **``context=``** (``context_alias``): ``Field(alias="@context")`` becomes ``validation_alias`` and
   ``serialization_alias``. Type checkers read ``alias`` (PEP 681) as the keyword of ``__init__``, so
   ``context=`` would be an error and ``@context`` cannot be written; with these two the field is
   ``context`` for type checkers, read under both names and written as ``@context``
   (``modelbase.CaliperModel``'s config).
3. **Defaults for one-value fields** (``one_value_defaults``): the schemas give every property that admits
   one value (``type``, a Timeback event's ``action`` and ``profile``, ``dataVersion``) that value as its
   ``default``; datamodel-codegen 0.89 writes it except on a field that overrides an inherited required
   one (every event's and entity's ``type``). A field typed by a one-value ``Literal`` gets its value.
4. **DateTime** (``datetime_type``): the ``DateTime`` alias admits ``modelbase.CaliperDateTime`` beside
   ``str`` (``--type-mappings`` can only name built-in types).
5. **Slots dispatched by type, lazily** (``lazy_unions``): the entity slots (``AgentRef``, ``EntityRef``: the
   aliases of ``caliper/entities/_internal.py``) and the document union (``CaliperDocument``) name up to 100
   models in several modules. Each becomes, for type checkers, the union datamodel-codegen wrote, and at run
   time ``modelbase.ByType.alias``: a validator that imports and uses the model of an object's ``type`` the
   first time it meets it (``document_types.py``, generated here, says where each model lives). The entity
   slots move to ``caliper/entities/refs.py``, so that an event's module no longer imports the 140 entity
   classes: a Timeback event and an envelope of them never load them.
6. **Other unions of models** (``dispatch_unions``): a union of ``str`` and models anywhere else (an alias,
   or a field such as ``NavigationEvent.object``) gets ``modelbase.ByType()``: dispatched by ``type``, each
   model's validator built once instead of into every model that holds the union.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = "caliper_schema.models"
MODELBASE = "caliper_schema.modelbase"
ROOT = Path(__file__).resolve().parent.parent
ENTITIES = "caliper/entities/_internal.py"
REFS = "caliper/entities/refs.py"
DOCUMENT = "document.py"
REGISTRY = "document_types.py"


@dataclass
class Module:
    """One generated module being rewritten: its path (relative to the package), text and pending edits."""

    path: str
    source: bytes
    tree: ast.Module = field(init=False)
    edits: list[tuple[int, int, str]] = field(default_factory=list)
    imports: set[tuple[str, str]] = field(default_factory=set)
    """``from X import Y`` statements the edits need: (X, Y)."""

    def __post_init__(self) -> None:
        self.tree = ast.parse(self.source)
        starts = [0]
        for line in self.source.splitlines(keepends=True):
            starts.append(starts[-1] + len(line))
        self._starts = starts

    @property
    def name(self) -> str:
        """The dotted module name (``caliper_schema.models.caliper.entities._internal``)."""
        parts = self.path.removesuffix(".py").split("/")
        return ".".join([PACKAGE, *(parts[:-1] if parts[-1] == "__init__" else parts)])

    def offset(self, line: int, column: int) -> int:
        """The byte offset of an ast position (``col_offset`` counts UTF-8 bytes)."""
        return self._starts[line - 1] + column

    def span(self, node: ast.AST) -> tuple[int, int]:
        start = self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end = self.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
        return start, end

    def segment(self, node: ast.AST) -> str:
        start, end = self.span(node)
        return self.source[start:end].decode()

    def replace(self, node: ast.AST, text: str) -> None:
        self.edits.append((*self.span(node), text))

    def insert_after(self, node: ast.AST, text: str) -> None:
        end = self.span(node)[1]
        self.edits.append((end, end, text))

    def replace_statement(self, node: ast.stmt, text: str) -> None:
        """Replace the whole lines of a top-level statement (``text`` ends with a newline, or is empty)."""
        last = node.end_lineno or node.lineno
        self.edits.append((self.offset(node.lineno, 0), self._starts[last], text))

    def aliases(self) -> dict[str, ast.Assign]:
        """Module-level ``Name = TypeAliasType("Name", value)`` statements by name."""
        found = {}
        for statement in self.tree.body:
            if isinstance(statement, ast.Assign) and _is_call(statement.value, "TypeAliasType"):
                target = statement.targets[0]
                assert isinstance(target, ast.Name)
                found[target.id] = statement
        return found

    def alias_values(self) -> dict[str, ast.expr]:
        return {name: _alias_value(statement) for name, statement in self.aliases().items()}

    def imported(self) -> dict[str, tuple[str, str]]:
        """Each name a relative import binds → (the module it is imported from, its name there)."""
        names = {}
        for statement in self.tree.body:
            if isinstance(statement, ast.ImportFrom) and statement.level:
                source = self.resolve(statement)
                for alias in statement.names:
                    names[alias.asname or alias.name] = (source, alias.name)
        return names

    def resolve(self, statement: ast.ImportFrom) -> str:
        """The absolute module of a relative ``from`` import."""
        package = self.name.split(".") if self.path.endswith("__init__.py") else self.name.split(".")[:-1]
        base = package[: len(package) - statement.level + 1]
        return ".".join([*base, *([statement.module] if statement.module else [])])

    def text(self) -> str:
        """The source with every edit applied, and the imports the edits need after the future import."""
        edits = list(self.edits)
        if self.imports:
            lines = "".join(f"from {source} import {name}\n" for source, name in sorted(self.imports))
            anchor = self._starts[self._future_import().end_lineno or 1]
            edits.append((anchor, anchor, "\n" + lines))
        source = self.source
        for start, end, text in sorted(edits, key=lambda edit: (edit[0], edit[1]), reverse=True):
            source = source[:start] + text.encode() + source[end:]
        return source.decode()

    def _future_import(self) -> ast.stmt:
        for statement in self.tree.body:
            if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
                return statement
        raise ValueError(f"{self.path}: no `from __future__ import annotations` to anchor imports")


def _is_call(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name


def _alias_value(statement: ast.Assign) -> ast.expr:
    call = statement.value
    assert isinstance(call, ast.Call) and len(call.args) == 2
    return call.args[1]


def _subscript_of(node: ast.AST, name: str) -> list[ast.expr] | None:
    """The arguments of ``name[...]`` (``Literal``, ``Annotated``, ``Union``), else ``None``."""
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == name:
        inner = node.slice
        return list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
    return None


def _union_members(node: ast.expr) -> Iterator[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        yield from _union_members(node.left)
        yield from _union_members(node.right)
    elif (members := _subscript_of(node, "Union")) is not None:
        yield from members
    else:
        yield node


def _is_str(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "str"


def _is_class_reference(node: ast.expr, aliases: set[str]) -> bool:
    """A name, dotted name or forward reference that starts with a capital and is not an alias."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value[:1].isupper() and node.value not in aliases
    if isinstance(node, ast.Name):
        return node.id[:1].isupper() and node.id not in aliases
    return isinstance(node, ast.Attribute) and node.attr[:1].isupper() and isinstance(node.value, ast.Name)


def _model_union(node: ast.expr, aliases: set[str]) -> list[ast.expr] | None:
    """The model members of a union of ``str`` and model classes (at least one), else ``None``."""
    members = list(_union_members(node))
    models = [member for member in members if _is_class_reference(member, aliases)]
    rest = [member for member in members if member not in models]
    return models if len(members) > 1 and models and all(_is_str(member) for member in rest) else None


def _dispatched(statement: ast.Assign, aliases: set[str]) -> list[ast.expr] | None:
    """The models of an alias ``Annotated[<union of str and models>, ...]``, else ``None``."""
    parts = _subscript_of(_alias_value(statement), "Annotated")
    return _model_union(parts[0], aliases) if parts else None


def _one_value(annotation: ast.expr, aliases: dict[str, ast.expr]) -> str | None:
    """The one string a type admits: ``Literal["x"]``, ``Annotated[Literal["x"], ...]`` or an alias of one."""
    if (values := _subscript_of(annotation, "Literal")) is not None:
        only = values[0] if len(values) == 1 else None
        return only.value if isinstance(only, ast.Constant) and isinstance(only.value, str) else None
    if (parts := _subscript_of(annotation, "Annotated")) is not None:
        return _one_value(parts[0], aliases)
    if isinstance(annotation, ast.Name) and annotation.id in aliases:
        return _one_value(aliases[annotation.id], aliases)
    return None


# --- rewrites of one module ---------------------------------------------------------------------------


def drop_rebuilds(module: Module) -> int:
    count = 0
    for statement in module.tree.body:
        call = statement.value if isinstance(statement, ast.Expr) else None
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "model_rebuild"
            and not call.args
        ):
            module.replace_statement(statement, "")
            count += 1
    return count


def context_alias(module: Module) -> int:
    count = 0
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Call) and _is_call(node, "Field"):
            for keyword in node.keywords:
                value = keyword.value
                if keyword.arg == "alias" and isinstance(value, ast.Constant) and value.value == "@context":
                    module.replace(keyword, 'validation_alias="@context", serialization_alias="@context"')
                    count += 1
    return count


def one_value_defaults(module: Module) -> int:
    aliases = module.alias_values()
    count = 0
    for node in ast.walk(module.tree):
        if not isinstance(node, ast.ClassDef):
            continue
        for statement in node.body:
            if isinstance(statement, ast.AnnAssign) and statement.value is None:
                value = _one_value(statement.annotation, aliases)
                if value is not None:
                    module.insert_after(statement.annotation, f" = {json.dumps(value)}")
                    count += 1
    return count


def datetime_type(module: Module) -> int:
    if module.path != "common/date_time.py":
        return 0
    parts = _subscript_of(module.alias_values()["DateTime"], "Annotated")
    assert parts is not None and isinstance(parts[0], ast.Name) and parts[0].id == "str", module.path
    module.replace(parts[0], "str | CaliperDateTime")
    module.imports.add((MODELBASE, "CaliperDateTime"))
    return 1


def dispatch_unions(module: Module) -> int:
    """``ByType()`` on the unions of models that ``lazy_unions`` leaves: aliases elsewhere, and fields."""
    if module.path in (ENTITIES, DOCUMENT):
        return 0
    aliases = set(module.aliases())
    count = 0
    for statement in module.aliases().values():
        if _dispatched(statement, aliases):
            parts = _subscript_of(_alias_value(statement), "Annotated")
            assert parts is not None
            for extra in parts[1:]:  # ByType dispatches on type itself: Pydantic's discriminator must go
                if isinstance(extra, ast.Call) and _is_call(extra, "Field"):
                    kept = [keyword for keyword in extra.keywords if keyword.arg != "discriminator"]
                    if len(kept) < len(extra.keywords):
                        module.replace(extra, ast.unparse(ast.Call(extra.func, extra.args, kept)))
            module.insert_after(parts[-1], ", ByType()")
            count += 1
    for node in ast.walk(module.tree):
        if isinstance(node, ast.ClassDef):
            for field_ in node.body:
                if isinstance(field_, ast.AnnAssign) and _model_union(field_.annotation, aliases):
                    module.replace(
                        field_.annotation, f"Annotated[{module.segment(field_.annotation)}, ByType()]"
                    )
                    module.imports.add(("typing", "Annotated"))
                    count += 1
    if count:
        module.imports.add((MODELBASE, "ByType"))
    return count


# --- the rewrite across modules: slots that import their models on first use -----------------------------


def registry(modules: dict[str, Module]) -> dict[str, str]:
    """Each one-value ``type`` (a document type) → ``"module:Class"`` of the model that declares it."""
    models: dict[str, str] = {}
    for module in modules.values():
        aliases = module.alias_values()
        for node in module.tree.body:
            if not isinstance(node, ast.ClassDef):
                continue
            for statement in node.body:
                if not isinstance(statement, ast.AnnAssign):
                    continue
                if isinstance(statement.target, ast.Name) and statement.target.id == "type":
                    tag = _one_value(statement.annotation, aliases)
                    if tag is not None:
                        assert tag not in models, f"two models for type {tag!r}"
                        models[tag] = f"{module.name}:{node.name}"
    return models


def _tags(module: Module, members: list[ast.expr], models: dict[str, str]) -> list[str]:
    """The document types of a union's models, from where each name was defined or imported."""
    by_class = {spec: tag for tag, spec in models.items()}
    imported = module.imported()
    tags = []
    for member in members:
        if isinstance(member, ast.Constant):  # a forward reference: a class of this module
            spec = f"{module.name}:{member.value!s}"
        elif isinstance(member, ast.Name):
            source, name = imported.get(member.id, (module.name, member.id))
            spec = f"{source}:{name}"
        else:  # module.Class, the module imported with `from package import module`
            assert isinstance(member, ast.Attribute) and isinstance(member.value, ast.Name)
            source, name = imported[member.value.id]
            spec = f"{source}.{name}:{member.attr}"
        tags.append(by_class[spec])
    return tags


def _lazy_block(module: Module, statements: list[ast.Assign], models: dict[str, str], text: str) -> str:
    """The aliases as written, for type checkers, and as ``ByType.alias`` at run time."""
    aliases = set(module.aliases())
    checked = "".join(_indented(module.segment(statement)) for statement in statements)
    lazy = ""
    for statement in statements:
        name = statement.targets[0].id  # type: ignore[attr-defined]
        members = _dispatched(statement, aliases)
        assert members is not None
        union = _subscript_of(_alias_value(statement), "Annotated")[0]  # type: ignore[index]
        accepts_text = any(_is_str(member) for member in _union_members(union))
        tags = [json.dumps(tag) for tag in _tags(module, members, models)]
        listed = f"({', '.join(tags)}{',' if len(tags) == 1 else ''})"
        lazy += f"    {name} = ByType.alias({name!r}, MODELS, {listed}, text={accepts_text})\n"
    return f"{text}if TYPE_CHECKING:\n{checked}else:\n{lazy}"


def _indented(text: str) -> str:
    return "".join(f"    {line}\n" if line else "\n" for line in text.splitlines())


def lazy_unions(modules: dict[str, Module], header: str) -> dict[str, str]:
    """The new modules' texts (``refs.py``, ``document_types.py``); edits the others in place."""
    models = registry(modules)
    return {REFS: _entity_slots(modules, models, header), REGISTRY: _registry_module(models, header)} | (
        _document_union(modules[DOCUMENT], models)
    )


def _entity_slots(modules: dict[str, Module], models: dict[str, str], header: str) -> str:
    """Move the slots of ``_internal.py`` to ``refs.py``, and every import of them with them."""
    entities = modules[ENTITIES]
    aliases = set(entities.aliases())
    slots = [statement for statement in entities.aliases().values() if _dispatched(statement, aliases)]
    moved = {statement.targets[0].id for statement in slots}  # type: ignore[attr-defined]
    for statement in slots:
        entities.replace_statement(statement, "")
    entities.imports.update((".refs", name) for name in moved)  # its own classes use them
    for module in modules.values():
        if module.path not in (ENTITIES, DOCUMENT):  # the document's imports all move (_document_union)
            _import_slots_from_refs(module, moved)
    top = (
        f"{header}\n#\n# The entity slots: written by codegen/rewriting.py (lazy_unions) from the aliases\n"
        "# datamodel-codegen wrote in _internal.py.\n\nfrom __future__ import annotations\n\n"
        "from typing import TYPE_CHECKING, Annotated, Union\n\nfrom pydantic import Field\n"
        f"from typing_extensions import TypeAliasType\n\nfrom {MODELBASE} import ByType\n"
        f"from {PACKAGE}.{REGISTRY.removesuffix('.py')} import MODELS\n\n"
        f"if TYPE_CHECKING:\n{_indented(_names_for(entities, slots))}\n"
    )
    return _lazy_block(entities, slots, models, top)


def _document_union(document: Module, models: dict[str, str]) -> dict[str, str]:
    """``CaliperDocument`` in place, the imports of its models for type checkers only; no new module."""
    [union] = [statement for statement in document.aliases().values() if _dispatched(statement, set())]
    imports = [node for node in document.tree.body if isinstance(node, ast.ImportFrom) and node.level]
    for statement in imports:
        document.replace_statement(statement, "")
    checked = "".join(_indented(document.segment(statement)) for statement in imports) + "\n"
    block = _lazy_block(document, [union], models, "").replace("if TYPE_CHECKING:\n", "", 1)
    document.replace_statement(union, "if TYPE_CHECKING:\n" + checked + block)
    registry_module = f"{PACKAGE}.{REGISTRY.removesuffix('.py')}"
    document.imports.update({(MODELBASE, "ByType"), ("typing", "TYPE_CHECKING"), (registry_module, "MODELS")})
    return {}


def _registry_module(models: dict[str, str], header: str) -> str:
    lines = "".join(f"    {tag!r}: {spec!r},\n" for tag, spec in sorted(models.items()))
    return (
        f"{header}\n#\n# Written by codegen/rewriting.py (lazy_unions).\n\n"
        '"""Every document type (the value of ``type``) → the model that reads it, as ``"module:Class"``: a\n'
        "slot that admits many types imports a model's module the first time it meets its type\n"
        '(``caliper_schema.modelbase.ByType``)."""\n\n'
        f"MODELS: dict[str, str] = {{\n{lines}}}\n"
    )


def _names_for(entities: Module, slots: list[ast.Assign]) -> str:
    """The imports a type checker needs to read the moved slots in ``refs.py``, beside ``_internal.py``."""
    used = {node.id for slot in slots for node in ast.walk(slot) if isinstance(node, ast.Name)}
    used |= {
        node.value
        for slot in slots
        for node in ast.walk(slot)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier()
    }
    defined = {node.name for node in entities.tree.body if isinstance(node, ast.ClassDef)}
    lines = [f"from ._internal import {', '.join(sorted(used & defined))}\n"]
    for statement in entities.tree.body:
        if isinstance(statement, ast.ImportFrom) and statement.level:
            names = [alias for alias in statement.names if (alias.asname or alias.name) in used]
            if names:
                lines.append(ast.unparse(ast.ImportFrom(statement.module, names, statement.level)) + "\n")
    return "".join(lines)


def _import_slots_from_refs(module: Module, moved: set[str]) -> None:
    """``from ._internal import PersonRef, Person``: the slots now from ``refs``, the rest as before."""
    for statement in module.tree.body:
        if not (isinstance(statement, ast.ImportFrom) and statement.level and statement.module):
            continue
        if not module.resolve(statement).endswith(".caliper.entities._internal"):
            continue
        slots = [alias for alias in statement.names if alias.name in moved]
        if not slots:
            continue
        rest = [alias for alias in statement.names if alias.name not in moved]
        dots = "." * statement.level
        source = statement.module.removesuffix("_internal") + "refs"
        text = f"from {dots}{source} import {', '.join(map(ast.unparse, slots))}\n"
        if rest:
            text = f"from {dots}{statement.module} import {', '.join(map(ast.unparse, rest))}\n" + text
        module.replace_statement(statement, text)


Rewrite = Callable[[Module], int]
REWRITES: tuple[Rewrite, ...] = (
    drop_rebuilds,
    context_alias,
    one_value_defaults,
    datetime_type,
    dispatch_unions,
)


def rewrite(directory: Path, header: str) -> dict[str, int]:
    """Apply every rewrite to the generated package in ``directory``; the count of edits of each.

    Raises :class:`RuntimeError` when a rewrite changed nothing: datamodel-codegen's output is not what
    it was written for.
    """
    paths = {path.relative_to(directory).as_posix(): path for path in sorted(directory.rglob("*.py"))}
    modules = {name: Module(name, path.read_bytes()) for name, path in paths.items()}
    counts = dict.fromkeys((function.__name__ for function in REWRITES), 0)
    for module in modules.values():
        for function in REWRITES:
            counts[function.__name__] += function(module)
    created = lazy_unions(modules, header) if ENTITIES in modules and DOCUMENT in modules else {}
    counts["lazy_unions"] = len(created)
    idle = [name for name, count in counts.items() if count == 0]
    if idle:
        raise RuntimeError(f"codegen rewrites found nothing to change: {', '.join(idle)}")
    for path, module in modules.items():
        if module.edits or module.imports:
            (directory / path).write_text(module.text(), encoding="utf-8")
    for path, text in created.items():
        (directory / path).write_text(text, encoding="utf-8")
    ruff = str(Path(sys.executable).with_name("ruff"))
    # --isolated: the formatting of generated code must not depend on a configuration file near it;
    # cwd: ruff tells first-party imports (caliper_schema) from the directory it runs in.
    fix = [ruff, "check", "--isolated", "--select", "I", "--fix", "--quiet", str(directory)]
    subprocess.run(fix, check=True, cwd=ROOT)
    subprocess.run([ruff, "format", "--isolated", "--quiet", str(directory)], check=True, cwd=ROOT)
    return counts
