"""Example skill in Python. Parameters come from the type hints, descriptions from the
docstrings; `list[float]` is a JSON parameter."""

import statistics
import textwrap
from typing import Literal

from skill_sdk import ToolError, log, tool


@tool
def greet(name: str) -> str:
    """Say hello to someone.

    Args:
        name: Who to greet.
    """
    return f"Hello, {name}!"


@tool(
    title="Describe numbers",
    read_only=True,
    open_world=False,
    output_schema={
        "type": "object",
        "properties": {m: {"type": "number"} for m in ("mean", "median", "stdev")},
    },
)
def stats(numbers: list[float], measure: Literal["mean", "median", "stdev", "all"] = "all") -> dict:
    """Describe a list of numbers.

    Args:
        numbers: The numbers, as a JSON array.
        measure: Which measure to return.
    """
    if not numbers or not all(isinstance(n, (int, float)) for n in numbers):
        raise ToolError.invalid_args("numbers must be a non-empty JSON array of numbers")
    log.debug(f"{len(numbers)} numbers")
    result = {
        "mean": statistics.fmean(numbers),
        "median": statistics.median(numbers),
        "stdev": statistics.stdev(numbers) if len(numbers) > 1 else 0.0,
    }
    return result if measure == "all" else {measure: result[measure]}


@tool
def wrap(text: str, width: int = 40) -> str:
    """Wrap text to lines of at most `width` characters.

    Args:
        text: The text to wrap.
        width: The longest line.
    """
    if width < 1:
        raise ToolError.invalid_args("width must be at least 1")
    return "\n".join(textwrap.wrap(text, width))
