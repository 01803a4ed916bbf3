// Runs host-test/conformance/cases.json through the Node host: each case's
// store is a JsonDirectory; `host_failure` makes one import fail.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';

import { Denied, JsonDirectory, REPO_ROOT, Unavailable, call } from './host.mjs';

export const CASES_PATH = join(REPO_ROOT, 'host-test', 'conformance', 'cases.json');

export function loadCases(path = CASES_PATH) {
  return JSON.parse(readFileSync(path, 'utf8')).cases;
}

/** Serves a store, except for the one import a case makes fail. */
export class FailingDirectory {
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
    if (this.failure.import === 'find-user' && this.failure.kind === 'other-user' && user) {
      return { ...user, username: this.failure.username };
    }
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

export function runCase(tool, testCase) {
  let directory = new JsonDirectory(testCase.store);
  if (testCase.host_failure) directory = new FailingDirectory(directory, testCase.host_failure);
  const node = testCase.node && { workflowId: testCase.node.workflow_id, nodeId: testCase.node.node_id };
  const context = call(directory, { node, time: testCase.time });
  if (testCase.call === 'invoke') return tool.invoke(context, testCase.arguments);
  return tool.getTotpCode(context, testCase.username);
}

/** Every expected key, absent key and error substring; [] when it conforms. */
export function check(testCase, text) {
  let result;
  try {
    result = JSON.parse(text);
  } catch (error) {
    return [`not JSON (${error.message}): ${text}`];
  }
  const problems = [];
  for (const [key, want] of Object.entries(testCase.expected)) {
    if (!(key in result)) problems.push(`${key}: missing, expected ${JSON.stringify(want)}`);
    else if (!isDeepStrictEqual(result[key], want)) {
      problems.push(`${key}: got ${JSON.stringify(result[key])}, expected ${JSON.stringify(want)}`);
    }
  }
  for (const key of testCase.absent ?? []) {
    if (key in result) problems.push(`${key}: present (${JSON.stringify(result[key])}), expected absent`);
  }
  const error = String(result.error ?? '');
  for (const piece of testCase.error_contains ?? []) {
    if (!error.includes(piece)) problems.push(`error ${JSON.stringify(error)} does not contain ${JSON.stringify(piece)}`);
  }
  for (const piece of testCase.error_excludes ?? []) {
    if (text.includes(piece)) problems.push(`result contains ${JSON.stringify(piece)}`);
  }
  return problems;
}
