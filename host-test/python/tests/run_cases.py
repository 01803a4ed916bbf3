"""Runs the conformance cases (path in argv[1]) through the package over a
plain Python directory and prints one JSON object, case name to result
text; `cargo test` judges it with the checker every host shares
(`totp_test_support::judge`, via tests/pytest.rs).

A case's store is what `find_user` answers, so calls run under the
"unrestricted" policy, as in the other hosts' runners.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

from get_totp_code import Call, Denied, TotpTool, Unavailable, User


class CaseDirectory:
    """The case's tables as dicts, failing the one lookup `host_failure`
    names, as a platform's own directory would be written."""

    def __init__(self, tables: dict, failure: Optional[dict]):
        self.users = {row["username"]: row for row in tables.get("users", [])}
        self.slugs = {row["id"]: row["slug"] for row in tables.get("workflows", [])}
        self.edges = tables.get("workflow_edges", [])
        self.failure = failure or {}

    def _fail(self, name: str) -> None:
        if self.failure.get("import") != name:
            return
        if self.failure["kind"] == "denied":
            raise Denied()
        if self.failure["kind"] == "unavailable":
            raise Unavailable(self.failure["message"])

    def find_user(self, username: str):
        self._fail("find-user")
        row = self.users.get(username)
        if row is None:
            return None
        if self.failure.get("kind") == "other-user":
            return User(self.failure["username"], row["is_agent"], row["totp_secret"])
        # Half the users as mappings, half as User: both are accepted.
        if len(username) % 2:
            return dict(row)
        return User(row["username"], row["is_agent"], row["totp_secret"])

    def workflow_slug(self, workflow_id: str) -> Optional[str]:
        self._fail("workflow-slug")
        return self.slugs.get(workflow_id)

    def edge_targets(self, workflow_id: str, source: str, label: str) -> list:
        self._fail("edge-targets")
        return [
            edge["target_node_id"]
            for edge in self.edges
            if (edge["workflow_id"], edge["source_node_id"], edge["edge_label"])
            == (workflow_id, source, label)
        ]


def run_case(tool: TotpTool, case: dict) -> str:
    node = case["node"]
    call = Call(
        CaseDirectory(case["store"], case.get("host_failure")),
        node=None if node is None else (node["workflow_id"], node["node_id"]),
        time=case["time"],
        policy="unrestricted",
    )
    if case["call"] == "invoke":
        return tool.invoke(call, case["arguments"])
    return tool.get_totp_code(call, case["username"])


def main() -> int:
    tool = TotpTool(audit=None)
    cases = json.loads(Path(sys.argv[1]).read_text())["cases"]
    json.dump({case["name"]: run_case(tool, case) for case in cases}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
