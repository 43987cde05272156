#!/usr/bin/env bash
# Sourced by the other scripts: sets DENO to a deno 2.x binary.
# Uses one on PATH when it is 2.x; otherwise installs the pinned `deno`
# package from the npm registry into .deno/ (git-ignored) on first use.
DENO_VERSION=2.9.6
# Deno otherwise looks up dl.deno.land for a newer version from a background thread on every run
# (strace: a DNS query for "dl.deno.land" in the middle of a `bftp get -r`): bftp's own runs and
# tests make no call to the outside, and the version is pinned here.
export DENO_NO_UPDATE_CHECK=1
# The checkout: the folder above this file's. Shell built-ins only, unless this file is reached
# through a symbolic link: every $(...) forks, and scripts/bftp sources this on every call (the
# forks cost about 30 ms a call there, about half of Deno's own start-up).
bftp_here=${BASH_SOURCE[0]}
[ -L "$bftp_here" ] && bftp_here=$(readlink -f "$bftp_here")
case $bftp_here in
  */*) bftp_here=${bftp_here%/*} ;;
  *) bftp_here=. ;;
esac
[[ $bftp_here == /* ]] || bftp_here=$PWD/$bftp_here
case $bftp_here in
  */scripts) BFTP_ROOT=${bftp_here%/scripts} ;;
  *) BFTP_ROOT=$(cd "$bftp_here/.." && pwd) ;;
esac
bftp_find_deno() {
  if [ -n "${DENO:-}" ] && [ -x "$DENO" ]; then return 0; fi
  local on_path
  on_path=$(command -v deno 2>/dev/null || true)
  if [ -n "$on_path" ] && "$on_path" --version 2>/dev/null | head -1 | grep -q '^deno 2\.'; then
    DENO=$on_path
    return 0
  fi
  local local_bin="$BFTP_ROOT/.deno/node_modules/deno/deno"
  if [ ! -x "$local_bin" ]; then
    if ! command -v npm >/dev/null 2>&1; then
      echo "bftp: no deno 2.x on PATH and no npm to install it with" >&2
      return 1
    fi
    echo "bftp: installing deno $DENO_VERSION from the npm registry into .deno/ (first use)" >&2
    mkdir -p "$BFTP_ROOT/.deno"
    npm install --prefix "$BFTP_ROOT/.deno" --no-audit --no-fund --loglevel=error \
      "deno@$DENO_VERSION" >&2 || return 1
    if [ ! -x "$local_bin" ]; then
      # The package's postinstall links the platform binary; fall back to it.
      local platform_bin
      platform_bin=$(find "$BFTP_ROOT/.deno/node_modules/@deno" -maxdepth 2 -name 'deno*' -type f 2>/dev/null | head -1)
      [ -n "$platform_bin" ] && cp "$platform_bin" "$local_bin" && chmod +x "$local_bin"
    fi
  fi
  if [ ! -x "$local_bin" ]; then
    echo "bftp: could not install deno $DENO_VERSION" >&2
    return 1
  fi
  DENO=$local_bin
}
bftp_find_deno || exit 1
export DENO
