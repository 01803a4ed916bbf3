"""The baseline of the MCP benchmark: a minimal server of the official MCP
Python SDK (`MCPServer`, formerly FastMCP) whose one tool looks the agent's
secret up in SQLite and returns `pyotp.TOTP(secret).now()` — what the TOTP
MCP servers people use today do, minus handing the secret to the model.

    python baseline_server.py DB stdio
    python baseline_server.py DB http PORT
"""

import sqlite3
import sys

import pyotp
from mcp.server.mcpserver import MCPServer

db = sys.argv[1]
server = MCPServer("totp-baseline", log_level="WARNING")
connection = sqlite3.connect(db, check_same_thread=False)


@server.tool()
def get_totp_code(username: str = "") -> dict:
    """The current TOTP code of an agent user."""
    row = connection.execute(
        "SELECT totp_secret FROM users WHERE username = ? AND is_agent = 1", (username,)
    ).fetchone()
    if row is None:
        return {"success": False, "error": "Agent user not found", "error_code": "user_not_found"}
    return {"success": True, "username": username, "totp_code": pyotp.TOTP(row[0]).now()}


if sys.argv[2] == "stdio":
    server.run("stdio")
else:
    server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[3]))
