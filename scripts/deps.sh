#!/usr/bin/env bash
# Installs the Debian packages Ferrite's build, tests and tools use, when they are missing.
# Sourced by run.sh and test.sh; safe to run again.
set -euo pipefail

FERRITE_PACKAGES=(redis-server redis-tools prometheus curl)

missing=()
for pkg in "${FERRITE_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if (( ${#missing[@]} )); then
  echo "deps: installing ${missing[*]}"
  sudo_cmd=()
  (( EUID == 0 )) || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v cargo >/dev/null; then
  echo "deps: cargo not found: install a Rust toolchain >= 1.85 (https://rustup.rs) and retry" >&2
  exit 2
fi
