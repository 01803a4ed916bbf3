"""tools/call round trip, as the official MCP Python client sees it: one
client, one session, sequential calls after a warm-up; prints p50 and p99
in microseconds as JSON.

    python bench.py stdio CALLS ARGS_JSON -- COMMAND...
    python bench.py http CALLS ARGS_JSON URL [TOKEN]
"""

import asyncio
import json
import sys
import time

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


async def measure(session, calls, arguments):
    await session.initialize()
    await session.list_tools()
    for _ in range(200):
        await session.call_tool("get_totp_code", arguments)
    times = []
    for _ in range(calls):
        started = time.perf_counter_ns()
        result = await session.call_tool("get_totp_code", arguments)
        times.append(time.perf_counter_ns() - started)
        if result.is_error:
            raise SystemExit(f"tool error: {result.content}")
    times.sort()
    return {
        "calls": calls,
        "p50_us": times[len(times) // 2] / 1000,
        "p99_us": times[len(times) * 99 // 100] / 1000,
    }


async def main():
    mode, calls, arguments = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
    if mode == "stdio":
        command = sys.argv[sys.argv.index("--") + 1 :]
        params = StdioServerParameters(command=command[0], args=command[1:])
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            report = await measure(session, calls, arguments)
    else:
        url = sys.argv[4]
        headers = {"Authorization": f"Bearer {sys.argv[5]}"} if len(sys.argv) > 5 else {}
        async with (
            create_mcp_http_client(headers=headers) as http,
            streamable_http_client(url, http_client=http) as (read, write),
            ClientSession(read, write) as session,
        ):
            report = await measure(session, calls, arguments)
    print(json.dumps(report))


asyncio.run(main())
