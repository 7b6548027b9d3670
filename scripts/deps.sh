#!/usr/bin/env bash
# Installs the Debian packages Ferrite's build, tests and tools use, when they are missing.
# Sourced by run.sh and test.sh; safe to run again.
set -euo pipefail

# The dataplane build needs clang (the XDP program), libelf, zlib, m4 and make (libxdp-sys builds
# libxdp and libbpf from source); its lab and tests need iproute2 (netns, veth, tc netem) and ethtool.
FERRITE_PACKAGES=(redis-server redis-tools prometheus curl
  clang libelf-dev zlib1g-dev m4 make pkg-config libbpf-dev bpftool ethtool iproute2 iputils-ping)

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
