"""One TotpTool called from several Python threads at once: every answer is
right (pyotp), with Python directories and the native SQLite one. The
speed-up itself is measured by bench.py, not asserted here."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pyotp

from conftest import NODE, DictDirectory, random_secret
from get_totp_code import Call, User


def test_threads_share_one_tool(tool):
    secrets = {f"agent_wf_{i}": random_secret() for i in range(64)}
    directory = DictDirectory(users=[User(name, True, s) for name, s in secrets.items()])

    def one(index):
        name = f"agent_wf_{index % 64}"
        at = 1_700_000_000 + index * 30
        out = json.loads(tool.get_totp_code(Call(directory, time=at), name))
        return out["totp_code"] == pyotp.TOTP(secrets[name]).at(at)

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(one, range(800)))


def test_threads_auto_resolve_in_their_own_workflows(tool):
    workflows = {f"wf-{i}": random_secret() for i in range(16)}
    directory = DictDirectory(
        users=[User(f"agent_slug-{w}_agent", True, s) for w, s in workflows.items()],
        slugs={w: f"slug-{w}" for w in workflows},
        edges=[(w, NODE[1], "agent", "tool") for w in workflows],
    )

    def one(index):
        workflow = f"wf-{index % 16}"
        out = json.loads(tool.get_totp_code(Call(directory, node=(workflow, NODE[1]), time=index)))
        return out["totp_code"] == pyotp.TOTP(workflows[workflow]).at(index)

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert all(pool.map(one, range(400)))
