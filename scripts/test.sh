#!/usr/bin/env bash
# Runs the whole test suite from a fresh checkout: installs the WebAssembly
# target, makes sure the local PostgreSQL server is up, builds every plugin
# component into target/plugins/, builds the binaries that the end-to-end
# tests spawn, validates the deployment files, and runs every test of the
# workspace.
#
# PostgreSQL tests connect to SANDNOTES_TEST_POSTGRES_URL
# (default postgres://postgres@127.0.0.1:5432/test) and fail, never skip,
# when it is unreachable.
set -euo pipefail
cd "$(dirname "$0")/.."

rustup target add wasm32-unknown-unknown >/dev/null

pg_url=${SANDNOTES_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
    if command -v pg_ctlcluster >/dev/null; then
        echo "PostgreSQL is not running; starting the local cluster"
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
        for _ in $(seq 1 30); do
            pg_isready -q -h 127.0.0.1 -p 5432 && break
            sleep 1
        done
    fi
fi
export SANDNOTES_TEST_POSTGRES_URL=$pg_url

bash scripts/validate-deploy.sh

cargo run --quiet -p plugin-build
cargo build --quiet -p gateway -p sandbox-worker
cargo test --workspace --no-fail-fast "$@"
