// The shared conformance suite through the Node host, and its CLI.
// `cargo test` runs it (after `npm ci` and transpiling); by hand:
//   (cd host-test/js && npm ci && npm test)

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { check, loadCases, runCase } from '../conformance.mjs';
import { TotpTool } from '../host.mjs';
import { transpile } from '../transpile.mjs';

const CASES = loadCases();
const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'totp-host.mjs');

let tool;
before(async () => {
  transpile();
  tool = await TotpTool.load();
});

describe('conformance cases', () => {
  for (const testCase of CASES) {
    test(testCase.name, () => {
      const result = runCase(tool, testCase);
      assert.deepEqual(check(testCase, result), [], result);
    });
  }
});

test('per-call time', () => {
  const testCase = CASES.find((c) => c.name === 'rfc6238_sha1_t59');
  const calls = 200;
  const started = performance.now();
  for (let i = 0; i < calls; i += 1) runCase(tool, testCase);
  const perCall = (performance.now() - started) / calls;
  console.log(`node host: ${perCall.toFixed(3)} ms per call`);
  assert.ok(perCall < 50);
});

function cli(...args) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
}

describe('totp-host.mjs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'totp-host-js-'));
  for (const [name, status] of [
    ['resolve_through_tool_edge', 0],
    ['otpauth_sha256_8_digits_60s', 0],
    ['unknown_user', 1],
    ['no_context', 1],
    ['ambiguous_2_agents', 1],
  ]) {
    test(`prints the result of ${name}`, () => {
      const testCase = CASES.find((c) => c.name === name);
      const db = join(dir, `${name}.json`);
      writeFileSync(db, JSON.stringify(testCase.store));
      const args = ['--db', db, 'get-totp-code', '--at', String(testCase.time)];
      if (testCase.username) args.push('--username', testCase.username);
      if (testCase.node) args.push('--workflow', testCase.node.workflow_id, '--node', testCase.node.node_id);
      const output = cli(...args);
      assert.equal(output.status, status, output.stderr);
      assert.deepEqual(check(testCase, output.stdout.trim()), [], output.stdout);
    });
  }

  test('usage errors exit 2', () => {
    const db = join(dir, 'empty.json');
    assert.equal(cli('--db', db, 'get-totp-code', '--workflow', 'wf-1').status, 2);
    assert.equal(cli('--db', db, 'get-totp-code', '--at', 'yesterday').status, 2);
    assert.equal(cli('get-totp-code', '--username', 'x').status, 2);
    assert.equal(cli('--db', db, 'get-totp-code', '--bogus').status, 2);
    const missing = cli('--db', db, '--component', join(dir, 'nope.wasm'), 'get-totp-code');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /nope\.wasm/);
  });

  test('describe', () => {
    const output = cli('describe');
    assert.equal(output.status, 0, output.stderr);
    assert.equal(JSON.parse(output.stdout).name, 'get_totp_code');
  });
});
