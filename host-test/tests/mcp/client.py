"""The MCP client side of host-test/tests/all/mcp.rs: the official MCP
Python SDK (`mcp`, pinned in host-test/wasmtime-py/requirements.txt)
talking to `totp-host mcp`, and pyotp as the oracle for codes.

Reads a plan (JSON) on stdin, runs it, prints a report (JSON) on stdout;
the Rust tests assert on the report. Modes:

- session: one client, stdio or HTTP: initialize, tools/list, then each
  call of the plan; the report has every result as the client saw it.
- raw: plain HTTP requests (no MCP client) with the headers given, for
  what a client library would not send: no token, a foreign Origin...
- load: many HTTP clients at once, each making many calls, one of them
  walking away mid-call; failures counted, the server's RSS sampled.
- expected: pyotp's codes for the plan's secrets at the plan's time.
"""

import asyncio
import json
import sys
import time

import httpx2
import pyotp
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


def dump(model):
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def result_report(result):
    return {
        "is_error": bool(result.is_error),
        "structured": result.structured_content,
        "text": [c.text for c in result.content if getattr(c, "type", "") == "text"],
    }


def http_client(plan, token=None):
    headers = {}
    token = token if token is not None else plan.get("token")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    headers.update(plan.get("headers", {}))
    return create_mcp_http_client(headers=headers)


class connect:
    """An initialized ClientSession over the plan's transport."""

    def __init__(self, plan, token=None):
        self.plan = plan
        self.token = token
        self.stack = None

    async def __aenter__(self):
        from contextlib import AsyncExitStack

        self.stack = AsyncExitStack()
        await self.stack.__aenter__()
        if self.plan["transport"] == "stdio":
            params = StdioServerParameters(command=self.plan["command"][0], args=self.plan["command"][1:])
            read, write = await self.stack.enter_async_context(stdio_client(params))
        else:
            client = await self.stack.enter_async_context(http_client(self.plan, self.token))
            read, write = await self.stack.enter_async_context(
                streamable_http_client(self.plan["url"], http_client=client)
            )
        session = await self.stack.enter_async_context(ClientSession(read, write))
        self.initialized = await session.initialize()
        return session

    async def __aexit__(self, *exc):
        return await self.stack.__aexit__(*exc)


async def session(plan):
    report = {}
    conn = connect(plan)
    async with conn as client:
        report["initialize"] = dump(conn.initialized)
        tools = await client.list_tools()
        report["tools"] = [dump(t) for t in tools.tools]
        report["results"] = []
        for call in plan.get("calls", []):
            try:
                result = await client.call_tool(call.get("name", "get_totp_code"), call.get("arguments"))
                report["results"].append(result_report(result))
            except Exception as error:  # a protocol error, reported for the test to judge
                report["results"].append(exception_report(error))
        # JSON-RPC requests as the client sends any request (its dispatcher,
        # which the typed methods use), for methods and params it has no
        # typed call for: an unknown method, params of the wrong shape.
        report["requests"] = []
        for request in plan.get("requests", []):
            try:
                answer = await client._dispatcher.send_raw_request(request["method"], request.get("params"), {})
                report["requests"].append({"result": answer})
            except Exception as error:
                report["requests"].append(exception_report(error))
        # The server still answers after whatever the calls were.
        await client.send_ping()
        report["alive"] = True
    return report


def exception_report(error):
    """An exception as the report shows it; a JSON-RPC error with its code."""
    report = {"exception": f"{type(error).__name__}: {error}"}
    code = getattr(getattr(error, "error", None), "code", None)
    if code is not None:
        report["code"] = code
    return report


async def raw(plan):
    """Each request: {method, headers, body?}; reports status, headers, body.
    With "concurrent": true, all at once, each on its own connection."""

    async def send(client, request):
        body = request.get("body")
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        response = await client.request(
            request.get("method", "POST"), plan["url"], headers=request.get("headers", {}), content=body
        )
        return {
            "status": response.status_code,
            "www_authenticate": response.headers.get("www-authenticate"),
            "request_id": response.headers.get("x-request-id"),
            "content_type": response.headers.get("content-type"),
            "body": response.text,
        }

    if plan.get("concurrent"):

        async def alone(request):
            async with httpx2.AsyncClient(timeout=10) as client:
                return await send(client, request)

        return list(await asyncio.gather(*(alone(r) for r in plan["requests"])))
    async with httpx2.AsyncClient(timeout=10) as client:
        return [await send(client, request) for request in plan["requests"]]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


async def open_session(url, token):
    """initialize + initialized over plain HTTP; the session id."""
    headers = dict(MCP_HEADERS, Authorization=f"Bearer {token}")
    async with httpx2.AsyncClient(timeout=10) as http:
        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "w", "version": "0"}},
        }
        response = await http.post(url, headers=headers, json=body)
        session_id = response.headers["mcp-session-id"]
        headers["mcp-session-id"] = session_id
        headers["mcp-protocol-version"] = "2025-06-18"
        await http.post(url, headers=headers, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
    return session_id


async def post_and_hang_up(url, token, session_id):
    """A tools/call POST on a raw socket, closed before the answer."""
    address = httpx2.URL(url)
    body = json.dumps(
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "get_totp_code", "arguments": {}}}
    ).encode()
    request = (
        f"POST {address.path} HTTP/1.1\r\nHost: {address.host}:{address.port}\r\n"
        f"Authorization: Bearer {token}\r\nmcp-session-id: {session_id}\r\n"
        "mcp-protocol-version: 2025-06-18\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in MCP_HEADERS.items())
        + f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    reader, writer = await asyncio.open_connection(address.host, address.port)
    writer.write(request)
    await writer.drain()
    writer.close()


async def load(plan):
    """`clients` clients (one token each), `warmup` then `calls` calls each,
    every code checked against pyotp; meanwhile one more client starts a
    call and drops its connection before reading the answer."""
    expected = {name: pyotp.TOTP(secret).at(plan["now"]) for name, secret in plan["secrets"].items()}
    failures = []
    # With "rss_every": N, the server's RSS after every N calls (all
    # clients together) of the timed part: [calls, KiB] pairs.
    every = plan.get("rss_every")
    progress = {"timed": False, "calls": 0}
    samples = []

    async def client_run(token, agent, calls):
        conn = connect(plan, token)
        async with conn as client:
            for _ in range(calls):
                try:
                    result = await client.call_tool("get_totp_code", {})
                    got = (result.structured_content or {}).get("totp_code")
                    if result.is_error or got != expected[agent]:
                        failures.append(result_report(result))
                except Exception as error:
                    failures.append(f"{type(error).__name__}: {error}")
                if every and progress["timed"]:
                    progress["calls"] += 1
                    if progress["calls"] % every == 0:
                        samples.append([progress["calls"], rss_kib(plan["server_pid"])])

    async def walk_away(token):
        # Opens a session, then sends tools/call on a socket of its own and
        # closes it without reading the answer; also cancels a call of the
        # SDK's own client mid-flight. Neither may disturb the others.
        for _ in range(plan.get("walk_aways", 20)):
            session_id = await open_session(plan["url"], token)
            await post_and_hang_up(plan["url"], token, session_id)
            try:
                async with connect(plan, token) as client:
                    task = asyncio.ensure_future(client.call_tool("get_totp_code", {}))
                    await asyncio.sleep(0.001)
                    task.cancel()
            except BaseException:  # the point is to leave badly
                pass

    clients = plan["clients"]
    await asyncio.gather(*(client_run(c["token"], c["agent"], plan["warmup"]) for c in clients))
    warm_rss = rss_kib(plan["server_pid"])
    progress["timed"] = True
    started = time.monotonic()
    await asyncio.gather(
        walk_away(plan["walk_away_token"]),
        *(client_run(c["token"], c["agent"], plan["calls"]) for c in clients),
    )
    elapsed = time.monotonic() - started
    end_rss = rss_kib(plan["server_pid"])
    return {
        "calls": plan["calls"] * len(clients),
        "failures": len(failures),
        "first_failures": failures[:5],
        "seconds": elapsed,
        "rss_kib_warm": warm_rss,
        "rss_kib_end": end_rss,
        "rss_kib_samples": samples,
    }


def expected(plan):
    return {name: pyotp.TOTP(secret).at(plan["now"]) for name, secret in plan["secrets"].items()}


def main():
    plan = json.load(sys.stdin)
    mode = plan["mode"]
    if mode == "expected":
        report = expected(plan)
    else:
        report = asyncio.run({"session": session, "raw": raw, "load": load}[mode](plan))
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
