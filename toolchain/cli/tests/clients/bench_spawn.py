"""Time from spawning `skill serve --stdio` to the first `tools/list` reply: the client's
initialize, initialized and tools/list are written at once, as an MCP client would.

Usage: bench_spawn.py RUNS COMMAND ARGS...   Prints p50/min/max in milliseconds as JSON.
"""

import json
import statistics
import subprocess
import sys
import time

runs, argv = int(sys.argv[1]), sys.argv[2:]
messages = b"".join(json.dumps(m).encode() + b"\n" for m in [
    {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}},
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
])
samples = []
for _ in range(runs):
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    child.stdin.write(messages)
    child.stdin.flush()
    tools = None
    for line in child.stdout:
        reply = json.loads(line)
        if reply.get("id") == 2:
            tools = len(reply["result"]["tools"])
            break
    samples.append((time.perf_counter() - start) * 1000)
    child.stdin.close()
    child.wait()
    assert tools, "no tools/list reply"
print(json.dumps({"p50_ms": round(statistics.median(samples), 2), "min_ms": round(min(samples), 2),
                  "max_ms": round(max(samples), 2), "tools": tools, "runs": runs}))
