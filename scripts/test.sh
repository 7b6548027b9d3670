#!/usr/bin/env bash
# Installs what is missing and runs every test: unit and property tests, then integration tests
# that start the real binary and talk to it with the redis crate, redis-cli and redis-server.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
cargo build --workspace --all-targets
cargo test --workspace -- --test-threads "${TEST_THREADS:-2}"
