"""Runs host-test/conformance/cases.json through the Python host.

Each case's store is loaded into an in-memory SQLite store with the README's
schema; a case's `host_failure` wraps it in a directory whose named import
fails as described. `check(case, result_text)` returns the list of
mismatches (empty when the result conforms).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from totp_host import Call, Denied, SqliteDirectory, TotpTool, Unavailable, User

CASES = Path(__file__).resolve().parents[1] / "conformance" / "cases.json"


def load_cases(path: Path = CASES) -> list[dict]:
    return json.loads(path.read_text())["cases"]


def sqlite_store(store: dict, path: str = ":memory:") -> SqliteDirectory:
    directory = SqliteDirectory(path)
    for user in store["users"]:
        directory.put_user(user["username"], user["is_agent"], user["totp_secret"])
    for workflow in store["workflows"]:
        directory.put_workflow(workflow["id"], workflow["slug"])
    for edge in store["edges"]:
        directory.put_edge(edge["workflow_id"], edge["source"], edge["target"], edge["label"])
    return directory


class FailingDirectory:
    """Serves a store, except for the one import a case makes fail."""

    def __init__(self, inner: SqliteDirectory, failure: dict):
        self.inner = inner
        self.failure = failure

    def _fail(self, name: str) -> None:
        if self.failure["import"] != name:
            return
        kind = self.failure["kind"]
        if kind == "denied":
            raise Denied()
        if kind == "unavailable":
            raise Unavailable(self.failure["message"])

    def find_user(self, username: str) -> Optional[User]:
        self._fail("find-user")
        user = self.inner.find_user(username)
        if self.failure["import"] == "find-user" and self.failure["kind"] == "other-user":
            if user is None:
                return None
            return User(self.failure["username"], user.is_agent, user.totp_secret)
        return user

    def workflow_slug(self, workflow_id: str) -> Optional[str]:
        self._fail("workflow-slug")
        return self.inner.workflow_slug(workflow_id)

    def edge_targets(self, workflow_id: str, source: str, label: str) -> list[str]:
        self._fail("edge-targets")
        return self.inner.edge_targets(workflow_id, source, label)


def run_case(tool: TotpTool, case: dict) -> str:
    directory = sqlite_store(case["store"])
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


def check(case: dict, text: str) -> list[str]:
    """Every expected key, absent key, and error substring of the case."""
    try:
        result = json.loads(text)
    except ValueError as error:
        return [f"not JSON ({error}): {text!r}"]
    problems = []
    for key, want in case["expected"].items():
        if key not in result:
            problems.append(f"{key}: missing, expected {want!r}")
        elif result[key] != want or type(result[key]) is not type(want):
            problems.append(f"{key}: got {result[key]!r}, expected {want!r}")
    for key in case.get("absent", []):
        if key in result:
            problems.append(f"{key}: present ({result[key]!r}), expected absent")
    error = result.get("error", "")
    for piece in case.get("error_contains", []):
        if piece not in str(error):
            problems.append(f"error {error!r} does not contain {piece!r}")
    for piece in case.get("error_excludes", []):
        if piece in text:
            problems.append(f"result contains {piece!r}")
    return problems
