"""The shared conformance suite through the Python host, and its CLI.

Run with `cargo test` (which sets up the venv), or by hand:
`pip install -r host-test/python/requirements.txt && pytest host-test/python`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conformance import check, load_cases, run_case, sqlite_store
from totp_host import DEFAULT_COMPONENT, TotpTool

CASES = load_cases()
CLI = Path(__file__).resolve().parent / "totp_host.py"


@pytest.fixture(scope="session")
def tool() -> TotpTool:
    if not DEFAULT_COMPONENT.exists():
        pytest.fail(f"{DEFAULT_COMPONENT} is missing: run `cargo build -p host-test` first")
    return TotpTool()


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_case(tool: TotpTool, case: dict) -> None:
    result = run_case(tool, case)
    assert check(case, result) == [], result


def test_the_suite_covers_every_error_code() -> None:
    codes = {case["expected"].get("error_code") for case in CASES}
    assert codes >= {
        None, "user_not_found", "ambiguous_agent", "no_context", "no_totp_secret",
        "invalid_secret", "unsupported_secret", "access_denied", "host_error",
        "invalid_arguments",
    }


def test_per_call_time(tool: TotpTool) -> None:
    case = next(c for c in CASES if c["name"] == "rfc6238_sha1_t59")
    calls = 200
    started = time.perf_counter()
    for _ in range(calls):
        run_case(tool, case)
    per_call_ms = (time.perf_counter() - started) / calls * 1000
    print(f"python host: {per_call_ms:.3f} ms per call (store set-up included)")
    assert per_call_ms < 50


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(CLI), *args], capture_output=True, text=True, timeout=120
    )


def cli_case(tmp_path: Path, name: str) -> tuple[dict, subprocess.CompletedProcess]:
    case = next(c for c in CASES if c["name"] == name)
    db = tmp_path / "store.sqlite3"
    sqlite_store(case["store"], str(db)).connection.close()
    args = ["--db", str(db), "get-totp-code", "--at", str(case["time"])]
    if case["username"]:
        args += ["--username", case["username"]]
    if case["node"]:
        args += ["--workflow", case["node"]["workflow_id"], "--node", case["node"]["node_id"]]
    return case, cli(*args)


@pytest.mark.parametrize(
    "name,status",
    [
        ("resolve_through_tool_edge", 0),
        ("otpauth_sha256_8_digits_60s", 0),
        ("unknown_user", 1),
        ("no_context", 1),
        ("ambiguous_2_agents", 1),
    ],
)
def test_cli_prints_the_case_result(tmp_path: Path, name: str, status: int) -> None:
    case, output = cli_case(tmp_path, name)
    assert output.returncode == status, output
    assert check(case, output.stdout.strip()) == [], output.stdout


def test_cli_usage_errors_exit_2(tmp_path: Path) -> None:
    db = str(tmp_path / "s.sqlite3")
    assert cli("--db", db, "get-totp-code", "--workflow", "wf-1").returncode == 2
    assert cli("--db", db, "get-totp-code", "--at", "yesterday").returncode == 2
    assert cli("get-totp-code", "--username", "x").returncode == 2  # no --db
    missing = cli("--db", db, "--component", str(tmp_path / "nope.wasm"), "get-totp-code")
    assert missing.returncode == 2 and "nope.wasm" in missing.stderr


def test_cli_describe() -> None:
    output = cli("describe")
    assert output.returncode == 0, output
    assert json.loads(output.stdout)["name"] == "get_totp_code"
