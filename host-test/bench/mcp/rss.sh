#!/usr/bin/env bash
# The MCP server's memory under load: 8 HTTP clients (the official Python
# client, a token each) x CALLS calls, every code checked against pyotp,
# a ninth client hanging up mid-call; the server's RSS (VmRSS of
# /proc/PID/status) after the warm-up and after every EVERY calls.
#
#   host-test/bench/mcp/rss.sh [CALLS] [EVERY]     (default 20000, 10000)
#
# TOTP_HOST=path/to/totp-host runs that binary instead of building the
# release one. Needs the test venv (`cargo test` makes
# target/tmp/conformance-venv).
set -euo pipefail
cd "$(dirname "$0")/../../.."
calls=${1:-20000}
every=${2:-10000}
python=target/tmp/conformance-venv/bin/python
if [ -z "${TOTP_HOST:-}" ]; then
    cargo build --release --locked --bin totp-host
fi
bin=${TOTP_HOST:-target/release/totp-host}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
host=("$bin" --db "$work/store.sqlite3" --key-file "$work/store.key")

"${host[@]}" link-tool --workflow wf --slug bench --tool-node tool_totp --agent-node agent_1 >/dev/null
secret=$("${host[@]}" create-agent-user --workflow wf --tool-node tool_totp --show-secret \
    | "$python" -c 'import json,sys; print(json.load(sys.stdin)["totp_secret"])')
user=agent_bench_agent_1
token() {
    "${host[@]}" token create --workflow wf --node tool_totp \
        | "$python" -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
port=$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
now=$(date +%s)
"${host[@]}" mcp --http "127.0.0.1:$port" --calls-per-minute 100000000 --test-now "$now" 2>/dev/null &
server=$!
for _ in $(seq 100); do
    "$python" -c "import socket; socket.create_connection(('127.0.0.1',$port))" 2>/dev/null && break
    sleep 0.1
done
clients=$(for _ in $(seq 8); do echo "{\"token\": \"$(token)\", \"agent\": \"$user\"}"; done | paste -sd, -)
echo "{\"mode\": \"load\", \"transport\": \"http\", \"url\": \"http://127.0.0.1:$port/mcp\",
  \"clients\": [$clients], \"walk_away_token\": \"$(token)\", \"warmup\": 200, \"calls\": $calls,
  \"rss_every\": $every, \"secrets\": {\"$user\": \"$secret\"}, \"now\": $now, \"server_pid\": $server}" \
    | "$python" host-test/tests/mcp/client.py
echo
echo "after the load: $(grep VmRSS /proc/$server/status)"
kill -TERM $server; wait $server || true
