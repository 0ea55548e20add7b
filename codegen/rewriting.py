"""What datamodel-codegen's flags cannot say, applied to its output before anything compares or copies it.

Each rewrite reads the generated module with :mod:`ast` and edits the text at the nodes it found, so the
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
5. **Dispatch by type** (``dispatch_unions``): an alias whose value is a union of ``str`` and model classes
   (the entity slots, the document union) gets ``modelbase.ByType()``, so each model's validator is built
   once, on first use, instead of into every model with such a slot. Pydantic's ``discriminator`` on such a
   union is dropped: ``ByType`` dispatches on ``type`` itself.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

MODELBASE = "caliper_schema.modelbase"
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Module:
    """One generated module being rewritten: its path (relative to the package), text and pending edits."""

    path: str
    source: bytes
    tree: ast.Module = field(init=False)
    edits: list[tuple[int, int, str]] = field(default_factory=list)
    imports: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.tree = ast.parse(self.source)
        starts = [0]
        for line in self.source.splitlines(keepends=True):
            starts.append(starts[-1] + len(line))
        self._starts = starts

    def offset(self, line: int, column: int) -> int:
        """The byte offset of an ast position (``col_offset`` counts UTF-8 bytes)."""
        return self._starts[line - 1] + column

    def span(self, node: ast.AST) -> tuple[int, int]:
        start = self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end = self.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
        return start, end

    def replace(self, node: ast.AST, text: str) -> None:
        self.edits.append((*self.span(node), text))

    def insert_after(self, node: ast.AST, text: str) -> None:
        end = self.span(node)[1]
        self.edits.append((end, end, text))

    def delete_statement(self, node: ast.stmt) -> None:
        start = self.offset(node.lineno, 0)
        end = self.offset(node.end_lineno or node.lineno, 0) + len(self._line(node.end_lineno or node.lineno))
        self.edits.append((start, end, ""))

    def _line(self, number: int) -> bytes:
        return self.source[self._starts[number - 1] : self._starts[number]]

    def aliases(self) -> dict[str, ast.expr]:
        """Module-level ``Name = TypeAliasType("Name", value)``: name → value."""
        found = {}
        for statement in self.tree.body:
            if isinstance(statement, ast.Assign) and _is_call(statement.value, "TypeAliasType"):
                call = statement.value
                assert isinstance(call, ast.Call) and len(call.args) == 2
                target = statement.targets[0]
                assert isinstance(target, ast.Name)
                found[target.id] = call.args[1]
        return found

    def text(self) -> str:
        """The source with every edit applied and the imports the edits need added after the docstring."""
        source = self.source
        for start, end, text in sorted(self.edits, reverse=True):
            source = source[:start] + text.encode() + source[end:]
        if self.imports:
            names = ", ".join(sorted(self.imports))
            anchor = self.offset(self._future_import().end_lineno or 1, 0)
            anchor = source.index(b"\n", anchor) + 1
            source = source[:anchor] + f"\nfrom {MODELBASE} import {names}\n".encode() + source[anchor:]
        return source.decode()

    def _future_import(self) -> ast.stmt:
        for statement in self.tree.body:
            if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
                return statement
        raise ValueError(f"{self.path}: no `from __future__ import annotations` to anchor imports")


def _is_call(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name


def _subscript_of(node: ast.AST, name: str) -> list[ast.expr] | None:
    """The arguments of ``name[...]`` (``Literal``, ``Annotated``, ``Union``), else ``None``."""
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == name:
        inner = node.slice
        return list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
    return None


# --- the rewrites -----------------------------------------------------------------------------------------


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
            module.delete_statement(statement)
            count += 1
    return count


def context_alias(module: Module) -> int:
    count = 0
    for node in ast.walk(module.tree):
        if _is_call(node, "Field"):
            assert isinstance(node, ast.Call)
            for keyword in node.keywords:
                value = keyword.value
                if keyword.arg == "alias" and isinstance(value, ast.Constant) and value.value == "@context":
                    module.replace(keyword, 'validation_alias="@context", serialization_alias="@context"')
                    count += 1
    return count


def one_value_defaults(module: Module) -> int:
    aliases = module.aliases()
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


def datetime_type(module: Module) -> int:
    if module.path != "common/date_time.py":
        return 0
    parts = _subscript_of(module.aliases()["DateTime"], "Annotated")
    assert parts is not None and isinstance(parts[0], ast.Name) and parts[0].id == "str", module.path
    module.replace(parts[0], "str | CaliperDateTime")
    module.imports.add("CaliperDateTime")
    return 1


def dispatch_unions(module: Module) -> int:
    aliases = module.aliases()
    count = 0
    for value in aliases.values():
        parts = _subscript_of(value, "Annotated")
        if parts is None or not _is_model_union(parts[0], set(aliases)):
            continue
        for extra in parts[1:]:
            if isinstance(extra, ast.Call) and _is_call(extra, "Field"):
                kept = [keyword for keyword in extra.keywords if keyword.arg != "discriminator"]
                if len(kept) < len(extra.keywords):
                    module.replace(extra, ast.unparse(ast.Call(extra.func, extra.args, kept)))
        module.insert_after(parts[-1], ", ByType()")
        module.imports.add("ByType")
        count += 1
    return count


def _is_model_union(node: ast.expr, aliases: set[str]) -> bool:
    """A union of ``str`` and at least two model classes (names, dotted names or forward references)."""
    members = list(_union_members(node))
    models = [member for member in members if _is_class_reference(member, aliases)]
    rest = [member for member in members if member not in models]
    return len(members) > 1 and len(models) >= 1 and all(_is_str(member) for member in rest)


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
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # a forward reference
        return node.value[:1].isupper() and node.value not in aliases
    if isinstance(node, ast.Name):
        return node.id[:1].isupper() and node.id not in aliases
    return isinstance(node, ast.Attribute) and node.attr[:1].isupper() and isinstance(node.value, ast.Name)


Rewrite = Callable[[Module], int]
REWRITES: tuple[Rewrite, ...] = (
    drop_rebuilds,
    context_alias,
    one_value_defaults,
    datetime_type,
    dispatch_unions,
)


def rewrite(directory: Path) -> dict[str, int]:
    """Apply every rewrite to the generated package in ``directory``; the count of edits of each.

    Raises :class:`RuntimeError` when a rewrite changed nothing: datamodel-codegen's output is not what
    it was written for.
    """
    counts = dict.fromkeys((function.__name__ for function in REWRITES), 0)
    for path in sorted(directory.rglob("*.py")):
        module = Module(path.relative_to(directory).as_posix(), path.read_bytes())
        for function in REWRITES:
            counts[function.__name__] += function(module)
        if module.edits or module.imports:
            path.write_text(module.text(), encoding="utf-8")
    idle = [name for name, count in counts.items() if count == 0]
    if idle:
        raise RuntimeError(f"codegen rewrites found nothing to change: {', '.join(idle)}")
    ruff = str(Path(sys.executable).with_name("ruff"))
    # --isolated: the formatting of generated code must not depend on a configuration file near it.
    # cwd: ruff tells first-party imports (caliper_schema) from the directory it runs in.
    fix = [ruff, "check", "--isolated", "--select", "I", "--fix", "--quiet", str(directory)]
    subprocess.run(fix, check=True, cwd=ROOT)
    subprocess.run([ruff, "format", "--isolated", "--quiet", str(directory)], check=True, cwd=ROOT)
    return counts
