"""The protocols of the objects a platform hands the native module: the
directory `Call` reads (re-exported as `get_totp_code.Directory`) and the
text stream `TotpTool(audit=...)` may write to. Typing only: the native
module checks for the methods, not for these classes."""

from __future__ import annotations

from typing import (
    TYPE_CHECKING,
    List,
    Mapping,
    Optional,
    Protocol,
    Tuple,
    Union,
    runtime_checkable,
)

if TYPE_CHECKING:
    from ._native import User

#: What `Directory.edge_targets` returns: a list or a tuple of node ids,
#: each a `str` or an `int` (passed on as its decimal text). Lists are
#: spelled out because `list` is invariant: a `list[str]` is not a
#: `list[str | int]`.
EdgeTargets = Union[
    List[str], List[int], List[Union[str, int]], Tuple[Union[str, int], ...]
]


@runtime_checkable
class Directory(Protocol):
    """Where a call's lookups are answered (`Call(directory, ...)`): any
    object with these three methods, or a `SqliteDirectory`. Each may raise
    `Denied` (the result is `access_denied`) or `Unavailable("message for
    the agent")` (`host_error`). The methods are called with positional
    arguments, always `str`."""

    def find_user(self, username: str, /) -> Union[User, Mapping[str, object], None]:
        """The user named exactly `username`: a `User`, or a mapping with
        the keys "username" (str), "is_agent" (bool) and "totp_secret" (str
        or None; may be missing); None when there is no such user."""
        ...

    def workflow_slug(self, workflow_id: str, /) -> Optional[str]:
        """The workflow's slug; None when it has none or is unknown."""
        ...

    def edge_targets(
        self, workflow_id: str, source_node_id: str, label: str, /
    ) -> EdgeTargets:
        """Target node ids of the edges labelled `label` that leave
        `source_node_id`, in order."""
        ...


class AuditStream(Protocol):
    """A text stream as `audit=`: each event is written as one JSON line,
    then `flush()` is called if the stream has it."""

    def write(self, text: str, /) -> object: ...
