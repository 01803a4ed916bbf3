// Transpiles the component with jco into generated/ (gitignored), unless
// generated/ already holds the transpilation of this exact component.
//
//   node host-test/js/transpile.mjs [--component PATH]

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { DEFAULT_COMPONENT, GENERATED } from './host.mjs';

const here = dirname(fileURLToPath(import.meta.url));

export function transpile(component = DEFAULT_COMPONENT) {
  if (!existsSync(component)) {
    throw new Error(`${component} is missing: run \`cargo build -p totp-host\` first`);
  }
  const digest = createHash('sha256').update(readFileSync(component)).digest('hex');
  const stamp = join(GENERATED, '.component-sha256');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) {
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

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { component: { type: 'string' } } });
  const done = transpile(values.component ?? DEFAULT_COMPONENT);
  console.error(done ? `transpiled into ${GENERATED}` : `${GENERATED} is up to date`);
}
