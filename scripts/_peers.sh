#!/usr/bin/env bash
# Sourced by scripts/test: installs the real peers the tests talk to (nc, socat,
# openssl, curl, rsync, python3, tmux, strace) from Debian's packages when they are
# missing, quietly, with sudo when not root. BFTP_NO_PEER_INSTALL=1 skips it;
# a test whose peer is still missing then fails with one line naming it.
bftp_install_peers() {
  [ "${BFTP_NO_PEER_INSTALL:-}" = 1 ] && return 0
  local need=() cmd pkg
  for pair in nc:netcat-openbsd socat:socat openssl:openssl curl:curl rsync:rsync \
    python3:python3 tmux:tmux strace:strace; do
    cmd=${pair%%:*}
    pkg=${pair#*:}
    command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
  done
  [ ${#need[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || {
    echo "peers: missing ${need[*]} and no apt-get; tests that need them will say so" >&2
    return 0
  }
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
      echo "peers: missing ${need[*]}; not root and no sudo; tests that need them will say so" >&2
      return 0
    }
    sudo=(sudo -n)
  fi
  echo "peers: installing ${need[*]}" >&2
  local install=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq
    --no-install-recommends "${need[@]}")
  ("${install[@]}" >/dev/null 2>&1 ||
    { "${sudo[@]}" apt-get update -qq >/dev/null 2>&1 && "${install[@]}" >/dev/null 2>&1; }) ||
    echo "peers: could not install ${need[*]}; tests that need them will say so" >&2
  return 0
}
bftp_install_peers
