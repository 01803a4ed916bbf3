"""The get_totp_code agent tool: an agent user's current RFC 6238 code as
JSON, computed by a sandboxed WebAssembly component that the Rust reference
host (wasmtime) runs in a fresh instance for every call.

    from get_totp_code import TotpTool, Call
    tool = TotpTool(audit="audit.jsonl")                 # once per process
    call = Call(directory, node=(workflow_id, node_id))  # node may be None
    tool.get_totp_code(call, "agent_my-flow_agent_1")    # JSON text
    tool.invoke(call, '{"username": ""}')                # raw LLM arguments
    tool.describe()                                      # tool definition

The directory protocol (any object with these three methods; typed as
the `typing.Protocol` `Directory`):

    find_user(username: str) -> User | Mapping | None
        The user named exactly `username`, as a `User` or a mapping with the
        keys "username" (str), "is_agent" (bool) and "totp_secret" (str or
        None; may be missing); None when there is no such user.
    workflow_slug(workflow_id: str) -> str | None
        The workflow's slug; None when it has none or is unknown.
    edge_targets(workflow_id: str, source_node_id: str, label: str) -> list[str]
        Target node ids (str or int) of the edges labelled `label` that
        leave `source_node_id`, in order (a list or a tuple).

Ids reach the directory as text (`Call` accepts int ids and passes them as
their decimal text). A lookup may raise `Denied` (the result is
`access_denied`) or `Unavailable("message for the agent")` (`host_error`).
Anything else a directory does wrong -- another exception, a wrong type --
gives a `host_error` result with a short message naming the method and the
type, never the value or the exception's text. `KeyboardInterrupt` and
`SystemExit` end the call and are re-raised by `get_totp_code`/`invoke`.

`audit` (required) is where each call's event goes, the Rust host's events
with the same fields (never the code or the secret): None (off), a
`SqliteDirectory` (its store's `audit_events` table), a path (JSON lines),
a writable text stream, or a callable taking each event as a dict. A sink
that raises means no code: the result is `host_error` "audit log
unavailable".

The package is typed (`py.typed`; the native module's stubs are
`_native.pyi`), and `__version__` is the distribution's version.
"""

from ._native import (
    MAX_HOST_MESSAGE_CHARS,
    Call,
    Denied,
    SqliteDirectory,
    TotpTool,
    Unavailable,
    User,
    __version__,
)
from ._protocols import Directory

__all__ = [
    "MAX_HOST_MESSAGE_CHARS",
    "Call",
    "Denied",
    "Directory",
    "SqliteDirectory",
    "TotpTool",
    "Unavailable",
    "User",
    "__version__",
]
