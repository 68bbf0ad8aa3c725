"""The component's `guest` export, backed by the tools registered with @tool.
Imported only inside componentize-py, where `wit_world` exists."""

import json
import sys
from typing import List, Tuple

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import types as t

from ._tools import ANNOTATIONS, ToolError, registered_command, registered_tools

# Set by the entry module `skill build` generates, from skill.yaml.
INFO = {"name": "unnamed", "version": "0.0.0", "description": ""}
VALIDATE_CONFIG = None

_KINDS = {
    "string": t.ParamKind.STRING,
    "integer": t.ParamKind.INTEGER,
    "number": t.ParamKind.NUMBER,
    "boolean": t.ParamKind.BOOLEAN,
    "json": t.ParamKind.JSON,
    "file": t.ParamKind.FILE,
}

_ERRORS = {
    "invalid-args": t.ToolError_InvalidArgs,
    "not-configured": t.ToolError_NotConfigured,
    "failed": t.ToolError_Failed,
}


def _value(v):
    if isinstance(v, t.Value_Json):
        return json.loads(v.value)
    return v.value


def _output(result) -> t.Output:
    if result is None:
        return t.Output("", None)
    if isinstance(result, str):
        return t.Output(result, None)
    if isinstance(result, dict) and isinstance(result.get("text"), str) and set(result) <= {"text", "data"}:
        data = result.get("data")
        return t.Output(result["text"], None if data is None else json.dumps(data))
    text = json.dumps(result)
    return t.Output(text, text)


class Guest(exports.Guest):
    def info(self) -> t.SkillInfo:
        return t.SkillInfo(
            INFO["name"],
            INFO["version"],
            INFO.get("description") or "",
            INFO.get("author"),
            INFO.get("license"),
            INFO.get("repository"),
        )

    def tools(self) -> List[t.Tool]:
        return [
            t.Tool(
                spec.name,
                spec.description,
                [
                    t.Param(p.name, p.description, _KINDS[p.kind], p.required, p.default, list(p.choices))
                    for p in spec.params
                ],
            )
            for spec in registered_tools()
        ]

    def describe_tools(self) -> List[t.ToolDetails]:
        return [
            t.ToolDetails(
                spec.name,
                spec.title,
                t.ToolAnnotations(*(spec.annotations.get(key) for key in ANNOTATIONS)),
                spec.output_schema,
            )
            for spec in registered_tools()
        ]

    def execute(self, tool: str, args: List[t.Arg]) -> t.Output:
        spec = next((s for s in registered_tools() if s.name == tool), None)
        if spec is None:
            raise Err(t.ToolError_UnknownTool(tool))
        kwargs = {a.name: _value(a.value) for a in args}
        try:
            return _output(spec.func(**kwargs))
        except ToolError as e:
            raise Err(_ERRORS[e.kind](e.message))
        except Err:
            raise
        except Exception as e:  # the tool's own bug: report it, do not trap
            raise Err(t.ToolError_Failed(f"{type(e).__name__}: {e}"))

    def validate_config(self, config: List[Tuple[str, str]]) -> None:
        if VALIDATE_CONFIG is None:
            return
        try:
            message = VALIDATE_CONFIG(dict(config))
        except Exception as e:
            raise Err(str(e))
        if message:
            raise Err(str(message))


class Run:
    """`wasi:cli/run`, exported when the skill has a @command (the skill-command world)."""

    def run(self) -> None:
        main = registered_command()
        if main is None:
            print("this skill has no @command", file=sys.stderr)
            raise Err(None)
        try:
            code = main(list(sys.argv[1:]))
        except SystemExit as e:
            code = e.code
        except Exception as e:  # the command's own bug: say what, exit 1
            print(f"{type(e).__name__}: {e}", file=sys.stderr)
            raise Err(None)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        if code not in (None, 0):
            raise Err(None)
