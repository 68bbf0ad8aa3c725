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
