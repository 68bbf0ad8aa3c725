"""Drives `skill serve` with the official Python MCP client and prints what it saw as JSON.

Usage:
  mcp_client.py stdio SKILL_BIN [serve args...]
  mcp_client.py http URL
Environment: MCP_MODE=legacy|auto (default auto: 2026-07-28 if the server offers it).
The Rust tests (toolchain/cli/tests/cli/serve.rs) make the assertions.
"""

import asyncio
import json
import os
import sys

from mcp import Client, StdioServerParameters


async def main() -> None:
    transport, target, *rest = sys.argv[1:]
    if transport == "stdio":
        server = StdioServerParameters(command=target, args=["serve", "--stdio", *rest], env=dict(os.environ))
    else:
        server = target
    mode = os.environ.get("MCP_MODE", "auto")
    seen: dict = {"progress": []}
    async with Client(server, mode=mode) as client:
        seen["protocol_version"] = client.session.protocol_version
        tools = await client.list_tools()
        seen["tools"] = {
            t.name: {
                "description": t.description,
                "input_schema": t.input_schema,
                "title": t.title,
                "annotations": t.annotations.model_dump(mode="json", exclude_none=True, by_alias=True) if t.annotations else None,
                "output_schema": t.output_schema,
            }
            for t in tools.tools
        }

        ok = await client.call_tool("rust-skill_default__greet", {"name": "Python"})
        seen["greet"] = {"is_error": ok.is_error, "text": [c.text for c in ok.content]}

        # The client checks structuredContent against the declared outputSchema.
        quotient = await client.call_tool("rust-skill_default__divide", {"a": 1, "b": 4})
        seen["divide"] = {"is_error": quotient.is_error, "structured": quotient.structured_content}

        failed = await client.call_tool("rust-skill_default__divide", {"a": 1, "b": 0})
        seen["divide_by_zero"] = {"is_error": failed.is_error, "text": [c.text for c in failed.content]}

        bad_args = await client.call_tool("rust-skill_default__add", {"a": "one", "b": 2})
        seen["bad_args"] = {"is_error": bad_args.is_error, "text": [c.text for c in bad_args.content]}

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            seen["progress"].append({"progress": progress, "total": total, "message": message})

        report = await client.call_tool("misbehave_default__report", {}, progress_callback=on_progress)
        seen["report"] = {"is_error": report.is_error, "text": [c.text for c in report.content]}

        # The guest writes to its stdout: on stdio that must not reach the JSON-RPC channel.
        chatter = await client.call_tool("misbehave_default__chatter", {"bytes": 4096})
        seen["chatter"] = {"is_error": chatter.is_error}

        try:
            await client.call_tool("no-such_tool__x", {})
            seen["unknown_tool"] = "no error"
        except Exception as e:  # the protocol error for an unknown tool
            seen["unknown_tool"] = f"{type(e).__name__}: {e}"
    print(json.dumps(seen))


asyncio.run(main())
