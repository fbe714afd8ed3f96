#!/usr/bin/env bash
# Follows steps 2 to 4 of plugins/README.md in a fresh clone of this
# repository: create a plugin from the template, test it, build it and run
# it through the sandbox worker. Fails on the first step that fails.
#
# Usage: plugins/quality/guide_check.sh
#
# The clone builds into this checkout's target directory (CARGO_TARGET_DIR,
# default ./target), so compiled dependencies are reused. The clone contains
# committed files only: commit a guide change before checking it.
set -euo pipefail

repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

git clone --quiet "$repo" "$work/sandnotes"
cd "$work/sandnotes"

echo "== step 2: create the plugin from the template"
cp -r plugins/template plugins/line-count
sed -i 's/my-plugin/line-count/g' plugins/line-count/Cargo.toml
# The guide's manual edit: add the crate to the members list before "tests".
sed -i 's|^    "tests",$|    "plugins/line-count",\n    "tests",|' Cargo.toml
grep -q '"plugins/line-count"' Cargo.toml

echo "== step 3: test and build"
cargo test -q -p line-count
cargo run -q -p plugin-build -- -p line-count
test -s "$CARGO_TARGET_DIR/plugins/line-count.wasm"

echo "== step 4: run it through the sandbox"
report=$(cargo run -q -p sandbox-runner --bin sandnotes-run -- \
    --plugin "$CARGO_TARGET_DIR/plugins/line-count.wasm" \
    --note corpus/melville-moby-dick-ch023-the-lee-shore.txt \
    --args '{"min_length": 4}')
echo "$report"
# The chapter has 38 lines and 228 words of 4 or more characters. The output
# may be nested as a JSON string in the report, so match the numbers only.
grep -q 'lines[^0-9]*38' <<<"$report"
grep -q 'words[^0-9]*228' <<<"$report"

echo "guide check passed"
