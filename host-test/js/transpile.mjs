// Transpiles the component with jco into generated/ (gitignored), unless
// generated/ already holds the transpilation of this exact component.
//
//   node host-test/js/transpile.mjs [--component PATH]
//   node host-test/js/transpile.mjs --check   (npm's prepack)
//
// --check fails unless generated/ is complete and is the transpilation of
// the component it was made from (GET_TOTP_CODE_COMPONENT, or the path
// recorded when it was made), so that `npm pack` never ships a stale or
// partial component.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { DEFAULT_COMPONENT, GENERATED } from './repo.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const STAMP = join(GENERATED, '.component-sha256');
/** The component's absolute path when generated/ was made (for --check). */
const SOURCE = join(GENERATED, '.component-path');
const ENTRY = 'get_totp_code.js';

function sha256(path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export function transpile(component = DEFAULT_COMPONENT) {
  if (!existsSync(component)) {
    throw new Error(`${component} is missing: run \`cargo build -p totp-host\` first`);
  }
  const digest = sha256(component);
  const stamp = STAMP;
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) {
    writeFileSync(SOURCE, resolve(component)); // the same bytes, maybe from another path
    return false;
  }
  const jco = join(here, 'node_modules', '.bin', 'jco');
  if (!existsSync(jco)) {
    throw new Error('jco is not installed: run `npm ci` in host-test/js');
  }
  // Transpile into a private directory and move it into place, so another
  // process never loads a half-written generated/.
  const staging = `${GENERATED}.${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  // --instantiation sync: the host passes the imports to every
  // instantiation, so each call gets a fresh instance with its own context.
  execFileSync(jco, ['transpile', component, '--instantiation', 'sync', '--quiet',
    '--name', 'get_totp_code', '-o', staging], { stdio: 'inherit' });
  writeFileSync(join(staging, '.component-path'), resolve(component));
  writeFileSync(join(staging, '.component-sha256'), digest);
  rmSync(GENERATED, { recursive: true, force: true });
  try {
    renameSync(staging, GENERATED);
  } catch (e) {
    // Another process moved its (identical) transpilation in first.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(stamp)) throw e;
  }
  return true;
}

/** The component generated/ should be the transpilation of. */
function sourceComponent() {
  return process.env.GET_TOTP_CODE_COMPONENT
    || (existsSync(SOURCE) ? readFileSync(SOURCE, 'utf8') : DEFAULT_COMPONENT);
}

/**
 * Why generated/ must not be packed (missing, incomplete or stale), or
 * null when it is the complete transpilation of its component.
 */
export function problem() {
  const again = 'run `node transpile.mjs [--component PATH]` in host-test/js';
  if (!existsSync(join(GENERATED, ENTRY))) return `${GENERATED} is missing: ${again}`;
  // Every core module jco's JavaScript loads by name.
  const js = readFileSync(join(GENERATED, ENTRY), 'utf8');
  const modules = new Set(js.match(/[\w.-]+\.core\d*\.wasm/g) ?? []);
  if (modules.size === 0) return `${join(GENERATED, ENTRY)} names no core module: ${again}`;
  const present = new Set(readdirSync(GENERATED));
  const absent = [...modules].filter((name) => !present.has(name));
  if (absent.length > 0) return `${GENERATED} lacks ${absent.join(', ')}: ${again}`;
  if (!existsSync(STAMP)) return `${STAMP} is missing: ${again}`;
  const component = sourceComponent();
  if (!existsSync(component)) {
    return `cannot tell whether ${GENERATED} is current: ${component} is gone; ${again}`;
  }
  if (readFileSync(STAMP, 'utf8') !== sha256(component)) {
    return `${GENERATED} is stale: ${component} changed since it was transpiled; ${again}`;
  }
  return null;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { component: { type: 'string' }, check: { type: 'boolean' } } });
  if (values.check) {
    const found = problem();
    if (found !== null) {
      console.error(`transpile.mjs --check: ${found}`);
      process.exit(1);
    }
    console.error(`${GENERATED} is the transpilation of ${sourceComponent()}`);
  } else {
    const done = transpile(values.component ?? DEFAULT_COMPONENT);
    console.error(done ? `transpiled into ${GENERATED}` : `${GENERATED} is up to date`);
  }
}
