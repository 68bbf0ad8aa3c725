"""Write skill tools in Python.

    from skill_sdk import tool

    @tool
    def greet(name: str) -> str:
        \"\"\"Say hello to someone.

        Args:
            name: Who to greet.
        \"\"\"
        return f"Hello, {name}!"

`skill build` runs componentize-py on the project; the tools registered here become the
component's `guest` export (see `skill_sdk._guest`).
"""

from ._tools import ToolError, command, tool, registered_tools
from ._host import CalledOutput, call_tool, config, log, progress

__all__ = [
    "tool",
    "command",
    "ToolError",
    "config",
    "log",
    "progress",
    "call_tool",
    "CalledOutput",
    "registered_tools",
]
