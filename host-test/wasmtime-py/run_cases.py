"""Runs host-test/conformance/cases.json through this host and prints one
JSON object, case name to result text. `cargo test` judges it with the same
checker as the other hosts' results (host-test/tests/all/conformance.rs).

    python host-test/wasmtime-py/run_cases.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

from totp_host import Call, Denied, SqliteDirectory, TotpTool, Unavailable, User

CASES = Path(__file__).resolve().parents[1] / "conformance" / "cases.json"


class FailingDirectory:
    """Serves a store, except for the one lookup a case's `host_failure` names."""

    def __init__(self, inner: SqliteDirectory, failure: dict):
        self.inner = inner
        self.failure = failure

    def _fail(self, name: str) -> None:
        if self.failure["import"] != name:
            return
        if self.failure["kind"] == "denied":
            raise Denied()
        if self.failure["kind"] == "unavailable":
            raise Unavailable(self.failure["message"])

    def find_user(self, username: str) -> Optional[User]:
        self._fail("find-user")
        user = self.inner.find_user(username)
        if user is not None and self.failure["kind"] == "other-user":
            return User(self.failure["username"], user.is_agent, user.totp_secret)
        return user

    def workflow_slug(self, workflow_id: str) -> Optional[str]:
        self._fail("workflow-slug")
        return self.inner.workflow_slug(workflow_id)

    def edge_targets(self, workflow_id: str, source: str, label: str) -> list[str]:
        self._fail("edge-targets")
        return self.inner.edge_targets(workflow_id, source, label)


def run_case(tool: TotpTool, case: dict) -> str:
    directory = SqliteDirectory()
    directory.import_tables(case["store"])
    if "host_failure" in case:
        directory = FailingDirectory(directory, case["host_failure"])
    node = case["node"]
    call = Call(
        directory,
        node=None if node is None else (node["workflow_id"], node["node_id"]),
        time=case["time"],
    )
    if case["call"] == "invoke":
        return tool.invoke(call, case["arguments"])
    return tool.get_totp_code(call, case["username"])


def main() -> int:
    tool = TotpTool()
    cases = json.loads(CASES.read_text())["cases"]
    json.dump({case["name"]: run_case(tool, case) for case in cases}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
