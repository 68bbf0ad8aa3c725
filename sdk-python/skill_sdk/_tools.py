"""The @tool decorator: parameters from type hints, descriptions from the docstring."""

import inspect
import json
import re
import typing
from dataclasses import dataclass, field
from typing import Any, Callable, Optional


class ToolError(Exception):
    """An error the caller sees as a tool error (not a crash).

    kind is one of "invalid-args", "not-configured", "failed".
    """

    KINDS = ("invalid-args", "not-configured", "failed")

    def __init__(self, message: str, kind: str = "failed"):
        if kind not in self.KINDS:
            raise ValueError(f"unknown ToolError kind {kind!r}; use one of {self.KINDS}")
        super().__init__(message)
        self.kind = kind
        self.message = message

    @classmethod
    def invalid_args(cls, message: str) -> "ToolError":
        return cls(message, "invalid-args")

    @classmethod
    def not_configured(cls, message: str) -> "ToolError":
        return cls(message, "not-configured")


@dataclass
class ParamSpec:
    name: str
    description: str
    kind: str
    required: bool
    default: Optional[str]  # JSON literal
    choices: list = field(default_factory=list)


@dataclass
class ToolSpec:
    name: str
    description: str
    params: list
    func: Callable[..., Any]
    title: Optional[str] = None
    # read_only, destructive, idempotent, open_world: True, False, or None (not declared).
    annotations: "dict[str, Optional[bool]]" = field(default_factory=dict)
    output_schema: Optional[str] = None  # JSON text


ANNOTATIONS = ("read_only", "destructive", "idempotent", "open_world")


_TOOLS: "dict[str, ToolSpec]" = {}


def registered_tools() -> "list[ToolSpec]":
    return list(_TOOLS.values())


def _kind_of(annotation: Any) -> "tuple[str, bool]":
    """The contract kind for a type hint, and whether it was Optional."""
    optional = False
    origin = typing.get_origin(annotation)
    if origin is typing.Union or (origin is not None and str(origin) == "<class 'types.UnionType'>"):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        annotation = args[0] if len(args) == 1 else Any
        origin = typing.get_origin(annotation)
    if annotation is bool:
        return "boolean", optional
    if annotation is int:
        return "integer", optional
    if annotation is float:
        return "number", optional
    if annotation is str or annotation is inspect.Parameter.empty:
        return "string", optional
    if typing.get_origin(annotation) is typing.Literal:
        return "string", optional
    return "json", optional


def _parse_docstring(doc: str) -> "tuple[str, dict[str, str]]":
    """Google-style docstring: summary paragraph, then `Args:` with `name: description`."""
    doc = inspect.cleandoc(doc or "")
    summary_lines, params, in_args, current = [], {}, False, None
    for line in doc.splitlines():
        stripped = line.strip()
        if re.fullmatch(r"(Args|Arguments|Parameters):", stripped):
            in_args = True
            continue
        if in_args:
            m = re.match(r"^(\w+)\s*(\([^)]*\))?\s*:\s*(.*)$", stripped)
            if m and not line.startswith(" " * 8):
                current = m.group(1)
                params[current] = m.group(3)
            elif stripped and current:
                params[current] += " " + stripped
            elif re.fullmatch(r"\w+:", stripped):
                in_args = False
            continue
        summary_lines.append(stripped)
    # The summary is the first paragraph; later paragraphs are for readers of the code.
    first_para = []
    for line in summary_lines:
        if not line:
            if first_para:
                break
            continue
        first_para.append(line)
    return " ".join(first_para), params


def tool(
    func=None,
    *,
    name: Optional[str] = None,
    description: Optional[str] = None,
    title: Optional[str] = None,
    read_only: Optional[bool] = None,
    destructive: Optional[bool] = None,
    idempotent: Optional[bool] = None,
    open_world: Optional[bool] = None,
    output_schema: Optional[dict] = None,
):
    """Declares a tool. Use as `@tool` or `@tool(name="other-name")`.

    What hosts show and decide by: `title` (a short name people read), the hints
    `read_only`, `destructive`, `idempotent` and `open_world` (leave out what you do not know:
    hosts then assume MCP's defaults, never "read-only"), and `output_schema`, a JSON Schema
    of type "object" that the `data` of every successful call follows (return
    `{"text": ..., "data": {...}}`).
    """
    declared = {"read_only": read_only, "destructive": destructive, "idempotent": idempotent, "open_world": open_world}
    for key, value in declared.items():
        if value is not None and not isinstance(value, bool):
            raise TypeError(f"{key} must be True or False, not {value!r}")
    if output_schema is not None and not isinstance(output_schema, dict):
        raise TypeError("output_schema must be a dict (a JSON Schema of type \"object\")")

    def register(f):
        summary, docs = _parse_docstring(f.__doc__ or "")
        hints = typing.get_type_hints(f, include_extras=False)
        params = []
        for p in inspect.signature(f).parameters.values():
            kind, optional = _kind_of(hints.get(p.name, inspect.Parameter.empty))
            has_default = p.default is not inspect.Parameter.empty
            choices = []
            hint = hints.get(p.name)
            if typing.get_origin(hint) is typing.Literal:
                choices = [str(c) for c in typing.get_args(hint)]
            params.append(
                ParamSpec(
                    name=p.name,
                    description=docs.get(p.name, ""),
                    kind=kind,
                    required=not (has_default or optional),
                    default=json.dumps(p.default) if has_default and p.default is not None else None,
                    choices=choices,
                )
            )
        tool_name = name or f.__name__.replace("_", "-")
        if tool_name in _TOOLS:
            raise ValueError(f"tool {tool_name!r} is declared twice")
        _TOOLS[tool_name] = ToolSpec(
            tool_name,
            description or summary,
            params,
            f,
            title=title,
            annotations=declared,
            output_schema=None if output_schema is None else json.dumps(output_schema),
        )
        return f

    return register(func) if func is not None else register


_COMMAND: "list" = []


def command(func):
    """Makes `func` the skill's command: `skill exec NAME -- ARGS` (and a PATH shim) calls it
    with the arguments as a list of strings, the terminal's stdin, stdout and stderr attached.
    It returns None or 0 for success; anything else (or an exception, printed) exits with 1.
    One per skill; `skill build` sees the decorator and exports wasi:cli/run.

        @command
        def main(args: list[str]) -> int:
            print(" ".join(args).upper())
            return 0
    """
    if _COMMAND:
        raise ValueError(f"@command is already {_COMMAND[0].__name__}; a skill has one command")
    _COMMAND.append(func)
    return func


def registered_command():
    return _COMMAND[0] if _COMMAND else None
