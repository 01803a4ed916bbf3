#!/usr/bin/env bash
# The MCP benchmark of the README: tools/call round trip (p50, p99) over
# streamable HTTP and over stdio, the official Python client against
# `totp-host mcp` (release build) and against baseline_server.py (the
# official Python SDK's MCPServer + pyotp + SQLite), on loopback. Then the
# load figure: 8 HTTP clients x 2,000 calls, failures and the server's RSS.
#
#   host-test/bench/mcp/run.sh [CALLS]     (default 2000 per figure)
#
# Needs the test venv (`cargo test` makes target/tmp/conformance-venv).
set -euo pipefail
cd "$(dirname "$0")/../../.."
calls=${1:-2000}
python=target/tmp/conformance-venv/bin/python
bench=host-test/bench/mcp
cargo build --release --locked --bin totp-host
bin=target/release/totp-host
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
db=$work/store.sqlite3
key=$work/store.key
host=("$bin" --db "$db" --key-file "$key")

# One agent behind tool node tool_totp; the baseline's store has the same
# user with its secret in plain text (it cannot open sealed ones).
"${host[@]}" link-tool --workflow wf --slug bench --tool-node tool_totp --agent-node agent_1 >/dev/null
secret=$("${host[@]}" create-agent-user --workflow wf --tool-node tool_totp --show-secret \
    | "$python" -c 'import json,sys; print(json.load(sys.stdin)["totp_secret"])')
user=agent_bench_agent_1
"$python" - "$work/baseline.sqlite3" "$user" "$secret" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("CREATE TABLE users (username TEXT PRIMARY KEY, is_agent INTEGER, totp_secret TEXT)")
c.execute("INSERT INTO users VALUES (?, 1, ?)", (sys.argv[2], sys.argv[3]))
c.commit()
PY
token=$("${host[@]}" token create --workflow wf --node tool_totp \
    | "$python" -c 'import json,sys; print(json.load(sys.stdin)["token"])')

free_port() { "$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do "$python" -c "import socket; socket.create_connection(('127.0.0.1',$1))" 2>/dev/null && return; sleep 0.1; done; exit 1; }

port=$(free_port)
"${host[@]}" mcp --http "127.0.0.1:$port" --calls-per-minute 100000000 2>/dev/null &
ours=$!
wait_port "$port"
echo "http  totp-host:  $("$python" $bench/bench.py http "$calls" '{}' "http://127.0.0.1:$port/mcp" "$token")"
kill -TERM $ours; wait $ours || true

bport=$(free_port)
"$python" $bench/baseline_server.py "$work/baseline.sqlite3" http "$bport" 2>/dev/null &
theirs=$!
wait_port "$bport"
echo "http  baseline:   $("$python" $bench/bench.py http "$calls" "{\"username\": \"$user\"}" "http://127.0.0.1:$bport/mcp")"
kill -TERM $theirs; wait $theirs || true

echo "stdio totp-host:  $("$python" $bench/bench.py stdio "$calls" '{}' -- "${host[@]}" mcp --workflow wf --node tool_totp)"
echo "stdio baseline:   $("$python" $bench/bench.py stdio "$calls" "{\"username\": \"$user\"}" -- "$python" $bench/baseline_server.py "$work/baseline.sqlite3" stdio)"

# Load: 8 clients (a token each) x $calls calls, every code checked against
# pyotp, one more client hanging up mid-call; the server's RSS after the
# warm-up and at the end.
now=$(date +%s)
port=$(free_port)
"${host[@]}" mcp --http "127.0.0.1:$port" --calls-per-minute 100000000 --test-now "$now" 2>/dev/null &
ours=$!
wait_port "$port"
clients=$(for i in $(seq 8); do
    t=$("${host[@]}" token create --workflow wf --node tool_totp \
        | "$python" -c 'import json,sys; print(json.load(sys.stdin)["token"])')
    echo "{\"token\": \"$t\", \"agent\": \"$user\"}"
done | paste -sd, -)
echo "{\"mode\": \"load\", \"transport\": \"http\", \"url\": \"http://127.0.0.1:$port/mcp\",
  \"clients\": [$clients], \"walk_away_token\": \"$token\", \"warmup\": 200, \"calls\": $calls,
  \"secrets\": {\"$user\": \"$secret\"}, \"now\": $now, \"server_pid\": $ours}" \
    | "$python" host-test/tests/mcp/client.py | sed 's/^/load  totp-host:  /'
echo
kill -TERM $ours; wait $ours || true
