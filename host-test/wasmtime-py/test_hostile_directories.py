"""The wasmtime-py host returns a JSON result whatever its directory does:
exceptions and wrong types are `host_error` results naming only the method
and the type; `Denied` from any lookup is `access_denied`; KeyboardInterrupt
is re-raised after the call. Run by `cargo test` (other_hosts.rs).

    python -m pytest host-test/wasmtime-py/test_hostile_directories.py
"""

from __future__ import annotations

import json

import pytest

from collections.abc import Mapping

from totp_host import Call, Denied, SqliteDirectory, TotpTool, Unavailable, User

AGENT = "agent_my-workflow_agent_abc123"
NODE = ("wf-1", "tool_totp")
SECRET_MARK = "S3CRET-JBSWY3DPEHPK3PXP"


@pytest.fixture(scope="module")
def tool():
    return TotpTool()


def directory_with(method, behaviour):
    store = SqliteDirectory()
    store.put_user(AGENT, True, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
    store.put_workflow("wf-1", "my-workflow")
    store.put_edge("wf-1", "tool_totp", "agent_abc123", "tool")
    setattr(store, method, lambda *args: behaviour())
    return store


def raises(error):
    def behaviour():
        raise error
    return behaviour


class ExplodingMapping(Mapping):
    """A user mapping whose reads raise: the host reads it after the lookup."""

    def __getitem__(self, key):
        raise RuntimeError(SECRET_MARK)

    def __iter__(self):
        return iter(("username", "is_agent"))

    def __len__(self):
        return 2


HOSTILE = [
    ("find_user", raises(RuntimeError(SECRET_MARK))),
    ("find_user", lambda: {"username": AGENT, "is_agent": True, "totp_secret": SECRET_MARK.encode()}),
    ("find_user", lambda: 42),
    ("find_user", ExplodingMapping),
    ("find_user", lambda: User(AGENT, True, SECRET_MARK.encode())),
    ("workflow_slug", lambda: 7),
    ("workflow_slug", raises(ValueError(SECRET_MARK))),
    ("edge_targets", lambda: None),
    ("edge_targets", lambda: [SECRET_MARK.encode()]),
]


@pytest.mark.parametrize("method,behaviour", HOSTILE)
def test_hostile_directory_gives_a_host_error(tool, method, behaviour):
    call = Call(directory_with(method, behaviour), node=NODE, time=59)
    text = tool.get_totp_code(call, AGENT if method == "find_user" else "")
    out = json.loads(text)
    assert out["error_code"] == "host_error", text
    assert SECRET_MARK not in text
    assert method in out["error"]


@pytest.mark.parametrize("method", ["find_user", "workflow_slug", "edge_targets"])
def test_unavailable_shows_only_a_text_message(tool, method):
    for error, shown in [(Unavailable("store down"), "store down"),
                         (Unavailable(RuntimeError(SECRET_MARK)), "unavailable")]:
        call = Call(directory_with(method, raises(error)), node=NODE, time=59)
        text = tool.get_totp_code(call, AGENT if method == "find_user" else "")
        assert json.loads(text)["error_code"] == "host_error", text
        assert shown in text and SECRET_MARK not in text


def test_a_mapping_is_a_user(tool):
    user = {"username": AGENT, "is_agent": True, "totp_secret": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"}
    out = json.loads(tool.get_totp_code(Call(directory_with("find_user", lambda: user), time=59), AGENT))
    assert out["totp_code"] == "287082"


def test_int_ids_are_text(tool):
    store = directory_with("edge_targets", lambda: [])
    out = json.loads(tool.get_totp_code(Call(store, node=(12, 34), time=59), ""))
    assert out["error_code"] == "user_not_found"  # agent_12_34, not a TypeError


@pytest.mark.parametrize("method", ["find_user", "workflow_slug", "edge_targets"])
def test_denied_from_any_lookup_is_access_denied(tool, method):
    out = json.loads(tool.get_totp_code(Call(directory_with(method, raises(Denied())), node=NODE, time=59), ""))
    assert out["error_code"] == "access_denied"


def test_keyboard_interrupt_is_re_raised_after_the_call(tool):
    with pytest.raises(KeyboardInterrupt):
        tool.get_totp_code(Call(directory_with("edge_targets", raises(KeyboardInterrupt())), node=NODE, time=59), "")
    out = json.loads(tool.get_totp_code(Call(directory_with("edge_targets", lambda: ["agent_abc123"]), node=NODE, time=59), ""))
    assert out["totp_code"] == "287082"
