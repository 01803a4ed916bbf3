// Types of the npm package `get-totp-code` (host.mjs), written by hand.

/** One user row as the guest needs it; `totpSecret` is absent for people without one. */
export interface User {
  username: string;
  isAgent: boolean;
  totpSecret?: string | null;
}

/**
 * Where the tool looks users and the workflow graph up. Any object with
 * these three synchronous methods works. A method may throw `Denied` (the
 * result is `access_denied`) or `Unavailable(message)` (`host_error` with
 * that message); anything else it throws, and any answer of the wrong type,
 * is a `host_error` naming the method and the type, never the value or the
 * exception's text.
 */
export interface Directory {
  /** The user named `username`, or undefined (or null) when there is none. */
  findUser(username: string): User | undefined | null;
  /** The slug of the workflow `workflowId`, or undefined (or null) when there is none. */
  workflowSlug(workflowId: string): string | undefined | null;
  /** The target node ids of the `label` edges from `sourceNodeId` in workflow `workflowId`. */
  edgeTargets(workflowId: string, sourceNodeId: string, label: string): readonly (string | number)[];
}

/** The workflow node the tool runs in. */
export interface NodeRef {
  workflowId: string;
  nodeId: string;
}

/** One call's context, made by `call`. */
export interface CallContext {
  directory: Directory;
  node: NodeRef | null;
  time: number | bigint | null;
}

/**
 * A call's context: the directory, the node the tool runs in (null: none,
 * the agent must pass its username) and the time in Unix seconds (null:
 * the system clock).
 */
export function call(
  directory: Directory,
  options?: { node?: NodeRef | null; time?: number | bigint | null },
): CallContext;

/** The tables of host-test/schema.sql as arrays, under their column names. */
export interface JsonStore {
  users?: { username: string; is_agent: boolean | number; totp_secret?: string | null }[];
  workflows?: { id: string; slug: string }[];
  workflow_edges?: { workflow_id: string; source_node_id: string; target_node_id: string; edge_label: string }[];
}

/** A directory over a JSON store. */
export class JsonDirectory implements Directory {
  constructor(store?: JsonStore);
  /** Reads a JSON store file; a missing file is an empty store. */
  static open(path: string): JsonDirectory;
  findUser(username: string): User | undefined;
  workflowSlug(workflowId: string): string | undefined;
  edgeTargets(workflowId: string, sourceNodeId: string, label: string): string[];
}

/** Thrown by a directory to refuse a lookup: the result is `access_denied`. */
export class Denied extends Error {
  constructor();
}

/**
 * Thrown by a directory that cannot answer: the result is `host_error` with
 * this message (cut to 200 characters), so it must not contain a secret.
 */
export class Unavailable extends Error {
  /** A message that is not a non-empty string reads as "unavailable". */
  constructor(message?: string);
}

/**
 * One call's audit event: the columns of `audit_events` in
 * host-test/schema.sql. Never the code or the secret.
 */
export interface AuditEvent {
  id: string;
  time: string;
  time_unix: number;
  operation: 'get_totp_code' | 'invoke';
  workflow_id: string | null;
  node_id: string | null;
  token_id: null;
  username_requested: string | null;
  username_resolved: string | null;
  /** `issued`, or the result's `error_code`. */
  outcome: string;
  host_error: string | null;
  duration_us: number;
}

/**
 * Where each call's audit event goes, chosen explicitly:
 *  - `null`: none (the platform audits the tool's results itself);
 *  - a path: JSON lines appended to that file (made with mode 0600);
 *  - an object with `write` (a writable stream): one JSON line per event;
 *  - a function: called with each event.
 * A sink that throws withholds the code: the result is `host_error`
 * "audit log unavailable".
 */
export type AuditSink = null | string | { write(line: string): unknown } | ((event: AuditEvent) => unknown);

export interface LoadOptions {
  /** Required: `TotpTool.load()` without a choice rejects with a TypeError. */
  audit?: AuditSink;
  /** A directory of jco's output; default: the component this package ships. */
  generated?: string;
}

/**
 * The get_totp_code component. Every method returns the tool's JSON text
 * and never throws: a failure is `{"success": false, "error": ...,
 * "error_code": ...}`.
 */
export class TotpTool {
  /** Compiles the component once; every call gets a fresh instance. */
  static load(options?: LoadOptions): Promise<TotpTool>;
  /** The current code of `username`, or of the agent the call's node resolves to when empty. */
  getTotpCode(context: CallContext, username?: string): string;
  /** The tool called with its JSON arguments (`{"username": ...}`), as an agent calls it. */
  invoke(context: CallContext, args: string): string;
  /** The tool definition: `name`, `description`, `parameters` (JSON). */
  describe(): string;
}
