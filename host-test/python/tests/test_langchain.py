"""The LangChain extra: a StructuredTool built from describe()."""

from __future__ import annotations

import json

import pyotp
from langchain_core.tools import StructuredTool

from conftest import AGENT, NODE, linked_directory, random_secret
from get_totp_code import Call
from get_totp_code.langchain import totp_tool


def test_structured_tool_from_describe(tool):
    lc = totp_tool(tool, Call(linked_directory(), node=NODE, time=59))
    definition = json.loads(tool.describe())
    assert isinstance(lc, StructuredTool)
    assert lc.name == "get_totp_code"
    assert lc.description == definition["description"]
    assert "username" in lc.args


def test_invoke_without_and_with_username(tool):
    secret = random_secret()
    made = []

    def call_for_each_invocation():
        made.append(1)
        return Call(linked_directory(secret), node=NODE, time=1_000_000)

    lc = totp_tool(tool, call_for_each_invocation)
    expected = pyotp.TOTP(secret).at(1_000_000)
    out = json.loads(lc.invoke({}))
    assert (out["username"], out["totp_code"]) == (AGENT, expected)
    out = json.loads(lc.invoke({"username": AGENT}))
    assert out["totp_code"] == expected
    assert len(made) == 2
    out = json.loads(lc.invoke({"username": "agent_nobody"}))
    assert out["error_code"] in {"access_denied", "user_not_found"}
