// Whatever a directory does, the caller gets a JSON result: every thrown
// value and every wrong type becomes `host_error` with a short message that
// names the method and a type and quotes neither the value nor the
// exception's text; `Denied` from any lookup is `access_denied`;
// `Unavailable(message)` is `host_error` with that message, cut. The Node
// twin of host-test/python/tests/test_hostile_directories.py (JavaScript
// has no KeyboardInterrupt/SystemExit to re-raise). Run by `cargo test`
// (other_hosts.rs) with `node --test`.
//
// Needs the transpiled component (host-test/js/generated, see transpile.mjs).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Denied, TotpTool, Unavailable, call } from './host.mjs';

// RFC 6238's SHA-1 key in base32; its 6-digit code at t=59 is 287082.
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const CODE = '287082';
const AGENT = 'agent_my-workflow_agent_abc123';
const NODE = { workflowId: 'wf-1', nodeId: 'tool_totp' };
const SECRET_MARK = 'S3CRET-JBSWY3DPEHPK3PXP';
/** The guest cuts a host message to 200 characters (src/tool.rs). */
const MAX_HOST_MESSAGE_CHARS = 200;
/** "Host error: " and a message of at most 200 characters, plus "…" where it was cut. */
const MAX_ERROR_CHARS = 'Host error: '.length + MAX_HOST_MESSAGE_CHARS + 1;
const TEN_MIB = 'x'.repeat(10 << 20);

/** wf-1 (slug my-workflow): tool_totp --tool--> agent_abc123, whose user has RFC_SECRET. */
function linkedDirectory() {
  return {
    findUser: (username) => (username === AGENT ? { username: AGENT, isAgent: true, totpSecret: RFC_SECRET } : undefined),
    workflowSlug: (workflowId) => (workflowId === 'wf-1' ? 'my-workflow' : undefined),
    edgeTargets: (workflowId, source, label) => (
      workflowId === 'wf-1' && source === 'tool_totp' && label === 'tool' ? ['agent_abc123'] : []),
  };
}

/** The linked directory, with `method` replaced by `behaviour`. */
class Hostile {
  constructor(method, behaviour) {
    this.inner = linkedDirectory();
    this.method = method;
    this.behaviour = behaviour;
  }

  answer(method, ...args) {
    if (method === this.method) return this.behaviour();
    return this.inner[method](...args);
  }

  findUser(username) {
    return this.answer('findUser', username);
  }

  workflowSlug(workflowId) {
    return this.answer('workflowSlug', workflowId);
  }

  edgeTargets(workflowId, source, label) {
    return this.answer('edgeTargets', workflowId, source, label);
  }
}

const throws = (value) => () => {
  throw value;
};
const returns = (value) => () => value;

class DatabaseError extends Error {}

const renamed = new Error(SECRET_MARK);
renamed.name = SECRET_MARK; // the class name is reported, not `name`

const HOSTILE = {
  findUser: {
    Error: throws(new Error(`db said ${SECRET_MARK}`)),
    TypeError: throws(new TypeError(SECRET_MARK)),
    subclass: throws(new DatabaseError(SECRET_MARK)),
    renamed_Error: throws(renamed),
    string_thrown: throws(SECRET_MARK),
    object_thrown: throws({ message: SECRET_MARK }),
    null_thrown: throws(null),
    undefined_thrown: throws(undefined),
    object: returns({ name: AGENT, secret: SECRET_MARK }),
    snake_case_object: returns({ username: AGENT, is_agent: true, totp_secret: SECRET_MARK }),
    number_isAgent: returns({ username: AGENT, isAgent: 1, totpSecret: SECRET_MARK }),
    Buffer_secret: returns({ username: AGENT, isAgent: true, totpSecret: Buffer.from(SECRET_MARK) }),
    number_username: returns({ username: 7, isAgent: true, totpSecret: SECRET_MARK }),
    number: returns(42),
    Buffer: returns(Buffer.from(SECRET_MARK)),
    string: returns(SECRET_MARK),
    array: returns([AGENT, true, SECRET_MARK]),
    Promise: returns(Promise.resolve({ username: AGENT, isAgent: true, totpSecret: SECRET_MARK })),
    throwing_getter: returns({ get username() { throw new Error(SECRET_MARK); } }),
    throwing_Proxy: returns(new Proxy({}, { get() { throw new Error(SECRET_MARK); } })),
    '10MiB_username': returns({ username: TEN_MIB, isAgent: true, totpSecret: RFC_SECRET }),
    '10MiB_secret': returns({ username: AGENT, isAgent: true, totpSecret: TEN_MIB }),
    Unavailable_10MiB: throws(new Unavailable(TEN_MIB)),
  },
  workflowSlug: {
    Error: throws(new Error(SECRET_MARK)),
    string_thrown: throws(SECRET_MARK),
    object: returns({ slug: SECRET_MARK }),
    number: returns(7),
    Buffer: returns(Buffer.from(SECRET_MARK)),
    Symbol: returns(Symbol(SECRET_MARK)),
    '10MiB': returns(TEN_MIB),
  },
  edgeTargets: {
    Error: throws(new Error(SECRET_MARK)),
    string_thrown: throws(SECRET_MARK),
    undefined: returns(undefined),
    null: returns(null),
    object: returns({ agent_abc123: SECRET_MARK }),
    number: returns(3),
    Buffer: returns(Buffer.from(SECRET_MARK)),
    string: returns(SECRET_MARK),
    array_of_Buffers: returns([Buffer.from(SECRET_MARK)]),
    array_of_objects: returns([{ id: SECRET_MARK }]),
    array_of_fractions: returns([1.5]),
    iterator: returns(['agent_abc123'].values()),
    Set: returns(new Set(['agent_abc123'])),
    '10MiB': returns([TEN_MIB]),
    '100k_targets': returns(Array.from({ length: 100_000 }, (_, i) => `agent_${i}`)),
  },
};

const tool = await TotpTool.load({ audit: null });

for (const [method, behaviours] of Object.entries(HOSTILE)) {
  for (const [name, behaviour] of Object.entries(behaviours)) {
    test(`a hostile ${method} (${name}) gives a JSON error`, async () => {
      const events = [];
      const audited = await TotpTool.load({ audit: (event) => events.push(event) });
      // By username for findUser; auto-resolve so that the graph is read.
      const username = method === 'findUser' ? AGENT : '';
      for (const run of [
        (context) => tool.getTotpCode(context, username),
        (context) => tool.invoke(context, JSON.stringify({ username })),
        (context) => audited.getTotpCode(context, username),
      ]) {
        const text = run(call(new Hostile(method, behaviour), { node: NODE, time: 59 }));
        assert.equal(typeof text, 'string');
        const out = JSON.parse(text);
        if (name === '10MiB_secret' && out.success) {
          // 10 MiB of 'x' is valid base32: a (huge) key, whose code is fine.
          assert.match(out.totp_code, /^\d{6}$/);
          continue;
        }
        assert.equal(out.success, false, text.slice(0, 300));
        assert.ok(
          ['host_error', 'ambiguous_agent', 'invalid_secret', 'user_not_found'].includes(out.error_code),
          text.slice(0, 300),
        );
        assert.ok(!text.includes(SECRET_MARK), text.slice(0, 300));
        assert.ok(out.error.length <= MAX_ERROR_CHARS, text.slice(0, 300));
        assert.ok(!text.includes('    at '), text.slice(0, 300)); // no stack trace
      }
      assert.equal(events.length, 1);
      assert.ok(!JSON.stringify(events).includes(SECRET_MARK));
    });
  }
}

test('wrong types and thrown values are named, not quoted', () => {
  const cases = [
    ['findUser', returns({ name: SECRET_MARK }), "the directory's findUser returned an object without 'username'"],
    ['findUser', returns({ username: AGENT, is_agent: true }), "findUser returned an object without 'isAgent'"],
    ['findUser', returns({ username: AGENT, isAgent: 1 }), "findUser returned a number where a boolean 'isAgent'"],
    ['findUser', returns(42), 'findUser returned a number where a user object'],
    ['findUser', returns(Promise.resolve(null)), 'findUser returned a Promise'],
    ['findUser', throws(new TypeError(SECRET_MARK)), "the directory's findUser threw TypeError"],
    ['findUser', throws(new DatabaseError(SECRET_MARK)), 'findUser threw DatabaseError'],
    ['findUser', throws(renamed), 'findUser threw Error'],
    ['findUser', throws(SECRET_MARK), 'findUser threw a string'],
    ['findUser', throws(null), 'findUser threw null'],
    ['workflowSlug', returns(7), 'workflowSlug returned a number'],
    ['edgeTargets', returns(undefined), 'edgeTargets returned undefined where an array of node ids'],
    ['edgeTargets', returns(new Set()), 'edgeTargets returned a Set'],
    ['edgeTargets', returns([Buffer.from(SECRET_MARK)]), 'edgeTargets returned an array holding a Buffer'],
  ];
  for (const [method, behaviour, message] of cases) {
    const username = method === 'findUser' ? AGENT : '';
    const out = JSON.parse(tool.getTotpCode(call(new Hostile(method, behaviour), { node: NODE, time: 59 }), username));
    assert.equal(out.error_code, 'host_error', message);
    assert.ok(out.error.includes(message), `${out.error} lacks ${message}`);
  }
});

test('node ids may be integers, as their decimal text', () => {
  const directory = new Hostile('edgeTargets', returns([123]));
  directory.inner.findUser = (username) => (
    username === 'agent_my-workflow_123' ? { username, isAgent: true, totpSecret: RFC_SECRET } : undefined);
  const out = JSON.parse(tool.getTotpCode(call(directory, { node: NODE, time: 59 })));
  assert.equal(out.totp_code, CODE, JSON.stringify(out));
});

for (const method of ['findUser', 'workflowSlug', 'edgeTargets']) {
  test(`Denied from ${method} is access_denied`, () => {
    const directory = new Hostile(method, throws(new Denied()));
    const username = method === 'findUser' ? AGENT : '';
    const out = JSON.parse(tool.getTotpCode(call(directory, { node: NODE, time: 59 }), username));
    assert.equal(out.error_code, 'access_denied');
  });
}

test('Unavailable shows only a text message', () => {
  for (const method of ['findUser', 'workflowSlug', 'edgeTargets']) {
    for (const [error, shown] of [
      [new Unavailable('store down'), 'Host error: store down'],
      [new Unavailable(new Error(SECRET_MARK)), 'Host error: unavailable'],
      [new Unavailable({ toString: () => SECRET_MARK }), 'Host error: unavailable'],
      [new Unavailable(), 'Host error: unavailable'],
    ]) {
      const directory = new Hostile(method, throws(error));
      const username = method === 'findUser' ? AGENT : '';
      const text = tool.getTotpCode(call(directory, { node: NODE, time: 59 }), username);
      assert.equal(JSON.parse(text).error, shown, text);
    }
  }
});

test("Unavailable's message reaches the agent, capped", () => {
  const directory = new Hostile('findUser', throws(new Unavailable(`store offline ${'y'.repeat(500)}`)));
  const out = JSON.parse(tool.getTotpCode(call(directory, { time: 59 }), AGENT));
  assert.equal(out.error_code, 'host_error');
  assert.ok(out.error.startsWith('Host error: store offline '), out.error);
  assert.equal(out.error.length, MAX_ERROR_CHARS);
  assert.ok(out.error.endsWith('…'));
});

test('a directory without the methods, and a wrong context, are host errors', () => {
  const cases = [
    [call(null, { time: 59 }), 'the directory has no findUser method'],
    [call({ findUser: 'nope' }, { time: 59 }), 'the directory has no findUser method'],
    [call(linkedDirectory(), { node: { workflowId: 1, nodeId: SECRET_MARK } }), "the call's node is not"],
    [call(linkedDirectory(), { node: SECRET_MARK }), "the call's node is not"],
    [call(linkedDirectory(), { time: -1 }), "the call's time is not Unix seconds"],
    [call(linkedDirectory(), { time: 1.5 }), "the call's time is not Unix seconds"],
    [call(linkedDirectory(), { time: SECRET_MARK }), "the call's time is not Unix seconds"],
    [null, 'the directory has no findUser method'],
  ];
  for (const [context, message] of cases) {
    const text = tool.getTotpCode(context, AGENT);
    const out = JSON.parse(text);
    assert.equal(out.error_code, 'host_error', text);
    assert.ok(out.error.includes(message), `${out.error} lacks ${message}`);
    assert.ok(!text.includes(SECRET_MARK));
  }
});

test('the tool is unharmed by hostile calls: the next call works', () => {
  for (const behaviours of Object.values(HOSTILE)) {
    for (const behaviour of Object.values(behaviours)) {
      tool.getTotpCode(call(new Hostile('findUser', behaviour), { node: NODE, time: 59 }), AGENT);
    }
  }
  const out = JSON.parse(tool.getTotpCode(call(linkedDirectory(), { time: 59 }), AGENT));
  assert.equal(out.totp_code, CODE);
  const bigint = JSON.parse(tool.getTotpCode(call(linkedDirectory(), { time: 59n }), AGENT));
  assert.equal(bigint.totp_code, CODE);
});
