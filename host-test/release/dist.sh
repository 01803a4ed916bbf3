#!/usr/bin/env bash
# Writes a release directory: everything a release ships, listed with its
# SHA-256 in SHA256SUMS.
#
#   host-test/release/dist.sh [OUT]      (default: dist)
#
# - totp-host                 the reference host, stripped, for Linux
#                             x86_64 with the build machine's glibc or newer
# - get_totp_code*.wasm, get_totp_code.wit.wasm
#                             the component, its standard-WASI builds and
#                             the binary WIT package (`totp-host dist`)
# - get_totp_code-*.whl       the Python package: abi3 (CPython 3.9+),
#                             manylinux2014 x86_64
# - get_totp_code-*.tar.gz    its sdist
# - get-totp-code-*.tgz       the npm package (`npm pack` of host-test/js,
#                             with the component transpiled by jco)
#
# Needs Rust, Python 3 with venv, and Node 20+ with npm; the Python tools
# (host-test/release/requirements.txt) install into a venv under the
# target directory (CARGO_TARGET_DIR, else target/).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(realpath -m "${1:-dist}")
cd "$root"
target=$(realpath -m "${CARGO_TARGET_DIR:-target}")

venv=$target/tmp/release-venv
requirements=host-test/release/requirements.txt
if ! cmp -s "$requirements" "$venv/requirements.txt"; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$venv/requirements.txt"
fi
export PATH="$venv/bin:$PATH"

rm -rf "$out"
mkdir -p "$out"

# The binary is the README's first command's build (target/release). It
# links the build machine's glibc (zig's linker, which gives the wheel an
# older one, refuses the `-z pack-relative-relocs` rustc passes for
# executables).
cargo build --release --locked -p totp-host --bin totp-host
install --strip -m 0755 "$target/release/totp-host" "$out/totp-host"

"$out/totp-host" dist --out "$out" >/dev/null

# The wheel from this tree, with this Cargo.lock; the sdist beside it
# (`--sdist` would build the wheel from the sdist, whose trimmed workspace
# cargo re-locks).
maturin build --release --locked --zig --compatibility manylinux2014 \
    --target x86_64-unknown-linux-gnu \
    --manifest-path host-test/python/Cargo.toml --out "$out"
maturin sdist --manifest-path host-test/python/Cargo.toml --out "$out"

(
    cd host-test/js
    npm ci --silent --no-audit --no-fund
    node transpile.mjs --component "$out/get_totp_code.wasm"
    npm pack --silent --pack-destination "$out" >/dev/null
)

(
    cd "$out"
    rm -f SHA256SUMS
    sha256sum -- * > SHA256SUMS.partial
    mv SHA256SUMS.partial SHA256SUMS
    sha256sum --check --quiet SHA256SUMS
)
ls -l "$out"
