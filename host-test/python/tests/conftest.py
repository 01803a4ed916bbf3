"""Shared fixtures: one TotpTool for the session (as a platform holds one
per process) and a plain dict-backed directory, the kind users write."""

from __future__ import annotations

import base64
import os
from typing import Optional

import pytest

from get_totp_code import TotpTool, User

#: The RFC 6238 Appendix B SHA-1 key, as base32.
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
AGENT = "agent_my-workflow_agent_abc123"
NODE = ("wf-1", "tool_totp")


def random_secret() -> str:
    return base64.b32encode(os.urandom(20)).decode()


class DictDirectory:
    """Users, slugs and edges in dicts: a platform's directory in a few lines."""

    def __init__(self, users=(), slugs=None, edges=()):
        self.users = {user.username: user for user in users}
        self.slugs = dict(slugs or {})
        self.edges = list(edges)  # (workflow_id, source, target, label)

    def find_user(self, username: str) -> Optional[User]:
        return self.users.get(username)

    def workflow_slug(self, workflow_id: str) -> Optional[str]:
        return self.slugs.get(workflow_id)

    def edge_targets(self, workflow_id: str, source_node_id: str, label: str) -> list:
        return [t for (w, s, t, l) in self.edges if (w, s, l) == (workflow_id, source_node_id, label)]


def linked_directory(secret: str = RFC_SECRET) -> DictDirectory:
    """wf-1 (slug my-workflow): tool_totp --tool--> agent_abc123, whose user has `secret`."""
    return DictDirectory(
        users=[User(AGENT, True, secret)],
        slugs={"wf-1": "my-workflow"},
        edges=[("wf-1", "tool_totp", "agent_abc123", "tool")],
    )


@pytest.fixture(scope="session")
def tool() -> TotpTool:
    return TotpTool(audit=None)
