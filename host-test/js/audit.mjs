// The Node host's audit trail: the Rust host's events (host-test/src/audit.rs,
// the `audit_events` columns of host-test/schema.sql), with the same fields
// and rules: never the code or the secret, not even hashed. A tool chooses
// its sink explicitly (see `auditSink`); a sink that throws means no code:
// the result is host_error "audit log unavailable".

import { randomBytes } from 'node:crypto';
import { openSync, writeSync } from 'node:fs';

/** The outcome of a call that handed out a code. */
export const ISSUED = 'issued';
/** The host_error message of a call whose event could not be recorded. */
export const AUDIT_UNAVAILABLE = 'audit log unavailable';
/** Longest text kept in a free-form field (usernames, host error text). */
export const MAX_FIELD_BYTES = 1024;

/**
 * Resolves a tool's `audit` option to a function that records one event:
 *  - `null`: explicitly off (the platform audits the tool's results itself);
 *  - a string path: JSON lines appended to that file (made with mode 0600);
 *  - an object with `write`: one JSON line per event (a writable stream);
 *  - a function: called with each event object.
 * `undefined` (no choice made) and anything else are a TypeError.
 */
export function auditSink(audit) {
  if (audit === null) return null;
  if (typeof audit === 'string') {
    // Opened once, as the Rust host's JSON-lines sink is: a path that
    // cannot be written fails now; each event is one append.
    const fd = openSync(audit, 'a', 0o600);
    return (event) => {
      writeSync(fd, `${JSON.stringify(event)}\n`);
    };
  }
  if (typeof audit?.write === 'function') {
    return (event) => {
      audit.write(`${JSON.stringify(event)}\n`);
    };
  }
  if (typeof audit === 'function') return (event) => { audit(event); };
  throw new TypeError(
    'audit must be null (off), a path, a writable stream or a function taking each event'
    + (audit === undefined ? ': choose one explicitly' : `, not ${typeof audit}`),
  );
}

/** `text` cut to MAX_FIELD_BYTES of UTF-8 at a character boundary. */
function bounded(text) {
  if (text === null || text === undefined) return null;
  const bytes = Buffer.from(String(text), 'utf8');
  if (bytes.length <= MAX_FIELD_BYTES) return String(text);
  let end = MAX_FIELD_BYTES;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end -= 1;
  return bytes.subarray(0, end).toString('utf8');
}

/** The username `invoke` arguments carry, when they are an object with a string `username`. */
export function requestedByArguments(args) {
  try {
    const parsed = JSON.parse(args);
    return typeof parsed?.username === 'string' ? parsed.username : '';
  } catch {
    return '';
  }
}

/** Unix nanoseconds as RFC 3339 UTC with microseconds, as the Rust host writes it. */
function rfc3339(nanos) {
  const micros = nanos / 1000n;
  const iso = new Date(Number(micros / 1000n)).toISOString(); // ...T12:34:56.789Z
  const fraction = String(micros % 1_000_000n).padStart(6, '0');
  return `${iso.slice(0, 19)}.${fraction}Z`;
}

/**
 * The event of one finished call: `result` is the tool's JSON text,
 * `lookedUp` the last username the guest asked the directory for.
 */
export function auditEvent({ operation, context, requested, startedNanos, durationNanos, lookedUp, result }) {
  let outcome;
  let resolved = lookedUp ?? null;
  let hostError = null;
  try {
    const summary = JSON.parse(result);
    if (summary.success === true) {
      outcome = ISSUED;
      resolved = summary.username ?? null;
    } else {
      outcome = summary.error_code ?? '';
      if (outcome === 'host_error') hostError = summary.error ?? null;
    }
  } catch {
    outcome = 'host_error';
    hostError = "the tool's result is not JSON";
  }
  return {
    id: randomBytes(16).toString('hex'),
    time: rfc3339(startedNanos),
    time_unix: Number(startedNanos / 1_000_000_000n),
    operation,
    workflow_id: bounded(context.node?.workflowId ?? null),
    node_id: bounded(context.node?.nodeId ?? null),
    token_id: null,
    username_requested: bounded(requested),
    username_resolved: bounded(resolved),
    outcome,
    host_error: bounded(hostError),
    duration_us: Number(durationNanos / 1000n),
  };
}
