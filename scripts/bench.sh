#!/usr/bin/env bash
# Runs the benchmarks from a fresh checkout and prints the tables that
# BENCHMARKS.md records. It builds the plugin components and the release
# binaries and makes sure the local PostgreSQL server is up. Then it runs
# sandnotes-bench, passing on its arguments (see `--help`), and the
# criterion micro benchmarks.
#
# SANDNOTES_BENCH_PROFILE selects the Cargo profile (default release).
# SANDNOTES_BENCH_MICRO=0 skips the criterion benchmarks.
# PostgreSQL is reached at SANDNOTES_TEST_POSTGRES_URL
# (default postgres://postgres@127.0.0.1:5432/test); pass --skip-postgres
# to run without it.
set -euo pipefail
cd "$(dirname "$0")/.."

rustup target add wasm32-unknown-unknown >/dev/null

if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
    if command -v pg_ctlcluster >/dev/null; then
        echo "PostgreSQL is not running; starting the local cluster" >&2
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
        for _ in $(seq 1 30); do
            pg_isready -q -h 127.0.0.1 -p 5432 && break
            sleep 1
        done
    fi
fi

profile=${SANDNOTES_BENCH_PROFILE:-release}
case $profile in
    dev) binaries=target/debug ;;
    *) binaries=target/$profile ;;
esac

cargo run --quiet -p plugin-build
cargo build --quiet --profile "$profile" -p sandbox-worker -p gateway -p sandnotes-bench
"$binaries/sandnotes-bench" "$@"

if [[ ${SANDNOTES_BENCH_MICRO:-1} != 0 ]]; then
    cargo bench --quiet --profile "$profile" -p sandnotes-bench --bench micro
fi
