"""Drives `skill serve --tools=search` with the official Python MCP client, as an agent
would: list the tools, find one for a task, describe it, call it. Prints what it saw as JSON.

Usage: mcp_search.py SKILL_BIN [serve args...]
The Rust test (toolchain/cli/tests/cli/discovery.rs) makes the assertions.
"""

import asyncio
import json
import os
import sys

from mcp import Client, StdioServerParameters


def texts(result) -> list:
    return [c.text for c in result.content]


async def main() -> None:
    skill, *rest = sys.argv[1:]
    server = StdioServerParameters(command=skill, args=["serve", "--stdio", "--tools", "search", *rest], env=dict(os.environ))
    seen: dict = {}
    async with Client(server) as client:
        tools = await client.list_tools()
        seen["tools"] = {t.name: {"description": t.description, "input_schema": t.input_schema} for t in tools.tools}
        seen["listed_bytes"] = len(json.dumps([t.model_dump(mode="json") for t in tools.tools]))

        found = await client.call_tool("find_tools", {"query": "divide one number by another", "limit": 3})
        seen["find"] = {"is_error": found.is_error, "text": texts(found), "structured": found.structured_content}

        name = found.structured_content["tools"][0]["name"]
        described = await client.call_tool("describe_tool", {"name": name})
        seen["describe"] = {"is_error": described.is_error, "text": texts(described), "structured": described.structured_content}

        called = await client.call_tool("call_tool", {"name": name, "arguments": {"a": 1, "b": 4}})
        seen["call"] = {"is_error": called.is_error, "text": texts(called), "structured": called.structured_content}

        failed = await client.call_tool("call_tool", {"name": name, "arguments": {"a": 1, "b": 0}})
        seen["call_error"] = {"is_error": failed.is_error, "text": texts(failed)}

        unknown = await client.call_tool("call_tool", {"name": "nothing_default__here", "arguments": {}})
        seen["call_unknown"] = {"is_error": unknown.is_error, "text": texts(unknown)}

        resources = await client.list_resources()
        seen["resources"] = {str(r.uri): {"name": r.name, "mime_type": r.mime_type} for r in resources.resources}
        doc = await client.read_resource("skill://rust-skill/SKILL.md")
        seen["resource_text"] = doc.contents[0].text
        try:
            await client.read_resource("skill://nothing/SKILL.md")
            seen["resource_unknown"] = "no error"
        except Exception as e:
            seen["resource_unknown"] = f"{type(e).__name__}: {e}"

        try:
            await client.call_tool("rust-skill_default__divide", {"a": 1, "b": 2})
            seen["direct"] = "no error"
        except Exception as e:  # listed tools only: the real names are reached through call_tool
            seen["direct"] = f"{type(e).__name__}: {e}"
    print(json.dumps(seen))


asyncio.run(main())
