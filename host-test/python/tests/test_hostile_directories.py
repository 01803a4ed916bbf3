"""Whatever a directory does, the caller gets a JSON result: every
exception and every wrong type becomes `host_error` with a short message
that quotes neither the value nor the exception's text; `Denied` from any
lookup is `access_denied`; KeyboardInterrupt/SystemExit end the call and
are re-raised to the caller."""

from __future__ import annotations

import json

import pytest

from conftest import AGENT, NODE, RFC_SECRET, linked_directory
from get_totp_code import MAX_HOST_MESSAGE_CHARS, Call, Denied, Unavailable, User

SECRET_MARK = "S3CRET-JBSWY3DPEHPK3PXP"
#: "Host error: " and a message of at most MAX_HOST_MESSAGE_CHARS, plus "…"
#: where it was cut.
MAX_ERROR_CHARS = len("Host error: ") + MAX_HOST_MESSAGE_CHARS + 1
TEN_MIB = "x" * (10 << 20)


class Hostile:
    """The linked directory, with `method` replaced by `behaviour`."""

    def __init__(self, method, behaviour):
        self.inner = linked_directory()
        self.method = method
        self.behaviour = behaviour

    def _answer(self, method, *args):
        if method == self.method:
            return self.behaviour()
        return getattr(self.inner, method)(*args)

    def find_user(self, username):
        return self._answer("find_user", username)

    def workflow_slug(self, workflow_id):
        return self._answer("workflow_slug", workflow_id)

    def edge_targets(self, workflow_id, source, label):
        return self._answer("edge_targets", workflow_id, source, label)


def raise_(error):
    def behaviour():
        raise error
    return behaviour


def returns(value):
    return lambda: value


HOSTILE = {
    "find_user": {
        "RuntimeError": raise_(RuntimeError(f"db said {SECRET_MARK}")),
        "ValueError": raise_(ValueError(SECRET_MARK)),
        "dict": returns({"name": AGENT, "secret": SECRET_MARK}),
        "dict_int_is_agent": returns({"username": AGENT, "is_agent": 1, "totp_secret": SECRET_MARK}),
        "dict_bytes_secret": returns({"username": AGENT, "is_agent": True, "totp_secret": SECRET_MARK.encode()}),
        "int": returns(42),
        "bytes": returns(SECRET_MARK.encode()),
        "str": returns(SECRET_MARK),
        "object": returns(object()),
        "10MiB_username": returns(User(TEN_MIB, True, RFC_SECRET)),
        "10MiB_secret": returns(User(AGENT, True, TEN_MIB)),
        "Unavailable_10MiB": raise_(Unavailable(TEN_MIB)),
    },
    "workflow_slug": {
        "RuntimeError": raise_(RuntimeError(SECRET_MARK)),
        "dict": returns({"slug": SECRET_MARK}),
        "int": returns(7),
        "bytes": returns(SECRET_MARK.encode()),
        "10MiB": returns(TEN_MIB),
    },
    "edge_targets": {
        "RuntimeError": raise_(RuntimeError(SECRET_MARK)),
        "None": returns(None),
        "dict": returns({"agent_abc123": SECRET_MARK}),
        "int": returns(3),
        "bytes": returns(SECRET_MARK.encode()),
        "str": returns(SECRET_MARK),
        "list_of_bytes": returns([SECRET_MARK.encode()]),
        "generator": returns(iter(["agent_abc123"])),
        "10MiB": returns([TEN_MIB]),
        "100k_targets": returns([f"agent_{i}" for i in range(100_000)]),
    },
}

CASES = [(method, name) for method, behaviours in HOSTILE.items() for name in behaviours]


@pytest.mark.parametrize("method,name", CASES, ids=[f"{m}-{n}" for m, n in CASES])
def test_a_hostile_directory_gives_a_json_error(tool, method, name):
    directory = Hostile(method, HOSTILE[method][name])
    # By username for find_user; auto-resolve so that the graph is read.
    username = AGENT if method == "find_user" else ""
    for run in (
        lambda call: tool.get_totp_code(call, username),
        lambda call: tool.invoke(call, json.dumps({"username": username})),
    ):
        text = run(Call(directory, node=NODE, time=59, policy="unrestricted"))
        out = json.loads(text)
        assert out["success"] is False, text[:300]
        assert out["error_code"] in {"host_error", "ambiguous_agent", "invalid_secret",
                                     "user_not_found"}, text[:300]
        assert SECRET_MARK not in text
        assert len(out["error"]) <= MAX_ERROR_CHARS
        assert "Traceback" not in text


def test_wrong_types_are_named_not_quoted(tool):
    cases = [
        ("find_user", returns({"name": SECRET_MARK}), "find_user returned a mapping without 'username'"),
        ("find_user", returns(42), "find_user returned an int where a User"),
        ("find_user", raise_(RuntimeError(SECRET_MARK)), "find_user raised RuntimeError"),
        ("workflow_slug", returns(7), "workflow_slug returned an int"),
        ("edge_targets", returns(None), "edge_targets returned a NoneType"),
    ]
    for method, behaviour, message in cases:
        username = AGENT if method == "find_user" else ""
        out = json.loads(tool.get_totp_code(Call(Hostile(method, behaviour), node=NODE, time=59), username))
        assert out["error_code"] == "host_error"
        assert message in out["error"], out["error"]


@pytest.mark.parametrize("method", ["find_user", "workflow_slug", "edge_targets"])
def test_denied_from_any_lookup_is_access_denied(tool, method):
    directory = Hostile(method, raise_(Denied()))
    call = Call(directory, node=NODE, time=59, policy="unrestricted")
    out = json.loads(tool.get_totp_code(call, ""))
    assert out["error_code"] == "access_denied"


@pytest.mark.parametrize("error", [KeyboardInterrupt, SystemExit])
@pytest.mark.parametrize("method", ["find_user", "workflow_slug", "edge_targets"])
def test_interrupts_end_the_call_and_are_re_raised(tool, method, error):
    calls = []

    def interrupted():
        calls.append(method)
        raise error()

    directory = Hostile(method, interrupted)
    with pytest.raises(error):
        tool.get_totp_code(Call(directory, node=NODE, time=59, policy="unrestricted"), "")
    assert calls == [method]
    # The tool is unharmed: the next call works.
    out = json.loads(tool.get_totp_code(Call(linked_directory(), time=59), AGENT))
    assert out["totp_code"] == "287082"


def test_unavailable_message_reaches_the_agent_capped(tool):
    directory = Hostile("find_user", raise_(Unavailable("store offline " + "y" * 500)))
    out = json.loads(tool.get_totp_code(Call(directory, time=59), AGENT))
    assert out["error_code"] == "host_error"
    assert out["error"].startswith("Host error: store offline ")
    assert len(out["error"]) <= MAX_ERROR_CHARS
