// Runs the conformance cases (host-test/conformance/cases.json) through the
// npm package `get-totp-code` and prints one JSON object, case name to
// result text. `cargo test` judges it with the same checker as the other
// hosts' results (host-test/tests/all/conformance.rs).
//
//   node host-test/js/run-cases.mjs [CASES.json]
//
// It imports the package by its name: in the repository that is host-test/js
// itself (a package's self-reference through its `exports`), and a copy of
// this script in a project that installed the package runs it from
// node_modules. Only in the repository does it transpile the component first.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Denied, JsonDirectory, TotpTool, Unavailable, call } from 'get-totp-code';

const here = dirname(fileURLToPath(import.meta.url));
const CASES = process.argv[2] ?? join(here, '..', 'conformance', 'cases.json');

/** Serves a store, except for the one lookup a case's `host_failure` names. */
class FailingDirectory {
  constructor(inner, failure) {
    this.inner = inner;
    this.failure = failure;
  }

  fail(name) {
    if (this.failure.import !== name) return;
    if (this.failure.kind === 'denied') throw new Denied();
    if (this.failure.kind === 'unavailable') throw new Unavailable(this.failure.message);
  }

  findUser(username) {
    this.fail('find-user');
    const user = this.inner.findUser(username);
    if (user && this.failure.kind === 'other-user') return { ...user, username: this.failure.username };
    return user;
  }

  workflowSlug(workflowId) {
    this.fail('workflow-slug');
    return this.inner.workflowSlug(workflowId);
  }

  edgeTargets(workflowId, source, label) {
    this.fail('edge-targets');
    return this.inner.edgeTargets(workflowId, source, label);
  }
}

function runCase(tool, testCase) {
  let directory = new JsonDirectory(testCase.store);
  if (testCase.host_failure) directory = new FailingDirectory(directory, testCase.host_failure);
  const node = testCase.node && { workflowId: testCase.node.workflow_id, nodeId: testCase.node.node_id };
  const context = call(directory, { node, time: testCase.time });
  if (testCase.call === 'invoke') return tool.invoke(context, testCase.arguments);
  return tool.getTotpCode(context, testCase.username);
}

if (existsSync(join(here, 'transpile.mjs'))) {
  const { transpile } = await import('./transpile.mjs');
  transpile();
}
const tool = await TotpTool.load({ audit: null });
const results = {};
for (const testCase of JSON.parse(readFileSync(CASES, 'utf8')).cases) {
  results[testCase.name] = runCase(tool, testCase);
}
process.stdout.write(JSON.stringify(results));
