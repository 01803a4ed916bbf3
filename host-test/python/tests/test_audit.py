"""The package's audit trail: every sink `TotpTool(audit=...)` takes gets
the Rust host's events (the same fields, never the code or the secret),
and a sink that fails withholds the code without raising."""

from __future__ import annotations

import io
import json
import sqlite3

import pytest

from conftest import AGENT, RFC_SECRET, linked_directory
from get_totp_code import Call, SqliteDirectory, TotpTool

def result(text: str) -> dict:
    return json.loads(text)


# The columns of `audit_events` in host-test/schema.sql, which name the
# Rust host's event fields.
def schema_columns(path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [row[1] for row in db.execute("PRAGMA table_info(audit_events)")]


def call() -> Call:
    return Call(linked_directory(), node=("wf-1", "tool_totp"), time=59)


def assert_clean(event: dict) -> None:
    text = json.dumps(event)
    assert "287082" not in text and RFC_SECRET not in text, text


def test_audit_must_be_chosen():
    with pytest.raises(TypeError):
        TotpTool()
    with pytest.raises(TypeError, match="audit must be"):
        TotpTool(audit=42)


def test_every_sink_gets_the_same_event(tmp_path):
    store = SqliteDirectory(str(tmp_path / "store.sqlite3"))
    received: list[dict] = []
    stream = io.StringIO()
    path = tmp_path / "audit.jsonl"
    sinks = [store, received.append, stream, path, str(tmp_path / "audit2.jsonl")]
    events = []
    for sink in sinks:
        out = result(TotpTool(audit=sink).get_totp_code(call(), ""))
        assert out["totp_code"] == "287082", out
    columns = schema_columns(tmp_path / "store.sqlite3")
    with sqlite3.connect(tmp_path / "store.sqlite3") as db:
        db.row_factory = sqlite3.Row
        events.append(dict(db.execute("SELECT * FROM audit_events").fetchone()))
    events.append(received[0])
    events.append(json.loads(stream.getvalue()))
    events.append(json.loads(path.read_text()))
    events.append(json.loads((tmp_path / "audit2.jsonl").read_text()))
    assert (path.stat().st_mode & 0o777) == 0o600
    for event in events:
        assert sorted(event) == sorted(columns), event
        assert event["outcome"] == "issued"
        assert event["operation"] == "get_totp_code"
        assert event["username_requested"] == ""
        assert event["username_resolved"] == AGENT
        assert (event["workflow_id"], event["node_id"]) == ("wf-1", "tool_totp")
        assert_clean(event)


def test_failures_are_recorded_with_their_error_code():
    received: list[dict] = []
    tool = TotpTool(audit=received.append)
    for username in ("agent_my-workflow_nobody", "alice"):
        out = result(tool.invoke(call(), json.dumps({"username": username})))
        assert out["success"] is False
        assert received[-1]["outcome"] == out["error_code"]
        assert received[-1]["operation"] == "invoke"
        assert received[-1]["username_requested"] == username
    assert [e["outcome"] for e in received] == ["user_not_found", "access_denied"]


class BrokenStream:
    def write(self, text):
        raise OSError(f"disk full while writing {text}")


def broken_callable(event):
    raise RuntimeError(f"platform table is gone ({RFC_SECRET})")


@pytest.mark.parametrize("sink", [broken_callable, BrokenStream()], ids=["callable", "stream"])
def test_a_failing_sink_withholds_the_code_and_raises_nothing(sink):
    out = result(TotpTool(audit=sink).get_totp_code(call(), ""))
    assert out["success"] is False
    assert out["error_code"] == "host_error"
    assert out["error"] == "Host error: audit log unavailable", out
    assert "totp_code" not in out
    assert RFC_SECRET not in json.dumps(out)


def test_an_unwritable_path_is_refused_when_the_tool_is_made(tmp_path):
    with pytest.raises(OSError, match="audit log"):
        TotpTool(audit=tmp_path / "missing-dir" / "audit.jsonl")
