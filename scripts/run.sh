#!/usr/bin/env bash
# Installs what is missing, builds Ferrite in release mode and runs it. Arguments go to ferrite,
# e.g. scripts/run.sh --port 7000 --shards 2. Stop it with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
cargo build --release --bins
exec ./target/release/ferrite "$@"
