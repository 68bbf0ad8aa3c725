"""Times MCP `tools/call` round trips with the official Python client.

Usage: bench_mcp.py stdio|http TARGET TOOL CALLS [COMMAND ARGS...]
  stdio: TARGET is a command, launched with the remaining ARGS
  http:  TARGET is the /mcp URL
Prints one JSON line: p50/p99/mean in microseconds. MCP_MODE as in mcp_client.py.
"""

import asyncio
import json
import os
import statistics
import sys
import time

from mcp import Client, StdioServerParameters


async def main() -> None:
    transport, target, tool, calls, *rest = sys.argv[1:]
    calls = int(calls)
    server = StdioServerParameters(command=target, args=rest, env=dict(os.environ)) if transport == "stdio" else target
    async with Client(server, mode=os.environ.get("MCP_MODE", "legacy")) as client:
        await client.list_tools()
        args = {"a": 2, "b": 40}
        for _ in range(max(50, calls // 10)):  # warm-up
            await client.call_tool(tool, args)
        samples = []
        for _ in range(calls):
            start = time.perf_counter_ns()
            result = await client.call_tool(tool, args)
            samples.append((time.perf_counter_ns() - start) / 1000)
            assert not result.is_error, result
    samples.sort()
    print(json.dumps({
        "p50_us": round(samples[len(samples) // 2], 1),
        "p99_us": round(samples[int(len(samples) * 0.99)], 1),
        "mean_us": round(statistics.fmean(samples), 1),
        "calls": calls,
    }))


asyncio.run(main())
