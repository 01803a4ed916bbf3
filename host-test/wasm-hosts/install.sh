#!/usr/bin/env bash
# Installs the third-party WebAssembly hosts the standard-WASI builds are
# tested in, from crates.io, unless a binary of the right version is
# already on PATH or in cargo's bin directory. `.ci/run` calls it; run it
# by hand before `cargo test` on a new machine (the tests fail, naming this
# script, when a host is missing).
#
#   wasmtime-cli: the host's own wasmtime major version; only the `run`
#                 command and what a component needs (26 min → less).
#   obelisk:      the release the activity build targets; needs `protoc`
#                 (Debian: protobuf-compiler). Its default features are
#                 required: it does not compile without them.
set -euo pipefail

WASMTIME_VERSION=48.0.8
OBELISK_VERSION=0.38.3

export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

has() { # binary, version prefix
    command -v "$1" >/dev/null && "$1" --version 2>/dev/null | awk '{print $2}' | grep -q "^$2"
}

if ! has wasmtime "$WASMTIME_VERSION"; then
    cargo install --locked "wasmtime-cli@$WASMTIME_VERSION" --no-default-features \
        --features run,cranelift,component-model,wasi-config,parallel-compilation
fi

if ! has obelisk "$OBELISK_VERSION"; then
    if ! command -v protoc >/dev/null; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            apt-get update -qq && apt-get install -y -qq protobuf-compiler
        else
            echo "obelisk needs protoc: install protobuf-compiler" >&2
            exit 1
        fi
    fi
    cargo install --locked "obelisk@$OBELISK_VERSION"
fi
