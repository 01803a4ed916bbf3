"""Drop-in replacement for Pipelit's `components/get_totp_code.py`: the same
`@register("get_totp_code")` factory and `@tool` signature, but the code is
made by the sandboxed get_totp_code component (the `get_totp_code`
package), and the lookups are answered from the platform's own SQLAlchemy
session.

Copy it over the platform's file. It imports the platform's classes from
where the platform defines them: `UserProfile` from `models.user`,
`Workflow` from `models.workflow`, `WorkflowEdge` from `models.node`.
What maps onto the platform:

- users: `UserProfile` (username, is_agent, totp_secret). "Is an agent" is
  the profile's `is_agent`, which the platform sets on the users it creates
  for agent nodes (`agent_{workflow slug}_{agent node id}`); people's
  profiles are never agents, so they never get a code.
- graph: `Workflow.slug` by integer id, and the targets of the tool node's
  `WorkflowEdge`s labelled "tool" (the agent using this tool).
- sessions: `SessionLocal()` from the platform's `database` module, looked
  up at each call (so the platform's tests can patch it), opened at the
  first lookup (so a database that cannot be reached is a `host_error`
  result like any other lookup failure) and closed after the call.

The access policy is `ACCESS_POLICY` below; every call is recorded through
the platform's logging (`record`, below).
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Literal, Optional, Protocol, Union

from langchain_core.tools import BaseTool, tool
from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from components import register
from database import SessionLocal
from get_totp_code import Call, TotpTool, User
from models.node import WorkflowEdge
from models.user import UserProfile
from models.workflow import Workflow

#: Whose codes a tool node may get. "own_workflow" (the safe default): only
#: the agents of the node's own workflow. "any_agent" reproduces the
#: platform's old tool, which let any tool node read any agent's code.
ACCESS_POLICY: Literal["own_workflow", "any_agent", "unrestricted"] = "own_workflow"

#: Every call's audit event (who asked, for whom, the outcome; never the
#: code or the secret) goes to the platform's own logging, where its
#: handlers ship it with the rest of the platform's records.
AUDIT_LOG = logging.getLogger("pipelit.get_totp_code.audit")


def record(event: Dict[str, Any]) -> None:
    """The audit sink: one log record per call, the event as its message
    (JSON) and as `extra` fields for structured handlers. Should the record
    raise, the call hands out no code (`host_error`)."""
    AUDIT_LOG.info(json.dumps(event, sort_keys=True), extra={"audit_event": event})


#: Compiled once per process; shared by every node's tool and every thread.
TOOL = TotpTool(audit=record)
#: The description an LLM reads: the component's own.
DESCRIPTION: str = json.loads(TOOL.describe())["description"]

# Core statements built once, with bound parameters, run on the session's
# connection: the tool needs three columns, not ORM entities, and neither
# building a statement nor loading an entity is paid per lookup.
_users = UserProfile.__table__.c
_workflows = Workflow.__table__.c
_edges = WorkflowEdge.__table__.c
_USER = select(_users.username, _users.is_agent, _users.totp_secret).where(
    _users.username == bindparam("username")
)
_SLUG = select(_workflows.slug).where(_workflows.id == bindparam("id"))
_TARGETS = (
    select(_edges.target_node_id)
    .where(
        _edges.workflow_id == bindparam("workflow_id"),
        _edges.source_node_id == bindparam("source"),
        _edges.edge_label == bindparam("label"),
    )
    .order_by(_edges.id)
)


class SessionDirectory:
    """The directory protocol over one platform session, opened lazily."""

    def __init__(self) -> None:
        self._db: Optional[Session] = None

    def _connection(self) -> Connection:
        if self._db is None:
            self._db = SessionLocal()
        return self._db.connection()

    def close(self) -> None:
        if self._db is not None:
            # Runs after the result is made: a failing close (a rollback on
            # a dropped connection) must not replace it with an exception.
            try:
                self._db.close()
            except Exception:  # noqa: BLE001 -- nothing to tell the agent
                pass

    def find_user(self, username: str) -> Optional[User]:
        row = self._connection().execute(_USER, {"username": username}).first()
        if row is None:
            return None
        return User(row.username, bool(row.is_agent), row.totp_secret)

    def workflow_slug(self, workflow_id: str) -> Optional[str]:
        if not workflow_id.isdigit():
            return None  # the platform's ids are integers
        # The column is text (or NULL); the platform's model says so.
        slug: Optional[str] = (
            self._connection().execute(_SLUG, {"id": int(workflow_id)}).scalar()
        )
        return slug

    def edge_targets(self, workflow_id: str, source_node_id: str, label: str) -> List[str]:
        if not workflow_id.isdigit():
            return []
        rows = self._connection().execute(
            _TARGETS,
            {"workflow_id": int(workflow_id), "source": source_node_id, "label": label},
        )
        targets: List[str] = list(rows.scalars())
        return targets


class ToolNode(Protocol):
    """What the factory reads of the platform's node."""

    @property
    def workflow_id(self) -> Union[int, str]: ...

    @property
    def node_id(self) -> str: ...


@register("get_totp_code")
def get_totp_code_factory(node: ToolNode) -> BaseTool:
    """The tool for one `get_totp_code` node of a workflow."""
    where = (node.workflow_id, node.node_id)

    @tool("get_totp_code", description=DESCRIPTION)
    def get_totp_code(username: str = "") -> str:
        directory = SessionDirectory()
        try:
            return TOOL.get_totp_code(
                Call(directory, node=where, policy=ACCESS_POLICY), username
            )
        finally:
            directory.close()

    return get_totp_code
