"""Unit tests of the Python SDK outside a component: what @tool derives from type hints and
docstrings, the typed errors, and the host calls' fallbacks. (Built components are tested
end to end by the Rust test suite.)"""

from typing import Literal, Optional

import pytest

import skill_sdk
from skill_sdk import ToolError, config, progress, tool
from skill_sdk import _tools


@pytest.fixture(autouse=True)
def fresh_registry():
    _tools._TOOLS.clear()
    yield
    _tools._TOOLS.clear()


def only_tool():
    (spec,) = skill_sdk.registered_tools()
    return spec


def test_parameters_come_from_type_hints_and_the_docstring():
    @tool
    def search_issues(
        query: str,
        limit: int = 10,
        score: float = 0.5,
        closed: bool = False,
        labels: Optional[list] = None,
        order: Literal["newest", "oldest"] = "newest",
    ) -> str:
        """Search the issues.

        Longer text that is not part of the summary.

        Args:
            query: What to look for,
                over two lines.
            limit: At most this many.
        """
        return query

    spec = only_tool()
    assert spec.name == "search-issues"
    assert spec.description == "Search the issues."
    params = {p.name: p for p in spec.params}
    assert [p.name for p in spec.params] == ["query", "limit", "score", "closed", "labels", "order"]
    assert (params["query"].kind, params["query"].required) == ("string", True)
    assert params["query"].description == "What to look for, over two lines."
    assert (params["limit"].kind, params["limit"].default, params["limit"].required) == ("integer", "10", False)
    assert params["score"].kind == "number"
    assert (params["closed"].kind, params["closed"].default) == ("boolean", "false")
    assert (params["labels"].kind, params["labels"].required, params["labels"].default) == ("json", False, None)
    assert params["order"].choices == ["newest", "oldest"]
    assert params["order"].default == '"newest"'


def test_names_and_descriptions_can_be_given():
    @tool(name="do-it", description="Does it.")
    def whatever(x: str) -> str:
        return x

    spec = only_tool()
    assert (spec.name, spec.description) == ("do-it", "Does it.")


def test_title_annotations_and_output_schema_are_declared_and_checked():
    @tool(title="List things", read_only=True, open_world=False, output_schema={"type": "object"})
    def list_things() -> dict:
        return {"text": "none", "data": {"n": 0}}

    spec = only_tool()
    assert spec.title == "List things"
    assert spec.annotations == {"read_only": True, "destructive": None, "idempotent": None, "open_world": False}
    assert spec.output_schema == '{"type": "object"}'

    _tools._TOOLS.clear()

    @tool
    def plain() -> str:
        return ""

    # Undeclared means unknown (MCP's defaults), never "read-only".
    assert only_tool().title is None and set(only_tool().annotations.values()) == {None}
    with pytest.raises(TypeError, match="read_only must be True or False"):
        tool(read_only="yes")
    with pytest.raises(TypeError, match="output_schema must be a dict"):
        tool(output_schema='{"type": "object"}')


def test_a_tool_declared_twice_is_refused():
    @tool
    def greet(name: str) -> str:
        return name

    with pytest.raises(ValueError, match="declared twice"):

        @tool(name="greet")
        def other(name: str) -> str:
            return name


def test_tool_errors_are_typed():
    assert ToolError("boom").kind == "failed"
    assert ToolError.invalid_args("bad").kind == "invalid-args"
    assert ToolError.not_configured("no key").kind == "not-configured"
    assert ToolError.not_configured("no key").message == "no key"
    with pytest.raises(ValueError, match="unknown ToolError kind"):
        ToolError("x", "exploded")


def test_outside_a_component_config_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("SKILL_CONFIG_API_TOKEN", "t0ken")
    assert config.get("api-token") == "t0ken"
    assert config.require("api_token") == "t0ken"
    monkeypatch.delenv("SKILL_CONFIG_API_TOKEN")
    assert config.get("api_token") is None
    with pytest.raises(ToolError) as missing:
        config.require("api_token")
    assert missing.value.kind == "not-configured"


def test_progress_is_clamped(capsys):
    progress(150, "almost")
    progress(None, "unknown")
    err = capsys.readouterr().err
    assert "[progress 100] almost" in err
    assert "[progress None] unknown" in err


def test_call_tool_values_take_the_contract_kinds():
    from types import SimpleNamespace

    from skill_sdk._host import _wit_value

    def case(tag):
        return lambda value: (tag, value)

    fake = SimpleNamespace(
        Value_Text=case("text"),
        Value_Boolean=case("boolean"),
        Value_Integer=case("integer"),
        Value_Number=case("number"),
        Value_Json=case("json"),
    )
    assert _wit_value("a", fake) == ("text", "a")
    assert _wit_value(True, fake) == ("boolean", True)
    assert _wit_value(3, fake) == ("integer", 3)
    assert _wit_value(0.5, fake) == ("number", 0.5)
    assert _wit_value([1, {"a": None}], fake) == ("json", '[1, {"a": null}]')


def test_call_tool_outside_a_component_is_a_tool_error():
    with pytest.raises(ToolError) as e:
        skill_sdk.call_tool("text-tools", "count", text="a b")
    assert e.value.kind == "failed" and "inside a skill component" in e.value.message


def test_one_command_per_skill():
    from skill_sdk import _tools as tools

    tools._COMMAND.clear()
    try:

        @skill_sdk.command
        def main(args):
            return 0

        assert tools.registered_command() is main
        with pytest.raises(ValueError, match="one command"):

            @skill_sdk.command
            def other(args):
                return 0

    finally:
        tools._COMMAND.clear()
