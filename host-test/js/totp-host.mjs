#!/usr/bin/env node
// The Node host's command line: same flags, JSON and exit status as the
// Rust `totp-host` (0 success, 1 tool failure, 2 usage or start-up error),
// except that --db names a JSON store file (see host.mjs), not SQLite.
//
//   node host-test/js/totp-host.mjs --db store.json get-totp-code \
//       [--username U] [--workflow ID --node N] [--at UNIX_SECONDS] [--component PATH]

import { parseArgs } from 'node:util';

import { JsonDirectory, TotpTool, call } from './host.mjs';
import { DEFAULT_COMPONENT } from './repo.mjs';
import { transpile } from './transpile.mjs';

const USAGE = `usage: totp-host.mjs --db STORE.json get-totp-code [--username U] [--workflow ID --node N] [--at UNIX_SECONDS]
       totp-host.mjs describe
options: --component PATH (default ${DEFAULT_COMPONENT}), --audit PATH (JSON lines; default none)`;

function usage(message) {
  console.error(`totp-host.mjs: ${message}\n${USAGE}`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      db: { type: 'string' },
      component: { type: 'string' },
      username: { type: 'string', default: '' },
      workflow: { type: 'string' },
      node: { type: 'string' },
      at: { type: 'string' },
      audit: { type: 'string' },
    },
  });
} catch (error) {
  usage(error.message);
}
const { values, positionals } = parsed;
const command = positionals[0];
if (positionals.length !== 1 || !['get-totp-code', 'describe'].includes(command)) {
  usage('expected one command: get-totp-code or describe');
}
let time = null;
if (command === 'get-totp-code') {
  if ((values.workflow === undefined) !== (values.node === undefined)) {
    usage('--workflow and --node go together');
  }
  if (values.at !== undefined) {
    if (!/^\d+$/.test(values.at)) usage(`--at takes Unix seconds, not ${JSON.stringify(values.at)}`);
    time = BigInt(values.at);
  }
  if (values.db === undefined) usage('--db PATH is required');
}

let tool;
let directory;
try {
  transpile(values.component ?? DEFAULT_COMPONENT);
  tool = await TotpTool.load({ audit: values.audit ?? null });
  if (command === 'describe') {
    console.log(tool.describe());
    process.exit(0);
  }
  directory = JsonDirectory.open(values.db);
} catch (error) {
  console.error(`totp-host.mjs: ${error.message}`);
  process.exit(2);
}
const node = values.workflow === undefined ? null : { workflowId: values.workflow, nodeId: values.node };
const result = tool.getTotpCode(call(directory, { node, time }), values.username);
console.log(result);
let success = false;
try {
  success = JSON.parse(result).success === true;
} catch {
  // not JSON: a failure
}
process.exit(success ? 0 : 1);
