// The Node host's audit trail, run by `cargo test` (other_hosts.rs) with
// `node --test`: every sink gets the Rust host's events (the columns of
// audit_events in host-test/schema.sql), never the code or the secret, and
// a sink that throws withholds the code without an exception.
//
// Needs the transpiled component (host-test/js/generated, see transpile.mjs).

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { JsonDirectory, TotpTool, call } from './host.mjs';
import { REPO_ROOT } from './repo.mjs';

// RFC 6238's SHA-1 key in base32; its 6-digit code at t=59 is 287082.
const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const CODE = '287082';
const AGENT = 'agent_my-workflow_agent_abc123';

const COLUMNS = (() => {
  const schema = readFileSync(join(REPO_ROOT, 'host-test', 'schema.sql'), 'utf8');
  const table = schema.match(/CREATE TABLE IF NOT EXISTS audit_events \(([^;]*)\);/)[1];
  return table.split('\n').map((line) => line.trim().split(/\s+/)[0]).filter(Boolean).sort();
})();

const directory = new JsonDirectory({
  users: [{ username: AGENT, is_agent: true, totp_secret: SECRET }],
  workflows: [{ id: 'wf-1', slug: 'my-workflow' }],
  workflow_edges: [{ workflow_id: 'wf-1', source_node_id: 'tool_totp', target_node_id: 'agent_abc123', edge_label: 'tool' }],
});
const context = () => call(directory, { node: { workflowId: 'wf-1', nodeId: 'tool_totp' }, time: 59 });

function assertEvent(event, { operation = 'get_totp_code', outcome = 'issued', requested = '' } = {}) {
  assert.deepEqual(Object.keys(event).sort(), COLUMNS);
  assert.equal(event.operation, operation);
  assert.equal(event.outcome, outcome);
  assert.equal(event.username_requested, requested);
  assert.equal(event.workflow_id, 'wf-1');
  assert.equal(event.node_id, 'tool_totp');
  assert.match(event.id, /^[0-9a-f]{32}$/);
  assert.match(event.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  assert.ok(Number.isInteger(event.duration_us) && event.duration_us >= 0);
  const text = JSON.stringify(event);
  assert.ok(!text.includes(CODE) && !text.includes(SECRET), text);
}

test('a tool must choose its sink', async () => {
  await assert.rejects(TotpTool.load(), TypeError);
  await assert.rejects(TotpTool.load({ audit: 42 }), TypeError);
});

test('every sink gets the same event', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'totp-audit-'));
  const received = [];
  const lines = [];
  const path = join(dir, 'audit.jsonl');
  for (const audit of [(event) => received.push(event), { write: (line) => lines.push(line) }, path]) {
    const tool = await TotpTool.load({ audit });
    assert.equal(JSON.parse(tool.getTotpCode(context(), '')).totp_code, CODE);
  }
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const events = [received[0], JSON.parse(lines[0]), JSON.parse(readFileSync(path, 'utf8'))];
  for (const event of events) {
    assertEvent(event);
    assert.equal(event.username_resolved, AGENT);
  }
});

test('failures are recorded with their error code', async () => {
  const received = [];
  const tool = await TotpTool.load({ audit: (event) => received.push(event) });
  const out = JSON.parse(tool.invoke(context(), '{"username": "alice"}'));
  assert.equal(out.error_code, 'user_not_found');
  assertEvent(received[0], { operation: 'invoke', outcome: 'user_not_found', requested: 'alice' });
  assert.equal(received[0].username_resolved, 'alice');
});

test('a sink that throws withholds the code and throws nothing', async () => {
  const sinks = [
    () => { throw new Error(`table gone (${SECRET})`); },
    { write: () => { throw new Error('disk full'); } },
  ];
  for (const audit of sinks) {
    const tool = await TotpTool.load({ audit });
    const out = JSON.parse(tool.getTotpCode(context(), ''));
    assert.equal(out.success, false);
    assert.equal(out.error_code, 'host_error');
    assert.equal(out.error, 'Host error: audit log unavailable');
    assert.ok(!JSON.stringify(out).includes(SECRET));
  }
});

test('an unwritable path is refused when the tool is made', async () => {
  await assert.rejects(TotpTool.load({ audit: '/nonexistent-dir/audit.jsonl' }), /ENOENT/);
});
