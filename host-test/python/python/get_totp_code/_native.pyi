# Stubs for the native module (host-test/python/src/*.rs). Checked against
# the built module by `python -m mypy.stubtest get_totp_code._native`
# (tests/test_typing.py), so they cannot drift from it.

import os
from collections.abc import Callable
from typing import Any, Final, Literal, final

from typing_extensions import TypeAlias

from ._protocols import AuditStream, Directory

__all__ = [
    "TotpTool",
    "Call",
    "User",
    "SqliteDirectory",
    "Denied",
    "Unavailable",
    "MAX_HOST_MESSAGE_CHARS",
    "__version__",
]

# The crate's version, which is the distribution's.
__version__: Final[str]
# How much of an `Unavailable` message a `host_error` result shows.
MAX_HOST_MESSAGE_CHARS: Final[int]

_Policy: TypeAlias = Literal["own_workflow", "any_agent", "unrestricted"]
_Id: TypeAlias = str | int
_Audit: TypeAlias = (
    SqliteDirectory
    | str
    | os.PathLike[str]
    | AuditStream
    | Callable[[dict[str, Any]], object]
    | None
)

class Denied(Exception):
    """Raised by a directory that refuses a lookup: the result is `access_denied`."""

class Unavailable(Exception):
    """Raised by a directory that cannot answer; its first argument (a `str`)
    is shown to the agent in a `host_error` result, so no secret in it."""

@final
class User:
    """A user as the platform knows it (what `find_user` may return)."""

    def __new__(cls, username: str, is_agent: bool, totp_secret: str | None = None) -> User: ...
    @property
    def username(self) -> str: ...
    @property
    def is_agent(self) -> bool: ...
    @property
    def totp_secret(self) -> str | None: ...

@final
class SqliteDirectory:
    """The reference store (host-test/schema.sql), read natively; also a
    `Directory`, and an audit sink (its `audit_events` table)."""

    def __new__(cls, path: str | os.PathLike[str], *, key_file: str | os.PathLike[str] | None = None) -> SqliteDirectory: ...
    def find_user(self, username: str) -> User | None: ...
    def workflow_slug(self, workflow_id: str) -> str | None: ...
    def edge_targets(self, workflow_id: str, source_node_id: str, label: str) -> list[str]: ...

@final
class Call:
    """The context of tool calls: the directory, the tool node
    `(workflow_id, node_id)` or None, a fixed Unix time or None (the system
    clock), the access policy, and `min_validity`: a code that expires
    within that many seconds is not handed out, the next period's is (the
    call waits for it, with the GIL released)."""

    def __new__(
        cls,
        directory: Directory,
        node: tuple[_Id, _Id] | None = None,
        *,
        time: int | None = None,
        policy: _Policy = "own_workflow",
        min_validity: int = 0,
    ) -> Call: ...
    @property
    def node(self) -> tuple[str, str] | None: ...

@final
class TotpTool:
    """The compiled component (one per process); every call runs in a fresh
    sandboxed instance with the GIL released."""

    def __new__(
        cls,
        *,
        audit: _Audit,
        memory_limit: int | None = None,
        deadline_ms: int | None = None,
    ) -> TotpTool: ...
    def get_totp_code(self, call: Call, username: str = "") -> str: ...
    def invoke(self, call: Call, arguments: str) -> str: ...
    def describe(self) -> str: ...
