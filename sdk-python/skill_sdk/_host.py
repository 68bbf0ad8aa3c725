"""Host calls: instance config, structured logs, progress. Outside a component (unit tests)
they fall back to the process environment and stderr."""

import sys
from typing import Optional

try:
    from wit_world.imports import host as _host
    from wit_world.imports import types as _types
except ImportError:  # not inside a component
    _host = None
    _types = None

_LEVELS = ("trace", "debug", "info", "warn", "error")


class _Config:
    def get(self, key: str) -> Optional[str]:
        if _host is None:
            import os

            return os.environ.get("SKILL_CONFIG_" + key.upper().replace("-", "_"))
        return _host.config_get(key)

    def require(self, key: str) -> str:
        from ._tools import ToolError

        value = self.get(key)
        if value is None:
            raise ToolError.not_configured(f"missing configuration {key!r}")
        return value


class _Log:
    def _emit(self, level: str, message: object) -> None:
        if _host is None:
            print(f"[{level}] {message}", file=sys.stderr)
        else:
            _host.log(_types.LogLevel[level.upper()], str(message))

    def trace(self, message: object) -> None:
        self._emit("trace", message)

    def debug(self, message: object) -> None:
        self._emit("debug", message)

    def info(self, message: object) -> None:
        self._emit("info", message)

    def warn(self, message: object) -> None:
        self._emit("warn", message)

    def error(self, message: object) -> None:
        self._emit("error", message)


config = _Config()
log = _Log()


def progress(percent: Optional[float], message: str = "") -> None:
    """Reports progress: percent 0-100 (or None when unknown) and a message."""
    p = None if percent is None else max(0, min(100, int(round(percent))))
    if _host is None:
        print(f"[progress {p}] {message}", file=sys.stderr)
    else:
        _host.progress(p, message)


class CalledOutput:
    """What another skill's tool returned: its text, and its data parsed from JSON."""

    def __init__(self, text: str, data: object = None):
        self.text = text
        self.data = data

    def __repr__(self) -> str:
        return f"CalledOutput(text={self.text!r}, data={self.data!r})"


def _wit_value(value: object, types) -> object:
    """A Python value as the contract's `value` (bool before int: bool is an int)."""
    import json

    if isinstance(value, str):
        return types.Value_Text(value)
    if isinstance(value, bool):
        return types.Value_Boolean(value)
    if isinstance(value, int):
        return types.Value_Integer(value)
    if isinstance(value, float):
        return types.Value_Number(value)
    return types.Value_Json(json.dumps(value))


_CALL_ERRORS = {
    "ToolError_InvalidArgs": "invalid-args",
    "ToolError_NotConfigured": "not-configured",
    "ToolError_Failed": "failed",
}


def call_tool(skill: str, tool: str, args: Optional[dict] = None, /, **kwargs) -> CalledOutput:
    """Calls `tool` of another skill, one this skill lists in `skill_dependencies`
    (skill.yaml); calls to any other skill are refused. The host runs it in that skill's own
    instance (the one with this instance's name, else `default`) with its own config,
    permissions and limits, and within what is left of this call's time. Arguments come as a
    dict and/or keywords. Raises ToolError when the call fails."""
    import json

    from ._tools import ToolError

    given = dict(args or {}, **kwargs)
    if _host is None:
        raise ToolError(f"call_tool({skill!r}, {tool!r}) works only inside a skill component")
    from componentize_py_types import Err

    wit_args = [_types.Arg(name, _wit_value(value, _types)) for name, value in given.items()]
    try:
        output = _host.call_tool(skill, tool, wit_args)
    except Err as e:
        error = e.value
        name = type(error).__name__
        if name == "ToolError_UnknownTool":
            raise ToolError(f"unknown tool: {error.value}") from None
        raise ToolError(str(error.value), _CALL_ERRORS.get(name, "failed")) from None
    data = None if output.data is None else json.loads(output.data)
    return CalledOutput(output.text, data)
