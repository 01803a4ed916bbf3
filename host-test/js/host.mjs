// A Node host for the get_totp_code component, transpiled by jco
// (`--instantiation sync`, see transpile.mjs). The component's three imports
// are implemented here in JavaScript; every call gets a fresh instance.
// This module is the npm package `get-totp-code` (types: index.d.ts); it
// loads the component from the `generated/` beside it and depends on
// nothing else in the repository.
//
// Node 20 has no built-in SQLite, so JsonDirectory's store is a JSON file with
// the tables of host-test/schema.sql as arrays, under the schema's own table
// and column names:
//   {"users": [{"username", "is_agent", "totp_secret"}],
//    "workflows": [{"id", "slug"}],
//    "workflow_edges": [{"workflow_id", "source_node_id", "target_node_id", "edge_label"}]}

import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { AUDIT_UNAVAILABLE, auditEvent, auditSink, requestedByArguments } from './audit.mjs';

/**
 * jco's output next to this file: in the repository transpile.mjs writes it
 * (see repo.mjs), in the npm package it ships.
 */
const GENERATED = join(dirname(fileURLToPath(import.meta.url)), 'generated');

/** The guest cuts a host message to this many characters (src/tool.rs). */
const MAX_HOST_MESSAGE_CHARS = 200;
/**
 * An `Unavailable` message is cut to this many UTF-16 units before it is
 * copied into the guest, which cuts it further; the result is the same.
 */
const MAX_MESSAGE_UNITS = 1024;

/** The access policy refuses the lookup (`access_denied`). */
export class Denied extends Error {
  constructor() {
    super('access denied');
    this.name = 'Denied';
  }
}

/**
 * The store could not answer; the message reaches the agent (`host_error`,
 * cut to 200 characters), so it must not contain a secret.
 */
export class Unavailable extends Error {
  /** A message that is not a non-empty string reads as "unavailable" (it may be an error quoting a secret). */
  constructor(message) {
    super(typeof message === 'string' && message !== '' ? message : 'unavailable');
    this.name = 'Unavailable';
  }
}

/**
 * A failure of the host whose message is ours (never a value's or another
 * exception's text): the call's result is `host_error` with it.
 */
class HostFailure extends Error {}

/** What jco turns into a WIT `err(payload)`: a thrown value with `payload`. */
class WitError extends Error {
  constructor(payload) {
    super(payload.tag);
    this.payload = payload;
  }
}

/** A directory over the JSON store (an object of the shape above). */
export class JsonDirectory {
  constructor(store = {}) {
    this.users = store.users ?? [];
    this.workflows = store.workflows ?? [];
    this.edges = store.workflow_edges ?? [];
  }

  /** Reads a JSON store file; a missing file is an empty store. */
  static open(path) {
    if (!existsSync(path)) return new JsonDirectory();
    return new JsonDirectory(JSON.parse(readFileSync(path, 'utf8')));
  }

  /** @returns {{username: string, isAgent: boolean, totpSecret?: string} | undefined} */
  findUser(username) {
    const user = this.users.find((u) => u.username === username);
    if (user === undefined) return undefined;
    return { username: user.username, isAgent: Boolean(user.is_agent), totpSecret: user.totp_secret ?? undefined };
  }

  workflowSlug(workflowId) {
    return this.workflows.find((w) => w.id === workflowId)?.slug ?? undefined;
  }

  edgeTargets(workflowId, source, label) {
    return this.edges
      .filter((e) => e.workflow_id === workflowId && e.source_node_id === source && e.edge_label === label)
      .map((e) => e.target_node_id);
  }
}

/**
 * A call's context: `directory` (findUser, workflowSlug, edgeTargets),
 * `node` ({workflowId, nodeId} or null) and `time` (Unix seconds, or null for
 * the system clock).
 */
export function call(directory, { node = null, time = null } = {}) {
  return { directory, node, time };
}

/** "a string", "an array", "a Map", "null": a value's type, never the value. */
function kindOf(value) {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value !== 'object') return withArticle(typeof value);
  try {
    if (Array.isArray(value)) return 'an array';
    const name = className(value);
    return withArticle(name === undefined || name === 'Object' ? 'object' : name);
  } catch {
    return 'an object';
  }
}

/** The name of a value's class, when it reads like one (else undefined). */
function className(value) {
  try {
    const name = Object.getPrototypeOf(value)?.constructor?.name;
    return typeof name === 'string' && /^[A-Za-z_$][\w$]{0,63}$/.test(name) ? name : undefined;
  } catch {
    return undefined;
  }
}

function withArticle(name) {
  return `${/^[aeiouAEIO]/.test(name) ? 'an' : 'a'} ${name}`;
}

/** What was thrown: an Error's class name ("TypeError"), or the kind of value. */
function thrownKind(error) {
  try {
    if (error instanceof Error) return className(error) ?? 'Error';
  } catch {
    // a Proxy whose prototype cannot be read
  }
  return kindOf(error);
}

/** A directory's answer of the wrong type; the message names types only. */
class WrongType extends Error {}

/**
 * An `Unavailable`'s message, cut to MAX_MESSAGE_UNITS UTF-16 units (not
 * inside a surrogate pair); an empty or non-string one reads as
 * "unavailable" (a subclass may have replaced it).
 */
function unavailableMessage(error) {
  let message;
  try {
    message = error.message;
  } catch {
    message = undefined;
  }
  if (typeof message !== 'string' || message === '') return 'unavailable';
  if (message.length <= MAX_MESSAGE_UNITS) return message;
  const end = /[\uD800-\uDBFF]/.test(message[MAX_MESSAGE_UNITS - 1]) ? MAX_MESSAGE_UNITS - 1 : MAX_MESSAGE_UNITS;
  return message.slice(0, end);
}

/** `findUser`'s answer as the guest's `agent-user`, or undefined for none. */
function toUser(value) {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value) || typeof value.then === 'function') {
    // A Promise too: a directory answers synchronously.
    throw new WrongType(`${kindOf(value)} where a user object or undefined was expected`);
  }
  const { username, isAgent, totpSecret } = value;
  if (username === undefined) throw new WrongType("an object without 'username'");
  if (typeof username !== 'string') {
    throw new WrongType(`${kindOf(username)} where a string 'username' was expected`);
  }
  if (isAgent === undefined) throw new WrongType("an object without 'isAgent'");
  if (typeof isAgent !== 'boolean') {
    throw new WrongType(`${kindOf(isAgent)} where a boolean 'isAgent' was expected`);
  }
  if (totpSecret !== undefined && totpSecret !== null && typeof totpSecret !== 'string') {
    throw new WrongType(`${kindOf(totpSecret)} where a string 'totpSecret' or undefined was expected`);
  }
  return { username, isAgent, totpSecret: totpSecret ?? undefined };
}

/** `workflowSlug`'s answer: a string, or undefined for none. */
function toSlug(value) {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw new WrongType(`${kindOf(value)} where a string slug or undefined was expected`);
  }
  return value;
}

/** `edgeTargets`' answer: an array of node ids (strings, or integers as their decimal text). */
function toTargets(value) {
  if (!Array.isArray(value)) {
    throw new WrongType(`${kindOf(value)} where an array of node ids was expected`);
  }
  const targets = [];
  for (const target of Array.prototype.values.call(value)) {
    if (typeof target === 'string') {
      targets.push(target);
    } else if (Number.isSafeInteger(target)) {
      targets.push(String(target));
    } else {
      throw new WrongType(`an array holding ${kindOf(target)} where node ids (strings) were expected`);
    }
  }
  return targets;
}

/**
 * Calls the directory's `method` and converts its answer strictly. Whatever
 * the directory does, the lookup either answers or fails as the WIT error
 * the guest turns into a result: `Denied` is `denied`, `Unavailable` its
 * message, and anything else a message that names the method and a type,
 * never a value or an exception's text (either may hold a secret).
 */
function lookup(context, method, args, convert) {
  const unavailable = (message) => new WitError({ tag: 'unavailable', val: message });
  let answer;
  try {
    const { directory } = context;
    const fn = directory === null || directory === undefined ? undefined : directory[method];
    if (typeof fn !== 'function') return { error: unavailable(`the directory has no ${method} method`) };
    answer = fn.apply(directory, args);
  } catch (error) {
    if (error instanceof Denied) return { error: new WitError({ tag: 'denied' }) };
    if (error instanceof Unavailable) return { error: unavailable(unavailableMessage(error)) };
    return { error: unavailable(`the directory's ${method} threw ${thrownKind(error)}`) };
  }
  try {
    return { value: convert(answer) };
  } catch (error) {
    const what = error instanceof WrongType ? error.message : `${kindOf(answer)} that cannot be read`;
    return { error: unavailable(`the directory's ${method} returned ${what}`) };
  }
}

/**
 * The imports of the WIT world, served from one call's context. jco 1.35's
 * .d.ts names them with their version (`...@0.2.0`) but its generated
 * JavaScript reads them without; both keys are given.
 */
function imports(context) {
  const versioned = witImports(context);
  const both = { ...versioned };
  for (const [name, value] of Object.entries(versioned)) both[name.replace(/@[^@]*$/, '')] = value;
  return both;
}

function witImports(context) {
  // result<T, E>: return the value; throw {payload: E} for err.
  const answer = ({ value, error }) => {
    if (error !== undefined) throw error;
    return value;
  };
  return {
    'agent-tools:totp/secrets@0.2.0': {
      findUser: (username) => {
        context.lookedUp = username; // the event's username_resolved on failure
        return answer(lookup(context, 'findUser', [username], toUser));
      },
    },
    'agent-tools:totp/workflow@0.2.0': {
      currentNode: () => context.node,
      workflowSlug: (id) => answer(lookup(context, 'workflowSlug', [id], toSlug)),
      edgeTargets: (id, source, label) => answer(lookup(context, 'edgeTargets', [id, source, label], toTargets)),
    },
    'wasi:clocks/wall-clock@0.2.0': {
      now: () => {
        if (context.time !== undefined) return { seconds: context.time, nanoseconds: 0 };
        const now = wallClockNanos();
        return { seconds: now / 1_000_000_000n, nanoseconds: Number(now % 1_000_000_000n) };
      },
      resolution: () => ({ seconds: 0n, nanoseconds: 1_000_000 }),
    },
  };
}

/**
 * A call's context checked and copied once: `node` as the guest's
 * `node-ref` (or undefined), `time` as BigInt seconds (or undefined for the
 * clock). A wrong one is a HostFailure naming the field.
 */
function checked(context) {
  let directory;
  let node;
  let time;
  try {
    ({ directory, node, time } = context ?? {});
  } catch {
    throw new HostFailure("the call's context cannot be read");
  }
  if (node === null || node === undefined) {
    node = undefined;
  } else {
    const { workflowId, nodeId } = typeof node === 'object' ? node : {};
    if (typeof workflowId !== 'string' || typeof nodeId !== 'string') {
      throw new HostFailure("the call's node is not {workflowId, nodeId} strings");
    }
    node = { workflowId, nodeId };
  }
  if (time === null || time === undefined) {
    time = undefined;
  } else if (Number.isSafeInteger(time) && time >= 0) {
    time = BigInt(time);
  } else if (typeof time !== 'bigint' || time < 0n || time >= 2n ** 64n) {
    throw new HostFailure("the call's time is not Unix seconds (a non-negative integer)");
  }
  return { directory, node, time, lookedUp: null };
}

function wallClockNanos() {
  // Date.now() is the wall clock; performance.timeOrigin + now() adds
  // sub-millisecond precision to it.
  const millis = performance.timeOrigin + performance.now();
  return BigInt(Math.floor(millis * 1000)) * 1000n;
}

/** A directory whose every lookup is unavailable with one message. */
class FailingDirectory {
  constructor(message) {
    this.message = message;
  }

  findUser() {
    throw new Unavailable(this.message);
  }

  workflowSlug() {
    throw new Unavailable(this.message);
  }

  edgeTargets() {
    throw new Unavailable(this.message);
  }
}

/** `text` cut to `max` characters (code points), "…" marking the cut: the guest's ellipsize. */
function ellipsize(text, max) {
  const chars = Array.from(text.slice(0, 4 * max));
  return chars.length <= max ? text : `${chars.slice(0, max).join('')}…`;
}

/**
 * The transpiled component; compile once, a fresh instance per call. Each
 * call's audit event goes to the sink chosen with `audit` (see audit.mjs):
 * `TotpTool.load({ audit: null })` keeps none.
 *
 * Every call returns the tool's JSON text and never throws: whatever the
 * directory does (throws, returns the wrong type), a trap in the guest or a
 * failing audit sink, the result is a JSON failure (`host_error`) whose
 * message names a method and a type, never a value or an exception's text.
 */
export class TotpTool {
  /**
   * Loads jco's output from `generated` (default: the `generated/` next to
   * this module, i.e. the package's own copy of the component).
   */
  static async load({ audit, generated = GENERATED } = {}) {
    const record = auditSink(audit);
    const entry = join(generated, 'get_totp_code.js');
    if (!existsSync(entry)) {
      throw new Error(`${entry} is missing: in the repository, run \`node host-test/js/transpile.mjs\``);
    }
    const { instantiate } = await import(pathToFileURL(entry).href);
    return new TotpTool(instantiate, generated, record);
  }

  constructor(instantiate, generated, record = null) {
    this.instantiate = instantiate;
    this.record = record;
    this.modules = new Map();
    this.getCoreModule = (path) => {
      if (!this.modules.has(path)) {
        this.modules.set(path, new WebAssembly.Module(readFileSync(join(generated, path))));
      }
      return this.modules.get(path);
    };
  }

  run(context, invoke, operation = null, requested = '') {
    const startedNanos = wallClockNanos();
    const started = process.hrtime.bigint();
    let tracked = null;
    let result;
    try {
      tracked = checked(context);
      result = invoke(this.instantiate(this.getCoreModule, imports(tracked)));
      if (typeof result !== 'string') throw new HostFailure("the tool's result is not text");
    } catch (error) {
      // A trap, a wrong context or a failing import: still the JSON shape
      // promised, with our own words (an exception's text may quote a value).
      result = this.hostError(error instanceof HostFailure ? error.message : `the call failed with ${thrownKind(error)}`);
    }
    if (this.record === null || operation === null) return result;
    try {
      this.record(auditEvent({
        operation,
        context: tracked ?? { node: null },
        requested,
        startedNanos,
        durationNanos: process.hrtime.bigint() - started,
        lookedUp: tracked?.lookedUp ?? null,
        result,
      }));
    } catch {
      // Fails closed: no record, no code.
      return this.hostError(AUDIT_UNAVAILABLE);
    }
    return result;
  }

  /**
   * The `host_error` result for a failure of the call itself, rendered by
   * the guest (a lookup that fails with `message`), so that it reads exactly
   * like every other host error; if even that fails, the same JSON written
   * here.
   */
  hostError(message) {
    try {
      const context = checked(call(new FailingDirectory(message)));
      const result = this.instantiate(this.getCoreModule, imports(context)).getTotpCode('-');
      if (typeof result === 'string') return result;
    } catch {
      // the component itself cannot run
    }
    return JSON.stringify({
      success: false,
      error: `Host error: ${ellipsize(message, MAX_HOST_MESSAGE_CHARS)}`,
      error_code: 'host_error',
    });
  }

  getTotpCode(context, username = '') {
    return this.run(context, (tool) => tool.getTotpCode(username), 'get_totp_code', username);
  }

  invoke(context, args) {
    return this.run(context, (tool) => tool.invoke(args), 'invoke', requestedByArguments(args));
  }

  describe() {
    return this.run(call(new JsonDirectory()), (tool) => tool.describe());
  }
}
