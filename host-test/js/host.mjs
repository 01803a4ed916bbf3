// A Node host for the get_totp_code component, transpiled by jco
// (`--instantiation sync`, see transpile.mjs). The component's three imports
// are implemented here in JavaScript; every call gets a fresh instance.
//
// Node 20 has no built-in SQLite, so this host's store is a JSON file with
// the tables of host-test/schema.sql as arrays, under the schema's own table
// and column names:
//   {"users": [{"username", "is_agent", "totp_secret"}],
//    "workflows": [{"id", "slug"}],
//    "workflow_edges": [{"workflow_id", "source_node_id", "target_node_id", "edge_label"}]}

import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { AUDIT_UNAVAILABLE, auditEvent, auditSink, requestedByArguments } from './audit.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(here, '..', '..');
/**
 * Where `cargo build -p totp-host` writes the component; the environment
 * variable GET_TOTP_CODE_COMPONENT overrides it (another CARGO_TARGET_DIR).
 */
export const DEFAULT_COMPONENT = process.env.GET_TOTP_CODE_COMPONENT
  || join(REPO_ROOT, 'target', 'guest', 'get_totp_code.component.wasm');
/** jco's output (gitignored). */
export const GENERATED = join(here, 'generated');

/** The access policy refuses the lookup (`access_denied`). */
export class Denied extends Error {
  constructor() {
    super('access denied');
  }
}

/** The store could not answer; the message reaches the agent (`host_error`). */
export class Unavailable extends Error {}

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

function graphError(error) {
  if (error instanceof Denied) return new WitError({ tag: 'denied' });
  return new WitError({ tag: 'unavailable', val: String(error.message) });
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
  const guard = (run, toWit) => (...args) => {
    try {
      return run(...args);
    } catch (error) {
      if (error instanceof Denied || error instanceof Unavailable) throw toWit(error);
      throw error; // a bug in the host: the call fails as a host_error
    }
  };
  return {
    'agent-tools:totp/secrets@0.2.0': {
      // result<option<agent-user>, lookup-error>: return the value (or
      // undefined for none); throw {payload: lookup-error} for err.
      findUser: guard((username) => {
        context.lookedUp = username; // the event's username_resolved on failure
        return context.directory.findUser(username);
      }, (error) =>
        new WitError(error instanceof Denied ? { tag: 'denied' } : { tag: 'unavailable', val: error.message })),
    },
    'agent-tools:totp/workflow@0.2.0': {
      currentNode: () => context.node ?? undefined,
      workflowSlug: guard((id) => context.directory.workflowSlug(id) ?? undefined, graphError),
      edgeTargets: guard((id, source, label) => [...context.directory.edgeTargets(id, source, label)], graphError),
    },
    'wasi:clocks/wall-clock@0.2.0': {
      now: () => {
        if (context.time !== null && context.time !== undefined) {
          return { seconds: BigInt(context.time), nanoseconds: 0 };
        }
        const now = wallClockNanos();
        return { seconds: now / 1_000_000_000n, nanoseconds: Number(now % 1_000_000_000n) };
      },
      resolution: () => ({ seconds: 0n, nanoseconds: 1_000_000 }),
    },
  };
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

/**
 * The transpiled component; compile once, a fresh instance per call. Each
 * call's audit event goes to the sink chosen with `audit` (see audit.mjs):
 * `TotpTool.load({ audit: null })` keeps none.
 */
export class TotpTool {
  /** Loads jco's output from `generated` (see transpile.mjs). */
  static async load({ audit, generated = GENERATED } = {}) {
    const record = auditSink(audit);
    const entry = join(generated, 'get_totp_code.js');
    if (!existsSync(entry)) {
      throw new Error(`${entry} is missing: run \`node host-test/js/transpile.mjs\``);
    }
    const { instantiate } = await import(entry);
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
    const tracked = { ...context, lookedUp: null };
    const startedNanos = wallClockNanos();
    const started = process.hrtime.bigint();
    let result;
    try {
      result = invoke(this.instantiate(this.getCoreModule, imports(tracked)));
    } catch (error) {
      // A trap or a failing import: still the JSON shape promised.
      result = this.hostError(error?.message ?? String(error));
    }
    if (this.record === null || operation === null) return result;
    try {
      this.record(auditEvent({
        operation,
        context,
        requested,
        startedNanos,
        durationNanos: process.hrtime.bigint() - started,
        lookedUp: tracked.lookedUp,
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
   * like every other host error.
   */
  hostError(message) {
    const context = call(new FailingDirectory(message));
    return this.instantiate(this.getCoreModule, imports(context)).getTotpCode('-');
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
