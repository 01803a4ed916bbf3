"""examples/pipelit_get_totp_code.py against an in-memory SQLAlchemy model
of the platform's three tables (tests/fake_pipelit: `database`, `models`,
`components`), codes checked with pyotp."""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import pyotp
import pytest

from conftest import random_secret

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "fake_pipelit"))

import components  # noqa: E402
import database  # noqa: E402
from models.user import UserProfile  # noqa: E402
from models.node import WorkflowEdge  # noqa: E402
from models.workflow import Workflow  # noqa: E402


def load_example():
    spec = importlib.util.spec_from_file_location(
        "pipelit_get_totp_code", HERE.parent / "examples" / "pipelit_get_totp_code.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXAMPLE = load_example()
WORKFLOW_ID = 7
SECRET = random_secret()
OTHER_SECRET = random_secret()


@pytest.fixture(autouse=True)
def platform_db():
    database.Base.metadata.drop_all(database.engine)
    database.Base.metadata.create_all(database.engine)
    db = database.SessionLocal()
    db.add_all([
        Workflow(id=WORKFLOW_ID, slug="support-flow"),
        Workflow(id=8, slug=None),
        WorkflowEdge(workflow_id=WORKFLOW_ID, source_node_id="totp_1",
                     target_node_id="agent_node_1", edge_label="tool"),
        WorkflowEdge(workflow_id=WORKFLOW_ID, source_node_id="agent_node_1",
                     target_node_id="totp_1", edge_label=""),
        UserProfile(username="agent_support-flow_agent_node_1", is_agent=True, totp_secret=SECRET),
        # The fallback name for an unlinked tool: the workflow id and the
        # tool node itself (the reference platform's rule).
        UserProfile(username="agent_7_totp_2", is_agent=True, totp_secret=OTHER_SECRET),
        UserProfile(username="agent_support-flow_nosecret", is_agent=True, totp_secret=None),
        UserProfile(username="agent_support-flow_person", is_agent=False, totp_secret=SECRET),
    ])
    db.commit()
    db.close()
    yield


def node_tool(node_id, workflow_id=WORKFLOW_ID):
    factory = components.REGISTRY["get_totp_code"]
    return factory(SimpleNamespace(workflow_id=workflow_id, node_id=node_id))


def run(tool, **arguments):
    before = time.time()
    out = json.loads(tool.invoke(arguments))
    return out, before, time.time()


def assert_code(out, secret, before, after):
    assert out["success"] is True, out
    assert out["totp_code"] in {pyotp.TOTP(secret).at(before), pyotp.TOTP(secret).at(after)}


def test_registered_as_the_platform_component():
    tool = node_tool("totp_1")
    assert tool.name == "get_totp_code"
    assert "username" in tool.args


def test_by_username():
    out, before, after = run(node_tool("totp_1"), username="agent_support-flow_agent_node_1")
    assert_code(out, SECRET, before, after)


def test_auto_resolve_through_the_tool_edge():
    out, before, after = run(node_tool("totp_1"))
    assert out["username"] == "agent_support-flow_agent_node_1"
    assert_code(out, SECRET, before, after)


def test_no_edge_falls_back_to_the_tool_node():
    out, before, after = run(node_tool("totp_2"))
    assert out["username"] == "agent_7_totp_2"
    assert_code(out, OTHER_SECRET, before, after)


def test_not_found_and_people():
    for username in ("agent_support-flow_nobody", "agent_support-flow_person"):
        out, _, _ = run(node_tool("totp_1"), username=username)
        assert out["success"] is False
        assert out["error_code"] in {"user_not_found", "access_denied"}
        assert "totp_code" not in out


def test_another_workflows_agent_is_refused():
    out, _, _ = run(node_tool("totp_9", workflow_id=8), username="agent_support-flow_agent_node_1")
    assert out["error_code"] == "access_denied"


def test_the_policy_line_is_the_safe_default_and_any_agent_widens_it():
    assert EXAMPLE.ACCESS_POLICY == "own_workflow"
    with mock.patch.object(EXAMPLE, "ACCESS_POLICY", "any_agent"):
        out, before, after = run(
            node_tool("totp_9", workflow_id=8), username="agent_support-flow_agent_node_1"
        )
        assert_code(out, SECRET, before, after)
        # Still never a person's code.
        out, _, _ = run(node_tool("totp_9", workflow_id=8), username="agent_support-flow_person")
        assert out["success"] is False and "totp_code" not in out


def test_the_model_has_the_platforms_module_layout():
    # The platform defines WorkflowEdge in models.node; an import of it from
    # models.workflow fails there, and must fail here too.
    import models.workflow

    assert not hasattr(models.workflow, "WorkflowEdge")
    assert WorkflowEdge.__module__ == "models.node"
    assert Workflow.__module__ == "models.workflow"
    assert UserProfile.__module__ == "models.user"


def test_every_call_is_recorded_through_the_platforms_logging(caplog):
    with caplog.at_level(logging.INFO, logger="pipelit.get_totp_code.audit"):
        out, _, _ = run(node_tool("totp_1"))
        refused, _, _ = run(node_tool("totp_1"), username="agent_support-flow_person")
    events = [record.audit_event for record in caplog.records]
    assert [e["outcome"] for e in events] == ["issued", refused["error_code"]]
    assert events[0]["username_resolved"] == "agent_support-flow_agent_node_1"
    assert (events[0]["workflow_id"], events[0]["node_id"]) == (str(WORKFLOW_ID), "totp_1")
    logged = caplog.text + json.dumps(events)
    assert out["totp_code"] not in logged and SECRET not in logged


def test_no_secret():
    out, _, _ = run(node_tool("totp_1"), username="agent_support-flow_nosecret")
    assert out["error_code"] == "no_totp_secret"


def test_database_exception_is_a_host_error():
    from sqlalchemy.exc import OperationalError

    def broken():
        raise OperationalError("SELECT secret", {"secret": SECRET}, Exception("database is locked"))

    with mock.patch.object(EXAMPLE, "SessionLocal", broken):
        out, _, _ = run(node_tool("totp_1"))
    assert out["error_code"] == "host_error"
    assert "OperationalError" in out["error"]
    assert SECRET not in json.dumps(out)


def test_a_failing_query_is_a_host_error():
    class FailingSession:
        def connection(self):
            raise RuntimeError(f"connection lost while reading {SECRET}")

        def close(self):
            pass

    with mock.patch.object(EXAMPLE, "SessionLocal", FailingSession):
        out, _, _ = run(node_tool("totp_1"), username="agent_support-flow_agent_node_1")
    assert out["error_code"] == "host_error"
    assert SECRET not in json.dumps(out)
