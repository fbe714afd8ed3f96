#!/usr/bin/env bash
# The main job from a fresh checkout: builds every plugin component, starts
# the gateway on the embedded SQLite store in ./data, runs the demo client
# (sign up, store a real text, upload and run every sample plugin), and keeps
# the gateway serving until Ctrl-C.
#
# Environment: SANDNOTES_BIND (default 127.0.0.1:8080) and the other gateway
# variables listed by `cargo run -p gateway -- --help`.
set -euo pipefail
cd "$(dirname "$0")/.."

rustup target add wasm32-unknown-unknown >/dev/null
cargo run --quiet -p plugin-build
cargo build --quiet -p gateway -p sandbox-worker -p sandnotes-demo

bind=${SANDNOTES_BIND:-127.0.0.1:8080}
export SANDNOTES_BIND=$bind
data_dir=${SANDNOTES_DATA_DIR:-./data}
mkdir -p "$data_dir"
log_file="$data_dir/gateway.log"
echo "starting the gateway on $bind; its log goes to $log_file"
target/debug/gateway 2>>"$log_file" &
gateway_pid=$!
trap 'kill "$gateway_pid" 2>/dev/null || true; wait "$gateway_pid" 2>/dev/null || true' EXIT INT TERM

target/debug/sandnotes-demo --gateway "http://$bind"

echo
echo "The gateway keeps serving on http://$bind (data in $data_dir, log in $log_file)."
echo "Press Ctrl-C to stop."
wait "$gateway_pid"
