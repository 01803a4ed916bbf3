"""The package's per-call cost, side by side in one process, as ratios.

    python host-test/python/benchmarks/bench.py [--rust target/release/totp-bench]

Run it against a release install (`pip install ./host-test/python[langchain]`
plus pyotp and sqlalchemy). Prints, each the best of several rounds:

- pyotp `TOTP(secret).at(t)`, the floor a pure-Python tool pays;
- the package by username (a fresh sandboxed instance per call, a Python
  dict directory, a new `Call` per call), and auto-resolve (node given, no
  username: five imports), each as a ratio to pyotp;
- with `--rust`, `totp-bench bench`'s fresh-instance figure (the same call
  from Rust) and the ratio of the Python call to it;
- calls/s with 1 and 2 threads on one `TotpTool`, and their ratio;
- the Pipelit drop-in (examples/pipelit_get_totp_code.py) against a
  pure-Python baseline doing what the platform's original tool does (the
  same ORM queries, then pyotp), both over an in-memory SQLite session.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pyotp

from get_totp_code import Call, SqliteDirectory, TotpTool, User

HERE = Path(__file__).resolve().parent
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
AT = 1_700_000_000
AGENT = "agent_bench_agent"


def us_per_call(*functions, calls: int, rounds: int = 9) -> list:
    """Microseconds per call of each function, best of `rounds`. The
    functions' rounds alternate, so that a busy spell of the machine falls
    on all of them and their ratios stay meaningful."""
    for function in functions:
        for _ in range(min(calls, 200)):
            function()
    best = [float("inf")] * len(functions)
    for _ in range(rounds):
        for index, function in enumerate(functions):
            started = time.perf_counter()
            for _ in range(calls):
                function()
            best[index] = min(best[index], (time.perf_counter() - started) / calls)
    return [seconds * 1e6 for seconds in best]


class DictDirectory:
    """A platform's in-memory directory: the plain Python a user writes."""

    def __init__(self):
        self.users = {AGENT: User(AGENT, True, SECRET)}
        self.slugs = {"wf-1": "bench"}
        self.edges = {("wf-1", "tool_totp", "tool"): ["agent"]}

    def find_user(self, username):
        return self.users.get(username)

    def workflow_slug(self, workflow_id):
        return self.slugs.get(workflow_id)

    def edge_targets(self, workflow_id, source_node_id, label):
        return self.edges.get((workflow_id, source_node_id, label), [])


def throughput(tool: TotpTool, directory, threads: int, seconds: float = 1.5) -> float:
    """Calls per second in total with `threads` threads on one tool."""
    counts = [0] * threads
    stop = threading.Event()

    def worker(index):
        n = 0
        while not stop.is_set():
            for _ in range(50):
                tool.get_totp_code(Call(directory, time=AT), AGENT)
            n += 50
        counts[index] = n

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for worker_thread in workers:
        worker_thread.start()
    time.sleep(seconds)
    stop.set()
    for worker_thread in workers:
        worker_thread.join()
    return sum(counts) / seconds


def rust_fresh_instance_us(totp_bench: str) -> float:
    out = subprocess.run([totp_bench, "bench", "--json", "--calls", "20000"],
                         check=True, capture_output=True, text=True).stdout
    figures = {f["mode"]: f["ns_per_call"] for f in json.loads(out)["figures"]}
    return figures["fresh instance (pooling)"] / 1000


def original_factory(node):
    """The platform's pure-Python tool, as the drop-in replaces it: ORM
    queries through `SessionLocal()`, then pyotp (the baseline)."""
    from database import SessionLocal
    from models.user import UserProfile
    from models.node import WorkflowEdge
    from models.workflow import Workflow

    def get_totp_code(username: str = "") -> str:
        db = SessionLocal()
        try:
            if not username:
                workflow = db.query(Workflow).filter(Workflow.id == node.workflow_id).first()
                slug = workflow.slug if workflow and workflow.slug else str(node.workflow_id)
                edge = (db.query(WorkflowEdge)
                        .filter(WorkflowEdge.workflow_id == node.workflow_id,
                                WorkflowEdge.source_node_id == node.node_id,
                                WorkflowEdge.edge_label == "tool")
                        .first())
                username = (f"agent_{slug}_{edge.target_node_id}" if edge
                            else f"agent_{node.workflow_id}_{node.node_id}")
            user = db.query(UserProfile).filter(UserProfile.username == username).first()
            if user is None or not user.is_agent:
                return json.dumps({"success": False, "error": "Agent user not found"})
            if not user.totp_secret:
                return json.dumps({"success": False, "error": "No TOTP secret configured"})
            now = time.time()
            return json.dumps({"success": True, "username": username,
                               "totp_code": pyotp.TOTP(user.totp_secret).at(now),
                               "expires_in": 30 - int(now) % 30})
        finally:
            db.close()

    return get_totp_code


def pipelit_figures(calls: int) -> dict:
    """Drop-in vs baseline per call, by username and auto-resolve, over the
    tests' in-memory SQLAlchemy model of the platform's tables. Both are
    called as LangChain tools (`.invoke`), as the platform does."""
    sys.path.insert(0, str(HERE.parent / "tests" / "fake_pipelit"))
    sys.path.insert(0, str(HERE.parent / "examples"))
    import components
    import database
    from langchain_core.tools import tool as lc_tool
    from models.user import UserProfile
    from models.node import WorkflowEdge
    from models.workflow import Workflow

    import pipelit_get_totp_code  # noqa: F401 -- registers "get_totp_code"

    database.Base.metadata.drop_all(database.engine)
    database.Base.metadata.create_all(database.engine)
    db = database.SessionLocal()
    db.add_all([Workflow(id=7, slug="bench"),
                WorkflowEdge(workflow_id=7, source_node_id="totp_1",
                             target_node_id="agent_1", edge_label="tool"),
                UserProfile(username="agent_bench_agent_1", is_agent=True, totp_secret=SECRET)])
    db.commit()
    db.close()
    node = SimpleNamespace(workflow_id=7, node_id="totp_1")
    drop_in = components.REGISTRY["get_totp_code"](node)
    original = lc_tool("get_totp_code", description=drop_in.description)(original_factory(node))
    for tool in (drop_in, original):
        for arguments in ({}, {"username": "agent_bench_agent_1"}):
            assert json.loads(tool.invoke(arguments))["success"] is True
    by_name = {"username": "agent_bench_agent_1"}
    figures = {}
    for kind, arguments in (("by username", by_name), ("auto-resolve", {})):
        drop_in_us, original_us = us_per_call(
            lambda: drop_in.invoke(arguments), lambda: original.invoke(arguments), calls=calls)
        figures[f"drop-in, {kind}"] = drop_in_us
        figures[f"original, {kind}"] = original_us
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--rust", metavar="TOTP_BENCH", help="totp-bench binary for the Rust figure")
    args = parser.parse_args()

    tool = TotpTool(audit=None)
    directory = DictDirectory()
    expected = pyotp.TOTP(SECRET).at(AT)
    for node, username in ((None, AGENT), (("wf-1", "tool_totp"), "")):
        out = json.loads(tool.get_totp_code(Call(directory, node=node, time=AT), username))
        assert out["totp_code"] == expected, out

    n = args.calls
    pyotp_us, by_username, auto = us_per_call(
        lambda: pyotp.TOTP(SECRET).at(AT),
        lambda: tool.get_totp_code(Call(directory, time=AT), AGENT),
        lambda: tool.get_totp_code(Call(directory, node=("wf-1", "tool_totp"), time=AT), ""),
        calls=n,
    )
    print(f"pyotp TOTP(s).at(t):              {pyotp_us:8.2f} us")
    print(f"package, by username:             {by_username:8.2f} us  {by_username / pyotp_us:5.2f}x pyotp")
    print(f"package, auto-resolve:            {auto:8.2f} us  {auto / pyotp_us:5.2f}x pyotp")
    if args.rust:
        rust = rust_fresh_instance_us(args.rust)
        print(f"Rust (totp-bench bench), fresh:    {rust:8.2f} us  package by username "
              f"{by_username / rust:5.2f}x Rust")
    one = throughput(tool, directory, 1)
    two = throughput(tool, directory, 2)
    print(f"threads, Python directory: 1 -> {one:,.0f} calls/s, 2 -> {two:,.0f} calls/s: "
          f"{two / one:4.2f}x")
    # The same over the native SQLite directory: no lookup takes the GIL,
    # which tells the GIL's share from the machine's.
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "store.sqlite3"
        native = SqliteDirectory(str(path))
        with sqlite3.connect(path) as db:
            db.execute("INSERT INTO users (username, is_agent, totp_secret) VALUES (?, 1, ?)",
                       (AGENT, SECRET))
        one = throughput(tool, native, 1)
        two = throughput(tool, native, 2)
    print(f"threads, SqliteDirectory:  1 -> {one:,.0f} calls/s, 2 -> {two:,.0f} calls/s: "
          f"{two / one:4.2f}x")
    pipelit = pipelit_figures(max(n // 10, 100))
    for kind in ("by username", "auto-resolve"):
        drop_in, original = pipelit[f"drop-in, {kind}"], pipelit[f"original, {kind}"]
        print(f"Pipelit {kind:13} drop-in {drop_in:8.1f} us, original {original:8.1f} us: "
              f"{drop_in / original:4.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
