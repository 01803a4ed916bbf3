// Runs host-test/conformance/cases.json through this host and prints one
// JSON object, case name to result text. `cargo test` judges it with the
// same checker as the other hosts' results
// (host-test/tests/all/conformance.rs).
//
//   node host-test/js/run-cases.mjs

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { Denied, JsonDirectory, REPO_ROOT, TotpTool, Unavailable, call } from './host.mjs';
import { transpile } from './transpile.mjs';

const CASES = join(REPO_ROOT, 'host-test', 'conformance', 'cases.json');

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

transpile();
const tool = await TotpTool.load({ audit: null });
const results = {};
for (const testCase of JSON.parse(readFileSync(CASES, 'utf8')).cases) {
  results[testCase.name] = runCase(tool, testCase);
}
process.stdout.write(JSON.stringify(results));
