"""The package's calls against pyotp (an independent implementation)."""

from __future__ import annotations

import json
import sqlite3
import time

import pyotp
import pytest

from conftest import AGENT, NODE, RFC_SECRET, DictDirectory, linked_directory, random_secret
from get_totp_code import Call, SqliteDirectory, TotpTool, User


def result(text: str) -> dict:
    return json.loads(text)


def test_rfc_6238_vector_by_username(tool):
    # RFC 6238 Appendix B: T = 59 s, SHA-1 -> 94287082 (8 digits); 6 digits here.
    out = result(tool.get_totp_code(Call(linked_directory(), time=59), AGENT))
    assert out["success"] is True
    assert out["totp_code"] == "287082"
    assert out["username"] == AGENT


def test_random_secrets_match_pyotp_at_fixed_times(tool):
    for at in (0, 59, 1111111109, 2000000000):
        secret = random_secret()
        out = result(tool.get_totp_code(Call(linked_directory(secret), time=at), AGENT))
        assert out["totp_code"] == pyotp.TOTP(secret).at(at)
        assert 1 <= out["expires_in"] <= 30


def test_min_validity_hands_out_the_next_periods_code(tool):
    # 1111111109 is the last second of its period: one second left.
    secret = random_secret()
    for min_validity, expected_at, expires_in in ((0, 1111111109, 1), (1, 1111111109, 1), (5, 1111111110, 30)):
        call = Call(linked_directory(secret), NODE, time=1111111109, min_validity=min_validity)
        out = result(tool.get_totp_code(call, AGENT))
        assert out["totp_code"] == pyotp.TOTP(secret).at(expected_at)
        assert out["expires_in"] == expires_in


def test_min_validity_must_be_a_whole_number_of_seconds():
    with pytest.raises((OverflowError, ValueError)):
        Call(linked_directory(), min_validity=-1)
    with pytest.raises(TypeError):
        Call(linked_directory(), min_validity="5")  # type: ignore[arg-type]


def test_system_clock_by_default(tool):
    secret = random_secret()
    before = time.time()
    out = result(tool.get_totp_code(Call(linked_directory(secret)), AGENT))
    after = time.time()
    assert out["totp_code"] in {pyotp.TOTP(secret).at(before), pyotp.TOTP(secret).at(after)}


def test_auto_resolve_through_the_tool_edge(tool):
    secret = random_secret()
    call = Call(linked_directory(secret), node=NODE, time=1234567890)
    out = result(tool.get_totp_code(call))
    assert (out["username"], out["totp_code"]) == (AGENT, pyotp.TOTP(secret).at(1234567890))
    assert result(tool.invoke(call, '{"username": ""}')) == out
    assert result(tool.invoke(call, "{}")) == out


def test_int_ids_are_passed_as_text(tool):
    secret = random_secret()
    seen = []

    class IntIds(DictDirectory):
        def workflow_slug(self, workflow_id):
            seen.append(workflow_id)
            return None

        def edge_targets(self, workflow_id, source, label):
            seen.append((workflow_id, source))
            return [7]

    directory = IntIds(users=[User("agent_42_7", True, secret)])
    out = result(tool.get_totp_code(Call(directory, node=(42, 3), time=90), ""))
    assert (out["username"], out["totp_code"]) == ("agent_42_7", pyotp.TOTP(secret).at(90))
    assert ("42", "3") in seen and "42" in seen


def test_own_workflow_policy_is_the_default(tool):
    other = User("agent_other-flow_agent_9", True, random_secret())
    directory = linked_directory()
    directory.users[other.username] = other
    call = Call(directory, node=NODE, time=59)
    assert result(tool.get_totp_code(call, other.username))["error_code"] == "access_denied"
    relaxed = Call(directory, node=NODE, time=59, policy="any_agent")
    assert result(tool.get_totp_code(relaxed, other.username))["success"] is True


def test_people_never_get_a_code(tool):
    directory = DictDirectory(users=[User("alice", False, RFC_SECRET)])
    for policy in ("own_workflow", "unrestricted"):
        out = result(tool.get_totp_code(Call(directory, time=59, policy=policy), "alice"))
        assert out["error_code"] in {"access_denied", "user_not_found"}
        assert "totp_code" not in out


def test_describe_is_the_tool_definition(tool):
    definition = json.loads(tool.describe())
    assert definition["name"] == "get_totp_code"
    assert "username" in definition["parameters"]["properties"]


def test_call_checks_its_arguments():
    with pytest.raises(TypeError, match="find_user"):
        Call(object())
    with pytest.raises(TypeError):
        Call(DictDirectory(), node=("wf-1",))
    with pytest.raises(TypeError):
        Call(DictDirectory(), node=(b"wf", "n"))
    with pytest.raises(ValueError):
        Call(DictDirectory(), policy="everyone")
    assert Call(DictDirectory(), node=(5, "n")).node == ("5", "n")


def test_user_repr_hides_the_secret():
    assert RFC_SECRET not in repr(User(AGENT, True, RFC_SECRET))


def test_sandbox_limits_are_options():
    with pytest.raises(ValueError):
        TotpTool(audit=None, deadline_ms=0)
    small = TotpTool(audit=None, memory_limit=1 << 20, deadline_ms=500)
    out = result(small.get_totp_code(Call(linked_directory(), time=59), AGENT))
    assert out["totp_code"] == "287082"


def test_sqlite_directory_answers_natively_and_from_python(tool, tmp_path):
    path = tmp_path / "store.sqlite3"
    directory = SqliteDirectory(str(path))  # creates the reference schema
    secret = random_secret()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO users VALUES (?, 1, ?)", (AGENT, secret))
        db.execute("INSERT INTO users VALUES ('alice', 0, ?)", (secret,))
        db.execute("INSERT INTO workflows VALUES ('wf-1', 'my-workflow')")
        db.execute("INSERT INTO workflow_edges VALUES ('wf-1', 'tool_totp', 'agent_abc123', 'tool')")
    out = result(tool.get_totp_code(Call(directory, node=NODE, time=300), ""))
    assert (out["username"], out["totp_code"]) == (AGENT, pyotp.TOTP(secret).at(300))
    assert directory.find_user(AGENT).totp_secret == secret
    assert directory.workflow_slug("wf-1") == "my-workflow"
    assert directory.edge_targets("wf-1", "tool_totp", "tool") == ["agent_abc123"]
    assert directory.find_user("nobody") is None
