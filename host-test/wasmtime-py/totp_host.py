"""A Python host for the get_totp_code component (wasmtime-py, component API).

The same contract as the Rust reference host `totp-host`: the component's
three imports (`agent-tools:totp/secrets`, `agent-tools:totp/workflow`,
`wasi:clocks/wall-clock`) are implemented here in Python over the documented
SQLite schema (stdlib `sqlite3`), and every call runs in a fresh store and
instance.

As a library::

    tool = TotpTool()                                  # compile + link once
    directory = SqliteDirectory("store.sqlite3")
    print(tool.get_totp_code(Call(directory, node=("wf-1", "tool_totp")), ""))

As a command (same JSON and exit status as `totp-host`: 0 success, 1 tool
failure, 2 usage or start-up error)::

    python host-test/wasmtime-py/totp_host.py --db store.sqlite3 get-totp-code \
        [--username U] [--workflow ID --node N] [--at UNIX_SECONDS]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Protocol, Sequence

import wasmtime
from wasmtime.component import Component, Linker, Record, Variant

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Where `cargo build -p totp-host` writes the component; the environment
#: variable GET_TOTP_CODE_COMPONENT overrides it (another CARGO_TARGET_DIR).
DEFAULT_COMPONENT = Path(
    os.environ.get("GET_TOTP_CODE_COMPONENT")
    or REPO_ROOT / "target" / "guest" / "get_totp_code.component.wasm"
)

#: How totp-host marks a secret it sealed with its store key.
SEALED_PREFIX = "enc:v1:"

SECRETS = "agent-tools:totp/secrets@0.2.0"
WORKFLOW = "agent-tools:totp/workflow@0.2.0"
WALL_CLOCK = "wasi:clocks/wall-clock@0.2.0"

#: The reference store's schema, host-test/schema.sql (the one definition).
SCHEMA = (Path(__file__).resolve().parents[1] / "schema.sql").read_text()


class Denied(Exception):
    """The access policy refuses the lookup (the tool says `access_denied`)."""


class Unavailable(Exception):
    """The store could not answer; the message reaches the agent (`host_error`)."""


@dataclass
class User:
    username: str
    is_agent: bool
    totp_secret: Optional[str]


class Directory(Protocol):
    """What a platform plugs in: users and the workflow graph."""

    def find_user(self, username: str) -> Optional[User]: ...

    def workflow_slug(self, workflow_id: str) -> Optional[str]: ...

    def edge_targets(self, workflow_id: str, source: str, label: str) -> list[str]: ...


class SqliteDirectory:
    """The reference store: the README's schema, created when missing."""

    def __init__(self, path: str | Path = ":memory:"):
        self.connection = sqlite3.connect(str(path), check_same_thread=False)
        self.connection.executescript(SCHEMA)

    def put_user(self, username: str, is_agent: bool, totp_secret: Optional[str]) -> None:
        with self.connection:
            self.connection.execute(
                "INSERT OR REPLACE INTO users (username, is_agent, totp_secret) VALUES (?, ?, ?)",
                (username, int(is_agent), totp_secret),
            )

    def put_workflow(self, workflow_id: str, slug: Optional[str]) -> None:
        with self.connection:
            self.connection.execute(
                "INSERT INTO workflows (id, slug) VALUES (?, ?) "
                "ON CONFLICT (id) DO UPDATE SET slug = excluded.slug",
                (workflow_id, slug),
            )

    def put_edge(self, workflow_id: str, source: str, target: str, label: str) -> None:
        with self.connection:
            self.connection.execute(
                "INSERT INTO workflow_edges "
                "(workflow_id, source_node_id, target_node_id, edge_label) VALUES (?, ?, ?, ?)",
                (workflow_id, source, target, label),
            )

    def import_tables(self, tables: dict) -> None:
        """Writes rows given as {table: [{column: value}]}, with the schema's
        own table and column names (a conformance case's `store`)."""
        known = {row[0] for row in self.connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        with self.connection:
            for table, rows in tables.items():
                if table not in known:
                    raise ValueError(f"no table {table!r} in the schema")
                for row in rows:
                    columns = ", ".join(f'"{column}"' for column in row)
                    marks = ", ".join("?" for _ in row)
                    self.connection.execute(
                        f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', tuple(row.values()))

    def _query(self, sql: str, params: tuple) -> list[tuple]:
        try:
            return self.connection.execute(sql, params).fetchall()
        except sqlite3.Error as error:
            raise Unavailable(f"store query failed: {error}") from None

    def find_user(self, username: str) -> Optional[User]:
        rows = self._query(
            "SELECT username, is_agent, totp_secret FROM users WHERE username = ?", (username,)
        )
        if not rows:
            return None
        name, is_agent, secret = rows[0]
        if secret is not None and secret.startswith(SEALED_PREFIX):
            # Sealed by totp-host (host-test/docs/security.md, *Secrets at rest*): this host does
            # not hold the key, so it reads plain-text stores only.
            raise Unavailable("cannot decrypt the stored secret (sealed secrets need totp-host)")
        return User(name, bool(is_agent or 0), secret)

    def workflow_slug(self, workflow_id: str) -> Optional[str]:
        rows = self._query("SELECT slug FROM workflows WHERE id = ?", (workflow_id,))
        return rows[0][0] if rows else None

    def edge_targets(self, workflow_id: str, source: str, label: str) -> list[str]:
        rows = self._query(
            "SELECT target_node_id FROM workflow_edges WHERE workflow_id = ? "
            "AND source_node_id = ? AND edge_label = ? ORDER BY rowid",
            (workflow_id, source, label),
        )
        return [row[0] for row in rows]


@dataclass
class Call:
    """Everything one tool call may see."""

    directory: Directory
    #: The calling tool node as (workflow_id, node_id); None outside a workflow.
    node: Optional[tuple[str, str]] = None
    #: Fixed Unix time in seconds; None reads the system clock.
    time: Optional[int] = None


def _record(**fields) -> Record:
    record = Record()
    for name, value in fields.items():
        setattr(record, name.replace("_", "-"), value)
    return record


class TotpTool:
    """The compiled component; each call gets a fresh store and instance.

    The imports are defined once on the linker and read the call being served
    from `self._call`, so one TotpTool serves one call at a time (a lock
    enforces it); use one per thread for parallel calls.
    """

    def __init__(self, component_path: str | Path = DEFAULT_COMPONENT):
        self.engine = wasmtime.Engine()
        self.component = Component.from_file(self.engine, str(component_path))
        self.linker = Linker(self.engine)
        self._lock = threading.Lock()
        self._call: Optional[Call] = None
        #: A KeyboardInterrupt/SystemExit a lookup raised, for after the call.
        self._interrupt: Optional[BaseException] = None
        self._define_imports()

    def _define_imports(self) -> None:
        root = self.linker.root()
        with root.add_instance(SECRETS) as secrets:
            secrets.add_func("find-user", self._find_user)
        with root.add_instance(WORKFLOW) as workflow:
            workflow.add_func("current-node", self._current_node)
            workflow.add_func("workflow-slug", self._workflow_slug)
            workflow.add_func("edge-targets", self._edge_targets)
        with root.add_instance(WALL_CLOCK) as clock:
            clock.add_func("now", self._now)
            clock.add_func("resolution", lambda _store: _record(seconds=0, nanoseconds=1_000_000))
        root.close()

    # The value conventions of wasmtime-py: `result<option<T>, E>` and
    # `result<option<string>, E>` are tagged (`Variant("ok"/"err", payload)`)
    # because their cases overlap in Python types; `result<list<string>, E>`
    # is untagged (a list is ok, an error payload is err). `option<T>` is T
    # or None; a variant whose cases have distinct types is untagged too:
    # `lookup-error` and `graph-error` are None for `denied` and the message
    # str for `unavailable`.
    #
    # Nothing a directory does escapes as an exception (wasmtime-py would
    # raise it out of the call): a wrong type or another exception fails the
    # lookup with a short message naming the method and the type only (the
    # value or the exception's text may hold a secret). KeyboardInterrupt and
    # SystemExit fail it too and are re-raised after the call.

    def _lookup(self, method: str, args: tuple, convert):
        """(ok, answer): the directory's answer passed through `convert`, or
        the `lookup-error` / `graph-error` payload (None for denied, else the
        message). `convert` runs under the same guard as the method: reading
        a mapping or a list may run the directory's code too."""
        if self._interrupt is not None:
            return False, "the call was interrupted"
        try:
            return True, convert(getattr(self._call.directory, method)(*args))
        except _WrongAnswer as wrong:
            return False, f"the directory's {method} returned {wrong.what}"
        except Denied:
            return False, None
        except Unavailable as error:
            return False, _unavailable_message(error)
        except Exception as error:  # noqa: BLE001 -- any failure is the directory's
            return False, f"the directory's {method} raised {type(error).__name__}"
        except BaseException as error:  # KeyboardInterrupt, SystemExit...
            self._interrupt = error
            return False, "the call was interrupted"

    def _find_user(self, _store, username: str):
        ok, user = self._lookup("find_user", (username,), _user_record)
        return Variant("ok" if ok else "err", user)

    def _current_node(self, _store):
        node = self._call.node
        if node is None:
            return None
        # Ids may be ints (a platform's integer primary keys): passed as text.
        return _record(workflow_id=str(node[0]), node_id=str(node[1]))

    def _workflow_slug(self, _store, workflow_id: str):
        ok, slug = self._lookup("workflow_slug", (workflow_id,), _slug)
        return Variant("ok" if ok else "err", slug)

    def _edge_targets(self, _store, workflow_id: str, source: str, label: str):
        # result<list<string>, E> is untagged: a list is ok, a str is err.
        return self._lookup("edge_targets", (workflow_id, source, label), _node_ids)[1]

    def _now(self, _store):
        if self._call.time is not None:
            return _record(seconds=self._call.time, nanoseconds=0)
        now = time.time_ns()
        return _record(seconds=now // 1_000_000_000, nanoseconds=now % 1_000_000_000)

    def _call_export(self, call: Call, export: str, *args) -> str:
        with self._lock:
            self._call = call
            self._interrupt = None
            try:
                store = wasmtime.Store(self.engine)
                instance = self.linker.instantiate(store, self.component)
                func = instance.get_func(store, export)
                result = func(store, *args)
                func.post_return(store)
            finally:
                self._call = None
            if self._interrupt is not None:
                interrupt, self._interrupt = self._interrupt, None
                raise interrupt
            return result

    def _run(self, call: Call, export: str, *args) -> str:
        try:
            return self._call_export(call, export, *args)
        except wasmtime.WasmtimeError as error:
            # A trap or a link error: still the JSON shape promised.
            return self._host_error(str(error))

    def _host_error(self, message: str) -> str:
        """The `host_error` result for a failure of the call itself, rendered
        by the guest (a lookup that fails with `message`), so that it reads
        exactly like every other host error."""
        try:
            return self._call_export(Call(_FailingDirectory(message)), "get-totp-code", "-")
        except wasmtime.WasmtimeError:
            raise RuntimeError(f"the component cannot run: {message}") from None

    def get_totp_code(self, call: Call, username: str = "") -> str:
        return self._run(call, "get-totp-code", username)

    def invoke(self, call: Call, arguments: str) -> str:
        return self._run(call, "invoke", arguments)

    def describe(self) -> str:
        return self._run(Call(SqliteDirectory()), "describe")


class _FailingDirectory:
    """A directory whose every lookup is unavailable with one message."""

    def __init__(self, message: str):
        self.message = message

    def find_user(self, username: str) -> Optional[User]:
        raise Unavailable(self.message)

    def workflow_slug(self, workflow_id: str) -> Optional[str]:
        raise Unavailable(self.message)

    def edge_targets(self, workflow_id: str, source: str, label: str) -> list[str]:
        raise Unavailable(self.message)


def _a(value: object) -> str:
    """"a dict", "an int": the type's name, never the value."""
    name = type(value).__name__
    return f"an {name}" if name[:1] in "aeiou" else f"a {name}"


class _WrongAnswer(Exception):
    """A directory answered with the wrong type; `what` names types only."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


def _unavailable_message(error: Unavailable) -> str:
    """`Unavailable("message")`'s message; any other argument (a database
    error, several values) reads as "unavailable", as in the package: its
    text may hold a query's parameters."""
    first = error.args[0] if error.args else None
    return first if isinstance(first, str) else "unavailable"


def _user_record(user: object):
    """The WIT `user` of a `User` or a mapping with its keys, or None."""
    if user is None:
        return None
    if isinstance(user, User):
        fields = {"username": user.username, "is_agent": user.is_agent,
                  "totp_secret": user.totp_secret}
    elif isinstance(user, Mapping):
        if "username" not in user or "is_agent" not in user:
            raise _WrongAnswer("a mapping without 'username' and 'is_agent'")
        fields = {"username": user["username"], "is_agent": user["is_agent"],
                  "totp_secret": user.get("totp_secret")}
    else:
        raise _WrongAnswer(f"{_a(user)} where a User, a mapping or None was expected")
    if not isinstance(fields["username"], str):
        raise _WrongAnswer(f"{_a(fields['username'])} where a str username was expected")
    if not isinstance(fields["is_agent"], bool):
        raise _WrongAnswer(f"{_a(fields['is_agent'])} where a bool is_agent was expected")
    if fields["totp_secret"] is not None and not isinstance(fields["totp_secret"], str):
        raise _WrongAnswer(f"{_a(fields['totp_secret'])} where a str secret or None was expected")
    return _record(**fields)


def _slug(slug: object):
    if slug is not None and not isinstance(slug, str):
        raise _WrongAnswer(f"{_a(slug)} where a str slug or None was expected")
    return slug


def _node_ids(targets: object):
    """Node ids as text (a platform's integer keys included)."""
    if not isinstance(targets, (list, tuple)) or not all(
            isinstance(t, (str, int)) and not isinstance(t, bool) for t in targets):
        raise _WrongAnswer(f"{_a(targets)} where a list of node ids (str or int) was expected")
    return [str(target) for target in targets]


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="totp_host.py", description="Python host for the get_totp_code component."
    )
    parser.add_argument("--db", metavar="PATH", help="SQLite store (created when missing)")
    parser.add_argument(
        "--component", metavar="PATH", default=str(DEFAULT_COMPONENT), help="the component .wasm"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    get = commands.add_parser("get-totp-code", help="print the TOTP code of an agent user as JSON")
    get.add_argument("--username", default="")
    get.add_argument("--workflow", metavar="ID")
    get.add_argument("--node", metavar="NODE_ID")
    get.add_argument("--at", metavar="UNIX_SECONDS", type=int)
    commands.add_parser("describe", help="print the tool definition")
    args = parser.parse_args(argv)

    if args.command == "get-totp-code":
        if (args.workflow is None) != (args.node is None):
            parser.error("--workflow and --node go together")
        if args.at is not None and args.at < 0:
            parser.error("--at must be a Unix time >= 0")
        if args.db is None:
            parser.error("--db PATH is required")
    try:
        tool = TotpTool(args.component)
        if args.command == "describe":
            print(tool.describe())
            return 0
        directory = SqliteDirectory(args.db)
    except Exception as error:  # start-up failure: no component, bad store
        print(f"totp_host.py: {error}", file=sys.stderr)
        return 2
    node = (args.workflow, args.node) if args.workflow is not None else None
    result = tool.get_totp_code(Call(directory, node=node, time=args.at), args.username)
    print(result)
    try:
        success = json.loads(result).get("success") is True
    except ValueError:
        success = False
    return 0 if success else 1


if __name__ == "__main__":
    sys.exit(main())
