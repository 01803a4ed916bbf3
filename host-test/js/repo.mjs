// Where things are in the repository (not part of the npm package): the
// component cargo builds, and where transpile.mjs writes jco's output.

import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(here, '..', '..');
/**
 * Where `cargo build -p totp-host` writes the component; the environment
 * variable GET_TOTP_CODE_COMPONENT overrides it (another CARGO_TARGET_DIR).
 */
export const DEFAULT_COMPONENT = process.env.GET_TOTP_CODE_COMPONENT
  || join(REPO_ROOT, 'target', 'guest', 'get_totp_code.component.wasm');
/** jco's output (gitignored), which the package ships: host.mjs loads it. */
export const GENERATED = join(here, 'generated');
