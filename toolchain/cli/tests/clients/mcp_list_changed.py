"""Connects to `skill serve`, prints `READY <n>` with the tool count, waits for
`notifications/tools/list_changed`, lists again and prints the new tool names as JSON.

Usage: mcp_list_changed.py URL   (MCP_MODE=legacy: initialize handshake and a session
notification; default: 2026-07-28 and `subscriptions/listen`)
"""

import asyncio
import json
import os
import sys

import anyio
import mcp_types as types
from mcp import Client


async def main() -> None:
    url = sys.argv[1]
    mode = os.environ.get("MCP_MODE", "auto")
    changed = anyio.Event()

    async def on_message(message) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            changed.set()

    async with Client(url, mode=mode, message_handler=on_message) as client:
        before = await client.list_tools()
        with anyio.fail_after(240):
            if client.session.protocol_version >= "2026-07-28":
                async with client.listen(tools_list_changed=True) as sub:
                    print(f"READY {len(before.tools)}", flush=True)
                    async for _event in sub:
                        break
            else:
                print(f"READY {len(before.tools)}", flush=True)
                await changed.wait()
        after = await client.list_tools()
        print(json.dumps({"protocol_version": client.session.protocol_version,
                          "tools": sorted(t.name for t in after.tools)}), flush=True)


asyncio.run(main())
