"""Reproduces the Wassette run of the README on a machine with a `wassette`
binary (v0.2.0: not on a registry, so not a CI test).

Starts `wassette serve --stdio` with the agent's configuration in its own
environment, then, as an MCP client (the official Python SDK):
loads the Wassette build from a file, grants it each configuration
variable with Wassette's permission tool, lists the tools (exactly one
from the component: `get-totp-code`), calls it, and checks the code
against pyotp at the seconds of the call.

    python host-test/wasm-hosts/wassette.py WASSETTE_BINARY get_totp_code_wassette.wasm

Needs `mcp` and `pyotp` (host-test/wasmtime-py/requirements.txt; the venv
`cargo test` makes, target/tmp/conformance-venv, has both). Prints each
step's answer as JSON lines; exits 1 on any mismatch. The first call,
before any grant, must be a `host_error` naming `TOTP_USERNAME`.
"""

import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pyotp
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

USERNAME = "agent_release_n1"
VARIABLES = {
    "TOTP_USERNAME": USERNAME,
    "TOTP_WORKFLOW_ID": "wf-1",
    "TOTP_NODE_ID": "tool_totp",
    "TOTP_AGENT_NODE_ID": "n1",
    "TOTP_WORKFLOW_SLUG": "release",
}


def show(step, value):
    print(json.dumps({"step": step, "answer": value}), flush=True)


def texts(result):
    return [c.text for c in result.content if getattr(c, "type", "") == "text"]


async def main(wassette, component):
    secret = pyotp.random_base32(32)
    variables = dict(VARIABLES, TOTP_SECRET=secret)
    plugins = tempfile.mkdtemp(prefix="wassette-plugins-")
    server = StdioServerParameters(
        command=wassette,
        args=["serve", "--stdio", "--plugin-dir", plugins],
        # Wassette's own log lines at `warn` and above only.
        env={**os.environ, **variables, "RUST_LOG": "warn"},
    )
    async with stdio_client(server) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            uri = Path(component).resolve().as_uri()
            loaded = await session.call_tool("load-component", {"path": uri})
            show("load-component", texts(loaded))
            component_id = Path(component).stem
            # Nothing granted yet: the sandbox hides the configuration, and
            # the tool says which variable it lacks, as a result.
            ungranted = await session.call_tool("get-totp-code", {"username": ""})
            show("get-totp-code before any grant", texts(ungranted))
            for key in variables:
                granted = await session.call_tool(
                    "grant-environment-variable-permission",
                    {"component_id": component_id, "details": {"key": key}},
                )
                show(f"grant {key}", texts(granted))
            tools = [t.name for t in (await session.list_tools()).tools]
            show("tools/list", tools)
            before = int(time.time())
            called = await session.call_tool("get-totp-code", {"username": ""})
            after = int(time.time())
            show("get-totp-code", texts(called))
    refused = json.loads(texts(ungranted)[0])
    answer = texts(called)[0]
    # Wassette wraps a function's results as JSON; the tool's own JSON is
    # the string inside.
    try:
        wrapped = json.loads(answer)
        result = json.loads(wrapped["result"]) if isinstance(wrapped, dict) and "result" in wrapped else wrapped
    except (ValueError, TypeError):
        result = json.loads(answer)
    totp = pyotp.TOTP(secret)
    expected = [totp.at(t) for t in range(before, after + 1)]
    ok = (
        result.get("success") is True
        and result.get("username") == USERNAME
        and result.get("totp_code") in expected
        and secret not in answer
        and "get-totp-code" in tools
        and refused.get("error_code") == "host_error"
        and "TOTP_USERNAME" in refused.get("error", "")
    )
    show("checked against pyotp", {"ok": ok, "expected_any_of": expected})
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2])))
